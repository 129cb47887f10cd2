//! `POST /check_firmware` against the real binary: the reference's byte form, every way a
//! client sends the request, the comparison rules, URL bases and every error.

use crate::common::{Fixture, Server};
use serde_json::Value;

/// A fixture with releases 20180116 (critical) and 20180125 (current, Cyrillic description).
fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20171220", None);
    fixture.release(
        "20180116",
        Some("description: \"version before 20180116 may die anytime\"\ncritical: true\n"),
    );
    fixture.release(
        "20180125",
        Some("description: \"Прошивка «Ёлка» </b> 😀 \\\"q\\\"\\\\ tab\\t\"\n"),
    );
    fixture
}

/// Validates against the vendor's response schema (a copy is in `tests/data/`).
fn assert_matches_schema(answer: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vendor-response-schema.json");
    let text = std::fs::read_to_string(&path).expect("the vendor's schema is in the repo");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(answer)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{answer} does not match the schema: {errors:?}"
    );
}

#[test]
fn body_is_byte_identical_to_the_reference_for_a_cyrillic_description() {
    let fixture = fixture();
    let server = fixture.start();
    let response = server.post_with(
        "/check_firmware",
        r#"{"build_date": "28.12.2017"}"#,
        &[("Host", "kkt.local:8888")],
    );
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    // python3 -c 'import json; print(json.dumps(d).replace("</", "<\\/"))' for the same dict
    let expected = r#"{"update_available": true, "critical": true, "version": 20180125, "description": "\u041f\u0440\u043e\u0448\u0438\u0432\u043a\u0430 \u00ab\u0401\u043b\u043a\u0430\u00bb <\/b> \ud83d\ude00 \"q\"\\ tab\t", "url": "http://kkt.local:8888/firmware/20180125/upd_app.bin", "url_old_frs": "http://kkt.local:8888/firmware/20180125/upd_app_for_old_frs.bin"}"#;
    assert_eq!(response.text(), expected);
    assert_matches_schema(&response.json());
}

#[test]
fn any_content_type_or_none_is_accepted() {
    let fixture = fixture();
    let server = fixture.start();
    let body = r#"{"build_date":"28.12.2017"}"#;
    let plain = server.post("/check_firmware", body);
    let form = server.post_with(
        "/check_firmware",
        body,
        &[("Content-Type", "application/x-www-form-urlencoded")],
    );
    let json = server.post_with(
        "/check_firmware",
        body,
        &[
            ("Content-Type", "application/json"),
            ("build_date", "28.12.2017"),
        ],
    );
    for response in [&plain, &form, &json] {
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.json()["version"], 20180125);
    }
    assert_eq!(plain.body, form.body);
    assert_eq!(plain.body, json.body);
}

#[test]
fn comparison_rules() {
    let fixture = fixture();
    let server = fixture.start();
    // One-digit day and month.
    let answer = server.check_firmware("17.1.2018");
    assert_eq!(
        (
            answer["update_available"].as_bool(),
            answer["critical"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(server.check_firmware("1.1.2018")["critical"], true);
    assert_eq!(server.check_firmware("1.2.2018")["update_available"], false);
    // Built on the critical date: not critical; the day before: critical.
    assert_eq!(server.check_firmware("16.01.2018")["critical"], false);
    assert_eq!(server.check_firmware("15.01.2018")["critical"], true);
    // Built on the current release's date: no update.
    let answer = server.check_firmware("25.01.2018");
    assert_eq!(answer["update_available"], false);
    assert_eq!(answer["version"], 20180125);
    assert_eq!(
        server.check_firmware("24.01.2018")["update_available"],
        true
    );
    // Newer than anything published.
    assert_eq!(server.check_firmware("1.1.2030")["update_available"], false);
    assert_matches_schema(&answer);
}

#[test]
fn configured_critical_version_counts_when_it_is_the_larger() {
    let fixture = fixture();
    fixture.write_config("settle_ms: 0\ncritical_version: 20180120\n");
    let server = fixture.start();
    assert_eq!(server.check_firmware("19.01.2018")["critical"], true);
    assert_eq!(server.check_firmware("20.01.2018")["critical"], false);
    drop(server);
    fixture.write_config("settle_ms: 0\ncritical_version: 20170101\n");
    let server = fixture.start();
    assert_eq!(
        server.check_firmware("15.01.2018")["critical"],
        true,
        "the critical release still counts"
    );
}

#[test]
fn no_critical_version_means_never_critical() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let server = fixture.start();
    let answer = server.check_firmware("1.1.2000");
    assert_eq!(
        (
            answer["update_available"].as_bool(),
            answer["critical"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(answer["description"], "firmware 20180125");
}

#[test]
fn urls_use_the_host_header_or_public_url_or_the_local_address() {
    let fixture = fixture();
    let server = fixture.start();
    let body = r#"{"build_date": "1.2.2018"}"#;
    let answer = server
        .post_with("/check_firmware", body, &[("Host", "192.168.1.10:8888")])
        .json();
    assert_eq!(
        answer["url"],
        "http://192.168.1.10:8888/firmware/20180125/upd_app.bin"
    );
    assert_eq!(
        answer["url_old_frs"],
        "http://192.168.1.10:8888/firmware/20180125/upd_app_for_old_frs.bin"
    );

    let request = format!(
        "POST /check_firmware HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = server.raw(request.as_bytes()).json();
    assert_eq!(
        answer["url"],
        format!("http://{}/firmware/20180125/upd_app.bin", server.addr)
    );

    let response = server.post_with("/check_firmware", body, &[("Host", "evil.example/x?")]);
    assert_eq!(response.status, 400);
    assert!(
        response.error().contains("Host header"),
        "{}",
        response.text()
    );
    drop(server);

    let server = Server::start(
        fixture.dir.path(),
        &["--public-url", "https://fw.example.ru/kkt/"],
        &[],
    );
    let answer = server
        .post_with("/check_firmware", body, &[("Host", "internal:8888")])
        .json();
    assert_eq!(
        answer["url"],
        "https://fw.example.ru/kkt/firmware/20180125/upd_app.bin"
    );
}

#[test]
fn no_release_published_is_still_a_200_without_update() {
    let fixture = Fixture::new();
    let half = fixture.release("20180125", None);
    std::fs::remove_file(half.join("upd_app.bin")).expect("remove");
    let server = fixture.start();
    let response = server.post("/check_firmware", r#"{"build_date": "1.1.2000"}"#);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.text(),
        r#"{"update_available": false, "critical": false, "version": 0, "description": "", "url": "", "url_old_frs": ""}"#
    );
    assert_matches_schema(&response.json());
    assert!(
        server.log().contains("no release published"),
        "{}",
        server.log()
    );
}

#[test]
fn bad_requests_get_json_errors_naming_the_problem() {
    let fixture = fixture();
    let server = fixture.start();
    let cases: &[(&str, &str)] = &[
        ("", "the request body is empty"),
        ("{\"build_date\": ", "not valid JSON"),
        ("[\"28.12.2017\"]", "must be a JSON object, not an array"),
        ("{}", "missing \"build_date\""),
        ("{\"date\": \"28.12.2017\"}", "missing \"build_date\""),
        (
            "{\"build_date\": 20171228}",
            "must be a string like \"28.12.2017\", got a number 20171228",
        ),
        ("{\"build_date\": null}", "must be a string"),
        ("{\"build_date\": \"31.02.2017\"}", "got \"31.02.2017\""),
        ("{\"build_date\": \"2017-12-28\"}", "got \"2017-12-28\""),
        (
            "{\"build_date\": \"28.12.17\"}",
            "must be a real date written D.M.YYYY",
        ),
    ];
    for (body, message) in cases {
        let response = server.post("/check_firmware", body);
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert!(
            response.error().contains(message),
            "{body}: {}",
            response.text()
        );
    }
}

#[test]
fn bodies_over_16_kib_get_413() {
    let fixture = fixture();
    let server = fixture.start();
    let padding = "x".repeat(17 * 1024);
    let response = server.post(
        "/check_firmware",
        &format!("{{\"build_date\": \"1.2.2018\", \"pad\": \"{padding}\"}}"),
    );
    assert_eq!(response.status, 413);
    assert!(response.error().contains("over 16384 bytes"));
    // Just under the limit is fine.
    let padding = "x".repeat(16 * 1024 - 64);
    let response = server.post(
        "/check_firmware",
        &format!("{{\"build_date\": \"1.2.2018\", \"pad\": \"{padding}\"}}"),
    );
    assert_eq!(response.status, 200);
}

#[test]
fn other_methods_get_405_with_allow() {
    let fixture = fixture();
    let server = fixture.start();
    for method in ["GET", "PUT", "DELETE", "HEAD"] {
        let response = server.method(method, "/check_firmware", &[]);
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.header("allow"), Some("POST"), "{method}");
    }
    let response = server.method("POST", "/version", &[("Content-Length", "0")]);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("GET, HEAD"))
    );
    let response = server.get("/nothing-here", &[]);
    assert_eq!(response.status, 404);
    assert!(response.error().contains("/nothing-here"));
}

#[test]
fn version_reports_server_and_environment() {
    let fixture = fixture();
    let server = fixture.start();
    let response = server.get("/version", &[]);
    assert_eq!(response.status, 200);
    let answer = response.json();
    assert_eq!(answer["susv"], env!("CARGO_PKG_VERSION"));
    assert!(answer["server"]
        .as_str()
        .unwrap_or("")
        .starts_with("kkt-update-server/"));
    assert!(
        answer["rust"].as_str().unwrap_or("").starts_with("1."),
        "{answer}"
    );
    assert!(
        answer["actix_web"].as_str().unwrap_or("").starts_with("4."),
        "{answer}"
    );
}

#[test]
fn every_request_is_access_logged_with_client_status_and_user_agent() {
    let fixture = fixture();
    let server = fixture.start();
    server.post_with(
        "/check_firmware",
        r#"{"build_date": "1.2.2018"}"#,
        &[("User-Agent", "DrvFR/5.17")],
    );
    assert!(
        server.wait_for_log(
            "\"POST /check_firmware HTTP/1.1\" 200",
            std::time::Duration::from_secs(5)
        ),
        "{}",
        server.log()
    );
    let line = server
        .log()
        .lines()
        .find(|l| l.contains("POST /check_firmware"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.contains("127.0.0.1") && line.contains("DrvFR/5.17"),
        "{line}"
    );
    let log = server.log();
    assert!(log.contains("current release 20180125"), "{log}");
    assert!(log.contains("critical version 20180116"), "{log}");
    assert!(log.contains("serials with feature licenses"), "{log}");
}
