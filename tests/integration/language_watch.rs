//! The rollout watch's log lines and the inventory's in the operator's language: a stage
//! forced, a rollout halted by its stuck devices and resumed, and a PostgreSQL URL refused,
//! in Russian for a Russian operator; English word for word as before (the `rollouts` and
//! `stages` areas assert it), and the English the history and `/status` store.

use std::time::Duration;

use crate::common::{admin, eventually, Fixture, Server, DEADLINE};
use crate::language::{run, stderr};

const RU: [(&str, &str); 1] = [("LANG", "ru_RU.UTF-8")];

fn meta(rollout: &str) -> String {
    let indented: String = rollout.lines().map(|l| format!("  {l}\n")).collect();
    format!("description: \"Март\"\nrollout:\n{indented}")
}

fn deployment(config: &str, rollout: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(config);
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&meta(rollout)));
    fixture
}

fn offered(server: &Server, address: &str) -> u64 {
    let response = server.post_with(
        "/check_firmware",
        "{\"build_date\": \"1.12.2024\"}",
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["version"].as_u64().expect("version")
}

#[test]
fn a_forced_stage_is_logged_in_russian() {
    let fixture = deployment(
        "settle_ms: 0\ninventory: off\n",
        "stages: [{percent: 0, soak: 0s, min_updated: 0, success_percent: 0}, {percent: 100}]\n\
         stage: 2",
    );
    let server = Server::start(fixture.dir.path(), &[], &RU);
    assert!(
        server.wait_for_log(
            "поэтапное обновление до 20250301 (линейка (основная)): этап задан вручную: этап 2 \
             (100%) задан строкой stage: 2 в meta.yaml",
            DEADLINE
        ),
        "{}",
        server.log()
    );
    assert!(
        !server.log().contains("forced by stage"),
        "{}",
        server.log()
    );
}

/// Stuck devices halt a rollout: the log says so in Russian, the Russian dashboard gives
/// the reason in Russian, `/status` and the English page keep the stored English; the
/// resume is logged in Russian too.
#[test]
fn a_halt_and_its_resume_are_said_in_russian() {
    let rollout = "halt_when_stuck_percent: 5";
    let fixture = deployment("settle_ms: 0\ntrusted_proxies: [127.0.0.1]\n", rollout);
    let clock = fixture.test_clock();
    let server = Server::start(
        fixture.dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--stuck-after-s", "3600"],
        &RU,
    );
    for i in 0..25 {
        let address = format!("10.100.0.{i}");
        assert_eq!(offered(&server, &address), 20250301);
        let response = server.get(
            "/firmware/20250301/upd_app.bin",
            &[("X-Forwarded-For", &address)],
        );
        assert_eq!(response.status, 200);
    }
    clock.advance(Duration::from_secs(3601));
    assert!(
        server.wait_for_log(
            "поэтапное обновление до 20250301 (линейка (основная)) остановлено: зависли 25 из \
             25 касс, скачавших его (100%, больше halt_when_stuck_percent 5%); новым кассам оно \
             не предлагается",
            Duration::from_secs(30)
        ),
        "{}",
        server.log()
    );
    assert!(!server.log().contains("is halted"), "{}", server.log());
    let status = admin(&server, "/status").json();
    let halted = status["rollouts"]
        .as_array()
        .expect("rollouts")
        .iter()
        .find(|r| r["version"] == 20250301)
        .map(|r| r["halted"]["reason"].clone())
        .unwrap_or_default();
    assert_eq!(
        halted,
        "25 of the 25 devices that downloaded it are stuck (100%, above \
         halt_when_stuck_percent 5%)",
        "{status}"
    );
    let page = admin(&server, "/").text();
    assert!(
        page.contains("зависли 25 из 25 касс, скачавших его"),
        "{page}"
    );
    fixture.write(
        "firmware/20250301/meta.yaml",
        meta(&format!("{rollout}\npaused: false")),
    );
    eventually("the rollout resumed", DEADLINE, || {
        (offered(&server, "10.100.1.1") == 20250301).then_some(())
    });
    assert!(
        server.wait_for_log(
            "поэтапное обновление до 20250301 (линейка (основная)) продолжено",
            DEADLINE
        ),
        "{}",
        server.log()
    );
}

#[test]
fn a_refused_postgresql_url_says_why_in_russian() {
    let fixture = Fixture::new();
    fixture.write_config("inventory: \"postgres://kkt@db.invalid/fleet?sslmode=verify-full\"\n");
    let ru = run(&fixture, &["check"], &RU);
    assert!(!ru.status.success());
    assert!(
        stderr(&ru).contains("inventory: sslmode=verify-full требует sslrootcert=<файл"),
        "{}",
        stderr(&ru)
    );
    let en = run(&fixture, &["check"], &[("LANG", "C")]);
    assert!(
        stderr(&en).contains(
            "inventory: sslmode=verify-full needs sslrootcert=<file of the CA certificates (PEM) \
             that signed the server's certificate>"
        ),
        "{}",
        stderr(&en)
    );
}
