//! Talking to the running server from a command (`reload`, `publish`, `withdraw`): one
//! HTTP/1.1 request to its admin listener (with the operator's token) or its device listener,
//! the status and body back. A server listening on every address is asked on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::config::Config;
use crate::model::lang::{fill, Lang};
use crate::words::{cause_in, chain_in, Said};

/// The status code and body of one request to the admin listener, with `token` (the
/// command's `--token` / `KKT_TOKEN`, else `admin_token`: `ServerToken::or_admin_token`) as
/// `Authorization: Bearer`, which never needs a form's CSRF token.
pub fn admin(
    config: &Config,
    token: Option<&str>,
    method: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, String)> {
    let Some(admin) = config.admin_listen else {
        bail!(Said::new(|w| w.operator.client_no_admin.to_string()));
    };
    // Only what a header may carry: a token with a line break would be a second header.
    if token.is_some_and(|t| !t.bytes().all(|b| b.is_ascii_graphic())) {
        bail!(Said::new(|w| w.operator.client_token_chars.to_string()));
    }
    let auth = token.map_or_else(String::new, |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let (status, body) = exchange(admin, Listener::Admin, method, path, &auth, timeout)?;
    if status == 401 {
        bail!(Said::new(|w| w.operator.client_token_refused.to_string()));
    }
    if status == 403 {
        // The server's own sentence (the role needed), in English as it sends it.
        let said = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| body.clone());
        bail!(Said::new(|w| fill(
            w.operator.client_forbidden,
            &[("body", &said)]
        )));
    }
    Ok((status, body))
}

/// The status of a `HEAD` of `path` on the device listener with `If-None-Match: "<etag>"`:
/// 304 when the server serves exactly those bytes, 200 other bytes, 404 none.
pub fn device_head(config: &Config, path: &str, etag: &str) -> Result<u16> {
    let header = format!("If-None-Match: \"{etag}\"\r\n");
    let (status, _) = exchange(
        config.listen,
        Listener::Device,
        "HEAD",
        path,
        &header,
        Duration::from_secs(5),
    )?;
    Ok(status)
}

/// Which of the server's listeners a command asks.
#[derive(Clone, Copy)]
enum Listener {
    Admin,
    Device,
}

fn exchange(
    listener: SocketAddr,
    which: Listener,
    method: &str,
    path: &str,
    headers: &str,
    timeout: Duration,
) -> Result<(u16, String)> {
    let target = if listener.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), listener.port())
    } else {
        listener
    };
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(5)).map_err(|e| {
        Said::new(|w| {
            let which = match which {
                Listener::Admin => w.operator.client_admin,
                Listener::Device => w.operator.client_device,
            };
            fill(
                w.operator.client_unreachable,
                &[("which", &which), ("target", &target)],
            ) + ": "
                + &cause_in(&e, w.lang)
        })
    })?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {target}\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.trim().to_string()))
}

/// How a wait on the device listener ended.
#[derive(Debug)]
pub enum Waited {
    /// The wanted status came, after this long.
    Answered(Duration),
    /// Nobody answers on the device listener (why).
    NoServer(String),
    /// `give_up` said why.
    GaveUp(String),
    TimedOut,
}

/// Asks `HEAD path` with `If-None-Match: "<etag>"` every 200 ms until the answer is
/// `wanted`, `give_up` returns a reason, nobody answers (after a second of trying: a server
/// just started may not listen yet), or `timeout` passes.
pub fn wait_for_device(
    config: &Config,
    path: &str,
    etag: &str,
    wanted: u16,
    timeout: Duration,
    give_up: &mut dyn FnMut() -> Option<String>,
) -> Waited {
    let started = std::time::Instant::now();
    loop {
        match device_head(config, path, etag) {
            Ok(status) if status == wanted => return Waited::Answered(started.elapsed()),
            Ok(_) => {}
            Err(_) if started.elapsed() < Duration::from_secs(1) => {}
            Err(e) => return Waited::NoServer(chain_in(&*e, Lang::operator())),
        }
        if let Some(reason) = give_up() {
            return Waited::GaveUp(reason);
        }
        if started.elapsed() > timeout {
            return Waited::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
