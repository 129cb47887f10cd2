//! `contrib/`: the systemd unit's command line and the packaged `server.yaml` start a
//! working server from the packaged layout (with the layout's paths moved into a temp dir).

use crate::common;

use std::fs;
use std::process::Command;

use crate::common::{Fixture, Server, BIN};

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
        "ReadOnlyPaths=/etc/kkt-update-server /srv/kkt/licenses",
        "ReadWritePaths=-/srv/kkt/firmware",
        "UMask=0077",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=CAP_LEASE",
        "StateDirectory=kkt-update-server",
        "AmbientCapabilities=CAP_LEASE",
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
    let moved = packaged
        .replace("/srv/kkt", &root.path("srv/kkt").display().to_string())
        .replace(
            "/var/lib/kkt-update-server",
            &root.path("var/lib/kkt-update-server").display().to_string(),
        );
    fs::create_dir_all(root.path("var/lib/kkt-update-server")).expect("state dir");
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

    let check = crate::common::server_command()
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("check");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let mut command = crate::common::server_command();
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
    // No example public_url: the URL follows the Host the device used, like the reference.
    assert_eq!(
        answer["url"],
        format!("http://{}/firmware/20180125/upd_app.bin", server.addr)
    );
    let packaged = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/server.yaml"))
        .expect("server.yaml");
    assert!(
        packaged.lines().any(|l| l == "listen: 0.0.0.0:8888"),
        "devices must reach the packaged server"
    );
    assert_eq!(
        server
            .post("/feature_licenses", r#"{"serial": 12345}"#)
            .status,
        200
    );
}

#[test]
fn the_nginx_example_passes_nginx_t() {
    if !common::require_tool("nginx") || !common::require_tool("openssl") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=fw.example.ru",
            "-keyout",
        ])
        .arg(root.join("privkey.pem"))
        .arg("-out")
        .arg(root.join("fullchain.pem"))
        .output()
        .expect("openssl");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let site = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/nginx-kkt-update-server.conf"
    ))
    .expect("example");
    fs::write(
        root.join("site.conf"),
        site.replace("/etc/ssl/fw.example.ru", &root.display().to_string()),
    )
    .expect("site");
    let main = format!(
        "pid {0}/nginx.pid;\nerror_log {0}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  include {0}/site.conf;\n}}\n",
        root.display()
    );
    fs::write(root.join("nginx.conf"), main).expect("nginx.conf");
    let output = Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(root.join("nginx.conf"))
        .arg("-p")
        .arg(root)
        .output()
        .expect("nginx -t");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_units_pass_systemd_analyze_verify() {
    if !common::require_tool("systemd-analyze") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let contrib = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib");
    let mut units = Vec::new();
    for name in [
        "kkt-update-server.service",
        "kkt-update-server.socket",
        "kkt-update-server-admin.socket",
    ] {
        let text = fs::read_to_string(format!("{contrib}/{name}")).expect("unit");
        // verify checks that ExecStart exists: point it at the binary under test.
        let text = text.replace("/usr/local/bin/kkt-update-server", BIN);
        fs::write(dir.path().join(name), text).expect("copy");
        units.push(dir.path().join(name));
    }
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .expect("systemd-analyze");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && said.trim().is_empty(), "{said}");
    let socket = fs::read_to_string(dir.path().join("kkt-update-server.socket")).expect("socket");
    assert!(socket.lines().any(|l| l == "FileDescriptorName=device"));
    let service = unit();
    assert!(service
        .lines()
        .any(|l| l == "Requires=kkt-update-server.socket"));
}

#[test]
fn the_alert_rules_pass_promtool_and_fire_on_their_cases() {
    if !common::require_tool("promtool") {
        return;
    }
    let contrib = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib");
    for args in [
        ["check", "rules", "prometheus-alerts.yml"],
        ["test", "rules", "prometheus-alerts.test.yml"],
    ] {
        let output = Command::new("promtool")
            .current_dir(contrib)
            .args(args)
            .output()
            .expect("promtool");
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every metric the alert rules name is one the server exports (a renamed metric would
/// leave an alert that can never fire).
#[test]
fn the_alert_rules_name_metrics_the_server_exports() {
    let rules = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/prometheus-alerts.yml"
    ))
    .expect("rules");
    let fixture = Fixture::new();
    fixture.release("20250301", Some("rollout:\n  percent: 10\n"));
    // A license file and a groups file, so that kkt_licenses_stale and kkt_groups_stale
    // have a series (a label per file).
    fixture.write("lic.slf", "");
    fixture.write("groups.yaml", "- name: A\n  networks: [10.0.0.0/8]\n");
    fixture.write_config("settle_ms: 0\nlicenses: [lic.slf]\ngroups: groups.yaml\n");
    let server = Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[]);
    let addr = common::admin_addr(&server);
    let metrics = common::raw_request(
        addr,
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .text();
    let mut named = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("kkt_") {
            named += 1;
            assert!(
                metrics.contains(&format!("# TYPE {word} ")),
                "{word} is not exported:\n{metrics}"
            );
        }
    }
    assert!(named >= 6, "{named}");
}
