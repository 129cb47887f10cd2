//! Configurations that used to pass `check` and then published secrets or crashed the
//! server: a `firmware_dir` that holds the server's own files or is a system folder,
//! durations and counts near `u64::MAX`, and the doors `check` must warn about.

use crate::common;

use crate::common::{Fixture, DEADLINE};

fn check_with(config: &str) -> (bool, String, String) {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    std::fs::write(fixture.path("server.yaml"), config).expect("server.yaml");
    common::run_check(fixture.dir.path())
}

#[test]
fn check_refuses_a_firmware_dir_holding_the_servers_own_files() {
    for (firmware_dir, said) in [
        ("/", "firmware_dir / is a system folder"),
        ("/etc", "is a system folder"),
        ("/proc/self", "is a system folder"),
        // The system's configuration, any folder of it (TLS keys, SSH host keys).
        ("/etc/ssl", "is a system folder"),
        ("/etc/ssh/", "is a system folder"),
        // A user's home as a whole (documents, keys kept without a dot).
        ("/home/operator/", "is a system folder"),
        (".", "holds the configuration file"),
        ("\"\"", "firmware_dir is empty"),
    ] {
        let (ok, report, errors) = check_with(&format!(
            "firmware_dir: {firmware_dir}\nadmin_listen: null\n"
        ));
        assert!(!ok, "{firmware_dir}: {report}");
        assert!(errors.contains(said), "{firmware_dir}: {errors}");
        assert!(errors.contains("folder of its own"), "{errors}");
    }
    let (ok, _, errors) = check_with(
        "firmware_dir: firmware\nadmin_listen: null\ntls_listen: 127.0.0.1:0\n\
         tls_cert: firmware/cert.pem\ntls_key: firmware/key.pem\n",
    );
    assert!(!ok);
    assert!(errors.contains("the TLS certificate"), "{errors}");
    let (ok, _, errors) =
        check_with("firmware_dir: firmware\nadmin_listen: null\naccess_log: firmware/access.log\n");
    assert!(!ok);
    assert!(errors.contains("the access log"), "{errors}");
}

#[test]
fn an_edit_that_exposes_the_configuration_keeps_the_last_good_one() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write_config("settle_ms: 0\n");
    let server = fixture.start();
    let before = server.get("/firmware/server.yaml", &[]);
    assert_eq!(before.status, 404);
    std::fs::write(
        fixture.path("server.yaml"),
        "firmware_dir: .\nadmin_listen: null\nsettle_ms: 0\n",
    )
    .expect("edit");
    server.sighup();
    assert!(
        server.wait_for_log("holds the configuration file", DEADLINE),
        "{}",
        server.log()
    );
    let after = server.get("/firmware/server.yaml", &[]);
    assert_eq!(after.status, 404, "{}", after.text());
    assert_eq!(server.check_firmware("01.01.2018")["version"], 20180125);
}

#[test]
fn durations_and_counts_have_upper_bounds() {
    for (line, said) in [
        (
            "keep_alive_s: 18446744073709551615",
            "keep_alive_s must be between 0 and 3600 (seconds); got 18446744073709551615",
        ),
        (
            "shutdown_timeout_s: 18446744073709551615",
            "shutdown_timeout_s must be between 0 and 3600 (seconds)",
        ),
        (
            "stuck_after_s: 0",
            "stuck_after_s must be between 1 and 2592000",
        ),
        (
            "inventory_retention_days: 100000",
            "inventory_retention_days must be between 1 and 36500 (days)",
        ),
        (
            "fleet_max_devices: 18446744073709551615",
            "fleet_max_devices must be between 1 and 10000000;",
        ),
        (
            "max_connections: 0",
            "max_connections must be between 1 and 1000000",
        ),
        (
            "send_timeout_s: 0",
            "send_timeout_s must be between 1 and 3600",
        ),
        // Past u64: the parser's words, without the Rust type it tried.
        (
            "keep_alive_s: 18446744073709551616",
            "keep_alive_s must be a whole number of seconds, like 5; got 18446744073709551616 \
             (line 2)",
        ),
        (
            "max_connections: 99999999999999999999999",
            "max_connections must be a whole number, like 10000; got 99999999999999999999999 \
             (line 2)",
        ),
    ] {
        let (ok, _, errors) = check_with(&format!("firmware_dir: firmware\n{line}\n"));
        assert!(!ok, "{line}");
        assert!(errors.contains(said), "{line}: {errors}");
    }
    // The short values tests use still pass.
    let (ok, report, errors) = check_with(
        "firmware_dir: firmware\nadmin_listen: null\nstuck_after_s: 3\nkeep_alive_s: 0\n\
         shutdown_timeout_s: 0\n",
    );
    assert!(ok, "{report}{errors}");
}

#[test]
fn a_huge_shutdown_timeout_from_the_environment_cannot_hang_the_stop() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let output = crate::common::server_command()
        .current_dir(fixture.dir.path())
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .env("KKT_SHUTDOWN_TIMEOUT_S", "18446744073709551615")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("shutdown_timeout_s must be between"));
}

#[test]
fn check_warns_about_an_open_admin_listener_and_trusting_everyone() {
    let (ok, report, _) = check_with(
        "firmware_dir: firmware\nadmin_listen: 0.0.0.0:0\ntrusted_proxies: [10.0.0.1, \"::/0\"]\n",
    );
    assert!(ok, "{report}");
    assert!(
        report.contains("warning: admin_listen 0.0.0.0:0 can be reached from other machines and admin_token is not set"),
        "{report}"
    );
    assert!(
        report.contains("warning: trusted_proxies holds ::/0"),
        "{report}"
    );
    let (ok, report, _) = check_with(
        "firmware_dir: firmware\nadmin_listen: 127.0.0.1:0\ntrusted_proxies: [10.0.0.0/8]\n",
    );
    assert!(ok);
    assert!(
        !report.contains("admin_listen 127.0.0.1:0 can be reached"),
        "{report}"
    );
    assert!(!report.contains("trusted_proxies holds"), "{report}");
}

/// A hard link is the file itself under another name: one of the server's own files
/// linked into `firmware_dir` (`ln server.yaml firmware/docs/`) is still not served,
/// while an ordinary file beside it is.
#[cfg(unix)]
#[test]
fn a_hard_link_to_the_servers_own_files_is_not_served() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("licenses.yaml", "\"0000000000012345\": []\n");
    fixture.write_config(
        "settle_ms: 0\nadmin_token: s3cret-token-for-tests\nlicenses: [licenses.yaml]\n",
    );
    fixture.write("firmware/docs/notes.txt", "notes");
    let server = fixture.start();
    for (own, link) in [
        ("server.yaml", "docs/settings.txt"),
        ("licenses.yaml", "docs/licenses.txt"),
        ("inventory.sqlite", "docs/inventory.txt"),
    ] {
        std::fs::hard_link(fixture.path(own), fixture.path(&format!("firmware/{link}")))
            .expect("hard link");
        let response = server.get(&format!("/firmware/{link}"), &[]);
        assert_eq!(response.status, 404, "{own} as {link}: {}", response.text());
    }
    assert_eq!(server.get("/firmware/docs/notes.txt", &[]).status, 200);
}

/// A name an operator's file system holds (a license file, a line folder) cannot write a
/// line of its own into `check`'s report, nor break a line for a viewer that treats
/// U+2028 as one.
#[cfg(unix)]
#[test]
fn a_file_name_cannot_forge_a_line_of_the_check_report() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("keys/a\ncheck passed.yaml", "{}\n");
    fixture.write("firmware/line\u{2028}x/line.yaml", "description: x\n");
    std::fs::write(
        fixture.path("server.yaml"),
        "firmware_dir: firmware\nadmin_listen: null\nlicenses: [keys]\n",
    )
    .expect("server.yaml");
    let (_, report, errors) = common::run_check(fixture.dir.path());
    let all = format!("{report}{errors}");
    assert!(
        all.lines()
            .all(|line| !line.starts_with("check passed.yaml")),
        "{all}"
    );
    assert!(all.contains("a\\ncheck passed.yaml"), "{all}");
    assert!(!all.contains('\u{2028}'), "{all}");
    assert!(all.contains("line\\u{2028}x"), "{all}");
}

/// `firmware_dir` given as a symbolic link is checked where it leads; re-pointing the link
/// afterwards (at `/etc`) must not make static files serve what the check would refuse,
/// with or without a reload.
#[cfg(unix)]
#[test]
fn a_firmware_dir_link_re_pointed_at_a_system_folder_serves_nothing_from_it() {
    let fixture = Fixture::new();
    std::fs::remove_dir(fixture.path("firmware")).expect("plain firmware folder");
    fixture.write("real/docs/notes.txt", "notes");
    std::os::unix::fs::symlink(fixture.path("real"), fixture.path("firmware")).expect("link");
    fixture.release("20180125", None);
    fixture.write_config("settle_ms: 0\n");
    let server = fixture.start();
    assert_eq!(server.get("/firmware/docs/notes.txt", &[]).status, 200);
    let relink = |to: &std::path::Path| {
        std::fs::remove_file(fixture.path("firmware")).expect("unlink");
        std::os::unix::fs::symlink(to, fixture.path("firmware")).expect("link");
    };
    relink(std::path::Path::new("/etc"));
    let before_reload = server.get("/firmware/passwd", &[]);
    assert_eq!(before_reload.status, 404, "{}", before_reload.text());
    server.sighup();
    assert!(
        server.wait_for_log("is a system folder", DEADLINE),
        "{}",
        server.log()
    );
    let after_reload = server.get("/firmware/passwd", &[]);
    assert_eq!(after_reload.status, 404, "{}", after_reload.text());
    // Pointed back at a folder of its own, it serves again.
    relink(&fixture.path("real"));
    server.sighup();
    common::eventually("notes served again", DEADLINE, || {
        (server.get("/firmware/docs/notes.txt", &[]).status == 200).then_some(())
    });
}

/// Other spellings of the configuration's own folder (tried in review; they held): with
/// `..`, trailing slashes, doubled slashes, a link to it, and relative on the command line
/// from another working directory.
#[cfg(unix)]
#[test]
fn every_spelling_of_the_configurations_folder_is_refused() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("firmware/docs/notes.txt", "notes");
    std::os::unix::fs::symlink(fixture.dir.path(), fixture.path("here")).expect("link");
    let root = fixture.dir.path().display().to_string();
    for firmware_dir in [
        "firmware/..".to_string(),
        "firmware/../".to_string(),
        "./".to_string(),
        "firmware/docs/../..".to_string(),
        format!("{root}/"),
        format!("/{root}//."),
        "here".to_string(),
        "here/firmware/..".to_string(),
    ] {
        std::fs::write(
            fixture.path("server.yaml"),
            format!("firmware_dir: \"{firmware_dir}\"\nadmin_listen: null\n"),
        )
        .expect("server.yaml");
        let (ok, report, errors) = common::run_check(fixture.dir.path());
        assert!(!ok, "{firmware_dir}: {report}");
        assert!(
            errors.contains("holds the configuration file"),
            "{firmware_dir}: {errors}"
        );
    }
    fixture.write_config("");
    let parent = fixture.dir.path().parent().expect("parent");
    let name = fixture
        .dir
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy();
    let output = crate::common::server_command()
        .current_dir(parent)
        .args(["check", "--config", &format!("{name}/server.yaml")])
        .args(["--firmware-dir", &name])
        .env_remove("RUST_LOG")
        .output()
        .expect("run check");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("holds the configuration file"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every duration and count at its upper bound is used at run time without overflow or
/// panic: devices are answered, the admin pages that compute with `stuck_after_s` and
/// `inventory_retention_days` answer, and a stop with `shutdown_timeout_s: 3600` ends as
/// soon as nothing is in flight. (Tried in review; it held.)
#[cfg(unix)]
#[test]
fn every_bound_at_its_maximum_runs_and_stops() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write_config(
        "settle_ms: 0\nunconfirmed_settle_ms: 3600000\npoll_interval_ms: 600000\n\
         request_timeout_ms: 600000\ninventory_retention_days: 36500\nstuck_after_s: 2592000\n\
         shutdown_timeout_s: 3600\nkeep_alive_s: 3600\nsend_timeout_s: 3600\n\
         fleet_max_devices: 10000000\nmax_connections: 1000000\n",
    );
    let mut server =
        common::Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    assert_eq!(server.check_firmware("01.01.2018")["version"], 20180125);
    for path in [
        "/status",
        "/devices",
        "/devices.csv",
        "/releases",
        "/metrics",
    ] {
        let answer = common::admin(&server, path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    }
    assert!(server.terminate(DEADLINE), "{}", server.log());
    assert!(!server.log().contains("panicked"), "{}", server.log());
}
