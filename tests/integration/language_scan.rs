//! The scan's own reasons in the operator's language: why a release folder is rejected (a
//! pin that does not match, a file missing), why a license file cannot be used, and why a
//! `meta.yaml`'s `rollout:` or `stages:` is refused. `check`, the log and the Russian
//! dashboard say them in Russian; English, the English dashboard and `/status` (scripts
//! read it) say them word for word as before.

use crate::common::{self, admin_addr, admin_json, raw_request, Fixture};
use crate::language::{deployment, run, start, stdout, visible_text};

const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The deployment of `language`, plus a release pinned to hashes its files do not have,
/// a release without its second file, and a license file whose only entry is bad.
fn broken_deployment() -> Fixture {
    let fixture = deployment();
    fixture.release(
        "20250401",
        Some(&format!(
            "sha256:\n  upd_app.bin: {ZEROS}\n  upd_app_for_old_frs.bin: {ZEROS}\n"
        )),
    );
    let missing = fixture.release("20250501", None);
    std::fs::remove_file(missing.join("upd_app_for_old_frs.bin")).unwrap();
    fixture.write(
        "licenses.yaml",
        "\"0000000000012345\":\n  licenses: zz\n  signature: zz\n",
    );
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\nlicenses:\n  - licenses.yaml\n");
    fixture
}

const RU_PIN: &str = "upd_app.bin не совпадает со своим sha256 в meta.yaml (указан 0000";
const EN_PIN: &str = "upd_app.bin does not match its sha256 in meta.yaml (pinned 0000";
const RU_MISSING: &str = "нет файла upd_app_for_old_frs.bin";
const EN_MISSING: &str = "upd_app_for_old_frs.bin is missing";
const RU_LICENSE: &str = "заводской номер \"0000000000012345\": licenses: ожидается 128 \
                          шестнадцатеричных цифр, найдено символов: 2";
const EN_LICENSE: &str =
    "serial \"0000000000012345\": licenses: expected 128 hex digits, found 2 characters";

#[test]
fn check_says_the_scans_reasons_in_the_operators_language() {
    let fixture = broken_deployment();
    let ru = run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]);
    let text = format!("{}{}", stdout(&ru), String::from_utf8_lossy(&ru.stderr));
    for said in [RU_PIN, RU_MISSING, RU_LICENSE] {
        assert!(text.contains(said), "{said}:\n{text}");
    }
    for english in ["does not match", "is missing", "hex digits"] {
        assert!(!text.contains(english), "{english}:\n{text}");
    }
    let en = run(&fixture, &["check"], &[("LANG", "C")]);
    let text = format!("{}{}", stdout(&en), String::from_utf8_lossy(&en.stderr));
    for said in [EN_PIN, EN_MISSING, EN_LICENSE] {
        assert!(text.contains(said), "{said}:\n{text}");
    }
}

/// The log says the reasons in Russian; the Russian dashboard shows them in Russian, the
/// English page in English, and `/status` keeps the English.
#[test]
fn the_log_and_the_dashboard_say_the_scans_reasons_in_their_language() {
    let fixture = broken_deployment();
    let server = start(&fixture, &[("LANG", "ru_RU.UTF-8")]);
    assert!(
        server.wait_for_log(RU_MISSING, common::DEADLINE),
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(log.contains(RU_PIN) && log.contains(RU_LICENSE), "{log}");
    assert!(
        !log.contains("does not match") && !log.contains("hex digits"),
        "{log}"
    );

    let admin = admin_addr(&server);
    let page = |language: &str| {
        let response = raw_request(
            admin,
            format!(
                "GET / HTTP/1.1\r\nHost: {admin}\r\nAccept-Language: {language}\r\n\
                 Connection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(response.status, 200);
        // The page escapes quotes; the reader sees them.
        visible_text(&response.text())
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
    };
    let russian = page("ru-RU,ru;q=0.9");
    for said in [RU_PIN, RU_MISSING, RU_LICENSE] {
        assert!(russian.contains(said), "{said}:\n{russian}");
    }
    let english = page("en-US");
    for said in [EN_PIN, EN_MISSING, EN_LICENSE] {
        assert!(english.contains(said), "{said}:\n{english}");
    }

    let status = admin_json(&server, "/status");
    let reason = |version: u64| {
        status["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["version"] == version)
            .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert!(reason(20250401).starts_with(EN_PIN), "{status}");
    assert_eq!(reason(20250501), EN_MISSING);
    let problems = status["licenses"]["files"][0]["problems"].to_string();
    assert!(
        problems.contains("licenses: expected 128 hex digits"),
        "{status}"
    );
}

/// A `meta.yaml` whose `rollout:` or `stages:` is refused: `check` says why in Russian,
/// and in English word for word as before.
#[test]
fn rollout_and_stage_refusals_speak_the_operators_language() {
    let fixture = deployment();
    fixture.release(
        "20250401",
        Some("rollout:\n  stages:\n    - percent: 5\n      soak: 30x\n"),
    );
    fixture.release("20250501", Some("rollout:\n  percent: 150\n"));
    fixture.release("20250601", Some("rollout:\n  pilot: [\"kassa-1\"]\n"));
    let ru = stdout(&run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]));
    for said in [
        "meta.yaml: rollout.stages, этап 1: soak \"30x\" — не длительность (ожидается целое \
         число и единица, например 30s, 15m, 24h или 7d, не больше 90d)",
        "meta.yaml: rollout.percent: 150 — не целое число от 0 до 100",
        "\"kassa-1\" — не IP-адрес и не сеть",
    ] {
        assert!(ru.contains(said), "{said}:\n{ru}");
    }
    assert!(
        !ru.contains("is not a duration") && !ru.contains("is not a whole number"),
        "{ru}"
    );
    let en = stdout(&run(&fixture, &["check"], &[("LANG", "C")]));
    for said in [
        "meta.yaml: rollout.stages, stage 1: soak \"30x\" is not a duration (expected a whole \
         number and a unit, like 30s, 15m, 24h or 7d, at most 90d)",
        "meta.yaml: rollout.percent: 150 is not a whole number from 0 to 100",
        "\"kassa-1\" is not an IP address or network (expected like 192.0.2.15 or \
         10.20.0.0/16)",
    ] {
        assert!(en.contains(said), "{said}:\n{en}");
    }
}

/// A misspelt key in `meta.yaml` (or its `rollout:`) and in `line.yaml`: Russian names the
/// key, the keys allowed and the nearest one; English is the parser's message and the hint,
/// as before.
#[test]
fn a_misspelt_key_is_named_in_the_operators_language() {
    let fixture = deployment();
    fixture.release("20250401", Some("critcal: true\n"));
    fixture.release("20250501", Some("rollout:\n  percnt: 5\n"));
    fixture.write("firmware/C.1/line.yaml", "known_build: [20221228]\n");
    let ru = stdout(&run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]));
    for said in [
        "meta.yaml: неизвестный ключ `critcal` (допустимы: `description`, `critical`, `sha256`, \
         `rollout`, `floor`, `published_by`); возможно, имелось в виду `critical`?",
        "meta.yaml: неизвестный ключ `rollout.percnt` (допустимы: `pilot`, `percent`,",
        "line.yaml: неизвестный ключ `known_build` (допустимы: `description`, `known_builds`, \
         `critical_version`); возможно, имелось в виду `known_builds`?",
    ] {
        assert!(ru.contains(said), "{said}:\n{ru}");
    }
    assert!(
        !ru.contains("unknown field") && !ru.contains("did you mean"),
        "{ru}"
    );
    let en = stdout(&run(&fixture, &["check"], &[("LANG", "C")]));
    for said in [
        "meta.yaml: unknown field `critcal`, expected one of `description`, `critical`, \
         `sha256`, `rollout`, `floor`, `published_by` at line 1 column 1; did you mean `critical`?",
        "; did you mean `percent`?",
        "line.yaml: unknown field `known_build`, expected one of `description`, \
         `known_builds`, `critical_version` at line 1 column 1; did you mean `known_builds`?",
    ] {
        assert!(en.contains(said), "{said}:\n{en}");
    }
}

/// A `firmware_dir` that holds the server's own files is refused in the operator's
/// language, naming the file in its words.
#[test]
fn a_firmware_dir_holding_the_servers_own_files_is_refused_in_russian() {
    let fixture = deployment();
    fixture.write("server.yaml", "firmware_dir: .\ninventory: \"off\"\n");
    let ru = run(&fixture, &["check"], &[("LANG", "ru_RU.UTF-8")]);
    let said = String::from_utf8_lossy(&ru.stderr).into_owned();
    assert!(!ru.status.success());
    assert!(
        said.contains("лежит файл конфигурации") && said.contains("кассы смогли бы это скачать"),
        "{said}"
    );
    let en = run(&fixture, &["check"], &[("LANG", "C")]);
    let said = String::from_utf8_lossy(&en.stderr).into_owned();
    assert!(
        said.contains("holds the configuration file") && said.contains("devices could download it"),
        "{said}"
    );
}
