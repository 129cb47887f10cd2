//! Hot reload against the real binary: publishing by `mv` and by slow copies, pinned
//! hashes, bad edits that must not reach a device, removals, in-place overwrites, license
//! edits, SIGHUP, and 100 reloads under load. Every wait polls with a deadline; no sleep
//! is an assertion.

use std::fs;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{
    eventually, firmware_bytes, offered, poll_offers, sha256, slf_line, slow_write, wait_offered,
    Fixture, Server, DEADLINE,
};

/// Downloads every offered URL until `stop`; each must be the release's own bytes.
fn poll_and_download(server: &Server, stop: &AtomicBool) -> usize {
    poll_offers(server, stop, "1.1.2000", &|version, name, response| {
        if response.status != 200 {
            return Err(format!("status {}", response.status));
        }
        if response.body != firmware_bytes(&version.to_string(), name) {
            return Err("a device got bytes that differ from the release".into());
        }
        Ok(())
    })
}

#[test]
fn mv_of_a_staged_folder_goes_live() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    let server = fixture.start();
    assert_eq!(offered(&server), 20180117);
    let staged = fixture.release(".staging-20180125", None);
    // The staging folder is ignored.
    assert_eq!(offered(&server), 20180117);
    let moved = Instant::now();
    fs::rename(staged, fixture.path("firmware/20180125")).expect("mv");
    wait_offered(&server, 20180125);
    println!("mv to offered: {} ms", moved.elapsed().as_millis());
    let body = server.get("/firmware/20180125/upd_app.bin", &[]).body;
    assert!(body == firmware_bytes("20180125", "upd_app.bin"));
}

fn slow_copy_is_never_offered_early(meta_first: bool) {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 400\n");
    fixture.release("20180117", None);
    let server = fixture.start();
    wait_offered(&server, 20180117);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_and_download(&server, &stop));
        let folder = fixture.path("firmware/20180125");
        fs::create_dir(&folder).expect("mkdir");
        let meta =
            || fs::write(folder.join("meta.yaml"), "description: slow copy\n").expect("meta");
        if meta_first {
            meta();
        }
        for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
            slow_write(
                &folder.join(name),
                &firmware_bytes("20180125", name),
                12,
                Duration::from_millis(120),
            );
        }
        if !meta_first {
            meta();
        }
        wait_offered(&server, 20180125);
        eventually("the description", DEADLINE, || {
            (server.check_firmware("1.1.2000")["description"] == "slow copy").then_some(())
        });
        stop.store(true, Ordering::SeqCst);
        let checked = poller.join().expect("poller");
        assert!(checked > 10, "the poller downloaded {checked} files");
    });
}

#[test]
fn a_slow_copy_with_meta_first_is_never_offered_before_complete() {
    slow_copy_is_never_offered_early(true);
}

#[test]
fn a_slow_copy_with_meta_last_is_never_offered_before_complete() {
    slow_copy_is_never_offered_early(false);
}

#[test]
fn a_pinned_folder_goes_live_when_its_hashes_match_and_not_before() {
    let fixture = Fixture::new();
    // A settle time no test waits for: only the hashes can publish the folder.
    fixture.write_config("settle_ms: 3600000\n");
    let server = fixture.start();
    let folder = fixture.path("firmware/20180125");
    fs::create_dir(&folder).expect("mkdir");
    let new = firmware_bytes("20180125", "upd_app.bin");
    let old = firmware_bytes("20180125", "upd_app_for_old_frs.bin");
    let meta = format!(
        "sha256:\n  upd_app.bin: {}\n  upd_app_for_old_frs.bin: {}\n",
        sha256(&new),
        sha256(&old)
    );
    fs::write(folder.join("meta.yaml"), meta).expect("meta");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| poll_and_download(&server, &stop));
        slow_write(
            &folder.join("upd_app.bin"),
            &new,
            8,
            Duration::from_millis(60),
        );
        // Half of the second file: a rescan sees it and refuses it.
        fs::write(
            folder.join("upd_app_for_old_frs.bin"),
            &old[..old.len() / 2],
        )
        .expect("half");
        server.sighup();
        assert!(
            server.wait_for_log(
                "upd_app_for_old_frs.bin does not match its sha256",
                DEADLINE
            ),
            "{}",
            server.log()
        );
        assert_eq!(
            offered(&server),
            0,
            "a half-copied pinned folder is not offered"
        );
        slow_write(
            &folder.join("upd_app_for_old_frs.bin"),
            &old,
            8,
            Duration::from_millis(60),
        );
        let written = Instant::now();
        wait_offered(&server, 20180125);
        println!(
            "pinned folder offered {} ms after its last byte",
            written.elapsed().as_millis()
        );
        stop.store(true, Ordering::SeqCst);
        poller.join().expect("poller");
    });
}

#[test]
fn a_broken_meta_yaml_keeps_the_old_release_until_fixed() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    let server = fixture.start();
    let folder = fixture.release(".staging-20180125", Some("description: [unclosed\n"));
    fs::rename(&folder, fixture.path("firmware/20180125")).expect("mv");
    assert!(
        server.wait_for_log("20180125: meta.yaml:", DEADLINE),
        "{}",
        server.log()
    );
    assert_eq!(offered(&server), 20180117);
    fs::write(
        fixture.path("firmware/20180125/meta.yaml"),
        "description: fixed\n",
    )
    .expect("fix");
    wait_offered(&server, 20180125);
    assert_eq!(server.check_firmware("1.1.2000")["description"], "fixed");
}

#[test]
fn removing_folders_falls_back_and_then_offers_nothing() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    fixture.release("20180125", None);
    let server = fixture.start();
    assert_eq!(offered(&server), 20180125);
    fs::remove_dir_all(fixture.path("firmware/20180125")).expect("rm");
    wait_offered(&server, 20180117);
    fs::remove_dir_all(fixture.path("firmware/20180117")).expect("rm");
    eventually("no release", DEADLINE, || {
        let answer = server.check_firmware("1.1.2000");
        (answer["update_available"] == false && answer["version"] == 0 && answer["url"] == "")
            .then_some(())
    });
    // firmware_dir itself deleted and created again: still watched.
    fs::remove_dir(fixture.path("firmware")).expect("rmdir");
    fs::create_dir(fixture.path("firmware")).expect("mkdir");
    let staged = fixture.release(".staging-20180201", None);
    fs::rename(staged, fixture.path("firmware/20180201")).expect("mv");
    wait_offered(&server, 20180201);
}

#[test]
fn an_overwrite_in_place_never_serves_a_mix_of_bytes() {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 300\n");
    fixture.release("20180117", None);
    let folder = fixture.release("20180125", None);
    // A larger file, so that downloads are in flight while it is rewritten.
    let original: Vec<u8> = firmware_bytes("20180125", "upd_app.bin").repeat(50);
    fs::write(folder.join("upd_app.bin"), &original).expect("write");
    let server = fixture.start();
    wait_offered(&server, 20180125);
    let replacement: Vec<u8> = original.iter().map(|b| b ^ 0xff).collect();
    let stop = AtomicBool::new(false);
    let downloads = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let response = server.get("/firmware/20180125/upd_app.bin", &[]);
                    assert_eq!(response.status, 200, "an edit in place never means 404");
                    assert!(
                        response.body == original || response.body == replacement,
                        "a mix of old and new bytes was served"
                    );
                    downloads.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        // Rewrite in place (same inode), slowly, the way `cat new > upd_app.bin` does.
        slow_write(
            &folder.join("upd_app.bin"),
            &replacement,
            10,
            Duration::from_millis(50),
        );
        eventually("the new bytes", DEADLINE, || {
            (server.get("/firmware/20180125/upd_app.bin", &[]).body == replacement).then_some(())
        });
        stop.store(true, Ordering::SeqCst);
    });
    assert!(downloads.load(Ordering::SeqCst) > 3);
    assert_eq!(offered(&server), 20180125);
}

fn license(server: &Server, serial: &str) -> (u16, String) {
    let response = server.post(
        "/feature_licenses",
        &format!("{{\"serial\": \"{serial}\"}}"),
    );
    let licenses = if response.status == 200 {
        response.json()["licenses"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        String::new()
    };
    (response.status, licenses)
}

/// A license file with serials 1 (licenses filled with `first`) and 2 (always `c`).
fn two_serials(first: char) -> String {
    format!(
        "{}\n{}\n",
        slf_line("0000000000000001", first, 'b'),
        slf_line("0000000000000002", 'c', 'd')
    )
}

fn license_fixture() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 300\nlicenses: [lic/fleet.slf]\n");
    fixture.write("lic/fleet.slf", two_serials('a'));
    fixture.release("20180125", None);
    fixture
}

#[test]
fn license_edits_by_rename_truncate_bad_line_and_delete() {
    let fixture = license_fixture();
    let server = fixture.start();
    assert_eq!(license(&server, "1"), (200, "a".repeat(128)));

    // Rename-on-save (vim, most editors): write a temp file, rename it over.
    fixture.write("lic/.fleet.slf.tmp", two_serials('e'));
    fs::rename(
        fixture.path("lic/.fleet.slf.tmp"),
        fixture.path("lic/fleet.slf"),
    )
    .expect("rename");
    eventually("renamed file loaded", DEADLINE, || {
        (license(&server, "1").1 == "e".repeat(128)).then_some(())
    });

    // Truncate and write: serial 2 must never disappear meanwhile.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let mut seen = 0;
            while !stop.load(Ordering::SeqCst) {
                assert_eq!(
                    license(&server, "2").0,
                    200,
                    "serial 2 disappeared during an edit"
                );
                seen += 1;
            }
            seen
        });
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(fixture.path("lic/fleet.slf"))
            .expect("open");
        std::thread::sleep(Duration::from_millis(150));
        file.write_all(two_serials('f').as_bytes()).expect("write");
        drop(file);
        eventually("rewritten file loaded", DEADLINE, || {
            (license(&server, "1").1 == "f".repeat(128)).then_some(())
        });
        stop.store(true, Ordering::SeqCst);
        assert!(poller.join().expect("poller") > 0);
    });

    // A bad line: reported with file and line; the good lines load.
    fixture.write(
        "lic/fleet.slf",
        format!(
            "{}\nbroken line\n{}\n",
            slf_line("0000000000000001", '1', 'b'),
            slf_line("0000000000000003", '3', 'd')
        ),
    );
    eventually("edited file loaded", DEADLINE, || {
        (license(&server, "3").0 == 200).then_some(())
    });
    assert_eq!(license(&server, "1").1, "1".repeat(128));
    assert_eq!(license(&server, "2").0, 404);
    assert!(
        server.wait_for_log("fleet.slf:2: expected 3 tab-separated fields", DEADLINE),
        "{}",
        server.log()
    );

    // Deleted: its serials go (after the settle time).
    fs::remove_file(fixture.path("lic/fleet.slf")).expect("rm");
    eventually("serials removed", DEADLINE, || {
        (license(&server, "1").0 == 404).then_some(())
    });
}

#[test]
fn sighup_rescans_and_a_bad_config_edit_keeps_the_running_one() {
    let fixture = license_fixture();
    let server = fixture.start();
    wait_offered(&server, 20180125);
    server.sighup();
    assert!(
        server.wait_for_log("rescanned on SIGHUP", DEADLINE),
        "{}",
        server.log()
    );
    assert_eq!(offered(&server), 20180125, "still serving after SIGHUP");

    fixture.write_config("settle_ms: 300\nlicenses: [lic/fleet.slf]\ncritical_version: 20180120\n");
    eventually("critical_version applied", DEADLINE, || {
        (server.check_firmware("1.1.2018")["critical"] == true).then_some(())
    });
    fixture.write_config("settle_ms: 300\nlicenses: [lic/fleet.slf]\ncritcal_version: 20170101\n");
    assert!(
        server.wait_for_log("keeping the running configuration", DEADLINE),
        "{}",
        server.log()
    );
    assert_eq!(server.check_firmware("1.1.2018")["critical"], true);
    let text = "firmware_dir: firmware\nadmin_listen: 127.0.0.1:9\nsettle_ms: 300\nlicenses: []\n";
    fixture.write("server.yaml", text);
    eventually("licenses list applied", DEADLINE, || {
        (license(&server, "1").0 == 404).then_some(())
    });
    assert!(
        server.wait_for_log("restart to apply", DEADLINE),
        "{}",
        server.log()
    );
}

#[test]
fn a_hundred_reloads_under_load_answer_200_from_one_snapshot() {
    let _heavy = crate::common::heavy();
    let fixture = Fixture::new();
    fixture.release("20180117", Some("description: release 20180117\n"));
    fixture.write(
        "lic.slf",
        format!("{}\n", slf_line("0000000000000001", 'a', 'b')),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [lic.slf]\n");
    let staged = fixture.release(".staging-20180125", Some("description: release 20180125\n"));
    let live = fixture.path("firmware/20180125");
    let server = fixture.start();
    let stop = AtomicBool::new(false);
    let answers = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for worker in 0..3 {
            let (server, stop, answers) = (&server, &stop, &answers);
            scope.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match worker {
                        0 => {
                            let answer = server.check_firmware("1.1.2000");
                            let version = answer["version"].as_u64().unwrap_or(0);
                            assert!(version == 20180117 || version == 20180125, "{answer}");
                            assert_eq!(
                                answer["description"],
                                format!("release {version}"),
                                "mixed snapshot: {answer}"
                            );
                            assert!(
                                answer["url"]
                                    .as_str()
                                    .unwrap_or("")
                                    .contains(&format!("/{version}/upd_app.bin")),
                                "{answer}"
                            );
                        }
                        1 => {
                            let (status, licenses) = license(server, "1");
                            assert_eq!(status, 200, "{}", server.log());
                            assert!(
                                licenses == "a".repeat(128) || licenses == "e".repeat(128),
                                "{licenses}"
                            );
                        }
                        _ => {
                            let response = server.get("/firmware/20180117/upd_app.bin", &[]);
                            assert_eq!(response.status, 200);
                            assert!(response.body == firmware_bytes("20180117", "upd_app.bin"));
                        }
                    }
                    answers.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        for round in 0..100 {
            let (from, to, expected) = if round % 2 == 0 {
                (&staged, &live, 20180125)
            } else {
                (&live, &staged, 20180117)
            };
            fs::rename(from, to).expect("toggle the release");
            // settle_ms is 0 here, so licenses are replaced atomically (write, then rename).
            let fill = if round % 2 == 0 { 'e' } else { 'a' };
            fixture.write(
                "lic.slf.tmp",
                format!("{}\n", slf_line("0000000000000001", fill, 'b')),
            );
            fs::rename(fixture.path("lic.slf.tmp"), fixture.path("lic.slf"))
                .expect("replace licenses");
            wait_offered(&server, expected);
        }
        stop.store(true, Ordering::SeqCst);
    });
    println!(
        "{} answers during 100 reloads",
        answers.load(Ordering::SeqCst)
    );
    assert!(answers.load(Ordering::SeqCst) > 100);
}
