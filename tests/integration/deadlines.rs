//! A rollout's `deadline` against the real binary: a deadline in the past with registers
//! still below the release is late in `/status`, on the dashboard and in `/metrics`
//! (`kkt_rollout_late 1`, what `KktRolloutLate` fires on); a far deadline with registers
//! confirming the release shows a projected finish, in time. Registers come through
//! `X-Forwarded-For` from a trusted proxy (127.0.0.1), as in `rollouts`. A deadline that is
//! no day is refused by `check` with the key, the value and the form.

use crate::common::march_rollout::{march_rollout_status, march_under_rollout};
use crate::common::{self, admin, eventually, Fixture, Server};

/// The watch projects within its first round (2 s) and then every 10 s.
const PROJECTED_WITHIN: std::time::Duration = std::time::Duration::from_secs(40);

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
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

#[test]
fn a_deadline_in_the_past_with_registers_below_is_late() {
    let fixture = march_under_rollout("percent: 100\ndeadline: 2020-01-01");
    let server = start(&fixture);
    for i in 1..=3 {
        let offer = check_in(&server, &format!("10.9.0.{i}"), "1.12.2024");
        assert_eq!(offer["version"], 20250301);
    }
    let status = eventually("the rollout counted late", PROJECTED_WITHIN, || {
        let status = march_rollout_status(&server);
        (status["below"] == 3).then_some(status)
    });
    assert_eq!(status["deadline"], "2020-01-01", "{status}");
    assert_eq!(status["late"], true, "{status}");
    // Nobody confirmed: no finish to project, and it says why.
    assert_eq!(status["projected_finish"], serde_json::Value::Null);
    assert_eq!(status["projection"], "no_confirmation_yet");
    let metrics = admin(&server, "/metrics").text();
    assert!(
        metrics.contains("kkt_rollout_late{line=\"\",version=\"20250301\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("kkt_rollout_projected_finish_timestamp_seconds{"),
        "no finish, no series: {metrics}"
    );
    let page = admin(&server, "/").text();
    assert!(
        page.contains("data-projection=\"no_confirmation_yet\" data-late=\"true\"")
            && page.contains(
                "Срок 01.01.2020: не успеваем · окончание не прогнозируется: ни одна ККТ ещё \
                 не подтвердила обновление · ниже релиза ещё 3 ККТ линейки"
            ),
        "{page}"
    );
    let addr = common::admin_addr(&server);
    let english = common::raw_request(
        addr,
        format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: en\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .text();
    assert!(
        english.contains(
            "Deadline 01.01.2020: late · no projected finish: no register has confirmed the \
             update yet · 3 registers of the line still below the release"
        ),
        "{english}"
    );
}

#[test]
fn a_far_deadline_with_registers_confirming_projects_a_finish_in_time() {
    let fixture = march_under_rollout("percent: 100\ndeadline: 2099-12-31");
    let server = start(&fixture);
    let before = common::unix_now();
    // Four registers take the release; two download it and come back updated.
    for i in 1..=4 {
        let address = format!("10.9.1.{i}");
        assert_eq!(
            check_in(&server, &address, "1.12.2024")["version"],
            20250301
        );
        if i <= 2 {
            let download = server.get(
                "/firmware/20250301/upd_app.bin",
                &[("X-Forwarded-For", &address)],
            );
            assert_eq!(download.status, 200);
        }
    }
    for i in 1..=2 {
        check_in(&server, &format!("10.9.1.{i}"), "1.03.2025");
    }
    let status = eventually("a projected finish", PROJECTED_WITHIN, || {
        let status = march_rollout_status(&server);
        (status["projected_finish"].is_u64() && status["below"] == 2).then_some(status)
    });
    assert_eq!(status["projection"], "projected", "{status}");
    assert_eq!(status["late"], false, "{status}");
    assert_eq!(status["deadline"], "2099-12-31");
    // Two confirmed within a minute or so; the two left, admitted already, follow at that
    // pace: within the hour, not before the test began.
    let finish = status["projected_finish"].as_u64().expect("finish");
    assert!(
        (before..before + 3600).contains(&finish),
        "{finish} vs {before}: {status}"
    );
    let metrics = admin(&server, "/metrics").text();
    let exported: u64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "kkt_rollout_projected_finish_timestamp_seconds{line=\"\",version=\"20250301\"} ",
            )
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!((before..before + 3600).contains(&exported), "{exported}");
    assert!(
        metrics.contains("kkt_rollout_late{line=\"\",version=\"20250301\"} 0"),
        "{metrics}"
    );
    let page = admin(&server, "/").text();
    assert!(
        page.contains("data-projection=\"projected\" data-late=\"false\"")
            && page.contains("Срок 31.12.2099: успеваем · окончание ≈ "),
        "{page}"
    );
}

#[test]
fn check_refuses_a_deadline_that_is_no_day_with_the_form_expected() {
    let fixture = march_under_rollout("percent: 10\ndeadline: 31.12.2026");
    let (passed, out, err) = common::run_check(fixture.dir.path());
    assert!(!passed, "{out}{err}");
    let said = format!("{out}{err}");
    assert!(
        said.contains(
            "rollout.deadline: \"31.12.2026\" is not a day (expected YYYY-MM-DD, like 2026-12-31)"
        ),
        "{said}"
    );
}

/// Two pilots and a stage that needs three confirmations before the line is let in.
pub(crate) const GONE_BACK_ROLLOUT: &str = "pilot: [10.9.3.1, 10.9.3.2]\n\
     stages: [{percent: 0, min_updated: 3}, {percent: 100}]\ndeadline: 2099-12-31";

/// On a server with the March release under `GONE_BACK_ROLLOUT`: both pilots download it
/// and report it, then one goes back to its old build. The stage gate no longer counts it
/// as confirmed, and neither does the projection: with one confirmation and one register to
/// confirm anew, the first stage can never reach its three, so the deadline is missed.
/// (Counted as it once reported, the register made two confirmations and one to come: the
/// stage passed in the projection, which promised a finish the gate would never allow.)
pub(crate) fn a_register_gone_back_is_no_confirmation(server: &Server) {
    for i in 1..=3 {
        let address = format!("10.9.3.{i}");
        let offered = check_in(server, &address, "1.12.2024")["version"].clone();
        assert_eq!(offered, if i <= 2 { 20250301 } else { 20250101 });
        if i <= 2 {
            let download = server.get(
                "/firmware/20250301/upd_app.bin",
                &[("X-Forwarded-For", &address)],
            );
            assert_eq!(download.status, 200);
            check_in(server, &address, "1.03.2025");
        }
    }
    let before = eventually("two confirmations counted", PROJECTED_WITHIN, || {
        let status = march_rollout_status(server);
        (status["below"] == 1 && status["stage"]["figures"]["confirmed"] == 2).then_some(status)
    });
    assert_eq!(before["projection"], "stage_never_passes", "{before}");

    // A service engineer flashes the second pilot back.
    check_in(server, "10.9.3.2", "1.12.2024");
    let after = eventually("the register below again", PROJECTED_WITHIN, || {
        let status = march_rollout_status(server);
        (status["below"] == 2 && status["stage"]["figures"]["confirmed"] == 1).then_some(status)
    });
    assert_eq!(after["projection"], "stage_never_passes", "{after}");
    assert_eq!(
        after["projected_finish"],
        serde_json::Value::Null,
        "{after}"
    );
    assert_eq!(after["late"], true, "{after}");
}

#[test]
fn a_register_gone_back_to_an_older_build_is_no_confirmation_to_the_forecast() {
    let fixture = march_under_rollout(GONE_BACK_ROLLOUT);
    let server = start(&fixture);
    a_register_gone_back_is_no_confirmation(&server);
}
