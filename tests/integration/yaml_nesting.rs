//! A YAML file nested deep in brackets (`[`, `{`) is refused before the YAML parser reads
//! it, whichever file it is: the parser's time grows with the square of the depth (the
//! 60 000 levels of `{a: ` below keep a debug build busy for most of a minute, and the
//! server's scan or the command with it). Each kind of file the server or its commands read
//! is tried against the real binary, each with a deadline of a few seconds, and each
//! refusal names the file, the line and the limit: a license `.yaml` file and a `meta.yaml`
//! edited while the server runs (the licenses and the release served before keep serving),
//! a `line.yaml`, `server.yaml` at start and while running, a `meta.yaml` in a zip
//! given to `publish` or uploaded to `POST /releases`, and a `groups.yaml` whose brackets
//! hide behind a `#` that is no comment to the parser (its groups keep serving).

use std::time::{Duration, Instant};

use crate::common::{
    admin, admin_json, eventually, firmware_bytes, printed, run_check, server_command,
    wait_offered, Fixture, Server,
};

/// How long a refusal may take to show: seconds, where the parser would take minutes.
const QUICKLY: Duration = Duration::from_secs(5);

/// The sentence, less its line, that a text nested too deep is refused with.
const TOO_DEEP: &str =
    "lists or mappings in brackets ([ ] or { }) are nested more than 16 levels deep";

/// A valid YAML value nested 60 000 levels deep in flow mappings (300 KB).
fn deep() -> String {
    let levels = 60_000;
    format!("{}1{}", "{a: ".repeat(levels), "}".repeat(levels))
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

/// The server still answers its health check, within `QUICKLY` of `since`.
fn still_healthy(server: &Server, since: Instant) {
    assert_eq!(admin(server, "/healthz").status, 200);
    assert!(since.elapsed() < QUICKLY, "took {:?}", since.elapsed());
}

/// `/status`'s `config_stale` entry for the file whose name ends in `name`, once its error
/// holds `sentence`; within `QUICKLY`.
fn stale_entry(server: &Server, name: &str, sentence: &str) -> serde_json::Value {
    eventually(&format!("{name} reported: {sentence}"), QUICKLY, || {
        admin_json(server, "/status")["config_stale"]
            .as_array()?
            .iter()
            .find(|entry| {
                entry["file"].as_str().is_some_and(|f| f.ends_with(name))
                    && entry["error"]
                        .as_str()
                        .is_some_and(|e| e.contains(sentence))
            })
            .cloned()
    })
}

/// `/status`'s `release_problems` (the releases' and the lines' files).
fn release_problems(server: &Server) -> Vec<String> {
    let status = admin_json(server, "/status");
    let problems = status["release_problems"].as_array().cloned();
    problems
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

fn license(server: &Server, serial: &str) -> u16 {
    server
        .post(
            "/feature_licenses",
            &format!("{{\"serial\": \"{serial}\"}}"),
        )
        .status
}

/// One release, and the license file `lic/l.yaml` with one entry (serial 2), served: the
/// server, once it offers the release and answers serial 2's license, and the entry's text.
fn serving_one_license(fixture: &Fixture) -> (Server, String) {
    fixture.release("20180125", None);
    let entry = format!(
        "\"0000000000000002\":\n  licenses: {}\n  signature: {}\n",
        "c".repeat(128),
        "f".repeat(128)
    );
    fixture.write("lic/l.yaml", &entry);
    fixture.write_config("settle_ms: 0\nlicenses: [lic/l.yaml]\n");
    let server = start(fixture);
    wait_offered(&server, 20180125);
    assert_eq!(license(&server, "2"), 200);
    (server, entry)
}

#[test]
fn a_deep_license_file_is_refused_at_once_and_its_licenses_keep_serving() {
    let fixture = Fixture::new();
    let (server, entry) = serving_one_license(&fixture);

    let written = Instant::now();
    fixture.write(
        "lic/l.yaml",
        format!("{entry}\"0000000000000003\": {}\n", deep()),
    );
    let sentence = format!("line 4: {TOO_DEEP}");
    let stale = stale_entry(&server, "l.yaml", &sentence);
    still_healthy(&server, written);
    assert_eq!(stale["kind"], "licenses");
    assert_eq!(stale["licenses_served"], 1, "{stale}");
    assert_eq!(license(&server, "2"), 200);
    assert_eq!(license(&server, "3"), 404);
    // `check` says the same, naming the file.
    let (ok, report, errors) = run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(
        report.contains("l.yaml") && report.contains(&sentence),
        "{report}{errors}"
    );
}

/// A YAML license file is bounded far below `.slf`'s gigabyte: the parser holds the whole
/// document (about 115 bytes a token), so 1 GiB of `[a,a,…]` would take some 100 GB.
#[test]
fn a_yaml_license_file_past_16_mib_is_refused_unread_and_its_licenses_keep_serving() {
    let fixture = Fixture::new();
    let (server, entry) = serving_one_license(&fixture);

    let written = Instant::now();
    let filler = format!("# {}\n", "x".repeat(1022)).repeat(16 * 1024 + 1);
    fixture.write("lic/l.yaml", format!("{entry}{filler}"));
    let stale = stale_entry(&server, "l.yaml", "may hold at most 16 MiB");
    still_healthy(&server, written);
    assert_eq!(stale["licenses_served"], 1, "{stale}");
    assert!(
        stale["error"].as_str().unwrap_or("").contains(".slf"),
        "{stale}"
    );
    assert_eq!(license(&server, "2"), 200);
}

#[test]
fn a_deep_meta_yaml_is_refused_at_once_and_the_release_keeps_serving() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.release("20250301", Some("description: March\n"));
    let server = start(&fixture);
    wait_offered(&server, 20250301);

    let written = Instant::now();
    fixture.write(
        "firmware/20250301/meta.yaml",
        format!("description: March\nrollout: {}\n", deep()),
    );
    let expected = format!(
        "firmware/20250301: meta.yaml: line 2: {TOO_DEEP}; the file is refused without being \
         read (a real one needs two or three levels); still serving the version checked before"
    );
    eventually("the meta.yaml reported", QUICKLY, || {
        release_problems(&server)
            .iter()
            .any(|p| p.contains(&expected))
            .then_some(())
    });
    still_healthy(&server, written);
    assert_eq!(server.check_firmware("1.1.2000")["version"], 20250301);
}

#[test]
fn a_deep_line_yaml_is_refused_at_once() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("firmware/C.3/line.yaml", "known_builds: [20220915]\n");
    fixture.release("C.3/20221228", None);
    let server = start(&fixture);
    wait_offered(&server, 20180125);

    let written = Instant::now();
    fixture.write(
        "firmware/C.3/line.yaml",
        format!("description: x\nknown_builds: [20220915, {}]\n", deep()),
    );
    let expected = format!(
        "firmware/C.3/line.yaml: line.yaml: line 2: {TOO_DEEP}; the file is refused without \
         being read (a real one needs two or three levels); still using the line.yaml checked \
         before"
    );
    eventually("the line.yaml reported", QUICKLY, || {
        release_problems(&server)
            .iter()
            .any(|p| p.contains(&expected))
            .then_some(())
    });
    still_healthy(&server, written);
    assert_eq!(server.check_firmware("15.9.2022")["version"], 20221228);
}

#[test]
fn a_deep_server_yaml_is_refused_at_start_and_while_running() {
    // While running: the running configuration stays, and it says why.
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let server = start(&fixture);
    wait_offered(&server, 20180125);
    let written = Instant::now();
    fixture.write_config(&format!("settle_ms: 0\nlisten: {}\n", deep()));
    let sentence = format!("line 4: {TOO_DEEP}");
    let stale = stale_entry(&server, "server.yaml", &sentence);
    still_healthy(&server, written);
    assert_eq!(stale["kind"], "config");
    assert_eq!(server.check_firmware("1.1.2000")["version"], 20180125);
    drop(server);

    // At start: refused at once, naming the file, the line and the limit.
    let began = Instant::now();
    let mut child = server_command()
        .current_dir(fixture.dir.path())
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the server binary");
    while child.try_wait().expect("wait").is_none() {
        if began.elapsed() > QUICKLY {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a server.yaml nested too deep still read after {QUICKLY:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("server.yaml") && text.contains(&sentence),
        "{text}"
    );
}

/// A zip of the release `version` in a folder of its name, with `meta` as its `meta.yaml`.
fn zip_with_meta(version: &str, meta: &str) -> Vec<u8> {
    let new = firmware_bytes(version, "upd_app.bin");
    let old = firmware_bytes(version, "upd_app_for_old_frs.bin");
    crate::upload::zip_of(&[
        (&format!("{version}/upd_app.bin"), &new),
        (&format!("{version}/upd_app_for_old_frs.bin"), &old),
        (&format!("{version}/meta.yaml"), meta.as_bytes()),
    ])
}

#[test]
fn a_deep_meta_yaml_in_a_zip_is_refused_by_publish_and_by_upload() {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ntrusted_proxies: [127.0.0.1]\n");
    fixture.release("20250101", None);
    let zip = zip_with_meta(
        "20250401",
        &format!("critical: true\nrollout: {}\n", deep()),
    );
    fixture.write("incoming/20250401.zip", &zip);
    let firmware = fixture.path("firmware");
    let before = crate::publish::tree(&firmware);
    let sentence = format!("the source's meta.yaml: line 2: {TOO_DEEP}");

    let source = fixture.path("incoming/20250401.zip");
    let output = crate::publish::publish_within(&fixture, &[source.to_str().unwrap()], QUICKLY);
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains(&sentence), "{text}");
    assert_eq!(crate::publish::tree(&firmware), before);

    let server = start(&fixture);
    wait_offered(&server, 20250101);
    let began = Instant::now();
    let parts = [crate::upload::Part::File("file", "r.zip", zip)];
    let response = crate::upload::upload(&server, &parts, &[]);
    assert!(began.elapsed() < QUICKLY, "took {:?}", began.elapsed());
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(response.text().contains(&sentence), "{}", response.text());
    assert_eq!(crate::publish::tree(&firmware), before);
    assert_eq!(server.check_firmware("1.1.2000")["version"], 20250101);
}

#[test]
fn a_deep_groups_file_is_refused_at_once_and_its_groups_keep_serving() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("groups.yaml", "- name: A\n  networks: [10.1.0.0/16]\n");
    fixture.write_config("settle_ms: 0\ngroups: groups.yaml\n");
    let server = start(&fixture);
    wait_offered(&server, 20180125);

    let written = Instant::now();
    // The brackets hide behind a `#` inside a word, which is no comment to the parser.
    fixture.write(
        "groups.yaml",
        format!("- name: A\n  networks: [a#b, {}]\n", deep()),
    );
    let stale = stale_entry(&server, "groups.yaml", &format!("line 2: {TOO_DEEP}"));
    still_healthy(&server, written);
    assert_eq!(stale["kind"], "groups");
    assert_eq!(stale["groups_served"], 1, "{stale}");
}
