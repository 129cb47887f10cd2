//! Publishing from the admin listener against the real binary: a `.zip` and the two files
//! uploaded to `POST /releases` become the current release and are offered to a register
//! the moment the answer comes (the answer waits for the reload); hostile uploads (zip slip,
//! an absolute name, a link entry, a bomb, wrong names, a part past its bound, too many
//! parts, an unknown or repeated field, a version already published) are each refused
//! with their sentence and leave `firmware_dir` exactly as it was, with no temp file left;
//! a part past 64 MiB is refused before the rest of the body is sent; withdraw, pause and
//! resume (`?line=`) change what a register is offered; a browser's form post gets a 303
//! to the dashboard. A viewer's 403 is the unit test in src/admin/release_routes.rs (the
//! roles below admin come with `operators:`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{
    admin_addr, csrf_token, firmware_bytes, raw_request, sha256, Fixture, Response, Server,
};
use crate::publish::{crc32_of_zeros, deflated_zeros, with_deflated_entry};

const CONFIG: &str = "settle_ms: 0\ntrusted_proxies: [127.0.0.1]\n";
const BOUNDARY: &str = "----kkt-upload-test-7d1f";

fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(CONFIG);
    fixture.release("20250101", None);
    fixture
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

/// A part of a form: a text field, or a file with its name.
pub(crate) enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, Vec<u8>),
}

fn form(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}")
                        .as_bytes(),
                );
            }
            Part::File(name, file_name, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; \
                         filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// `POST path` on the admin listener with `body` as `content_type`, plus `headers`.
fn post(
    server: &Server,
    path: &str,
    content_type: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Response {
    let addr = admin_addr(server);
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: \
         {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    // The open listener's forms carry its CSRF token (admin::csrf), as the dashboard's do.
    request.push_str(&format!("X-CSRF-Token: {}\r\n", csrf_token(server)));
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    raw_request(addr, &bytes)
}

pub(crate) fn upload(server: &Server, parts: &[Part], headers: &[(&str, &str)]) -> Response {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    post(server, "/releases", &content_type, &form(parts), headers)
}

fn action(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    post(
        server,
        path,
        "application/x-www-form-urlencoded",
        b"",
        headers,
    )
}

pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// The two files of `version` (bytes derived from it).
fn files(version: &str) -> [Vec<u8>; 2] {
    [
        firmware_bytes(version, "upd_app.bin"),
        firmware_bytes(version, "upd_app_for_old_frs.bin"),
    ]
}

/// A zip of `version`'s two files in a folder named after it.
fn release_zip(version: &str) -> Vec<u8> {
    let [new, old] = files(version);
    zip_of(&[
        (&format!("{version}/upd_app.bin"), &new),
        (&format!("{version}/upd_app_for_old_frs.bin"), &old),
    ])
}

/// Every entry below `dir` (dot-names included), each file with the SHA-256 of its bytes.
fn listing(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at).expect("list") {
            let path = entry.expect("entry").path();
            let shown = path.strip_prefix(dir).expect("below").display().to_string();
            let kind = fs::symlink_metadata(&path).expect("metadata");
            if kind.is_dir() {
                out.insert(shown, "folder".into());
                stack.push(path);
            } else {
                out.insert(shown, sha256(&fs::read(&path).expect("read")));
            }
        }
    }
    out
}

/// The version a register of the default line on a 2024 build is offered (0: none), from
/// `address`.
fn offered(server: &Server, path: &str, build: &str, address: &str) -> u64 {
    let response = server.post_with(
        path,
        &format!("{{\"build_date\": \"{build}\"}}"),
        &[("X-Forwarded-For", address)],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["version"].as_u64().unwrap_or(0)
}

#[test]
fn a_zip_and_the_two_files_become_the_current_release_and_are_offered() {
    let fixture = deployment();
    let server = start(&fixture);
    let firmware = fixture.path("firmware");
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.0.0.1"),
        20250101
    );

    // A zip whose one folder names the version; its description from the form.
    let response = upload(
        &server,
        &[
            Part::File("file", "release.zip", release_zip("20250301")),
            Part::Text("description", "Мартовское обновление"),
            Part::Text("critical", "on"),
        ],
        &[],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let said = response.json();
    assert_eq!(said["status"], "published", "{said}");
    assert_eq!(said["version"], 20250301);
    assert_eq!(said["description"], "Мартовское обновление");
    assert_eq!(said["critical"], true);
    assert_eq!(said["reload"]["ok"], true, "{said}");
    let [new, old] = files("20250301");
    assert_eq!(said["files"][0]["sha256"], sha256(&new));
    assert_eq!(said["files"][1]["bytes"], old.len());
    assert!(
        said["said"]
            .as_str()
            .is_some_and(|s| s.contains("devices built before 20250301 are now offered it")),
        "{said}"
    );
    // Offered the moment the answer came: it waited for the reload.
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.0.0.1"),
        20250301
    );
    assert_eq!(
        fs::read(firmware.join("20250301/upd_app.bin")).unwrap(),
        new
    );
    let meta = fs::read_to_string(firmware.join("20250301/meta.yaml")).unwrap();
    assert!(
        meta.contains(&sha256(&new)) && meta.contains("critical: true"),
        "{meta}"
    );

    // The two files, the version as a field.
    let [new, old] = files("20250401");
    let response = upload(
        &server,
        &[
            Part::Text("version", "20250401"),
            Part::File("upd_app.bin", "upd_app.bin", new.clone()),
            Part::File(
                "upd_app_for_old_frs.bin",
                "upd_app_for_old_frs.bin",
                old.clone(),
            ),
            Part::Text("critical", "false"),
        ],
        &[],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["critical"], false);
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.0.0.1"),
        20250401
    );
    assert_eq!(
        fs::read(firmware.join("20250401/upd_app_for_old_frs.bin")).unwrap(),
        old
    );

    // Nothing else is left in firmware_dir: no temp file, no staging folder.
    let names: Vec<String> = listing(&firmware)
        .into_keys()
        .filter(|n| !n.contains('/'))
        .collect();
    assert_eq!(names, ["20250101", "20250301", "20250401"]);

    // Again without replace: 409 with the command's sentence; with it: replaced.
    let again = || {
        let [new, old] = files("20250401");
        vec![
            Part::Text("version", "20250401"),
            Part::File("upd_app.bin", "a", new),
            Part::File("upd_app_for_old_frs.bin", "b", old),
        ]
    };
    let response = upload(&server, &again(), &[]);
    assert_eq!(response.status, 409, "{}", response.text());
    assert!(
        response
            .error()
            .starts_with("release 20250401 is already published ("),
        "{}",
        response.error()
    );
    let mut parts = again();
    parts.push(Part::Text("replace", "on"));
    let response = upload(&server, &parts, &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "replaced");
}

#[test]
fn a_browser_form_post_is_sent_back_to_the_dashboard() {
    let fixture = deployment();
    let server = start(&fixture);
    let html = [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    let response = upload(
        &server,
        &[Part::File("file", "20250301.zip", release_zip("20250301"))],
        &html,
    );
    assert_eq!(response.status, 303, "{}", response.text());
    assert_eq!(response.header("location"), Some("/?published=20250301"));
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.0.0.1"),
        20250301
    );
    // A refusal: the sentence in the query, in the browser's language (Russian first).
    let response = upload(
        &server,
        &[Part::File("file", "20250301.zip", release_zip("20250301"))],
        &html,
    );
    assert_eq!(response.status, 303);
    let location = response.header("location").unwrap_or_default().to_string();
    assert!(
        location.starts_with("/?refused=%D1%80%D0%B5%D0%BB%D0%B8%D0%B7%20"),
        "{location}"
    );
    let english = [
        ("Accept", "text/html"),
        ("Accept-Language", "en-GB,en;q=0.9"),
    ];
    let response = upload(
        &server,
        &[Part::File("file", "20250301.zip", release_zip("20250301"))],
        &english,
    );
    let location = response.header("location").unwrap_or_default().to_string();
    assert!(
        location.starts_with("/?refused=release%2020250301%20is%20already%20published"),
        "{location}"
    );
}

#[test]
fn hostile_uploads_are_refused_and_leave_firmware_dir_untouched() {
    let fixture = deployment();
    let server = start(&fixture);
    let firmware = fixture.path("firmware");
    let before = listing(&firmware);
    let [new, old] = files("20250501");
    let good: [(&str, &[u8]); 2] = [
        ("20250501/upd_app.bin", &new),
        ("20250501/upd_app_for_old_frs.bin", &old),
    ];
    let with = |extra: (&str, &[u8])| zip_of(&[good[0], good[1], extra]);
    let mut link = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    link.add_symlink("20250501/upd_app.bin", "/etc/shadow", options)
        .expect("symlink");
    link.start_file("20250501/upd_app_for_old_frs.bin", options)
        .expect("entry");
    link.write_all(&old).expect("write");
    let link = link.finish().expect("finish").into_inner();
    // The header claims 1,000 bytes; it inflates past 64 MiB.
    let matches = 64 * 1024 * 1024 / 258 + 1;
    let bomb = with_deflated_entry(
        &[("20250501/upd_app_for_old_frs.bin".to_string(), old.clone())],
        "20250501/upd_app.bin",
        &deflated_zeros(matches),
        crc32_of_zeros(1 + 258 * matches),
        1000,
    );
    let zip = |bytes: Vec<u8>| vec![Part::File("file", "r.zip", bytes)];
    let pilots: Vec<Part> = (0..70).map(|_| Part::Text("pilot", "10.0.0.0/8")).collect();
    let long = "x".repeat(5000);
    let cases: Vec<(Vec<Part>, u16, &str)> = vec![
        (
            zip(with(("../x", b"x"))),
            400,
            "r.zip: the entry \"../x\" reaches outside the archive (..); the archive is refused",
        ),
        (
            zip(with(("/etc/cron.d/x", b"x"))),
            400,
            "r.zip: the entry \"/etc/cron.d/x\" is an absolute name",
        ),
        (
            zip(link),
            400,
            "r.zip: the entry \"20250501/upd_app.bin\" is a symbolic link, not a regular file",
        ),
        (
            zip(bomb),
            400,
            "r.zip: \"20250501/upd_app.bin\" unpacks to more than 64 MiB (its header claims 1000 bytes)",
        ),
        (
            zip(zip_of(&[good[0], ("20250501/upd_app_old.bin", &old)])),
            400,
            "upd_app_for_old_frs.bin is missing in r.zip",
        ),
        (
            vec![
                Part::File("upd_app.bin", "a", new.clone()),
                Part::File("upd_app_for_old.bin", "b", old.clone()),
            ],
            400,
            "the form has a field \"upd_app_for_old.bin\" that publishing does not know",
        ),
        (
            vec![Part::File("upd_app.bin", "a", new.clone())],
            400,
            "upd_app_for_old_frs.bin is missing in the upload",
        ),
        (
            vec![
                Part::File("upd_app.bin", "a", new.clone()),
                Part::File("upd_app.bin", "a", new.clone()),
            ],
            400,
            "the field upd_app.bin is sent twice; send it once",
        ),
        (
            vec![
                Part::File("upd_app.bin", "a", new.clone()),
                Part::File("upd_app_for_old_frs.bin", "b", new.clone()),
                Part::Text("version", "20250501"),
            ],
            400,
            "upd_app.bin and upd_app_for_old_frs.bin in the upload are the same bytes",
        ),
        (
            vec![
                Part::File("file", "r.zip", release_zip("20250501")),
                Part::File("upd_app.bin", "a", new.clone()),
            ],
            400,
            "send either the part file (a .zip) or the parts upd_app.bin and",
        ),
        (
            vec![Part::Text("colour", "red")],
            400,
            "the form has a field \"colour\" that publishing does not know; the fields are: \
             file, upd_app.bin,",
        ),
        (pilots, 413, "the form has more than 64 parts"),
        (
            vec![Part::Text("description", &long)],
            413,
            "the field description is longer than 4096 bytes",
        ),
        (
            vec![
                Part::File("file", "r.zip", release_zip("20250501")),
                Part::Text("critical", "yes"),
            ],
            400,
            "the field critical must be true, on or false; got \"yes\"",
        ),
        (
            vec![Part::File("file", "upload.zip", zip_of(&good.map(|(n, b)| (&n[9..], b))))],
            400,
            "the version cannot be told from the name \"upload.zip\": give --version yyyymmdd",
        ),
        (
            vec![Part::File("file", "20250101.zip", release_zip("20250101"))],
            409,
            "release 20250101 is already published (",
        ),
        (vec![], 400, "the form holds no release"),
        (
            vec![
                Part::File("file", "r.zip", release_zip("20250501")),
                Part::Text("line", "../.."),
            ],
            400,
            "there is no line \"../..\" in ",
        ),
        (
            vec![
                Part::File("file", "r.zip", release_zip("20250501")),
                Part::Text("version", "20251301"),
            ],
            400,
            "--version must be a real date written yyyymmdd, like 20250301; got \"20251301\"",
        ),
    ];
    for (parts, status, sentence) in cases {
        let response = upload(&server, &parts, &[]);
        assert_eq!(response.status, status, "{sentence}: {}", response.text());
        let error = response.error();
        assert!(
            error.contains(sentence),
            "expected {sentence:?} in {error:?}"
        );
        assert_eq!(listing(&firmware), before, "after {sentence:?}");
    }
    // Not a form at all.
    let response = post(&server, "/releases", "application/json", b"{}", &[]);
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(response
        .error()
        .starts_with("POST /releases takes a form sent as multipart/form-data"));
    assert_eq!(listing(&firmware), before);
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.0.0.1"),
        20250101
    );
}

#[test]
fn a_part_past_its_bound_is_refused_before_the_body_is_sent() {
    let fixture = deployment();
    let server = start(&fixture);
    let firmware = fixture.path("firmware");
    let before = listing(&firmware);
    let addr = admin_addr(&server);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    // The body claims 1 GiB; the part is cut off after 65 MiB.
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"upd_app.bin\"; \
         filename=\"upd_app.bin\"\r\n\r\n"
    );
    let request = format!(
        "POST /releases?csrf={} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n\
         {head}",
        csrf_token(&server),
        1u64 << 30
    );
    stream.write_all(request.as_bytes()).expect("send");
    let chunk = vec![0x5a_u8; 1 << 20];
    let started = Instant::now();
    for _ in 0..65 {
        if stream.write_all(&chunk).is_err() {
            break; // the server answered and closed: fine
        }
    }
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no answer before the deadline"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(
        text.contains("upd_app.bin in the upload is larger than 64 MiB; firmware is about 0.5 MB"),
        "{text}"
    );
    assert_eq!(listing(&firmware), before);
}

/// Line `kassa` (known build 20240101) with 20240101 and 20250301 under a rollout.
fn line_deployment() -> Fixture {
    let fixture = deployment();
    fixture.write("firmware/kassa/line.yaml", "known_builds: [20240101]\n");
    fixture.release("kassa/20240101", None);
    fixture.release(
        "kassa/20250301",
        Some(
            "# the March build\ndescription: \"March\"\nrollout:\n  percent: 100  # everyone\n  \
             max_new_per_hour: 1000\n",
        ),
    );
    fixture
}

#[test]
fn withdraw_pause_and_resume_change_what_a_register_is_offered() {
    let fixture = line_deployment();
    let server = start(&fixture);
    let firmware = fixture.path("firmware");
    let kassa = |address: &str| offered(&server, "/check_firmware", "1.1.2024", address);
    assert_eq!(kassa("10.1.0.1"), 20250301);

    // Without ?line= the default line is meant: it has no 20250301.
    let response = action(&server, "/releases/20250301/pause", &[]);
    assert_eq!(response.status, 404, "{}", response.text());
    assert!(
        response
            .error()
            .starts_with("there is no release 20250301 in "),
        "{}",
        response.error()
    );
    let response = action(&server, "/releases/20990101/pause?line=kassa", &[]);
    assert_eq!(response.status, 404);
    let response = action(&server, "/releases/20250301/pause?line=nope", &[]);
    assert_eq!(response.status, 404);
    assert!(
        response.error().starts_with("there is no line \"nope\""),
        "{}",
        response.error()
    );
    let response = action(&server, "/releases/20250301/withdraw?line=..%2F..", &[]);
    assert_eq!(response.status, 404);
    assert!(
        response.error().starts_with("there is no line \"../..\""),
        "{}",
        response.error()
    );
    let response = action(&server, "/releases/march/withdraw", &[]);
    assert_eq!(response.status, 404);
    let response = action(&server, "/releases/20240101/pause?line=kassa", &[]);
    assert_eq!(response.status, 409);
    assert!(
        response
            .error()
            .starts_with("release 20240101 in line kassa has no rollout"),
        "{}",
        response.error()
    );

    // Paused: a register not yet admitted is not; the admitted one keeps its offer.
    let response = action(&server, "/releases/20250301/pause?line=kassa", &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "paused");
    assert_ne!(kassa("10.1.0.2"), 20250301);
    assert_eq!(kassa("10.1.0.1"), 20250301);
    let meta = fs::read_to_string(firmware.join("kassa/20250301/meta.yaml")).unwrap();
    assert_eq!(
        meta,
        "# the March build\ndescription: \"March\"\nrollout:\n  paused: true\n  percent: 100  \
         # everyone\n  max_new_per_hour: 1000\n"
    );
    let response = action(&server, "/releases/20250301/pause?line=kassa", &[]);
    assert_eq!(response.json()["status"], "already paused");

    // Resumed (a browser's button): the register is admitted now.
    let response = action(
        &server,
        "/releases/20250301/resume?line=kassa",
        &[("Accept", "text/html")],
    );
    assert_eq!(response.status, 303);
    assert_eq!(
        response.header("location"),
        Some("/?resumed=20250301&line=kassa")
    );
    assert_eq!(kassa("10.1.0.2"), 20250301);

    // Withdrawn: nobody is offered it; the folder is on the shelf.
    let response = action(&server, "/releases/20250301/withdraw?line=kassa", &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    let said = response.json();
    assert_eq!(said["status"], "withdrawn");
    assert!(
        said["offered"]
            .as_str()
            .is_some_and(|s| s.contains("20240101")),
        "{said}"
    );
    assert_ne!(kassa("10.1.0.1"), 20250301);
    assert!(firmware
        .join(".withdrawn/kassa/20250301/upd_app.bin")
        .is_file());
    let response = action(&server, "/releases/20250301/withdraw?line=kassa", &[]);
    assert_eq!(response.status, 404);
    let response = action(&server, "/releases/20250301/withdraw?lines=kassa", &[]);
    assert_eq!(response.status, 400);
    // Only POST; but a withdraw's GET is its confirmation page (the form that posts it).
    let response = crate::common::admin(&server, "/releases/20250101/pause");
    assert_eq!(response.status, 405);
    let response = crate::common::admin(&server, "/releases/20250101/withdraw");
    assert_eq!(response.status, 200);
    assert!(response.text().contains("id=\"withdraw-confirm\""));
}

/// How the default line's 20250301 rollout stands in `/status`.
fn rollout_state(server: &Server) -> serde_json::Value {
    crate::common::admin_json(server, "/status")["rollouts"]
        .as_array()
        .expect("rollouts")
        .iter()
        .find(|r| r["version"] == 20250301)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// Polls for `over`: the rollout stays halted all along (the watch runs every 2 s).
fn stays_halted(server: &Server, over: Duration) {
    let until = Instant::now() + over;
    while Instant::now() < until {
        let state = rollout_state(server);
        assert!(state["halted"].is_object(), "the halt was lifted: {state}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn pausing_and_resuming_a_halted_rollout_never_lifts_the_halt() {
    let fixture = deployment();
    fixture.release(
        "20250301",
        Some("description: \"March\"\nrollout:\n  halt_when_stuck_percent: 5\n"),
    );
    let clock = fixture.test_clock();
    let server = Server::start(
        fixture.dir.path(),
        &["--admin-listen", "127.0.0.1:0", "--stuck-after-s", "3600"],
        &[],
    );
    let from = |i: u32| format!("10.9.0.{i}");
    for i in 0..25 {
        assert_eq!(
            offered(&server, "/check_firmware", "1.1.2024", &from(i)),
            20250301
        );
        let response = server.get(
            "/firmware/20250301/upd_app.bin",
            &[("X-Forwarded-For", &from(i))],
        );
        assert_eq!(response.status, 200);
    }
    clock.advance(Duration::from_secs(3601));
    crate::common::eventually("the rollout halted", Duration::from_secs(30), || {
        rollout_state(&server)["halted"].is_object().then_some(())
    });
    let response = action(&server, "/releases/20250301/pause", &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["halted"], true);
    assert_eq!(
        rollout_state(&server)["settings"],
        "100%, paused, halt above 5% stuck"
    );
    stays_halted(&server, Duration::from_secs(5));
    let response = action(&server, "/releases/20250301/resume", &[]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["status"], "resumed");
    stays_halted(&server, Duration::from_secs(5));
    assert_eq!(
        offered(&server, "/check_firmware", "1.1.2024", "10.9.1.1"),
        20250101
    );
    // An edit of the rollout by hand still resumes it, as before.
    fixture.write(
        "firmware/20250301/meta.yaml",
        "description: \"March\"\nrollout:\n  halt_when_stuck_percent: 50\n",
    );
    crate::common::eventually("the rollout resumed", crate::common::DEADLINE, || {
        (offered(&server, "/check_firmware", "1.1.2024", "10.9.1.1") == 20250301).then_some(())
    });
}
