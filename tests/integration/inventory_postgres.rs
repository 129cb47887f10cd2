//! Fleet memory in PostgreSQL: a throwaway server from Debian's `postgresql` package
//! (initdb in a temp dir, its own port, run as `nobody` when we are root, stopped at the
//! end), the store's behaviour against it (a restart keeps devices, events and outcomes),
//! two server instances sharing it and seeing one fleet, and `sslmode` against one that
//! takes TLS connections only (`ssl=on`, `hostssl` in `pg_hba.conf`, a test CA).

use crate::common;
use crate::inventory_scenarios;
use crate::tls_certs;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{admin_json, eventually, Fixture, Server, DEADLINE};

/// A PostgreSQL server of our own; stopped when dropped.
pub(crate) struct Postgres {
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
    pub(crate) fn url(&self) -> String {
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

pub(crate) fn start_postgres() -> Option<Postgres> {
    start_postgres_with(None)
}

/// With `tls` (a folder holding `server.pem` and `server.key`): `ssl=on` with that
/// certificate, and TCP connections accepted over TLS only (`hostssl`).
fn start_postgres_with(tls: Option<&Path>) -> Option<Postgres> {
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
    let mut settings = vec!["listen_addresses=127.0.0.1".to_string(), "fsync=off".into()];
    if let Some(certs) = tls {
        for name in ["server.pem", "server.key"] {
            std::fs::copy(certs.join(name), data.join(name)).expect("copy the certificate");
            if common::is_root() {
                std::os::unix::fs::chown(data.join(name), Some(65534), Some(65534)).expect("chown");
            }
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        settings.extend([
            "ssl=on".to_string(),
            "ssl_cert_file=server.pem".into(),
            "ssl_key_file=server.key".into(),
        ]);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = as_postgres_user(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args(settings.iter().flat_map(|setting| ["-c", setting.as_str()]))
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
    // Accepting TCP is not yet accepting logins: wait for a real login to work (or, with
    // TLS only, for the server itself to refuse a plain one).
    let url = postgres.url();
    eventually(
        "PostgreSQL answering",
        DEADLINE,
        || match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => Some(()),
            Err(e)
                if tls.is_some()
                    && e.as_db_error()
                        .is_some_and(|e| e.message().contains("pg_hba.conf")) =>
            {
                Some(())
            }
            Err(_) => None,
        },
    );
    Some(postgres)
}

pub(crate) fn deployment(url: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!(
        "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ninventory: \"{url}\"\n"
    ));
    fixture.release("20180125", None);
    fixture
}

pub(crate) fn start(dir: &Path) -> Server {
    Server::start(dir, &["--admin-listen", "127.0.0.1:0"], &[])
}

pub(crate) fn check_in(server: &Server, address: &str, build_date: &str) {
    let response = server.post_with(
        "/check_firmware",
        &format!("{{\"build_date\": \"{build_date}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200);
}

pub(crate) fn wait_total(server: &Server, query: &str, n: u64) {
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

/// The inventory's state on `/status` once the first connection was tried: `Ok(())` or the
/// error the server shows.
fn inventory_state(server: &Server) -> Result<(), String> {
    eventually("the first connection tried", DEADLINE, || {
        let inventory = &admin_json(server, "/status")["inventory"];
        // `ok` is true before the first try too: the check-in written proves a connection.
        if inventory["ok"] == true && inventory["written"].as_u64().unwrap_or(0) > 0 {
            return Some(Ok(()));
        }
        inventory["error"].as_str().map(|e| Err(e.to_string()))
    })
}

/// `sslmode` against a PostgreSQL that takes TLS connections only, with a certificate made
/// out to `db.test` by a test CA: `require` and `prefer` connect without checking it,
/// `verify-ca` checks the chain, `verify-full` the chain and the host name, each failure
/// told in plain words; `disable` is refused by the server. The password is never shown.
#[test]
fn sslmode_is_honoured_against_a_postgres_that_takes_tls_only() {
    if !tls_certs::have_openssl() {
        return;
    }
    let certs = tempfile::tempdir().expect("temp dir");
    tls_certs::make_ca(certs.path());
    std::fs::write(certs.path().join("ext.cnf"), "subjectAltName=DNS:db.test\n").expect("ext");
    tls_certs::make_cert(certs.path(), "server");
    // Another CA of the same name (its signature does not match) and one of another name.
    let other_ca = tempfile::tempdir().expect("temp dir");
    tls_certs::make_ca(other_ca.path());
    tls_certs::openssl(
        other_ca.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "stranger.key",
            "-out",
            "stranger.pem",
            "-days",
            "2",
            "-subj",
            "/CN=a stranger's CA",
        ],
    );
    let Some(pg) = start_postgres_with(Some(certs.path())) else {
        return;
    };
    let port = pg.port;
    let by_ip = format!("postgres://kkt:s3cret@127.0.0.1:{port}/postgres");
    // The name in the certificate, reached at 127.0.0.1 (no resolver needed).
    let by_name = format!("postgres://kkt:s3cret@db.test:{port}/postgres?hostaddr=127.0.0.1");

    let try_url = |url: &str| -> Result<(), String> {
        let fixture = Fixture::new();
        std::fs::copy(certs.path().join("ca.pem"), fixture.path("ca.pem")).expect("ca");
        std::fs::copy(other_ca.path().join("ca.pem"), fixture.path("other-ca.pem")).expect("ca");
        std::fs::copy(
            other_ca.path().join("stranger.pem"),
            fixture.path("stranger.pem"),
        )
        .expect("ca");
        fixture.write_config(&format!(
            "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\ninventory: \"{url}\"\n"
        ));
        fixture.release("20180125", None);
        let server = start(fixture.dir.path());
        check_in(&server, "10.9.0.1", "1.1.2018");
        let state = inventory_state(&server);
        let shown = admin_json(&server, "/status")["inventory"].to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!server.log().contains("s3cret"), "{}", server.log());
        state
    };

    for url in [
        format!("{by_ip}?sslmode=require"),
        format!("{by_ip}?sslmode=prefer"),
        // libpq's default is prefer.
        by_ip.clone(),
        format!("{by_ip}?sslmode=verify-ca&sslrootcert=ca.pem"),
        format!("{by_name}&sslmode=verify-full&sslrootcert=ca.pem"),
    ] {
        assert_eq!(try_url(&url), Ok(()), "{url}");
    }

    let said = try_url(&format!(
        "{by_name}&sslmode=verify-full&sslrootcert=other-ca.pem"
    ))
    .expect_err("a certificate of another CA");
    assert!(
        said.contains("the server's certificate is not signed by a CA of sslrootcert")
            && said.contains("other-ca.pem"),
        "{said}"
    );
    let said = try_url(&format!("{by_ip}?sslmode=require&sslrootcert=stranger.pem"))
        .expect_err("require with sslrootcert checks the chain, as libpq does");
    assert!(said.contains("not signed by a CA of sslrootcert"), "{said}");
    let said = try_url(&format!("{by_ip}?sslmode=verify-full&sslrootcert=ca.pem"))
        .expect_err("127.0.0.1 is not in the certificate");
    assert!(
        said.contains("the server's certificate is not made out to the host name"),
        "{said}"
    );
    let said = try_url(&format!("{by_ip}?sslmode=disable")).expect_err("hostssl only");
    assert!(said.contains("no encryption"), "{said}");
    // prefer tries TLS (refused: a stranger's CA), then plain (refused: hostssl only).
    let said = try_url(&format!("{by_ip}?sslmode=prefer&sslrootcert=stranger.pem"))
        .expect_err("neither way in");
    assert!(
        said.contains("with TLS: the server's certificate is not signed by a CA")
            && said.contains("without TLS (sslmode=prefer tries both)")
            && said.contains("no encryption"),
        "{said}"
    );

    // A bad value is told by `check`, naming the key, the value and the accepted forms.
    let fixture = Fixture::new();
    fixture.write_config(&format!("inventory: \"{by_ip}?sslmode=verify_full\"\n"));
    fixture.release("20180125", None);
    let (ok, out, err) = common::run_check(fixture.dir.path());
    let said = format!("{out}{err}");
    assert!(!ok, "{said}");
    assert!(
        said.contains("sslmode=\"verify_full\"")
            && said.contains("disable, prefer, require, verify-ca or verify-full"),
        "{said}"
    );
    assert!(!said.contains("s3cret"), "{said}");
}

/// The deadline's counts read the same from PostgreSQL: three registers below a release
/// whose deadline has passed make it late, and are counted as below it.
#[test]
fn a_past_deadline_is_late_from_postgres_counts() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    fixture.release(
        "20180201",
        Some("rollout:\n  percent: 100\n  deadline: 2018-03-01\n"),
    );
    let server = start(fixture.dir.path());
    for n in 1..=3 {
        check_in(&server, &format!("10.8.0.{n}"), "1.1.2018");
    }
    let rollout = eventually(
        "the rollout counted",
        std::time::Duration::from_secs(40),
        || {
            let status = admin_json(&server, "/status");
            let rollout = status["rollouts"][0].clone();
            (rollout["below"] == 3).then_some(rollout)
        },
    );
    assert_eq!(rollout["late"], true, "{rollout}");
    assert_eq!(rollout["projection"], "no_confirmation_yet", "{rollout}");
}

/// The projection counts confirmations as the stage gate does from PostgreSQL too: a
/// register gone back to an older build is no confirmation to either.
#[test]
fn a_register_gone_back_is_no_confirmation_from_postgres_counts() {
    let Some(pg) = start_postgres() else { return };
    let fixture =
        crate::common::march_rollout::march_under_rollout(crate::deadlines::GONE_BACK_ROLLOUT);
    fixture.write_config(&format!(
        "{}inventory: \"{}\"\n",
        crate::common::march_rollout::PROXIED_CONFIG,
        pg.url()
    ));
    let server = start(fixture.dir.path());
    crate::deadlines::a_register_gone_back_is_no_confirmation(&server);
}

/// A stop after the admin API read from a PostgreSQL inventory ends cleanly. The reader's
/// connection (a client running a runtime of its own) was dropped inside the server's
/// runtime, and the process ended, after its "stopped" line, by a panic ("Cannot start a
/// runtime from within a runtime") instead of status 0.
#[test]
fn a_stop_after_admin_reads_exits_cleanly_with_postgres() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    let mut server = start(fixture.dir.path());
    check_in(&server, "10.10.0.1", "1.1.2018");
    wait_total(&server, "", 1);
    admin_json(&server, "/history");
    let status = server
        .terminate_status(DEADLINE)
        .expect("the server stops within the deadline");
    let log = server.log();
    assert!(log.contains("server] stopped"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(status.success(), "{status}: {log}");
}

/// Statements belong to their connection: when PostgreSQL ends the server's connections
/// (a restart, a failover, `pg_terminate_backend`), the writer and the reader open new
/// ones and prepare their statements there again, and every check-in is written.
#[test]
fn connections_ended_by_postgres_are_replaced_with_their_statements() {
    let Some(pg) = start_postgres() else { return };
    let fixture = deployment(&pg.url());
    let server = start(fixture.dir.path());
    check_in(&server, "10.11.0.1", "1.1.2018");
    check_in(&server, "10.11.0.2", "25.01.2018");
    wait_total(&server, "", 2);
    let mut client = postgres::Client::connect(&pg.url(), postgres::NoTls).expect("connect");
    let ended = client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("end the server's connections");
    assert!(
        ended.len() >= 2,
        "the writer's and the reader's: {}",
        ended.len()
    );
    for n in 3..=5 {
        check_in(&server, &format!("10.11.0.{n}"), "1.1.2018");
    }
    check_in(&server, "10.11.0.1", "25.01.2018");
    // The first read on the ended connection fails (503) and opens a new one.
    eventually("every check-in written again", DEADLINE, || {
        let response = common::admin(&server, "/devices?build_date=20180125");
        (response.status == 200 && response.json()["total"] == 2).then_some(())
    });
    wait_total(&server, "", 5);
    let history = admin_json(&server, "/history");
    assert!(
        history["events"].as_array().is_some_and(|events| events
            .iter()
            .any(|e| e["kind"] == "build_changed" && e["address"] == "10.11.0.1")),
        "{history}"
    );
}
