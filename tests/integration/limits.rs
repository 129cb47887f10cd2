//! Limits and timeouts against the real binary: slow senders are cut off without delaying
//! anyone, keep-alive works, a slow but steady download completes, oversized heads are
//! refused, and the connection cap holds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Fixture, Server};

const DEADLINE: Duration = Duration::from_secs(20);

fn fixture() -> Fixture {
    let fixture = Fixture::new();
    let folder = fixture.release("20180125", None);
    let big: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(folder.join("upd_app.bin"), big).expect("write");
    fixture
}

/// Reads until the server closes; returns what it sent.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

#[test]
fn a_client_sending_a_byte_at_a_time_is_cut_off_without_delaying_others() {
    let fixture = fixture();
    let server = Server::start(fixture.dir.path(), &["--request-timeout-ms", "800"], &[]);
    let request = b"POST /check_firmware HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{\"build_date\": \"1.1.2018\"}";
    std::thread::scope(|scope| {
        let slow: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    let mut stream = TcpStream::connect(server.addr).expect("connect");
                    let started = Instant::now();
                    for byte in request.iter().take(20) {
                        if stream.write_all(&[*byte]).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(250));
                        if started.elapsed() > Duration::from_secs(4) {
                            break;
                        }
                    }
                    let answer = read_until_closed(&mut stream);
                    (
                        started.elapsed(),
                        String::from_utf8_lossy(&answer).into_owned(),
                    )
                })
            })
            .collect();
        // Meanwhile, a normal device is answered at once, repeatedly.
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..10 {
            let started = Instant::now();
            assert_eq!(server.check_firmware("1.1.2018")["version"], 20180125);
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "a slow client delayed a normal one"
            );
        }
        for handle in slow {
            let (took, answer) = handle.join().expect("slow client");
            assert!(
                took < Duration::from_millis(3500),
                "the slow client was held for {took:?}"
            );
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                "{answer}"
            );
        }
    });
}

#[test]
fn a_body_sent_too_slowly_gets_408() {
    let fixture = fixture();
    let server = Server::start(fixture.dir.path(), &["--request-timeout-ms", "600"], &[]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .write_all(b"POST /check_firmware HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{")
        .expect("head");
    let started = Instant::now();
    for byte in b"\"build_date\": \"1.1.2018\"}" {
        std::thread::sleep(Duration::from_millis(200));
        if stream.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&read_until_closed(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("took too long"), "{answer}");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let fixture = fixture();
    let server = fixture.start();
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let body = r#"{"build_date": "1.1.2018"}"#;
    let mut answers = 0;
    for _ in 0..3 {
        write!(
            stream,
            "POST /check_firmware HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("head");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).expect("body");
        answers += 1;
    }
    assert_eq!(answers, 3);
}

#[test]
fn a_slow_but_steady_download_completes() {
    let fixture = fixture();
    let server = Server::start(fixture.dir.path(), &["--request-timeout-ms", "300"], &[]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .write_all(
            b"GET /firmware/20180125/upd_app.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .expect("send");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let started = Instant::now();
    let mut all = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("download cut off after {} bytes: {e}", all.len()),
        }
        // A poor line: about 256 KB per 40 ms.
        std::thread::sleep(Duration::from_millis(40));
    }
    assert!(
        started.elapsed() > Duration::from_millis(300),
        "the download outlasted the request timeout"
    );
    let start = all.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    assert_eq!(all.len() - start, 8 * 1024 * 1024, "the whole file arrived");
}

#[test]
fn oversized_targets_and_headers_are_refused() {
    let fixture = fixture();
    let server = fixture.start();
    let long = format!("/version?{}", "a".repeat(3000));
    let response = server.get(&long, &[]);
    assert_eq!(response.status, 414);
    assert!(response.error().contains("request target"));
    let big = "b".repeat(9000);
    let response = server.get("/version", &[("X-Big", &big)]);
    assert_eq!(response.status, 431);
    assert!(response.error().contains("headers"));
    let many: Vec<(String, String)> = (0..120)
        .map(|i| (format!("X-H{i}"), "v".to_string()))
        .collect();
    let headers: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let response = server.get("/version", &headers);
    assert!((400..500).contains(&response.status), "{}", response.status);
    assert_eq!(server.get("/version", &[]).status, 200, "still serving");
}

#[test]
fn the_connection_cap_holds_new_connections_until_one_closes() {
    let fixture = fixture();
    let server = Server::start(
        fixture.dir.path(),
        &["--max-connections", "2", "--keep-alive-s", "30"],
        &[],
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Each worker accepts max(2 / workers, 1) connections; hold that many idle ones.
    let held: Vec<TcpStream> = (0..workers.max(2))
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).expect("connect");
            stream
                .write_all(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("send");
            let mut buffer = [0u8; 512];
            stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
            let n = stream.read(&mut buffer).expect("answer");
            assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
            stream
        })
        .collect();
    let mut waiting =
        TcpStream::connect(server.addr).expect("the backlog still accepts the TCP connection");
    waiting
        .write_all(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    waiting
        .set_read_timeout(Some(Duration::from_millis(800)))
        .expect("timeout");
    let mut buffer = [0u8; 512];
    assert!(waiting.read(&mut buffer).is_err(), "served beyond the cap");
    drop(held);
    waiting.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let n = waiting
        .read(&mut buffer)
        .expect("answered once a slot is free");
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
}
