//! Stages that advance themselves, against the real binary and a simulated fleet: a few
//! hundred registers, each polling `check_firmware` from its own loopback address
//! (127.0.x.y, bound before connecting, as a register on its own address would), downloading
//! what it is offered in full and reporting the new build date at its next poll, except a
//! chosen share that never does. Short soaks (`2s`) and the watch's 2 s round make a
//! rollout of three stages run in seconds. Covered: a healthy release goes through every
//! stage and every healthy register ends updated; a bad one never leaves its first stage
//! and reaches no more registers than that stage's share; `paused` freezes the stage's
//! clock; `stage: N` forces once and a restart keeps the stage and its clock; a halt
//! stored before the upgrade stays; two instances on one PostgreSQL advance once.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::common::march_rollout::{march_meta, march_rollout_status};
use crate::common::{admin, eventually, Fixture, Server, DEADLINE};

const OLD: &str = "1.12.2024";
const NEW: &str = "1.3.2025";

/// Long enough for three stages of 2 s soak with the watch's 2 s rounds, on a loaded machine.
const ROLLOUT_DEADLINE: Duration = Duration::from_secs(60);

fn deployment(rollout: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\n");
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&march_meta(rollout)));
    fixture
}

fn start(fixture: &Fixture, extra: &[&str]) -> Server {
    let mut args = vec!["--admin-listen", "127.0.0.1:0", "--stuck-after-s", "3"];
    args.extend_from_slice(extra);
    Server::start(fixture.dir.path(), &args, &[])
}

/// Register `i`'s own loopback address.
fn register(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 10 + (i / 250) as u8, 1 + (i % 250) as u8)
}

/// Its bucket for release 20250301 of the default line (PROTOCOL.md's formula).
fn bucket(address: Ipv4Addr) -> u64 {
    let digest = Sha256::digest(format!("{address}||20250301").as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 100
}

/// One HTTP request from `from` to `to`; (status, body).
pub(crate) fn request_from(
    from: Ipv4Addr,
    to: SocketAddr,
    head: &str,
    body: &str,
) -> (u16, Vec<u8>) {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::new(IpAddr::V4(from), 0).into())
        .expect("bind a loopback address");
    socket.connect(&to.into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let request = format!(
        "{head} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read");
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header end");
    let status = String::from_utf8_lossy(&bytes[9..12])
        .parse()
        .expect("status");
    (status, bytes[end + 4..].to_vec())
}

/// A simulated register: its address, what it runs, whether it would ever flash.
struct Register {
    address: Ipv4Addr,
    build: &'static str,
    healthy: bool,
    downloaded: bool,
}

/// `count` registers on the old build; every `bad_every`-th never flashes (0: none).
fn fleet(count: u32, bad_every: u32) -> Vec<Register> {
    (0..count)
        .map(|i| Register {
            address: register(i),
            build: OLD,
            healthy: bad_every == 0 || i % bad_every != 0,
            downloaded: false,
        })
        .collect()
}

/// One poll of every register: a register that downloaded the new release reports its
/// build now (when healthy); one offered it downloads it in full.
fn poll_round(server: &Server, registers: &mut [Register]) {
    for r in registers.iter_mut() {
        if r.downloaded && r.healthy {
            r.build = NEW;
        }
        let body = format!("{{\"build_date\": \"{}\"}}", r.build);
        let (status, answer) = request_from(r.address, server.addr, "POST /check_firmware", &body);
        assert_eq!(status, 200);
        let answer: serde_json::Value = serde_json::from_slice(&answer).expect("json");
        if answer["update_available"] == true && answer["version"] == 20250301 && !r.downloaded {
            let (status, bytes) = request_from(
                r.address,
                server.addr,
                "GET /firmware/20250301/upd_app.bin",
                "",
            );
            assert_eq!(status, 200);
            assert!(!bytes.is_empty());
            r.downloaded = true;
        }
    }
}

fn stage_of(server: &Server) -> u64 {
    march_rollout_status(server)["stage"]["number"]
        .as_u64()
        .unwrap_or(0)
}

fn history_of(server: &Server, kind: &str) -> Vec<String> {
    // Every build change of the fleet is in the history too: ask for all of it.
    admin(server, "/history?limit=1000").json()["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == kind)
        .filter_map(|e| e["detail"].as_str().map(String::from))
        .collect()
}

/// The actors of the audit trail's records of `action`, oldest first.
fn audit_of(server: &Server, action: &str) -> Vec<String> {
    let mut actors: Vec<String> = admin(server, "/audit?limit=1000").json()["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["action"] == action)
        .filter_map(|r| r["actor"].as_str().map(String::from))
        .collect();
    actors.reverse();
    actors
}

const THREE_STAGES: &str =
    "stages:\n  - {percent: 10, soak: 2s, min_updated: 3, success_percent: 90}\n  \
     - {percent: 50, soak: 2s, min_updated: 10, success_percent: 90}\n  - {percent: 100}\n\
     max_new_per_hour: 50\nrate_growth: 4\nmax_new_per_hour_limit: 1000";

#[test]
fn a_healthy_release_goes_through_every_stage_and_every_register_updates() {
    let fixture = deployment(THREE_STAGES);
    let server = start(&fixture, &[]);
    let mut registers = fleet(200, 0);
    let first_share = registers.iter().filter(|r| bucket(r.address) < 10).count();
    let mut most_at_stage_one = 0;
    eventually("every register updated", ROLLOUT_DEADLINE, || {
        poll_round(&server, &mut registers);
        let downloaded = registers.iter().filter(|r| r.downloaded).count();
        if stage_of(&server) <= 1 {
            most_at_stage_one = most_at_stage_one.max(downloaded);
        }
        registers.iter().all(|r| r.build == NEW).then_some(())
    });
    assert!(
        most_at_stage_one <= first_share,
        "stage 1 reached {most_at_stage_one} registers, its share is {first_share}"
    );
    let status = march_rollout_status(&server);
    assert_eq!(status["stage"]["number"], 3, "{status}");
    assert_eq!(status["stage"]["of"], 3);
    assert_eq!(status["stage"]["state"], "last");
    assert_eq!(status["max_new_per_hour"], 800, "the cap grew x4 twice");
    let dashboard = admin(&server, "/").text();
    assert!(
        dashboard.contains("<div class=\"stage\" data-stage=\"3\" data-stage-state=\"last\">"),
        "{dashboard}"
    );
    let advanced = history_of(&server, "advanced");
    assert_eq!(advanced.len(), 2, "{advanced:?}");
    assert!(
        advanced
            .iter()
            .any(|d| d.starts_with("stage 1 (10%) → stage 2 (50%): ")
                && d.contains("downloads confirmed")
                && d.contains("needs 90%")),
        "{advanced:?}"
    );
    assert!(server.wait_for_log(
        "the rollout of 20250301 (line (default)) advanced: stage 2 (50%) → stage 3 (100%)",
        DEADLINE
    ));
}

#[test]
fn a_bad_release_never_leaves_its_first_stage() {
    let fixture = deployment(THREE_STAGES);
    let server = start(&fixture, &[]);
    // Every other register never flashes: at most 50% confirmed, the stage needs 90%.
    let mut registers = fleet(200, 2);
    let first_share = registers.iter().filter(|r| bucket(r.address) < 10).count();
    let waiting = eventually("the first stage waiting", ROLLOUT_DEADLINE, || {
        poll_round(&server, &mut registers);
        let status = march_rollout_status(&server);
        (status["stage"]["state"] == "waiting"
            && status["stage"]["figures"]["downloaded"].as_u64() >= Some(first_share as u64 / 2))
        .then_some(status)
    });
    assert!(
        waiting["stage"]["waiting_for"]
            .as_str()
            .is_some_and(|w| w.contains("needs 90%")),
        "{waiting}"
    );
    let dashboard = admin(&server, "/").text();
    assert!(
        dashboard.contains("data-stage=\"1\" data-stage-state=\"waiting\"")
            && (dashboard.contains("нужно 90%") || dashboard.contains("needs 90%")),
        "{dashboard}"
    );
    // Several watch rounds later it has still not advanced, and no register beyond the
    // first stage's share was offered the release.
    let until = std::time::Instant::now() + Duration::from_secs(7);
    while std::time::Instant::now() < until {
        poll_round(&server, &mut registers);
        assert_eq!(stage_of(&server), 1);
    }
    let downloaded = registers.iter().filter(|r| r.downloaded).count();
    assert!(downloaded <= first_share, "{downloaded} > {first_share}");
    assert!(history_of(&server, "advanced").is_empty());
}

#[test]
fn paused_freezes_the_stage_and_its_clock() {
    let rollout =
        "stages: [{percent: 0, soak: 30s, min_updated: 0, success_percent: 0}, {percent: 100}]";
    let fixture = deployment(&format!("{rollout}\npaused: true"));
    let clock = fixture.test_clock();
    let server = start(&fixture, &[]);
    eventually("the stage recorded", DEADLINE, || {
        march_rollout_status(&server)["stage"]["since"].as_u64()
    });
    clock.advance(Duration::from_secs(3600));
    // Two watch rounds on: still stage 1, its soak untouched.
    let status = eventually("a round after the clock moved", DEADLINE, || {
        let s = march_rollout_status(&server);
        (s["stage"]["state"] == "paused").then_some(s)
    });
    std::thread::sleep(Duration::from_secs(4));
    let status_later = march_rollout_status(&server);
    assert_eq!(status_later["stage"]["number"], 1, "{status_later}");
    assert_eq!(status["stage"]["soak_s"], 30);
    assert!(
        status_later["stage"]["soak_left_s"].as_u64() >= Some(28),
        "{status_later}"
    );
    // Unpaused, the clock goes on from where it stood: 30 s more, then stage 2. The
    // watch's thaw moves `since` on by the pause.
    let paused_since = status_later["stage"]["since"].as_u64();
    fixture.write("firmware/20250301/meta.yaml", march_meta(rollout));
    eventually("thawed", DEADLINE, || {
        let s = march_rollout_status(&server);
        (s["stage"]["state"] == "soaking" && s["stage"]["since"].as_u64() > paused_since)
            .then_some(())
    });
    assert_eq!(stage_of(&server), 1);
    clock.advance(Duration::from_secs(31));
    eventually("stage 2", DEADLINE, || {
        (stage_of(&server) == 2).then_some(())
    });
}

#[test]
fn stage_n_forces_once_and_a_restart_keeps_the_stage_and_its_clock() {
    let fixture = deployment(
        "stages: [{percent: 0}, {percent: 10, soak: 2s, min_updated: 0, success_percent: 0}, \
         {percent: 20, soak: 1h}, {percent: 100}]\nstage: 2",
    );
    let mut server = start(&fixture, &[]);
    // Forced to 2, then advanced to 3 on its own; never forced back to 2.
    eventually("stage 3", ROLLOUT_DEADLINE, || {
        (stage_of(&server) == 3).then_some(())
    });
    let since = march_rollout_status(&server)["stage"]["since"]
        .as_u64()
        .expect("since");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(stage_of(&server), 3);
    let forced = history_of(&server, "stage_forced");
    assert_eq!(forced.len(), 1, "{forced:?}");
    assert!(
        forced[0].starts_with("stage 2 (10%) forced by stage: 2"),
        "{forced:?}"
    );
    assert_eq!(audit_of(&server, "stage_forced"), ["server"]);
    assert_eq!(audit_of(&server, "advanced"), ["server"]);
    // A restart mid-stage: the same stage, its clock from the same moment.
    assert!(server.terminate(DEADLINE));
    let server = start(&fixture, &[]);
    let status = eventually("the stage after the restart", DEADLINE, || {
        let s = march_rollout_status(&server);
        s["stage"]["since"].as_u64().map(|_| s)
    });
    assert_eq!(status["stage"]["number"], 3, "{status}");
    assert_eq!(status["stage"]["since"].as_u64(), Some(since));
    assert_eq!(status["percent"], 20);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(history_of(&server, "stage_forced").len(), 1);
}

/// A withdrawn release forgets its stage: published again under the same version (a fixed
/// build, say), it starts at stage 1, not at the wide share the withdrawn one had reached.
#[test]
fn a_release_withdrawn_and_published_again_starts_from_its_first_stage() {
    let stages = "stages: [{percent: 0, soak: 1h}, {percent: 100}]";
    let fixture = deployment(&format!("{stages}\nstage: 2"));
    let server = start(&fixture, &[]);
    eventually("stage 2, forced", ROLLOUT_DEADLINE, || {
        (stage_of(&server) == 2).then_some(())
    });
    // Withdrawn by hand: the folder moved out of firmware/.
    let folder = fixture.path("firmware/20250301");
    let aside = fixture.path("20250301-withdrawn");
    std::fs::rename(&folder, &aside).expect("withdraw");
    eventually("the release gone", DEADLINE, || {
        march_rollout_status(&server).is_null().then_some(())
    });
    eventually("its withdrawal in the history", DEADLINE, || {
        (!history_of(&server, "withdrawn").is_empty()).then_some(())
    });
    // Published again without `stage:`: stage 1 again, whatever the old record said.
    std::fs::write(aside.join("meta.yaml"), march_meta(stages)).expect("meta");
    std::fs::rename(&aside, &folder).expect("publish again");
    let status = eventually("the release back at stage 1", ROLLOUT_DEADLINE, || {
        let s = march_rollout_status(&server);
        (s["stage"]["number"] == 1 && s["stage"]["since"].is_u64()).then_some(s)
    });
    assert_eq!(status["percent"], 0, "{status}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stage_of(&server), 1);
}

/// A halt written by the server before it knew stages (its fingerprint of the rollout as
/// that server computed it, `14ccc741`) is still a halt after the upgrade.
#[test]
fn a_halt_stored_before_the_upgrade_stays() {
    let fixture = deployment("percent: 10\nhalt_when_stuck_percent: 5");
    let mut server = start(&fixture, &[]);
    eventually("the rollout shown", DEADLINE, || {
        march_rollout_status(&server).get("state").map(|_| ())
    });
    assert!(server.terminate(DEADLINE));
    let db = rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("inventory");
    db.execute(
        "INSERT INTO rollout_state (line, version, counted_from, halted_at, settings, detail, \
         stuck, finished) VALUES ('', 20250301, 0, 1000, '14ccc741', 'stored before', 5, 20)",
        [],
    )
    .expect("a stored halt");
    drop(db);
    let server = start(&fixture, &[]);
    std::thread::sleep(Duration::from_secs(5));
    let status = march_rollout_status(&server);
    assert_eq!(status["state"], "halted", "{status}");
}

#[test]
fn two_instances_on_one_postgresql_advance_once() {
    let Some(postgres) = crate::inventory_postgres::start_postgres() else {
        return;
    };
    let fixture = Fixture::new();
    fixture.write_config(&format!("settle_ms: 0\ninventory: {}\n", postgres.url()));
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&march_meta(THREE_STAGES)));
    let a = start(&fixture, &[]);
    let b = start(&fixture, &[]);
    let mut registers = fleet(200, 0);
    let (mut left, mut right) = registers.split_at_mut(100);
    eventually("every register updated", ROLLOUT_DEADLINE, || {
        poll_round(&a, left);
        poll_round(&b, right);
        std::mem::swap(&mut left, &mut right);
        (left.iter().chain(right.iter()).all(|r| r.build == NEW)).then_some(())
    });
    eventually("both at stage 3", DEADLINE, || {
        (stage_of(&a) == 3 && stage_of(&b) == 3).then_some(())
    });
    let advanced = history_of(&a, "advanced");
    assert_eq!(
        advanced.len(),
        2,
        "one advance per stage, by one instance: {advanced:?}"
    );
    // The audit trail likewise: one record per advance, by the server.
    eventually("the advances in the audit trail", DEADLINE, || {
        (audit_of(&a, "advanced") == ["server", "server"]).then_some(())
    });
}

/// With `inventory: off` the stage lives in memory: with no confirmations counted it never
/// passes by itself (and says why), while `stage: N` still forces it.
#[test]
fn without_an_inventory_stages_wait_and_stage_n_still_forces() {
    let rollout =
        "stages: [{percent: 0, soak: 0s, min_updated: 0, success_percent: 0}, {percent: 100}]";
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ninventory: off\n");
    fixture.release("20250101", None);
    fixture.release("20250301", Some(&march_meta(rollout)));
    let server = start(&fixture, &[]);
    let mut registers = fleet(5, 0);
    let status = eventually("waiting", DEADLINE, || {
        let s = march_rollout_status(&server);
        (s["stage"]["state"] == "waiting").then_some(s)
    });
    assert!(
        status["stage"]["waiting_for"]
            .as_str()
            .is_some_and(|w| w.contains("inventory, which is off")),
        "{status}"
    );
    poll_round(&server, &mut registers);
    assert!(registers.iter().all(|r| !r.downloaded), "stage 1 admits 0%");
    fixture.write(
        "firmware/20250301/meta.yaml",
        march_meta(&format!("{rollout}\nstage: 2")),
    );
    eventually("stage 2", DEADLINE, || {
        (stage_of(&server) == 2).then_some(())
    });
    poll_round(&server, &mut registers);
    assert!(
        registers.iter().all(|r| r.downloaded),
        "stage 2 admits 100%"
    );
    assert!(server.wait_for_log("stage forced: stage 2 (100%) forced by stage: 2", DEADLINE));
}
