//! Files beside the firmware, served from disk like the reference's `StaticFileHandler`:
//! type by extension, 304, Range, HEAD; while firmware files still come only from
//! published releases, and nothing outside `firmware_dir`, hidden, or the server's own
//! (`meta.yaml`, `line.yaml`) is ever served.

use std::fs;

use crate::common::{firmware_bytes, Fixture};

/// A release with a text file and a binary beside the firmware, and a `docs/` folder.
fn fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.release("20180125", Some("description: with notes\n"));
    fixture.write(
        "firmware/20180125/notes.txt",
        "Что нового: исправления ФН\n",
    );
    fixture.write(
        "firmware/20180125/dfu-util.exe",
        vec![0x4du8, 0x5a, 0, 1, 2, 3],
    );
    fixture.write(
        "firmware/docs/manual.pdf",
        b"%PDF-1.4 fake manual".repeat(100),
    );
    fixture.write("firmware/docs/readme.txt", "read me");
    fixture.write("secret.txt", "top secret");
    fixture
}

#[test]
fn files_beside_the_firmware_are_served_with_type_304_range_and_head() {
    let fixture = fixture();
    let server = fixture.start();

    let notes = server.get("/firmware/20180125/notes.txt", &[]);
    assert_eq!(notes.status, 200);
    assert_eq!(notes.text(), "Что нового: исправления ФН\n");
    assert!(
        notes
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        notes.header("content-type")
    );
    assert_eq!(
        notes.header("content-disposition"),
        None,
        "like the reference"
    );

    let pdf = server.get("/firmware/docs/manual.pdf", &[]);
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    let exe = server.get("/firmware/20180125/dfu-util.exe", &[]);
    assert_eq!(exe.status, 200);
    assert_eq!(exe.body, [0x4d, 0x5a, 0, 1, 2, 3]);

    // Conditional requests: the ETag and Last-Modified the first answer gave.
    let etag = pdf.header("etag").expect("etag").to_string();
    let again = server.get("/firmware/docs/manual.pdf", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let modified = pdf
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let since = server.get(
        "/firmware/docs/manual.pdf",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(since.status, 304);

    // A single range, as the reference answers it.
    let part = server.get("/firmware/docs/manual.pdf", &[("Range", "bytes=5-14")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &pdf.body[5..15]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 5-14/{}", pdf.body.len()).as_str())
    );

    let head = server.method("HEAD", "/firmware/docs/readme.txt", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("7"));

    // The firmware itself is still the validated bytes from memory.
    let firmware = server.get("/firmware/20180125/upd_app.bin", &[]);
    assert_eq!(firmware.status, 200);
    assert!(firmware.body == firmware_bytes("20180125", "upd_app.bin"));
    assert_eq!(
        firmware.header("content-type"),
        Some("application/octet-stream")
    );
}

#[test]
fn firmware_names_hidden_files_private_files_and_links_out_are_never_served() {
    let fixture = fixture();
    // A half-copied release: its firmware is not published, the notes beside it are files.
    let half = fixture.path("firmware/20180201");
    fs::create_dir_all(&half).expect("mkdir");
    fs::write(
        half.join("upd_app.bin"),
        &firmware_bytes("20180201", "upd_app.bin")[..999],
    )
    .expect("half");
    fs::write(half.join("notes.txt"), "coming soon").expect("notes");
    // Firmware names outside a release, in any case, and a link out.
    fixture.write("firmware/docs/upd_app.bin", "not from disk");
    fixture.write("firmware/docs/UPD_APP_FOR_OLD_FRS.BIN", "not from disk");
    fixture.write("firmware/.staging-20180301/notes.txt", "hidden");
    fixture.write("firmware/20180125/.notes.txt", "hidden");
    fixture.write("firmware/line-c3/line.yaml", "description: x\n");
    std::os::unix::fs::symlink(
        fixture.path("secret.txt"),
        fixture.path("firmware/docs/secret.txt"),
    )
    .expect("symlink");
    std::os::unix::fs::symlink(
        fixture.path("firmware/20180125/upd_app.bin"),
        fixture.path("firmware/docs/renamed.txt"),
    )
    .expect("symlink");
    let server = fixture.start();

    assert_eq!(server.get("/firmware/20180201/notes.txt", &[]).status, 200);
    for path in [
        "/firmware/20180201/upd_app.bin",
        "/firmware/docs/upd_app.bin",
        "/firmware/docs/UPD_APP_FOR_OLD_FRS.BIN",
        "/firmware/docs/upd_app_for_old_frs.bin",
        "/firmware/.staging-20180301/notes.txt",
        "/firmware/20180125/.notes.txt",
        "/firmware/20180125/meta.yaml",
        "/firmware/line-c3/line.yaml",
        "/firmware/docs/secret.txt",
        "/firmware/docs/renamed.txt",
        "/firmware/docs",
        "/firmware/docs/",
        "/firmware/../secret.txt",
        "/firmware/docs/%2e%2e/%2e%2e/secret.txt",
        "/firmware/docs/upd_app.bin.",
    ] {
        let response = server.get(path, &[]);
        assert_eq!(response.status, 404, "{path}");
        let text = response.text();
        assert!(
            !text.contains("top secret") && !text.contains("not from disk"),
            "{path}: {text}"
        );
    }
}

#[test]
fn static_files_false_serves_only_firmware() {
    let fixture = fixture();
    fixture.write_config("settle_ms: 0\nstatic_files: false\n");
    let server = fixture.start();
    assert_eq!(server.get("/firmware/20180125/notes.txt", &[]).status, 404);
    assert_eq!(server.get("/firmware/docs/manual.pdf", &[]).status, 404);
    assert_eq!(
        server.get("/firmware/20180125/upd_app.bin", &[]).status,
        200
    );
}
