//! The servers devices talk to. Plain HTTP (`listen`) and HTTPS (`tls_listen`) serve the
//! same routes from two servers, each with its own accept loop, workers and connection
//! limit. They must not share workers: a worker with its most handshakes under way stops
//! accepting on *every* listener it serves (that is how actix bounds handshakes), so
//! thousands of connections that open a TLS port and never finish a handshake would
//! otherwise stall the plain registers that do not use TLS at all.

use std::any::Any;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::{ConnectionType, KeepAlive};
use actix_web::middleware::{from_fn, Next};
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use log::{info, warn};

use super::{operator_log, LOG};
use crate::app_state::AppState;
use crate::config::Config;
use crate::device_api::request_limits;
use crate::device_api::routes::{self, LocalAddr, OverTls};
use crate::model::lang::fill;
use crate::observe::access_log;
use crate::platform::send_timeout;

/// The device servers, bound and not yet started, with the connections both of them will
/// hold open. Started only after the admin server and the background tasks, so that the
/// log says things in the order it always has.
pub(super) struct DeviceServers {
    plain: Starter,
    tls: Option<Starter>,
    /// The plain server's addresses, for the "listening on" lines.
    addrs: Vec<SocketAddr>,
    /// Counted over both servers, so that a stop waits for either kind.
    open: OpenConnections,
}

/// Starts a bound server (actix's `HttpServer::run`, whose type names the app's closures).
type Starter = Box<dyn FnOnce() -> Server>;

/// The device servers, started: they serve once awaited.
pub(super) struct Running {
    plain: Server,
    tls: Option<Server>,
    pub open: OpenConnections,
}

impl DeviceServers {
    /// The plain server on `plain`, and the HTTPS server on `tls` when both a socket and
    /// the TLS settings are there.
    pub fn bind(
        config: &Config,
        state: &web::Data<AppState>,
        plain: TcpListener,
        tls: Option<(TcpListener, &rustls::ServerConfig)>,
        open_files: Option<u64>,
    ) -> Result<DeviceServers> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let keep_alive = if config.keep_alive.is_zero() {
            KeepAlive::Disabled
        } else {
            KeepAlive::Timeout(config.keep_alive)
        };
        let send_timeout = config.send_timeout;
        let drain = config.shutdown_timeout.as_secs();
        let app_state = state.clone();
        let app = move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(from_fn(request_limits::enforce))
                .wrap(from_fn(after_response))
                .configure(routes::configure)
        };
        let open = OpenConnections::default();
        // The plain and the TLS server alike: same routes, limits, timeouts and drain, and
        // the connections of both counted in `open` so that a stop waits for either kind.
        let server = |max_connections: usize| {
            let open = open.clone();
            HttpServer::new(app.clone())
                .on_connect(move |connection, data| {
                    record_local_addr(connection, data, send_timeout);
                    data.insert(open.opened());
                })
                .workers(workers)
                // As nginx's `tcp_nodelay on`: a response written in more than one piece (a
                // file beside the firmware is streamed in chunks) never waits for the
                // device's delayed ACK.
                .tcp_nodelay(true)
                .max_connections((max_connections / workers).max(1))
                .client_request_timeout(config.request_timeout)
                .keep_alive(keep_alive)
                .shutdown_timeout(drain)
                .disable_signals()
        };
        let plain = server(config.max_connections)
            .listen(plain)
            .context("cannot serve on the device socket")?;
        let addrs = plain.addrs();
        let tls = match tls {
            Some((listener, settings)) => {
                let addr = listener.local_addr().ok();
                // Per worker, as actix counts; one process-wide setting (see the constant).
                let server = server(tls_connections(config.max_connections, open_files))
                    .tls_handshake_timeout(TLS_HANDSHAKE_TIMEOUT)
                    .max_connection_rate(TLS_HANDSHAKES_AT_ONCE.div_ceil(workers))
                    .listen_rustls_0_23(listener, settings.clone())
                    .context("cannot serve on the TLS socket")?;
                if let Some(addr) = addr {
                    info!(
                        target: LOG,
                        "{}",
                        fill(operator_log().listening_https, &[("addr", &addr)])
                    );
                }
                Some(Box::new(move || server.run()) as Starter)
            }
            None => None,
        };
        warn_if_few_open_files(open_files, config.max_connections, tls.is_some());
        Ok(DeviceServers {
            plain: Box::new(move || plain.run()),
            tls,
            addrs,
            open,
        })
    }

    /// Says where devices reach us and starts both servers.
    pub fn start(self) -> Running {
        for addr in &self.addrs {
            info!(
                target: LOG,
                "{}",
                fill(operator_log().listening, &[("addr", &addr)])
            );
        }
        Running {
            plain: (self.plain)(),
            tls: self.tls.map(|start| start()),
            open: self.open,
        }
    }
}

impl Running {
    /// Handles on both servers, to pause and stop them.
    pub fn handles(&self) -> Vec<ServerHandle> {
        std::iter::once(self.plain.handle())
            .chain(self.tls.as_ref().map(Server::handle))
            .collect()
    }

    /// Serves until both servers have stopped.
    pub async fn serve(self) -> Result<()> {
        let tls = self.tls;
        let (plain, tls) = tokio::join!(self.plain, async move {
            match tls {
                Some(server) => server.await,
                None => Ok(()),
            }
        });
        plain
            .context("the HTTP server failed")
            .and(tls.context("the HTTPS server failed"))
    }
}

/// Middleware around every device answer on its way out (outermost, so it sees the
/// answers of the request limits too): the drain's `Connection: close`, the metrics, and
/// the access log's record (handed to its writer, never written here).
async fn after_response(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let began = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut response = next.call(req).await?;
    if let Some(state) = state {
        account(&state, &mut response, began);
    }
    Ok(response)
}

/// Marks, counts and logs one answer.
fn account<B: MessageBody>(state: &AppState, response: &mut ServiceResponse<B>, began: Instant) {
    let took = began.elapsed();
    if state.is_draining() {
        // Stopping: this connection closes after this answer, cleanly, instead of idling
        // until the drain cuts it.
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    let status = response.status().as_u16();
    let route = response.request().match_pattern();
    let label = match route.as_deref() {
        Some(pattern) => pattern,
        // Downloads are answered by the `/firmware` scope's own service, which has no
        // pattern: they keep the label they had when a pattern matched them.
        None if response
            .request()
            .match_info()
            .as_str()
            .starts_with("/firmware/") =>
        {
            routes::FIRMWARE_ROUTE_LABEL
        }
        None => "other",
    };
    state.metrics.request(label, status, took);
    if state.access_log.enabled() {
        let request = response.request();
        let bytes = match response.response().body().size() {
            actix_web::body::BodySize::Sized(n) => Some(n),
            _ => None,
        };
        state.access_log.record(access_log::Record {
            client: request.peer_addr().map(|a| a.ip()),
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            status,
            bytes,
            took,
            user_agent: request.headers().get(header::USER_AGENT).cloned(),
        });
    }
}

/// Connections the device servers hold open, counted so that a stop waits for them.
#[derive(Clone, Default)]
pub(super) struct OpenConnections(Arc<AtomicUsize>);

/// Lives in a connection's extensions: dropped (and uncounted) when the connection closes.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl OpenConnections {
    fn opened(&self) -> Counted {
        self.0.fetch_add(1, Ordering::SeqCst);
        Counted(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Keeps the address each connection arrived on, for URLs to HTTP/1.0 clients without Host.
/// Also limits how long unread response bytes may wait (`send_timeout_s`).
fn record_local_addr(connection: &dyn Any, data: &mut Extensions, send_timeout: Duration) {
    if let Some(stream) = connection.downcast_ref::<TcpStream>() {
        send_timeout::limit(stream, send_timeout);
        if let Ok(addr) = stream.local_addr() {
            data.insert(LocalAddr(addr));
        }
    } else if let Some(tls) = connection.downcast_ref::<TlsStream<TcpStream>>() {
        let stream = tls.get_ref().0;
        send_timeout::limit(stream, send_timeout);
        if let Ok(addr) = stream.local_addr() {
            data.insert(LocalAddr(addr));
        }
        data.insert(OverTls);
    }
}

/// How long a TLS client has from its accepted connection to a finished handshake before
/// the connection is closed (HTTPS listeners only). A handshake is one or two round trips
/// and a certificate chain of a few KB: well under a second on any shop's line, about two
/// seconds for a register on a slow mobile link with a one-second round trip. A connection
/// that sends nothing holds its handshake slot no longer than this.
pub(super) const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// TLS handshakes under way at once, over all the HTTPS workers; more connections wait in
/// the kernel's queue of the TLS socket until a slot frees (within `TLS_HANDSHAKE_TIMEOUT`).
/// An idle handshake costs a file descriptor and 10-12 KB, no CPU: 4,096 of them under
/// 50 MB (measured with `tests/integration/tls_flood.rs`). Set high, so a register still
/// gets a slot at once while thousands of idle connections hold theirs: it bounds memory,
/// and reaching it pauses only the HTTPS server (actix applies it per worker, to every
/// listener of the worker; the plain listener has workers of its own). actix holds the
/// per-worker number process-wide, so it bounds the admin listener's handshakes too when
/// that speaks HTTPS.
const TLS_HANDSHAKES_AT_ONCE: usize = 4096;

/// How many connections the HTTPS server may hold at once: `max_connections`, and never
/// more than half the open-file limit, so that connections to the TLS port (which anyone
/// can open and leave idle) cannot use up the descriptors plain devices are accepted with.
fn tls_connections(max_connections: usize, open_files: Option<u64>) -> usize {
    let half = open_files.map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX));
    max_connections.min(half).max(1)
}

/// Says so when the open-file limit is below what `max_connections` allows on the device
/// listeners (plus some for files and the admin listener).
fn warn_if_few_open_files(open_files: Option<u64>, max_connections: usize, https: bool) {
    let Some(limit) = open_files else {
        return;
    };
    let listeners: u64 = if https { 2 } else { 1 };
    let wanted = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_mul(listeners)
        .saturating_add(OTHER_FILES);
    if limit < wanted {
        warn!(
            target: LOG,
            "the limit on open files is {limit}, fewer than the {wanted} that \
             max_connections ({max_connections}) on each device listener may need: beyond \
             it new connections wait until others close. Raise it (LimitNOFILE= in the \
             systemd unit, ulimit -Hn) or lower max_connections; HTTPS is kept to half of it."
        );
    }
}

/// Descriptors kept for other than device connections: files, the inventory, the log, the
/// admin listener.
const OTHER_FILES: u64 = 256;
