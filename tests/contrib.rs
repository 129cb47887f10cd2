//! `contrib/`: the systemd unit's command line and the packaged `server.yaml` start a
//! working server from the packaged layout (with the layout's paths moved into a temp dir).

mod common;

use std::fs;
use std::process::Command;

use common::{Fixture, Server, BIN};

fn unit() -> String {
    fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/kkt-update-server.service"
    ))
    .expect("unit file")
}

#[test]
fn the_unit_is_hardened_and_restarts_on_failure() {
    let unit = unit();
    for line in [
        "User=kkt",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadOnlyPaths=/etc/kkt-update-server /srv/kkt",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=",
    ] {
        assert!(unit.lines().any(|l| l.trim() == line), "missing {line}");
    }
}

#[test]
fn the_units_command_line_serves_the_packaged_layout() {
    let exec = unit()
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .to_string();
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/kkt-update-server"));
    let args: Vec<&str> = words.collect();
    assert_eq!(args, ["--config", "/etc/kkt-update-server/server.yaml"]);

    // The packaged layout, rooted in a temp dir.
    let root = Fixture::new();
    let packaged = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/server.yaml"))
        .expect("server.yaml");
    let moved = packaged.replace("/srv/kkt", &root.path("srv/kkt").display().to_string());
    root.write("etc/kkt-update-server/server.yaml", moved);
    root.write(
        "srv/kkt/licenses/fleet.slf",
        format!("{}\n", common::slf_line("0000000000012345", 'f', 'a')),
    );
    fs::create_dir_all(root.path("srv/kkt/firmware")).expect("firmware");
    fs::rename(
        root.release("20180125", None),
        root.path("srv/kkt/firmware/20180125"),
    )
    .expect("release");
    let config = root.path("etc/kkt-update-server/server.yaml");

    let check = Command::new(BIN)
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let mut command = Command::new(BIN);
    command
        .args(["--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "off"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped());
    let server = Server::spawn(command);
    // settle_ms is 1000 in the packaged file, and the release was just copied in.
    let answer = common::eventually(
        "the release settles",
        std::time::Duration::from_secs(20),
        || {
            let answer = server.check_firmware("1.1.2018");
            (answer["version"] == 20180125).then_some(answer)
        },
    );
    assert_eq!(
        answer["url"],
        "https://fw.example.ru/firmware/20180125/upd_app.bin"
    );
    assert_eq!(
        server
            .post("/feature_licenses", r#"{"serial": 12345}"#)
            .status,
        200
    );
}
