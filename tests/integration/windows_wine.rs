//! The Windows build, cross-compiled with mingw-w64 and run under Debian's Wine against a
//! temp firmware tree: `check_firmware` answers byte for byte like the Linux build, a
//! download matches the file, a release copied in is offered (notify's Windows backend), a
//! license edit is picked up, `publish` works, Ctrl-C drains and stops, and it runs as a
//! service under Wine's service manager (install, start, stop with a drain, uninstall).
//!
//! Wine 8 lacks `bcryptprimitives.dll`, which Rust's std imports; the test builds a
//! stand-in (`packaging/wine/bcryptprimitives.c`) next to the `.exe`. Everything runs in
//! one Wine prefix in a temp dir (its first start takes 10-20 s), stopped at the end.
//! Needs `wine64`, the `x86_64-pc-windows-gnu` target and `gcc-mingw-w64-x86-64`
//! (`.ci/run` installs them); a failure under `CI=true` when missing.

#![cfg(target_os = "linux")]

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{eventually, firmware_bytes, slf_line, Fixture, Server, BIN};

fn wine() -> Option<PathBuf> {
    ["/usr/lib/wine/wine64", "/usr/bin/wine64", "/usr/bin/wine"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Builds the Windows binary (cargo is quick when it is up to date); its path.
fn windows_exe() -> Option<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--target",
            "x86_64-pc-windows-gnu",
            "--bin",
            "kkt-update-server",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Some(target.join("x86_64-pc-windows-gnu/debug/kkt-update-server.exe"))
}

/// The stand-in DLL, built into `dir`.
fn shim(dir: &Path) -> bool {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/wine/bcryptprimitives.c");
    Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(source)
        .arg("-ladvapi32")
        .status()
        .is_ok_and(|s| s.success())
}

/// Wine's environment: its own prefix, quiet, no Mono or Gecko installers.
/// Wine and the Windows build, or `None` after `common::require` said which is missing
/// (a failure under CI).
fn wine_and_windows_exe() -> Option<(PathBuf, PathBuf)> {
    let wine = wine();
    if !common::require(wine.is_some(), "wine64", "apt-get install wine64") {
        return None;
    }
    let exe = windows_exe();
    if !common::require(
        exe.is_some(),
        "the Windows build (target x86_64-pc-windows-gnu with mingw-w64)",
        "rustup target add x86_64-pc-windows-gnu; apt-get install gcc-mingw-w64-x86-64",
    ) {
        return None;
    }
    wine.zip(exe)
}

fn wine_command(wine: &Path, prefix: &Path) -> Command {
    let mut command = Command::new(wine);
    // Wine takes the Windows UI language from the locale: English, whatever this machine's.
    common::in_english(&mut command)
        .env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("RUST_LOG")
        .env("RUST_LOG", "info");
    command
}

/// The same deployment twice: one for the Linux build, one for the Windows build.
fn deployment() -> Fixture {
    let fixture = Fixture::new();
    fixture.write_config(
        // Short quiet times: the share-mode probe vouches for closed files (a test of its
        // own below); a file it could not vouch for would wait unconfirmed_settle_ms.
        "settle_ms: 200\nunconfirmed_settle_ms: 400\nlicenses: [licenses.slf]\n\
         critical_version: 20180120\ninventory: \"off\"\n",
    );
    fixture.write(
        "licenses.slf",
        format!("{}\r\n", slf_line("0000000000012345", 'a', 'b')),
    );
    fixture.release("20180125", Some("description: \"Плановое обновление\"\n"));
    fixture
}

fn check(server: &Server) -> (u16, Option<String>, Vec<u8>) {
    let body = r#"{"build_date": "28.12.2017"}"#;
    let response = server.raw(
        format!(
            "POST /check_firmware HTTP/1.1\r\nHost: kkt.local:8888\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    (
        response.status,
        response.header("content-type").map(str::to_string),
        response.body,
    )
}

/// Ends every Wine process of the prefix when the test ends, however it ends.
struct KillWine {
    prefix: PathBuf,
    wine: PathBuf,
}

impl Drop for KillWine {
    fn drop(&mut self) {
        let _ = Command::new(self.wine.with_file_name("wineserver"))
            .env("WINEPREFIX", &self.prefix)
            .arg("-k")
            .status();
    }
}

#[test]
fn the_windows_build_serves_like_the_linux_build_under_wine() {
    let Some((wine, exe)) = wine_and_windows_exe() else {
        return;
    };
    let windows = deployment();
    let bin = windows.path("bin");
    fs::create_dir(&bin).expect("bin");
    fs::copy(&exe, bin.join("kkt-update-server.exe")).expect("copy the exe");
    if !common::require(
        shim(&bin),
        "x86_64-w64-mingw32-gcc",
        "apt-get install gcc-mingw-w64-x86-64",
    ) {
        return;
    }
    let prefix = windows.path("wineprefix");
    fs::create_dir(&prefix).expect("prefix");
    let _kill_wine = KillWine {
        prefix: prefix.clone(),
        wine: wine.clone(),
    };
    // The prefix's first start, given its own time.
    let boot = wine_command(&wine, &prefix)
        .args(["wineboot", "--init"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("wineboot");
    assert!(boot.success(), "wineboot failed");
    let mut command = wine_command(&wine, &prefix);
    command
        .current_dir(windows.dir.path())
        .arg(bin.join("kkt-update-server.exe"))
        .args([
            "--config",
            "server.yaml",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let running = Server::spawn(command);
    eprintln!("the Windows build answered after {:?}", started.elapsed());
    let server = &running;

    // Byte for byte like the Linux build on the same files.
    let linux_fixture = deployment();
    let linux = Server::start(linux_fixture.dir.path(), &[], &[]);
    for running in [server, &linux] {
        eventually("20180125 offered", Duration::from_secs(30), || {
            (running.check_firmware("1.1.2018")["version"] == 20180125).then_some(())
        });
    }
    let (ours, theirs) = (check(server), check(&linux));
    assert_eq!(ours.0, 200, "{}", String::from_utf8_lossy(&ours.2));
    assert!(
        String::from_utf8_lossy(&ours.2).contains("\"version\": 20180125"),
        "{}",
        String::from_utf8_lossy(&ours.2)
    );
    assert_eq!(ours, theirs, "the Windows build answers differently");
    drop(linux);

    // A download matches the file.
    let response = server.get("/firmware/20180125/upd_app.bin", &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, firmware_bytes("20180125", "upd_app.bin"));

    // A release copied in from Linux is seen through notify's Windows backend.
    windows.release("20180201", None);
    eventually(
        "20180201 offered by the Windows build",
        Duration::from_secs(30),
        || (server.check_firmware("1.1.2018")["version"] == 20180201).then_some(()),
    );

    // A license edit is picked up.
    assert_eq!(
        server
            .post("/feature_licenses", r#"{"serial": "777"}"#)
            .status,
        404
    );
    fs::write(
        windows.path("licenses.slf"),
        format!(
            "{}\r\n{}\r\n",
            slf_line("0000000000012345", 'a', 'b'),
            slf_line("0000000000000777", 'c', 'd')
        ),
    )
    .expect("licenses");
    eventually("the new license served", Duration::from_secs(30), || {
        (server
            .post("/feature_licenses", r#"{"serial": "777"}"#)
            .status
            == 200)
            .then_some(())
    });

    // `publish` of the Windows build into the running server.
    let source = windows.path("incoming/20180301");
    fs::create_dir_all(&source).expect("incoming");
    for name in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
        fs::write(source.join(name), firmware_bytes("20180301", name)).expect("source");
    }
    let admin = common::admin_addr(server).to_string();
    let output = wine_command(&wine, &prefix)
        .current_dir(windows.dir.path())
        .arg(bin.join("kkt-update-server.exe"))
        .args(["publish", "incoming/20180301", "--config", "server.yaml"])
        .args([
            "--listen",
            &server.addr.to_string(),
            "--admin-listen",
            &admin,
        ])
        .output()
        .expect("publish under Wine");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(said.contains("the running server serves it"), "{said}");
    assert_eq!(server.check_firmware("1.1.2018")["version"], 20180301);
    assert!(windows.path("firmware/20180301/meta.yaml").is_file());

    // Ctrl-C (Wine turns SIGINT into CTRL_C_EVENT): the server drains and stops.
    common::signal(server.pid(), "INT");
    assert!(
        running.wait_for_log("Ctrl-C received", Duration::from_secs(20)),
        "{}",
        running.log()
    );
    assert!(
        running.wait_for_log("stopped", Duration::from_secs(20)),
        "{}",
        running.log()
    );
    drop(running);

    // As a Windows service under Wine's service manager: installed, it starts at the next
    // "boot" (a fresh, persistent wineserver and wineboot, as Windows starts automatic
    // services), answers, and stops with a drain on the service manager's Stop; then it is
    // removed. Its log goes to kkt-update-server.log next to server.yaml. With a persistent
    // wineserver, Wine's own processes inherit whatever a command had open: output goes to
    // a file, never to a pipe nobody would close.
    let config = fs::read_to_string(windows.path("server.yaml")).expect("config");
    fs::write(
        windows.path("server.yaml"),
        format!("{config}listen: 127.0.0.1:0\n"),
    )
    .expect("config");
    let said_file = windows.path("said.txt");
    let run = |program: &[&std::ffi::OsStr]| -> (bool, String) {
        let out = fs::File::create(&said_file).expect("said.txt");
        let status = wine_command(&wine, &prefix)
            .current_dir(windows.dir.path())
            .args(program)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone"))
            .stderr(out)
            .status()
            .expect("run under Wine");
        (
            status.success(),
            fs::read_to_string(&said_file).unwrap_or_default(),
        )
    };
    let exe = bin.join("kkt-update-server.exe");
    let os = std::ffi::OsStr::new;
    let (ok, said) = run(&[
        exe.as_os_str(),
        os("service"),
        os("install"),
        os("--config"),
        os("server.yaml"),
    ]);
    assert!(ok, "{said}");
    assert!(
        said.contains("installed the service kkt-update-server"),
        "{said}"
    );
    let sc = |args: &[&str]| {
        let mut program = vec![os("sc")];
        program.extend(args.iter().map(|a| os(a)));
        run(&program).1
    };
    let wineserver = |arg: &str| {
        Command::new(wine.with_file_name("wineserver"))
            .env("WINEPREFIX", &prefix)
            .arg(arg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("wineserver")
    };
    wineserver("-k");
    std::thread::sleep(Duration::from_millis(500));
    assert!(wineserver("-p").success(), "wineserver -p");
    assert!(run(&[os("wineboot")]).0, "wineboot");
    let log = windows.path("kkt-update-server.log");
    let addr: std::net::SocketAddr =
        eventually("the service listening", Duration::from_secs(60), || {
            let text = fs::read_to_string(&log).ok()?;
            text.lines()
                .rev()
                .find_map(|l| l.split("] listening on ").nth(1))
                .and_then(|a| a.trim().parse().ok())
        });
    let answer = common::raw_request(
        addr,
        b"POST /check_firmware HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{\"build_date\": \"1.1.2018\"}",
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(sc(&["query", "kkt-update-server"]).contains("RUNNING"));
    sc(&["stop", "kkt-update-server"]);
    eventually(
        "the service drained and stopped",
        Duration::from_secs(60),
        || {
            let text = fs::read_to_string(&log).ok()?;
            (text.contains("the service manager's stop received") && text.contains("] stopped"))
                .then_some(())
        },
    );
    eventually(
        "the service manager says STOPPED",
        Duration::from_secs(30),
        || {
            sc(&["query", "kkt-update-server"])
                .contains("STOPPED")
                .then_some(())
        },
    );
    let (ok, said) = run(&[
        exe.as_os_str(),
        os("service"),
        os("uninstall"),
        os("--config"),
        os("server.yaml"),
    ]);
    assert!(ok && said.contains("removed the service"), "{said}");
    let _ = BIN;
}

/// A writer as Explorer is one: it holds the file open for writing (letting others read)
/// while it writes it slowly, says when every byte is written, and closes only when told.
/// `slow_writer SOURCE TARGET CHUNKS PAUSE_MS WRITTEN_MARKER CLOSE_WHEN`
const SLOW_WRITER_C: &str = r#"
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static char data[1 << 20];

int main(int argc, char **argv) {
    if (argc != 7) return 2;
    FILE *in = fopen(argv[1], "rb");
    if (!in) return 3;
    size_t n = fread(data, 1, sizeof data, in);
    fclose(in);
    int chunks = atoi(argv[3]), pause = atoi(argv[4]);
    if (chunks < 1) return 2;
    HANDLE out = CreateFileA(argv[2], GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS,
                             FILE_ATTRIBUTE_NORMAL, NULL);
    if (out == INVALID_HANDLE_VALUE) return 4;
    size_t step = (n + chunks - 1) / chunks;
    for (size_t at = 0; at < n; at += step) {
        DWORD wrote;
        DWORD len = (DWORD)(n - at < step ? n - at : step);
        if (!WriteFile(out, data + at, len, &wrote, NULL) || wrote != len) return 5;
        Sleep(pause);
    }
    FILE *marker = fopen(argv[5], "wb");
    if (!marker) return 6;
    fclose(marker);
    /* At most a minute, whatever the test does. */
    for (int i = 0; i < 3000 && GetFileAttributesA(argv[6]) == INVALID_FILE_ATTRIBUTES; i++)
        Sleep(20);
    CloseHandle(out);
    return 0;
}
"#;

/// A release copied in on Windows (a Windows program holding the file open for writing, as
/// Explorer does) is held back while the file is open, however quiet it is, and offered
/// within seconds of the close: the share-mode probe (`platform/open_writers.rs`) answers
/// where the server used to wait `unconfirmed_settle_ms` (60 s) for any file nobody saw
/// closed.
#[test]
fn a_release_written_under_wine_is_offered_once_its_writer_closes_it() {
    let Some((wine, exe)) = wine_and_windows_exe() else {
        return;
    };
    let windows = Fixture::new();
    windows.write_config("settle_ms: 200\nunconfirmed_settle_ms: 60000\ninventory: \"off\"\n");
    // Pinned, so it is offered at once whatever the server can tell of its writers.
    windows.release(
        "20180125",
        Some(&format!(
            "sha256:\n  upd_app.bin: {}\n  upd_app_for_old_frs.bin: {}\n",
            common::sha256(&firmware_bytes("20180125", "upd_app.bin")),
            common::sha256(&firmware_bytes("20180125", "upd_app_for_old_frs.bin"))
        )),
    );
    let bin = windows.path("bin");
    fs::create_dir(&bin).expect("bin");
    fs::copy(&exe, bin.join("kkt-update-server.exe")).expect("copy the exe");
    fs::write(bin.join("slow_writer.c"), SLOW_WRITER_C).expect("slow_writer.c");
    let built = Command::new("x86_64-w64-mingw32-gcc")
        .args(["-O2", "-o"])
        .arg(bin.join("slow_writer.exe"))
        .arg(bin.join("slow_writer.c"))
        .status()
        .is_ok_and(|s| s.success());
    if !common::require(
        shim(&bin) && built,
        "x86_64-w64-mingw32-gcc",
        "apt-get install gcc-mingw-w64-x86-64",
    ) {
        return;
    }
    let prefix = windows.path("wineprefix");
    fs::create_dir(&prefix).expect("prefix");
    let _kill_wine = KillWine {
        prefix: prefix.clone(),
        wine: wine.clone(),
    };
    let boot = wine_command(&wine, &prefix)
        .args(["wineboot", "--init"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("wineboot");
    assert!(boot.success(), "wineboot failed");
    let mut command = wine_command(&wine, &prefix);
    command
        .current_dir(windows.dir.path())
        .arg(bin.join("kkt-update-server.exe"))
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let server = Server::spawn(command);
    eventually("20180125 offered", Duration::from_secs(30), || {
        (server.check_firmware("1.1.2018")["version"] == 20180125).then_some(())
    });

    // The new release: one file copied in whole, the other written by a Windows program.
    let folder = windows.path("firmware/20180301");
    fs::create_dir(&folder).expect("release folder");
    fs::write(
        folder.join("upd_app_for_old_frs.bin"),
        firmware_bytes("20180301", "upd_app_for_old_frs.bin"),
    )
    .expect("bin");
    let bytes = firmware_bytes("20180301", "upd_app.bin");
    fs::write(windows.path("upd_app.source"), &bytes).expect("source");
    let mut writer = wine_command(&wine, &prefix)
        .current_dir(windows.dir.path())
        .arg(bin.join("slow_writer.exe"))
        .args([
            "upd_app.source",
            "firmware/20180301/upd_app.bin",
            "4",
            "250",
            "written.marker",
            "close.marker",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("slow_writer under Wine");
    eventually("every byte written", Duration::from_secs(30), || {
        windows.path("written.marker").exists().then_some(())
    });
    assert_eq!(
        fs::read(folder.join("upd_app.bin")).expect("written"),
        bytes,
        "the file is complete; only its writer still holds it"
    );
    let reason = |server: &Server| -> String {
        common::admin_json(server, "/status")["releases"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["version"] == 20180301))
            .map(|r| r["reason"].to_string())
            .unwrap_or_default()
    };
    eventually(
        "the server sees the writer",
        Duration::from_secs(10),
        || {
            reason(&server)
                .contains("upd_app.bin is being written")
                .then_some(())
        },
    );
    // Complete and quiet for many times settle_ms: still held back while open.
    let held_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < held_until {
        assert_eq!(
            server.check_firmware("1.1.2018")["version"],
            20180125,
            "offered while its writer holds it: {}",
            reason(&server)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    fs::write(windows.path("close.marker"), "").expect("close.marker");
    let closed = Instant::now();
    let status = writer.wait().expect("slow_writer");
    assert!(status.success(), "slow_writer: {status}");
    // settle_ms after the close plus a rescan, not unconfirmed_settle_ms (60 s).
    eventually(
        "20180301 offered after the close",
        Duration::from_secs(10),
        || (server.check_firmware("1.1.2018")["version"] == 20180301).then_some(()),
    );
    eprintln!("offered {:?} after the writer closed", closed.elapsed());
    let response = server.get("/firmware/20180301/upd_app.bin", &[]);
    assert_eq!(response.status, 200);
    assert_eq!(response.body, bytes);
}

/// Runs the Windows build under Wine with no console to read (standard error and output
/// thrown away, `WINEDEBUG=-all`), as a service or a double-click runs it, until it exits
/// (at most a minute); its exit code.
fn run_without_console(mut command: Command) -> Option<i32> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wine");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the Windows build did not exit within a minute");
}

/// A start that fails says why in `kkt-update-server.log` next to `server.yaml` even with
/// no console: a broken `server.yaml` (named by `--config`, or found next to a
/// double-clicked `.exe`) and a port already taken.
#[test]
fn a_failed_start_under_wine_says_why_in_the_log_file() {
    let Some((wine, exe)) = wine_and_windows_exe() else {
        return;
    };
    let windows = Fixture::new();
    windows.release("20180125", None);
    windows.write_config("critcal_version: 20170101\ninventory: \"off\"\n");
    let bin = windows.path("bin");
    fs::create_dir(&bin).expect("bin");
    fs::copy(&exe, bin.join("kkt-update-server.exe")).expect("copy the exe");
    if !common::require(
        shim(&bin),
        "x86_64-w64-mingw32-gcc",
        "apt-get install gcc-mingw-w64-x86-64",
    ) {
        return;
    }
    let prefix = windows.path("wineprefix");
    fs::create_dir(&prefix).expect("prefix");
    let _kill_wine = KillWine {
        prefix: prefix.clone(),
        wine: wine.clone(),
    };
    let boot = wine_command(&wine, &prefix)
        .args(["wineboot", "--init"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("wineboot");
    assert!(boot.success(), "wineboot failed");
    let log_of = |path: &Path| fs::read_to_string(path).unwrap_or_default();

    // A broken server.yaml named by --config: the log next to it says why.
    let mut command = wine_command(&wine, &prefix);
    command
        .current_dir(windows.dir.path())
        .arg(bin.join("kkt-update-server.exe"))
        .args(["--config", "server.yaml"]);
    assert_eq!(run_without_console(command), Some(2));
    let log = log_of(&windows.path("kkt-update-server.log"));
    assert!(
        log.contains("ERROR")
            && log.contains("did not start")
            && log.contains("unknown field `critcal_version`: did you mean critical_version?"),
        "{log}"
    );

    // A double-click: no arguments, server.yaml next to the .exe.
    fs::copy(windows.path("server.yaml"), bin.join("server.yaml")).expect("copy server.yaml");
    let mut command = wine_command(&wine, &prefix);
    command
        .current_dir(&bin)
        .arg(bin.join("kkt-update-server.exe"));
    assert_eq!(run_without_console(command), Some(2));
    let log = log_of(&bin.join("kkt-update-server.log"));
    assert!(
        log.contains("did not start") && log.contains("critcal_version"),
        "{log}"
    );

    // A port already taken.
    windows.write_config("inventory: \"off\"\n");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let mut command = wine_command(&wine, &prefix);
    command
        .current_dir(windows.dir.path())
        .arg(bin.join("kkt-update-server.exe"))
        .args(["--config", "server.yaml", "--listen"])
        .arg(format!("127.0.0.1:{port}"));
    let code = run_without_console(command);
    assert_ne!(code, Some(0));
    let log = log_of(&windows.path("kkt-update-server.log"));
    let said = log
        .lines()
        .find(|l| l.contains("kkt-update-server stopped"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(said.contains(&port), "{said}");
    drop(taken);
}
