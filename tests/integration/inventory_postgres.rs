//! Fleet memory in PostgreSQL: a throwaway server from Debian's `postgresql` package
//! (initdb in a temp dir, its own port, run as `nobody` when we are root, stopped at the
//! end), the store's behaviour against it (a restart keeps devices, events and outcomes),
//! and two server instances sharing it and seeing one fleet.

use crate::common;
use crate::inventory_scenarios;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{admin_json, eventually, Fixture, Server, DEADLINE};

/// A PostgreSQL server of our own; stopped when dropped.
struct Postgres {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Postgres {
    fn url(&self) -> String {
        format!("postgres://kkt@127.0.0.1:{}/postgres", self.port)
    }
}

/// The folder of Debian's PostgreSQL programs, if installed.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// Runs `program` as `nobody` when we are root (PostgreSQL refuses to run as root).
fn as_postgres_user(program: &Path) -> Command {
    if common::is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start_postgres() -> Option<Postgres> {
    let bin = pg_bin();
    if !common::require(
        bin.is_some(),
        "PostgreSQL (/usr/lib/postgresql/*/bin/initdb)",
        "apt-get install postgresql",
    ) {
        return None;
    }
    let bin = bin?;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    if common::is_root() {
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown");
    }
    let output = as_postgres_user(&bin.join("initdb"))
        .args(["-U", "kkt", "--auth=trust", "-E", "UTF8", "--no-sync", "-D"])
        .arg(&data)
        .output()
        .expect("initdb");
    assert!(
        output.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = as_postgres_user(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let postgres = Postgres {
        child,
        port,
        _dir: dir,
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    eventually("PostgreSQL accepting", DEADLINE, || {
        TcpStream::connect(addr).ok().map(|_| ())
    });
    // Accepting TCP is not yet accepting logins: wait for a real query to work.
    let url = postgres.url();
    eventually("PostgreSQL answering", DEADLINE, || {
        postgres::Client::connect(&url, postgres::NoTls)
            .ok()
            .map(|_| ())
    });
    Some(postgres)
}

fn deployment(url: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ninventory: \"{url}\"\n"
    ));
    fixture.release("20180125", None);
    fixture
}

fn start(dir: &Path) -> Server {
    Server::start(dir, &["--admin-listen", "127.0.0.1:0"], &[])
}

fn check_in(server: &Server, address: &str, build_date: &str) {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build_date}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200);
}

fn wait_total(server: &Server, query: &str, n: u64) {
    eventually(&format!("{n} devices for {query}"), DEADLINE, || {
        (admin_json(server, &format!("/devices{query}"))["total"] == n).then_some(())
    });
}

#[test]
fn the_store_keeps_devices_events_and_outcomes_in_postgres() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    let mut server = start(fixture.dir.path());
    let status = admin_json(&server, "/status");
    assert_eq!(status["inventory"]["ok"], true, "{}", status["inventory"]);
    assert!(
        !status["inventory"]["store"]
            .as_str()
            .unwrap_or_default()
            .contains("kkt@"),
        "no credentials on /status"
    );
    check_in(&server, "10.5.0.1", "1.1.2018");
    check_in(&server, "10.5.0.2", "1.1.2018");
    let response = server.get(
        "/firmware/20180125/upd_app.bin",
        &[("X-Forwarded-For", "10.5.0.1")],
    );
    assert_eq!(response.status, 200);
    check_in(&server, "10.5.0.1", "25.01.2018");
    wait_total(&server, "?outcome=updated", 1);
    assert!(server.terminate(DEADLINE));

    let server = start(fixture.dir.path());
    wait_total(&server, "", 2);
    wait_total(&server, "?outcome=pending", 1);
    let releases = admin_json(&server, "/releases");
    assert_eq!(releases["releases"][0]["downloaded"], 1, "{releases}");
    let history = admin_json(&server, "/history");
    assert!(
        history["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["kind"] == "build_changed")),
        "{history}"
    );
    // Migrations run once: a third start finds the schema in place.
    drop(server);
    let server = start(fixture.dir.path());
    wait_total(&server, "", 2);
}

#[test]
fn two_instances_sharing_postgres_see_one_fleet() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    let a = start(fixture.dir.path());
    let b = start(fixture.dir.path());
    check_in(&a, "10.6.0.1", "1.1.2018");
    check_in(&b, "10.6.0.2", "1.1.2018");
    check_in(&b, "10.6.0.3", "25.01.2018");
    wait_total(&a, "", 3);
    wait_total(&b, "", 3);
    wait_total(&a, "?build_date=20180101", 2);
}

#[test]
fn a_restart_keeps_every_device_and_event_in_postgres() {
    let Some(pg) = start_postgres() else { return };
    inventory_scenarios::a_restart_keeps_every_device_and_event(&format!(
        "inventory: \"{}\"\n",
        pg.url()
    ));
}

#[test]
fn outcomes_filters_csv_and_missing_serials_in_postgres() {
    let Some(pg) = start_postgres() else { return };
    inventory_scenarios::outcomes_filters_csv_and_missing_serials(&format!(
        "inventory: \"{}\"\n",
        pg.url()
    ));
}

/// Admissions made by one instance hold on the other (once admitted, always admitted), and
/// count against the hourly cap there too.
#[test]
fn two_instances_sharing_postgres_share_rollout_admissions() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    fixture.release("20180201", Some("rollout:\n  max_new_per_hour: 5\n"));
    let a = start(fixture.dir.path());
    let b = start(fixture.dir.path());
    let offered = |server: &Server, address: &str| -> u64 {
        let response = server.post_with(
            "/check_firmware",
            "{\"build_date\": \"1.1.2018\"}",
            &[("X-Forwarded-For", address)],
        );
        assert_eq!(response.status, 200);
        response.json()["version"].as_u64().unwrap_or(0)
    };
    for n in 1..=5 {
        assert_eq!(offered(&a, &format!("10.7.0.{n}")), 20180201);
    }
    assert_eq!(offered(&a, "10.7.0.6"), 20180125, "A's cap is full");
    eventually("B sees A's five admissions", DEADLINE, || {
        let status = admin_json(&b, "/status");
        (status["rollouts"][0]["admitted"] == 5).then_some(())
    });
    assert_eq!(
        offered(&b, "10.7.0.1"),
        20180201,
        "admitted on A, offered by B"
    );
    assert_eq!(
        offered(&b, "10.7.0.7"),
        20180125,
        "A's admissions fill B's cap"
    );
}

#[test]
fn a_flooding_address_is_bounded_and_crowds_out_no_one_in_postgres() {
    let Some(pg) = start_postgres() else { return };
    let url = pg.url();
    inventory_scenarios::a_flooding_address_is_bounded_and_crowds_out_no_one(
        &format!("inventory: \"{url}\"\n"),
        &|_, sql| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let rows = client.query(sql, &[]).expect(sql);
            rows.iter().map(|row| row.get::<_, i64>(0)).collect()
        },
    );
}

/// A store of schema 5 holding a device's 30 downloads of one file, 1,000 serials and 100
/// build changes: migration 6 folds the downloads into one counted row and prunes the rest
/// to the bounds (256 serials, 64 build changes), in PostgreSQL's dialect.
#[test]
fn migration_6_folds_and_prunes_a_postgres_store() {
    let Some(pg) = start_postgres() else { return };
    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .expect("schema_migrations");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("migrations")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for (n, file) in files.iter().take(5).enumerate() {
        client
            .batch_execute(&std::fs::read_to_string(file).expect("migration"))
            .expect("migration");
        client
            .execute(
                "INSERT INTO schema_migrations VALUES ($1, 0)",
                &[&(n as i64 + 1)],
            )
            .expect("version");
    }
    // Times of the last hour: the retention prune at start-up leaves them.
    let base = common::unix_now() as i64 - 3600;
    client
        .batch_execute(&format!(
            "INSERT INTO downloads (at, address, version, file, bytes, complete) \
             SELECT {base} + n, '10.8.0.1', 20180125, 'upd_app.bin', 1000, 1 FROM generate_series(0, 29) AS n;
             INSERT INTO device_serials (address, serial, licensed, last_seen) \
             SELECT '10.8.0.1', lpad(n::text, 16, '0'), 0, {base} + n FROM generate_series(0, 999) AS n;
             INSERT INTO history (at, kind, address, detail) \
             SELECT {base} + n, 'build_changed', '10.8.0.1', '' FROM generate_series(0, 99) AS n;"
        ))
        .expect("a schema 5 store with data");
    let fixture = deployment(&pg.url());
    let _server = start(fixture.dir.path());
    let ints = |client: &mut postgres::Client, sql: &str| -> Vec<i64> {
        let rows = client.query(sql, &[]).expect(sql);
        rows.iter().map(|row| row.get::<_, i64>(0)).collect()
    };
    eventually("migration 6", DEADLINE, || {
        (ints(
            &mut client,
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 6",
        ) == [1])
        .then_some(())
    });
    assert_eq!(
        ints(&mut client, "SELECT times FROM downloads"),
        [30],
        "one row, counted"
    );
    assert_eq!(ints(&mut client, "SELECT first_at FROM downloads"), [base]);
    assert_eq!(ints(&mut client, "SELECT at FROM downloads"), [base + 29]);
    assert_eq!(
        ints(&mut client, "SELECT MIN(last_seen) FROM device_serials"),
        [base + 1000 - 256]
    );
    assert_eq!(
        ints(&mut client, "SELECT COUNT(*) FROM device_serials"),
        [256]
    );
    assert_eq!(
        ints(
            &mut client,
            "SELECT COUNT(*) FROM history WHERE kind = 'build_changed'"
        ),
        [64]
    );
}
