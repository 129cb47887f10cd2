//! Native TLS against the real binary: a client that verifies against a test CA gets 200s
//! and `https://` download URLs; certificate files replaced while the server runs (as
//! certbot renews) are seen by new handshakes within seconds; a broken or mismatched pair
//! keeps the last good one serving; the admin listener over HTTPS; `check` validates the
//! pair. Certificates are made by the `openssl` command (CI installs it).

use crate::common;
use crate::tls_certs;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::common::{eventually, run_check, Fixture, Server, DEADLINE};
use crate::tls_certs::{
    address_in_log, check_request, client_config, der_of, have_openssl, https, https_from,
    https_poll, make_ca, make_cert, start_with_tls,
};

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
    let output = crate::common::server_command()
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

#[test]
fn sigterm_lets_a_download_over_tls_finish() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    let folder = fixture.release("20180125", None);
    // Larger than the socket buffers, so the server cannot have written it all already.
    let big: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    fs::write(folder.join("upd_app.bin"), &big).expect("write");
    let (server, ca) = start_with_tls(
        &fixture,
        &["--tls-listen", "127.0.0.1:0", "--shutdown-timeout-s", "20"],
    );
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    let mut stream = tls_certs::connect(tls_addr, &ca);
    write!(
        stream,
        "GET /firmware/20180125/upd_app.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    // Read a little, so the download is under way, then ask the server to stop.
    let mut first = vec![0u8; 64 * 1024];
    stream.read_exact(&mut first).expect("first bytes");
    common::signal(server.pid(), "TERM");
    assert!(server.wait_for_log("SIGTERM", DEADLINE), "{}", server.log());
    // Both listeners stop taking connections while the download goes on.
    eventually("the TLS listener closed", DEADLINE, || {
        TcpStream::connect(tls_addr).is_err().then_some(())
    });
    eventually("the plain listener closed", DEADLINE, || {
        TcpStream::connect(server.addr).is_err().then_some(())
    });
    // A slow device: the server must wait for it, not cut it off.
    std::thread::sleep(Duration::from_millis(1500));
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let mut all = first;
    all.extend_from_slice(&rest);
    let body_start = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    assert!(
        all[body_start..] == big[..],
        "the download over TLS completed intact ({} of {} bytes)",
        all.len() - body_start,
        big.len()
    );
    assert!(
        server.wait_for_log("] stopped", DEADLINE),
        "{}",
        server.log()
    );
}

/// A register polling again resumes its TLS session from a ticket, even after more other
/// registers have connected than a server-side cache of sessions holds (rustls's is 256):
/// the fleet's polls are not full handshakes.
#[test]
fn a_register_resumes_its_tls_session_after_hundreds_of_others() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let (server, ca) = start_with_tls(&fixture, &["--tls-listen", "127.0.0.1:0"]);
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    let request = check_request(&format!("localhost:{}", tls_addr.port()));
    let register = client_config(&ca);
    let (status, first) = https_from(&register, tls_addr, &request);
    assert_eq!((status, first), (200, rustls::HandshakeKind::Full));
    let (status, again) = https_from(&register, tls_addr, &request);
    assert_eq!((status, again), (200, rustls::HandshakeKind::Resumed));
    // 300 other registers, each with its own client (its own sessions).
    for _ in 0..300 {
        let other = client_config(&ca);
        let (status, _) = https_from(&other, tls_addr, &request);
        assert_eq!(status, 200);
    }
    let (status, later) = https_from(&register, tls_addr, &request);
    assert_eq!((status, later), (200, rustls::HandshakeKind::Resumed));
}

/// Counts the TLS 1.3 tickets a client is given, keeping them as rustls's own store does.
#[derive(Debug)]
struct CountedTickets {
    store: rustls::client::ClientSessionMemoryCache,
    tickets: std::sync::atomic::AtomicUsize,
}

impl rustls::client::ClientSessionStore for CountedTickets {
    fn set_kx_hint(&self, name: rustls::pki_types::ServerName<'static>, group: rustls::NamedGroup) {
        self.store.set_kx_hint(name, group)
    }
    fn kx_hint(&self, name: &rustls::pki_types::ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.store.kx_hint(name)
    }
    fn set_tls12_session(
        &self,
        name: rustls::pki_types::ServerName<'static>,
        value: rustls::client::Tls12ClientSessionValue,
    ) {
        self.store.set_tls12_session(name, value)
    }
    fn tls12_session(
        &self,
        name: &rustls::pki_types::ServerName<'_>,
    ) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.store.tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &rustls::pki_types::ServerName<'static>) {
        self.store.remove_tls12_session(name)
    }
    fn insert_tls13_ticket(
        &self,
        name: rustls::pki_types::ServerName<'static>,
        value: rustls::client::Tls13ClientSessionValue,
    ) {
        self.tickets
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.store.insert_tls13_ticket(name, value)
    }
    fn take_tls13_ticket(
        &self,
        name: &rustls::pki_types::ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.store.take_tls13_ticket(name)
    }
}

/// A client that lists AES-256-GCM-SHA384 first (rustls's order, and Java's) gets the
/// server's first choice, AES-128-GCM-SHA256 (its key schedule on SHA-256, cheaper), and
/// one ticket per handshake, enough to resume the next poll, which brings another.
#[test]
fn a_handshake_gets_the_servers_suite_and_one_ticket_per_poll() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let (server, ca) = start_with_tls(&fixture, &["--tls-listen", "127.0.0.1:0"]);
    let tls_addr = address_in_log(&server, "listening for HTTPS on ");
    let request = check_request(&format!("localhost:{}", tls_addr.port()));
    let counted = std::sync::Arc::new(CountedTickets {
        store: rustls::client::ClientSessionMemoryCache::new(32),
        tickets: Default::default(),
    });
    let mut config = (*client_config(&ca)).clone();
    assert_eq!(
        config.crypto_provider().cipher_suites[0].suite(),
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
        "the client prefers AES-256 (what the server overrides)"
    );
    config.resumption = rustls::client::Resumption::store(counted.clone());
    let config = std::sync::Arc::new(config);
    let tickets = || counted.tickets.load(std::sync::atomic::Ordering::SeqCst);
    for (poll, kind) in [
        (1, rustls::HandshakeKind::Full),
        (2, rustls::HandshakeKind::Resumed),
        (3, rustls::HandshakeKind::Resumed),
    ] {
        let answered = https_poll(&config, tls_addr, &request);
        assert_eq!(
            answered,
            (
                200,
                kind,
                Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
            ),
            "poll {poll}"
        );
        assert_eq!(
            tickets(),
            poll,
            "one ticket per handshake, after poll {poll}"
        );
    }
}
