//! A register's page (`/devices/<address>`) says which rule of a rollout keeps it from a
//! newer release, with the figures, in JSON (`why.kept_by`: a `code` per rule) and in the
//! HTML, against the real binary with SQLite: its bucket against the current stage's share
//! (then, after the stage advances, nothing but its next check, and it is offered the
//! release at that check); a window that excludes the server's local time; the hourly cap
//! with one admitted this hour; a rollout halted by its stuck registers (until an edit of
//! `rollout:`); a paused rollout. The page admits nobody. Addresses come through
//! `X-Forwarded-For` from a trusted proxy (127.0.0.1); hours pass on the server's test clock.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::common::march_rollout::{march_meta, march_rollout_status, march_under_rollout};
use crate::common::{admin_addr, eventually, raw_request, Fixture, Server, DEADLINE};

/// Registers on 20250101, the release everyone has: only 20250301 is newer.
const ON_JANUARY: &str = "1.1.2025";

fn start(fixture: &Fixture, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut all = vec!["--admin-listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Server::start(fixture.dir.path(), &all, envs)
}

/// The version `address` on `build` is offered (0: none).
fn check_in(server: &Server, address: &str, build: &str) -> u64 {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let answer = response.json();
    if answer["update_available"] == true {
        answer["version"].as_u64().expect("version")
    } else {
        0
    }
}

/// `GET /devices/<address>` with `headers`, once the inventory knows the register.
fn page(server: &Server, address: &str, headers: &[(&str, &str)]) -> String {
    let addr = admin_addr(server);
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    eventually(&format!("the page of {address}"), DEADLINE, || {
        let response = raw_request(
            addr,
            format!(
                "GET /devices/{address} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        (response.status == 200).then(|| response.text())
    })
}

/// The page's `why`, in English.
fn why(server: &Server, address: &str) -> serde_json::Value {
    let text = page(
        server,
        address,
        &[("Accept", "application/json"), ("Accept-Language", "en")],
    );
    let page: serde_json::Value = serde_json::from_str(&text).expect("json");
    page["why"].clone()
}

/// The page for a browser, in `language`.
fn html(server: &Server, address: &str, language: &str) -> String {
    page(
        server,
        address,
        &[("Accept", "text/html"), ("Accept-Language", language)],
    )
}

/// The address's bucket for release 20250301 of the default line (PROTOCOL.md's formula).
fn bucket(address: &str) -> u64 {
    let digest = Sha256::digest(format!("{address}||20250301").as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 100
}

const THREE_STAGES: &str =
    "stages:\n  - {percent: 10, soak: 1h, min_updated: 0, success_percent: 0}\n  \
     - {percent: 50, soak: 1h, min_updated: 0, success_percent: 0}\n  - {percent: 100}";

#[test]
fn a_register_kept_by_its_bucket_is_told_so_and_admitted_once_the_stage_advances() {
    let fixture = march_under_rollout(THREE_STAGES);
    let clock = fixture.test_clock();
    let server = start(&fixture, &[], &[]);
    // A register whose bucket the first stage (below 10) leaves out and the second takes.
    let address = (0..1000)
        .map(|i| format!("10.7.{}.{}", i / 250, 1 + i % 250))
        .find(|a| (10..50).contains(&bucket(a)))
        .expect("an address with a bucket from 10 to 49");
    let b = bucket(&address);
    assert_eq!(check_in(&server, &address, ON_JANUARY), 0);
    eventually("stage 1 recorded", DEADLINE, || {
        (march_rollout_status(&server)["stage"]["since"].is_u64()).then_some(())
    });

    let why1 = why(&server, &address);
    assert_eq!(why1["code"], "not_admitted", "{why1}");
    assert_eq!(why1["percent"], 10, "{why1}");
    let kept = &why1["kept_by"];
    assert_eq!(kept["code"], "not_in_percent", "{why1}");
    assert_eq!(kept["bucket"], b, "{why1}");
    assert_eq!(kept["percent"], 10, "{why1}");
    assert_eq!(kept["stage"]["number"], 1, "{why1}");
    assert_eq!(kept["stage"]["of"], 3, "{why1}");
    assert_eq!(kept["stage"]["state"], "soaking", "{why1}");
    assert_eq!(kept["stage"]["next_percent"], 50, "{why1}");
    let said = format!("is {b}, and stage 1 of 3 admits buckets below 10.");
    assert!(why1["text"].as_str().unwrap().contains(&said), "{why1}");
    assert!(
        why1["text"]
            .as_str()
            .unwrap()
            .contains(" more before stage 2 (buckets below 50) may start."),
        "the stage it waits for: {why1}"
    );
    let english = html(&server, &address, "en");
    assert!(
        english.contains("data-kept-by=\"not_in_percent\""),
        "{english}"
    );
    assert!(english.contains(&said), "{english}");
    let russian = html(&server, &address, "ru");
    assert!(
        russian.contains(&format!("— {b}, а этап 1 из 3 допускает номера ниже 10.")),
        "{russian}"
    );

    // The soak passes on the server's clock; the watch starts stage 2 (below 50).
    clock.advance(Duration::from_secs(3601));
    eventually("stage 2", DEADLINE, || {
        (march_rollout_status(&server)["stage"]["number"] == 2).then_some(())
    });
    let why2 = why(&server, &address);
    assert_eq!(why2["code"], "not_admitted", "{why2}");
    assert_eq!(why2["percent"], 50, "the current stage's share: {why2}");
    assert_eq!(why2["kept_by"]["code"], "admitted_at_next_check", "{why2}");
    assert_eq!(why2["kept_by"]["stage"]["number"], 2, "{why2}");
    assert!(
        why2["text"]
            .as_str()
            .unwrap()
            .contains("(50% of registers)"),
        "{why2}"
    );
    assert!(
        html(&server, &address, "en").contains("it is admitted at its next update check"),
        "the HTML says it"
    );
    // Asking the page admitted nobody: the register is admitted by its own check.
    assert_eq!(march_rollout_status(&server)["admitted"], 0);
    assert_eq!(check_in(&server, &address, ON_JANUARY), 20250301);
    let why3 = why(&server, &address);
    assert_eq!(why3["code"], "offered", "{why3}");
    assert_eq!(why3["version"], 20250301, "{why3}");
}

#[test]
fn a_register_outside_the_window_is_told_the_window_and_the_local_time() {
    // The server runs in UTC; the window is the hour starting two hours from now.
    let now = chrono::Utc::now();
    let window = format!(
        "{}-{}",
        (now + chrono::Duration::hours(2)).format("%H:%M"),
        (now + chrono::Duration::hours(3)).format("%H:%M")
    );
    let fixture = march_under_rollout(&format!("window: \"{window}\""));
    let clock = fixture.test_clock();
    let server = start(&fixture, &[], &[("TZ", "UTC")]);
    assert_eq!(check_in(&server, "10.8.0.1", ON_JANUARY), 0);

    let why = why(&server, "10.8.0.1");
    assert_eq!(why["code"], "not_admitted", "{why}");
    assert_eq!(why["kept_by"]["code"], "outside_window", "{why}");
    assert_eq!(why["kept_by"]["window"], window.as_str(), "{why}");
    // The local time the rule compared: the server's, now (a minute either way).
    let shown = why["kept_by"]["local_time"].as_str().expect("local_time");
    let near: Vec<String> = [-1i64, 0, 1, 2]
        .iter()
        .map(|m| {
            (now + chrono::Duration::minutes(*m))
                .format("%H:%M")
                .to_string()
        })
        .collect();
    assert!(near.iter().any(|t| t == shown), "{shown} not near {near:?}");
    let said = format!("within the window {window} (server local time), and it is {shown}");
    assert!(why["text"].as_str().unwrap().contains(&said), "{why}");
    let english = html(&server, "10.8.0.1", "en");
    assert!(english.contains(&said), "{english}");
    assert!(
        english.contains("data-kept-by=\"outside_window\""),
        "{english}"
    );
    assert!(
        html(&server, "10.8.0.1", "ru").contains(&format!("только в окне {window}")),
        "in Russian too"
    );

    // Two hours and five minutes later (on the server's clock) the window is open.
    clock.advance(Duration::from_secs(2 * 3600 + 300));
    let later = self::why(&server, "10.8.0.1");
    assert_eq!(
        later["kept_by"]["code"], "admitted_at_next_check",
        "{later}"
    );
    assert_eq!(check_in(&server, "10.8.0.1", ON_JANUARY), 20250301);
}

#[test]
fn a_register_held_by_the_hourly_cap_is_told_the_cap_and_the_hours_count() {
    let fixture = march_under_rollout("max_new_per_hour: 1");
    let clock = fixture.test_clock();
    let server = start(&fixture, &[], &[]);
    assert_eq!(check_in(&server, "10.9.0.1", ON_JANUARY), 20250301);
    assert_eq!(check_in(&server, "10.9.0.2", ON_JANUARY), 0);

    let why = why(&server, "10.9.0.2");
    assert_eq!(why["code"], "not_admitted", "{why}");
    let kept = &why["kept_by"];
    assert_eq!(kept["code"], "hourly_cap_reached", "{why}");
    assert_eq!(kept["max_new_per_hour"], 1, "{why}");
    assert_eq!(kept["admitted_last_hour"], 1, "{why}");
    let said = "The hourly cap is reached: 1 admitted in the last hour, at most 1 per hour.";
    assert!(why["text"].as_str().unwrap().contains(said), "{why}");
    let english = html(&server, "10.9.0.2", "en");
    assert!(english.contains(said), "{english}");
    assert!(
        html(&server, "10.9.0.2", "ru").contains(
            "Лимит в час исчерпан: за последний час допущено 1, можно не больше 1 в час."
        ),
        "in Russian too"
    );
    // The admitted one is offered, with no rule.
    let first = self::why(&server, "10.9.0.1");
    assert_eq!(first["code"], "offered", "{first}");
    assert!(first["kept_by"].is_null(), "{first}");

    // An hour later the cap has room again.
    clock.advance(Duration::from_secs(3601));
    let later = self::why(&server, "10.9.0.2");
    assert_eq!(
        later["kept_by"]["code"], "admitted_at_next_check",
        "{later}"
    );
}

#[test]
fn a_register_of_a_halted_rollout_is_told_the_stuck_share_and_how_to_resume() {
    let fixture = march_under_rollout("halt_when_stuck_percent: 5");
    let clock = fixture.test_clock();
    let server = start(&fixture, &["--stuck-after-s", "3600"], &[]);
    // 20 registers take the release, download it in full and never come back updated.
    for i in 0..20 {
        let a = format!("10.10.0.{}", i + 1);
        assert_eq!(check_in(&server, &a, "1.12.2024"), 20250301);
        let response = server.get("/firmware/20250301/upd_app.bin", &[("X-Forwarded-For", &a)]);
        assert_eq!(response.status, 200);
    }
    clock.advance(Duration::from_secs(3601));
    eventually("the rollout halted", Duration::from_secs(30), || {
        march_rollout_status(&server)["halted"]
            .is_object()
            .then_some(())
    });
    assert_eq!(check_in(&server, "10.10.1.1", ON_JANUARY), 0);

    let why = why(&server, "10.10.1.1");
    assert_eq!(why["code"], "not_admitted", "{why}");
    let kept = &why["kept_by"];
    assert_eq!(kept["code"], "halted", "{why}");
    assert_eq!(kept["stuck"], 20, "{why}");
    assert_eq!(kept["finished"], 20, "{why}");
    assert_eq!(kept["stuck_percent"], "100%", "{why}");
    assert_eq!(kept["halt_when_stuck_percent"], "5%", "{why}");
    assert!(kept["since"].as_u64().is_some_and(|s| s > 0), "{why}");
    let said = "20 of the 20 registers that downloaded it are stuck (100%, above 5%). An edit \
                of rollout: in its meta.yaml resumes it.";
    assert!(why["text"].as_str().unwrap().contains(said), "{why}");
    let english = html(&server, "10.10.1.1", "en");
    assert!(english.contains(said), "{english}");
    assert!(english.contains("data-kept-by=\"halted\""), "{english}");
    assert!(
        html(&server, "10.10.1.1", "ru").contains("застряли 20 из 20 касс"),
        "in Russian too"
    );

    // The edit it names resumes the rollout, and the page says so.
    fixture.write(
        "firmware/20250301/meta.yaml",
        march_meta("halt_when_stuck_percent: 5\npaused: false"),
    );
    eventually("the rollout resumed on the page", DEADLINE, || {
        (self::why(&server, "10.10.1.1")["kept_by"]["code"] == "admitted_at_next_check")
            .then_some(())
    });
}

#[test]
fn a_register_of_a_paused_rollout_is_told_it_is_paused() {
    let fixture = march_under_rollout("paused: true");
    let server = start(&fixture, &[], &[]);
    assert_eq!(check_in(&server, "10.11.0.1", ON_JANUARY), 0);
    let why = why(&server, "10.11.0.1");
    assert_eq!(why["code"], "not_admitted", "{why}");
    assert_eq!(why["paused"], true, "{why}");
    assert_eq!(why["kept_by"]["code"], "paused", "{why}");
    assert_eq!(why["kept_by"]["percent"], 100, "{why}");
    let said = "The rollout is paused: no new register is admitted.";
    assert!(why["text"].as_str().unwrap().contains(said), "{why}");
    let english = html(&server, "10.11.0.1", "en");
    assert!(english.contains(said), "{english}");
    assert!(english.contains("data-kept-by=\"paused\""), "{english}");
    assert!(
        html(&server, "10.11.0.1", "ru").contains("Выпуск приостановлен"),
        "in Russian too"
    );
}

#[test]
fn a_register_waiting_for_a_stage_that_lacks_confirmations_is_told_what_it_lacks() {
    let fixture = march_under_rollout(
        "stages:\n  - {percent: 0, soak: 1h, min_updated: 1, success_percent: 90}\n  - {percent: 100}",
    );
    let clock = fixture.test_clock();
    let server = start(&fixture, &[], &[]);
    assert_eq!(check_in(&server, "10.12.0.1", ON_JANUARY), 0);
    eventually("stage 1 recorded", DEADLINE, || {
        (march_rollout_status(&server)["stage"]["since"].is_u64()).then_some(())
    });
    // Soaked, and nobody confirmed anything: the stage waits.
    clock.advance(Duration::from_secs(3601));
    eventually("stage 1 waiting", DEADLINE, || {
        (march_rollout_status(&server)["stage"]["state"] == "waiting").then_some(())
    });
    let why = why(&server, "10.12.0.1");
    let kept = &why["kept_by"];
    assert_eq!(kept["code"], "not_in_percent", "{why}");
    assert_eq!(kept["percent"], 0, "{why}");
    assert_eq!(kept["stage"]["state"], "waiting", "{why}");
    assert_eq!(kept["stage"]["next_percent"], 100, "{why}");
    let lacks = "0 of 0 downloads confirmed (0%, needs 90%), 0 updated (needs 1)";
    assert_eq!(kept["stage"]["waiting_for"], lacks, "{why}");
    let said = format!(
        "Stage 1 has soaked and waits for confirmations before stage 2 (buckets below 100) \
         starts: {lacks}."
    );
    assert!(why["text"].as_str().unwrap().contains(&said), "{why}");
    assert!(
        html(&server, "10.12.0.1", "en").contains(&said),
        "the HTML says it"
    );
    assert!(
        html(&server, "10.12.0.1", "ru").contains("ждёт подтверждений"),
        "in Russian too"
    );
}
