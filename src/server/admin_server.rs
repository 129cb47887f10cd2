//! The admin listener: status, metrics, the dashboard and the operator's actions, behind
//! the token and host guard, on one worker of its own so that devices never wait for it.

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::{Context, Result};
use log::info;

use super::device_server::TLS_HANDSHAKE_TIMEOUT;
use super::{operator_log, LOG};
use crate::admin::access_guard::{self, AdminListener};
use crate::admin::csrf::CsrfKey;
use crate::admin::login_failures::LoginFailures;
use crate::admin::routes as admin_routes;
use crate::admin::sessions::Sessions;
use crate::app_state::AppState;
use crate::config::Config;
use crate::model::lang::fill;

/// Connections the admin listener serves at once; more wait in the kernel's queue.
const ADMIN_MAX_CONNECTIONS: usize = 256;

/// Starts the admin server on `listener`, over HTTPS when `tls` is given (`tls_admin`),
/// and returns its handle, to stop it after the device servers.
pub(super) fn start(
    config: &Config,
    state: &web::Data<AppState>,
    listener: TcpListener,
    tls: Option<&rustls::ServerConfig>,
) -> Result<ServerHandle> {
    let state = state.clone();
    let listener_settings = web::Data::new(AdminListener {
        hosts: config.admin_hosts.clone(),
    });
    let sessions = web::Data::new(Sessions::new(config.session_ttl, tls.is_some()));
    let csrf_key = web::Data::new(CsrfKey::new().map_err(anyhow::Error::msg)?);
    let login_failures = web::Data::new(LoginFailures::new());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(listener_settings.clone())
            .app_data(sessions.clone())
            .app_data(csrf_key.clone())
            .app_data(login_failures.clone())
            .wrap(from_fn(access_guard::guard))
            // No page of this listener may be framed by another site's: a framed dashboard
            // would carry its own CSRF token into clicks the operator did not mean
            // (clickjacking, the way around a form's token).
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'")),
            )
            .configure(admin_routes::configure)
    })
    .workers(1)
    // Operators, a dashboard and a Prometheus: a few connections. actix's default
    // (25,000) would let a flood of the admin port take the open files devices need.
    .max_connections(ADMIN_MAX_CONNECTIONS)
    .tls_handshake_timeout(TLS_HANDSHAKE_TIMEOUT)
    .disable_signals()
    .shutdown_timeout(1);
    let server = match tls {
        Some(tls) => server
            .listen_rustls_0_23(listener, tls.clone())
            .context("cannot serve HTTPS on the admin socket")?,
        None => server
            .listen(listener)
            .context("cannot serve on the admin socket")?,
    };
    let words = operator_log();
    let token = if !config.operator_table().is_empty() {
        words.token_required
    } else {
        ""
    };
    for addr in server.addrs() {
        info!(
            target: LOG,
            "{}",
            fill(words.admin_listening, &[("addr", &addr), ("token", &token)])
        );
    }
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Ok(handle)
}
