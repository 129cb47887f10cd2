//! An outsider's attacks on issue 26's additions (operators and sessions, publishing from
//! the admin listener, the audit trail), against the real binary, each kept as the test
//! that failed before its fix:
//!
//! - a limited viewer (a client's own staff) logging in again and again ended every other
//!   operator's session (the one global cap evicted the soonest-expiring, whoever's);
//! - a publisher's slow upload held the one-change lock while it arrived (up to 300 s):
//!   the pause or withdraw that stops a bad rollout waited behind it;
//! - the reload after a publisher's upload, pause or withdraw was recorded in the audit
//!   trail as made by `admin` (the name `admin_token`'s operator has);
//! - `operators:` took the SHA-256 of the empty text (what `printf %s "$TOKEN" |
//!   sha256sum` prints with the variable unset), and then an empty password was an admin;
//! - whoever can write the inventory wiped the trail behind one forged checkpoint, and
//!   `audit verify --head` with the last logged head said only "ok": now it says which
//!   checkpoint vouches for the head and before when the head must have been logged.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::operators::{bearer, request, start_with_admin};
use crate::common::{self, eventually, Fixture, Response, DEADLINE};

const ADMIN: &str = "attack26-admin-token-0123456789";
const PUBLISHER: &str = "attack26-publisher-token-0123456789";
const VIEWER: &str = "attack26-viewer-token-0123456789";

/// `operators:` with an admin, a publisher and a viewer limited to the group `A`.
fn operators() -> String {
    format!(
        "operators:\n  - {{name: \"Иванов\", token_sha256: \"{}\", role: admin}}\n  \
         - {{name: \"Сборка\", token_sha256: \"{}\", role: publisher}}\n  \
         - {{name: \"Ромашка ИТ\", token_sha256: \"{}\", role: viewer, groups: [\"A\"]}}\n",
        common::sha256(ADMIN.as_bytes()),
        common::sha256(PUBLISHER.as_bytes()),
        common::sha256(VIEWER.as_bytes()),
    )
}

/// A release's `meta.yaml` with a rollout (something to pause).
const STAGED: &str = "rollout:\n  window: \"00:00-23:59\"\n";

/// One release (staged), the three operators and an inventory (for the audit trail).
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ninventory: \"sqlite:inventory.sqlite\"\n{}",
        operators()
    ));
    fixture.release("20250101", Some(STAGED));
    fixture
}

/// The login form posted with `token`: the session cookie it set.
fn login(admin: SocketAddr, token: &str) -> String {
    let answer = request(
        admin,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}"),
    );
    assert_eq!(answer.status, 303, "{}", answer.text());
    let cookie = answer.header("set-cookie").expect("a session cookie");
    cookie
        .split(';')
        .next()
        .expect("name=value")
        .trim()
        .to_string()
}

/// A client's limited viewer logs in over and over (each login a new session): before, the
/// 1,001st login ended the session that would expire first, an admin's as soon as theirs
/// was the oldest, so one viewer's token logged every operator out at will.
#[test]
fn a_viewer_logging_in_again_and_again_ends_no_other_operators_session() {
    let fixture = deployment();
    let (_server, admin) = start_with_admin(&fixture, &[]);
    let admins = login(admin, ADMIN);
    let answer = request(admin, "GET", "/audit", &[("Cookie", &admins)], "");
    assert_eq!(answer.status, 200, "{}", answer.text());
    // Later logins expire later: the admin's session is the soonest to expire.
    std::thread::sleep(Duration::from_millis(1100));
    let started = Instant::now();
    for _ in 0..1_050 {
        login(admin, VIEWER);
    }
    assert!(started.elapsed() < DEADLINE, "{:?}", started.elapsed());
    let answer = request(admin, "GET", "/audit", &[("Cookie", &admins)], "");
    assert_eq!(
        answer.status,
        200,
        "the admin's session ended: {}",
        answer.text()
    );
    // The viewer's own newest session still works.
    let viewers = login(admin, VIEWER);
    let answer = request(admin, "GET", "/devices", &[("Cookie", &viewers)], "");
    assert_eq!(answer.status, 200, "{}", answer.text());
}

/// Opens an upload and sends only the start of its body, keeping the connection open: a
/// slow sender (or one that stalls on purpose).
fn stalled_upload(admin: SocketAddr) -> TcpStream {
    let boundary = "attack26boundary";
    let mut stream = TcpStream::connect(admin).expect("connect");
    let start = format!(
        "POST /releases HTTP/1.1\r\nHost: {admin}\r\nAuthorization: Bearer {PUBLISHER}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1000000\r\n\
         \r\n--{boundary}\r\nContent-Disposition: form-data; name=\"upd_app.bin\"; \
         filename=\"upd_app.bin\"\r\n\r\nfirst bytes of a slow upload"
    );
    stream.write_all(start.as_bytes()).expect("send");
    stream
}

/// `request` on another thread: its answer, or `None` when none came within `deadline`.
fn within(
    deadline: Duration,
    admin: SocketAddr,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
) -> Option<Response> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let _ = send.send(request(admin, method, path, &headers, ""));
    });
    receive.recv_timeout(deadline).ok()
}

/// A publisher's upload that arrives slowly (or stalls on purpose) held the lock of one
/// change at a time while it arrived, up to 300 s, and every upload queued behind it as
/// long again: the pause or withdraw that stops a bad rollout waited all that time.
#[test]
fn a_stalled_upload_does_not_hold_up_a_pause_or_a_withdraw() {
    let fixture = deployment();
    fixture.release("20250301", Some(STAGED));
    let (_server, admin) = start_with_admin(&fixture, &[]);
    let upload = stalled_upload(admin);
    // The upload is being received (its part's headers read) before the pause is asked.
    std::thread::sleep(Duration::from_millis(500));
    let auth = vec![("Authorization", bearer(PUBLISHER))];
    let paused = within(
        Duration::from_secs(10),
        admin,
        "POST",
        "/releases/20250301/pause",
        auth.clone(),
    )
    .expect("the pause waited behind the stalled upload");
    assert_eq!(paused.status, 200, "{}", paused.text());
    let withdrawn = within(
        Duration::from_secs(10),
        admin,
        "POST",
        "/releases/20250301/withdraw",
        auth,
    )
    .expect("the withdraw waited behind the stalled upload");
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text());
    drop(upload);
}

/// The audit trail's records: (actor, action, subject, result), newest first.
fn records(admin: SocketAddr) -> Vec<(String, String, String, String)> {
    let answer = request(
        admin,
        "GET",
        "/audit?limit=1000",
        &[("Authorization", &bearer(PUBLISHER))],
        "",
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let field = |r: &serde_json::Value, key: &str| r[key].as_str().unwrap_or("").to_string();
    answer.json()["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                field(r, "actor"),
                field(r, "action"),
                field(r, "subject"),
                field(r, "result"),
            )
        })
        .collect()
}

/// The reload a publisher's pause (and upload, withdraw) makes at once was recorded as made
/// by `admin`: the name of `admin_token`'s operator, here no one's at all.
#[test]
fn the_reload_after_a_publishers_pause_names_the_publisher() {
    let fixture = deployment();
    let (_server, admin) = start_with_admin(&fixture, &[]);
    let paused = request(
        admin,
        "POST",
        "/releases/20250101/pause",
        &[("Authorization", &bearer(PUBLISHER))],
        "",
    );
    assert_eq!(paused.status, 200, "{}", paused.text());
    let all = eventually("the pause's reload recorded", DEADLINE, || {
        let all = records(admin);
        all.iter()
            .any(|r| r.1 == "reload" && r.2 == "trigger request")
            .then_some(all)
    });
    for record in all
        .iter()
        .filter(|r| r.1 == "reload" && r.2 == "trigger request")
    {
        assert_eq!(record.0, "Сборка", "{all:?}");
    }
    assert!(!all.iter().any(|r| r.0 == "admin"), "{all:?}");
}

/// `operators:` holding the SHA-256 of the empty text is refused, in plain words: with it,
/// `Authorization: Basic Og==` (an empty password) was that operator.
#[test]
fn the_hash_of_an_empty_token_is_refused_and_an_empty_password_opens_nothing() {
    let empty = common::sha256(b"");
    let fixture = Fixture::new();
    fixture.release("20250101", None);
    fixture.write_config(&format!(
        "settle_ms: 0\noperators:\n  - {{name: \"скрипт\", token_sha256: \"{empty}\", role: admin}}\n"
    ));
    let output = common::server_command()
        .current_dir(fixture.dir.path())
        .args(["check", "--config", "server.yaml"])
        .output()
        .expect("run check");
    let said = common::printed(&output);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("token_sha256 is the SHA-256 of an empty token"),
        "{said}"
    );
    // With operators that load, no form of an empty token is anyone's.
    let fixture = deployment();
    let (_server, admin) = start_with_admin(&fixture, &[]);
    for empty in ["Basic Og==", "Basic YWRtaW46", "Bearer ", "Bearer     "] {
        let answer = request(admin, "GET", "/status", &[("Authorization", empty)], "");
        assert_eq!(answer.status, 401, "{empty}: {}", answer.text());
    }
}

/// Someone who can write the inventory (and wants an upload forgotten) deletes every record
/// and writes one checkpoint in their place, as a prune of everything writes it: its `prev`
/// and the hash it says it replaced are the head the server last logged. A chain without a
/// secret cannot tell this from a real prune by its hashes (the forger writes every field,
/// a pruned record's time too); what tells them apart is when the head was logged, which
/// only the reader knows (the log line's time): a prune removes only records older than
/// `inventory_retention_days`. So `audit verify --head` says, whenever the head given is
/// found only in a checkpoint, which checkpoint vouches for it and the date before which
/// the head must have been logged for the prune to be real.
#[test]
fn a_forged_checkpoint_that_wipes_the_trail_is_not_taken_for_a_prune() {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ninventory: \"sqlite:inventory.sqlite\"\ninventory_retention_days: 365\n{}",
        operators()
    ));
    fixture.release("20250101", Some(STAGED));
    let (mut server, admin) = start_with_admin(&fixture, &[]);
    for action in ["pause", "resume"] {
        let path = format!("/releases/20250101/{action}");
        let answer = request(
            admin,
            "POST",
            &path,
            &[("Authorization", &bearer(PUBLISHER))],
            "",
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    let count = eventually("the records", DEADLINE, || {
        let n = records(admin).len();
        (n >= 4).then_some(n as u64)
    });
    let head = server
        .log()
        .lines()
        .rev()
        .find_map(|l| {
            l.contains("audit: record ")
                .then(|| l.rsplit("; head ").next())
        })
        .flatten()
        .expect("a head in the log")
        .trim()
        .to_string();
    assert!(server.terminate(Duration::from_secs(10)));
    let db = rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("open");
    let seq = count + 1;
    let at = common::unix_now();
    let subject = format!("pruned before seq {seq}");
    db.execute("DELETE FROM audit", []).expect("delete");
    db.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, result, prev) \
         VALUES (?1, ?2, 'server', 'checkpoint', ?3, ?4, ?4)",
        rusqlite::params![seq as i64, at as i64, subject, head],
    )
    .expect("insert");
    drop(db);
    let output = common::server_command()
        .current_dir(fixture.dir.path())
        .args([
            "audit",
            "verify",
            "--head",
            &head,
            "--config",
            "server.yaml",
        ])
        .output()
        .expect("run audit verify");
    let said = common::printed(&output);
    let before = chrono::DateTime::from_timestamp((at - 365 * 86_400) as i64, 0)
        .expect("a time")
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        said.contains(&format!("checkpoint {seq}"))
            && said.contains("older than 365 days")
            && said.contains(&format!("logged before {before}"))
            && said.contains("removed by hand"),
        "a trail wiped minutes after it was written verifies without a word: {said}"
    );
}
