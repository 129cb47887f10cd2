//! Upgrade floors (`floor: true` in a release's `meta.yaml`) against the real binary: a
//! register below a floor is offered the lowest floor above its build, then the next one
//! once it reports the floor's build, then the newest; the answer's bytes are the
//! reference's form; a register admitted past a floor before it was marked keeps its
//! release (across a restart), while nobody new is admitted past it; a floor whose rollout
//! has not admitted a register holds it below the floor; `publish --floor` writes the key;
//! `check`, `/status` and the dashboard show each line's path; the register's page says
//! why; a bad `floor:` value is refused in plain words. Addresses come through
//! `X-Forwarded-For` from a trusted proxy (127.0.0.1).

use std::fs;

use crate::common::{
    admin, admin_json, eventually, firmware_bytes, raw_request, run_check, Fixture, Response,
    Server, DEADLINE,
};

const CONFIG: &str = "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\n";

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

fn check_in_raw(server: &Server, address: &str, build: &str) -> Response {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response
}

/// `(version, update_available)` offered to `address` reporting `build`.
fn offered(server: &Server, address: &str, build: &str) -> (u64, bool) {
    let answer = check_in_raw(server, address, build).json();
    (
        answer["version"].as_u64().expect("version"),
        answer["update_available"]
            .as_bool()
            .expect("update_available"),
    )
}

/// A release of the named line `line` (its folder must hold a `line.yaml`).
fn line_release(fixture: &Fixture, line: &str, version: &str, meta: Option<&str>) {
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        fixture.write(
            &format!("firmware/{line}/{version}/{name}"),
            firmware_bytes(version, name),
        );
    }
    if let Some(meta) = meta {
        fixture.write(&format!("firmware/{line}/{version}/meta.yaml"), meta);
    }
}

/// The default line: floors 20230101 and 20240101, plain 20230601 between them, the newest
/// 20250101; line C.3: a floor 20221228 below its newest 20230301.
fn two_floors() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(CONFIG);
    fixture.release("20230101", Some("floor: true\n"));
    fixture.release("20230601", Some("floor: false\n"));
    fixture.release(
        "20240101",
        Some("description: \"Второй шаг\"\nfloor: true\n"),
    );
    fixture.release("20250101", None);
    fixture.write("firmware/C.3/line.yaml", "known_builds: [20220915]\n");
    line_release(&fixture, "C.3", "20221228", Some("floor: true\n"));
    line_release(&fixture, "C.3", "20230301", None);
    fixture
}

#[test]
fn registers_below_floors_get_each_floor_in_order_then_the_newest() {
    let fixture = two_floors();
    let server = start(&fixture);

    // Registers at various builds: each gets the lowest floor above its build.
    for (address, build, expected) in [
        ("10.0.0.1", "1.1.2022", (20230101, true)),
        ("10.0.0.2", "31.12.2022", (20230101, true)),
        ("10.0.0.3", "15.3.2023", (20240101, true)),
        ("10.0.0.4", "1.6.2023", (20240101, true)),
        ("10.0.0.5", "1.1.2024", (20250101, true)),
        ("10.0.0.6", "1.1.2025", (20250101, false)),
    ] {
        assert_eq!(
            offered(&server, address, build),
            expected,
            "{address} on {build}"
        );
    }

    // One register walking the path: each time it reports the floor's build, the next
    // step applies.
    let walker = "10.0.1.1";
    let mut path = Vec::new();
    let mut build = "1.1.2022".to_string();
    for _ in 0..5 {
        let (version, update) = offered(&server, walker, &build);
        if !update {
            break;
        }
        // It downloads what it is offered, flashes it and reports the new build.
        let download = server.get(
            &format!("/firmware/{version}/upd_app.bin"),
            &[("X-Forwarded-For", walker)],
        );
        assert_eq!(download.status, 200);
        assert_eq!(
            download.body,
            firmware_bytes(&version.to_string(), "upd_app.bin")
        );
        path.push(version);
        build = format!(
            "{}.{}.{}",
            version % 100,
            version / 100 % 100,
            version / 10_000
        );
    }
    assert_eq!(path, [20230101, 20240101, 20250101]);

    // The answer is the reference's form byte for byte: the floor in the usual fields,
    // Cyrillic escaped, nothing added.
    let body = check_in_raw(&server, "10.0.0.7", "1.6.2023").text();
    let base = format!("http://{}", server.addr);
    assert_eq!(
        body,
        format!(
            "{{\"update_available\": true, \"critical\": false, \"version\": 20240101, \
             \"description\": \"\\u0412\\u0442\\u043e\\u0440\\u043e\\u0439 \
             \\u0448\\u0430\\u0433\", \"url\": \"{base}/firmware/20240101/upd_app.bin\", \
             \"url_old_frs\": \"{base}/firmware/20240101/upd_app_for_old_frs.bin\"}}"
        )
    );

    // A named line keeps its own path: known build 20220915 gets its floor first.
    let answer = check_in_raw(&server, "10.0.2.1", "15.9.2022").json();
    assert_eq!(answer["version"], 20221228, "{answer}");
    assert!(answer["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/firmware/C.3/20221228/upd_app.bin")));
    assert_eq!(offered(&server, "10.0.2.1", "28.12.2022"), (20230301, true));
}

#[test]
fn check_status_and_the_dashboard_show_each_lines_upgrade_path() {
    let fixture = two_floors();
    let (passed, report, errors) = run_check(fixture.dir.path());
    assert!(passed, "{report}{errors}");
    assert!(
        report.contains("\nupgrade path: floor 20230101 → floor 20240101 → newest 20250101\n"),
        "{report}"
    );
    assert!(
        report.contains("\n    upgrade path: floor 20221228 → newest 20230301\n"),
        "{report}"
    );

    let server = start(&fixture);
    let status = admin_json(&server, "/status");
    assert_eq!(
        status["upgrade_path"],
        serde_json::json!([20230101, 20240101]),
        "{status}"
    );
    let c3 = status["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["name"] == "C.3")
        .expect("line C.3");
    assert_eq!(c3["upgrade_path"], serde_json::json!([20221228]), "{c3}");

    let html = dashboard(&server, "en");
    for expected in [
        "<p class=\"upgrade-path\" data-line=\"\">Upgrade path (floors, in order): \
         <b class=\"floor\" data-version=\"20230101\">01.01.2023</b> → \
         <b class=\"floor\" data-version=\"20240101\">01.01.2024</b> → then the newest</p>",
        "<p class=\"upgrade-path\" data-line=\"C.3\">Upgrade path (floors, in order): \
         <b class=\"floor\" data-version=\"20221228\">28.12.2022</b> → then the newest</p>",
    ] {
        assert!(html.contains(expected), "{expected}\n{html}");
    }
    assert!(
        dashboard(&server, "ru").contains("Путь обновления (опорные релизы по порядку)"),
        "the Russian dashboard names the path"
    );

    // No floor, no path: the report and the page read as they did.
    let plain = Fixture::new();
    plain.release("20250101", None);
    let (_, report, _) = run_check(plain.dir.path());
    assert!(!report.contains("upgrade path"), "{report}");
}

fn dashboard(server: &Server, language: &str) -> String {
    let addr = crate::common::admin_addr(server);
    let response = raw_request(
        addr,
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: {language}\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(response.status, 200);
    response.text()
}

#[test]
fn a_register_admitted_past_a_floor_before_it_was_marked_keeps_its_release() {
    let fixture = Fixture::new();
    fixture.write_config(CONFIG);
    fixture.release("20230101", None);
    fixture.release(
        "20250101",
        Some("rollout:\n  percent: 0\n  pilot: [10.9.0.0/16]\n"),
    );
    let mut server = start(&fixture);
    // A pilot is admitted to the newest while 20230101 is not yet a floor.
    assert_eq!(offered(&server, "10.9.0.1", "1.1.2022"), (20250101, true));
    assert_eq!(offered(&server, "10.0.0.2", "1.1.2022"), (20230101, true));

    fixture.write("firmware/20230101/meta.yaml", "floor: true\n");
    eventually("the floor in /status", DEADLINE, || {
        (admin_json(&server, "/status")["upgrade_path"] == serde_json::json!([20230101]))
            .then_some(())
    });
    // Once admitted, always admitted: it keeps the newest.
    assert_eq!(offered(&server, "10.9.0.1", "1.1.2022"), (20250101, true));
    // Another pilot, never admitted before, now installs the floor first.
    assert_eq!(offered(&server, "10.9.0.2", "1.1.2022"), (20230101, true));
    assert_eq!(offered(&server, "10.0.0.2", "1.1.2022"), (20230101, true));
    // After the floor, the pilot gets the newest.
    assert_eq!(offered(&server, "10.9.0.2", "1.1.2023"), (20250101, true));

    // The remembered admission outlives a restart.
    assert!(server.terminate(DEADLINE));
    let server = start(&fixture);
    assert_eq!(offered(&server, "10.9.0.1", "1.1.2022"), (20250101, true));
    assert_eq!(offered(&server, "10.9.0.3", "1.1.2022"), (20230101, true));
}

/// The page of a register as JSON, in English.
fn why(server: &Server, address: &str) -> serde_json::Value {
    let addr = crate::common::admin_addr(server);
    let response = raw_request(
        addr,
        format!(
            "GET /devices/{address} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
             Accept-Language: en\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(response.status, 200, "{address}: {}", response.text());
    response.json()["why"].clone()
}

#[test]
fn a_floor_that_has_not_admitted_a_register_holds_it_below_and_its_page_says_why() {
    let fixture = Fixture::new();
    fixture.write_config(CONFIG);
    fixture.release("20220601", None);
    fixture.release(
        "20230101",
        Some("floor: true\nrollout:\n  percent: 0\n  pilot: [10.9.0.0/16]\n"),
    );
    fixture.release("20250101", None);
    let server = start(&fixture);
    // Not admitted to the floor: the release below it, never the newest past it.
    assert_eq!(offered(&server, "10.0.0.1", "1.1.2022"), (20220601, true));
    assert_eq!(offered(&server, "10.0.0.2", "1.6.2022"), (20220601, false));
    // The floor's pilot gets the floor.
    assert_eq!(offered(&server, "10.9.0.1", "1.1.2022"), (20230101, true));
    // Past the floor everyone gets the newest.
    assert_eq!(offered(&server, "10.0.0.3", "1.1.2023"), (20250101, true));

    let reason = eventually("the inventory knows 10.9.0.1", DEADLINE, || {
        let page = admin(&server, "/devices/10.9.0.1");
        (page.status == 200).then(|| why(&server, "10.9.0.1"))
    });
    assert_eq!(reason["code"], "below_floor", "{reason}");
    assert_eq!(reason["floor"], 20230101);
    assert_eq!(reason["newest"], 20250101);
    assert_eq!(
        reason["text"],
        "Below a floor: offered floor 01.01.2023 before 01.01.2025 (now build 01.01.2022, \
         line \"(default)\")."
    );

    let held = eventually("the inventory knows 10.0.0.2", DEADLINE, || {
        let page = admin(&server, "/devices/10.0.0.2");
        (page.status == 200).then(|| why(&server, "10.0.0.2"))
    });
    assert_eq!(held["code"], "below_floor", "{held}");
    let text = held["text"].as_str().expect("text");
    assert!(
        text.starts_with(
            "Below a floor: it must install 01.01.2023 before 01.01.2025, and the rollout of \
             01.01.2023 has not admitted this register yet."
        ) && text.contains("told there is no update"),
        "{text}"
    );
}

#[test]
fn publish_floor_writes_the_key_and_a_bad_value_is_refused_in_plain_words() {
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    let source = fixture.path("incoming/20250301");
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        fixture.write(
            &format!("incoming/20250301/{name}"),
            firmware_bytes("20250301", name),
        );
    }
    let output = crate::common::server_command()
        .current_dir(fixture.dir.path())
        .args([
            "publish",
            source.to_str().expect("path"),
            "--floor",
            "--no-wait",
        ])
        .args(["--config", "server.yaml"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run publish");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("  floor: devices built before 20250301 install it before anything newer\n"),
        "{said}"
    );
    assert!(
        said.contains(
            "(everyone); devices below a floor install it first (upgrade path: floor 20250301)\n"
        ),
        "{said}"
    );
    let meta = fs::read_to_string(fixture.path("firmware/20250301/meta.yaml")).expect("meta");
    assert!(meta.contains("\nfloor: true\n"), "{meta}");
    let (passed, report, errors) = run_check(fixture.dir.path());
    assert!(passed, "{report}{errors}");
    assert!(
        report.contains("upgrade path: floor 20250301\n"),
        "{report}"
    );

    fixture.release("20250401", Some("floor: yes\n"));
    let (passed, report, errors) = run_check(fixture.dir.path());
    let all = format!("{report}{errors}");
    assert!(!passed, "{all}");
    assert!(
        all.contains(
            "meta.yaml: floor: yes is not true or false (expected floor: true to make devices \
             built before this release install it before anything newer)"
        ),
        "{all}"
    );
}
