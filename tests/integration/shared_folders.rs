//! Two operators of one service centre, each with an account of their own in the group that
//! owns `firmware_dir` (group-writable, setgid, as the .deb makes it), publish, withdraw and
//! replace each other's releases with the real binary run as each of them. Someone outside
//! the group, or a folder kept from the group, gets a refusal naming the folder, its owner
//! and group, and what to do; a staging leftover of another operator blocks nobody.
//!
//! The accounts are real: a throwaway group and users are made with `groupadd`/`useradd`
//! (unique names) and removed at the end even when the test fails (`Accounts`' Drop); the
//! binary runs as each with `setpriv --init-groups` under umask 022. That needs root: under
//! CI (which runs the tests as root) a test that cannot run fails; elsewhere it is skipped.

use crate::common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{firmware_bytes, printed, Fixture, BIN};

/// Whether the test can run (root, with `useradd`, `groupadd`, `userdel`, `groupdel` and
/// `setpriv`); when it cannot, `common::require` fails under CI and says SKIPPED elsewhere.
fn accounts_can_be_made() -> bool {
    let tools = ["useradd", "groupadd", "userdel", "groupdel", "setpriv"];
    let missing: Vec<&str> = tools
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .collect();
    if !common::is_root() {
        return common::require(
            false,
            "root (to make throwaway accounts)",
            "run the tests as root, as CI does",
        );
    }
    common::require(
        missing.is_empty(),
        &format!("{} (to make throwaway accounts)", missing.join(", ")),
        "apt-get install util-linux passwd",
    )
}

/// `useradd` and friends lock /etc/passwd: one test at a time makes or removes accounts.
static ACCOUNTS_LOCK: Mutex<()> = Mutex::new(());
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A throwaway group and users: `operators[i]` are members of `group` (with a private
/// primary group each, as `adduser` makes them), `outsider` is not. Removed on drop.
struct Accounts {
    group: String,
    operators: Vec<String>,
    outsider: String,
}

impl Accounts {
    fn new(operators: usize) -> Accounts {
        let _one_at_a_time = ACCOUNTS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let tag = format!(
            "{}{}",
            std::process::id() % 1_000_000,
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut accounts = Accounts {
            group: format!("kktg{tag}"),
            operators: Vec::new(),
            outsider: format!("kktc{tag}"),
        };
        admin(&["groupadd", &accounts.group]);
        for i in 0..operators {
            let user = format!("kkt{}{tag}", (b'a' + i as u8) as char);
            // Pushed before it exists, so that Drop removes it whatever fails next.
            accounts.operators.push(user.clone());
            admin(&[
                "useradd",
                "-M",
                "-U",
                "-G",
                &accounts.group,
                "-s",
                "/usr/sbin/nologin",
                &user,
            ]);
        }
        admin(&[
            "useradd",
            "-M",
            "-U",
            "-s",
            "/usr/sbin/nologin",
            &accounts.outsider,
        ]);
        accounts
    }

    fn gid(&self) -> u32 {
        let output = Command::new("getent")
            .args(["group", &self.group])
            .output()
            .expect("getent");
        let line = String::from_utf8_lossy(&output.stdout);
        line.split(':')
            .nth(2)
            .and_then(|g| g.parse().ok())
            .expect("gid")
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        let _one_at_a_time = ACCOUNTS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        for user in self.operators.iter().chain([&self.outsider]) {
            let _ = Command::new("userdel").arg(user).output();
            // The private group, where userdel leaves it (USERGROUPS_ENAB no).
            let _ = Command::new("groupdel").arg(user).output();
        }
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}

/// Runs an administration command as root; panics with what it said if it fails.
fn admin(args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect(args[0]);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A deployment as the .deb lays it out: `firmware/` owned by root and `group`, mode 2775,
/// with release 20250101; the fixture folder and the sources readable by everyone.
fn deployment(accounts: &Accounts) -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config("settle_ms: 0\ninventory: \"off\"\n");
    fixture.release("20250101", None);
    fs::set_permissions(fixture.dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let firmware = fixture.path("firmware");
    std::os::unix::fs::chown(&firmware, Some(0), Some(accounts.gid())).expect("chown");
    fs::set_permissions(&firmware, fs::Permissions::from_mode(0o2775)).expect("chmod");
    fixture
}

/// Runs the binary as `user` (its groups as a login gives them, umask 022), in the fixture.
fn run_as(user: &str, fixture: &Fixture, args: &[&str]) -> Output {
    common::in_english(&mut Command::new("sh"))
        .args(["-c", "umask 022 && exec \"$@\"", "sh"])
        .args(["setpriv", "--reuid", user, "--regid", user, "--init-groups"])
        .arg(BIN)
        .args(args)
        .args(["--config", "server.yaml"])
        // No server runs here: nothing to wait for.
        .args(if args[0] == "check" {
            &[][..]
        } else {
            &["--no-wait"][..]
        })
        .current_dir(fixture.dir.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("run the binary")
}

/// Runs and asserts success.
fn ok(user: &str, fixture: &Fixture, args: &[&str]) -> String {
    let output = run_as(user, fixture, args);
    let text = printed(&output);
    assert!(output.status.success(), "{user} {args:?}: {text}");
    text
}

/// Runs and asserts refusal.
fn refused(user: &str, fixture: &Fixture, args: &[&str]) -> String {
    let output = run_as(user, fixture, args);
    let text = printed(&output);
    assert!(
        !output.status.success(),
        "{user} {args:?} succeeded: {text}"
    );
    text
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").mode() & 0o7777
}

/// The bytes of upd_app.bin in a release folder.
fn served_bytes(folder: &Path) -> Vec<u8> {
    fs::read(folder.join("upd_app.bin")).expect("read")
}

#[test]
fn two_operators_publish_withdraw_and_replace_each_others_releases() {
    if !accounts_can_be_made() {
        return;
    }
    let accounts = Accounts::new(2);
    let (anna, boris) = (&accounts.operators[0], &accounts.operators[1]);
    let fixture = deployment(&accounts);
    let firmware = fixture.path("firmware");
    let gid = accounts.gid();

    // Anna publishes: the folder and its files belong to the group, which may manage them.
    let src = fixture.incoming_release("20250301", "20250301");
    ok(anna, &fixture, &["publish", src.to_str().unwrap()]);
    let release = firmware.join("20250301");
    assert_eq!(fs::metadata(&release).unwrap().gid(), gid);
    assert_eq!(mode(&release) & 0o2070, 0o2070, "{:o}", mode(&release));
    for file in ["upd_app.bin", "upd_app_for_old_frs.bin", "meta.yaml"] {
        let path = release.join(file);
        assert_eq!(fs::metadata(&path).unwrap().gid(), gid, "{file}");
        assert_eq!(mode(&path) & 0o070, 0o060, "{file}: {:o}", mode(&path));
    }

    // Boris withdraws Anna's release; the shelf he makes is the group's too.
    let text = ok(boris, &fixture, &["withdraw", "20250301"]);
    assert!(
        text.contains("now devices built before 20250101 are offered 20250101"),
        "{text}"
    );
    let shelf = firmware.join(".withdrawn");
    assert!(shelf.join("20250301/upd_app.bin").is_file());
    assert_eq!(mode(&shelf) & 0o2070, 0o2070, "{:o}", mode(&shelf));

    // Anna publishes another and withdraws it into Boris's shelf.
    let src = fixture.incoming_release("20250201", "20250201");
    ok(anna, &fixture, &["publish", src.to_str().unwrap()]);
    ok(anna, &fixture, &["withdraw", "20250201"]);
    assert!(shelf.join("20250201").is_dir());

    // Anna publishes 20250301 again; Boris replaces it in place; Anna withdraws his files.
    let src = fixture.incoming_release("20250301", "20250301");
    ok(anna, &fixture, &["publish", src.to_str().unwrap()]);
    let newer = fixture.incoming_release("rebuilt", "20250301-rebuilt");
    ok(
        boris,
        &fixture,
        &[
            "publish",
            newer.to_str().unwrap(),
            "--version",
            "20250301",
            "--replace",
        ],
    );
    assert_eq!(
        served_bytes(&release),
        firmware_bytes("20250301-rebuilt", "upd_app.bin")
    );
    ok(anna, &fixture, &["withdraw", "20250301"]);
    assert!(shelf.join("20250301-2").is_dir(), "a second shelf place");
    assert!(!release.exists());

    // The same in a line whose folder the group shares (made by the administrator).
    let line = firmware.join("kassa");
    fs::create_dir(&line).expect("line");
    fs::write(line.join("line.yaml"), "known_builds: [20220915]\n").expect("line.yaml");
    std::os::unix::fs::chown(&line, Some(0), Some(gid)).expect("chown");
    fs::set_permissions(&line, fs::Permissions::from_mode(0o2775)).expect("chmod");
    ok(
        boris,
        &fixture,
        &["publish", src.to_str().unwrap(), "--line", "kassa"],
    );
    ok(anna, &fixture, &["withdraw", "20250301", "--line", "kassa"]);
    let line_shelf = shelf.join("kassa");
    assert!(line_shelf.join("20250301").is_dir());
    assert_eq!(mode(&line_shelf) & 0o2070, 0o2070);
}

#[test]
fn whoever_may_not_write_is_told_which_folder_whose_it_is_and_what_to_do() {
    if !accounts_can_be_made() {
        return;
    }
    let accounts = Accounts::new(2);
    let (anna, boris) = (&accounts.operators[0], &accounts.operators[1]);
    let group = &accounts.group;
    let fixture = deployment(&accounts);
    let firmware = fixture.path("firmware");
    let src = fixture.incoming_release("20250301", "20250301");
    ok(anna, &fixture, &["publish", src.to_str().unwrap()]);

    // Someone outside the group: the folder, its owner and group, and how to join.
    let outsider = &accounts.outsider;
    let join = format!(
        "you ({outsider}) are not in group {group}: add yourself to group {group}: sudo \
         usermod -aG {group} $USER, then log in again"
    );
    let src2 = fixture.incoming_release("20250401", "20250401");
    let text = refused(outsider, &fixture, &["publish", src2.to_str().unwrap()]);
    assert!(
        text.contains(&format!(
            "permission denied: folder firmware belongs to user root and group {group} \
             (mode drwxrwsr-x 2775); {join}"
        )),
        "{text}"
    );
    assert_eq!(common::answer_lines(&text), 1, "one sentence: {text}");
    let text = refused(outsider, &fixture, &["withdraw", "20250301"]);
    assert!(
        text.contains(&format!(
            "cannot create firmware/.withdrawn: permission denied: folder firmware belongs \
             to user root and group {group} (mode drwxrwsr-x 2775); {join}"
        )),
        "{text}"
    );
    // With the shelf there (Anna made it), the move itself is refused, in the same words.
    let src3 = fixture.incoming_release("20250201", "20250201");
    ok(anna, &fixture, &["publish", src3.to_str().unwrap()]);
    ok(anna, &fixture, &["withdraw", "20250201"]);
    let text = refused(outsider, &fixture, &["withdraw", "20250301"]);
    assert!(
        text.contains(&format!(
            "cannot move firmware/20250301 to firmware/.withdrawn/20250301: permission \
             denied: folder firmware belongs to user root and group {group} (mode \
             drwxrwsr-x 2775); {join}"
        )),
        "{text}"
    );
    assert!(firmware.join("20250301/upd_app.bin").is_file(), "untouched");

    // A release folder kept from the group (as earlier versions made them): its owner is
    // named, and what to ask of them.
    let release = firmware.join("20250301");
    fs::set_permissions(&release, fs::Permissions::from_mode(0o2755)).expect("chmod");
    let text = refused(boris, &fixture, &["withdraw", "20250301"]);
    assert!(
        text.contains(&format!(
            "permission denied: folder firmware/20250301 belongs to user {anna} and group \
             {group} (mode drwxr-sr-x 2755); group {group} may not create or move entries \
             in it: ask {anna} (or an administrator, with sudo) to run chmod g+rwxs \
             firmware/20250301"
        )),
        "{text}"
    );
    let text = refused(
        boris,
        &fixture,
        &[
            "publish",
            src2.to_str().unwrap(),
            "--version",
            "20250301",
            "--replace",
        ],
    );
    assert!(
        text.contains(&format!(
            "permission denied: folder firmware/20250301 belongs to user {anna}"
        )),
        "{text}"
    );
    assert_eq!(
        served_bytes(&release),
        firmware_bytes("20250301", "upd_app.bin"),
        "the release stays as it was"
    );
    // Done as told, it works.
    let chmod = Command::new("setpriv")
        .args(["--reuid", anna, "--regid", anna, "--init-groups"])
        .args(["chmod", "g+rwxs"])
        .arg(&release)
        .status()
        .expect("chmod");
    assert!(chmod.success());
    ok(boris, &fixture, &["withdraw", "20250301"]);
}

#[test]
fn a_staging_leftover_of_another_operator_blocks_nobody() {
    if !accounts_can_be_made() {
        return;
    }
    let accounts = Accounts::new(2);
    let (anna, boris) = (&accounts.operators[0], &accounts.operators[1]);
    let fixture = deployment(&accounts);
    let firmware = fixture.path("firmware");
    // What a publish of Boris's left when it was killed: his, private, the same version.
    for name in [".staging-20250301-1-000000001", ".staging-20250301-2"] {
        let leftover = firmware.join(name);
        fs::create_dir(&leftover).expect("leftover");
        fs::write(leftover.join("upd_app.bin"), b"half").expect("half");
        let uid: u32 = String::from_utf8_lossy(
            &Command::new("id")
                .args(["-u", boris])
                .output()
                .expect("id")
                .stdout,
        )
        .trim()
        .parse()
        .expect("uid");
        for path in [leftover.join("upd_app.bin"), leftover.clone()] {
            std::os::unix::fs::chown(&path, Some(uid), None).expect("chown");
        }
        fs::set_permissions(&leftover, fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let src = fixture.incoming_release("20250301", "20250301");
    let text = ok(anna, &fixture, &["publish", src.to_str().unwrap()]);
    assert!(
        text.contains("devices built before 20250301 are now offered it"),
        "{text}"
    );
    let text = ok(anna, &fixture, &["check"]);
    assert!(text.contains("20250301"), "{text}");
    ok(anna, &fixture, &["withdraw", "20250301"]);
}
