//! `kkt-update-server publish` and `withdraw` against the real binary and a running server:
//! from a folder and from a zip, pinned and therefore offered within the debounce (the
//! server's `settle_ms` is a minute here); each refusal leaves `firmware_dir` byte for byte
//! as it was; `--replace` under a polling client never serves a mix or an older release;
//! `withdraw` then `publish --replace` back; `--dry-run` writes nothing. Hostile sources:
//! links (to a secret, as the source itself, as zip entries by their mode bits), FIFOs
//! (never waited on), files over 64 MiB, a zip bomb behind a 1,000-byte header (stopped at
//! the limit, memory bounded), names twice or reaching out, too many entries: each refused
//! in one sentence, `firmware_dir` untouched.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{eventually, firmware_bytes, printed, Fixture, Server, BIN, DEADLINE};

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

/// Runs a command of the binary in the fixture, pointed at the running server.
fn command(fixture: &Fixture, server: Option<&Server>, args: &[&std::ffi::OsStr]) -> Output {
    let mut command = crate::common::server_command();
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

fn offered(server: &Server) -> u64 {
    server.check_firmware("1.1.2000")["version"]
        .as_u64()
        .unwrap_or(0)
}

/// Every file below `dir` with its bytes (folders as empty entries).
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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
    let src = fixture.incoming_release("20250301", "20250301");
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
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("the running server serves it"),
        "{}",
        printed(&output)
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
    assert!(output.status.success(), "{}", printed(&output));
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
    let good = fixture.incoming_release("20250301", "20250301");
    let missing = fixture.incoming_release("20250302", "20250302");
    fs::remove_file(missing.join("upd_app_for_old_frs.bin")).expect("rm");
    let empty = fixture.incoming_release("20250303", "20250303");
    fs::write(empty.join("upd_app.bin"), "").expect("empty");
    let same = fixture.incoming_release("20250304", "20250304");
    fs::copy(
        same.join("upd_app.bin"),
        same.join("upd_app_for_old_frs.bin"),
    )
    .expect("copy");
    let undated = fixture.incoming_release("march-release", "20250305");
    let typo = fixture.incoming_release("20250306", "20250306");
    fs::write(typo.join("meta.yaml"), "critcal: true\n").expect("meta");
    let published = fixture.incoming_release("20250101", "20250101");
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
        let text = printed(&output);
        assert!(text.contains(expected), "{args:?}: {text}");
        assert_eq!(common::answer_lines(&text), 1, "one sentence: {text}");
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
            printed(&output).contains("the description is not UTF-8 text"),
            "{}",
            printed(&output)
        );
        assert_eq!(tree(&fixture.path("firmware")), before);
    }
    // A source still being copied: its size changes while it is checked.
    let growing = fixture.incoming_release("20250307", "20250307");
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
        printed(&output).contains("is still being written"),
        "{}",
        printed(&output)
    );
    assert_eq!(tree(&fixture.path("firmware")), before);
}

#[test]
fn a_dry_run_writes_nothing() {
    let fixture = deployment();
    let src = fixture.incoming_release("20250301", "20250301");
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
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("dry run: would publish as"),
        "{}",
        printed(&output)
    );
    assert!(
        printed(&output).contains("rollout: 10%"),
        "{}",
        printed(&output)
    );
    assert_eq!(tree(&fixture.path("firmware")), before);
}

#[test]
fn replace_under_a_polling_client_never_serves_a_mix_or_an_older_release() {
    let fixture = deployment();
    let server = Arc::new(start(&fixture));
    let first = fixture.incoming_release("first/20250301", "first");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", first.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", printed(&output));
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
    let second = fixture.incoming_release("second/20250301", "second");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", second.to_str().unwrap(), "--replace"],
    );
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("replaced in place"),
        "{}",
        printed(&output)
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
    let src = fixture.incoming_release("20250301", "20250301");
    assert!(
        run(&fixture, Some(&server), &["publish", src.to_str().unwrap()])
            .status
            .success()
    );
    eventually("20250301 offered", DEADLINE, || {
        (offered(&server) == 20250301).then_some(())
    });
    let output = run(&fixture, Some(&server), &["withdraw", "20250301"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("the running server no longer serves it"),
        "{}",
        printed(&output)
    );
    assert_eq!(offered(&server), 20250101);
    let shelved = fixture.path("firmware/.withdrawn/20250301");
    assert!(shelved.join("upd_app.bin").is_file(), "kept, not deleted");
    let output = run(
        &fixture,
        Some(&server),
        &["publish", shelved.to_str().unwrap(), "--replace"],
    );
    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(offered(&server), 20250301);
}

// ---- Hostile sources: links, special files, zip headers that lie, names that repeat or
// ---- reach out. Each is refused in one sentence and firmware_dir stays byte for byte.

/// Runs `publish` with `args` and fails the test if it takes longer than `deadline` (a
/// source that makes it wait, a FIFO, must not hang it).
pub(crate) fn publish_within(fixture: &Fixture, args: &[&str], deadline: Duration) -> Output {
    publish_with(crate::common::server_command(), fixture, args, deadline)
}

/// `publish_within` through `command` (the binary, or a program that runs it).
fn publish_with(
    mut command: Command,
    fixture: &Fixture,
    args: &[&str],
    deadline: Duration,
) -> Output {
    let mut child = command
        .current_dir(fixture.dir.path())
        .arg("publish")
        .args(args)
        .args(["--config", "server.yaml", "--no-wait"])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run publish");
    let began = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if began.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("publish {args:?} still ran after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Asserts that every case is refused with its sentence (one line) and leaves
/// `firmware_dir` as it was.
fn assert_refused(fixture: &Fixture, cases: &[(Vec<&str>, &str)]) {
    let before = tree(&fixture.path("firmware"));
    for (args, expected) in cases {
        let output = publish_within(fixture, args, Duration::from_secs(20));
        let text = printed(&output);
        assert!(!output.status.success(), "{args:?} was published: {text}");
        assert!(text.contains(expected), "{args:?}: {text}");
        assert_eq!(common::answer_lines(&text), 1, "one sentence: {text}");
        assert_eq!(
            tree(&fixture.path("firmware")),
            before,
            "{args:?} changed firmware_dir"
        );
    }
}

#[cfg(unix)]
#[test]
fn links_and_special_files_in_a_source_folder_are_refused() {
    use std::os::unix::fs::symlink;
    let fixture = deployment();
    let secret = fixture.path("shadow");
    fs::write(&secret, "root:$6$secret-hash:19000:0:99999:7:::\n").expect("secret");
    // upd_app.bin is a link to a secret: what the audit published as critical firmware.
    let linked = fixture.incoming_release("20250301", "20250301");
    fs::remove_file(linked.join("upd_app.bin")).expect("rm");
    symlink(&secret, linked.join("upd_app.bin")).expect("symlink");
    // meta.yaml as a link (its text would be read and could be echoed in an error).
    let linked_meta = fixture.incoming_release("20250302", "20250302");
    symlink(&secret, linked_meta.join("meta.yaml")).expect("symlink");
    // meta.yaml as a FIFO: reading it would wait for a writer forever.
    let fifo_meta = fixture.incoming_release("20250303", "20250303");
    let made = Command::new("mkfifo")
        .arg(fifo_meta.join("meta.yaml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // The source folder itself a link to a real release folder.
    let real = fixture.incoming_release("elsewhere/20250304", "20250304");
    symlink(&real, fixture.path("incoming/20250304")).expect("symlink");
    // A zip that is a link.
    let zip_target = fixture.path("real.zip");
    fs::write(&zip_target, zip_with(&firmware_entries("", "20250305"))).expect("zip");
    symlink(&zip_target, fixture.path("incoming/20250305.zip")).expect("symlink");
    // A FIFO named like a zip: reading it would wait forever.
    let made = Command::new("mkfifo")
        .arg(fixture.path("incoming/20250306.zip"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    assert_refused(
        &fixture,
        &[
            (
                vec!["incoming/20250301"],
                "incoming/20250301/upd_app.bin is a symbolic link, not a regular file",
            ),
            (
                vec!["incoming/20250302"],
                "incoming/20250302/meta.yaml is a symbolic link, not a regular file",
            ),
            (
                vec!["incoming/20250303"],
                "incoming/20250303/meta.yaml is a FIFO (named pipe), not a regular file",
            ),
            (
                vec!["incoming/20250304"],
                "incoming/20250304 is a symbolic link; publish reads only real folders and files",
            ),
            (
                vec!["incoming/20250305.zip"],
                "incoming/20250305.zip is a symbolic link; publish reads only real folders",
            ),
            (
                vec!["incoming/20250306.zip"],
                "incoming/20250306.zip is a FIFO (named pipe), not a regular file",
            ),
        ],
    );
}

#[cfg(unix)]
#[test]
fn a_hard_link_in_a_source_folder_is_a_regular_file_and_is_published() {
    let fixture = deployment();
    let src = fixture.incoming_release("20250301", "20250301");
    let kept = fixture.path("kept-upd_app.bin");
    fs::rename(src.join("upd_app.bin"), &kept).expect("move");
    fs::hard_link(&kept, src.join("upd_app.bin")).expect("hard link");
    let output = publish_within(&fixture, &["incoming/20250301"], DEADLINE);
    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(
        fs::read(fixture.path("firmware/20250301/upd_app.bin")).expect("published"),
        firmware_bytes("20250301", "upd_app.bin")
    );
}

#[test]
fn a_firmware_file_over_64_mib_in_a_folder_is_refused() {
    let fixture = deployment();
    let src = fixture.incoming_release("20250301", "20250301");
    let file = fs::OpenOptions::new()
        .append(true)
        .open(src.join("upd_app.bin"))
        .expect("open");
    // Sparse: 64 MiB and one byte without writing them.
    file.set_len(64 * 1024 * 1024 + 1).expect("grow");
    assert_refused(
        &fixture,
        &[(
            vec!["incoming/20250301"],
            "upd_app.bin is larger than 64 MiB; firmware is about 0.5 MB",
        )],
    );
}

/// A zip archive built in memory: `(name, bytes)` entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// The two firmware files of `version` as zip entries below `folder` (`""`: the top).
fn firmware_entries(folder: &str, version: &str) -> Vec<(String, Vec<u8>)> {
    ["upd_app.bin", "upd_app_for_old_frs.bin"]
        .into_iter()
        .map(|name| (format!("{folder}{name}"), firmware_bytes(version, name)))
        .collect()
}

fn zip_with(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let borrowed: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_of(&borrowed)
}

/// A raw deflate stream that inflates to `1 + 258 * matches` zero bytes: one fixed-Huffman
/// block holding a literal 0 and then `matches` copies of "258 bytes from 1 back" (13 bits
/// each), written by hand because a compressor in a debug build takes a minute for a GiB.
pub(crate) fn deflated_zeros(matches: usize) -> Vec<u8> {
    /// Deflate packs bits from the lowest one up.
    struct Bits {
        out: Vec<u8>,
        pending: u64,
        count: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, length: u32) {
            self.pending |= value << self.count;
            self.count += length;
            while self.count >= 8 {
                self.out.push(self.pending as u8);
                self.pending >>= 8;
                self.count -= 8;
            }
        }
    }
    /// A Huffman code goes most significant bit first: reversed for `put`.
    fn code(value: u64, length: u32) -> u64 {
        (0..length).fold(0, |acc, i| (acc << 1) | ((value >> i) & 1))
    }
    let mut bits = Bits {
        out: Vec::with_capacity(matches * 13 / 8 + 8),
        pending: 0,
        count: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman codes
    bits.put(code(0x30, 8), 8); // literal 0
                                // Length 258 is code 285 (8 bits 11000101), distance 1 is code 0 (5 bits 00000).
    let copy = code(0b1100_0101, 8);
    for _ in 0..matches {
        bits.put(copy, 13);
    }
    bits.put(0, 7); // end of block (code 256: seven zero bits)
    bits.put(0, 7); // pushes out the last bits
    bits.out
}

/// The CRC-32 of `length` zero bytes (what a zip header holds for them), so that the
/// bomb is a faithful one: unpacked whole, it passes the reader's check.
pub(crate) fn crc32_of_zeros(length: usize) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !(0..length).fold(!0u32, |crc, _| table[(crc & 0xff) as usize] ^ (crc >> 8))
}

/// A zip whose entry `name` holds `data` as deflate data (written stored, then its
/// method set to deflate and its CRC to `crc`) and whose headers claim `claimed` bytes
/// unpacked.
pub(crate) fn with_deflated_entry(
    entries: &[(String, Vec<u8>)],
    name: &str,
    data: &[u8],
    crc: u32,
    claimed: u32,
) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (entry, bytes) in entries {
        zip.start_file(entry.as_str(), stored).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.start_file(name, stored).expect("entry");
    zip.write_all(data).expect("write");
    let mut bytes = zip.finish().expect("finish").into_inner();
    let (local, central) = headers_of(&bytes, name);
    bytes[local + 8] = 8;
    bytes[central + 10] = 8;
    bytes[local + 14..local + 18].copy_from_slice(&crc.to_le_bytes());
    bytes[central + 16..central + 20].copy_from_slice(&crc.to_le_bytes());
    claim_size(&mut bytes, name, claimed);
    bytes
}

/// Offsets of the local header and the central directory header of the entry `name`
/// (each holds the name right after its fixed part: 30 and 46 bytes).
fn headers_of(zip: &[u8], name: &str) -> (usize, usize) {
    let needle = name.as_bytes();
    let (mut local, mut central) = (None, None);
    for at in 0..zip.len().saturating_sub(needle.len()) {
        if &zip[at..at + needle.len()] != needle {
            continue;
        }
        if at >= 30 && zip[at - 30..at - 26] == *b"PK\x03\x04" {
            local = Some(at - 30);
        }
        if at >= 46 && zip[at - 46..at - 42] == *b"PK\x01\x02" {
            central = Some(at - 46);
        }
    }
    (
        local.expect("local header"),
        central.expect("central header"),
    )
}

/// Makes both headers of `name` claim `size` bytes unpacked (the data stays as it is).
fn claim_size(zip: &mut [u8], name: &str, size: u32) {
    let (local, central) = headers_of(zip, name);
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

/// Gives the entry `name` the Unix `mode` in the high 16 bits of its external attributes,
/// saying it was made on `system` (3: Unix, as `zip -y` writes it; 0: MS-DOS, as some
/// Windows tools write a link).
fn set_unix_mode(zip: &mut [u8], name: &str, mode: u32, system: u8) {
    let (_, central) = headers_of(zip, name);
    zip[central + 5] = system;
    zip[central + 38..central + 42].copy_from_slice(&(mode << 16).to_le_bytes());
}

/// Renames every occurrence of `from` to `to` (same length): no zip writer makes two
/// entries of one name, so one is made under another name and renamed.
fn rename_entries(zip: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let mut at = 0;
    while at + from.len() <= zip.len() {
        if &zip[at..at + from.len()] == from.as_bytes() {
            zip[at..at + from.len()].copy_from_slice(to.as_bytes());
            at += from.len();
        } else {
            at += 1;
        }
    }
}

#[test]
fn hostile_zips_are_refused_and_leave_firmware_dir_untouched() {
    use std::io::Write;
    let fixture = deployment();
    fs::create_dir_all(fixture.path("incoming")).expect("incoming");
    let put = |name: &str, bytes: &[u8]| {
        fs::write(fixture.path(&format!("incoming/{name}")), bytes).expect("zip");
    };
    let good = firmware_entries("20250301/", "20250301");

    // A symbolic link as upd_app.bin: the link's text would be published as firmware.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.add_symlink("20250301/upd_app.bin", "/etc/shadow", options)
        .expect("symlink");
    zip.start_file("20250301/upd_app_for_old_frs.bin", options)
        .expect("entry");
    zip.write_all(&good[1].1).expect("write");
    put("link.zip", &zip.finish().expect("finish").into_inner());

    // A symbolic link elsewhere in the archive: refused all the same.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in &good {
        zip.start_file(name.as_str(), options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.add_symlink("20250301/notes.txt", "../../../etc/passwd", options)
        .expect("symlink");
    put(
        "other-link.zip",
        &zip.finish().expect("finish").into_inner(),
    );

    // A FIFO by its mode bits.
    let mut fifo = zip_with(&good);
    set_unix_mode(&mut fifo, "20250301/upd_app_for_old_frs.bin", 0o010_644, 3);
    put("fifo.zip", &fifo);
    // A link by its mode bits in an archive that says it was made on MS-DOS.
    let mut dos_link = zip_with(&good);
    set_unix_mode(&mut dos_link, "20250301/upd_app.bin", 0o120_777, 0);
    put("dos-link.zip", &dos_link);

    // A bomb: the header claims 1,000 bytes; it inflates to just over 64 MiB of zeros
    // (with their true CRC: unpacked whole, it passes).
    let matches = 64 * 1024 * 1024 / 258 + 1;
    let bomb = with_deflated_entry(
        &good[1..],
        "20250301/upd_app.bin",
        &deflated_zeros(matches),
        crc32_of_zeros(1 + 258 * matches),
        1000,
    );
    put("bomb.zip", &bomb);

    // upd_app.bin twice under one name: zip tools unpack the second over the first.
    let mut entries = good.clone();
    entries.push((
        "20250301/upd_app.bix".into(),
        firmware_bytes("evil", "upd_app.bin"),
    ));
    let mut twice = zip_with(&entries);
    rename_entries(&mut twice, "20250301/upd_app.bix", "20250301/upd_app.bin");
    put("twice.zip", &twice);

    // meta.yaml in two places: the last one won before.
    let mut entries = firmware_entries("", "20250301");
    entries.push(("meta.yaml".into(), b"critical: false\n".to_vec()));
    entries.push(("docs/meta.yaml".into(), b"critical: true\n".to_vec()));
    put("20250301-meta-twice.zip", &zip_with(&entries));

    // The same file by letter case or slashes: one file once unpacked on Windows.
    let mut entries = good.clone();
    entries.push(("20250301/UPD_APP.BIN".into(), b"other".to_vec()));
    put("case.zip", &zip_with(&entries));
    let mut entries = good.clone();
    entries.push(("20250301\\upd_app.bin".into(), b"other".to_vec()));
    put("slashes.zip", &zip_with(&entries));

    // Names that reach outside: absolute, `..`, a drive.
    let mut entries = firmware_entries("", "20250301");
    entries[0].0 = "/upd_app.bin".into();
    put("20250301-absolute.zip", &zip_with(&entries));
    let mut entries = good.clone();
    entries.push(("20250301/../../evil.sh".into(), b"#!/bin/sh\n".to_vec()));
    put("dotdot.zip", &zip_with(&entries));
    let mut entries = good.clone();
    entries.push(("C:\\Windows\\evil.dll".into(), b"MZ".to_vec()));
    put("drive.zip", &zip_with(&entries));

    // Too many entries, and a table of contents too large to list.
    let mut entries = good.clone();
    for i in 0..1000 {
        entries.push((format!("20250301/docs/{i}.txt"), Vec::new()));
    }
    put("many.zip", &zip_with(&entries));
    let mut entries = good.clone();
    for i in 0..800 {
        entries.push((
            format!("20250301/{i:04}-{}.txt", "x".repeat(1400)),
            Vec::new(),
        ));
    }
    put("long-listing.zip", &zip_with(&entries));

    assert_refused(
        &fixture,
        &[
            (
                vec!["incoming/link.zip", "--version", "20250401"],
                "the entry \"20250301/upd_app.bin\" is a symbolic link, not a regular file",
            ),
            (
                vec!["incoming/other-link.zip", "--version", "20250402"],
                "the entry \"20250301/notes.txt\" is a symbolic link, not a regular file",
            ),
            (
                vec!["incoming/fifo.zip", "--version", "20250403"],
                "the entry \"20250301/upd_app_for_old_frs.bin\" is a FIFO (named pipe), not a \
                 regular file",
            ),
            (
                vec!["incoming/dos-link.zip", "--version", "20250414"],
                "the entry \"20250301/upd_app.bin\" is a symbolic link, not a regular file",
            ),
            (
                vec!["incoming/bomb.zip", "--version", "20250404"],
                "\"20250301/upd_app.bin\" unpacks to more than 64 MiB (its header claims 1000 \
                 bytes)",
            ),
            (
                vec!["incoming/twice.zip", "--version", "20250405"],
                "holds \"20250301/upd_app.bin\" twice",
            ),
            (
                vec!["incoming/20250301-meta-twice.zip", "--version", "20250406"],
                "holds meta.yaml twice (\"meta.yaml\" and \"docs/meta.yaml\"); keep one",
            ),
            (
                vec!["incoming/case.zip", "--version", "20250407"],
                "holds \"20250301/UPD_APP.BIN\" twice (names that differ at most in letter case",
            ),
            (
                vec!["incoming/slashes.zip", "--version", "20250408"],
                "holds \"20250301\\\\upd_app.bin\" twice",
            ),
            (
                vec!["incoming/20250301-absolute.zip", "--version", "20250409"],
                "the entry \"/upd_app.bin\" is an absolute name; the archive is refused as a whole",
            ),
            (
                vec!["incoming/dotdot.zip", "--version", "20250410"],
                "the entry \"20250301/../../evil.sh\" reaches outside the archive (..)",
            ),
            (
                vec!["incoming/drive.zip", "--version", "20250411"],
                "the entry \"C:\\\\Windows\\\\evil.dll\" is an absolute name",
            ),
            (
                vec!["incoming/many.zip", "--version", "20250412"],
                "lists 1002 entries; a release archive holds a handful (at most 1000)",
            ),
            (
                vec!["incoming/long-listing.zip", "--version", "20250413"],
                "listing its entries takes more than 1 MiB",
            ),
        ],
    );
}

#[test]
fn a_zip_bomb_is_stopped_at_the_limit_with_bounded_memory() {
    let fixture = deployment();
    fs::create_dir_all(fixture.path("incoming")).expect("incoming");
    // 1 GiB of zeros behind a header that claims 1,000 bytes: before, it was unpacked
    // whole (2 GB of memory) and published.
    let entries = firmware_entries("20250301/", "20250301");
    let bomb = with_deflated_entry(
        &entries[..1],
        "20250301/upd_app_for_old_frs.bin",
        &deflated_zeros((1 << 30) / 258),
        0,
        1000,
    );
    assert!(bomb.len() < 8 * 1024 * 1024, "{} bytes", bomb.len());
    fs::write(fixture.path("incoming/bomb.zip"), &bomb).expect("zip");
    let before = tree(&fixture.path("firmware"));
    let began = Instant::now();
    // The peak resident size of that publish process, measured by GNU time around it (a
    // child of the small `time`, not of this process: every child of the test process
    // starts with the process's own peak, and the whole suite shares it).
    let measured = common::require_tool("time");
    let max_rss = fixture.path("publish-max-rss");
    let output = if measured {
        let mut command = Command::new("time");
        common::in_english(&mut command)
            .args(["-f", "%M", "-o"])
            .arg(&max_rss)
            .arg(BIN);
        publish_with(
            command,
            &fixture,
            &["incoming/bomb.zip"],
            Duration::from_secs(20),
        )
    } else {
        publish_within(&fixture, &["incoming/bomb.zip"], Duration::from_secs(20))
    };
    assert!(began.elapsed() < Duration::from_secs(20));
    let text = printed(&output);
    assert!(!output.status.success(), "the bomb was published: {text}");
    assert!(
        text.contains("unpacks to more than 64 MiB (its header claims 1000 bytes)"),
        "{text}"
    );
    assert_eq!(common::answer_lines(&text), 1, "one sentence: {text}");
    assert_eq!(tree(&fixture.path("firmware")), before);
    if measured {
        // GNU time writes "Command exited with non-zero status 1", then the KiB.
        let report = fs::read_to_string(&max_rss).expect("time's report");
        let max_rss_kib: u64 = report
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("time's report: {report:?}"));
        assert!(
            max_rss_kib < 400 * 1024,
            "publish used {} MiB",
            max_rss_kib / 1024
        );
    }
}

#[test]
fn a_deflated_zip_within_the_limits_is_published() {
    let fixture = deployment();
    fs::create_dir_all(fixture.path("incoming")).expect("incoming");
    let mut entries = firmware_entries("20250301/", "20250301");
    entries.push(("20250301/".into(), Vec::new()));
    entries.push(("__MACOSX/20250301/._upd_app.bin".into(), b"apple".to_vec()));
    entries.push((
        "20250301/meta.yaml".into(),
        "description: \"Из архива\"\n".into(),
    ));
    fs::write(fixture.path("incoming/release.zip"), zip_with(&entries)).expect("zip");
    let output = publish_within(
        &fixture,
        &["incoming/release.zip", "--version", "20250301"],
        DEADLINE,
    );
    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(
        fs::read(fixture.path("firmware/20250301/upd_app.bin")).expect("published"),
        firmware_bytes("20250301", "upd_app.bin")
    );
    let meta = fs::read_to_string(fixture.path("firmware/20250301/meta.yaml")).expect("meta");
    assert!(meta.contains("Из архива"), "{meta}");
}

/// `withdraw` says what devices are offered once the release is gone: the release now
/// current (never "X is published, but Y is newer" of the release it just took away), and
/// with the last one gone, that devices are told there is no update.
#[test]
fn withdraw_says_what_devices_are_offered_now() {
    let fixture = deployment();
    for version in ["20250301", "20250201"] {
        let src = fixture.incoming_release(version, version);
        let output = run(
            &fixture,
            None,
            &["publish", src.to_str().unwrap(), "--no-wait"],
        );
        assert!(output.status.success(), "{}", printed(&output));
    }
    let cases = [
        // An older one: the newest stays what devices are offered.
        (
            "20250201",
            "now devices built before 20250301 are offered 20250301 (everyone)",
        ),
        // The newest: the one below is offered now.
        (
            "20250301",
            "now devices built before 20250101 are offered 20250101 (everyone)",
        ),
        (
            "20250101",
            "no release of (default) is published now: devices are told there is no update",
        ),
    ];
    for (version, expected) in cases {
        let output = run(&fixture, None, &["withdraw", version, "--no-wait"]);
        let text = printed(&output);
        assert!(output.status.success(), "{text}");
        assert!(text.contains(expected), "withdraw {version}: {text}");
        assert!(
            !text.contains(&format!("{version} is published")),
            "withdraw {version}: {text}"
        );
    }
}

/// A shelf someone filled with 1,000 copies of a version (`20250301`, `-2` ... `-1000`)
/// makes `withdraw` stop at once with a sentence saying so, instead of searching on; the
/// release stays served and nothing moves.
#[test]
fn withdraw_onto_a_full_shelf_says_so_and_moves_nothing() {
    let fixture = deployment();
    let src = fixture.incoming_release("20250301", "20250301");
    let output = run(
        &fixture,
        None,
        &["publish", src.to_str().unwrap(), "--no-wait"],
    );
    assert!(output.status.success(), "{}", printed(&output));
    let shelf = fixture.path("firmware/.withdrawn");
    std::fs::create_dir_all(shelf.join("20250301")).unwrap();
    for n in 2..=1000 {
        std::fs::create_dir(shelf.join(format!("20250301-{n}"))).unwrap();
    }
    let output = run(&fixture, None, &["withdraw", "20250301", "--no-wait"]);
    assert!(!output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("already holds 1000 withdrawn copies of 20250301"),
        "{}",
        printed(&output)
    );
    assert!(fixture.path("firmware/20250301/upd_app.bin").is_file());
    assert!(!shelf.join("20250301-1001").exists());
    // One copy removed: the next withdraw takes its place.
    std::fs::remove_dir(shelf.join("20250301-500")).unwrap();
    let output = run(&fixture, None, &["withdraw", "20250301", "--no-wait"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(shelf.join("20250301-500/upd_app.bin").is_file());
}
