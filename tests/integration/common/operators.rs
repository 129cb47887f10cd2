//! What the tests of operators share: a token made by `token new` (the token and the line
//! it prints for `operators:`), the server started with an admin listener, and requests to
//! that listener with chosen headers (a bearer token, a form's content type). One copy, so
//! that the operators', dashboard forms', group views' and attacks' tests send the same
//! bytes and read `token new`'s output the same way.

use std::net::SocketAddr;

use super::{admin_addr, raw_request, server_command, Fixture, Response, Server};

/// The token `token new` printed, and the line for `operators:`.
pub struct Made {
    pub token: String,
    pub line: String,
}

/// Runs `token new` with `args`: fails the test unless it succeeds and prints both a
/// `kkt_` token and an `operators:` line.
pub fn token_new(args: &[&str]) -> Made {
    let output = server_command()
        .args(["token", "new"])
        .args(args)
        .output()
        .expect("run token new");
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = out
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kkt_"))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .to_string();
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("- {name:"))
        .unwrap_or_else(|| panic!("no line in {out}"))
        .to_string();
    Made { token, line }
}

/// The server on `fixture`'s folder with an admin listener on a free port, `envs` set: the
/// server and the admin listener's address.
pub fn start_with_admin(fixture: &Fixture, envs: &[(&str, &str)]) -> (Server, SocketAddr) {
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], envs);
    let admin = admin_addr(&server);
    (server, admin)
}

/// One request to the admin listener, with `headers` and `body`.
pub fn request(
    admin: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {admin}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    raw_request(admin, text.as_bytes())
}

/// The `Authorization` header's value for `token`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The content type of a form post, as a header.
pub const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
