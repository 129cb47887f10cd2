//! A few thousand malformed requests against the real binary: random bytes, broken and
//! hostile JSON, invalid UTF-8 and NUL, wrong methods, odd paths, bad Range and length
//! headers. No answer may be a 5xx, every JSON error must parse, and the server must still
//! answer a valid request afterwards. Inputs come from a fixed seed, so a failure repeats.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::{Fixture, Server};

/// xorshift64*: deterministic bytes without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Sends raw bytes; returns the status code, or `None` if the server closed without one.
fn send(addr: SocketAddr, request: &[u8]) -> (Option<u16>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let status = answer
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| answer.strip_prefix(b"HTTP/1.0 "))
        .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok());
    (status, answer)
}

fn post(path: &str, body: &[u8], extra: &str) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn hostile_requests(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut requests = Vec::new();
    let endpoints = ["/check_firmware", "/feature_licenses"];
    // Random bytes as a whole request, ended so the server parses rather than waits.
    for _ in 0..300 {
        let mut bytes = rng.bytes(200);
        bytes.extend_from_slice(b"\r\n\r\n");
        requests.push(bytes);
    }
    // Random and hostile bodies.
    let fixed: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"}".to_vec(),
        b"null".to_vec(),
        b"\"build_date\"".to_vec(),
        b"{\"build_date\": 1e999999}".to_vec(),
        b"{\"serial\": 123456789012345678901234567890}".to_vec(),
        b"{\"serial\": -0}".to_vec(),
        b"{\"serial\": 1.0}".to_vec(),
        b"{\"build_date\": \"\x00\x00\"}".to_vec(),
        b"{\"build_date\": \"\xff\xfe\"}".to_vec(),
        b"\xef\xbb\xbf\xef\xbb\xbf{}".to_vec(),
        b"{\"build_date\": \"29.02.1900\"}".to_vec(),
        b"{\"build_date\": \"31.12.99999\"}".to_vec(),
        b"{\"build_date\": \"\\ud800\"}".to_vec(),
        b"{\"a\":".repeat(3000),
        b"[".repeat(14000),
        b"{\"build_date\": [\"1.1.2018\"]}".to_vec(),
        b"{\"serial\": {\"$ne\": null}}".to_vec(),
        b"{\"build_date\": \"1.1.2018\"".to_vec(),
        vec![0u8; 1000],
    ];
    for body in &fixed {
        for path in endpoints {
            requests.push(post(path, body, ""));
            requests.push(post(
                path,
                body,
                "Content-Type: application/x-www-form-urlencoded\r\n",
            ));
        }
    }
    for _ in 0..1400 {
        let path = rng.pick(&endpoints);
        let mut body = rng.bytes(300);
        if rng.below(2) == 0 {
            let key = rng.pick(&["build_date", "serial", "x"]);
            let value = String::from_utf8_lossy(&rng.bytes(20)).into_owned();
            body = format!("{{\"{key}\": {}}}", serde_json::Value::String(value)).into_bytes();
        }
        requests.push(post(path, &body, ""));
    }
    // Wrong methods on every path.
    for method in [
        "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "CONNECT",
    ] {
        for path in [
            "/check_firmware",
            "/feature_licenses",
            "/version",
            "/firmware/20180125/upd_app.bin",
            "/",
        ] {
            requests.push(format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").into_bytes());
        }
    }
    // Odd paths, raw and percent-encoded.
    for _ in 0..400 {
        let raw = rng.bytes(40);
        let path: String = raw
            .iter()
            .map(|b| match b {
                b'a'..=b'z' | b'0'..=b'9' | b'.' | b'/' | b'%' | b'\\' => {
                    char::from(*b).to_string()
                }
                _ => format!("%{b:02x}"),
            })
            .collect();
        requests.push(
            format!("GET /firmware/{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        );
    }
    // Bad Range, If-Range and length headers.
    for _ in 0..400 {
        let value: String = rng
            .bytes(30)
            .iter()
            .map(|b| char::from(b'!' + b % 90))
            .collect();
        let header = rng.pick(&[
            "Range: bytes=",
            "Range: ",
            "If-Range: ",
            "If-None-Match: ",
            "If-Modified-Since: ",
        ]);
        requests.push(format!("GET /firmware/20180125/upd_app.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{header}{value}\r\n\r\n").into_bytes());
    }
    for length in ["-1", "99999999999999999999", "abc", "5, 6"] {
        requests.push(format!("POST /check_firmware HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {length}\r\n\r\n{{}}").into_bytes());
    }
    requests.push(b"POST /check_firmware HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec());
    requests.push(b"POST /check_firmware HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n".to_vec());
    requests
        .push(b"GET /version HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n".to_vec());
    requests.push(b"POST /check_firmware HTTP/1.1\r\nHost: \x00\x01\r\nConnection: close\r\nContent-Length: 26\r\n\r\n{\"build_date\": \"1.1.2018\"}".to_vec());
    requests
}

#[test]
fn thousands_of_malformed_requests_get_no_5xx_and_leave_the_server_serving() {
    let _heavy = crate::common::heavy();
    let fixture = Fixture::new();
    fixture.release("20180125", None);
    fixture.write(
        "l.slf",
        format!("{}\n", common::slf_line("0000000000012345", 'f', 'a')),
    );
    fixture.write_config("settle_ms: 0\nlicenses: [l.slf]\n");
    let server = Server::start(fixture.dir.path(), &["--request-timeout-ms", "500"], &[]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let requests = hostile_requests(&mut rng);
    assert!(requests.len() > 2500, "{}", requests.len());
    let (mut answered, mut closed) = (0, 0);
    for request in &requests {
        let (status, answer) = send(server.addr, request);
        match status {
            Some(status) => {
                answered += 1;
                assert!(
                    status < 500,
                    "{status} for {:?}",
                    String::from_utf8_lossy(&request[..request.len().min(200)])
                );
                let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
                if status >= 400 && text.contains("content-type: application/json") {
                    let body = &answer[answer
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map_or(0, |p| p + 4)..];
                    let json: serde_json::Value =
                        serde_json::from_slice(body).expect("a JSON error parses");
                    assert!(json["error"].is_string(), "{json}");
                }
            }
            None => closed += 1,
        }
    }
    println!(
        "{answered} answered, {closed} closed without an answer, of {}",
        requests.len()
    );
    assert!(
        answered > requests.len() * 9 / 10,
        "{answered} of {}",
        requests.len()
    );
    assert!(!server.log().contains("panicked"), "{}", server.log());
    assert_eq!(
        server.check_firmware("1.1.2018")["version"],
        20180125,
        "still serving"
    );
    assert_eq!(
        server
            .post("/feature_licenses", r#"{"serial": 12345}"#)
            .status,
        200
    );
}
