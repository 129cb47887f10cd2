//! `POST /feature_licenses` against the real binary: `.slf` (CRLF, BOM) and YAML files,
//! padding of short serials, later files winning, and the errors.

use crate::common;

use crate::common::{slf_line, Fixture};

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    // The vendor's format with CRLF endings and a BOM, plus a bad line that must be skipped.
    let slf = format!(
        "\u{feff}{}\r\n\r\n{}\r\nnot a license line\r\n{}\r\n",
        slf_line("0000000000012345", 'f', 'A'),
        slf_line("0000000000000777", '7', 'b'),
        slf_line("0000000000000888", '8', 'c'),
    );
    fixture.write("licenses/vendor.slf", slf);
    // A later YAML file overrides serial 777.
    let yaml = format!(
        "\"0000000000000777\":\n  licenses: {}\n  signature: {}\n",
        "e".repeat(128),
        "0123456789DEADBEEF"
            .repeat(8)
            .chars()
            .take(128)
            .collect::<String>()
    );
    fixture.write("override.yaml", yaml);
    fixture.write_config("settle_ms: 0\nlicenses:\n  - licenses/vendor.slf\n  - override.yaml\n");
    fixture
}

#[test]
fn serials_as_strings_numbers_and_short_strings() {
    let fixture = fixture();
    let server = fixture.start();
    let expected = format!(
        r#"{{"licenses": "{}", "signature": "{}"}}"#,
        "f".repeat(128),
        "A".repeat(128)
    );
    for body in [
        r#"{"serial": "0000000000012345"}"#,
        r#"{"serial": 12345}"#,
        r#"{"serial": "12345"}"#,
        r#"{"serial": " 12345 "}"#,
    ] {
        let response = server.post_with(
            "/feature_licenses",
            body,
            &[("Content-Type", "application/x-www-form-urlencoded")],
        );
        assert_eq!(response.status, 200, "{body}: {}", response.text());
        assert_eq!(
            response.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        assert_eq!(response.text(), expected, "{body}");
    }
}

#[test]
fn later_files_win_and_the_hex_keeps_its_case() {
    let fixture = fixture();
    let server = fixture.start();
    let answer = server
        .post("/feature_licenses", r#"{"serial": "777"}"#)
        .json();
    assert_eq!(answer["licenses"], "e".repeat(128));
    assert!(
        answer["signature"]
            .as_str()
            .unwrap_or("")
            .starts_with("0123456789DEADBEEF0123"),
        "{answer}"
    );
    let answer = server
        .post("/feature_licenses", r#"{"serial": 888}"#)
        .json();
    assert_eq!(
        answer["licenses"],
        "8".repeat(128),
        "lines after a bad line still load"
    );
    let log = server.log();
    assert!(
        log.contains("vendor.slf:4: expected 3 tab-separated fields"),
        "{log}"
    );
    assert!(log.contains("1 serial(s) also in"), "{log}");
}

#[test]
fn unknown_and_malformed_serials() {
    let fixture = fixture();
    let server = fixture.start();
    let response = server.post("/feature_licenses", r#"{"serial": "99999"}"#);
    assert_eq!(response.status, 404);
    assert_eq!(
        response.error(),
        "no feature licenses for serial 0000000000099999"
    );
    let cases: &[(&str, &str)] = &[
        ("", "the request body is empty"),
        ("{\"serial\": ", "not valid JSON"),
        ("{}", "missing \"serial\""),
        ("{\"serial\": \"12a45\"}", "must be 1 to 16 digits"),
        (
            "{\"serial\": \"00000000000123456\"}",
            "must be 1 to 16 digits",
        ),
        ("{\"serial\": -5}", "must be 1 to 16 digits"),
        ("{\"serial\": [1]}", "must be 1 to 16 digits"),
        ("\"12345\"", "must be a JSON object"),
    ];
    for (body, message) in cases {
        let response = server.post("/feature_licenses", body);
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert!(
            response.error().contains(message),
            "{body}: {}",
            response.text()
        );
    }
    let response = server.get("/feature_licenses", &[]);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("POST"))
    );
    let big = format!("{{\"serial\": \"1\", \"x\": \"{}\"}}", "y".repeat(20_000));
    assert_eq!(server.post("/feature_licenses", &big).status, 413);
}

#[test]
fn the_vendors_sample_file_loads() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vendor-sample.slf");
    let bytes = std::fs::read(&sample).expect("the vendor's sample is in the repo");
    let fixture = Fixture::new();
    fixture.write("licenses.slf", bytes);
    fixture.write_config("settle_ms: 0\nlicenses: [licenses.slf]\n");
    let server = fixture.start();
    let answer = server
        .post("/feature_licenses", r#"{"serial": "0000000000012345"}"#)
        .json();
    assert!(
        answer["licenses"]
            .as_str()
            .unwrap_or("")
            .starts_with("ff0000"),
        "{answer}"
    );
    assert!(
        answer["signature"]
            .as_str()
            .unwrap_or("")
            .starts_with("0123456789DEADBEEF"),
        "{answer}"
    );
}

/// A license file far larger than any fleet's (a wrong file) is not read into memory: it is
/// reported, and no serial comes from it.
#[test]
fn a_license_file_over_1_gib_is_refused_not_read() {
    let fixture = common::Fixture::new();
    fixture.release("20180125", None);
    let big = std::fs::File::create(fixture.path("huge.slf")).expect("file");
    big.set_len(1100 * 1024 * 1024).expect("size");
    drop(big);
    fixture.write_config("settle_ms: 0\nlicenses: [huge.slf]\n");
    let (_, report, _) = common::run_check(fixture.dir.path());
    assert!(report.contains("larger than 1024 MiB"), "{report}");
    assert!(report.contains("0 serials"), "{report}");
}
