//! The sockets the server serves on: systemd's when it passed them, else bound here. Taken
//! first of all, so that a port in use is said before anything is scanned, and so that
//! with systemd's sockets connections queue in the kernel until they are accepted.

use anyhow::{Context, Result};
use log::info;

use super::{operator_log, LOG};
use crate::config::Config;
use crate::model::lang::fill;
use crate::platform::listen_sockets;

/// The sockets the server serves on.
pub(super) struct Listeners {
    pub device: std::net::TcpListener,
    pub admin: Option<std::net::TcpListener>,
    /// HTTPS for devices (`tls_listen`).
    pub tls: Option<std::net::TcpListener>,
    /// Handles on the device sockets bound here (not systemd's, which keep listening across
    /// restarts), to stop them listening at the start of a drain.
    pub bound_here: Vec<std::net::TcpListener>,
}

/// The device, admin and TLS sockets: systemd's when it passed them (named `device`,
/// `admin`, `tls`), else bound here.
pub(super) fn take(config: &Config) -> Result<Listeners> {
    let mut device = None;
    let mut admin = None;
    let mut tls = None;
    for socket in listen_sockets::inherited().context("cannot take the sockets systemd passed")? {
        let addr = socket
            .listener
            .local_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        info!(
            target: LOG,
            "{}",
            fill(
                operator_log().systemd_socket,
                &[("name", &socket.name), ("addr", &addr)]
            )
        );
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
