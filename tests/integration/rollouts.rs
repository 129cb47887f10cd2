//! Staged rollouts against the real binary. Addresses come through `X-Forwarded-For` from a
//! trusted proxy (127.0.0.1), so one test plays a thousand registers: `percent` admits its
//! share and raising it keeps everyone admitted before; pilots are always admitted; `paused`
//! admits nobody new while the admitted keep their offer; the hourly cap admits exactly its
//! number, and as many again an hour later; a window that excludes now admits nobody new; a
//! restart keeps admissions and the hour's count; stuck devices halt a rollout until its
//! `meta.yaml` is edited; a critical release in pilot makes only its pilots critical. The
//! hours pass on the server's test clock (`common::TestClock`), not on the wall.

use std::time::Duration;

use crate::common::march_rollout::{
    march_meta, march_rollout_status, march_under_rollout, PROXIED_CONFIG,
};
use crate::common::{admin, eventually, Fixture, Server, DEADLINE};

fn start(fixture: &Fixture, envs: &[(&str, &str)]) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], envs)
}

fn check_in(server: &Server, address: &str, build: &str) -> serde_json::Value {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// The version an address on firmware of 2024 is offered.
fn offered(server: &Server, address: &str) -> u64 {
    check_in(server, address, "1.12.2024")["version"]
        .as_u64()
        .expect("version")
}

fn address(i: u32) -> String {
    format!("10.{}.{}.{}", 100 + i / 65_536, i / 256 % 256, i % 256)
}

/// Rewrites the release's meta.yaml and waits until the server shows the new settings.
fn edit_rollout(fixture: &Fixture, server: &Server, rollout: &str, shows: &str) {
    fixture.write("firmware/20250301/meta.yaml", march_meta(rollout));
    eventually(&format!("rollout {shows}"), DEADLINE, || {
        march_rollout_status(server)["settings"]
            .as_str()
            .is_some_and(|s| s == shows)
            .then_some(())
    });
}

#[test]
fn percent_admits_its_share_and_raising_it_keeps_the_first_ones() {
    let fixture = march_under_rollout("percent: 30");
    let server = start(&fixture, &[]);
    let first: Vec<u32> = (0..1000)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .collect();
    assert!(
        (250..=350).contains(&first.len()),
        "30% of 1000 ± 5%: {}",
        first.len()
    );
    // Not admitted: the next release down, never nothing.
    let other = (0..1000)
        .find(|i| !first.contains(i))
        .expect("one not admitted");
    assert_eq!(offered(&server, &address(other)), 20250101);
    edit_rollout(&fixture, &server, "percent: 60", "60%");
    let second: Vec<u32> = (0..1000)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .collect();
    assert!((550..=650).contains(&second.len()), "{}", second.len());
    for i in &first {
        assert!(
            second.contains(i),
            "{} admitted at 30% but not at 60%",
            address(*i)
        );
    }
    // Even lowered to 0, the admitted stay admitted.
    edit_rollout(&fixture, &server, "percent: 0", "0%");
    assert_eq!(offered(&server, &address(first[0])), 20250301);
    let status = march_rollout_status(&server);
    assert_eq!(status["admitted"], second.len() as u64, "{status}");
}

#[test]
fn pilots_are_always_admitted_and_paused_admits_nobody_new() {
    let fixture = march_under_rollout("percent: 0\npilot: [10.200.0.0/16, 192.0.2.15]");
    let server = start(&fixture, &[]);
    assert_eq!(offered(&server, "10.200.3.4"), 20250301);
    assert_eq!(offered(&server, "192.0.2.15"), 20250301);
    assert_eq!(offered(&server, "192.0.2.16"), 20250101);
    edit_rollout(
        &fixture,
        &server,
        "percent: 100\npaused: true\npilot: [10.200.0.0/16]",
        "100%, pilot 10.200.0.0/16, paused",
    );
    for i in 0..50 {
        assert_eq!(offered(&server, &address(i)), 20250101, "{}", address(i));
    }
    // Admitted before the pause: still offered it.
    assert_eq!(offered(&server, "192.0.2.15"), 20250301);
    // Pilots still join.
    assert_eq!(offered(&server, "10.200.9.9"), 20250301);
    assert_eq!(march_rollout_status(&server)["state"], "paused");
    let page = admin(&server, "/").text();
    assert!(page.contains("data-state=\"paused\""), "{page}");
    edit_rollout(&fixture, &server, "percent: 100", "100%");
    assert_eq!(offered(&server, &address(0)), 20250301);
}

#[test]
fn the_hourly_cap_admits_exactly_its_number() {
    let fixture = march_under_rollout("max_new_per_hour: 10");
    let clock = fixture.test_clock();
    let server = start(&fixture, &[]);
    let admitted = (0..40)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .count();
    assert_eq!(admitted, 10);
    let status = march_rollout_status(&server);
    assert_eq!(status["remaining_this_hour"], 0, "{status}");
    assert_eq!(status["state"], "hourly_cap_reached");
    // A register already on the release or newer needs no admission and uses no cap.
    let answer = check_in(&server, &address(41), "1.3.2025");
    assert_eq!(answer["update_available"], false);
    // An hour later (the server's clock moved, not waited for): ten more, and no more.
    clock.advance(Duration::from_secs(3601));
    let later = (100..140)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .count();
    assert_eq!(later, 10);
    let status = march_rollout_status(&server);
    assert_eq!(status["admitted"], 20, "{status}");
    assert_eq!(status["remaining_this_hour"], 0, "{status}");
}

#[test]
fn a_window_that_excludes_now_admits_nobody_new() {
    // The server runs in UTC; the window is the two hours starting an hour from now.
    let now = chrono::Utc::now();
    let start_h = (now + chrono::Duration::hours(1))
        .format("%H:00")
        .to_string();
    let end_h = (now + chrono::Duration::hours(3))
        .format("%H:00")
        .to_string();
    let window = format!("{start_h}-{end_h}");
    let fixture = march_under_rollout(&format!("window: \"{window}\"\npilot: [192.0.2.0/24]"));
    let server = start(&fixture, &[("TZ", "UTC")]);
    for i in 0..30 {
        assert_eq!(offered(&server, &address(i)), 20250101);
    }
    assert_eq!(
        offered(&server, "192.0.2.1"),
        20250301,
        "pilots ignore the window"
    );
    let status = march_rollout_status(&server);
    assert_eq!(status["state"], "outside_window", "{status}");
    assert_eq!(status["window"], window.as_str());
    // A window around now admits.
    let around = format!(
        "{}-{}",
        (now - chrono::Duration::hours(1)).format("%H:00"),
        (now + chrono::Duration::hours(2)).format("%H:00")
    );
    edit_rollout(
        &fixture,
        &server,
        &format!("window: \"{around}\""),
        &format!("100%, window {around}"),
    );
    assert_eq!(offered(&server, &address(0)), 20250301);
}

#[test]
fn a_restart_keeps_admissions_and_the_hours_count() {
    let fixture = march_under_rollout("max_new_per_hour: 5");
    let clock = fixture.test_clock();
    let mut server = start(&fixture, &[]);
    let admitted: Vec<u32> = (0..20)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .collect();
    assert_eq!(admitted.len(), 5);
    // The writer flushes within a second; a stop writes what is queued anyway.
    assert!(server.terminate(DEADLINE));
    let server = start(&fixture, &[]);
    for i in &admitted {
        assert_eq!(offered(&server, &address(*i)), 20250301, "{}", address(*i));
    }
    assert_eq!(
        offered(&server, &address(30)),
        20250101,
        "the five of this hour still count against the cap"
    );
    let devices = admin(&server, "/devices?admitted=20250301").json();
    assert_eq!(devices["total"], 5, "{devices}");
    // The restored count is of that hour: an hour later, five more.
    clock.advance(Duration::from_secs(3601));
    let later = (40..60)
        .filter(|i| offered(&server, &address(*i)) == 20250301)
        .count();
    assert_eq!(later, 5);
}

#[test]
fn stuck_devices_halt_a_rollout_until_its_meta_yaml_is_edited() {
    let fixture = march_under_rollout("halt_when_stuck_percent: 5");
    let clock = fixture.test_clock();
    let server = Server::start(
        fixture.dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--stuck-after-s", "3600"],
        &[],
    );
    // 25 registers take the release, download it in full and never come back updated.
    for i in 0..25 {
        let a = address(i);
        assert_eq!(offered(&server, &a), 20250301);
        let response = server.get("/firmware/20250301/upd_app.bin", &[("X-Forwarded-For", &a)]);
        assert_eq!(response.status, 200);
    }
    // An hour passes (on the server's clock): stuck, all 25.
    clock.advance(Duration::from_secs(3601));
    let halted = eventually("the rollout halted", Duration::from_secs(30), || {
        let status = march_rollout_status(&server);
        status["halted"].is_object().then_some(status)
    });
    assert_eq!(halted["state"], "halted");
    assert_eq!(halted["halted"]["finished"], 25, "{halted}");
    assert_eq!(halted["halted"]["stuck"], 25, "{halted}");
    assert!(
        server.wait_for_log("the rollout of 20250301 (line (default)) is halted: 25 of the 25 devices that downloaded it are stuck (100%, above halt_when_stuck_percent 5%)", DEADLINE),
        "{}",
        server.log()
    );
    assert_eq!(server.log().matches("is halted:").count(), 1, "said once");
    // Nobody new; the admitted keep their offer.
    assert_eq!(offered(&server, &address(100)), 20250101);
    assert_eq!(offered(&server, &address(0)), 20250301);
    let metrics = admin(&server, "/metrics").text();
    assert!(
        metrics.contains("kkt_rollout_halted{line=\"\",version=\"20250301\"} 1"),
        "{metrics}"
    );
    let page = admin(&server, "/").text();
    assert!(
        page.contains("data-line=\"\" data-version=\"20250301\" data-state=\"halted\"")
            // The page is Russian unless the browser asks for English: the reason too.
            && page.contains("зависли 25 из 25 касс, скачавших его"),
        "{page}"
    );
    // The operator looks, then resumes by editing the rollout.
    fixture.write(
        "firmware/20250301/meta.yaml",
        march_meta("halt_when_stuck_percent: 5\npaused: false"),
    );
    eventually("the rollout resumed", DEADLINE, || {
        (offered(&server, &address(100)) == 20250301).then_some(())
    });
    let history = admin(&server, "/history").json();
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"halted") && kinds.contains(&"resumed"),
        "{kinds:?}"
    );
    // The audit trail: the halt, by the server; the edit that resumed it, as seen on disk.
    let audit = admin(&server, "/audit").json();
    let actions: Vec<(&str, &str)> = audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| Some((r["action"].as_str()?, r["actor"].as_str()?)))
        .collect();
    assert!(actions.contains(&("halt", "server")), "{actions:?}");
    assert!(
        actions.iter().any(|(action, _)| *action == "rollout_edit"),
        "{actions:?}"
    );
    assert!(server.wait_for_log(
        "the rollout of 20250301 (line (default)) is resumed",
        DEADLINE
    ));
}

#[test]
fn a_critical_release_in_pilot_is_critical_for_its_pilots_only() {
    let fixture = Fixture::new();
    fixture.write_config(PROXIED_CONFIG);
    fixture.release("20250101", None);
    fixture.release(
        "20250301",
        Some("critical: true\nrollout:\n  percent: 0\n  pilot: [192.0.2.0/24]\n"),
    );
    let server = start(&fixture, &[]);
    let pilot = check_in(&server, "192.0.2.7", "1.12.2024");
    assert_eq!(
        (pilot["version"].clone(), pilot["critical"].clone()),
        (20250301.into(), true.into())
    );
    let other = check_in(&server, "198.51.100.7", "1.12.2024");
    assert_eq!(
        (other["version"].clone(), other["critical"].clone()),
        (20250101.into(), false.into())
    );
    let current = check_in(&server, "198.51.100.8", "1.1.2025");
    assert_eq!(
        (
            current["update_available"].clone(),
            current["critical"].clone()
        ),
        (false.into(), false.into())
    );
}
