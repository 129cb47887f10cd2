//! A member of the group that shares `firmware_dir` plants links where `publish` and
//! `withdraw` are about to write or move (issue 24's security follow-up): a line's folder, a
//! release folder, `.withdrawn/`, the `.staging-*` folder publish has just made. Whoever
//! runs the command next (another operator, root, the service's user) must never write a
//! file into, nor move a release into or out of, the folder the link points at.
//!
//! The planted links are tried with the real binary. The races (a thread swapping the
//! entries for links while the commands run, again and again) call the library's
//! `write_release` and `withdraw`, the very code the commands run, in this process: the
//! binary's `publish` waits half a second for its source to settle, so only a loop in
//! process meets the window between a look and a write often enough, in a few seconds, to
//! have caught the commands as they were before they worked relative to opened folders.

// Linux: the member's swap of `.withdrawn` is one atomic exchange (renameat2), as fast as
// a member can make it; elsewhere the tests are not compiled.
#![cfg(target_os = "linux")]

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kkt_update_server::catalog::device_line::DEFAULT_LINE;
use kkt_update_server::model::version::Version;
use kkt_update_server::publishing::staging::write_release;
use kkt_update_server::publishing::withdraw::withdraw;

use crate::common::{firmware_bytes, printed, Fixture};

/// Runs the binary in the fixture's folder, in English, with its configuration.
fn run(fixture: &Fixture, args: &[&str]) -> Output {
    crate::common::server_command()
        .args(args)
        .args(["--config", "server.yaml", "--no-wait"])
        .current_dir(fixture.dir.path())
        .env_remove("KKT_CONFIG")
        .output()
        .expect("run the binary")
}

/// Every file and folder under `dir`, links not followed, as paths relative to it.
fn everything_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(folder) = todo.pop() {
        for entry in fs::read_dir(&folder).expect("list").flatten() {
            let path = entry.path();
            found.push(path.strip_prefix(dir).expect("inside").to_path_buf());
            if entry.file_type().expect("type").is_dir() {
                todo.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn publish_replace_refuses_a_release_folder_that_is_a_link() {
    let fixture = Fixture::new();
    // What a member planted: firmware/20250301 -> a folder outside holding a release.
    let outside = fixture.path("outside/20250301");
    fs::create_dir_all(&outside).unwrap();
    for file in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        fs::write(outside.join(file), b"theirs").unwrap();
    }
    symlink(&outside, fixture.path("firmware/20250301")).unwrap();
    let src = fixture.incoming_release("new", "20250301-new");
    let output = run(
        &fixture,
        &[
            "publish",
            src.to_str().unwrap(),
            "--version",
            "20250301",
            "--replace",
        ],
    );
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("firmware/20250301 is a link; refusing to follow it"),
        "{text}"
    );
    assert_eq!(
        everything_in(fixture.path("outside").as_path()),
        [
            PathBuf::from("20250301"),
            PathBuf::from("20250301/upd_app.bin"),
            PathBuf::from("20250301/upd_app_for_old_frs.bin"),
        ],
        "nothing written outside: {text}"
    );
    assert_eq!(fs::read(outside.join("upd_app.bin")).unwrap(), b"theirs");
}

/// The commands look for a line among the folders of `firmware_dir` that are no links; a
/// member who swaps the line's folder for a link after that look meets the library's own
/// refusal, which this calls directly, as if the swap had just happened.
#[test]
fn a_line_folder_swapped_for_a_link_after_the_commands_look_is_refused() {
    let fixture = Fixture::new();
    let firmware = fixture.path("firmware");
    // firmware/C.1 -> a folder outside with a folder named like a release in it.
    let outside = fixture.path("outside");
    fs::create_dir_all(outside.join("20250401")).unwrap();
    fs::write(outside.join("20250401/keep"), b"theirs").unwrap();
    symlink(&outside, firmware.join("C.1")).unwrap();
    let version = Version::parse_folder_name("20250401").unwrap();
    let error = withdraw(&firmware, "C.1", version).unwrap_err().to_string();
    assert!(
        error.contains("firmware/C.1 is a link; refusing to follow it"),
        "{error}"
    );
    assert!(outside.join("20250401/keep").is_file(), "{error}");
    assert!(!firmware.join(".withdrawn/C.1/20250401").exists());
    let files = [b"new".to_vec(), b"old".to_vec()];
    for replace in [false, true] {
        let error = write_release(&firmware, "C.1", nth_version(0), &files, "", replace)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("firmware/C.1 is a link; refusing to follow it"),
            "{error}"
        );
    }
    let error = write_release(&firmware, "C.1", version, &files, "", true)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is a link; refusing to follow it"),
        "{error}"
    );
    assert_eq!(
        everything_in(&outside),
        [PathBuf::from("20250401"), PathBuf::from("20250401/keep")],
        "nothing written outside"
    );
}

#[test]
fn withdraw_refuses_a_withdrawn_shelf_that_is_a_link_naming_it() {
    let fixture = Fixture::new();
    fixture.release("20250301", None);
    let outside = fixture.path("outside");
    fs::create_dir(&outside).unwrap();
    symlink(&outside, fixture.path("firmware/.withdrawn")).unwrap();
    let output = run(&fixture, &["withdraw", "20250301"]);
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("firmware/.withdrawn is a link; refusing to follow it"),
        "{text}"
    );
    assert!(everything_in(&outside).is_empty(), "{text}");
    assert!(fixture.path("firmware/20250301/upd_app.bin").is_file());
    // One level down: the line's shelf.
    fs::remove_file(fixture.path("firmware/.withdrawn")).unwrap();
    fs::create_dir(fixture.path("firmware/.withdrawn")).unwrap();
    fixture.write("firmware/C.1/line.yaml", "known_builds: [20220601]\n");
    fixture.release("C.1/20250401", None);
    symlink(&outside, fixture.path("firmware/.withdrawn/C.1")).unwrap();
    let output = run(&fixture, &["withdraw", "20250401", "--line", "C.1"]);
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("firmware/.withdrawn/C.1 is a link; refusing to follow it"),
        "{text}"
    );
    assert!(everything_in(&outside).is_empty(), "{text}");
    // And in Russian, for an operator whose system speaks it.
    let output = crate::common::server_command()
        .args([
            "withdraw",
            "20250401",
            "--line",
            "C.1",
            "--config",
            "server.yaml",
        ])
        .current_dir(fixture.dir.path())
        .env("LANG", "ru_RU.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    let text = printed(&output);
    assert!(
        text.contains("firmware/.withdrawn/C.1 — ссылка; переходить по ней withdraw отказывается"),
        "{text}"
    );
}

/// How long each race runs at most, and how many commands it runs at most.
const RACE_FOR: Duration = Duration::from_secs(4);
const RACE_RUNS: usize = 300;

/// The `n`th version of a race: a real date, a day apart.
fn nth_version(n: usize) -> Version {
    let day = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap() + chrono::Days::new(n as u64);
    Version::parse_folder_name(&day.format("%Y%m%d").to_string()).unwrap()
}

/// Swaps the names `a` and `b` in one step (renameat2 with RENAME_EXCHANGE); `false` when
/// one of them is gone.
fn exchange(a: &Path, b: &Path) -> bool {
    let a = CString::new(a.as_os_str().as_bytes()).unwrap();
    let b = CString::new(b.as_os_str().as_bytes()).unwrap();
    // SAFETY: both names are NUL-terminated and outlive the call, which only reads them.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        return true;
    }
    // One of the names is gone (the command moved it): nothing to swap this time.
    let error = std::io::Error::last_os_error();
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::NotFound,
        "renameat2(RENAME_EXCHANGE): {error}"
    );
    false
}

/// Runs `attack` in a thread until `work` returns; how many swaps it made. A spinning attacker loads a core: the races take `common::heavy()`, one at a time.
fn while_attacked(attack: impl Fn() -> bool + Send + 'static, work: impl FnOnce()) -> usize {
    let _alone = crate::common::heavy();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let attacker = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if attack() {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    work();
    stop.store(true, Ordering::Relaxed);
    attacker.join().expect("attacker");
    swaps.load(Ordering::Relaxed)
}

#[test]
fn a_staging_folder_swapped_for_a_link_while_publish_writes_leads_nowhere_outside() {
    let fixture = Fixture::new();
    let firmware = fixture.path("firmware");
    let outside = fixture.path("outside");
    fs::create_dir(&outside).unwrap();
    // The member: every .staging-* folder that appears is moved aside and a link to the
    // outside folder put under its name.
    let attack = {
        let (firmware, outside) = (firmware.clone(), outside.clone());
        let stolen = AtomicUsize::new(0);
        move || {
            let mut swapped = false;
            for entry in fs::read_dir(&firmware).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let is_staging = name.to_string_lossy().starts_with(".staging-");
                if !is_staging || entry.file_type().is_ok_and(|t| t.is_symlink()) {
                    continue;
                }
                let aside = firmware.join(format!(
                    ".stolen-{}",
                    stolen.fetch_add(1, Ordering::Relaxed)
                ));
                if fs::rename(entry.path(), &aside).is_ok() {
                    swapped |= symlink(&outside, entry.path()).is_ok();
                }
            }
            swapped
        }
    };
    let files = [
        firmware_bytes("race", "upd_app.bin"),
        firmware_bytes("race", "upd_app_for_old_frs.bin"),
    ];
    let mut outcomes = Vec::new();
    let swaps = while_attacked(attack, || {
        let started = Instant::now();
        for n in 0..RACE_RUNS {
            if started.elapsed() > RACE_FOR {
                break;
            }
            let version = nth_version(n);
            let result = write_release(
                &firmware,
                DEFAULT_LINE,
                version,
                &files,
                "description: race\n",
                false,
            );
            outcomes.push((version, result.map_err(|e| e.to_string())));
        }
    });
    assert!(swaps > 0, "the attacker never swapped a staging folder");
    assert_eq!(
        everything_in(&outside),
        Vec::<PathBuf>::new(),
        "written outside"
    );
    let mut published = 0;
    for (version, outcome) in &outcomes {
        match outcome {
            Ok((target, _)) => {
                published += 1;
                let kind = fs::symlink_metadata(target).unwrap().file_type();
                assert!(
                    kind.is_dir(),
                    "{version}: {} is no folder",
                    target.display()
                );
                assert_eq!(fs::read(target.join("upd_app.bin")).unwrap(), files[0]);
                assert!(target.join("meta.yaml").is_file(), "{version}");
            }
            Err(text) => assert!(
                text.contains("is a link; refusing to follow it")
                    || text.contains("was moved away or replaced (by a link or another folder)"),
                "{version}: not a clear refusal: {text}"
            ),
        }
    }
    eprintln!(
        "{} publishes, {published} published, {swaps} staging folders swapped",
        outcomes.len()
    );
}

#[test]
fn a_withdrawn_shelf_swapped_for_a_link_while_withdraw_moves_leads_nowhere_outside() {
    let fixture = Fixture::new();
    let firmware = fixture.path("firmware");
    let outside = fixture.path("outside");
    fs::create_dir(&outside).unwrap();
    let bait = firmware.join(".bait");
    symlink(&outside, &bait).unwrap();
    let shelf = firmware.join(".withdrawn");
    fs::create_dir(&shelf).unwrap();
    // The member: the real .withdrawn/ and a link to the outside folder trade names, again
    // and again, in one step each (so the name is never missing and the shelf never made).
    let attack = move || exchange(&shelf, &bait);
    let mut outcomes = Vec::new();
    let swaps = while_attacked(attack, || {
        let started = Instant::now();
        for n in 0..RACE_RUNS {
            if started.elapsed() > RACE_FOR {
                break;
            }
            let version = nth_version(n);
            fixture.release(&version.to_string(), None);
            let result = withdraw(&firmware, DEFAULT_LINE, version);
            outcomes.push((version, result.map_err(|e| e.to_string())));
        }
    });
    assert!(swaps > 0, "the attacker never swapped .withdrawn");
    assert_eq!(
        everything_in(&outside),
        Vec::<PathBuf>::new(),
        "moved outside"
    );
    let inside = everything_in(&firmware);
    let mut withdrawn = 0;
    for (version, outcome) in &outcomes {
        let name = version.to_string();
        // Whichever name the shelf it went into has now, the release is in firmware_dir.
        let places: Vec<&PathBuf> = inside
            .iter()
            .filter(|p| p.file_name().is_some_and(|f| f == name.as_str()))
            .collect();
        assert_eq!(places.len(), 1, "{version}: {places:?}");
        match outcome {
            Ok(_) => {
                withdrawn += 1;
                assert_ne!(
                    places[0],
                    &PathBuf::from(&name),
                    "{version} still published"
                );
            }
            Err(text) => {
                assert!(
                    text.contains("is a link; refusing to follow it")
                        || text.contains("was moved away or replaced (by a link or another"),
                    "{version}: not a clear refusal: {text}"
                );
                assert_eq!(places[0], &PathBuf::from(&name), "{version} moved anyway");
            }
        }
    }
    eprintln!(
        "{} withdraws, {withdrawn} withdrawn, {swaps} swaps of .withdrawn",
        outcomes.len()
    );
}

#[test]
fn a_release_folder_swapped_for_a_link_while_withdraw_moves_it_is_never_taken_for_it() {
    let fixture = Fixture::new();
    let firmware = fixture.path("firmware");
    let outside = fixture.path("outside");
    fs::create_dir(&outside).unwrap();
    // The member: the release being withdrawn and a link to the outside folder trade names,
    // again and again. `current` is 1 + the number of the release (0: none); the member
    // says which it last looked at in `seen`, so that once the test has set 0 and seen 0
    // come back no swap is under way and each outcome is looked at as it stays.
    let current = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let decoy_of = |firmware: &Path, n: usize| firmware.join(format!(".decoy-{n}"));
    let attack = {
        let (current, seen, firmware) = (current.clone(), seen.clone(), firmware.clone());
        move || {
            let now = current.load(Ordering::SeqCst);
            let swapped = now > 0 && {
                let release = firmware.join(nth_version(now - 1).to_string());
                exchange(&release, &decoy_of(&firmware, now - 1))
            };
            seen.store(now, Ordering::SeqCst);
            swapped
        }
    };
    let mut outcomes = Vec::new();
    let swaps = while_attacked(attack, || {
        let started = Instant::now();
        for n in 0..RACE_RUNS {
            if started.elapsed() > RACE_FOR {
                break;
            }
            let version = nth_version(n);
            fixture.release(&version.to_string(), None);
            let decoy = decoy_of(&firmware, n);
            symlink(&outside, &decoy).unwrap();
            current.store(n + 1, Ordering::SeqCst);
            let result = withdraw(&firmware, DEFAULT_LINE, version);
            current.store(0, Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(5);
            while seen.load(Ordering::SeqCst) != 0 {
                assert!(Instant::now() < deadline, "the member did not stop");
                std::thread::yield_now();
            }
            outcomes.push((version, decoy, result.map_err(|e| e.to_string())));
        }
    });
    assert!(swaps > 0, "the attacker never swapped a release folder");
    assert_eq!(
        everything_in(&outside),
        Vec::<PathBuf>::new(),
        "moved outside"
    );
    let mut withdrawn = 0;
    for (version, decoy, outcome) in &outcomes {
        let name = version.to_string();
        match outcome {
            Ok(destination) => {
                withdrawn += 1;
                // What was said to be withdrawn is the release itself, not the link.
                let kind = fs::symlink_metadata(destination).unwrap().file_type();
                assert!(
                    kind.is_dir(),
                    "{version}: {} is a link",
                    destination.display()
                );
                assert_eq!(
                    fs::read(destination.join("upd_app.bin")).unwrap(),
                    firmware_bytes(&name, "upd_app.bin"),
                    "{version}"
                );
            }
            Err(text) => {
                assert!(
                    text.contains("is a link; refusing to follow it")
                        || text.contains("was moved away or replaced (by a link or another"),
                    "{version}: not a clear refusal: {text}"
                );
                // The release stays in firmware_dir, under its name or the decoy's.
                let stayed = [firmware.join(&name), decoy.clone()]
                    .into_iter()
                    .any(|p| fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()));
                assert!(stayed, "{version}: the release is gone: {text}");
            }
        }
    }
    eprintln!(
        "{} withdraws, {withdrawn} withdrawn, {swaps} swaps of a release folder",
        outcomes.len()
    );
}
