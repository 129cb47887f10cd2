//! Native TLS against the real binary: a client that verifies against a test CA gets 200s
//! and `https://` download URLs; certificate files replaced while the server runs (as
//! certbot renews) are seen by new handshakes within seconds; a broken or mismatched pair
//! keeps the last good one serving; the admin listener over HTTPS; `check` validates the
//! pair. Certificates are made by the `openssl` command (CI installs it).

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{eventually, run_check, Fixture, Server, BIN, DEADLINE};
use rustls::pki_types::{CertificateDer, ServerName};

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install openssl (.ci/run does)"
        );
        eprintln!("skipped: no openssl here (CI installs it)");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) {
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
fn make_ca(dir: &Path) {
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
fn make_cert(dir: &Path, name: &str) {
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

fn der_of(pem_path: &Path) -> Vec<u8> {
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
fn https(addr: SocketAddr, ca: &Path, request: &str) -> (u16, String, Vec<u8>) {
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
    let name = ServerName::try_from("localhost").expect("name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
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
    (status, body, presented)
}

fn check_request(host: &str) -> String {
    let body = r#"{"build_date": "1.1.2018"}"#;
    format!(
        "POST /check_firmware HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn address_in_log(server: &Server, marker: &str) -> SocketAddr {
    assert!(server.wait_for_log(marker, DEADLINE), "{}", server.log());
    server
        .log()
        .lines()
        .find_map(|l| l.split(marker).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .expect("an address after the marker")
}

/// Replaces a file the way certbot does: write aside, then rename over.
fn replace(target: &Path, from: &Path) {
    let temp = target.with_extension("new");
    fs::copy(from, &temp).expect("copy");
    fs::rename(&temp, target).expect("rename");
}

#[test]
fn https_with_a_renewal_and_a_broken_pair() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let certs = fixture.path("certs");
    fs::create_dir(&certs).expect("certs");
    make_ca(&certs);
    make_cert(&certs, "a");
    make_cert(&certs, "b");
    make_cert(&certs, "c");
    fs::copy(certs.join("a.pem"), certs.join("fullchain.pem")).expect("cert");
    fs::copy(certs.join("a.key"), certs.join("privkey.pem")).expect("key");
    let server = Server::start(
        fixture.dir.path(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-cert",
            "certs/fullchain.pem",
            "--tls-key",
            "certs/privkey.pem",
            "--admin-listen",
            "127.0.0.1:0",
            "--admin-tls",
            "true",
        ],
        &[],
    );
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    let ca = certs.join("ca.pem");
    let host = format!("localhost:{}", tls_addr.port());
    let (status, body, presented) = https(tls_addr, &ca, &check_request(&host));
    assert_eq!(status, 200, "{body}");
    assert_eq!(presented, der_of(&certs.join("a.pem")));
    let answer: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        answer["url"],
        format!("https://{host}/firmware/20180125/upd_app.bin")
    );
    // Plain HTTP keeps working beside it, with http:// URLs, for devices that cannot do TLS.
    let plain = server.check_firmware("1.1.2018");
    assert!(
        plain["url"].as_str().expect("url").starts_with("http://"),
        "{plain}"
    );
    // The admin listener speaks HTTPS too.
    let admin = common::admin_addr(&server);
    let (status, body, _) = https(
        admin,
        &ca,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{body}");
    // /status and /metrics say when the certificate expires (made for two days).
    let (_, body, _) = https(
        admin,
        &ca,
        "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    let report: serde_json::Value = serde_json::from_str(&body).expect("status");
    let days = report["tls"]["days_left"].as_i64().expect("days_left");
    assert!((1..=2).contains(&days), "{}", report["tls"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let expires = report["tls"]["expires_at"].as_i64().expect("expires_at");
    assert!(
        (now + 86_400..=now + 2 * 86_400 + 60).contains(&expires),
        "{expires} vs {now}"
    );
    let (_, metrics, _) = https(
        admin,
        &ca,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics.contains(&format!(
            "kkt_tls_certificate_expires_timestamp_seconds {expires}"
        )),
        "{metrics}"
    );

    // certbot renews: key first, then the chain. New handshakes get b within seconds.
    replace(&certs.join("privkey.pem"), &certs.join("b.key"));
    replace(&certs.join("fullchain.pem"), &certs.join("b.pem"));
    let b = der_of(&certs.join("b.pem"));
    eventually("the renewed certificate served", DEADLINE, || {
        let (status, _, presented) = https(tls_addr, &ca, &check_request(&host));
        (status == 200 && presented == b).then_some(())
    });
    assert!(server.wait_for_log("new connections get the new one", DEADLINE));

    // A chain whose key does not match: refused, b keeps serving.
    replace(&certs.join("fullchain.pem"), &certs.join("c.pem"));
    assert!(
        server.wait_for_log("does not belong to the certificate", DEADLINE),
        "{}",
        server.log()
    );
    let (status, _, presented) = https(tls_addr, &ca, &check_request(&host));
    assert_eq!((status, presented == b), (200, true));
    // Garbage: refused as well.
    fs::write(certs.join("fullchain.pem"), "not a certificate").expect("garbage");
    assert!(
        server.wait_for_log("holds no certificate", DEADLINE),
        "{}",
        server.log()
    );
    let (status, _, presented) = https(tls_addr, &ca, &check_request(&host));
    assert_eq!((status, presented == b), (200, true));
    // The matching pair again: taken.
    replace(&certs.join("privkey.pem"), &certs.join("c.key"));
    let c = der_of(&certs.join("c.pem"));
    replace(&certs.join("fullchain.pem"), &certs.join("c.pem"));
    eventually("the mended pair served", DEADLINE, || {
        let (status, _, presented) = https(tls_addr, &ca, &check_request(&host));
        (status == 200 && presented == c).then_some(())
    });
}

#[test]
fn check_and_start_up_refuse_a_bad_pair_in_plain_words() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let certs = fixture.path("certs");
    fs::create_dir(&certs).expect("certs");
    make_ca(&certs);
    make_cert(&certs, "a");
    make_cert(&certs, "b");
    fixture.write_config(
        "settle_ms: 0\ntls_listen: 127.0.0.1:0\ntls_cert: certs/a.pem\ntls_key: certs/b.key\n",
    );
    let (passed, report, _) = run_check(fixture.dir.path());
    assert!(!passed, "{report}");
    assert!(
        report.contains("does not belong to the certificate in tls_cert"),
        "{report}"
    );
    let output = Command::new(BIN)
        .current_dir(fixture.dir.path())
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .output()
        .expect("serve");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("does not belong to the certificate"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fixture.write_config("tls_listen: 127.0.0.1:0\n");
    let (passed, _, errors) = run_check(fixture.dir.path());
    assert!(!passed);
    assert!(
        errors.contains("tls_listen and admin_tls need tls_cert and tls_key"),
        "{errors}"
    );
    // The good pair passes.
    fixture.write_config(
        "settle_ms: 0\ntls_listen: 127.0.0.1:0\ntls_cert: certs/a.pem\ntls_key: certs/a.key\n",
    );
    let (passed, report, _) = run_check(fixture.dir.path());
    assert!(passed, "{report}");
    assert!(report.contains("tls: 1 certificate(s) in"), "{report}");
}
