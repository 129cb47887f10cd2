//! Start-up of the device listener: the first scan, the log lines an operator looks for,
//! and the actix-web server with the access log.

use std::any::Any;
use std::time::SystemTime;

use actix_web::dev::Extensions;
use actix_web::middleware::Logger;
use actix_web::rt::net::TcpStream;
use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use log::{info, warn};

use crate::app_state::AppState;
use crate::cli::RawArgs;
use crate::config::Config;
use crate::reloader::Reloader;
use crate::routes::{self, LocalAddr};
use crate::snapshot::Snapshot;
use crate::snapshot_report;

/// One access-log line per request: client, request line, status, bytes, seconds, User-Agent.
const ACCESS_LOG: &str = r#"%a "%r" %s %b %Ts "%{User-Agent}i""#;

/// Scans, logs what devices will be offered, and serves until SIGINT/SIGTERM.
/// `raw` is kept to re-read the configuration on reload with the same flags laid over it.
pub async fn serve(config: Config, raw: RawArgs) -> Result<()> {
    let snapshot = Snapshot::scan(&config, SystemTime::now(), None);
    log_snapshot(&snapshot);
    let state = web::Data::new(AppState::new(snapshot));
    let reloader = Reloader::new(state.clone(), raw, config.clone());

    let app_state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_state.clone())
            .wrap(Logger::new(ACCESS_LOG))
            .configure(routes::configure)
    })
    .on_connect(record_local_addr)
    .bind(config.listen)
    .with_context(|| format!("cannot listen on {}", config.listen))?;
    actix_web::rt::spawn(reloader.run());
    for addr in server.addrs() {
        info!("listening on {addr}");
    }
    server.run().await.context("the HTTP server failed")
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
