//! Start-up: the first scan, the log lines an operator looks for, the device listener with
//! its access log and metrics, the admin listener, and a graceful drain on SIGTERM.

use std::any::Any;
use std::time::{Instant, SystemTime};

use actix_web::dev::{Extensions, Service};
use actix_web::http::KeepAlive;
use actix_web::middleware::{from_fn, Logger};
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use log::{info, warn};

use crate::admin::routes::{self as admin_routes, AdminToken};
use crate::app_state::{AppState, ReloadRecord};
use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::cli::RawArgs;
use crate::config::Config;
use crate::device_api::request_limits;
use crate::device_api::routes::{self, LocalAddr};
use crate::model::unix_time::unix;
use crate::reload::reloader::Reloader;

/// One access-log line per request: client, request line, status, bytes, seconds, User-Agent.
const ACCESS_LOG: &str = r#"%a "%r" %s %b %Ts "%{User-Agent}i""#;

/// Scans, logs what devices will be offered, and serves until SIGINT/SIGTERM, then lets
/// running requests (downloads) finish for up to `shutdown_timeout`.
/// `raw` is kept to re-read the configuration on reload with the same flags laid over it.
pub async fn serve(config: Config, raw: RawArgs) -> Result<()> {
    let started = Instant::now();
    let snapshot = Snapshot::scan(&config, SystemTime::now(), None, &WriteLedger::default());
    log_snapshot(&snapshot);
    let outcome = snapshot_report::current_line(&snapshot);
    let state = web::Data::new(
        AppState::new(snapshot, config.fleet_max_devices, config.request_timeout)
            .context("cannot set up metrics")?,
    );
    state.record_reload(ReloadRecord {
        at: unix(SystemTime::now()),
        trigger: "startup",
        outcome,
        ok: true,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    let reloader = Reloader::new(state.clone(), raw, config.clone());
    let drain = config.shutdown_timeout.as_secs();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let keep_alive = if config.keep_alive.is_zero() {
        KeepAlive::Disabled
    } else {
        KeepAlive::Timeout(config.keep_alive)
    };

    let device_state = state.clone();
    let devices = HttpServer::new(move || {
        App::new()
            .app_data(device_state.clone())
            .wrap(from_fn(request_limits::enforce))
            .wrap(Logger::new(ACCESS_LOG))
            .wrap_fn(|req, service| {
                let began = Instant::now();
                let state = req.app_data::<web::Data<AppState>>().cloned();
                let response = service.call(req);
                async move {
                    let response = response.await?;
                    if let Some(state) = state {
                        let route = response
                            .request()
                            .match_pattern()
                            .unwrap_or_else(|| "other".into());
                        state
                            .metrics
                            .request(&route, response.status().as_u16(), began.elapsed());
                    }
                    Ok(response)
                }
            })
            .configure(routes::configure)
    })
    .on_connect(record_local_addr)
    .workers(workers)
    .max_connections((config.max_connections / workers).max(1))
    .client_request_timeout(config.request_timeout)
    .keep_alive(keep_alive)
    .shutdown_timeout(drain)
    .bind(config.listen)
    .with_context(|| format!("cannot listen on {}", config.listen))?;
    let device_addrs = devices.addrs();

    let admin = match config.admin_listen {
        Some(addr) => {
            let admin_state = state.clone();
            let token = web::Data::new(AdminToken(config.admin_token.clone()));
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(admin_state.clone())
                    .app_data(token.clone())
                    .wrap(from_fn(admin_routes::require_token))
                    .configure(admin_routes::configure)
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(addr)
            .with_context(|| format!("cannot listen on {addr} (admin_listen)"))?;
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
    for addr in device_addrs {
        info!("listening on {addr}");
    }
    let result = devices.run().await.context("the HTTP server failed");
    info!("stopped");
    if let Some(handle) = admin_handle {
        handle.stop(true).await;
    }
    result
}

/// Logs the summary lines and every problem of a snapshot.
pub fn log_snapshot(snapshot: &Snapshot) {
    info!("{}", snapshot_report::current_line(snapshot));
    info!("{}", snapshot_report::critical_line(snapshot));
    info!("{}", snapshot_report::licenses_line(snapshot));
    for problem in snapshot_report::errors(snapshot) {
        warn!("{problem}");
    }
    for warning in snapshot_report::warnings(snapshot) {
        warn!("{warning}");
    }
}

/// Keeps the address each connection arrived on, for URLs to HTTP/1.0 clients without Host.
fn record_local_addr(connection: &dyn Any, data: &mut Extensions) {
    if let Some(addr) = connection
        .downcast_ref::<TcpStream>()
        .and_then(|s| s.local_addr().ok())
    {
        data.insert(LocalAddr(addr));
    }
}
