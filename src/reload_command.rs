//! `kkt-update-server reload`: asks the running server to rescan now, through its admin
//! listener (`POST /reload`, with the admin token when one is set). The same on every
//! system: on Windows, where there is no SIGHUP, it is the way to say "reload".

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine;

use crate::config::Config;

/// Sends the request; the server's answer on success.
pub fn run(config: &Config) -> Result<String> {
    let Some(admin) = config.admin_listen else {
        bail!(
            "admin_listen is off, so there is nobody to ask; set admin_listen (the reload \
             goes through it) or, on Unix, send SIGHUP"
        );
    };
    // A server listening on every address is asked on loopback.
    let target = if admin.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), admin.port())
    } else {
        admin
    };
    let mut stream =
        TcpStream::connect_timeout(&target, Duration::from_secs(5)).with_context(|| {
            format!("cannot reach the server's admin listener at {target}; is it running?")
        })?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = config
        .admin_token
        .as_ref()
        .map_or_else(String::new, |token| {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("reload:{token}"));
            format!("Authorization: Basic {basic}\r\n")
        });
    write!(
        stream,
        "POST /reload HTTP/1.1\r\nHost: {target}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap_or("");
    match status {
        "200" => Ok(body.trim().to_string()),
        "401" => bail!("the admin token was refused: set KKT_ADMIN_TOKEN (or admin_token) as the server has it"),
        _ => bail!("the server answered {status}: {}", body.trim()),
    }
}
