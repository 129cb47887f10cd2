//! The HTTP/1.1 a register speaks, and no more: one request made once into bytes at start,
//! and an answer read whole (headers, then exactly `Content-Length` body bytes) into one
//! buffer each worker keeps, so a request costs no allocation. Chunked answers are refused:
//! neither the server nor nginx sends them for what the bench asks.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest answer head read; the body is counted, not kept, whatever its size.
pub const HEAD_LIMIT: usize = 16 * 1024;

/// What goes into the request line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestParts {
    pub method: String,
    pub path: String,
    pub host: String,
    pub body: String,
    /// Extra `Name: value` lines, already checked.
    pub headers: Vec<String>,
    /// `Connection: close`: one request per connection, as a register's poll.
    pub close: bool,
}

/// The request's bytes. A body gets `Content-Type: application/json` unless a header names
/// another type; `Content-Length` is sent for a body, and for a POST even when empty.
pub fn request_bytes(parts: &RequestParts) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        parts.method, parts.path, parts.host
    );
    let typed = parts
        .headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
    if !parts.body.is_empty() && !typed {
        head.push_str("Content-Type: application/json\r\n");
    }
    if !parts.body.is_empty() || parts.method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", parts.body.len()));
    }
    for header in &parts.headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    if parts.close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head.push_str(&parts.body);
    head.into_bytes()
}

/// An answer read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The server will close the connection after it (`Connection: close`, or HTTP/1.0
    /// without keep-alive).
    pub closes: bool,
}

/// The head's parts that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    status: u16,
    length: u64,
    closes: bool,
}

/// Reads one answer from `stream` into `buf` (at least `HEAD_LIMIT` long).
pub async fn read_answer<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
) -> Result<Answer, String> {
    let mut filled = 0;
    let head_room = HEAD_LIMIT.min(buf.len());
    let head_end = loop {
        if let Some(end) = find_head_end(&buf[..filled]) {
            break end;
        }
        if filled >= head_room {
            return Err(format!(
                "the answer's head is longer than {HEAD_LIMIT} bytes"
            ));
        }
        let n = read_some(stream, &mut buf[filled..head_room]).await?;
        if n == 0 {
            return Err(if filled == 0 {
                "the server closed the connection without an answer".into()
            } else {
                "the server closed the connection in the middle of the answer's head".into()
            });
        }
        filled += n;
    };
    let head = parse_head(&buf[..head_end])?;
    let already = (filled - head_end) as u64;
    if already > head.length {
        return Err(format!(
            "the server sent {already} body bytes, more than its Content-Length {}",
            head.length
        ));
    }
    let mut left = head.length - already;
    while left > 0 {
        let room = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = read_some(stream, &mut buf[..room]).await?;
        if n == 0 {
            return Err(format!(
                "the server closed the connection {left} bytes before the end of the body"
            ));
        }
        left -= n as u64;
    }
    Ok(Answer {
        status: head.status,
        closes: head.closes,
    })
}

async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Result<usize, String> {
    stream
        .read(buf)
        .await
        .map_err(|e| format!("reading the answer: {e}"))
}

/// Where the body starts: just after the first blank line.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text =
        std::str::from_utf8(head).map_err(|_| "the answer's head is not text".to_string())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let version = words.next().unwrap_or_default();
    let status = words
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..=599).contains(s) && version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("not an HTTP/1.x status line: {:?}", shorten(status_line)))?;
    let mut length = None;
    let mut closes = version == "HTTP/1.0";
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "a header line without a colon: {:?}",
                shorten(line)
            ));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| format!("Content-Length {:?} is not a number", shorten(value)))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!(
                "a {:?} body; fleet-load reads only answers with a Content-Length",
                shorten(value)
            ));
        } else if name.eq_ignore_ascii_case("connection") {
            closes = value.eq_ignore_ascii_case("close");
        }
    }
    let length = match (length, status) {
        (Some(n), _) => n,
        (None, 204 | 304) => 0,
        (None, _) => return Err(format!("a {status} answer without a Content-Length")),
    };
    Ok(Head {
        status,
        length,
        closes,
    })
}

/// At most 80 characters of what the server sent, for a message.
fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> RequestParts {
        RequestParts {
            method: "POST".into(),
            path: "/check_firmware".into(),
            host: "127.0.0.1:8080".into(),
            body: r#"{"build_date": "28.12.2017"}"#.into(),
            headers: vec!["User-Agent: JavaPOS".into()],
            close: true,
        }
    }

    #[test]
    fn a_poll_is_one_post_with_its_length_and_close() {
        let bytes = String::from_utf8(request_bytes(&parts())).unwrap();
        assert_eq!(
            bytes,
            "POST /check_firmware HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
             Content-Type: application/json\r\nContent-Length: 28\r\n\
             User-Agent: JavaPOS\r\nConnection: close\r\n\r\n{\"build_date\": \"28.12.2017\"}"
        );
        let get = RequestParts {
            method: "GET".into(),
            body: String::new(),
            headers: vec![],
            close: false,
            ..parts()
        };
        assert_eq!(
            String::from_utf8(request_bytes(&get)).unwrap(),
            "GET /check_firmware HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        );
    }

    async fn read(answer: &[u8]) -> Result<Answer, String> {
        let mut buf = vec![0; HEAD_LIMIT];
        let mut stream = answer;
        read_answer(&mut stream, &mut buf).await
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn answers_are_read_to_their_length() {
        block_on(async {
            let ok = read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
            assert_eq!(
                ok,
                Ok(Answer {
                    status: 200,
                    closes: false
                })
            );
            let closing =
                read(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            assert_eq!(
                closing,
                Ok(Answer {
                    status: 404,
                    closes: true
                })
            );
            let big = [
                b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".as_slice(),
                &[7; 100_000],
            ]
            .concat();
            assert_eq!(read(&big).await.unwrap().status, 200);
        });
    }

    #[test]
    fn broken_answers_are_errors_in_words() {
        block_on(async {
            let cases: [(&[u8], &str); 7] = [
                (b"", "without an answer"),
                (
                    b"HTTP/1.1 200 OK\r\nContent-Le",
                    "middle of the answer's head",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                    "6 bytes before the end",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nabc",
                    "more than its Content-Length",
                ),
                (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "only answers with a Content-Length",
                ),
                (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
                (
                    b"HTTP/1.1 200 OK\r\n\r\n",
                    "a 200 answer without a Content-Length",
                ),
            ];
            for (answer, said) in cases {
                let error = read(answer).await.unwrap_err();
                assert!(error.contains(said), "{answer:?}: {error}");
            }
            let endless = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &[b'a'; HEAD_LIMIT]].concat();
            let error = read(&endless).await.unwrap_err();
            assert!(error.contains("longer than 16384 bytes"), "{error}");
        });
    }
}
