//! The operator surface against the real binary: health and readiness, `/status`,
//! `/metrics`, the token, the fleet view (eviction, trusted and untrusted
//! `X-Forwarded-For`), the dashboard in a real headless browser, the SIGTERM drain, and two
//! instances on one folder answering alike.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::{admin_addr, eventually, raw_request, Fixture, Response, Server};

const DEADLINE: Duration = Duration::from_secs(20);

fn start(fixture: &Fixture, args: &[&str]) -> (Server, SocketAddr) {
    let mut all = vec!["--admin-listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let server = Server::start(fixture.dir.path(), &all, &[]);
    let admin = admin_addr(&server);
    (server, admin)
}

fn admin_get(admin: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    raw_request(admin, request.as_bytes())
}

fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180116", Some("critical: true\ndescription: must have\n"));
    fixture.release("20180125", Some("description: \"Обновление 25.01\"\n"));
    fixture.release("20180201", Some("descripton: typo\n"));
    fixture.write(
        "l.slf",
        format!(
            "{}\nbad line\n",
            common::slf_line("0000000000012345", 'f', 'a')
        ),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [l.slf]\n");
    fixture
}

#[test]
fn healthz_and_readyz() {
    let fixture = deployment();
    let (_server, admin) = start(&fixture, &[]);
    let health = admin_get(admin, "/healthz", &[]);
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = admin_get(admin, "/readyz", &[]);
    assert_eq!(
        (ready.status, ready.json()["current_release"].as_u64()),
        (200, Some(20180125))
    );

    let empty = Fixture::new();
    let (_server, admin) = start(&empty, &[]);
    let ready = admin_get(admin, "/readyz", &[]);
    assert_eq!(ready.status, 503);
    assert!(
        ready.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("no release is published"),
        "{}",
        ready.text()
    );
    // A 503 says whether a file is stale too, as a 200 does (nothing is, here).
    assert_eq!(
        ready.json()["config_stale"],
        serde_json::json!([]),
        "{}",
        ready.text()
    );
    assert_eq!(
        admin_get(admin, "/healthz", &[]).status,
        200,
        "alive even without a release"
    );
}

#[test]
fn status_reports_releases_licenses_reloads_and_requests() {
    let fixture = deployment();
    let (server, admin) = start(&fixture, &[]);
    server.check_firmware("1.1.2018");
    server.post("/feature_licenses", r#"{"serial": "999"}"#);
    let status = admin_get(admin, "/status", &[]).json();
    assert_eq!(status["current_release"]["version"], 20180125);
    assert_eq!(status["current_release"]["description"], "Обновление 25.01");
    assert_eq!(status["critical_version"]["version"], 20180116);
    assert_eq!(status["critical_version"]["source"], "release");
    let releases = status["releases"].as_array().expect("releases");
    let rejected = releases
        .iter()
        .find(|r| r["version"] == 20180201)
        .expect("20180201 listed");
    assert_eq!(rejected["state"], "rejected");
    assert!(
        rejected["reason"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field `descripton`"),
        "{rejected}"
    );
    assert_eq!(
        releases
            .iter()
            .find(|r| r["version"] == 20180125)
            .expect("listed")["state"],
        "current"
    );
    let file = &status["licenses"]["files"][0];
    assert_eq!(file["serials"], 1);
    assert!(
        file["problems"][0]
            .as_str()
            .unwrap_or("")
            .contains("l.slf:2:"),
        "{file}"
    );
    assert_eq!(status["reloads"][0]["trigger"], "startup");
    assert!(status["server"]["uptime_s"].is_u64());
    let requests = status["requests"].as_array().expect("requests");
    let count = |route: &str, code: &str| {
        requests
            .iter()
            .find(|r| r["route"] == route && r["status"] == code)
            .and_then(|r| r["count"].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(count("/check_firmware", "200"), 1);
    assert_eq!(count("/feature_licenses", "404"), 1);
    assert_eq!(status["fleet"]["checked_in_24h"], 1);
    assert_eq!(status["fleet"]["below_critical"], 1);
}

#[test]
fn metrics_in_prometheus_text_format() {
    let fixture = deployment();
    let (server, admin) = start(&fixture, &[]);
    server.check_firmware("1.1.2018"); // critical
    server.check_firmware("20.1.2018"); // update
    server.check_firmware("25.1.2018"); // up to date
    server.post("/feature_licenses", r#"{"serial": 12345}"#);
    server.post("/feature_licenses", r#"{"serial": 1}"#);
    // Downloads keep the label of the pattern that once matched them.
    assert_eq!(
        server.get("/firmware/20180125/upd_app.bin", &[]).status,
        200
    );
    assert_eq!(
        server.get("/firmware/20180125/nothing.bin", &[]).status,
        404
    );
    let response = admin_get(admin, "/metrics", &[]);
    assert_eq!(response.status, 200);
    assert!(response
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text();
    for line in [
        "kkt_check_firmware_total{outcome=\"critical_offered\"} 1",
        "kkt_check_firmware_total{outcome=\"update_offered\"} 1",
        "kkt_check_firmware_total{outcome=\"up_to_date\"} 1",
        "kkt_license_lookups_total{result=\"hit\"} 1",
        "kkt_license_lookups_total{result=\"miss\"} 1",
        "kkt_http_requests_total{route=\"/check_firmware\",status=\"200\"} 3",
        "kkt_http_requests_total{route=\"/feature_licenses\",status=\"404\"} 1",
        "kkt_http_requests_total{route=\"/firmware/{tail:.*}\",status=\"200\"} 1",
        "kkt_http_requests_total{route=\"/firmware/{tail:.*}\",status=\"404\"} 1",
        "kkt_current_release 20180125",
        "kkt_critical_version 20180116",
        "kkt_devices_seen 1",
        "kkt_access_log_dropped_total 0",
        "kkt_reloads_total{outcome=\"ok\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains(
        "kkt_http_request_duration_seconds_bucket{route=\"/check_firmware\",le=\"0.005\"}"
    ));
}

#[test]
fn the_token_guards_every_admin_path() {
    let fixture = deployment();
    let token = "s3cret-token-for-tests";
    let (_server, admin) = start(&fixture, &["--admin-token", token]);
    for path in ["/", "/status", "/metrics", "/healthz", "/readyz"] {
        let missing = admin_get(admin, path, &[]);
        assert_eq!(missing.status, 401, "{path}");
        assert_eq!(
            missing.header("www-authenticate"),
            Some("Basic realm=\"kkt-update-server\", charset=\"UTF-8\""),
            "a browser asks for the password"
        );
        let wrong = admin_get(
            admin,
            path,
            &[("Authorization", "Bearer s3cret-token-for-test")],
        );
        assert_eq!(wrong.status, 401, "{path}");
        let right = admin_get(
            admin,
            path,
            &[("Authorization", &format!("Bearer {token}"))],
        );
        assert_eq!(right.status, 200, "{path}");
        // A browser's login: any user name, the token as the password.
        let basic = admin_get(
            admin,
            path,
            &[(
                "Authorization",
                "Basic b3BlcmF0b3I6czNjcmV0LXRva2VuLWZvci10ZXN0cw==",
            )],
        );
        assert_eq!(basic.status, 200, "{path}");
        let wrong_basic = admin_get(
            admin,
            path,
            &[("Authorization", "Basic b3BlcmF0b3I6d3Jvbmc=")],
        );
        assert_eq!(wrong_basic.status, 401, "{path}");
    }
}

#[test]
fn the_fleet_view_evicts_and_believes_only_trusted_proxies() {
    let fixture = deployment();
    let body = r#"{"build_date": "1.1.2018"}"#;

    // Untrusted: X-Forwarded-For is ignored, every request is 127.0.0.1.
    let (server, admin) = start(&fixture, &[]);
    for ip in ["10.0.0.1", "10.0.0.2"] {
        server.post_with("/check_firmware", body, &[("X-Forwarded-For", ip)]);
    }
    let status = admin_get(admin, "/status", &[]).json();
    assert_eq!(status["fleet"]["devices"], 1);
    assert_eq!(status["devices"][0]["address"], "127.0.0.1");
    drop(server);

    // Trusted, with a cap of 2: the least recently seen of three is forgotten.
    let (server, admin) = start(
        &fixture,
        &[
            "--trusted-proxies",
            "127.0.0.1/32",
            "--fleet-max-devices",
            "2",
        ],
    );
    server.post_with(
        "/check_firmware",
        body,
        &[("X-Forwarded-For", "10.0.0.1"), ("User-Agent", "DrvFR")],
    );
    server.post_with("/check_firmware", body, &[("X-Forwarded-For", "10.0.0.2")]);
    server.post_with(
        "/feature_licenses",
        r#"{"serial": 12345}"#,
        &[("X-Forwarded-For", "10.0.0.1")],
    );
    server.post_with(
        "/check_firmware",
        body,
        &[("X-Forwarded-For", "192.168.7.7, 10.0.0.3")],
    );
    let status = admin_get(admin, "/status", &[]).json();
    assert_eq!(status["fleet"]["devices"], 2);
    let addresses: Vec<&str> = status["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|d| d["address"].as_str())
        .collect();
    assert_eq!(
        addresses,
        ["10.0.0.3", "10.0.0.1"],
        "10.0.0.2 was seen least recently"
    );
    assert_eq!(status["devices"][1]["serial"], "0000000000012345");
    assert_eq!(status["devices"][1]["build_date"], 20180101);
}

/// Loads the dashboard in headless Chromium and returns the DOM after rendering.
fn browser_dom(url: &str) -> Option<String> {
    let chromium = common::chromium()?;
    let profile = tempfile::tempdir().expect("profile");
    let output = common::headless(chromium, profile.path())
        .arg(url)
        .output()
        .expect("run chromium");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_dashboard_renders_in_a_real_browser() {
    let fixture = deployment();
    let (server, admin) = start(&fixture, &["--trusted-proxies", "127.0.0.1"]);
    server.post_with(
        "/check_firmware",
        r#"{"build_date": "1.1.2018"}"#,
        &[("X-Forwarded-For", "10.1.1.1")],
    );
    server.post_with(
        "/check_firmware",
        r#"{"build_date": "25.1.2018"}"#,
        &[("X-Forwarded-For", "10.1.1.2")],
    );
    let Some(dom) = browser_dom(&format!("http://{admin}/")) else {
        return;
    };
    // The current release (written DD.MM.YYYY like every date) and the critical version.
    assert!(
        dom.contains("<b>25.01.2018</b>") && dom.contains("Обновление 25.01"),
        "{dom}"
    );
    assert!(dom.contains("id=\"critical-version\""), "{dom}");
    // The rejected folder with its reason, escaped as text.
    let row = dom
        .split("data-version=\"20180201\"")
        .nth(1)
        .expect("row for 20180201");
    assert!(
        row.contains("data-state=\"rejected\"")
            || dom.contains("data-version=\"20180201\" data-state=\"rejected\"")
    );
    assert!(row.contains("unknown field `descripton`"), "{row}");
    // The chart: two bars (one below the critical line) and the line itself.
    let chart = dom
        .split("id=\"fleet-chart\"")
        .nth(1)
        .expect("chart")
        .split("</svg>")
        .next()
        .unwrap_or_default();
    assert_eq!(chart.matches("class=\"bar\"").count(), 2, "{chart}");
    assert!(
        chart.contains("data-build-date=\"2018-01-01\"") && chart.contains("id=\"critical-line\""),
        "{chart}"
    );
    assert!(
        chart.contains("fill=\"#d55\""),
        "the old build is drawn as below critical"
    );
    // Recent devices.
    assert!(dom.contains("10.1.1.1") && dom.contains("10.1.1.2"));
    assert!(dom.contains("http-equiv=\"refresh\""));
}

#[test]
fn sigterm_lets_a_running_download_finish() {
    let fixture = Fixture::new();
    let folder = fixture.release("20180125", None);
    // Larger than the socket buffers, so the server cannot have written it all already.
    let big: Vec<u8> = (0..64 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(folder.join("upd_app.bin"), &big).expect("write");
    let server = Server::start(fixture.dir.path(), &["--shutdown-timeout-s", "20"], &[]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    write!(
        stream,
        "GET /firmware/20180125/upd_app.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    // Read a little, so the download is under way, then ask the server to stop.
    let mut first = vec![0u8; 64 * 1024];
    stream.read_exact(&mut first).expect("first bytes");
    common::signal(server.pid(), "TERM");
    assert!(server.wait_for_log("SIGTERM", DEADLINE), "{}", server.log());
    // New connections are refused while the download goes on.
    eventually("the listener closed", DEADLINE, || {
        TcpStream::connect(server.addr).is_err().then_some(())
    });
    // A slow device: the server must wait for it, not cut it off.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .expect("the rest of the download");
    let mut all = first;
    all.extend_from_slice(&rest);
    let body_start = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    assert!(
        all[body_start..] == big[..],
        "the download completed intact ({} of {} bytes)",
        all.len() - body_start,
        big.len()
    );
    assert!(started.elapsed() < DEADLINE);
    assert!(server.wait_for_log("stopped", DEADLINE), "{}", server.log());
}

#[test]
fn two_instances_on_one_folder_answer_alike() {
    let fixture = deployment();
    let a = Server::start(fixture.dir.path(), &[], &[]);
    let b = Server::start(fixture.dir.path(), &[], &[]);
    let path = "/firmware/20180125/upd_app.bin";
    let (ra, rb) = (a.get(path, &[]), b.get(path, &[]));
    assert_eq!(ra.header("etag"), rb.header("etag"));
    assert_eq!(ra.header("last-modified"), rb.header("last-modified"));
    let body = r#"{"build_date": "1.1.2018"}"#;
    let host = [("Host", "fw.example:8888")];
    assert_eq!(
        a.post_with("/check_firmware", body, &host).body,
        b.post_with("/check_firmware", body, &host).body
    );
}

#[test]
fn the_dashboard_speaks_russian_unless_the_browser_asks_for_english() {
    let fixture = deployment();
    let (_server, admin) = start(&fixture, &[]);
    let russian = admin_get(admin, "/", &[]).text();
    assert!(russian.contains("<html lang=\"ru\">"), "{russian}");
    assert!(russian.contains("Текущий релиз") && russian.contains("Последние ККТ"));
    let also_russian = admin_get(
        admin,
        "/",
        &[("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8")],
    );
    assert!(also_russian.text().contains("Текущий релиз"));
    let english = admin_get(admin, "/", &[("Accept-Language", "en-US,en;q=0.9")]).text();
    assert!(english.contains("<html lang=\"en\">"), "{english}");
    assert!(english.contains("Current release") && english.contains("Recent registers"));
    // Every label comes from the table: no Russian left on the English page but the
    // operator's own text (this fixture's release description).
    let cyrillic: Vec<&str> = english
        .lines()
        .filter(|l| !l.contains("Обновление 25.01"))
        .filter(|l| {
            l.chars()
                .any(|c| ('а'..='я').contains(&c) || ('А'..='Я').contains(&c))
        })
        .collect();
    assert!(cyrillic.is_empty(), "{cyrillic:?}");
}

#[test]
fn a_browser_logs_in_with_the_token_as_the_password() {
    let fixture = deployment();
    let token = "s3cret-token-for-tests";
    let (_server, admin) = start(&fixture, &["--admin-token", token]);
    // The 401 asks for Basic, so a browser answers with the user name and password it has.
    let Some(page) = browser_dom(&format!("http://operator:{token}@{admin}/")) else {
        return;
    };
    assert!(page.contains("id=\"current-release\""), "{page}");
    let Some(refused) = browser_dom(&format!("http://operator:wrong-password@{admin}/")) else {
        return;
    };
    assert!(
        !refused.contains("id=\"current-release\""),
        "a wrong password shows nothing"
    );
}

/// A browser's page of registers or history shows at most 1,000 rows, and says where a
/// longer list is; JSON keeps its 100,000 (a hundred thousand table rows would take a phone
/// minutes to lay out).
#[test]
fn an_html_list_is_at_most_a_thousand_rows_and_says_where_more_are() {
    let fixture = deployment();
    let (_server, admin) = start(&fixture, &[]);
    let html = [("Accept", "text/html")];
    for (path, longer) in [
        ("/devices?limit=5000", "/devices.csv"),
        ("/history?limit=5000", "application/json"),
    ] {
        let page = admin_get(admin, path, &html);
        assert_eq!(page.status, 400, "{path}: {}", page.text());
        let error = page.json()["error"].as_str().unwrap_or("").to_string();
        assert!(
            error.contains("from 0 to 1000 on a page") && error.contains(longer),
            "{path}: {error}"
        );
        let plain = path.split('?').next().unwrap_or(path);
        assert_eq!(
            admin_get(admin, &format!("{plain}?limit=1000"), &html).status,
            200
        );
        assert_eq!(admin_get(admin, path, &[]).status, 200, "{path} as JSON");
    }
}
