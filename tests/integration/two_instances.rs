//! Two instances on one `firmware_dir` behind nginx (round robin), as a service centre runs
//! them for redundancy: both give the same answers and the same ETags, a release published
//! into the shared folder is seen by both, and a download begun on one instance resumes on
//! the other with `Range` + `If-Range` and gets the right bytes.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{self, eventually, firmware_bytes, offered, raw_request, Fixture, Response};

const DEADLINE: Duration = Duration::from_secs(20);

/// nginx from Debian, in the foreground as one process, with everything in a temp dir.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts nginx balancing round robin over `upstreams`; `None` when nginx is not installed
/// (a failure under CI, which installs it).
fn nginx(upstreams: &[SocketAddr]) -> Option<Nginx> {
    if !common::require_tool("nginx") {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().display().to_string();
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|a| format!("    server {a};\n"))
        .collect();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {root}/nginx.pid;\n\
         error_log {root}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n\
         client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
         fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n\
         scgi_temp_path {root}/scgi;\n  upstream kkt {{\n{servers}  }}\n\
         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
         proxy_pass http://kkt;\n      proxy_http_version 1.1;\n\
         proxy_set_header Host $http_host;\n      proxy_buffering off;\n    }}\n  }}\n}}\n"
    );
    fs::write(dir.path().join("nginx.conf"), conf).expect("nginx.conf");
    let child = Command::new("nginx")
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-p")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let nginx = Nginx {
        child,
        addr,
        _dir: dir,
    };
    eventually("nginx accepting", DEADLINE, || {
        TcpStream::connect(addr).ok().map(|_| ())
    });
    Some(nginx)
}

fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: fw.test:8888\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    raw_request(addr, request.as_bytes())
}

fn check_firmware(addr: SocketAddr) -> Vec<u8> {
    let body = r#"{"build_date": "1.1.2000"}"#;
    let request = format!(
        "POST /check_firmware HTTP/1.1\r\nHost: fw.test:8888\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = raw_request(addr, request.as_bytes());
    assert_eq!(response.status, 200);
    response.body
}

#[test]
fn two_instances_on_one_folder_answer_alike_and_resume_each_others_downloads() {
    let fixture = Fixture::new();
    fixture.release("20180117", None);
    let a = fixture.start();
    let b = fixture.start();
    let Some(proxy) = nginx(&[a.addr, b.addr]) else {
        return;
    };

    // The same answer, byte for byte, and the same validators from both.
    assert_eq!(check_firmware(a.addr), check_firmware(b.addr));
    let path = "/firmware/20180117/upd_app.bin";
    let (head_a, head_b) = (get(a.addr, path, &[]), get(b.addr, path, &[]));
    assert_eq!(head_a.status, 200);
    assert_eq!(head_a.header("etag"), head_b.header("etag"));
    assert_eq!(
        head_a.header("last-modified"),
        head_b.header("last-modified")
    );
    let answers: Vec<Vec<u8>> = (0..6).map(|_| check_firmware(proxy.addr)).collect();
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "round robin differs"
    );

    // A release published into the shared folder is seen by both.
    let staged = fixture.release(".staging-20180125", None);
    fs::rename(staged, fixture.path("firmware/20180125")).expect("mv");
    for server in [&a, &b] {
        eventually("20180125 offered by both", DEADLINE, || {
            (offered(server) == 20180125).then_some(())
        });
    }

    // Begun on one instance, resumed on the other.
    let whole = firmware_bytes("20180125", "upd_app.bin");
    let path = "/firmware/20180125/upd_app.bin";
    let half = whole.len() / 2;
    let first = get(a.addr, path, &[("Range", &format!("bytes=0-{}", half - 1))]);
    assert_eq!(first.status, 206);
    let etag = first.header("etag").expect("etag").to_string();
    let rest = get(
        b.addr,
        path,
        &[("Range", &format!("bytes={half}-")), ("If-Range", &etag)],
    );
    assert_eq!(rest.status, 206, "the other instance honours the ETag");
    let mut joined = first.body.clone();
    joined.extend_from_slice(&rest.body);
    assert!(joined == whole, "the resumed download is the file");

    // Through the balancer, piece by piece across both instances.
    let mut through = Vec::new();
    let step = whole.len() / 4 + 1;
    let mut start = 0;
    while start < whole.len() {
        let end = (start + step).min(whole.len()) - 1;
        let piece = get(
            proxy.addr,
            path,
            &[
                ("Range", &format!("bytes={start}-{end}")),
                ("If-Range", &etag),
            ],
        );
        assert_eq!(piece.status, 206);
        through.extend_from_slice(&piece.body);
        start = end + 1;
    }
    assert!(through == whole, "pieces from both instances make the file");

    // An If-Range from an older file gets the whole new one, not a mix.
    let stale = get(
        b.addr,
        path,
        &[("Range", "bytes=100-"), ("If-Range", "\"not-this-file\"")],
    );
    assert_eq!(stale.status, 200);
    assert!(stale.body == whole);
    drop(proxy);
    drop((a, b));
}
