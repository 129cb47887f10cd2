//! Idle TLS connections stall no device. An attacker (or a broken scanner) holds thousands
//! of TCP connections to `tls_listen` that never send a byte or stop in the middle of a
//! ClientHello, reopening each one the server closes, as a real flood would. While they are held, plain `check_firmware` on `listen`
//! must answer as fast as without them, and a register over TLS must still complete its
//! handshake and get its answer within a few seconds; also when the server was started
//! with a low limit on open files, which the flood must not use up. 127.0.0.1 only;
//! bounded in count (5,000 connections at most) and in time (well under a minute), one
//! flood at a time. Certificates are made by the `openssl` command (CI installs it).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{self, eventually, Fixture, Server, DEADLINE};
use crate::tls_certs::{
    address_in_log, check_request, have_openssl, make_ca, make_cert, try_https,
};

/// Idle connections held to the TLS port at once: fewer than the server's handshake slots
/// (4,096), so a register over TLS must get one at once.
const FLOOD: usize = 3_000;
/// Then more than the slots: the rest wait in the kernel's queue, and plain devices must
/// still not notice.
const OVERFLOW: usize = 5_000;
/// The first bytes of a TLS record carrying a ClientHello (handshake, TLS 1.0 record
/// version, 512 bytes to follow), and then nothing.
const PARTIAL_CLIENT_HELLO: [u8; 5] = [0x16, 0x03, 0x01, 0x02, 0x00];
/// Threads that open and hold them.
const FLOODERS: usize = 4;
/// How long the flood may take to reach its size before the timing starts anyway.
const FLOOD_RAMP: Duration = Duration::from_secs(15);
/// How long requests are timed beside the flood: longer than the server's TLS handshake
/// timeout (5 s), so that the idle connections are closed and reopened meanwhile.
const WINDOW: Duration = Duration::from_secs(7);
/// A plain `check_firmware` (fresh connection, as registers poll) must answer within this.
const PLAIN_WITHIN: Duration = Duration::from_millis(500);
/// A TLS request (connect, handshake, `check_firmware`) must answer within this.
const TLS_WITHIN: Duration = Duration::from_secs(3);

/// Raises this process's soft limit on open files (the server started from it inherits it)
/// to hold `needed` sockets on each side. Whether it could.
fn raise_open_file_limit(needed: u64) -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit write and read only the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return false;
    }
    if limit.rlim_cur >= needed {
        return true;
    }
    if limit.rlim_max < needed {
        return false;
    }
    limit.rlim_cur = needed;
    // SAFETY: as above.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 }
}

/// Whether the server still holds this idle connection (it has sent nothing, not closed).
fn still_open(stream: &TcpStream) -> bool {
    matches!(stream.peek(&mut [0u8; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock)
}

/// What the flooding threads do and see.
#[derive(Default)]
struct Flood {
    /// Connections to hold, over all threads.
    target: AtomicUsize,
    /// Open now.
    held: AtomicUsize,
    /// Closed by the server (its handshake timeout).
    closed: AtomicUsize,
    stop: AtomicBool,
}

impl Flood {
    /// Holds thread `n`'s share of `target` idle connections to `addr` until `stop`,
    /// reopening each one the server closes.
    fn hold_idle(&self, addr: SocketAddr, n: usize) {
        let mut open: Vec<TcpStream> = Vec::new();
        while !self.stop.load(Ordering::SeqCst) {
            let before = open.len();
            open.retain(still_open);
            let gone = before - open.len();
            self.held.fetch_sub(gone, Ordering::SeqCst);
            self.closed.fetch_add(gone, Ordering::SeqCst);
            let target = self.target.load(Ordering::SeqCst);
            let share = target / FLOODERS + usize::from(n < target % FLOODERS);
            while open.len() < share && !self.stop.load(Ordering::SeqCst) {
                // A full accept queue drops SYNs: give up for this round, try again later.
                let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                else {
                    break;
                };
                // Half the threads start a ClientHello and stall inside the handshake; the
                // others send nothing at all.
                if n % 2 == 1 && stream.write_all(&PARTIAL_CLIENT_HELLO).is_err() {
                    break;
                }
                if stream.set_nonblocking(true).is_err() {
                    break;
                }
                open.push(stream);
                self.held.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.held.fetch_sub(open.len(), Ordering::SeqCst);
    }

    /// Sets the size and waits (at most `ramp`) until that many are held.
    fn grow_to(&self, target: usize, ramp: Duration) {
        self.target.store(target, Ordering::SeqCst);
        let started = Instant::now();
        while self.held.load(Ordering::SeqCst) < target && started.elapsed() < ramp {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

/// A plain `check_firmware` on a fresh connection, given up after `limit`: how long the
/// whole answer took, or what went wrong.
fn plain_check(addr: SocketAddr, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, limit).map_err(|e| format!("{e}"))?;
    stream.set_read_timeout(Some(limit)).expect("timeout");
    stream
        .write_all(check_request(&addr.to_string()).as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer within {limit:?}: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    if !text.starts_with("HTTP/1.1 200") || !text.contains("\"version\"") {
        return Err(format!("not a 200 check_firmware answer: {text:?}"));
    }
    Ok(started.elapsed())
}

/// A TLS `check_firmware`: how long it took, or what went wrong.
fn tls_check(addr: SocketAddr, ca: &std::path::Path, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let host = format!("localhost:{}", addr.port());
    let (status, body, _) = try_https(addr, ca, &check_request(&host), limit)?;
    if status != 200 || !body.contains("https://") {
        return Err(format!(
            "not a 200 answer with https:// URLs: {status} {body:?}"
        ));
    }
    Ok(started.elapsed())
}

/// The server's resident memory in KiB (Linux), for the report.
fn resident_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether the test can hold its floods: openssl for the certificates, and enough open
/// files (raised here; the server inherits them). A failure under CI, else a skip.
fn can_flood() -> bool {
    if !have_openssl() {
        return false;
    }
    // Each side (the test and the server) holds OVERFLOW sockets, with room to spare.
    let needed = OVERFLOW as u64 + 1024;
    common::require(
        raise_open_file_limit(needed),
        &format!("a hard limit of {needed} open files"),
        "raise it: ulimit -Hn, or LimitNOFILE in a systemd unit",
    )
}

/// A deployment with one release and a certificate for localhost (`certs/a.pem`, signed
/// by `certs/ca.pem`).
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let certs = fixture.path("certs");
    std::fs::create_dir(&certs).expect("certs");
    make_ca(&certs);
    make_cert(&certs, "a");
    fixture
}

const TLS_ARGS: [&str; 6] = [
    "--tls-listen",
    "127.0.0.1:0",
    "--tls-cert",
    "certs/a.pem",
    "--tls-key",
    "certs/a.key",
];

/// Starts the server with the limit on open files set to `soft` and `hard`.
fn start_with_open_files(fixture: &Fixture, soft: u64, hard: u64) -> Server {
    let mut command = crate::common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .args(TLS_ARGS)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: between fork and exec only setrlimit runs, which is async-signal-safe and
    // reads only the struct copied into the closure.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    Server::spawn(command)
}

/// The server's limit on open files (soft, hard), from /proc.
fn open_file_limit(server: &Server) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn idle_tls_connections_stall_neither_plain_nor_tls_devices() {
    if !can_flood() {
        return;
    }
    // One flood at a time: two would share the machine and the process's open files.
    let _heavy = common::heavy();
    let fixture = deployment();
    let certs = fixture.path("certs");
    let server = Server::start(fixture.dir.path(), &TLS_ARGS, &[]);
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    let ca = certs.join("ca.pem");
    // Both work before the flood (and the first answers are out of the way).
    let quiet: Vec<Duration> = (0..5)
        .map(|_| plain_check(server.addr, Duration::from_secs(5)).expect("plain, no flood"))
        .collect();
    tls_check(tls_addr, &ca, Duration::from_secs(5)).expect("TLS, no flood");
    let rss_before = resident_kib(server.pid());

    let flood = Flood::default();
    std::thread::scope(|scope| {
        for n in 0..FLOODERS {
            let flood = &flood;
            scope.spawn(move || flood.hold_idle(tls_addr, n));
        }
        // Stops the flood however this ends, so that the scope can join its threads.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = StopOnDrop(&flood.stop);

        // Fewer than the handshake slots, held across the handshake timeout: every plain
        // answer as fast as without them, and every TLS request answered in seconds.
        flood.grow_to(FLOOD, FLOOD_RAMP);
        let held = flood.held();
        let rss = resident_kib(server.pid());
        eprintln!(
            "{held} idle TLS connections; plain answers without them {quiet:?}; server RSS \
             {rss_before:?} KiB before, {rss:?} KiB now"
        );
        assert!(
            held >= FLOOD * 9 / 10,
            "the flood held only {held} of {FLOOD} connections: the test would prove nothing"
        );
        let started = Instant::now();
        let closed_before = flood.closed.load(Ordering::SeqCst);
        let mut slowest_plain = Duration::ZERO;
        let mut slowest_tls = Duration::ZERO;
        let mut next_tls = started;
        while started.elapsed() < WINDOW {
            // Fail fast: a stalled answer ends the test, not a 20 s read timeout.
            let took = plain_check(server.addr, PLAIN_WITHIN * 4).unwrap_or_else(|e| {
                panic!(
                    "plain check_firmware beside {} idle TLS connections: {e}",
                    flood.held()
                )
            });
            assert!(
                took < PLAIN_WITHIN,
                "plain check_firmware took {took:?} beside {} idle TLS connections",
                flood.held()
            );
            slowest_plain = slowest_plain.max(took);
            if Instant::now() >= next_tls {
                let took = tls_check(tls_addr, &ca, TLS_WITHIN).unwrap_or_else(|e| {
                    panic!(
                        "TLS request beside {} idle TLS connections: {e}",
                        flood.held()
                    )
                });
                assert!(
                    took < TLS_WITHIN,
                    "TLS request took {took:?} beside {} idle TLS connections",
                    flood.held()
                );
                slowest_tls = slowest_tls.max(took);
                next_tls = Instant::now() + Duration::from_secs(1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let closed = flood.closed.load(Ordering::SeqCst) - closed_before;
        eprintln!(
            "over {WINDOW:?}: slowest plain {slowest_plain:?}, slowest TLS {slowest_tls:?}; \
             {closed} idle connections closed by the server and reopened; {} held now",
            flood.held()
        );
        // The handshake timeout frees the slots an idle connection takes.
        assert!(
            closed >= held * 9 / 10,
            "only {closed} of {held} idle connections were closed within {WINDOW:?}"
        );

        // More than the slots: the rest wait in the TLS socket's queue, plain devices
        // still do not notice.
        flood.grow_to(OVERFLOW, FLOOD_RAMP);
        let held = flood.held();
        let rss = resident_kib(server.pid());
        let mut plain = Vec::new();
        for _ in 0..20 {
            let took = plain_check(server.addr, PLAIN_WITHIN * 4).unwrap_or_else(|e| {
                panic!(
                    "plain check_firmware beside {} idle TLS connections: {e}",
                    flood.held()
                )
            });
            plain.push(took);
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "{held} idle TLS connections (more than the slots): plain {plain:?}; server RSS \
             {rss:?} KiB"
        );
        assert!(
            held > 4096,
            "the flood held only {held} connections, not more than the handshake slots"
        );
        for took in plain {
            assert!(
                took < PLAIN_WITHIN,
                "plain check_firmware took {took:?} beside {held} idle TLS connections"
            );
        }
    });
    // The flood gone, both still answer.
    plain_check(server.addr, Duration::from_secs(5)).expect("plain after the flood");
    eventually("a TLS answer after the flood", DEADLINE, || {
        tls_check(tls_addr, &ca, Duration::from_secs(5)).ok()
    });
}

#[test]
fn a_low_limit_on_open_files_is_raised_and_https_keeps_to_half() {
    if !can_flood() {
        return;
    }
    // One flood at a time: two would share the machine and the process's open files.
    let _heavy = common::heavy();
    let fixture = deployment();
    // Started from a shell: a soft limit of 1,024 under a higher hard one. The server takes
    // the hard one.
    let server = start_with_open_files(&fixture, 1024, 4096);
    assert_eq!(open_file_limit(&server), (4096, 4096), "{}", server.log());
    drop(server);

    // Only 2,048 descriptors in all: 2,500 idle TLS connections could take every one, and
    // plain devices could not be accepted. HTTPS holds at most half; the rest wait.
    let server = start_with_open_files(&fixture, 2048, 2048);
    assert!(
        server.wait_for_log("the limit on open files is 2048", DEADLINE),
        "{}",
        server.log()
    );
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    plain_check(server.addr, Duration::from_secs(5)).expect("plain, no flood");
    let flood = Flood::default();
    std::thread::scope(|scope| {
        for n in 0..FLOODERS {
            let flood = &flood;
            scope.spawn(move || flood.hold_idle(tls_addr, n));
        }
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = StopOnDrop(&flood.stop);
        // The server takes 1,024 and the kernel queues as many: the flood cannot reach its
        // size, so it is given 3 s.
        flood.grow_to(2_500, Duration::from_secs(3));
        let held = flood.held();
        assert!(held > 1024, "the flood held only {held} connections");
        let started = Instant::now();
        while started.elapsed() < WINDOW {
            let took = plain_check(server.addr, PLAIN_WITHIN * 4).unwrap_or_else(|e| {
                panic!(
                    "plain check_firmware beside {} idle TLS connections: {e}",
                    flood.held()
                )
            });
            assert!(
                took < PLAIN_WITHIN,
                "plain check_firmware took {took:?} beside {} idle TLS connections, with 2,048 \
                 open files",
                flood.held()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}
