//! The run itself: `--connections` workers on one thread, taking registers round robin from
//! one shared counter (so each address polls in turn), each request either on a connection
//! of its own bound to its register's address (a register's poll) or on the worker's
//! keep-alive connection. Each worker keeps its own tally and buffer; they are added up
//! at the end into the one line the bench reads.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::HandshakeKind;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::args::{Plan, Stop};
use crate::histogram::Histogram;
use crate::http::{read_answer, Answer, HEAD_LIMIT};

/// A request (with its connection and handshake, for a new connection) that takes longer
/// fails, as wrk's `--timeout 10s`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a poll waits for the server to close after `Connection: close`. The server
/// closes first, so the TIME-WAIT state stays on its side and the register's ports are free
/// for its next poll, as on a real register.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Different unexpected statuses told apart in the report; more are counted, not named.
const STATUSES_NAMED: usize = 16;

/// What the run found: the line for stdout, and what went wrong in words (empty: all well).
#[derive(Debug)]
pub struct Outcome {
    pub line: String,
    pub failures: Vec<String>,
}

struct Shared {
    plan: Plan,
    connector: Option<TlsConnector>,
    deadline: Option<Instant>,
    issued: AtomicU64,
    next_register: AtomicU64,
    halted: AtomicBool,
    fatal: Mutex<Option<String>>,
}

impl Shared {
    /// Whether a worker may start one more request.
    fn take_turn(&self) -> bool {
        if self.halted.load(Ordering::Relaxed) {
            return false;
        }
        match (self.plan.stop, self.deadline) {
            (Stop::Requests(n), _) => self.issued.fetch_add(1, Ordering::Relaxed) < n,
            (Stop::After(_), Some(deadline)) => Instant::now() < deadline,
            (Stop::After(_), None) => false,
        }
    }

    fn next_source(&self) -> Ipv4Addr {
        let i = self.next_register.fetch_add(1, Ordering::Relaxed);
        self.plan.registers.address(i)
    }

    /// Stops every worker: something no retry can mend (a source address that cannot be
    /// bound).
    fn halt(&self, why: String) {
        self.halted.store(true, Ordering::Relaxed);
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        fatal.get_or_insert(why);
    }
}

/// Why one request did not count.
enum Failure {
    /// The whole run must stop.
    Fatal(String),
    Failed(String),
}

/// One worker's counts.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
    full: u64,
    resumed: u64,
    latency: Histogram,
    first_failure: Option<String>,
    /// Unexpected statuses and how often, at most `STATUSES_NAMED` of them.
    statuses: Vec<(u16, u64)>,
}

impl Tally {
    fn failure(&mut self, why: String) {
        self.failed += 1;
        self.first_failure.get_or_insert(why);
    }

    fn status(&mut self, status: u16) {
        self.failed += 1;
        if let Some(entry) = self.statuses.iter_mut().find(|(s, _)| *s == status) {
            entry.1 += 1;
        } else if self.statuses.len() < STATUSES_NAMED {
            self.statuses.push((status, 1));
        }
    }

    fn handshake(&mut self, kind: Option<HandshakeKind>) {
        match kind {
            Some(HandshakeKind::Resumed) => self.resumed += 1,
            Some(_) => self.full += 1,
            None => {}
        }
    }

    fn add(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.full += other.full;
        self.resumed += other.resumed;
        self.latency.add(&other.latency);
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
        for (status, count) in other.statuses {
            if let Some(entry) = self.statuses.iter_mut().find(|(s, _)| *s == status) {
                entry.1 += count;
            } else if self.statuses.len() < STATUSES_NAMED {
                self.statuses.push((status, count));
            }
        }
    }
}

/// A connection to the server, plain or TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    async fn exchange(&mut self, request: &[u8], buf: &mut [u8]) -> Result<Answer, String> {
        match self {
            Conn::Plain(stream) => exchange(stream, request, buf).await,
            Conn::Tls(stream) => exchange(stream.as_mut(), request, buf).await,
        }
    }

    /// Reads until the server closes (bounded by `CLOSE_WAIT`).
    async fn wait_for_close(&mut self, buf: &mut [u8]) {
        let drain = async {
            loop {
                let read = match self {
                    Conn::Plain(stream) => stream.read(buf).await,
                    Conn::Tls(stream) => stream.read(buf).await,
                };
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    buf: &mut [u8],
) -> Result<Answer, String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    read_answer(stream, buf).await
}

/// A connection from the next register's address (and its TLS handshake, counted).
async fn open(shared: &Shared, tally: &mut Tally) -> Result<Conn, Failure> {
    let source = shared.next_source();
    let target = shared.plan.target;
    let socket = TcpSocket::new_v4().map_err(|e| Failure::Failed(format!("a new socket: {e}")))?;
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .map_err(|e| Failure::Fatal(format!("cannot bind the source address {source}: {e}")))?;
    let tcp = socket
        .connect(target)
        .await
        .map_err(|e| Failure::Failed(format!("connecting to {target} from {source}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let (Some(connector), Some(tls)) = (&shared.connector, &shared.plan.tls) else {
        return Ok(Conn::Plain(tcp));
    };
    let stream = connector
        .connect(tls.server_name.clone(), tcp)
        .await
        .map_err(|e| Failure::Failed(format!("TLS handshake with {target} from {source}: {e}")))?;
    tally.handshake(stream.get_ref().1.handshake_kind());
    Ok(Conn::Tls(Box::new(stream)))
}

/// A register's poll: a new connection, one request with `Connection: close`, the server's
/// close awaited. Latency from the start of the connect to the last body byte.
async fn poll(shared: &Shared, tally: &mut Tally, buf: &mut [u8]) -> Result<u16, Failure> {
    let start = Instant::now();
    let mut conn = open(shared, tally).await?;
    let answer = conn
        .exchange(&shared.plan.request, buf)
        .await
        .map_err(Failure::Failed)?;
    tally.latency.record(start.elapsed());
    conn.wait_for_close(buf).await;
    Ok(answer.status)
}

/// One request on the worker's keep-alive connection (opened first if there is none, or
/// the server closed it). Latency from the request's first byte sent to the last body byte.
async fn request(
    shared: &Shared,
    tally: &mut Tally,
    buf: &mut [u8],
    kept: &mut Option<Conn>,
) -> Result<u16, Failure> {
    let conn = match kept {
        Some(conn) => conn,
        None => kept.insert(open(shared, tally).await?),
    };
    let start = Instant::now();
    let answer = conn.exchange(&shared.plan.request, buf).await;
    let answer = answer.map_err(|e| {
        *kept = None;
        Failure::Failed(e)
    })?;
    tally.latency.record(start.elapsed());
    if answer.closes {
        *kept = None;
    }
    Ok(answer.status)
}

async fn worker(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::default();
    let mut buf = vec![0u8; HEAD_LIMIT];
    let mut kept = None;
    while shared.take_turn() {
        let one = async {
            if shared.plan.new_connection {
                poll(&shared, &mut tally, &mut buf).await
            } else {
                request(&shared, &mut tally, &mut buf, &mut kept).await
            }
        };
        let result = tokio::time::timeout(REQUEST_TIMEOUT, one).await;
        match result {
            Ok(Ok(status)) if status == shared.plan.expect_status => tally.ok += 1,
            Ok(Ok(status)) => tally.status(status),
            Ok(Err(Failure::Failed(why))) => tally.failure(why),
            Ok(Err(Failure::Fatal(why))) => {
                shared.halt(why);
                break;
            }
            Err(_) => {
                kept = None;
                tally.failure(format!(
                    "no whole answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                ));
            }
        }
    }
    tally
}

/// Runs the plan to its end (on the caller's runtime).
pub async fn run(plan: Plan, connector: Option<TlsConnector>) -> Outcome {
    let start = Instant::now();
    let deadline = match plan.stop {
        Stop::After(d) => start.checked_add(d),
        Stop::Requests(_) => None,
    };
    let connections = plan.connections;
    let shared = Arc::new(Shared {
        plan,
        connector,
        deadline,
        issued: AtomicU64::new(0),
        next_register: AtomicU64::new(0),
        halted: AtomicBool::new(false),
        fatal: Mutex::new(None),
    });
    let workers: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(worker(shared.clone())))
        .collect();
    let mut total = Tally::default();
    let mut lost = 0;
    for handle in workers {
        match handle.await {
            Ok(tally) => total.add(tally),
            Err(_) => lost += 1,
        }
    }
    let elapsed = start.elapsed();
    let fatal = shared
        .fatal
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    report(&shared.plan, &total, elapsed, fatal, lost)
}

fn report(
    plan: &Plan,
    total: &Tally,
    elapsed: Duration,
    fatal: Option<String>,
    lost: usize,
) -> Outcome {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let line = format!(
        "requests={} errors={} rps={:.1} p50_ms={:.3} p99_ms={:.3} full_handshakes={} \
         resumed={} duration_s={:.2}",
        total.ok,
        total.failed,
        total.ok as f64 / seconds,
        total.latency.quantile_ms(0.5),
        total.latency.quantile_ms(0.99),
        total.full,
        total.resumed,
        seconds
    );
    let mut failures = Vec::new();
    failures.extend(fatal);
    if lost > 0 {
        failures.push(format!("{lost} workers stopped unexpectedly"));
    }
    let other = total.failed - total.statuses.iter().map(|(_, n)| n).sum::<u64>();
    if let Some(first) = &total.first_failure {
        failures.push(format!("{other} requests failed; the first: {first}"));
    }
    for (status, count) in &total.statuses {
        failures.push(format!(
            "{count} answers had status {status} (expected {})",
            plan.expect_status
        ));
    }
    if total.ok == 0 && failures.is_empty() {
        failures.push("no request was answered".into());
    }
    Outcome { line, failures }
}
