//! An outsider's attacks on issue 25's rollouts (stages, floors, deadlines), against the
//! real binary: what an operator's hand edit of the inventory, a hostile `meta.yaml` or a
//! register on the network controls must not make the server forget who was admitted,
//! admit past a halt, nor put a number it cannot draw into a page.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::common::march_rollout::{march_meta, march_rollout_status};
use crate::common::{eventually, Fixture, Server, DEADLINE};
use crate::stages::request_from;

const OLD: &str = "1.12.2024";

/// What the register at `from` is offered (its version).
fn offered_to(server: &Server, from: Ipv4Addr) -> u64 {
    let body = format!("{{\"build_date\": \"{OLD}\"}}");
    let (status, answer) = request_from(from, server.addr, "POST /check_firmware", &body);
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&answer).expect("json");
    answer["version"].as_u64().expect("version")
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

/// A stage record an operator edited by hand into something that does not read (a negative
/// start) must not make a restart forget who was admitted: "once admitted, always
/// admitted" holds on, and the rest of what is restored (halts) with it.
#[test]
fn a_stage_row_that_does_not_read_leaves_the_admissions_restored() {
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&march_meta("percent: 100")));
    let mut server = start(&fixture);
    let register = Ipv4Addr::new(127, 0, 20, 1);
    assert_eq!(offered_to(&server, register), 20250301);
    assert!(server.terminate(DEADLINE));
    // Nobody new from now on; a stage row of another release edited by hand.
    fixture.write(
        "firmware/20250301/meta.yaml",
        march_meta("percent: 100\npaused: true"),
    );
    let db = rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("inventory");
    let admitted: i64 = db
        .query_row("SELECT COUNT(*) FROM admissions", [], |r| r.get(0))
        .expect("admissions");
    assert_eq!(admitted, 1, "the admission was stored");
    db.execute(
        "INSERT INTO rollout_stages (line, version, stage, started_at) \
         VALUES ('', 20240101, 1, -5)",
        [],
    )
    .expect("a bad stage row");
    drop(db);
    let server = start(&fixture);
    eventually("the paused rollout shown", DEADLINE, || {
        (march_rollout_status(&server)["paused"] == true).then_some(())
    });
    assert_eq!(
        offered_to(&server, register),
        20250301,
        "admitted before the restart, still admitted"
    );
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 20, 2)), 20250101);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(offered_to(&server, register), 20250301);
    assert_eq!(march_rollout_status(&server)["admitted"], 1);
    assert!(server.wait_for_log("cannot read the rollouts' stages", DEADLINE));
}

/// A stage record edited by hand to numbers the list does not have (stage 255; stage 0; a
/// start ten days ahead) is read as the stage that applies: the last one past the list,
/// the first for 0, a clock that has not started yet for a start ahead (so it never
/// advances early). `/status` says so, and the request path admits by it.
#[test]
fn a_stage_record_edited_by_hand_is_bounded_by_the_list() {
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    let plan = "stages: [{percent: 0, soak: 1s, min_updated: 0, success_percent: 0}, \
                {percent: 0, soak: 1s, min_updated: 0, success_percent: 0}, {percent: 100}]\n\
                stage: 1";
    fixture.release("20250301", Some(&march_meta(plan)));
    let ahead = crate::common::unix_now() + 10 * 86_400;
    let mut server = start(&fixture);
    // Forced to 1 and held there by an edit below; first wait for the row.
    eventually("the stage recorded", DEADLINE, || {
        march_rollout_status(&server)["stage"]["since"].as_u64()
    });
    assert!(server.terminate(DEADLINE));
    let edit = |stage: i64| {
        let db = rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("inventory");
        db.execute(
            "UPDATE rollout_stages SET stage = ?1, started_at = ?2, forced = 1",
            rusqlite::params![stage, ahead as i64],
        )
        .expect("edit the stage row");
    };
    edit(255);
    let mut server = start(&fixture);
    let status = eventually("the edited stage read", DEADLINE, || {
        let s = march_rollout_status(&server);
        s["stage"]["since"].as_u64().map(|_| s)
    });
    assert_eq!(status["stage"]["number"], 3, "{status}");
    assert_eq!(status["stage"]["of"], 3, "{status}");
    assert_eq!(status["percent"], 100, "{status}");
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 21, 1)), 20250301);
    assert!(server.terminate(DEADLINE));
    edit(0);
    let server = start(&fixture);
    let status = eventually("the edited stage read", DEADLINE, || {
        let s = march_rollout_status(&server);
        s["stage"]["since"].as_u64().map(|_| s)
    });
    assert_eq!(status["stage"]["number"], 1, "{status}");
    assert_eq!(status["stage"]["state"], "soaking", "{status}");
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 21, 2)), 20250101);
    // Soak 1 s, no condition: only the start ten days ahead holds it. Rounds later, still
    // stage 1, and the register admitted at stage 3 is still admitted.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(march_rollout_status(&server)["stage"]["number"], 1);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 21, 1)), 20250301);
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 21, 3)), 20250101);
}

/// The same unreadable stage row, while the server runs: the watch says so once and leaves
/// the stages where they stand, but its round goes on: the rollouts are still projected
/// (not `pending` for ever).
#[test]
fn a_stage_row_that_does_not_read_leaves_the_watch_round_going() {
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    fixture.release(
        "20250301",
        Some(&march_meta("stages: [{percent: 10}, {percent: 100}]")),
    );
    let db = {
        let server = start(&fixture);
        eventually("the stage recorded", DEADLINE, || {
            march_rollout_status(&server)["stage"]["since"].as_u64()
        });
        rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("inventory")
    };
    db.execute(
        "INSERT INTO rollout_stages (line, version, stage, started_at) \
         VALUES ('', 20240101, 1, -5)",
        [],
    )
    .expect("a bad stage row");
    drop(db);
    let server = start(&fixture);
    assert!(server.wait_for_log("cannot step the rollouts' stages", DEADLINE));
    let status = eventually("a projection made", DEADLINE, || {
        let s = march_rollout_status(&server);
        (s["projection"] != "pending").then_some(s)
    });
    // No register below it: projected as finished.
    assert_eq!(status["projection"], "finished", "{status}");
    assert_eq!(status["stage"]["number"], 1, "{status}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        server
            .log()
            .matches("cannot step the rollouts' stages")
            .count(),
        1,
        "said once"
    );
}
