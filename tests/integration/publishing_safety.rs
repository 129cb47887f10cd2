//! Publishing safety against the real binary: copies that stall mid-file, preallocated files
//! filled slowly, temp-name-then-rename copies, `cp -r` of large files, in-place overwrites
//! of the current release, the same in poll mode, and a restart in the middle of a stalled
//! copy. A poller plays a register throughout: it asks `check_firmware` and downloads every
//! offered URL, and fails the test on the first answer that is not a complete file of the
//! offered version (or, for in-place edits, on a fall back to an older release or a 404).
//!
//! Each scenario runs twice where it matters: as root, where the kernel says who holds a
//! file open for writing, and as `nobody`, where it will not (root's files) and the server
//! has only what inotify saw, or in poll mode, only the quiet time.

use crate::common;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{
    eventually, firmware_bytes, offered, poll_offers, start_unprivileged, wait_offered, Fixture,
    Response, Server, DEADLINE,
};

const SETTLE_MS: u64 = 300;
/// A stall three times the settle time: long enough that a quiet-time rule alone publishes.
const STALL: Duration = Duration::from_millis(3 * SETTLE_MS);

/// No longer quiet time for files nobody vouched for: then only what the kernel or the
/// watcher says of writers stands between a stalled copy and a device.
const ONLY_WRITERS: &[&str] = &["--unconfirmed-settle-ms", "300"];

/// The bytes a release of this test holds: 480 KB, like real firmware.
fn big(version: &str, name: &str) -> Vec<u8> {
    firmware_bytes(version, name).repeat(12)
}

/// Who the server runs as, and so what it can know of writers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Knows {
    /// Root: the kernel answers "is it open for writing?".
    Kernel,
    /// `nobody`: only what the watcher saw.
    Watcher,
}

fn start(fixture: &Fixture, knows: Knows, args: &[&str]) -> Server {
    match knows {
        Knows::Kernel if common::is_root() => common::Server::start(fixture.dir.path(), args, &[]),
        Knows::Kernel => panic!("this scenario needs root (the kernel's answer about writers)"),
        Knows::Watcher => start_unprivileged(fixture.dir.path(), args),
    }
}

/// A deployment with release 20180117 (small files) published, settle_ms 300, and an empty
/// folder 20180125 (watched from the start: the race of a folder created mid-copy is the
/// `cp -r` test's).
fn deployment(extra_config: &str) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(&format!("settle_ms: {SETTLE_MS}\n{extra_config}"));
    fixture.release("20180117", None);
    fs::create_dir(fixture.path("firmware/20180125")).expect("mkdir");
    fixture
}

/// A register's view: every offered file must be the complete bytes of its version.
fn complete_files(version: u64, name: &str, response: &Response) -> Result<(), String> {
    if response.status != 200 {
        return Err(format!("status {}", response.status));
    }
    let expected = match version {
        20180117 => firmware_bytes("20180117", name),
        other => big(&other.to_string(), name),
    };
    if response.body != expected {
        return Err(format!(
            "a device got {} bytes that are not the release's {} bytes",
            response.body.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// Runs `copy` while a register polls and downloads; then waits until `version` is offered.
fn while_polling(server: &Server, version: u64, copy: impl FnOnce()) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_offers(server, &stop, "1.1.2000", &complete_files));
        copy();
        wait_offered(server, version);
        stop.store(true, Ordering::SeqCst);
        let checked = poller.join().expect("poller");
        assert!(checked > 4, "the poller checked only {checked} downloads");
    });
}

/// Writes the first `at` bytes, stalls with the file open, asserts that nothing new is
/// offered meanwhile, then writes the rest and closes.
fn write_with_stall(server: &Server, file: &mut fs::File, bytes: &[u8], at: usize) {
    file.write_all(&bytes[..at]).expect("write");
    file.flush().expect("flush");
    std::thread::sleep(STALL);
    assert_eq!(
        offered(server),
        20180117,
        "a folder with a file still open for writing was published"
    );
    file.write_all(&bytes[at..]).expect("write");
    file.flush().expect("flush");
}

fn stalled_copy(knows: Knows) {
    let fixture = deployment("");
    let server = start(&fixture, knows, ONLY_WRITERS);
    wait_offered(&server, 20180117);
    let folder = fixture.path("firmware/20180125");
    while_polling(&server, 20180125, || {
        let old = big("20180125", "upd_app_for_old_frs.bin");
        fs::write(folder.join("upd_app_for_old_frs.bin"), old).expect("old_frs");
        let bytes = big("20180125", "upd_app.bin");
        let mut file = fs::File::create(folder.join("upd_app.bin")).expect("create");
        write_with_stall(&server, &mut file, &bytes, 200_000);
    });
}

#[test]
fn a_copy_stalled_mid_file_is_not_published_kernel() {
    stalled_copy(Knows::Kernel);
}

#[test]
fn a_copy_stalled_mid_file_is_not_published_watcher() {
    stalled_copy(Knows::Watcher);
}

fn preallocated_copy(knows: Knows) {
    let fixture = deployment("");
    let server = start(&fixture, knows, ONLY_WRITERS);
    wait_offered(&server, 20180117);
    let folder = fixture.path("firmware/20180125");
    while_polling(&server, 20180125, || {
        for name in ["upd_app_for_old_frs.bin", "upd_app.bin"] {
            let bytes = big("20180125", name);
            // Windows Explorer over SMB: the full size first, then the contents.
            let mut file = fs::File::create(folder.join(name)).expect("create");
            file.set_len(bytes.len() as u64).expect("preallocate");
            file.seek(SeekFrom::Start(0)).expect("seek");
            write_with_stall(&server, &mut file, &bytes, bytes.len() / 3);
        }
    });
}

#[test]
fn a_preallocated_file_filled_slowly_is_not_published_kernel() {
    preallocated_copy(Knows::Kernel);
}

#[test]
fn a_preallocated_file_filled_slowly_is_not_published_watcher() {
    preallocated_copy(Knows::Watcher);
}

fn temp_name_then_rename(knows: Knows) {
    let fixture = deployment("");
    let server = start(&fixture, knows, ONLY_WRITERS);
    wait_offered(&server, 20180117);
    let folder = fixture.path("firmware/20180125");
    let renamed = Instant::now();
    while_polling(&server, 20180125, || {
        for name in ["upd_app_for_old_frs.bin", "upd_app.bin"] {
            // rsync and WinSCP: a hidden temporary name, renamed into place when complete.
            let temp = folder.join(format!(".{name}.Xa91Bc"));
            let bytes = big("20180125", name);
            let mut file = fs::File::create(&temp).expect("create");
            write_with_stall(&server, &mut file, &bytes, 100_000);
            drop(file);
            fs::rename(&temp, folder.join(name)).expect("rename");
        }
    });
    // Seen closed under its temporary name, the file needs no longer quiet time.
    assert!(
        renamed.elapsed() < Duration::from_secs(30),
        "took {:?}",
        renamed.elapsed()
    );
}

#[test]
fn a_temp_name_then_rename_copy_is_published_whole_kernel() {
    temp_name_then_rename(Knows::Kernel);
}

#[test]
fn a_temp_name_then_rename_copy_is_published_whole_watcher() {
    temp_name_then_rename(Knows::Watcher);
}

/// `cp -r` of a folder whose files are large: the copy creates the folder and starts
/// writing before the watcher watches it.
fn cp_r(knows: Knows) {
    let fixture = deployment("unconfirmed_settle_ms: 2000\n");
    let source = fixture.path("incoming/20180125");
    fs::create_dir_all(&source).expect("mkdir");
    let expected: Vec<(&str, Vec<u8>)> = ["upd_app.bin", "upd_app_for_old_frs.bin"]
        .into_iter()
        .map(|name| (name, big("20180125", name).repeat(16)))
        .collect();
    for (name, bytes) in &expected {
        fs::write(source.join(name), bytes).expect("source");
    }
    let server = start(&fixture, knows, &[]);
    wait_offered(&server, 20180117);
    let stop = AtomicBool::new(false);
    let check = |version: u64, name: &str, response: &Response| {
        if version == 20180117 {
            return complete_files(version, name, response);
        }
        let want = &expected.iter().find(|(n, _)| *n == name).expect("name").1;
        if response.status != 200 || response.body != *want {
            return Err(format!(
                "status {}, {} of {} bytes",
                response.status,
                response.body.len(),
                want.len()
            ));
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_offers(&server, &stop, "1.1.2000", &check));
        let status = Command::new("cp")
            .args(["-r"])
            .arg(&source)
            .arg(fixture.path("firmware/"))
            .status()
            .expect("cp");
        assert!(status.success());
        wait_offered(&server, 20180125);
        stop.store(true, Ordering::SeqCst);
        poller.join().expect("poller");
    });
}

#[test]
fn cp_r_of_large_files_is_published_whole_kernel() {
    cp_r(Knows::Kernel);
}

#[test]
fn cp_r_of_large_files_is_published_whole_watcher() {
    cp_r(Knows::Watcher);
}

/// The current release's file overwritten in place, slowly and with a stall: the offer
/// stays on it, its URL never answers 404, devices get the old bytes until the new ones
/// are complete, and never a mix.
fn overwrite_in_place(knows: Knows, extra_config: &str, args: &[&str]) {
    let fixture = deployment(extra_config);
    let folder = fixture.path("firmware/20180125");
    let original = big("20180125", "upd_app.bin");
    let replacement: Vec<u8> = original.iter().map(|b| b ^ 0x5a).collect();
    fs::write(folder.join("upd_app.bin"), &original).expect("bin");
    let old_frs = big("20180125", "upd_app_for_old_frs.bin");
    fs::write(folder.join("upd_app_for_old_frs.bin"), &old_frs).expect("bin");
    let server = start(&fixture, knows, args);
    wait_offered(&server, 20180125);
    let stop = AtomicBool::new(false);
    let check = |version: u64, name: &str, response: &Response| {
        if version != 20180125 {
            return Err("the offer fell back to an older release during an edit".into());
        }
        if response.status != 200 {
            return Err(format!("status {} during an edit", response.status));
        }
        let fine = match name {
            "upd_app.bin" => response.body == original || response.body == replacement,
            _ => response.body == old_frs,
        };
        if !fine {
            return Err(format!(
                "{} bytes that are neither the old file nor the new one",
                response.body.len()
            ));
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_offers(&server, &stop, "1.1.2000", &check));
        // `cat new > upd_app.bin`: the same inode, truncated, then written.
        let mut file = fs::File::create(folder.join("upd_app.bin")).expect("truncate");
        file.write_all(&replacement[..150_000]).expect("write");
        file.flush().expect("flush");
        std::thread::sleep(STALL);
        let during = server.get("/firmware/20180125/upd_app.bin", &[]);
        assert!(
            during.status == 200 && during.body == original,
            "mid-edit, devices must get the validated bytes ({}, {} bytes)",
            during.status,
            during.body.len()
        );
        file.write_all(&replacement[150_000..]).expect("write");
        drop(file);
        eventually("the new bytes served", DEADLINE, || {
            (server.get("/firmware/20180125/upd_app.bin", &[]).body == replacement).then_some(())
        });
        stop.store(true, Ordering::SeqCst);
        let checked = poller.join().expect("poller");
        assert!(checked > 4, "the poller checked only {checked} downloads");
    });
}

#[test]
fn an_in_place_overwrite_keeps_the_validated_release_kernel() {
    overwrite_in_place(Knows::Kernel, "", ONLY_WRITERS);
}

#[test]
fn an_in_place_overwrite_keeps_the_validated_release_watcher() {
    overwrite_in_place(Knows::Watcher, "", ONLY_WRITERS);
}

/// Poll mode as on a network share: no writer events, and as `nobody` the kernel will not
/// say either; the quiet time for unconfirmed files is the guard, and it must outlast the
/// stall.
#[test]
fn an_in_place_overwrite_keeps_the_validated_release_in_poll_mode() {
    overwrite_in_place(
        Knows::Watcher,
        "watch: poll\npoll_interval_ms: 200\nunconfirmed_settle_ms: 2500\n",
        &[],
    );
}

#[test]
fn a_stalled_copy_is_not_published_in_poll_mode() {
    let fixture = deployment("watch: poll\npoll_interval_ms: 200\nunconfirmed_settle_ms: 2500\n");
    let server = start(&fixture, Knows::Watcher, &[]);
    assert!(
        server.wait_for_log("by polling every 200 ms (watch: poll)", DEADLINE),
        "{}",
        server.log()
    );
    wait_offered(&server, 20180117);
    let folder = fixture.path("firmware/20180125");
    while_polling(&server, 20180125, || {
        let old = big("20180125", "upd_app_for_old_frs.bin");
        fs::write(folder.join("upd_app_for_old_frs.bin"), old).expect("old_frs");
        let bytes = big("20180125", "upd_app.bin");
        let mut file = fs::File::create(folder.join("upd_app.bin")).expect("create");
        write_with_stall(&server, &mut file, &bytes, 200_000);
    });
}

/// The server restarts while a copy is stalled with the file open: the new process never
/// saw the writes. As root the kernel tells it; as `nobody`, the unconfirmed quiet time.
fn restart_mid_copy(knows: Knows) {
    let fixture = deployment("unconfirmed_settle_ms: 4000\n");
    let server = start(&fixture, knows, &[]);
    wait_offered(&server, 20180117);
    let folder = fixture.path("firmware/20180125");
    fs::write(
        folder.join("upd_app_for_old_frs.bin"),
        big("20180125", "upd_app_for_old_frs.bin"),
    )
    .expect("old_frs");
    let bytes = big("20180125", "upd_app.bin");
    let mut file = fs::File::create(folder.join("upd_app.bin")).expect("create");
    file.write_all(&bytes[..200_000]).expect("write");
    file.flush().expect("flush");
    drop(server);
    let server = start(&fixture, knows, &[]);
    while_polling(&server, 20180125, || {
        std::thread::sleep(STALL);
        assert_eq!(offered(&server), 20180117, "published after the restart");
        file.write_all(&bytes[200_000..]).expect("write");
        file.flush().expect("flush");
        drop(file);
    });
}

#[test]
fn a_restart_mid_stalled_copy_does_not_publish_it_kernel() {
    restart_mid_copy(Knows::Kernel);
}

#[test]
fn a_restart_mid_stalled_copy_does_not_publish_it_watcher() {
    restart_mid_copy(Knows::Watcher);
}

#[test]
fn start_up_and_check_refuse_a_missing_firmware_dir() {
    let fixture = Fixture::new();
    fs::remove_dir(fixture.path("firmware")).expect("rmdir");
    for command in [&["check"][..], &[][..]] {
        let output = crate::common::server_command()
            .current_dir(fixture.dir.path())
            .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
            .args(command)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{command:?} must fail");
        assert!(
            stderr.contains("firmware_dir") && stderr.contains("does not exist"),
            "{command:?}: {stderr}"
        );
    }
}
