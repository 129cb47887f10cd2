//! The audit trail end to end: `publish` and `withdraw` (the commands) and `POST /reload`
//! are recorded with who did them; a release copied in by hand names its `published_by`
//! or its folder's owner; `audit verify` passes, then names the record after one is
//! altered, removed, or (given the last head the server logged) cut off the end; a prune
//! leaves a checkpoint the chain still verifies from; `/audit` and `/audit.csv` list the
//! records, a formula in a name defused and markup escaped on the page.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use crate::common::{
    self, admin_addr, admin_json, eventually, firmware_bytes, raw_request, Fixture, Server,
    DEADLINE,
};

/// A name a spreadsheet would run, with markup a page must not render.
const HOSTILE_NAME: &str = "=HYPERLINK(\"http://evil.example\")<b>bold</b>";

fn deployment(extra: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ninventory: \"sqlite:inventory.sqlite\"\n{extra}"
    ));
    fixture.release("20250101", None);
    fixture
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

/// A command of the binary in the fixture, pointed at the running server when given.
fn run(fixture: &Fixture, server: Option<&Server>, args: &[&str]) -> Output {
    let mut command = common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args(args)
        .args(["--config", "server.yaml"])
        .env_remove("RUST_LOG");
    if let Some(server) = server {
        command
            .args(["--listen", &server.addr.to_string()])
            .args(["--admin-listen", &admin_addr(server).to_string()]);
    }
    command.output().expect("run the command")
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn verify(fixture: &Fixture, head: Option<&str>) -> (bool, String) {
    let mut args = vec!["audit", "verify"];
    if let Some(head) = head {
        args.extend(["--head", head]);
    }
    let output = run(fixture, None, &args);
    (output.status.success(), said(&output))
}

/// A source folder beside firmware/ with files derived from `seed`.
fn source(fixture: &Fixture, name: &str, seed: &str) -> PathBuf {
    let dir = fixture.path(&format!("incoming/{name}"));
    std::fs::create_dir_all(&dir).expect("source");
    for file in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        std::fs::write(dir.join(file), firmware_bytes(seed, file)).expect("file");
    }
    dir
}

/// The name of the user this test runs as, as the system's user database says it.
fn os_user() -> String {
    let output = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id -un");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn post_reload(server: &Server) -> u16 {
    let addr = admin_addr(server);
    raw_request(
        addr,
        format!(
            "POST /reload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .status
}

/// The records `/audit` lists, oldest first: (actor, action, subject).
fn listed(server: &Server) -> Vec<(String, String, String)> {
    let answer = admin_json(server, "/audit?limit=1000");
    let mut records: Vec<(String, String, String)> = answer["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or_default().to_string();
            (text("actor"), text("action"), text("subject"))
        })
        .collect();
    records.reverse();
    records
}

/// The newest head the server logged ("…; head H").
fn last_logged_head(server: &Server) -> String {
    server
        .log()
        .lines()
        .rev()
        .filter(|l| l.contains("audit: record "))
        .find_map(|l| l.rsplit("; head ").next())
        .expect("a head in the log")
        .trim()
        .to_string()
}

fn sqlite(fixture: &Fixture) -> rusqlite::Connection {
    rusqlite::Connection::open(fixture.path("inventory.sqlite")).expect("open the inventory")
}

#[test]
fn actions_are_recorded_with_their_actors_and_verify_finds_tampering() {
    let fixture = deployment("");
    let mut server = start(&fixture);
    let me = os_user();
    let src = source(&fixture, "20250301", "20250301");
    let output = run(&fixture, Some(&server), &["publish", src.to_str().unwrap()]);
    assert!(output.status.success(), "{}", said(&output));
    let meta = std::fs::read_to_string(fixture.path("firmware/20250301/meta.yaml")).unwrap();
    assert!(meta.contains(&format!("published_by: {me}")), "{meta}");
    let output = run(&fixture, Some(&server), &["withdraw", "20250301"]);
    assert!(output.status.success(), "{}", said(&output));
    assert_eq!(post_reload(&server), 200);
    // Copied in by hand: one names a hostile publisher, one names none (its owner then).
    fixture.release(
        "20250401",
        Some(&format!(
            "published_by: '{}'\n",
            HOSTILE_NAME.replace('\'', "''")
        )),
    );
    fixture.release("20250501", None);
    // A name that would forge a line of the log is one escaped line.
    fixture.release(
        "20250601",
        Some("published_by: \"x\\n[2026-01-01T00:00:00Z INFO  forged] y\"\n"),
    );
    let expected = [
        (
            "x\\n[2026-01-01T00:00:00Z INFO  forged] y",
            "publish",
            "20250601",
        ),
        (me.as_str(), "publish", "20250301"),
        (me.as_str(), "withdraw", "20250301"),
        // The operator who asked: `local` on a listener without tokens.
        ("local", "reload", "trigger request"),
        (HOSTILE_NAME, "publish", "20250401"),
        (me.as_str(), "publish", "20250501"),
    ];
    let records = eventually("the five records", DEADLINE, || {
        let records = listed(&server);
        let found = expected.iter().all(|(actor, action, subject)| {
            records
                .iter()
                .any(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str()) == (*actor, *action, *subject))
        });
        found.then_some(records)
    });
    assert!(
        !server
            .log()
            .lines()
            .any(|l| l.starts_with("[2026-01-01T00:00:00Z INFO  forged]")),
        "{}",
        server.log()
    );
    // Each change is recorded once, however many rescans saw it.
    let publishes = records
        .iter()
        .filter(|r| r.1 == "publish" && r.2 == "20250301");
    assert_eq!(publishes.count(), 1, "{records:?}");

    // A third party's check, by the documented byte form: the JSON object of the seven
    // fields, keys sorted, no whitespace (serde_json's map is sorted), hashed by sha256sum.
    let answer = admin_json(&server, "/audit?limit=1000");
    let listed_records = answer["records"].as_array().expect("records");
    for (i, record) in listed_records.iter().enumerate() {
        let mut fields = record.clone();
        let own = fields
            .as_object_mut()
            .and_then(|o| o.remove("hash"))
            .expect("a hash");
        let bytes = serde_json::to_string(&fields).unwrap();
        assert!(bytes.starts_with("{\"action\":"), "{bytes}");
        assert_eq!(
            own.as_str(),
            Some(common::sha256(bytes.as_bytes()).as_str()),
            "{bytes}"
        );
        if let Some(older) = listed_records.get(i + 1) {
            assert_eq!(record["prev"], older["hash"], "chained");
        }
    }

    // /audit.csv: the formula is defused; the page shows the markup as text.
    let csv = common::admin(&server, "/audit.csv").text();
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("seq;at;time;actor;action;subject;result;prev;hash"),
        "{csv}"
    );
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")<b>bold</b>\""),
        "{csv}"
    );
    assert!(!csv.contains(";=HYPERLINK"), "{csv}");
    let addr = admin_addr(&server);
    let page = raw_request(
        addr,
        format!(
            "GET /audit HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .text();
    assert!(
        page.contains("&lt;b&gt;bold&lt;/b&gt;") || page.contains("&#60;b&#62;"),
        "{page}"
    );
    assert!(!page.contains("<b>bold</b>"), "{page}");
    assert!(page.contains("Журнал аудита"), "Russian first: {page}");

    let head = eventually("the head on /status", DEADLINE, || {
        let status = admin_json(&server, "/status");
        let logged = last_logged_head(&server);
        (status["inventory"]["audit_head"]["hash"].as_str() == Some(logged.as_str()))
            .then_some(logged)
    });
    assert!(
        server.terminate(Duration::from_secs(10)),
        "the server stops"
    );

    let (ok, text) = verify(&fixture, Some(&head));
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("ok: {} records, head {head}", records.len())),
        "{text}"
    );

    // Altered by hand: named, with why; put back, it verifies again.
    let db = sqlite(&fixture);
    let result: String = db
        .query_row("SELECT result FROM audit WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    db.execute(
        "UPDATE audit SET result = 'nothing happened' WHERE seq = 2",
        [],
    )
    .unwrap();
    let (ok, text) = verify(&fixture, None);
    assert!(!ok, "{text}");
    assert!(text.contains("audit record 2 is bad"), "{text}");
    assert!(text.contains("edited"), "{text}");
    db.execute("UPDATE audit SET result = ?1 WHERE seq = 2", [&result])
        .unwrap();
    assert!(verify(&fixture, Some(&head)).0);

    // Removed from the middle: named as missing.
    let removed: (i64, String, String, String, String, String, String) = db
        .query_row(
            "SELECT seq, at, actor, action, subject, result, prev FROM audit WHERE seq = 3",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)?.to_string(),
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .unwrap();
    db.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    let (ok, text) = verify(&fixture, None);
    assert!(!ok, "{text}");
    assert!(
        text.contains("audit record 3 is bad: it is missing"),
        "{text}"
    );
    db.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, result, prev) \
         VALUES (?1, CAST(?2 AS INTEGER), ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![
            removed.0, removed.1, removed.2, removed.3, removed.4, removed.5, removed.6
        ],
    )
    .unwrap();
    assert!(verify(&fixture, Some(&head)).0);

    // The newest removed: the chain left holds, but not against the head the server logged.
    let newest: i64 = db
        .query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))
        .unwrap();
    db.execute("DELETE FROM audit WHERE seq = ?1", [newest])
        .unwrap();
    assert!(verify(&fixture, None).0);
    let (ok, text) = verify(&fixture, Some(&head));
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!(
            "audit record {newest} is bad: the head {head} is no stored"
        )),
        "{text}"
    );
    // A head that is not a hash is refused in words.
    let (ok, text) = verify(&fixture, Some("not-a-hash"));
    assert!(!ok, "{text}");
    assert!(text.contains("--head not-a-hash is not a hash"), "{text}");
}

/// Records older than the retention are pruned when the store opens; a checkpoint carrying
/// the hash of the newest one removed is appended, and the chain verifies from it.
#[test]
fn a_prune_leaves_a_checkpoint_and_the_chain_still_verifies() {
    let fixture = deployment("inventory_retention_days: 1\n");
    let clock = fixture.test_clock();
    let mut server = start(&fixture);
    assert_eq!(post_reload(&server), 200);
    assert_eq!(post_reload(&server), 200);
    eventually("two reloads recorded", DEADLINE, || {
        (listed(&server).len() == 2).then_some(())
    });
    let head = last_logged_head(&server);
    assert!(server.terminate(Duration::from_secs(10)));
    clock.advance(Duration::from_secs(3 * 86_400));
    let mut server = start(&fixture);
    let records = eventually("the checkpoint", DEADLINE, || {
        let records = listed(&server);
        records
            .iter()
            .any(|r| r.1 == "checkpoint")
            .then_some(records)
    });
    assert_eq!(
        records[0],
        (
            "server".into(),
            "checkpoint".into(),
            "pruned before seq 3".into()
        )
    );
    assert!(
        server.log().contains("audit: pruned records before 3"),
        "{}",
        server.log()
    );
    assert!(server.terminate(Duration::from_secs(10)));
    let (ok, text) = verify(&fixture, None);
    assert!(ok && text.contains("ok: 1 records"), "{text}");
    // The head logged before the prune is vouched for by the checkpoint.
    let (ok, text) = verify(&fixture, Some(&head));
    assert!(ok, "{text}");
}

/// Two instances sharing PostgreSQL (and one firmware_dir) append at once: one chain, no
/// fork, every reload recorded; a release both see appear is recorded once.
#[test]
fn two_instances_on_postgres_keep_one_chain() {
    let Some(pg) = crate::inventory_postgres::start_postgres() else {
        return;
    };
    let fixture = Fixture::new();
    fixture.write_config(&format!("settle_ms: 0\ninventory: \"{}\"\n", pg.url()));
    fixture.release("20250101", None);
    let a = start(&fixture);
    let b = start(&fixture);
    const EACH: usize = 15;
    std::thread::scope(|scope| {
        for server in [&a, &b] {
            scope.spawn(move || {
                for _ in 0..EACH {
                    assert_eq!(post_reload(server), 200);
                }
            });
        }
    });
    fixture.release("20250301", None);
    let deadline = std::time::Instant::now() + DEADLINE;
    let records = eventually("every reload and the publish", DEADLINE, || {
        let records = listed(&a);
        assert!(
            std::time::Instant::now() < deadline,
            "{records:?}\n{}\n{}",
            a.log(),
            b.log()
        );
        let reloads = records.iter().filter(|r| r.2 == "trigger request").count();
        let published = records.iter().any(|r| r.1 == "publish");
        (reloads == 2 * EACH && published).then_some(records)
    });
    // Give the slower instance its rescan, then count the publishes.
    eventually("both instances serve it", DEADLINE, || {
        (common::offered(&a) == 20250301 && common::offered(&b) == 20250301).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    let publishes = listed(&a)
        .iter()
        .filter(|r| r.1 == "publish" && r.2 == "20250301")
        .count();
    assert_eq!(publishes, 1, "{records:?}");
    let (ok, text) = verify(&fixture, Some(&last_logged_head(&b)));
    assert!(ok, "{text}");
    let (ok, text) = verify(&fixture, Some(&last_logged_head(&a)));
    assert!(ok, "{text}");
}

/// A record edited by hand so that it no longer reads holds back only the trail: devices'
/// records are still written, and the trail's failure is said in the log.
#[test]
fn an_unreadable_record_holds_back_only_the_trail() {
    let fixture = deployment("");
    let mut server = start(&fixture);
    assert_eq!(post_reload(&server), 200);
    eventually("a record", DEADLINE, || {
        (!listed(&server).is_empty()).then_some(())
    });
    assert!(server.terminate(Duration::from_secs(10)));
    sqlite(&fixture)
        .execute("UPDATE audit SET at = 'yesterday'", [])
        .unwrap();
    let server = start(&fixture);
    assert_eq!(post_reload(&server), 200);
    server.check_firmware("1.1.2000");
    eventually("the device written", DEADLINE, || {
        (admin_json(&server, "/devices")["total"] == 1).then_some(())
    });
    assert!(
        server.wait_for_log(
            "audit: cannot append to the trail (1 records wait",
            DEADLINE
        ),
        "{}",
        server.log()
    );
    let (ok, text) = verify(&fixture, None);
    assert!(!ok && text.contains("audit record 1"), "{text}");
}

/// Edits seen on disk are recorded as what they are: `paused: true` a pause, its removal a
/// resume, another rollout setting a rollout edit, new bytes under the same version (the
/// `publish --replace` command) a replace; each by who the release names.
#[test]
fn edits_on_disk_are_recorded_as_their_actions() {
    let fixture = deployment("");
    let server = start(&fixture);
    let me = os_user();
    let src = source(&fixture, "20250301", "20250301");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", src.to_str().unwrap(), "--rollout-percent", "10"],
    );
    assert!(output.status.success(), "{}", said(&output));
    let meta_path = fixture.path("firmware/20250301/meta.yaml");
    let written = std::fs::read_to_string(&meta_path).unwrap();
    let wait_for = |action: &str, n: usize| {
        eventually(&format!("{n} {action}"), DEADLINE, || {
            let records = listed(&server);
            let matching: Vec<_> = records.iter().filter(|r| r.1 == action).cloned().collect();
            (matching.len() == n).then_some(matching)
        })
    };
    wait_for("publish", 1);
    std::fs::write(
        &meta_path,
        written.replace("percent: 10", "percent: 10\n  paused: true"),
    )
    .unwrap();
    let paused = wait_for("pause", 1);
    assert_eq!(paused[0], (me.clone(), "pause".into(), "20250301".into()));
    std::fs::write(&meta_path, &written).unwrap();
    wait_for("resume", 1);
    std::fs::write(&meta_path, written.replace("percent: 10", "percent: 50")).unwrap();
    wait_for("rollout_edit", 1);
    let src = source(&fixture, "20250301-b", "20250301b");
    let output = run(
        &fixture,
        Some(&server),
        &[
            "publish",
            src.to_str().unwrap(),
            "--version",
            "20250301",
            "--replace",
            "--rollout-percent",
            "50",
        ],
    );
    assert!(output.status.success(), "{}", said(&output));
    let replaced = wait_for("replace", 1);
    assert_eq!(replaced[0].0, me);
    // Pausing and resuming are not also counted as rollout edits, nor is new bytes under
    // the same rollout.
    assert_eq!(wait_for("rollout_edit", 1).len(), 1);
}
