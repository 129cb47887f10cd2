//! An outsider's attacks on issue 25's rollouts (stages, floors, deadlines), against the
//! real binary: what an operator's hand edit of the inventory, a hostile `meta.yaml` or a
//! register on the network controls must not make the server forget who was admitted,
//! admit past a halt, nor put a number it cannot draw into a page.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::common::{eventually, Fixture, Server, DEADLINE};
use crate::stages::{meta, request_from, rollout_status};

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
    fixture.release("20250301", Some(&meta("percent: 100")));
    let mut server = start(&fixture);
    let register = Ipv4Addr::new(127, 0, 20, 1);
    assert_eq!(offered_to(&server, register), 20250301);
    assert!(server.terminate(DEADLINE));
    // Nobody new from now on; a stage row of another release edited by hand.
    fixture.write(
        "firmware/20250301/meta.yaml",
        meta("percent: 100\npaused: true"),
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
        (rollout_status(&server)["paused"] == true).then_some(())
    });
    assert_eq!(
        offered_to(&server, register),
        20250301,
        "admitted before the restart, still admitted"
    );
    assert_eq!(offered_to(&server, Ipv4Addr::new(127, 0, 20, 2)), 20250101);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(offered_to(&server, register), 20250301);
    assert_eq!(rollout_status(&server)["admitted"], 1);
    assert!(server.wait_for_log("cannot read the rollouts' stages", DEADLINE));
}
