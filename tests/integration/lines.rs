//! Firmware lines against the real binary: two lines whose dates interleave never cross
//! (every build date from mid-2022 to 2023 is tried), unknown and ambiguous dates are
//! answered "no update" and listed with counts, `/lines/<line>/…` answers from that line,
//! a broken `line.yaml` keeps the line out (and unknown dates away from the default line),
//! `check` shows lines, the device list and its CSV filter by line, and a release copied
//! into a line is published by the usual rules.

use crate::common;

use std::collections::BTreeMap;
use std::fs;

use crate::common::{
    admin, admin_json, eventually, firmware_bytes, run_check, Fixture, Server, DEADLINE,
};

const CONFIG: &str = "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\nlicenses: [fleet.slf]\n";

/// Line C.1 (FFD 1.05) and C.3 (FFD 1.2), as in June 2023: the newest C.1 build is newer
/// than the newest C.3 build.
fn two_lines() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(CONFIG);
    fixture.write(
        "fleet.slf",
        format!("{}\n", common::slf_line("0000000000012345", 'a', 'b')),
    );
    fixture.write(
        "firmware/C.1/line.yaml",
        "description: \"ФФД 1.05\"\nknown_builds: [20220601, 20221001]\n",
    );
    fixture.release("C.1/20221020", None);
    fixture.release("C.1/20230119", Some("description: \"C.1 19.01.2023\"\n"));
    fixture.write(
        "firmware/C.3/line.yaml",
        "description: \"ФФД 1.2\"\nknown_builds: [20220915]\ncritical_version: 20221228\n",
    );
    fixture.release("C.3/20220801", None);
    fixture.release("C.3/20221228", Some("description: \"C.3 28.12.2022\"\n"));
    fixture
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

fn check(server: &Server, path: &str, build: &str, address: &str) -> serde_json::Value {
    let response = server.post_with(
        path,
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{path} {build}: {}", response.text());
    response.json()
}

fn dmy(yyyymmdd: u32) -> String {
    format!(
        "{}.{}.{}",
        yyyymmdd % 100,
        yyyymmdd / 100 % 100,
        yyyymmdd / 10_000
    )
}

#[test]
fn two_lines_whose_dates_interleave_never_cross() {
    let fixture = two_lines();
    let server = start(&fixture);
    let c1 = [20220601, 20221001, 20221020, 20230119];
    let c3 = [20220801, 20220915, 20221228];
    let mut offers = BTreeMap::new();
    // Every day from May 2022 to February 2023: the known dates get their own line's
    // newest release, every other date gets no update, never the other line's firmware.
    let mut day = chrono::NaiveDate::from_ymd_opt(2022, 5, 1).expect("date");
    let end = chrono::NaiveDate::from_ymd_opt(2023, 2, 1).expect("date");
    while day <= end {
        let date: u32 = day.format("%Y%m%d").to_string().parse().expect("date");
        let answer = check(&server, "/check_firmware", &dmy(date), "10.1.0.1");
        let expected = if c1.contains(&date) {
            Some((20230119, "C.1"))
        } else if c3.contains(&date) {
            Some((20221228, "C.3"))
        } else {
            None
        };
        match expected {
            Some((version, line)) => {
                assert_eq!(answer["version"], version, "{date}: {answer}");
                assert_eq!(answer["update_available"], date < version, "{date}");
                let url = answer["url"].as_str().expect("url");
                assert!(
                    url.ends_with(&format!("/firmware/{line}/{version}/upd_app.bin")),
                    "{date}: {url}"
                );
            }
            None => {
                assert_eq!(answer["update_available"], false, "{date}: {answer}");
                assert_eq!(answer["version"], 0, "{date}: {answer}");
                assert_eq!(answer["url"], "", "{date}");
            }
        }
        offers.insert(date, answer);
        day = day.succ_opt().expect("next day");
    }
    // The URLs offered serve exactly that line's files.
    let url = offers[&20220915]["url_old_frs"]
        .as_str()
        .expect("url")
        .to_string();
    let path = &url[url.find("/firmware/").expect("path")..];
    let response = server.get(path, &[]);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        firmware_bytes("20221228", "upd_app_for_old_frs.bin")
    );
    assert_eq!(
        server.get("/firmware/20221228/upd_app.bin", &[]).status,
        404
    );
    assert_eq!(
        server.get("/firmware/C.1/20221228/upd_app.bin", &[]).status,
        404
    );
    assert_eq!(server.get("/firmware/C.3/line.yaml", &[]).status, 404);
    // critical_version of C.3 holds for C.3 devices only.
    assert_eq!(offers[&20220915]["critical"], true);
    assert_eq!(offers[&20220601]["critical"], false);
}

#[test]
fn unknown_and_ambiguous_dates_are_answered_no_update_and_listed() {
    let fixture = two_lines();
    // 20220801 is a C.3 release and now also a known C.1 build: ambiguous.
    fixture.write(
        "firmware/C.1/line.yaml",
        "known_builds: [20220601, 20221001, 20220801]\n",
    );
    let server = start(&fixture);
    for n in 1..=3 {
        let answer = check(
            &server,
            "/check_firmware",
            "2.2.2022",
            &format!("10.2.0.{n}"),
        );
        assert_eq!(answer["update_available"], false);
    }
    let answer = check(&server, "/check_firmware", "1.8.2022", "10.2.1.1");
    assert_eq!(
        (
            answer["update_available"].clone(),
            answer["version"].clone()
        ),
        (false.into(), 0.into())
    );
    let status = admin_json(&server, "/status");
    let unmapped = status["unmapped_build_dates"].as_array().expect("list");
    let unknown = unmapped
        .iter()
        .find(|d| d["build_date"] == 20220202)
        .expect("the unknown date listed");
    assert_eq!(
        (unknown["kind"].as_str(), unknown["devices"].as_u64()),
        (Some("unknown"), Some(3))
    );
    assert_eq!(unknown["served_by"], serde_json::Value::Null);
    let ambiguous = unmapped
        .iter()
        .find(|d| d["build_date"] == 20220801)
        .expect("the ambiguous date listed");
    assert_eq!(ambiguous["kind"], "ambiguous");
    assert_eq!(ambiguous["lines"], serde_json::json!(["C.1", "C.3"]));
    assert!(
        server.wait_for_log(
            "build date 20220801 belongs to several lines (C.1, C.3)",
            DEADLINE
        ),
        "{}",
        server.log()
    );
    let metrics = common::admin(&server, "/metrics").text();
    assert!(
        metrics.contains("kkt_unmapped_build_date_devices{kind=\"unknown\"} 3"),
        "{metrics}"
    );
    let page = common::admin(&server, "/").text();
    assert!(
        page.contains("data-build-date=\"20220202\" data-kind=\"unknown\"")
            && page.contains("data-build-date=\"20220801\" data-kind=\"ambiguous\"")
            && page.contains("class=\"line-releases\" data-line=\"C.3\""),
        "{page}"
    );
    assert_eq!(status["fleet"]["no_line"], 4, "{}", status["fleet"]);
    assert!(
        page.contains("id=\"no-line\" class=\"problem\">4<"),
        "{page}"
    );
    let lines = status["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["name"], "C.3");
    assert_eq!(lines[1]["current_release"]["version"], 20221228);
    assert_eq!(lines[1]["known_builds"], serde_json::json!([20220915]));
}

#[test]
fn drivers_configured_per_line_get_that_line_only() {
    let fixture = two_lines();
    let server = start(&fixture);
    // A date of neither line, asked on C.3's own URL: C.3's newest.
    let answer = check(&server, "/lines/C.3/check_firmware", "1.1.2020", "10.3.0.1");
    assert_eq!(answer["version"], 20221228);
    assert_eq!(answer["update_available"], true);
    // Even a C.1 date: the driver said which line it is.
    let answer = check(
        &server,
        "/lines/C.3/check_firmware",
        "19.1.2023",
        "10.3.0.1",
    );
    assert_eq!(
        (
            answer["version"].clone(),
            answer["update_available"].clone()
        ),
        (20221228.into(), false.into())
    );
    // A line that does not exist: still a 200 (a non-200 stops the JavaPOS driver).
    let answer = check(&server, "/lines/C.9/check_firmware", "1.1.2020", "10.3.0.1");
    assert_eq!(answer["update_available"], false);
    assert!(server.wait_for_log("there is no line \"C.9\"", DEADLINE));
    let response = server.post("/lines/C.1/feature_licenses", "{\"serial\": \"12345\"}");
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["licenses"], "a".repeat(128));
    assert_eq!(server.get("/lines/C.1/check_firmware", &[]).status, 405);
}

/// The device list and its CSV filter by line: an operator exports the FFD 1.2 registers
/// alone, or the ones still on FFD 1.05.
#[test]
fn the_device_list_and_csv_filter_by_line() {
    let fixture = two_lines();
    let server = start(&fixture);
    for n in 1..=3 {
        check(
            &server,
            "/check_firmware",
            "1.6.2022",
            &format!("10.5.1.{n}"),
        );
    }
    for n in 1..=2 {
        check(
            &server,
            "/check_firmware",
            "15.9.2022",
            &format!("10.5.3.{n}"),
        );
    }
    eventually("five devices stored", DEADLINE, || {
        (admin_json(&server, "/devices")["total"] == 5).then_some(())
    });
    let listed = |query: &str| -> Vec<(String, String)> {
        let list = admin_json(&server, &format!("/devices?{query}"));
        let mut devices: Vec<(String, String)> = list["devices"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|d| {
                        (
                            d["address"].as_str().unwrap_or("?").to_string(),
                            d["line"].as_str().unwrap_or("?").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        devices.sort();
        assert_eq!(list["total"], devices.len(), "{query}: {list}");
        devices
    };
    let c3: Vec<(String, String)> = (1..=2)
        .map(|n| (format!("10.5.3.{n}"), "C.3".to_string()))
        .collect();
    assert_eq!(listed("line=C.3"), c3);
    assert_eq!(listed("line=C.1").len(), 3);
    assert!(
        listed("line=C.9").is_empty(),
        "a line nobody is on lists nobody"
    );

    let csv = admin(&server, "/devices.csv?line=C.1");
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body).expect("UTF-8");
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        rows.iter()
            .all(|row| row.starts_with("10.5.1.") && row.contains(";C.1;")),
        "{text}"
    );
}

#[test]
fn unknown_dates_go_to_the_default_line_only_while_every_line_reads() {
    let fixture = two_lines();
    fixture.release("20180125", None);
    let server = start(&fixture);
    let answer = check(&server, "/check_firmware", "1.1.2018", "10.4.0.1");
    assert_eq!(answer["version"], 20180125);
    assert!(answer["url"]
        .as_str()
        .expect("url")
        .ends_with("/firmware/20180125/upd_app.bin"));
    // The C.3 line's devices keep to C.3.
    assert_eq!(
        check(&server, "/check_firmware", "15.9.2022", "10.4.0.1")["version"],
        20221228
    );
    drop(server);

    // A line whose line.yaml was never valid: its devices cannot be told apart from
    // unknown ones, so unknown dates get no update rather than the default line's.
    let fixture = two_lines();
    fixture.release("20180125", None);
    fixture.write("firmware/C.3/line.yaml", "known_build: [20220915]\n");
    let server = start(&fixture);
    let answer = check(&server, "/check_firmware", "15.9.2022", "10.4.0.2");
    assert_eq!(
        (
            answer["update_available"].clone(),
            answer["version"].clone()
        ),
        (false.into(), 0.into())
    );
    let status = admin_json(&server, "/status");
    assert!(
        status["lines_out"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("unknown field `known_build`")),
        "{}",
        status["lines_out"]
    );
    // Mended: the line serves.
    fixture.write("firmware/C.3/line.yaml", "known_builds: [20220915]\n");
    eventually("the mended line serves", DEADLINE, || {
        (check(&server, "/check_firmware", "15.9.2022", "10.4.0.2")["version"] == 20221228)
            .then_some(())
    });
}

#[test]
fn check_shows_lines_and_names_a_line_yaml_typo() {
    let fixture = two_lines();
    let (passed, report, _) = run_check(fixture.dir.path());
    assert!(passed, "{report}");
    assert!(report.contains("line C.3 \"ФФД 1.2\""), "{report}");
    assert!(report.contains("known builds: 20220915"), "{report}");
    assert!(report.contains("critical version: 20221228"), "{report}");
    assert!(report.contains("20230119 current"), "{report}");
    fixture.write("firmware/C.1/line.yaml", "known_builds: [20221301]\n");
    let (passed, report, _) = run_check(fixture.dir.path());
    assert!(!passed, "{report}");
    assert!(
        report.contains(
            "line C.1 is not served: line.yaml: known_builds: 20221301 is not a real date"
        ),
        "{report}"
    );
}

#[test]
fn a_release_copied_into_a_line_is_published_by_the_same_rules() {
    use std::io::Write;
    let fixture = two_lines();
    let server = start(&fixture);
    let folder = fixture.path("firmware/C.3/20230301");
    fs::create_dir(&folder).expect("folder");
    fs::write(
        folder.join("upd_app_for_old_frs.bin"),
        firmware_bytes("20230301", "upd_app_for_old_frs.bin"),
    )
    .expect("old");
    // A copy still writing its first file: never offered, however long it waits.
    let mut writer = fs::File::create(folder.join("upd_app.bin")).expect("create");
    writer
        .write_all(&firmware_bytes("20230301", "upd_app.bin")[..1000])
        .expect("write");
    writer.flush().expect("flush");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        assert_eq!(
            check(&server, "/check_firmware", "15.9.2022", "10.5.0.1")["version"],
            20221228
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    writer
        .write_all(&firmware_bytes("20230301", "upd_app.bin")[1000..])
        .expect("write");
    drop(writer);
    eventually("the finished copy offered to C.3", DEADLINE, || {
        (check(&server, "/check_firmware", "15.9.2022", "10.5.0.1")["version"] == 20230301)
            .then_some(())
    });
    let response = server.get("/firmware/C.3/20230301/upd_app.bin", &[]);
    assert_eq!(response.body, firmware_bytes("20230301", "upd_app.bin"));
    // C.1 devices are not affected.
    assert_eq!(
        check(&server, "/check_firmware", "1.6.2022", "10.5.0.2")["version"],
        20230119
    );
}
