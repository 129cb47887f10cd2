//! `GET`/`HEAD /firmware/...` against the real binary: nothing outside the published
//! releases, ranges and conditional requests as the reference answers them, and the
//! validated bytes served even when the file on disk is overwritten.

use crate::common;

use crate::common::{firmware_bytes, Fixture, Server};

const FILE: &str = "/firmware/20180125/upd_app.bin";

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write("secret.txt", "top secret");
    fixture
}

fn whole() -> Vec<u8> {
    firmware_bytes("20180125", "upd_app.bin")
}

#[test]
fn downloads_the_published_files_with_caching_headers() {
    let fixture = fixture();
    let server = fixture.start();
    let response = server.get(FILE, &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, whole());
    assert_eq!(
        response.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.header("accept-ranges"), Some("bytes"));
    assert!(response.header("last-modified").is_some());
    let etag = response.header("etag").expect("etag");
    let sha256 = std::process::Command::new("sha256sum")
        .arg(fixture.path("firmware/20180125/upd_app.bin"))
        .output()
        .expect("sha256sum");
    let digest = String::from_utf8_lossy(&sha256.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        etag,
        format!("\"{digest}\""),
        "the ETag is the content hash"
    );
    let old = server.get("/firmware/20180125/upd_app_for_old_frs.bin", &[]);
    assert_eq!(
        old.body,
        firmware_bytes("20180125", "upd_app_for_old_frs.bin")
    );
    assert_eq!(response.header("content-disposition"), None);
}

#[test]
fn head_sends_the_headers_without_the_body() {
    let fixture = fixture();
    let server = fixture.start();
    let response = server.method("HEAD", FILE, &[]);
    assert_eq!(response.status, 200);
    assert!(response.body.is_empty());
    assert_eq!(
        response.header("content-length"),
        Some(whole().len().to_string().as_str())
    );
    assert!(response.header("etag").is_some());
}

#[test]
fn nothing_outside_the_published_releases_is_served() {
    let fixture = fixture();
    std::os::unix::fs::symlink(
        fixture.path("secret.txt"),
        fixture.path("firmware/20180125/link.bin"),
    )
    .expect("symlink");
    let escape = fixture.release("20180126", None);
    std::fs::remove_file(escape.join("upd_app.bin")).expect("remove");
    std::os::unix::fs::symlink(fixture.path("secret.txt"), escape.join("upd_app.bin"))
        .expect("symlink");
    fixture.write("firmware/.hidden/upd_app.bin", "hidden");
    fixture.write("firmware/20180125/.upd_app.bin", "hidden");
    let server = fixture.start();
    let paths = [
        "/firmware/../secret.txt",
        "/firmware/20180125/../../secret.txt",
        "/firmware/%2e%2e/secret.txt",
        "/firmware/20180125/%2e%2e/%2e%2e/secret.txt",
        "/firmware/..%2fsecret.txt",
        "/firmware/20180125/..%2f..%2fsecret.txt",
        "/firmware/20180125%2fupd_app.bin",
        "/firmware/..%5csecret.txt",
        "/firmware/20180125\\..\\..\\secret.txt",
        "//etc/passwd",
        "/firmware//etc/passwd",
        "/firmware/%2fetc%2fpasswd",
        "/firmware/20180125/link.bin",
        "/firmware/20180126/upd_app.bin",
        "/firmware/.hidden/upd_app.bin",
        "/firmware/20180125/.upd_app.bin",
        "/firmware/20180125/meta.yaml",
        "/firmware/20180125/",
        "/firmware/20180125",
        "/firmware/",
        "/firmware",
    ];
    for path in paths {
        let response = server.get(path, &[]);
        assert!(
            matches!(response.status, 400 | 404),
            "{path}: {}",
            response.status
        );
        assert!(
            !response.text().contains("top secret") && !response.text().contains("root:"),
            "{path}"
        );
    }
    // The symlinked release is rejected, and says why.
    assert!(
        server
            .log()
            .contains("20180126: upd_app.bin is not a regular file"),
        "{}",
        server.log()
    );
}

#[test]
fn single_ranges_like_the_reference() {
    let fixture = fixture();
    let server = fixture.start();
    let whole = whole();
    let size = whole.len();
    let part = server.get(FILE, &[("Range", "bytes=0-99")]);
    assert_eq!(part.status, 206);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 0-99/{size}").as_str())
    );
    assert_eq!(part.body, &whole[..100]);
    let suffix = server.get(FILE, &[("Range", "bytes=-10")]);
    assert_eq!(suffix.status, 206);
    assert_eq!(suffix.body, &whole[size - 10..]);
    let open = server.get(FILE, &[("Range", "bytes=39990-")]);
    assert_eq!(open.status, 206);
    assert_eq!(open.body, &whole[39990..]);
    assert_eq!(
        open.header("content-range"),
        Some(format!("bytes 39990-{}/{size}", size - 1).as_str())
    );
    let clamped = server.get(FILE, &[("Range", &format!("bytes=100-{}", size * 2))]);
    assert_eq!((clamped.status, clamped.body.len()), (206, size - 100));
    for unsatisfiable in [
        format!("bytes={size}-"),
        format!("bytes={}-{}", size + 5, size + 10),
        "bytes=100-0".to_string(),
        "bytes=-0".to_string(),
    ] {
        let response = server.get(FILE, &[("Range", &unsatisfiable)]);
        assert_eq!(response.status, 416, "{unsatisfiable}");
        assert_eq!(
            response.header("content-range"),
            Some(format!("bytes */{size}").as_str()),
            "{unsatisfiable}"
        );
    }
    for ignored in ["bytes=0-1,5-6", "bytes=abc", "pages=1-2"] {
        let response = server.get(FILE, &[("Range", ignored)]);
        assert_eq!(
            (response.status, response.body.len()),
            (200, size),
            "{ignored}"
        );
    }
}

#[test]
fn conditional_requests() {
    let fixture = fixture();
    let server = fixture.start();
    let first = server.get(FILE, &[]);
    let etag = first.header("etag").expect("etag").to_string();
    let modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_string();

    let cached = server.get(FILE, &[("If-None-Match", &etag)]);
    assert_eq!((cached.status, cached.body.len()), (304, 0));
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    assert_eq!(
        server
            .get(FILE, &[("If-None-Match", &format!("\"other\", W/{etag}"))])
            .status,
        304
    );
    assert_eq!(
        server.get(FILE, &[("If-None-Match", "\"other\"")]).status,
        200
    );
    assert_eq!(server.get(FILE, &[("If-None-Match", "*")]).status, 304);
    assert_eq!(
        server.get(FILE, &[("If-Modified-Since", &modified)]).status,
        304
    );
    assert_eq!(
        server
            .get(
                FILE,
                &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")]
            )
            .status,
        200
    );
    // If-None-Match decides over If-Modified-Since.
    assert_eq!(
        server
            .get(
                FILE,
                &[
                    ("If-None-Match", "\"other\""),
                    ("If-Modified-Since", &modified)
                ]
            )
            .status,
        200
    );

    let resumed = server.get(FILE, &[("Range", "bytes=10-19"), ("If-Range", &etag)]);
    assert_eq!((resumed.status, resumed.body.len()), (206, 10));
    let changed = server.get(FILE, &[("Range", "bytes=10-19"), ("If-Range", "\"stale\"")]);
    assert_eq!((changed.status, changed.body.len()), (200, whole().len()));
    let by_date = server.get(FILE, &[("Range", "bytes=10-19"), ("If-Range", &modified)]);
    assert_eq!(by_date.status, 206);
    let weak = server.get(
        FILE,
        &[("Range", "bytes=10-19"), ("If-Range", &format!("W/{etag}"))],
    );
    assert_eq!(weak.status, 200, "If-Range compares strongly");
}

#[test]
fn the_validated_bytes_are_served_after_an_overwrite_on_disk() {
    let fixture = fixture();
    let server = fixture.start();
    let before = server.get(FILE, &[]);
    std::fs::write(
        fixture.path("firmware/20180125/upd_app.bin"),
        b"half-written new firmware",
    )
    .expect("overwrite");
    let after = server.get(FILE, &[]);
    assert_eq!(after.body, whole(), "what was validated is what is served");
    assert_eq!(after.header("etag"), before.header("etag"));
}

#[test]
fn post_to_a_file_gets_405() {
    let fixture = fixture();
    let server = Server::start(fixture.dir.path(), &[], &[]);
    let response = server.method("POST", FILE, &[("Content-Length", "0")]);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("GET, HEAD"))
    );
}

/// A file far larger than any firmware (a disk image copied by mistake) is not read into
/// memory: the folder is refused with a sentence, and the release before keeps serving.
#[test]
fn a_firmware_file_over_64_mib_is_refused_not_read() {
    let fixture = fixture();
    let folder = fixture.path("firmware/20180201");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join("upd_app_for_old_frs.bin"), b"old frs").expect("file");
    // Sparse: 65 MiB on paper, nothing on disk.
    let big = std::fs::File::create(folder.join("upd_app.bin")).expect("file");
    big.set_len(65 * 1024 * 1024).expect("size");
    drop(big);
    let (ok, report, _) = common::run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(
        report.contains("upd_app.bin is larger than 64 MiB"),
        "{report}"
    );
    let server = fixture.start();
    assert_eq!(server.check_firmware("01.01.2018")["version"], 20180125);
    let meta = fixture.path("firmware/20180125/meta.yaml");
    let huge = std::fs::File::create(&meta).expect("meta");
    huge.set_len(2 * 1024 * 1024).expect("size");
    drop(huge);
    let (ok, report, _) = common::run_check(fixture.dir.path());
    assert!(!ok, "{report}");
    assert!(
        report.contains("meta.yaml is larger than 1 MiB"),
        "{report}"
    );
}

/// Real firmware is about 480 KB, far more than one write to the socket (actix's write
/// buffer is 32 KiB): the whole file, and ranges across 32 KiB edges, are the file's bytes
/// in order, with the length the headers promise.
#[test]
fn a_firmware_of_real_size_arrives_whole_and_in_ranges() {
    let fixture = Fixture::new();
    let dir = fixture.release("20250301", None);
    let big: Vec<u8> = (0..491_520u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(dir.join("upd_app.bin"), &big).expect("write");
    let server = fixture.start();
    let path = "/firmware/20250301/upd_app.bin";
    let whole = server.get(path, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-length"), Some("491520"));
    assert!(whole.body == big, "the whole file, byte for byte");
    for (start, end) in [
        (0, 32_767),
        (32_767, 32_768),
        (1_000, 50_999),
        (30_000, 100_000),
        (491_000, 491_519),
    ] {
        let range = format!("bytes={start}-{end}");
        let part = server.get(path, &[("Range", range.as_str())]);
        assert_eq!(part.status, 206, "{range}");
        assert!(part.body == big[start..=end], "{range}");
        assert_eq!(
            part.header("content-range"),
            Some(format!("bytes {start}-{end}/491520").as_str())
        );
    }
}

/// Downloads are matched by their `/firmware` prefix; the edges answer as they did when
/// they were matched by a pattern.
#[test]
fn the_edges_of_the_firmware_path_answer_as_before() {
    let fixture = fixture();
    let server = fixture.start();
    for (method, path, status) in [
        ("GET", "/firmware", 404),
        ("POST", "/firmware", 404),
        ("GET", "/firmwarex/20180125/upd_app.bin", 404),
        ("POST", "/firmwarex", 404),
        ("PUT", FILE, 405),
        ("DELETE", "/firmware/", 405),
        ("OPTIONS", "/firmware/anything", 405),
        // The router decodes unreserved characters: the pattern saw these as below.
        ("POST", "/%66irmware", 404),
        ("POST", "/firmwar%65/x", 405),
    ] {
        let response = server.method(method, path, &[("Content-Length", "0")]);
        assert_eq!(response.status, status, "{method} {path}");
        if status == 405 {
            assert_eq!(
                response.header("allow"),
                Some("GET, HEAD"),
                "{method} {path}"
            );
        }
    }
    assert_eq!(server.get(FILE, &[]).body, whole());
}
