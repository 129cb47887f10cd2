//! The command line: `check` like `nginx -t`, the CLI > env > file precedence, and clear
//! start-up errors for a broken configuration.

use crate::common;

use crate::common::{Fixture, Server};

fn check(fixture: &Fixture, envs: &[(&str, &str)]) -> (i32, String) {
    let mut command = crate::common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args(["check", "--config", "server.yaml"])
        .env_remove("RUST_LOG");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("run check");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn check_passes_on_a_good_deployment() {
    let fixture = Fixture::new();
    fixture.release("20180125", Some("description: ok\n"));
    fixture.write(
        "l.slf",
        format!("{}\n", common::slf_line("0000000000012345", 'f', 'a')),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [l.slf]\n");
    let (code, text) = check(&fixture, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("20180125 current   \"ok\""), "{text}");
    assert!(text.contains("1 serials with feature licenses"), "{text}");
    assert!(text.contains("check passed"), "{text}");
}

#[test]
fn check_reports_each_broken_folder_and_license_line_precisely() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    fixture.release("20180125", Some("description: typo\ncritcal: true\n"));
    let missing = fixture.release("20180201", None);
    std::fs::remove_file(missing.join("upd_app_for_old_frs.bin")).expect("remove");
    fixture.write(
        "l.slf",
        format!(
            "{}\n0000000000000002\tzz\tyy\n",
            common::slf_line("0000000000012345", 'f', 'a')
        ),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [l.slf, gone.yaml, gone-folder]\n");
    let (code, text) = check(&fixture, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("20180125 rejected  meta.yaml: unknown field `critcal`"),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");
    assert!(
        text.contains("20180201 rejected  upd_app_for_old_frs.bin is missing"),
        "{text}"
    );
    assert!(text.contains("current release 20180117"), "{text}");
    assert!(
        text.contains("l.slf:2: licenses: expected 128 hex digits"),
        "{text}"
    );
    assert!(text.contains("gone.yaml: does not exist"), "{text}");
    assert!(
        text.contains("gone-folder: does not exist"),
        "a missing folder is not an unknown file type: {text}"
    );
    assert!(text.contains("check failed: 5 problem(s)"), "{text}");
}

#[test]
fn check_fails_on_an_unknown_config_key_and_the_server_refuses_to_start() {
    let fixture = Fixture::new();
    fixture.write_config("critcal_version: 20180101\n");
    let (code, text) = check(&fixture, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unknown field `critcal_version`"), "{text}");
    let output = crate::common::server_command()
        .current_dir(fixture.dir.path())
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("server.yaml: invalid configuration"));
}

#[test]
fn a_named_config_file_must_exist() {
    let fixture = Fixture::new();
    let output = crate::common::server_command()
        .current_dir(fixture.dir.path())
        .args(["check", "--config", "nope.yaml"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("cannot read the configuration file nope.yaml"));
}

#[test]
fn command_line_beats_environment_beats_file() {
    let fixture = Fixture::new();
    fixture.release("20180125", Some("critical: false\n"));
    fixture
        .write_config("settle_ms: 0\ncritical_version: 20170101\npublic_url: http://from-file\n");
    let body = r#"{"build_date": "1.1.2018"}"#;

    let server = Server::start(fixture.dir.path(), &[], &[]);
    let answer = server.post("/check_firmware", body).json();
    assert_eq!(
        (
            answer["critical"].as_bool(),
            answer["url"]
                .as_str()
                .map(|u| u.starts_with("http://from-file/"))
        ),
        (Some(false), Some(true))
    );
    drop(server);

    let env = [
        ("KKT_CRITICAL_VERSION", "20180101"),
        ("KKT_PUBLIC_URL", "http://from-env"),
    ];
    let server = Server::start(fixture.dir.path(), &[], &env);
    let answer = server.post("/check_firmware", body).json();
    assert_eq!(answer["critical"], false, "20180101 is not before 20180101");
    assert!(
        answer["url"]
            .as_str()
            .unwrap_or("")
            .starts_with("http://from-env/"),
        "{answer}"
    );
    assert_eq!(server.check_firmware("31.12.2017")["critical"], true);
    drop(server);

    let server = Server::start(
        fixture.dir.path(),
        &["--public-url", "http://from-cli"],
        &env,
    );
    let answer = server.post("/check_firmware", body).json();
    assert!(
        answer["url"]
            .as_str()
            .unwrap_or("")
            .starts_with("http://from-cli/"),
        "{answer}"
    );
}

#[test]
fn the_bundled_sample_checks_clean() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = crate::common::server_command()
        .current_dir(root)
        .arg("check")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("current release 20250301"), "{text}");
}

#[test]
fn check_says_when_it_runs_as_root() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let (code, text) = check(&fixture, &[]);
    assert_eq!(code, 0, "{text}");
    let warned = text.contains("warning: check ran as root");
    assert_eq!(warned, common::is_root(), "{text}");
    if warned {
        assert!(
            text.contains("sudo -u kkt kkt-update-server check"),
            "{text}"
        );
    }
}

#[test]
fn reload_asks_the_running_server_to_rescan_now() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    let token = "a-long-admin-token-1234";
    let server = common::Server::start(
        fixture.dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--admin-token", token],
        &[],
    );
    let admin = common::admin_addr(&server);
    let reload = |token: &str| {
        crate::common::server_command()
            .current_dir(fixture.dir.path())
            .args(["reload", "--config", "server.yaml", "--admin-listen"])
            .arg(admin.to_string())
            .env("KKT_ADMIN_TOKEN", token)
            .output()
            .expect("run reload")
    };
    let done = reload(token);
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(said.contains("\"status\": \"reloaded\""), "{said}");
    assert!(
        server.wait_for_log("rescanned on request", common::DEADLINE),
        "{}",
        server.log()
    );
    let refused = reload("not-the-token-at-all");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the token was refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// The fixture writes two lines before these (firmware_dir, admin_listen).
#[test]
fn check_names_the_key_the_value_and_the_form_of_a_wrong_kind_of_value() {
    let fixture = Fixture::new();
    for (yaml, said) in [
        (
            "settle_ms: 0\nlisten: [0.0.0.0, 8888]\n",
            "listen must be an address like 0.0.0.0:8888; got a list (line 4)",
        ),
        (
            "settle_ms: 0\nrequest_timeout_ms: 5s\n",
            "request_timeout_ms must be a whole number of milliseconds, like 5000; got \"5s\" \
             (line 4)",
        ),
        (
            "settle_ms: 0\ntrusted_proxies: 10.0.0.1\n",
            "trusted_proxies must be a list of addresses or networks, like [127.0.0.1, \
             10.0.0.0/8]; got \"10.0.0.1\" (line 4)",
        ),
        (
            "settle_ms: 0\nadmin_tls: yes\n",
            "admin_tls must be true or false; got \"yes\" (line 4)",
        ),
        (
            "settle_ms: 0\nfleet_max_devices: -5\n",
            "fleet_max_devices must be a whole number, like 100000; got -5 (line 4)",
        ),
        (
            "settle_ms: 0\nsettle_ms: 1000\n",
            "settle_ms is written twice; keep one (line 4)",
        ),
    ] {
        fixture.write_config(yaml);
        let (code, text) = check(&fixture, &[]);
        assert_eq!(code, 2, "{yaml}: {text}");
        assert!(
            text.contains(&format!("server.yaml: invalid configuration: {said}")),
            "{yaml}: {text}"
        );
        for rust in [
            "u64",
            "usize",
            "bool",
            "invalid type",
            "sequence",
            "expected",
        ] {
            assert!(!text.contains(rust), "{yaml}: {text}");
        }
    }
}

/// The binary in `dir` with `args`, no `KKT_CONFIG` unless given: exit code, stdout, stderr.
fn run_in(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = crate::common::server_command();
    command
        .current_dir(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("KKT_CONFIG")
        .env_remove("KKT_FIRMWARE_DIR");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().expect("run the binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_configuration_is_named_by_flag_then_kkt_config_then_found_in_the_working_folder() {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\nlisten: 127.0.0.1:1111\n");
    let other = |port: u16| {
        format!("firmware_dir: firmware\nadmin_listen: null\nlisten: 127.0.0.1:{port}\n")
    };
    fixture.write("env.yaml", other(2222));
    fixture.write("flag.yaml", other(3333));
    let dir = fixture.dir.path();
    let env = [("KKT_CONFIG", "env.yaml")];

    let (code, out, err) = run_in(dir, &["check", "--config", "flag.yaml"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("listen 127.0.0.1:3333"), "{out}");
    assert!(out.contains("flag.yaml in the working folder"), "{out}");
    assert!(out.contains("(--config): ok"), "{out}");

    let (code, out, err) = run_in(dir, &["check"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("listen 127.0.0.1:2222"), "{out}");
    assert!(out.contains("env.yaml in the working folder"), "{out}");
    assert!(out.contains("(KKT_CONFIG): ok"), "{out}");

    let (code, out, err) = run_in(dir, &["check"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("listen 127.0.0.1:1111"), "{out}");
    assert!(
        out.contains("server.yaml in the working folder")
            && out.contains("(found without --config): ok"),
        "{out}"
    );

    // A command whose stdout may be read by a script says it on stderr.
    let (_, out, err) = run_in(dir, &["publish", "missing-folder", "--dry-run"], &[]);
    assert!(
        err.contains("kkt-update-server: configuration server.yaml in the working folder")
            && err.contains("(found without --config)"),
        "{err}"
    );
    assert!(!out.contains("configuration"), "{out}");

    // And the server says it in its start-up log.
    let server = Server::start(dir, &[], &[]);
    assert!(
        server.wait_for_log(
            "configuration server.yaml in the working folder",
            common::DEADLINE
        ),
        "{}",
        server.log()
    );
}

#[test]
fn without_a_configuration_file_the_places_tried_are_named_and_etc_is_never_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let here = dir.path().canonicalize().expect("canonical temp dir");
    let (code, out, err) = run_in(dir.path(), &["check"], &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "no configuration file found (looked for --config, KKT_CONFIG, server.yaml in the \
             working folder {})",
            here.display()
        )),
        "{err}"
    );
    assert!(err.contains("--config <file>"), "{err}");
    // A build from source (this one) never looks in /etc, even on a machine that has the
    // package installed.
    assert!(!err.contains("/etc"), "{err}");
    assert!(
        !err.contains("create it"),
        "the missing file is the cause: {err}"
    );

    std::fs::create_dir(dir.path().join("fw")).expect("fw");
    let (code, out, err) = run_in(dir.path(), &["check", "--firmware-dir", "fw"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("no configuration file found") && out.contains(": defaults and flags only"),
        "{out}"
    );
    assert!(!out.contains("/etc/kkt-update-server"), "{out}");
}
