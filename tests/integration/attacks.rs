//! An outsider's attacks on issue 24's surfaces, against the real binary: what a file, a
//! command-line value or a group member controls must not leak a secret into an error,
//! hang a command, nor make `withdraw` write outside `firmware_dir` through a link.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{printed, Fixture};

/// Runs the binary in the fixture's folder; killed (and the test failed) after 20 s.
fn run(fixture: &Fixture, args: &[&str]) -> Output {
    let mut child = crate::common::server_command()
        .args(args)
        .current_dir(fixture.dir.path())
        .env_remove("KKT_CONFIG")
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `--config /etc/shadow` (say, under a sudo rule for `check`): the first line is read as
/// an unknown key, and its text must not be echoed (a password hash).
#[test]
fn a_file_that_is_no_configuration_does_not_have_its_content_echoed() {
    let fixture = Fixture::new();
    fixture.write("shadow", "root:$6$SECRETHASH$abcdefgh:19000:0:99999:7:::\n");
    let output = run(&fixture, &["check", "--config", "shadow"]);
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(!text.contains("SECRETHASH"), "{text}");
    assert!(text.contains("line 1"), "{text}");
    // A typo is still named, with its suggestion.
    fixture.write(
        "typo.yaml",
        "firmware_dir: firmware\ncritcal_version: 20250101\n",
    );
    let text = printed(&run(&fixture, &["check", "--config", "typo.yaml"]));
    assert!(
        text.contains("`critcal_version`") && text.contains("did you mean critical_version?"),
        "{text}"
    );
}

/// An `inventory` that is not a URL the server knows (a missing `//`, libpq's key=value
/// form) may still hold the password: it is not echoed.
#[test]
fn a_misspelt_inventory_url_does_not_echo_its_password() {
    let fixture = Fixture::new();
    for inventory in [
        "postgres:/kkt:S3cretPW@db/kkt",
        "postgres:kkt:S3cretPW@db/kkt",
        "host=db user=kkt password=S3cretPW",
        "kkt:S3cretPW@db:5432/kkt",
        "postgres//kkt:S3cretPW@db/kkt",
    ] {
        let output = run(
            &fixture,
            &["check", "--config", "server.yaml", "--inventory", inventory],
        );
        let text = printed(&output);
        assert!(!output.status.success(), "{inventory}: {text}");
        assert!(text.contains("inventory must be"), "{inventory}: {text}");
        assert!(!text.contains("S3cretPW"), "{inventory}: {text}");
    }
    let text = printed(&run(
        &fixture,
        &[
            "check",
            "--config",
            "server.yaml",
            "--inventory",
            "sqlit:inv.db",
        ],
    ));
    assert!(
        text.contains("\"sqlit:"),
        "a harmless typo is still shown: {text}"
    );
}

/// A group member of a shared `firmware_dir` plants `.withdrawn` as a link to a folder of
/// their choice; whoever withdraws next (root, say) must not move the release through it.
#[cfg(unix)]
#[test]
fn withdraw_does_not_follow_a_planted_withdrawn_link() {
    let fixture = Fixture::new();
    fixture.release("20250301", None);
    let outside = fixture.path("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, fixture.path("firmware/.withdrawn")).unwrap();
    let output = run(
        &fixture,
        &["withdraw", "20250301", "--config", "server.yaml"],
    );
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains(".withdrawn") && text.contains("link"),
        "{text}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{text}");
    assert!(fixture.path("firmware/20250301/upd_app.bin").is_file());
    // The same with a link one level down (a line's shelf).
    let shelf = fixture.path("firmware/.withdrawn");
    std::fs::remove_file(&shelf).unwrap();
    std::fs::create_dir(&shelf).unwrap();
    fixture.write("firmware/C.1/line.yaml", "known_builds: [20220601]\n");
    fixture.release("C.1/20250401", None);
    std::os::unix::fs::symlink(&outside, shelf.join("C.1")).unwrap();
    let output = run(
        &fixture,
        &[
            "withdraw",
            "20250401",
            "--line",
            "C.1",
            "--config",
            "server.yaml",
        ],
    );
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{text}");
}

/// `--config` naming a FIFO (or a file swapped for one) must not hang `check` (nor the
/// running server's reload, which reads the same way) waiting for a writer.
#[cfg(unix)]
#[test]
fn a_configuration_fifo_is_refused_at_once() {
    let fixture = Fixture::new();
    let fifo = fixture.path("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let output = run(&fixture, &["check", "--config", "fifo.yaml"]);
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
}
