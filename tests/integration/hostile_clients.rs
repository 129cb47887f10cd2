//! Clients that try to misuse the device port without breaking a parser: a line name that
//! would forge a line in the server's log, and a client that asks for a large file and
//! never reads it (holding a connection slot for ever).

use crate::common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Fixture, DEADLINE};

#[test]
fn a_device_cannot_write_a_forged_line_into_the_log() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    let server = fixture.start();
    let forged = "INFO  kkt_update_server::server] current release 20991231";
    let path = format!(
        "/lines/x%0A%5B2026-01-01T00:00:00Z%20{}/check_firmware",
        forged.replace(' ', "%20").replace(']', "%5D")
    );
    let answer = server.post(&path, r#"{"build_date": "01.01.2018"}"#);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        server.wait_for_log("there is no line", DEADLINE),
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(
        log.lines().all(|line| !line.starts_with("[2026-01-01")),
        "a device wrote a line of its own into the log:\n{log}"
    );
    assert!(log.contains("x\\n[2026-01-01"), "{log}");
}

/// Whether the server still holds a connection from `client_port` to its `server_port`
/// (the server's side of it in /proc/net/tcp).
#[cfg(target_os = "linux")]
fn server_side_open(server_port: u16, client_port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table.lines().skip(1).any(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let port = |field: Option<&&str>| {
            field
                .and_then(|f| f.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok())
        };
        port(fields.get(1)) == Some(server_port) && port(fields.get(2)) == Some(client_port)
    })
}

#[cfg(target_os = "linux")]
#[test]
fn a_client_that_never_reads_a_large_file_loses_its_connection() {
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    // Larger than what the two sockets' buffers take, so the server is left waiting.
    fixture.write("firmware/docs/installer.bin", vec![7u8; 64 << 20]);
    let server = common::Server::start(fixture.dir.path(), &["--send-timeout-s", "2"], &[]);
    let mut client = TcpStream::connect(server.addr).expect("connect");
    write!(
        client,
        "GET /firmware/docs/installer.bin HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.addr
    )
    .expect("ask");
    let client_port = client.local_addr().expect("local").port();
    let server_port = server.addr.port();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let mut seen_open = false;
    while Instant::now() < deadline {
        let open = server_side_open(server_port, client_port);
        seen_open |= open;
        if seen_open && !open {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seen_open, "the connection was never seen open");
    assert!(
        !server_side_open(server_port, client_port),
        "the server still holds a connection nobody reads after {:?}",
        started.elapsed()
    );
    // Other devices are answered as before.
    assert_eq!(server.check_firmware("01.01.2018")["version"], 20180125);
    drop(client);
}
