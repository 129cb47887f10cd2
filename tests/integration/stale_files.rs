//! Broken files are loud against the real binary: a `server.yaml` edited into a broken one
//! while running, and license files broken at start or while running, show in `/status`
//! (`config_stale`), in `/readyz`'s body (which stays 200), in the `kkt_config_stale` /
//! `kkt_licenses_stale` metrics and as a red banner on the dashboard (file content escaped),
//! until they are fixed. A misspelt key says "did you mean ...?". Waits poll with a
//! deadline; no sleep is an assertion.

use crate::common;

use std::net::SocketAddr;

use common::{
    admin_addr, eventually, raw_request, run_check, slf_line, wait_offered, Fixture, Response,
    Server, DEADLINE,
};

fn start(fixture: &Fixture) -> (Server, SocketAddr) {
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
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

fn json(admin: SocketAddr, path: &str) -> serde_json::Value {
    let response = admin_get(admin, path, &[]);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.json()
}

fn stale(admin: SocketAddr) -> Vec<serde_json::Value> {
    json(admin, "/status")["config_stale"]
        .as_array()
        .expect("config_stale is a list")
        .clone()
}

/// The value of the metric line that starts with `series` (`name{labels}`), if any.
fn metric(admin: SocketAddr, series: &str) -> Option<String> {
    let text = admin_get(admin, "/metrics", &[]).text();
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .map(|value| value.trim().to_string())
}

fn license(server: &Server, serial: &str) -> u16 {
    server
        .post(
            "/feature_licenses",
            &format!("{{\"serial\": \"{serial}\"}}"),
        )
        .status
}

#[test]
fn a_broken_server_yaml_is_loud_until_fixed_and_readyz_stays_200() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let (server, admin) = start(&fixture);
    wait_offered(&server, 20180125);
    assert_eq!(stale(admin), Vec::<serde_json::Value>::new());
    assert_eq!(
        metric(admin, "kkt_config_stale{file=\"server.yaml\"}").as_deref(),
        Some("0")
    );
    assert!(!admin_get(admin, "/", &[])
        .text()
        .contains("id=\"stale-banner\""));

    // A misspelt key while running: the running configuration is kept, and it says so.
    fixture.write_config("settle_ms: 0\ncritcal_version: 20170101\n");
    let first = eventually("config_stale in /status", DEADLINE, || {
        stale(admin).into_iter().next()
    });
    assert_eq!(first["kind"], "config");
    assert_eq!(first["file"], "server.yaml");
    assert_eq!(first["licenses_served"], serde_json::Value::Null);
    let error = first["error"].as_str().unwrap();
    assert!(
        error.contains("critcal_version") && error.contains("did you mean critical_version?"),
        "{error}"
    );
    let since = first["since"].as_u64().unwrap();

    // Now a hostile one: the banner shows its error escaped. (A key with `/`, `:`, `$`,
    // `=` or `@` is not echoed at all: see attacks.rs; this one is written like a key.)
    fixture.write_config("settle_ms: 0\n\"<script>alert(1)<script>\": 1\n");
    let hostile = eventually("the new error in /status", DEADLINE, || {
        stale(admin)
            .into_iter()
            .find(|s| s["error"].as_str().unwrap_or("").contains("script"))
    });
    assert_eq!(
        hostile["since"].as_u64(),
        Some(since),
        "stale since the first error"
    );

    let ready = admin_get(admin, "/readyz", &[]);
    assert_eq!(ready.status, 200, "a typo must not take the instance out");
    let body = ready.json();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["config_stale"][0]["file"], "server.yaml");
    assert_eq!(body["config_stale"][0]["kind"], "config");
    assert_eq!(
        metric(admin, "kkt_config_stale{file=\"server.yaml\"}").as_deref(),
        Some("1")
    );

    let page = admin_get(admin, "/", &[]).text();
    assert!(page.contains("id=\"stale-banner\""), "{page}");
    assert!(page.contains("не читается уже"), "{page}");
    assert!(page.contains("прежней конфигурацией"), "{page}");
    assert!(
        !page.contains("<script>alert"),
        "file content must be escaped"
    );
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;script&#62;"),
        "{page}"
    );
    let english = admin_get(admin, "/", &[("Accept-Language", "en")]).text();
    assert!(
        english.contains("server.yaml</b> has not loaded for"),
        "{english}"
    );

    // Devices are still answered from the running configuration.
    assert_eq!(server.check_firmware("1.1.2018")["update_available"], true);

    // Fixed: all clear.
    fixture.write_config("settle_ms: 0\n");
    eventually("config_stale cleared", DEADLINE, || {
        stale(admin).is_empty().then_some(())
    });
    assert_eq!(
        json(admin, "/readyz")["config_stale"],
        serde_json::json!([])
    );
    assert_eq!(
        metric(admin, "kkt_config_stale{file=\"server.yaml\"}").as_deref(),
        Some("0")
    );
    assert!(!admin_get(admin, "/", &[])
        .text()
        .contains("id=\"stale-banner\""));
}

#[test]
fn a_start_with_broken_license_files_serves_nothing_from_them_and_says_so() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write(
        "lic/good.slf",
        format!("{}\n", slf_line("0000000000000001", 'a', 'b')),
    );
    // Not YAML: an unclosed list.
    fixture.write(
        "lic/broken.yaml",
        format!("\"0000000000000002\": [\n  licenses: {}\n", "c".repeat(128)),
    );
    // A .slf saved as UTF-16 ("Unicode text" in a spreadsheet): not one line reads.
    let utf16: Vec<u8> = format!("{}\r\n", slf_line("0000000000000003", 'd', 'e'))
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    fixture.write("lic/broken.slf", utf16);
    fixture
        .write_config("settle_ms: 0\nlicenses: [lic/good.slf, lic/broken.yaml, lic/broken.slf]\n");
    let (server, admin) = start(&fixture);
    wait_offered(&server, 20180125);

    // The choice: start, serve the good files, serve nothing from the broken ones, be loud.
    assert!(
        server.wait_for_log("cannot be used", DEADLINE),
        "{}",
        server.log()
    );
    let log = server.log();
    let said = log
        .lines()
        .find(|l| l.contains("broken.yaml cannot be used"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(said.contains("ERROR") && said.contains("404"), "{said}");
    assert_eq!(license(&server, "1"), 200);
    assert_eq!(license(&server, "2"), 404);
    assert_eq!(license(&server, "3"), 404);

    let stale_now = stale(admin);
    assert_eq!(stale_now.len(), 2, "{stale_now:?}");
    for (entry, name) in stale_now.iter().zip(["broken.yaml", "broken.slf"]) {
        assert_eq!(entry["kind"], "licenses");
        assert!(entry["file"].as_str().unwrap().ends_with(name), "{entry}");
        assert_eq!(entry["licenses_served"], 0);
        assert!(
            entry["meanwhile"].as_str().unwrap().contains("404"),
            "{entry}"
        );
    }
    assert!(stale_now[0]["error"]
        .as_str()
        .unwrap()
        .contains("not valid YAML"));
    let ready = admin_get(admin, "/readyz", &[]);
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["config_stale"].as_array().unwrap().len(), 2);
    // Named as in server.yaml.
    let series = |name: &str| format!("kkt_licenses_stale{{file=\"{name}\"}}");
    assert_eq!(
        metric(admin, &series("lic/broken.yaml")).as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(admin, &series("lic/broken.slf")).as_deref(),
        Some("1")
    );
    assert_eq!(metric(admin, &series("lic/good.slf")).as_deref(), Some("0"));
    let english = admin_get(admin, "/", &[("Accept-Language", "en")]).text();
    assert!(english.contains("id=\"stale-banner\""), "{english}");
    assert!(
        english.contains("No license is served from this file"),
        "{english}"
    );
    // `check` says the same, and fails.
    let (ok, report, _) = run_check(fixture.dir.path());
    assert!(!ok && report.contains("broken.yaml"), "{report}");

    // Fixed: its serial is served, and its entry goes.
    fixture.write(
        "lic/broken.yaml",
        format!(
            "\"0000000000000002\":\n  licenses: {}\n  signature: {}\n",
            "c".repeat(128),
            "f".repeat(128)
        ),
    );
    eventually("the fixed file serves", DEADLINE, || {
        (license(&server, "2") == 200).then_some(())
    });
    eventually("its stale entry goes", DEADLINE, || {
        (stale(admin).len() == 1).then_some(())
    });
    assert_eq!(
        metric(admin, &series("lic/broken.yaml")).as_deref(),
        Some("0")
    );

    // Broken again while running: it keeps what it loaded, and says so.
    fixture.write("lic/broken.yaml", "\"0000000000000002\": {\n");
    let kept = eventually("broken again", DEADLINE, || {
        stale(admin)
            .into_iter()
            .find(|s| s["file"].as_str().unwrap_or("").ends_with("broken.yaml"))
    });
    assert_eq!(kept["licenses_served"], 1, "{kept}");
    assert_eq!(license(&server, "2"), 200);
}

#[test]
fn a_misspelt_key_says_did_you_mean_at_start_and_in_check() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write_config("critcal_version: 20170101\n");
    let (ok, _, errors) = run_check(fixture.dir.path());
    assert!(!ok);
    assert!(
        errors.contains("unknown field `critcal_version`: did you mean critical_version?"),
        "{errors}"
    );
    // meta.yaml and line.yaml likewise, through check's report.
    fixture.write_config("settle_ms: 0\n");
    fixture.release("20180201", Some("critcal: true\n"));
    fixture.write("firmware/C.3/line.yaml", "known_build: [20221228]\n");
    let (_, report, _) = run_check(fixture.dir.path());
    assert!(report.contains("did you mean `critical`?"), "{report}");
    assert!(report.contains("did you mean `known_builds`?"), "{report}");
}
