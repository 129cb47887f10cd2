//! The bench's load client (`crates/fleet-load`) against the real server: 50 registers, each
//! polling `check_firmware` on a new connection from its own 127.1.0.x address, are exactly
//! the 50 devices the inventory knows, at exactly those addresses; over HTTPS with
//! `--resume` the polls after a worker's first handshake resume (and without it none do,
//! so the count is the server's doing, not the client's say-so); a target off loopback is
//! refused before any connection.
//!
//! fleet-load is another package of the workspace, which cargo does not build for this
//! package's tests (`CARGO_BIN_EXE_` names only this package's binaries): it is built here,
//! once, with the same profile, into the same target folder, beside the server's binary (a
//! no-op when it is up to date).

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::{Fixture, Server, BIN};
use crate::inventory_scenarios::{admin_json, wait_devices};
use crate::tls_certs::{address_in_log, have_openssl, start_with_tls};

/// The fleet-load binary, built once for this run of the suite.
fn fleet_load() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile_dir = Path::new(BIN).parent().expect("the binaries' folder");
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a profile folder");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "-p", "fleet-load", "--profile"])
            .arg(if profile == "debug" { "dev" } else { profile });
        // Without what cargo sets for a running test (this package's name and folder...):
        // build scripts that watch those (ring's) would otherwise run again, here and at
        // the next `cargo test`, and rebuild half the tree each time.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let set_for_tests = [
                "CARGO_PKG_",
                "CARGO_BIN_",
                "CARGO_CRATE_",
                "CARGO_MANIFEST_",
            ]
            .iter()
            .any(|prefix| key.starts_with(prefix))
                || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&&*key);
            if set_for_tests {
                cargo.env_remove(&*key);
            }
        }
        let status = cargo.status().expect("run cargo");
        assert!(status.success(), "cargo build -p fleet-load failed");
        let binary = profile_dir.join(format!("fleet-load{}", std::env::consts::EXE_SUFFIX));
        // A suite run with `--target-dir` on the command line (not CARGO_TARGET_DIR) or
        // for another target would find nothing here: say so.
        assert!(
            binary.exists(),
            "{} was not built (set CARGO_TARGET_DIR rather than --target-dir)",
            binary.display()
        );
        binary
    })
}

fn run(args: &[&str]) -> Output {
    Command::new(fleet_load())
        .args(args)
        .output()
        .expect("run fleet-load")
}

/// The `key=value` pairs of fleet-load's one line, which must have succeeded.
fn results(output: &Output) -> HashMap<String, f64> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "fleet-load failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    stdout
        .split_whitespace()
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("key=value");
            (key.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

#[test]
fn fifty_registers_from_their_own_addresses_are_fifty_devices() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write_config("settle_ms: 0\ninventory: sqlite:inventory.sqlite\n");
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    let target = server.addr.to_string();
    let output = run(&[
        "--target",
        &target,
        "--registers",
        "50",
        "--new-connection",
        "--requests",
        "200",
        "--connections",
        "8",
    ]);
    let found = results(&output);
    assert_eq!(found["requests"], 200.0, "{found:?}");
    assert_eq!(found["errors"], 0.0, "{found:?}");
    assert_eq!(
        found["full_handshakes"] + found["resumed"],
        0.0,
        "plain HTTP"
    );
    wait_devices(&server, "", 50);
    let list = admin_json(&server, "/devices?limit=1000");
    let addresses: BTreeSet<Ipv4Addr> = list["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| {
            d["address"]
                .as_str()
                .expect("address")
                .parse()
                .expect("IPv4")
        })
        .collect();
    let expected: BTreeSet<Ipv4Addr> = (1..=50).map(|i| Ipv4Addr::new(127, 1, 0, i)).collect();
    assert_eq!(addresses, expected);
    assert_eq!(list["total"], 50, "no other device: {list}");
}

#[test]
fn polls_over_https_resume_with_resume_and_never_without() {
    if !have_openssl() {
        return;
    }
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let (server, ca) = start_with_tls(&fixture, &["--tls-listen", "127.0.0.1:0"]);
    let target = address_in_log(&server, "listening for HTTPS on ").to_string();
    let ca = ca.to_str().expect("a UTF-8 path");
    let poll = |resume: bool| {
        let mut args = vec![
            "--target",
            &target,
            "--tls",
            "--ca",
            ca,
            "--new-connection",
            "--registers",
            "20",
            "--requests",
            "100",
            "--connections",
            "4",
        ];
        if resume {
            args.push("--resume");
        }
        results(&run(&args))
    };
    let resumed = poll(true);
    assert_eq!(resumed["requests"], 100.0, "{resumed:?}");
    assert_eq!(
        resumed["full_handshakes"] + resumed["resumed"],
        100.0,
        "{resumed:?}"
    );
    assert!(resumed["resumed"] > 0.0, "{resumed:?}");
    // At most one full handshake per worker before the first tickets came back.
    assert!(resumed["full_handshakes"] <= 4.0, "{resumed:?}");
    let full = poll(false);
    assert_eq!(full["requests"], 100.0, "{full:?}");
    assert_eq!(full["full_handshakes"], 100.0, "{full:?}");
    assert_eq!(full["resumed"], 0.0, "{full:?}");
}

#[test]
fn a_target_off_loopback_is_refused_before_any_connection() {
    let output = run(&["--target", "192.0.2.1:80", "--requests", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("only this machine's loopback"), "{said}");
    let output = run(&[
        "--target",
        "127.0.0.1:9",
        "--source-base",
        "10.0.0.1",
        "--requests",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("must lie in 127.0.0.0/8"), "{said}");
}
