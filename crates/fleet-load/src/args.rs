//! The command line, and the checks that turn it into a `Plan`. fleet-load is a bench tool:
//! it loads only this machine's loopback (127.0.0.0/8), from loopback source addresses, in
//! bounded numbers, and every refusal names the flag, the value and what is expected.
//! bench/run.sh and bench/tls.sh rely on these flag names.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use rustls_pki_types::ServerName;

use crate::addresses::Registers;
use crate::http::{request_bytes, RequestParts};

/// Most concurrent workers.
pub const MAX_CONNECTIONS: u64 = 4096;
/// Most registers (distinct source addresses).
pub const MAX_REGISTERS: u64 = 16_000_000;
/// Most requests in a run, and the longest run.
const MAX_REQUESTS: u64 = 1_000_000_000;
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most extra headers, and the largest body (the server's own limit is 16 KiB).
const MAX_HEADERS: usize = 32;
const MAX_BODY: usize = 16 * 1024;
const MAX_PATH: usize = 2048;

/// Plays registers polling a server on this machine, each from its own loopback address,
/// over HTTP or HTTPS; prints one line of `key=value` results.
#[derive(Debug, Parser)]
#[command(name = "fleet-load", version)]
pub struct Cli {
    /// The server: an address in 127.0.0.0/8 and a port (127.0.0.1:8080).
    #[arg(long, value_name = "127.0.0.1:PORT")]
    pub target: String,
    /// Distinct source addresses, one per register.
    #[arg(long, default_value_t = 1)]
    pub registers: u64,
    /// The first register's address; register i binds the i-th after it (skipping .0, .255).
    #[arg(long, default_value = "127.1.0.1")]
    pub source_base: String,
    /// Concurrent workers.
    #[arg(long, default_value_t = 64)]
    pub connections: u64,
    /// Stop after this long (10s, 500ms, 2m); the default is 10s.
    #[arg(long, conflicts_with = "requests")]
    pub duration: Option<String>,
    /// Stop after this many requests in all.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Each request on a new TCP (and TLS) connection with `Connection: close`, as a
    /// register's poll; without it each worker keeps one keep-alive connection.
    #[arg(long)]
    pub new_connection: bool,
    #[arg(long, default_value = "POST")]
    pub method: String,
    #[arg(long, default_value = "/check_firmware")]
    pub path: String,
    #[arg(long, default_value = r#"{"build_date": "28.12.2017"}"#)]
    pub body: String,
    /// An extra header, `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// HTTPS, the server's certificate verified against --ca.
    #[arg(long)]
    pub tls: bool,
    /// The name the certificate must carry.
    #[arg(long, default_value = "localhost")]
    pub server_name: String,
    /// The CA that signed the server's certificate (PEM).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// TLS 1.3 session resumption by tickets; without it every handshake is full.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 200)]
    pub expect_status: u16,
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    After(Duration),
    Requests(u64),
}

/// HTTPS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub server_name: ServerName<'static>,
    pub ca: PathBuf,
    pub resume: bool,
}

/// A checked run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub target: SocketAddr,
    pub registers: Registers,
    pub connections: usize,
    pub stop: Stop,
    pub new_connection: bool,
    pub request: Vec<u8>,
    pub tls: Option<Tls>,
    pub expect_status: u16,
}

impl Plan {
    pub fn from_cli(cli: Cli) -> Result<Plan, String> {
        let target = target(&cli.target)?;
        let (registers, connections) = counts(&cli)?;
        let tls = tls(&cli)?;
        check_request(&cli)?;
        let host = match &tls {
            Some(_) => format!("{}:{}", cli.server_name, target.port()),
            None => target.to_string(),
        };
        let request = request_bytes(&RequestParts {
            method: cli.method.clone(),
            path: cli.path.clone(),
            host,
            body: cli.body.clone(),
            headers: cli.headers.clone(),
            close: cli.new_connection,
        });
        if !(100..=599).contains(&cli.expect_status) {
            return Err(format!(
                "--expect-status {}: expected an HTTP status from 100 to 599",
                cli.expect_status
            ));
        }
        Ok(Plan {
            target: SocketAddr::V4(target),
            registers,
            connections,
            stop: stop(&cli)?,
            new_connection: cli.new_connection,
            request,
            tls,
            expect_status: cli.expect_status,
        })
    }
}

fn target(text: &str) -> Result<SocketAddrV4, String> {
    let parsed: SocketAddr = text.parse().map_err(|_| {
        format!("--target {text:?}: expected an address and a port, such as 127.0.0.1:8080")
    })?;
    match parsed {
        SocketAddr::V4(v4) if v4.ip().is_loopback() && v4.port() != 0 => Ok(v4),
        SocketAddr::V4(v4) if v4.ip().is_loopback() => Err(format!(
            "--target {text}: port 0 is no server's port; give the port it listens on"
        )),
        _ => Err(format!(
            "--target {text}: fleet-load loads only this machine's loopback addresses \
             (127.0.0.0/8, for example 127.0.0.1:8080), never another machine"
        )),
    }
}

fn counts(cli: &Cli) -> Result<(Registers, usize), String> {
    if !(1..=MAX_REGISTERS).contains(&cli.registers) {
        return Err(format!(
            "--registers {}: expected 1 to {MAX_REGISTERS}",
            cli.registers
        ));
    }
    if !(1..=MAX_CONNECTIONS).contains(&cli.connections) {
        return Err(format!(
            "--connections {}: expected 1 to {MAX_CONNECTIONS}",
            cli.connections
        ));
    }
    if !cli.new_connection && cli.registers > cli.connections {
        return Err(format!(
            "--registers {} with --connections {}: with keep-alive each worker keeps one \
             connection from one address, so at most {} registers poll; add --new-connection \
             (a new connection per poll, as registers do) or lower --registers",
            cli.registers, cli.connections, cli.connections
        ));
    }
    let base: Ipv4Addr = cli.source_base.parse().map_err(|_| {
        format!(
            "--source-base {:?}: expected an IPv4 address in 127.0.0.0/8, such as 127.1.0.1",
            cli.source_base
        )
    })?;
    let registers = Registers::new(base, cli.registers).map_err(|e| e.to_string())?;
    // Bounded above by MAX_CONNECTIONS.
    Ok((registers, cli.connections as usize))
}

fn stop(cli: &Cli) -> Result<Stop, String> {
    if let Some(n) = cli.requests {
        if !(1..=MAX_REQUESTS).contains(&n) {
            return Err(format!("--requests {n}: expected 1 to {MAX_REQUESTS}"));
        }
        return Ok(Stop::Requests(n));
    }
    let Some(text) = &cli.duration else {
        return Ok(Stop::After(Duration::from_secs(10)));
    };
    match parse_duration(text) {
        Some(d) if !d.is_zero() && d <= MAX_DURATION => Ok(Stop::After(d)),
        _ => Err(format!(
            "--duration {text:?}: expected a time such as 10s, 500ms or 2m (at most 24 hours)"
        )),
    }
}

/// `10s`, `500ms`, `2m`, `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

fn tls(cli: &Cli) -> Result<Option<Tls>, String> {
    if !cli.tls {
        if cli.resume || cli.ca.is_some() {
            return Err("--resume and --ca are for HTTPS: add --tls".into());
        }
        return Ok(None);
    }
    let Some(ca) = cli.ca.clone() else {
        return Err(
            "--tls needs --ca FILE, the CA (PEM) that signed the server's certificate: \
             fleet-load always verifies it"
                .into(),
        );
    };
    let server_name = ServerName::try_from(cli.server_name.clone()).map_err(|_| {
        format!(
            "--server-name {:?}: expected a host name or an IP address, such as localhost",
            cli.server_name
        )
    })?;
    Ok(Some(Tls {
        server_name,
        ca,
        resume: cli.resume,
    }))
}

/// An HTTP token (a method, a header's name): letters, digits and `!#$%&'*+-.^_|~`.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn check_request(cli: &Cli) -> Result<(), String> {
    if !is_token(&cli.method) || cli.method.len() > 16 {
        return Err(format!(
            "--method {:?}: expected an HTTP method such as GET or POST",
            cli.method
        ));
    }
    let path_ok = cli.path.starts_with('/')
        && cli.path.len() <= MAX_PATH
        && cli.path.bytes().all(|b| b.is_ascii_graphic());
    if !path_ok {
        return Err(format!(
            "--path {:?}: expected a path starting with / (printable ASCII, no spaces, at \
             most {MAX_PATH} bytes)",
            cli.path
        ));
    }
    if cli.body.len() > MAX_BODY {
        return Err(format!(
            "--body: {} bytes; at most {MAX_BODY}",
            cli.body.len()
        ));
    }
    if cli.headers.len() > MAX_HEADERS {
        return Err(format!(
            "{} --header flags; at most {MAX_HEADERS}",
            cli.headers.len()
        ));
    }
    cli.headers.iter().try_for_each(|h| check_header(h))
}

fn check_header(header: &str) -> Result<(), String> {
    let Some((name, value)) = header.split_once(':') else {
        return Err(format!("--header {header:?}: expected Name: value"));
    };
    if !is_token(name) || value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(format!(
            "--header {header:?}: expected Name: value (a name of letters, digits and - and a \
             value without line breaks)"
        ));
    }
    let own = ["host", "content-length", "connection", "transfer-encoding"];
    if own.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "--header {header:?}: fleet-load sets {name} itself (Connection through \
             --new-connection)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let cli =
            Cli::try_parse_from(["fleet-load"].iter().chain(args)).map_err(|e| e.to_string())?;
        Plan::from_cli(cli)
    }

    fn refused(args: &[&str], said: &str) {
        let error = plan(args).unwrap_err();
        assert!(error.contains(said), "{args:?}: {error}");
    }

    #[test]
    fn defaults_poll_check_firmware_for_ten_seconds() {
        let plan = plan(&["--target", "127.0.0.1:8080"]).unwrap();
        assert_eq!(plan.target, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(plan.connections, 64);
        assert_eq!(plan.registers.count(), 1);
        assert_eq!(plan.registers.address(0), Ipv4Addr::new(127, 1, 0, 1));
        assert_eq!(plan.stop, Stop::After(Duration::from_secs(10)));
        assert_eq!(plan.tls, None);
        let request = String::from_utf8(plan.request).unwrap();
        assert!(request.starts_with("POST /check_firmware HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(
            request.ends_with("\r\n\r\n{\"build_date\": \"28.12.2017\"}"),
            "{request}"
        );
        assert!(!request.contains("Connection: close"));
    }

    #[test]
    fn a_target_off_loopback_is_refused() {
        for target in [
            "10.0.0.1:80",
            "192.168.1.1:8080",
            "0.0.0.0:8080",
            "[::1]:8080",
        ] {
            refused(&["--target", target], "only this machine's loopback");
        }
        refused(
            &["--target", "example.com:80"],
            "expected an address and a port",
        );
        refused(
            &["--target", "localhost:80"],
            "expected an address and a port",
        );
        refused(&["--target", "127.0.0.1"], "expected an address and a port");
        refused(&["--target", "127.0.0.1:0"], "port 0");
        assert!(plan(&["--target", "127.3.4.5:9"]).is_ok());
    }

    #[test]
    fn a_bad_source_base_is_refused() {
        let t = ["--target", "127.0.0.1:8080", "--new-connection"];
        refused(
            &[&t[..], &["--source-base", "10.1.0.1"]].concat(),
            "must lie in 127.0.0.0/8",
        );
        refused(
            &[&t[..], &["--source-base", "127.1.0"]].concat(),
            "expected an IPv4 address",
        );
        refused(
            &[&t[..], &["--source-base", "::1"]].concat(),
            "expected an IPv4 address",
        );
        refused(
            &[
                &t[..],
                &["--source-base", "127.255.255.1", "--registers", "300"],
            ]
            .concat(),
            "at most 254 registers fit",
        );
    }

    #[test]
    fn counts_are_bounded() {
        let t = ["--target", "127.0.0.1:8080"];
        refused(
            &[&t[..], &["--connections", "4097"]].concat(),
            "expected 1 to 4096",
        );
        refused(
            &[&t[..], &["--connections", "0"]].concat(),
            "expected 1 to 4096",
        );
        refused(
            &[&t[..], &["--new-connection", "--registers", "16000001"]].concat(),
            "expected 1 to 16000000",
        );
        refused(
            &[&t[..], &["--registers", "0"]].concat(),
            "expected 1 to 16000000",
        );
        refused(
            &[&t[..], &["--registers", "65"]].concat(),
            "add --new-connection",
        );
        assert!(plan(&[&t[..], &["--registers", "64"]].concat()).is_ok());
        assert!(plan(&[&t[..], &["--new-connection", "--registers", "16000000"]].concat()).is_ok());
        refused(&[&t[..], &["--requests", "0"]].concat(), "--requests 0");
        refused(&[&t[..], &["--duration", "0s"]].concat(), "--duration");
        refused(&[&t[..], &["--duration", "10"]].concat(), "such as 10s");
        refused(
            &[&t[..], &["--duration", "25h"]].concat(),
            "at most 24 hours",
        );
        refused(
            &[&t[..], &["--duration", "1s", "--requests", "5"]].concat(),
            "cannot be used with",
        );
        let p = plan(&[&t[..], &["--duration", "500ms"]].concat()).unwrap();
        assert_eq!(p.stop, Stop::After(Duration::from_millis(500)));
        let p = plan(&[&t[..], &["--requests", "200"]].concat()).unwrap();
        assert_eq!(p.stop, Stop::Requests(200));
    }

    #[test]
    fn tls_needs_a_ca_and_resume_needs_tls() {
        let t = ["--target", "127.0.0.1:8443"];
        refused(&[&t[..], &["--tls"]].concat(), "--tls needs --ca");
        refused(&[&t[..], &["--resume"]].concat(), "add --tls");
        refused(&[&t[..], &["--ca", "ca.pem"]].concat(), "add --tls");
        refused(
            &[&t[..], &["--tls", "--ca", "ca.pem", "--server-name", "a b"]].concat(),
            "--server-name",
        );
        let p = plan(&[&t[..], &["--tls", "--ca", "ca.pem", "--resume"]].concat()).unwrap();
        let tls = p.tls.unwrap();
        assert!(tls.resume);
        assert_eq!(tls.server_name, ServerName::try_from("localhost").unwrap());
        assert!(String::from_utf8(p.request)
            .unwrap()
            .contains("Host: localhost:8443\r\n"));
    }

    #[test]
    fn requests_that_would_break_the_framing_are_refused() {
        let t = ["--target", "127.0.0.1:8080"];
        refused(&[&t[..], &["--method", "GET /x"]].concat(), "--method");
        refused(&[&t[..], &["--path", "check_firmware"]].concat(), "--path");
        refused(&[&t[..], &["--path", "/a b"]].concat(), "--path");
        refused(
            &[&t[..], &["--header", "X-A: b\r\nX-B: c"]].concat(),
            "without line breaks",
        );
        refused(
            &[&t[..], &["--header", "no colon"]].concat(),
            "expected Name: value",
        );
        refused(
            &[&t[..], &["--header", "Content-Length: 5"]].concat(),
            "sets Content-Length itself",
        );
        refused(
            &[&t[..], &["--header", "connection: keep-alive"]].concat(),
            "itself",
        );
        let big = "x".repeat(MAX_BODY + 1);
        refused(&[&t[..], &["--body", &big]].concat(), "at most 16384");
        let p = plan(
            &[
                &t[..],
                &[
                    "--new-connection",
                    "--method",
                    "GET",
                    "--path",
                    "/check_firmware.json",
                    "--body",
                    "",
                    "--header",
                    "User-Agent: JavaPOS",
                ],
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(p.request).unwrap(),
            "GET /check_firmware.json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: JavaPOS\r\n\
             Connection: close\r\n\r\n"
        );
    }
}
