//! Restarts refuse no device. The test plays systemd: it binds the device socket itself,
//! starts the server with it as file descriptor 3 (`LISTEN_FDS=1`, `LISTEN_PID` = the
//! server's pid, `LISTEN_FDNAMES=device`), and restarts the server ten times (SIGTERM, wait
//! for the exit, start again) while four registers poll `check_firmware` every 10 ms on
//! fresh connections and one downloads the firmware in a loop. Not one connection may fail,
//! not one answer may be other than a complete 200.
//!
//! The same loop without socket activation (each process binds the port itself) shows the
//! window in which devices are refused; its count is printed for README, not asserted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{firmware_bytes, Fixture, Server, BIN};

const RESTARTS: usize = 10;

/// What the registers saw over all restarts.
#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    refused: AtomicUsize,
    failed: AtomicUsize,
    downloads: AtomicUsize,
}

impl Tally {
    /// Answered, refused, failed.
    fn counts(&self) -> (usize, usize, usize) {
        (
            self.ok.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
        )
    }
}

/// One request on a fresh connection: `Ok(status, body)`, or the connection error.
fn request(addr: SocketAddr, request: &[u8]) -> Result<(u16, Vec<u8>), std::io::Error> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(request)?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete answer"))?;
    let status = String::from_utf8_lossy(&bytes[..end])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, bytes[end + 4..].to_vec()))
}

/// Sets `stop` when dropped, so the registers stop even when an assertion fails.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Polls and downloads until `stop`, counting into `tally`.
fn registers(addr: SocketAddr, stop: &AtomicBool, tally: &Tally) {
    let body = r#"{"build_date": "1.1.2018"}"#;
    let check = format!(
        "POST /check_firmware HTTP/1.1\r\nHost: fw\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let download =
        b"GET /firmware/20180125/upd_app.bin HTTP/1.1\r\nHost: fw\r\nConnection: close\r\n\r\n";
    let file = firmware_bytes("20180125", "upd_app.bin");
    let count = |result: Result<(u16, Vec<u8>), std::io::Error>, good: &dyn Fn(&[u8]) -> bool| {
        match result {
            Ok((200, body)) if good(&body) => tally.ok.fetch_add(1, Ordering::SeqCst),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                tally.refused.fetch_add(1, Ordering::SeqCst)
            }
            other => {
                let what = match other {
                    Ok((status, body)) => format!("status {status}, {} bytes", body.len()),
                    Err(e) => format!("{:?}: {e}", e.kind()),
                };
                if tally.failed.load(Ordering::SeqCst) < 5 {
                    eprintln!("failed: {what}");
                }
                tally.failed.fetch_add(1, Ordering::SeqCst)
            }
        };
    };
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    count(request(addr, check.as_bytes()), &|b| {
                        b.starts_with(b"{\"update_available\": true")
                    });
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
        }
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                count(request(addr, download), &|b| b == file.as_slice());
                tally.downloads.fetch_add(1, Ordering::SeqCst);
            }
        });
    });
}

/// Starts the server with `socket` as systemd would pass it.
fn start_activated(fixture: &Fixture, socket: &TcpListener) -> Server {
    let fd = socket.as_raw_fd();
    let mut command = Command::new("sh");
    command
        .current_dir(fixture.dir.path())
        // `$$` is the shell's pid, which `exec` hands on to the server.
        .args([
            "-c",
            "LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=device exec \"$0\" \"$@\"",
            BIN,
            "--config",
            "server.yaml",
            "--admin-listen",
            "off",
        ])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (dup2, fcntl) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Server::spawn(command)
}

#[test]
fn ten_restarts_with_systemds_socket_lose_no_request() {
    let _heavy = crate::common::heavy();
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let socket = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    let mut server = start_activated(&fixture, &socket);
    assert_eq!(
        server.addr, addr,
        "the server serves the socket it was given"
    );
    assert!(server
        .log()
        .contains("using the device socket systemd passed"));
    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    std::thread::scope(|scope| {
        scope.spawn(|| registers(addr, &stop, &tally));
        let _stop = StopOnDrop(&stop);
        for restart in 0..RESTARTS {
            std::thread::sleep(Duration::from_millis(150));
            assert!(
                server.terminate(Duration::from_secs(20)),
                "restart {restart}: the server did not stop"
            );
            server = start_activated(&fixture, &socket);
        }
        std::thread::sleep(Duration::from_millis(150));
        stop.store(true, Ordering::SeqCst);
    });
    let (ok, refused, failed) = tally.counts();
    println!(
        "socket activation, {RESTARTS} restarts: {ok} answered, {refused} refused, {failed} failed"
    );
    assert!(ok > 200, "only {ok} requests answered");
    assert!(tally.downloads.load(Ordering::SeqCst) > 10);
    assert_eq!(
        (refused, failed),
        (0, 0),
        "a device lost a request to a restart"
    );
}

/// Starts the server binding `listen` itself, as a plain restart does.
fn start_on(fixture: &Fixture, listen: &str) -> Server {
    let mut command = crate::common::server_command();
    command
        .current_dir(fixture.dir.path())
        .args([
            "--config",
            "server.yaml",
            "--admin-listen",
            "off",
            "--listen",
            listen,
        ])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Server::spawn(command)
}

#[test]
fn without_socket_activation_restarts_refuse_devices() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let mut server = fixture.start();
    let addr = server.addr;
    let listen = addr.to_string();
    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    std::thread::scope(|scope| {
        scope.spawn(|| registers(addr, &stop, &tally));
        let _stop = StopOnDrop(&stop);
        for _ in 0..RESTARTS {
            std::thread::sleep(Duration::from_millis(150));
            assert!(server.terminate(Duration::from_secs(20)));
            server = start_on(&fixture, &listen);
        }
        std::thread::sleep(Duration::from_millis(150));
        stop.store(true, Ordering::SeqCst);
    });
    let (ok, refused, failed) = tally.counts();
    // For README: the window a plain restart leaves open. Not a pass condition.
    println!(
        "plain restarts, {RESTARTS} restarts: {ok} answered, {refused} refused, {failed} failed"
    );
    // Connections still in the queue of a listener that closes are reset by the kernel.
    assert!(ok > 100, "the harness itself works ({ok} answered)");
}
