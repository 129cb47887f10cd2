//! `GET /version`: what is answering, for operators and for the drivers' diagnostics.
//! `susv` and `server` are the reference's keys; the rest describes our environment.

use serde::Serialize;

/// The body of `GET /version`, in this key order.
#[derive(Debug, Serialize)]
pub struct ServerInfo {
    /// The update server's version (the reference's key).
    pub susv: &'static str,
    /// The server software (the reference's key).
    pub server: String,
    pub rust: &'static str,
    pub actix_web: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
}

impl ServerInfo {
    pub fn current() -> ServerInfo {
        ServerInfo {
            susv: env!("CARGO_PKG_VERSION"),
            server: format!("kkt-update-server/{}", env!("CARGO_PKG_VERSION")),
            rust: env!("KKT_RUST_VERSION"),
            actix_web: env!("KKT_ACTIX_WEB_VERSION"),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        }
    }
}
