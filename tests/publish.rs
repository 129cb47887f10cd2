//! `kkt-update-server publish` and `withdraw` against the real binary and a running server:
//! from a folder and from a zip, pinned and therefore offered within the debounce (the
//! server's `settle_ms` is a minute here); each refusal leaves `firmware_dir` byte for byte
//! as it was; `--replace` under a polling client never serves a mix or an older release;
//! `withdraw` then `publish --replace` back; `--dry-run` writes nothing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{eventually, firmware_bytes, Fixture, Server, BIN, DEADLINE};

/// A deployment whose server waits a minute of quiet for unpinned folders.
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 60000\ninventory: \"off\"\n");
    // Pinned, so that it is published at once despite the minute of settle_ms.
    let pins = format!(
        "sha256:\n  upd_app.bin: {}\n  upd_app_for_old_frs.bin: {}\n",
        common::sha256(&firmware_bytes("20250101", "upd_app.bin")),
        common::sha256(&firmware_bytes("20250101", "upd_app_for_old_frs.bin"))
    );
    fixture.release("20250101", Some(&pins));
    fixture
}

fn start(fixture: &Fixture) -> Server {
    Server::start(fixture.dir.path(), &["--admin-listen", "127.0.0.1:0"], &[])
}

/// A source folder `name` beside firmware/ with files derived from `seed`.
fn source(fixture: &Fixture, name: &str, seed: &str) -> PathBuf {
    let dir = fixture.path(&format!("incoming/{name}"));
    fs::create_dir_all(&dir).expect("source");
    fs::write(dir.join("upd_app.bin"), firmware_bytes(seed, "upd_app.bin")).expect("new");
    fs::write(
        dir.join("upd_app_for_old_frs.bin"),
        firmware_bytes(seed, "upd_app_for_old_frs.bin"),
    )
    .expect("old");
    dir
}

/// Runs a command of the binary in the fixture, pointed at the running server.
fn command(fixture: &Fixture, server: Option<&Server>, args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(fixture.dir.path())
        .args(args)
        .args(["--config", "server.yaml"])
        .env_remove("RUST_LOG");
    if let Some(server) = server {
        command
            .args(["--listen", &server.addr.to_string()])
            .args(["--admin-listen", &common::admin_addr(server).to_string()]);
    }
    command.output().expect("run the command")
}

fn run(fixture: &Fixture, server: Option<&Server>, args: &[&str]) -> Output {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    command(fixture, server, &args)
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn offered(server: &Server) -> u64 {
    server.check_firmware("1.1.2000")["version"]
        .as_u64()
        .unwrap_or(0)
}

/// Every file below `dir` with its bytes (folders as empty entries).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                out.insert(path.clone(), Vec::new());
                stack.push(path);
            } else {
                out.insert(path.clone(), fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn a_published_folder_is_pinned_and_offered_within_the_debounce() {
    let fixture = deployment();
    let server = start(&fixture);
    eventually("20250101 offered", DEADLINE, || {
        (offered(&server) == 20250101).then_some(())
    });
    let src = source(&fixture, "20250301", "20250301");
    let began = Instant::now();
    let output = run(
        &fixture,
        Some(&server),
        &[
            "publish",
            &src.display().to_string(),
            "--description",
            "Плановое обновление",
        ],
    );
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("the running server serves it"),
        "{}",
        said(&output)
    );
    eventually("20250301 offered", Duration::from_secs(10), || {
        (offered(&server) == 20250301).then_some(())
    });
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "offered long before settle_ms"
    );
    let meta = fs::read_to_string(fixture.path("firmware/20250301/meta.yaml")).expect("meta");
    assert!(
        meta.contains("upd_app.bin: ") && meta.contains("Плановое обновление"),
        "{meta}"
    );
    assert_eq!(
        server.get("/firmware/20250301/upd_app.bin", &[]).body,
        firmware_bytes("20250301", "upd_app.bin")
    );
    // Nothing staged is left behind.
    let names: Vec<String> = fs::read_dir(fixture.path("firmware"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".staging")),
        "{names:?}"
    );
}

#[test]
fn a_zip_is_published_with_its_version_from_its_folder() {
    use std::io::Write;
    let fixture = deployment();
    let server = start(&fixture);
    let zip_path = fixture.path("incoming/release.zip");
    fs::create_dir_all(fixture.path("incoming")).expect("incoming");
    let mut zip = zip::ZipWriter::new(fs::File::create(&zip_path).expect("zip"));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        zip.start_file(format!("20250401/{name}"), options)
            .expect("entry");
        zip.write_all(&firmware_bytes("20250401", name))
            .expect("write");
    }
    zip.start_file("20250401/meta.yaml", options)
        .expect("entry");
    zip.write_all("description: \"Из архива\"\n".as_bytes())
        .expect("write");
    zip.finish().expect("finish");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", "incoming/release.zip"],
    );
    assert!(output.status.success(), "{}", said(&output));
    eventually("20250401 offered", Duration::from_secs(10), || {
        (offered(&server) == 20250401).then_some(())
    });
    assert_eq!(
        server.check_firmware("1.1.2000")["description"],
        "Из архива"
    );
    assert_eq!(
        server
            .get("/firmware/20250401/upd_app_for_old_frs.bin", &[])
            .body,
        firmware_bytes("20250401", "upd_app_for_old_frs.bin")
    );
}

#[test]
fn every_refusal_leaves_firmware_dir_untouched() {
    let fixture = deployment();
    fixture.write("firmware/C.3/line.yaml", "known_builds: []\n");
    let good = source(&fixture, "20250301", "20250301");
    let missing = source(&fixture, "20250302", "20250302");
    fs::remove_file(missing.join("upd_app_for_old_frs.bin")).expect("rm");
    let empty = source(&fixture, "20250303", "20250303");
    fs::write(empty.join("upd_app.bin"), "").expect("empty");
    let same = source(&fixture, "20250304", "20250304");
    fs::copy(
        same.join("upd_app.bin"),
        same.join("upd_app_for_old_frs.bin"),
    )
    .expect("copy");
    let undated = source(&fixture, "march-release", "20250305");
    let typo = source(&fixture, "20250306", "20250306");
    fs::write(typo.join("meta.yaml"), "critcal: true\n").expect("meta");
    let published = source(&fixture, "20250101", "20250101");
    let before = tree(&fixture.path("firmware"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["publish", missing.to_str().unwrap()],
            "upd_app_for_old_frs.bin is missing",
        ),
        (
            vec!["publish", empty.to_str().unwrap()],
            "upd_app.bin is empty",
        ),
        (
            vec!["publish", same.to_str().unwrap()],
            "are the same bytes",
        ),
        (
            vec!["publish", undated.to_str().unwrap()],
            "give --version yyyymmdd",
        ),
        (
            vec!["publish", good.to_str().unwrap(), "--version", "20250231"],
            "--version must be a real date",
        ),
        (
            vec!["publish", good.to_str().unwrap(), "--line", "C.9"],
            "there is no line \"C.9\"",
        ),
        (
            vec!["publish", typo.to_str().unwrap()],
            "the source's meta.yaml: unknown field `critcal`",
        ),
        (
            vec!["publish", published.to_str().unwrap()],
            "is already published (firmware/20250101); give --replace",
        ),
        (
            vec![
                "publish",
                good.to_str().unwrap(),
                "--rollout-percent",
                "150",
            ],
            "--rollout-percent must be a whole number from 0 to 100",
        ),
        (
            vec!["publish", good.to_str().unwrap(), "--pilot", "shop-1"],
            "rollout.pilot: \"shop-1\" is not an IP address",
        ),
        (vec!["publish", "incoming/nothing-here"], "does not exist"),
        (vec!["withdraw", "20250505"], "there is no release 20250505"),
        (vec!["withdraw", "2025"], "must be a date written yyyymmdd"),
    ];
    for (args, expected) in cases {
        let output = run(&fixture, None, &args);
        assert!(!output.status.success(), "{args:?} succeeded");
        let text = said(&output);
        assert!(text.contains(expected), "{args:?}: {text}");
        assert_eq!(text.trim().lines().count(), 1, "one sentence: {text}");
        assert_eq!(
            tree(&fixture.path("firmware")),
            before,
            "{args:?} changed firmware_dir"
        );
    }
    // A description that is not UTF-8 (Unix lets an argument be any bytes).
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let args = [
            std::ffi::OsStr::new("publish"),
            good.as_os_str(),
            std::ffi::OsStr::new("--description"),
            std::ffi::OsStr::from_bytes(b"\xcf\xeb\xe0\xed\xee\xe2\xee\xe5"),
        ];
        let output = command(&fixture, None, &args);
        assert!(!output.status.success());
        assert!(
            said(&output).contains("the description is not UTF-8 text"),
            "{}",
            said(&output)
        );
        assert_eq!(tree(&fixture.path("firmware")), before);
    }
    // A source still being copied: its size changes while it is checked.
    let growing = source(&fixture, "20250307", "20250307");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let file = growing.join("upd_app.bin");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = fs::OpenOptions::new()
                .append(true)
                .open(file)
                .expect("open");
            while !stop.load(Ordering::Relaxed) {
                f.write_all(&[7u8; 512]).expect("append");
                f.flush().expect("flush");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let output = run(&fixture, None, &["publish", growing.to_str().unwrap()]);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    assert!(!output.status.success());
    assert!(
        said(&output).contains("is still being written"),
        "{}",
        said(&output)
    );
    assert_eq!(tree(&fixture.path("firmware")), before);
}

#[test]
fn a_dry_run_writes_nothing() {
    let fixture = deployment();
    let src = source(&fixture, "20250301", "20250301");
    let before = tree(&fixture.path("firmware"));
    let output = run(
        &fixture,
        None,
        &[
            "publish",
            src.to_str().unwrap(),
            "--dry-run",
            "--rollout-percent",
            "10",
        ],
    );
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("dry run: would publish as"),
        "{}",
        said(&output)
    );
    assert!(said(&output).contains("rollout: 10%"), "{}", said(&output));
    assert_eq!(tree(&fixture.path("firmware")), before);
}

#[test]
fn replace_under_a_polling_client_never_serves_a_mix_or_an_older_release() {
    let fixture = deployment();
    let server = Arc::new(start(&fixture));
    let first = source(&fixture, "first/20250301", "first");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", first.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", said(&output));
    eventually("20250301 offered", DEADLINE, || {
        (offered(&server) == 20250301).then_some(())
    });
    let old = firmware_bytes("first", "upd_app.bin");
    let new = firmware_bytes("second", "upd_app.bin");
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (server, stop, old, new) = (server.clone(), stop.clone(), old.clone(), new.clone());
        std::thread::spawn(move || {
            let (mut polls, mut saw_new) = (0, false);
            while !stop.load(Ordering::Relaxed) {
                let answer = server.check_firmware("1.1.2000");
                assert_eq!(
                    answer["version"], 20250301,
                    "offered something else: {answer}"
                );
                let body = server.get("/firmware/20250301/upd_app.bin", &[]).body;
                assert!(
                    body == old || body == new,
                    "a mix of {} bytes was served",
                    body.len()
                );
                saw_new |= body == new;
                polls += 1;
            }
            (polls, saw_new)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let second = source(&fixture, "second/20250301", "second");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", second.to_str().unwrap(), "--replace"],
    );
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("replaced in place"),
        "{}",
        said(&output)
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (polls, saw_new) = poller.join().expect("the poller saw only whole releases");
    assert!(
        polls > 10 && saw_new,
        "{polls} polls, new bytes seen: {saw_new}"
    );
}

#[test]
fn withdraw_then_publish_it_back() {
    let fixture = deployment();
    let server = start(&fixture);
    let src = source(&fixture, "20250301", "20250301");
    assert!(
        run(&fixture, Some(&server), &["publish", src.to_str().unwrap()])
            .status
            .success()
    );
    eventually("20250301 offered", DEADLINE, || {
        (offered(&server) == 20250301).then_some(())
    });
    let output = run(&fixture, Some(&server), &["withdraw", "20250301"]);
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("the running server no longer serves it"),
        "{}",
        said(&output)
    );
    assert_eq!(offered(&server), 20250101);
    let shelved = fixture.path("firmware/.withdrawn/20250301");
    assert!(shelved.join("upd_app.bin").is_file(), "kept, not deleted");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", shelved.to_str().unwrap(), "--replace"],
    );
    assert!(output.status.success(), "{}", said(&output));
    assert_eq!(offered(&server), 20250301);
}
