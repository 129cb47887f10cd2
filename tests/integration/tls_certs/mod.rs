//! Certificates and an HTTPS client for the TLS tests (modules `tls`, `tls_flood`, and
//! `operators` for the admin listener over TLS): a test CA and server certificates made by
//! the `openssl` command (CI installs it), the server started with one, and one verified
//! HTTPS request at a time.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};

use crate::common::{Fixture, Server, DEADLINE};

pub fn have_openssl() -> bool {
    crate::common::require_tool("openssl")
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test CA in `dir` (ca.pem, ca.key).
pub fn make_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=kkt test CA",
        ],
    );
    fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext");
}

/// A server certificate `<name>.pem` with its key `<name>.key`, signed by the CA.
pub fn make_cert(dir: &Path, name: &str) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN=localhost {name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

pub fn der_of(pem_path: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_file_iter(pem_path)
        .expect("pem")
        .next()
        .expect("a certificate")
        .expect("parse")
        .to_vec()
}

/// One HTTPS request verified against the test CA; the status, the body and the
/// certificate the server presented.
pub fn https(addr: SocketAddr, ca: &Path, request: &str) -> (u16, String, Vec<u8>) {
    try_https(addr, ca, request, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"))
}

/// A TLS client for `localhost` that trusts the test CA in `ca`.
fn client(ca: &Path) -> rustls::ClientConnection {
    let name = ServerName::try_from("localhost").expect("name");
    rustls::ClientConnection::new(client_config(ca), name).expect("client")
}

/// The configuration of a client that trusts the test CA: connections made from one
/// configuration share its store of sessions to resume (rustls's default: in memory).
pub fn client_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("ca") {
        roots.add(cert.expect("ca cert")).expect("add");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Arc::new(config)
}

/// One HTTPS request from `config` (its sessions kept for the next); the answer's status
/// and whether the handshake was full or resumed.
pub fn https_from(
    config: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    request: &str,
) -> (u16, rustls::HandshakeKind) {
    let (status, kind, _) = https_poll(config, addr, request);
    (status, kind)
}

/// `https_from`, with the suite the handshake settled on.
pub fn https_poll(
    config: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    request: &str,
) -> (u16, rustls::HandshakeKind, Option<rustls::CipherSuite>) {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(config.clone(), name).expect("client");
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    // Reading to the end also takes the tickets the server sends after the handshake.
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let kind = stream.conn.handshake_kind().expect("handshake done");
    let suite = stream.conn.negotiated_cipher_suite().map(|s| s.suite());
    (status, kind, suite)
}

/// An open TLS stream to `addr` (the handshake happens on the first write).
pub fn connect(
    addr: SocketAddr,
    ca: &Path,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    rustls::StreamOwned::new(client(ca), tcp)
}

/// As `https`, but each step (connect, handshake, each read and write) gives up after
/// `limit`, and a failure is returned, not a panic: for tests that time the answer.
pub fn try_https(
    addr: SocketAddr,
    ca: &Path,
    request: &str,
    limit: Duration,
) -> Result<(u16, String, Vec<u8>), String> {
    let tcp = TcpStream::connect_timeout(&addr, limit).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(limit)).expect("timeout");
    tcp.set_write_timeout(Some(limit)).expect("timeout");
    let mut stream = rustls::StreamOwned::new(client(ca), tcp);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("handshake or send: {e}"))?;
    let mut answer = Vec::new();
    // The server may close without close_notify after `Connection: close`: keep what came.
    let _ = stream.read_to_end(&mut answer);
    let presented = stream
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body, presented))
}

pub fn check_request(host: &str) -> String {
    let body = r#"{"build_date": "1.1.2018"}"#;
    format!(
        "POST /check_firmware HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

pub fn address_in_log(server: &Server, marker: &str) -> SocketAddr {
    assert!(server.wait_for_log(marker, DEADLINE), "{}", server.log());
    server
        .log()
        .lines()
        .find_map(|l| l.split(marker).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .expect("an address after the marker")
}

/// A test CA and a certificate for localhost in `fixture`'s `certs/` (`certs/a.pem` and
/// `certs/a.key`, signed by `certs/ca.pem`), and the server started with that certificate
/// and `args` (the listener that speaks TLS: `--tls-listen 127.0.0.1:0`, or
/// `--admin-listen 127.0.0.1:0 --admin-tls true`; and any other flag): the server and the
/// CA's path, for the clients to verify it.
pub fn start_with_tls(fixture: &Fixture, args: &[&str]) -> (Server, PathBuf) {
    let certs = fixture.path("certs");
    fs::create_dir(&certs).expect("certs");
    make_ca(&certs);
    make_cert(&certs, "a");
    let mut all = vec!["--tls-cert", "certs/a.pem", "--tls-key", "certs/a.key"];
    all.extend_from_slice(args);
    let server = Server::start(fixture.dir.path(), &all, &[]);
    (server, certs.join("ca.pem"))
}
