//! Start-up: the first scan, the log lines an operator looks for, the device listeners with
//! their access log and metrics, the admin listener, and a graceful drain on SIGTERM.
//!
//! Plain HTTP (`listen`) and HTTPS (`tls_listen`) serve the same routes from two servers,
//! each with its own accept loop, workers and connection limit. They must not share
//! workers: a worker with its most handshakes under way stops accepting on *every*
//! listener it serves (that is how actix bounds handshakes), so thousands of connections
//! that open a TLS port and never finish a handshake would otherwise stall the plain
//! registers that do not use TLS at all.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, Service};
use actix_web::http::header;
use actix_web::http::{ConnectionType, KeepAlive};
use actix_web::middleware::from_fn;
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use log::{info, warn};

use crate::admin::access_guard::{self, AdminAccess};
use crate::admin::routes as admin_routes;
use crate::app_state::{AppState, ReloadRecord};
use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::cli::RawArgs;
use crate::config::tls::{self, CertificateStore};
use crate::config::Config;
use crate::device_api::request_limits;
use crate::device_api::routes::{self, LocalAddr, OverTls};
use crate::model::unix_time::unix;
use crate::observe::access_log::{self, AccessLog};
use crate::observe::inventory::{self, Event, Inventory};
use crate::platform::{listen_sockets, open_files, send_timeout, stop_signal};
use crate::reload::certificate_watch;
use crate::reload::reloader::Reloader;
use crate::rollout::watch as rollout_watch;

/// Scans, logs what devices will be offered, and serves until SIGINT/SIGTERM, then lets
/// running requests (downloads) finish for up to `shutdown_timeout`.
/// `raw` is kept to re-read the configuration on reload with the same flags laid over it.
pub async fn serve(config: Config, raw: RawArgs) -> Result<()> {
    let started = Instant::now();
    let open_files = open_files::raise_to_hard_limit();
    // Sockets first: a port in use is said before anything is scanned, and with systemd's
    // sockets connections queue in the kernel until we accept them.
    let Listeners {
        device: device_listener,
        admin: admin_listener,
        tls: tls_listener,
        bound_here,
    } = listeners(&config)?;
    let certificates = match &config.tls {
        Some(tls) => Some(Arc::new(
            CertificateStore::open(tls.files.clone()).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    let tls_config = match &certificates {
        Some(store) => Some(tls::server_config(store.clone()).map_err(anyhow::Error::msg)?),
        None => None,
    };
    for warning in config.warnings() {
        warn!("{warning}");
    }
    let snapshot = Snapshot::scan(&config, SystemTime::now(), None, &WriteLedger::default());
    log_snapshot(&snapshot);
    let outcome = snapshot_report::current_line(&snapshot);
    let state = web::Data::new(
        AppState::new(
            snapshot,
            config.fleet_max_devices,
            config.request_timeout,
            AccessLog::start(config.access_log.clone()),
            Inventory::start(inventory_settings(&config)),
        )
        .context("cannot set up metrics")?,
    );
    state.record_reload(ReloadRecord {
        at: unix(SystemTime::now()),
        trigger: "startup",
        outcome,
        ok: true,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    restore_fleet(&state, config.fleet_max_devices);
    let admissions_since = rollout_watch::restore(&state);
    state.inventory.record(Event::History {
        at: unix(SystemTime::now()),
        kind: "started",
        line: "".into(),
        version: state
            .snapshot()
            .releases
            .current()
            .map(|r| r.version.as_u32()),
        detail: snapshot_report::current_line(&state.snapshot()),
    });
    let reloader = Reloader::new(state.clone(), raw, config.clone());
    let drain = config.shutdown_timeout.as_secs();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let keep_alive = if config.keep_alive.is_zero() {
        KeepAlive::Disabled
    } else {
        KeepAlive::Timeout(config.keep_alive)
    };

    let send_timeout = config.send_timeout;
    let device_state = state.clone();
    let draining = state.clone();
    let device_app = move || {
        App::new()
            .app_data(device_state.clone())
            .wrap(from_fn(request_limits::enforce))
            .wrap_fn(|req, service| {
                let began = Instant::now();
                let state = req.app_data::<web::Data<AppState>>().cloned();
                let response = service.call(req);
                async move {
                    let mut response = response.await?;
                    if let Some(state) = state {
                        after_response(&state, &mut response, began);
                    }
                    Ok(response)
                }
            })
            .configure(routes::configure)
    };
    let open = OpenConnections::default();
    let still_open = open.clone();
    // The plain and the TLS server alike: same routes, limits, timeouts and drain, and the
    // connections of both counted in `open` so that a stop waits for either kind.
    let device_server = |max_connections: usize| {
        let open = open.clone();
        HttpServer::new(device_app.clone())
            .on_connect(move |connection, data| {
                record_local_addr(connection, data, send_timeout);
                data.insert(open.opened());
            })
            .workers(workers)
            .max_connections((max_connections / workers).max(1))
            .client_request_timeout(config.request_timeout)
            .keep_alive(keep_alive)
            .shutdown_timeout(drain)
            .disable_signals()
    };
    let devices = device_server(config.max_connections)
        .listen(device_listener)
        .context("cannot serve on the device socket")?;
    let device_addrs = devices.addrs();
    let tls_devices = match (tls_listener, &tls_config) {
        (Some(listener), Some(tls)) => {
            let addr = listener.local_addr().ok();
            // Per worker, as actix counts; one process-wide setting (see the constant).
            let server = device_server(tls_connections(config.max_connections, open_files))
                .tls_handshake_timeout(TLS_HANDSHAKE_TIMEOUT)
                .max_connection_rate(TLS_HANDSHAKES_AT_ONCE.div_ceil(workers))
                .listen_rustls_0_23(listener, tls.clone())
                .context("cannot serve on the TLS socket")?;
            if let Some(addr) = addr {
                info!("listening for HTTPS on {addr}");
            }
            Some(server)
        }
        _ => None,
    };
    warn_if_few_open_files(open_files, config.max_connections, tls_devices.is_some());

    let admin = match admin_listener {
        Some(listener) => {
            let admin_state = state.clone();
            let access = web::Data::new(AdminAccess {
                token: config.admin_token.clone(),
                hosts: config.admin_hosts.clone(),
            });
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(admin_state.clone())
                    .app_data(access.clone())
                    .wrap(from_fn(access_guard::guard))
                    .configure(admin_routes::configure)
            })
            .workers(1)
            // Operators, a dashboard and a Prometheus: a few connections. actix's default
            // (25,000) would let a flood of the admin port take the open files devices need.
            .max_connections(ADMIN_MAX_CONNECTIONS)
            .tls_handshake_timeout(TLS_HANDSHAKE_TIMEOUT)
            .disable_signals()
            .shutdown_timeout(1);
            let server = match (&config.tls, &tls_config) {
                (Some(setting), Some(tls)) if setting.admin => server
                    .listen_rustls_0_23(listener, tls.clone())
                    .context("cannot serve HTTPS on the admin socket")?,
                _ => server
                    .listen(listener)
                    .context("cannot serve on the admin socket")?,
            };
            for addr in server.addrs() {
                info!(
                    "admin listening on {addr}{}",
                    if config.admin_token.is_some() {
                        " (token required)"
                    } else {
                        ""
                    }
                );
            }
            Some(server.run())
        }
        None => None,
    };
    let admin_handle = admin.as_ref().map(|server| server.handle());
    if let Some(admin) = admin {
        actix_web::rt::spawn(admin);
    }

    actix_web::rt::spawn(reloader.run());
    if let Some(store) = certificates {
        let _ = state.certificates.set(store.clone());
        actix_web::rt::spawn(certificate_watch::run(store));
    }
    actix_web::rt::spawn(rollout_watch::run(state.clone(), admissions_since));
    for addr in device_addrs {
        info!("listening on {addr}");
    }
    let devices = devices.run();
    let tls_devices = tls_devices.map(|server| server.run());
    let handles: Vec<_> = std::iter::once(devices.handle())
        .chain(tls_devices.as_ref().map(|server| server.handle()))
        .collect();
    let drain_for = config.shutdown_timeout;
    actix_web::rt::spawn(async move {
        let what = stop_signal::stop_requested().await;
        info!(
            "{what} received: new connections wait in the queue for the next process \
             (with systemd's sockets) or are refused; answering the requests in flight and \
             letting downloads finish for up to {drain} s"
        );
        drain_then_stop(draining, handles, bound_here, still_open, drain_for).await;
    });
    let (plain, tls) = tokio::join!(devices, async move {
        match tls_devices {
            Some(server) => server.await,
            None => Ok(()),
        }
    });
    let result = plain
        .context("the HTTP server failed")
        .and(tls.context("the HTTPS server failed"));
    state.access_log.close(Duration::from_secs(5));
    state.inventory.close(Duration::from_secs(10));
    info!("stopped");
    if let Some(handle) = admin_handle {
        handle.stop(true).await;
    }
    result
}

/// What every device answer goes through on its way out: the drain's `Connection: close`,
/// the metrics, and the access log's record (handed to its writer, never written here).
fn after_response<B: MessageBody>(
    state: &AppState,
    response: &mut actix_web::dev::ServiceResponse<B>,
    began: Instant,
) {
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
    state
        .metrics
        .request(route.as_deref().unwrap_or("other"), status, took);
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

/// The inventory's settings from the configuration.
pub fn inventory_settings(config: &Config) -> inventory::Settings {
    inventory::Settings {
        store: config.inventory.clone(),
        stuck_after: config.stuck_after_s,
        retention_days: config.inventory_retention_days,
    }
}

/// Loads the most recently seen devices from the inventory into the fleet view, so the
/// dashboard lists the fleet right after a restart.
fn restore_fleet(state: &AppState, cap: usize) {
    if !state.inventory.is_on() {
        return;
    }
    let started = Instant::now();
    let filter = inventory::store::DeviceFilter {
        limit: cap as u64,
        ..Default::default()
    };
    let stuck_after = state.inventory.settings().stuck_after;
    let now = unix(SystemTime::now());
    match state
        .inventory
        .read_blocking(|db| inventory::store::devices(db, &filter, now, stuck_after))
    {
        Ok((total, rows)) => {
            let mut fleet = state.fleet();
            for row in rows.into_iter().rev() {
                let Ok(address) = row.address.parse() else {
                    continue;
                };
                fleet.restore(crate::observe::fleet::Device {
                    address,
                    user_agent: row.user_agent.into(),
                    build_date: row.build_date,
                    offered: row.offered,
                    update_available: row.outcome.is_some(),
                    critical: false,
                    last_check_in: row.build_date.map(|_| row.last_seen),
                    serial: row
                        .serials
                        .first()
                        .and_then(|s| crate::licenses::serial::Serial::parse_file_form(s)),
                    last_seen: row.last_seen,
                });
            }
            state.metrics.devices(fleet.len());
            info!(
                "inventory {}: {total} devices remembered, {} loaded into the fleet view in {} ms",
                state.inventory.settings().store,
                fleet.len(),
                started.elapsed().as_millis()
            );
        }
        Err(e) => warn!(
            "inventory {}: cannot load the fleet: {e:#}",
            state.inventory.settings().store
        ),
    }
}

/// Connections the device listener holds open, counted so that a stop waits for them.
#[derive(Clone, Default)]
struct OpenConnections(Arc<AtomicUsize>);

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

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A stop that loses no device. actix's own graceful stop closes every connection that has
/// no request under way, including fresh ones whose request is still in the socket buffer:
/// that device gets nothing. So instead: stop accepting (with systemd's socket, new
/// connections wait in the kernel's queue for the next process; a socket we bound stops
/// listening, so new connections are refused and a load balancer tries elsewhere), answer
/// everything on the connections already open, each answer closing its connection, and
/// only then stop, or when `drain_for` is over.
async fn drain_then_stop(
    state: web::Data<AppState>,
    servers: Vec<actix_web::dev::ServerHandle>,
    own_sockets: Vec<std::net::TcpListener>,
    open: OpenConnections,
    drain_for: Duration,
) {
    state.start_draining();
    for server in &servers {
        server.pause().await;
    }
    let deadline = Instant::now() + drain_for;
    // A connection accepted just before the pause may not be counted yet.
    actix_web::rt::time::sleep(ACCEPT_GRACE).await;
    for socket in &own_sockets {
        listen_sockets::stop_listening(socket);
    }
    while open.count() > 0 && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let left = open.count();
    if left > 0 {
        warn!("{left} connections still open after shutdown_timeout_s: closing them");
    }
    for server in &servers {
        server.stop(false).await;
    }
}

/// How long after pausing the accept loop a just-accepted connection may take to be counted.
const ACCEPT_GRACE: Duration = Duration::from_millis(50);

/// Connections the admin listener serves at once; more wait in the kernel's queue.
const ADMIN_MAX_CONNECTIONS: usize = 256;

/// How long a TLS client has from its accepted connection to a finished handshake before
/// the connection is closed (HTTPS listeners only). A handshake is one or two round trips
/// and a certificate chain of a few KB: well under a second on any shop's line, about two
/// seconds for a register on a slow mobile link with a one-second round trip. A connection
/// that sends nothing holds its handshake slot no longer than this.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// TLS handshakes under way at once, over all the HTTPS workers; more connections wait in
/// the kernel's queue of the TLS socket until a slot frees (within `TLS_HANDSHAKE_TIMEOUT`).
/// An idle handshake costs a file descriptor and 10-12 KB, no CPU: 4,096 of them under
/// 50 MB (measured with `tests/tls_flood.rs`). Set high, so that a register still
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

/// The sockets the server serves on.
struct Listeners {
    device: std::net::TcpListener,
    admin: Option<std::net::TcpListener>,
    /// HTTPS for devices (`tls_listen`).
    tls: Option<std::net::TcpListener>,
    /// Handles on the device sockets bound here (not systemd's, which keep listening across
    /// restarts), to stop them listening at the start of a drain.
    bound_here: Vec<std::net::TcpListener>,
}

/// The device, admin and TLS sockets: systemd's when it passed them (named `device`,
/// `admin`, `tls`), else bound here.
fn listeners(config: &Config) -> Result<Listeners> {
    let mut device = None;
    let mut admin = None;
    let mut tls = None;
    for socket in listen_sockets::inherited().context("cannot take the sockets systemd passed")? {
        let addr = socket
            .listener
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        info!("using the {} socket systemd passed ({addr})", socket.name);
        match socket.name.as_str() {
            "admin" => admin = Some(socket.listener),
            "tls" => tls = Some(socket.listener),
            _ => device = Some(socket.listener),
        }
    }
    let mut bound_here = Vec::new();
    let device = match device {
        Some(listener) => listener,
        None => {
            let listener = listen_sockets::bind(config.listen, "listen (--listen, KKT_LISTEN)")?;
            bound_here.extend(listener.try_clone().ok());
            listener
        }
    };
    let admin = match (admin, config.admin_listen) {
        (Some(listener), _) => Some(listener),
        (None, Some(addr)) => Some(listen_sockets::bind(
            addr,
            "admin_listen (--admin-listen, KKT_ADMIN_LISTEN)",
        )?),
        (None, None) => None,
    };
    let tls = match (tls, config.tls.as_ref().and_then(|t| t.listen)) {
        (Some(listener), _) => Some(listener),
        (None, Some(addr)) => {
            let listener = listen_sockets::bind(addr, "tls_listen (--tls-listen, KKT_TLS_LISTEN)")?;
            bound_here.extend(listener.try_clone().ok());
            Some(listener)
        }
        (None, None) => None,
    };
    Ok(Listeners {
        device,
        admin,
        tls,
        bound_here,
    })
}

/// Logs the summary lines and every problem of a snapshot.
pub fn log_snapshot(snapshot: &Snapshot) {
    info!("{}", snapshot_report::current_line(snapshot));
    info!("{}", snapshot_report::critical_line(snapshot));
    if let Some(lines) = snapshot_report::lines_line(snapshot) {
        info!("{lines}");
    }
    info!("{}", snapshot_report::licenses_line(snapshot));
    for problem in snapshot_report::errors(snapshot) {
        warn!("{problem}");
    }
    for warning in snapshot_report::warnings(snapshot) {
        warn!("{warning}");
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
