//! Faults on disk against the real binary: a release file that cannot be read, the whole
//! `firmware_dir` gone, a license file replaced by a folder. The server keeps serving the
//! last good state, logs each fault once however often it rescans, and recovers when the
//! fault is gone.
//!
//! A read error from the disk (EIO) takes the same path as a permission error (any error
//! from reading a file): permissions are how these tests cause one. As root, permissions do
//! not stop reads, so the server then runs as `nobody` (through `setpriv`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::{
    admin_addr, eventually, firmware_bytes, offered, raw_request, slf_line, start_unprivileged,
    Fixture, Server,
};

const DEADLINE: Duration = Duration::from_secs(20);

/// Starts the server on `fixture` with the admin listener, as `nobody` when we are root.
fn start(fixture: &Fixture) -> Server {
    start_unprivileged(
        fixture.dir.path(),
        &[
            "--admin-listen",
            "127.0.0.1:0",
            // As `nobody` the kernel will not say who writes root's files, and these tests
            // are not about writers: no longer quiet time for unconfirmed files.
            "--unconfirmed-settle-ms",
            "0",
        ],
    )
}

fn release_problems(server: &Server) -> Vec<String> {
    let admin = admin_addr(server);
    let status = raw_request(
        admin,
        format!("GET /status HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .json();
    let problems = status["release_problems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    problems
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

/// Sends SIGHUP `times` times, waiting for each rescan, so the fault is seen repeatedly.
fn rescan(server: &Server, times: usize) {
    let before = server.log().matches("rescanned on SIGHUP").count()
        + server.log().matches("reloaded on SIGHUP").count();
    for i in 1..=times {
        server.sighup();
        eventually("the rescan", DEADLINE, || {
            let log = server.log();
            (log.matches("rescanned on SIGHUP").count() + log.matches("reloaded on SIGHUP").count()
                >= before + i)
                .then_some(())
        });
    }
}

#[test]
fn an_unreadable_release_file_keeps_the_validated_version_serving() {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 200\n");
    fixture.release("20180117", None);
    let folder = fixture.release("20180125", None);
    let server = start(&fixture);
    eventually("20180125 offered", DEADLINE, || {
        (offered(&server) == 20180125).then_some(())
    });

    let file = folder.join("upd_app.bin");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).expect("chmod 000");
    assert!(
        server.wait_for_log("cannot read upd_app.bin", DEADLINE),
        "{}",
        server.log()
    );
    rescan(&server, 3);
    assert_eq!(
        offered(&server),
        20180125,
        "the last good state keeps serving"
    );
    let download = server.get("/firmware/20180125/upd_app.bin", &[]);
    assert!(download.status == 200 && download.body == firmware_bytes("20180125", "upd_app.bin"));
    assert_eq!(
        server.log().matches("cannot read upd_app.bin").count(),
        1,
        "logged once, not per rescan:\n{}",
        server.log()
    );
    assert!(release_problems(&server)
        .iter()
        .any(|p| p.contains("still serving the version checked before")));

    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod back");
    eventually("the fault cleared", DEADLINE, || {
        release_problems(&server).is_empty().then_some(())
    });
    assert_eq!(offered(&server), 20180125);
}

#[test]
fn a_vanished_firmware_dir_keeps_the_last_good_releases() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let server = start(&fixture);
    assert_eq!(offered(&server), 20180125);
    fs::rename(fixture.path("firmware"), fixture.path("firmware.away")).expect("mv away");
    assert!(
        server.wait_for_log("cannot list the firmware folder", DEADLINE),
        "{}",
        server.log()
    );
    rescan(&server, 3);
    assert_eq!(offered(&server), 20180125);
    assert_eq!(
        server.get("/firmware/20180125/upd_app.bin", &[]).status,
        200
    );
    assert_eq!(
        server
            .log()
            .matches("cannot list the firmware folder")
            .count(),
        1,
        "{}",
        server.log()
    );

    fs::rename(fixture.path("firmware.away"), fixture.path("firmware")).expect("mv back");
    eventually("the fault cleared", DEADLINE, || {
        release_problems(&server).is_empty().then_some(())
    });
    fixture.release(".staging-20180201", None);
    fs::rename(
        fixture.path("firmware/.staging-20180201"),
        fixture.path("firmware/20180201"),
    )
    .expect("publish");
    eventually("watching again", DEADLINE, || {
        (offered(&server) == 20180201).then_some(())
    });
}

#[test]
fn a_license_file_replaced_by_a_folder_keeps_its_licenses() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write(
        "l.slf",
        format!("{}\n", slf_line("0000000000012345", 'f', 'a')),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [l.slf]\n");
    let server = start(&fixture);
    let lookup = || server.post("/feature_licenses", r#"{"serial": 12345}"#);
    assert_eq!(lookup().status, 200);
    fs::remove_file(fixture.path("l.slf")).expect("rm");
    fs::create_dir(fixture.path("l.slf")).expect("mkdir in its place");
    assert!(
        server.wait_for_log("l.slf: is not a regular file", DEADLINE),
        "{}",
        server.log()
    );
    rescan(&server, 3);
    assert_eq!(
        lookup().status,
        200,
        "the licenses loaded before still serve"
    );
    assert_eq!(
        server.log().matches("l.slf: is not a regular file").count(),
        1,
        "{}",
        server.log()
    );

    fs::remove_dir(fixture.path("l.slf")).expect("rmdir");
    fixture.write(
        "l.slf",
        format!("{}\n", slf_line("0000000000012345", 'e', 'a')),
    );
    eventually("recovered", DEADLINE, || {
        let answer = lookup();
        (answer.status == 200 && answer.json()["licenses"] == "e".repeat(128)).then_some(())
    });
}
