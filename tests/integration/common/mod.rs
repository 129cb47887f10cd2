//! Test harness: a temp folder with a configuration, releases and license files, the real
//! binary started on a free port (`127.0.0.1:0`, read back from its log), and a raw HTTP
//! client, so that tests can send exactly the bytes a device or an attacker would (no
//! path normalisation, no Host header, HTTP/1.0).
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod devtools;
pub mod march_rollout;
pub mod operators;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kkt-update-server");

/// The server binary as a command, speaking English whatever this machine's locale: what
/// operators read follows the system language (`LC_ALL`, `LC_MESSAGES`, `LANG`,
/// `KKT_LANGUAGE`), and the tests compare English sentences. A test of the language sets
/// its own afterwards (a later `.env` wins).
pub fn server_command() -> Command {
    let mut command = Command::new(BIN);
    in_english(&mut command);
    command
}

/// `command` (the server binary, or a wrapper that runs it: `time`, `setpriv`) with an
/// English locale, whatever this machine's.
pub fn in_english(command: &mut Command) -> &mut Command {
    command
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KKT_LANGUAGE")
}

/// A temp folder laid out like a deployment: `server.yaml`, `firmware/`, license files.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// An empty deployment: `firmware/`, no releases, no licenses, `settle_ms: 0`.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("firmware")).expect("firmware dir");
        let fixture = Fixture { dir };
        fixture.write_config("settle_ms: 0\n");
        fixture
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes `server.yaml` (firmware_dir and admin_listen are always set).
    pub fn write_config(&self, extra: &str) {
        let text = format!("firmware_dir: firmware\nadmin_listen: null\n{extra}");
        fs::write(self.path("server.yaml"), text).expect("server.yaml");
    }

    /// Adds a complete release folder (`20180125`, or a staging name ending in the
    /// version, `.staging-20180125`); the files' bytes are derived from the version.
    pub fn release(&self, name: &str, meta: Option<&str>) -> PathBuf {
        let folder = self.path(&format!("firmware/{name}"));
        let version = &name[name.len().saturating_sub(8)..];
        fs::create_dir_all(&folder).expect("release folder");
        fs::write(
            folder.join("upd_app.bin"),
            firmware_bytes(version, "upd_app.bin"),
        )
        .expect("bin");
        fs::write(
            folder.join("upd_app_for_old_frs.bin"),
            firmware_bytes(version, "upd_app_for_old_frs.bin"),
        )
        .expect("bin");
        if let Some(meta) = meta {
            fs::write(folder.join("meta.yaml"), meta).expect("meta");
        }
        folder
    }

    /// A source folder `incoming/<name>` beside firmware/, what `publish` is given: its two
    /// files' bytes are derived from `seed`.
    pub fn incoming_release(&self, name: &str, seed: &str) -> PathBuf {
        let dir = self.path(&format!("incoming/{name}"));
        fs::create_dir_all(&dir).expect("source");
        for file in ["upd_app.bin", "upd_app_for_old_frs.bin"] {
            fs::write(dir.join(file), firmware_bytes(seed, file)).expect("write");
        }
        dir
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("parent");
        }
        fs::write(path, contents).expect("write");
    }

    /// Starts the server on this fixture.
    pub fn start(&self) -> Server {
        Server::start(self.dir.path(), &[], &[])
    }

    /// The server's clock, for the test to move: call before starting the server (see
    /// `TestClock`).
    pub fn test_clock(&self) -> TestClock {
        let clock = TestClock {
            path: self.path(TEST_CLOCK),
        };
        clock.set(0);
        clock
    }
}

/// The file, in a fixture's folder, holding how many seconds the server's clock is ahead.
const TEST_CLOCK: &str = "test-clock";

/// The wall clock the server's rules read (settle times, rollout hours and windows, stuck
/// devices, recorded times), moved by the test instead of slept through: a debug build of
/// the server adds the seconds in the file named by `KKT_TEST_CLOCK_FILE`
/// (src/model/clock.rs) at every reading, and `Server::start` names this file when the
/// fixture has one. Timers that wait a duration (the rollout watch's round) do not move.
pub struct TestClock {
    path: PathBuf,
}

impl TestClock {
    /// Moves the server's clock `by` further ahead (whole seconds).
    pub fn advance(&self, by: Duration) {
        let now: i64 = fs::read_to_string(&self.path)
            .expect("test clock")
            .trim()
            .parse()
            .expect("test clock offset");
        self.set(now + i64::try_from(by.as_secs()).expect("seconds"));
    }

    /// Writes the offset whole (a temp file renamed over it), so that the server never
    /// reads half a number.
    fn set(&self, offset: i64) {
        let temp = self.path.with_extension("new");
        fs::write(&temp, offset.to_string()).expect("test clock");
        fs::rename(&temp, &self.path).expect("test clock");
    }
}

/// Deterministic, version-specific firmware bytes (about 40 KB, not all one value).
pub fn firmware_bytes(version: &str, name: &str) -> Vec<u8> {
    let seed = format!("{version}/{name}");
    let mut state: u32 = seed
        .bytes()
        .fold(2166136261, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    let mut out = seed.into_bytes();
    while out.len() < 40_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.push((state >> 24) as u8);
    }
    out
}

/// A license line in the vendor's `.slf` form.
pub fn slf_line(serial: &str, licenses_fill: char, signature_fill: char) -> String {
    format!(
        "{serial}\t{}\t{}",
        licenses_fill.to_string().repeat(128),
        signature_fill.to_string().repeat(128)
    )
}

/// The running binary; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

/// `GET path` on the server's admin listener (no token).
pub fn admin(server: &Server, path: &str) -> Response {
    let addr = admin_addr(server);
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// `GET path` on the admin listener, which must answer 200 with JSON.
pub fn admin_json(server: &Server, path: &str) -> serde_json::Value {
    let response = admin(server, path);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.json()
}

/// What a command printed: its standard output, then its error output.
pub fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `kkt-update-server check --config server.yaml` in `dir`: whether it passed, its report
/// (stdout) and its errors (stderr).
pub fn run_check(dir: &Path) -> (bool, String, String) {
    let output = server_command()
        .current_dir(dir)
        .args(["check", "--config", "server.yaml"])
        .env_remove("RUST_LOG")
        .output()
        .expect("run check");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The admin listener's address, from the log (when `--admin-listen` was given).
pub fn admin_addr(server: &Server) -> SocketAddr {
    let log = server.log();
    let line = log
        .lines()
        .find_map(|l| {
            ["admin listening on ", "панель администратора на "]
                .iter()
                .find_map(|words| l.split(words).nth(1))
        })
        .expect("admin listener in the log");
    line.split_whitespace()
        .next()
        .and_then(|a| a.parse().ok())
        .expect("admin address")
}

impl Server {
    /// Starts the binary in `dir` with `dir/server.yaml`, on a free port.
    pub fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut command = server_command();
        command
            .current_dir(dir)
            .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command.env_remove("KKT_TEST_CLOCK_FILE");
        let clock = dir.join(TEST_CLOCK);
        if clock.exists() {
            command.env("KKT_TEST_CLOCK_FILE", clock);
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        Server::spawn(command)
    }

    /// Starts a prepared command whose log goes to stderr.
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command.spawn().expect("start the server binary");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // The address in the log line of either language.
                let said = ["] listening on ", "] принимаю запросы ККТ на "]
                    .iter()
                    .find_map(|words| line.split(words).nth(1));
                if let Some(addr) = said {
                    let _ = tx.send(addr.trim().to_string());
                }
                lines.lock().expect("log lock").push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr.parse().expect("listen address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start; log:\n{}",
                    log.lock().expect("log lock").join("\n")
                );
            }
        };
        Server { child, addr, log }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }

    /// Waits until the log has a line containing `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit (at most `timeout`); whether it did,
    /// having handled the signal: a server ended by SIGTERM's default action (no handler
    /// yet) drained nothing and wrote none of its queued records, which counts as not.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        match self.terminate_status(timeout) {
            Some(status) => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if status.signal().is_some() {
                        eprintln!("ended by signal {status}: {}", self.log());
                        return false;
                    }
                }
                let _ = status;
                true
            }
            None => false,
        }
    }

    /// Sends SIGTERM and waits for the process to exit (at most `timeout`): its exit
    /// status, once everything it wrote to stderr is in `log()`; none if it did not exit.
    pub fn terminate_status(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        signal(self.pid(), "TERM");
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The thread reading stderr holds the other reference until the pipe's end.
                while Arc::strong_count(&self.log) > 1 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Sends raw request bytes and reads the answer to the end (send `Connection: close`).
    pub fn raw(&self, request: &[u8]) -> Response {
        raw_request(self.addr, request)
    }

    pub fn post(&self, path: &str, body: &str) -> Response {
        self.post_with(path, body, &[])
    }

    pub fn post_with(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\n{}Connection: close\r\nContent-Length: {}\r\n",
            self.default_host(headers),
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        self.raw(&bytes)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.method("GET", path, headers)
    }

    pub fn method(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\n{}Connection: close\r\n",
            self.default_host(headers)
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.raw(request.as_bytes())
    }

    /// A `Host` line, unless the test sends its own.
    fn default_host(&self, headers: &[(&str, &str)]) -> String {
        if headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            String::new()
        } else {
            format!("Host: {}\r\n", self.addr)
        }
    }

    /// `check_firmware` for a build date; the parsed JSON answer (asserting 200).
    pub fn check_firmware(&self, build_date: &str) -> serde_json::Value {
        let response = self.post(
            "/check_firmware",
            &format!("{{\"build_date\": \"{build_date}\"}}"),
        );
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// Sends SIGHUP.
    pub fn sighup(&self) {
        signal(self.pid(), "HUP");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal by name with `kill`.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `error` message of a JSON error answer (asserting its Content-Type).
    pub fn error(&self) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        self.json()["error"]
            .as_str()
            .expect("error message")
            .to_string()
    }
}

/// Sends `request` to `addr` and reads until the server closes the connection.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut bytes = Vec::new();
    // A server may close early (413) while the request is still being sent; read what came.
    let _ = stream.read_to_end(&mut bytes);
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Response {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let body = &bytes[end + 4..];
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    Response {
        status,
        body: if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
        headers,
    }
}

/// The body of a chunked answer (a streamed one) without its chunk framing; a body cut
/// short (the server stopped mid-stream) panics, so a test never passes on half a file.
fn dechunk(mut framed: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = framed
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| panic!("a chunked body cut short after {} bytes", body.len()));
        let size_text = String::from_utf8_lossy(&framed[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
        framed = &framed[line_end + 2..];
        if size == 0 {
            return body;
        }
        assert!(
            framed.len() >= size + 2,
            "a chunked body cut short after {} bytes",
            body.len()
        );
        body.extend_from_slice(&framed[..size]);
        framed = &framed[size + 2..];
    }
}

/// Polls `probe` until it returns `Some`, or panics after `timeout` with `what`.
pub fn eventually<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Tests that load the machine (floods, hundreds of reloads, restarts under polling) or
/// assert how fast the server answers under such load take this for their whole run, so
/// that no two of them overlap: every test of the suite shares one process and its threads
/// (`--test-threads`, as many as cores by default), and two floods side by side on two
/// cores would measure each other. A heavy test that fails releases it for the next.
pub fn heavy() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How long a test waits for something that should happen within a second or two.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The version `check_firmware` offers a very old register (0: none).
pub fn offered(server: &Server) -> u64 {
    server.check_firmware("1.1.2000")["version"]
        .as_u64()
        .unwrap_or(0)
}

pub fn wait_offered(server: &Server, version: u64) {
    eventually(&format!("version {version} offered"), DEADLINE, || {
        (offered(server) == version).then_some(())
    });
}

/// The SHA-256 of `bytes` in hex, computed by `sha256sum` (not by the code under test).
pub fn sha256(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    let out = child.wait_with_output().expect("sha256sum output");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Writes `bytes` to `path` in `chunks` pieces, `pause` apart (a slow copy).
pub fn slow_write(path: &Path, bytes: &[u8], chunks: usize, pause: Duration) {
    let mut file = fs::File::create(path).expect("create");
    for piece in bytes.chunks(bytes.len().div_ceil(chunks)) {
        file.write_all(piece).expect("write");
        file.flush().expect("flush");
        std::thread::sleep(pause);
    }
}

/// What a poller checks of one download: the version offered, the file name, the answer.
pub type DownloadCheck<'a> = dyn Fn(u64, &str, &Response) -> Result<(), String> + Sync + 'a;

/// Polls `check_firmware` for `build_date` and downloads every offered URL until `stop`,
/// as a register would; returns how many downloads were checked. Panics on the first
/// download `check` refuses.
pub fn poll_offers(
    server: &Server,
    stop: &AtomicBool,
    build_date: &str,
    check: &DownloadCheck<'_>,
) -> usize {
    let mut checked = 0;
    while !stop.load(Ordering::SeqCst) {
        let answer = server.check_firmware(build_date);
        let version = answer["version"].as_u64().unwrap_or(0);
        if version == 0 {
            continue;
        }
        for (key, name) in [
            ("url", "upd_app.bin"),
            ("url_old_frs", "upd_app_for_old_frs.bin"),
        ] {
            let url = answer[key].as_str().unwrap_or_default();
            let path = url
                .split_once("//")
                .and_then(|(_, rest)| rest.split_once('/'))
                .map(|(_, p)| format!("/{p}"))
                .unwrap_or_default();
            let response = server.get(&path, &[]);
            if let Err(problem) = check(version, name, &response) {
                panic!("{path} (offered as {version}): {problem}");
            }
            checked += 1;
        }
    }
    checked
}

/// Whether the tests run as root (then some start the server as `nobody`).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Starts the binary in `dir` as `nobody` when we are root (through `setpriv`), so that
/// file permissions apply and the kernel will not tell it who writes root's files.
pub fn start_unprivileged(dir: &Path, args: &[&str]) -> Server {
    use std::os::unix::fs::PermissionsExt;
    let mut command = if is_root() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut command = Command::new("setpriv");
        in_english(&mut command).args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        command
    } else {
        server_command()
    };
    command
        .current_dir(dir)
        .args(["--config", "server.yaml", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Server::spawn(command)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The tools some tests drive: the command, an argument that makes it print its version,
/// and how to install it (Debian; `.ci/run` installs them all).
const TOOLS: &[(&str, &str, &str)] = &[
    ("chromium", "--version", "apt-get install chromium"),
    ("nginx", "-v", "apt-get install nginx-light"),
    ("openssl", "version", "apt-get install openssl"),
    ("promtool", "--version", "apt-get install prometheus"),
    ("systemd-analyze", "--version", "apt-get install systemd"),
    ("time", "--version", "apt-get install time"),
];

/// Whether the tool `name` (one of `TOOLS`) runs here. When it does not, see `require`:
/// a failure under CI, else a loud skip.
pub fn require_tool(name: &str) -> bool {
    let (_, probe, install) = tool(name);
    let runs = Command::new(name)
        .arg(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    require(runs, name, install)
}

/// The one guard of every test that needs something this machine may lack (a tool, a
/// target, a limit): `present`, or else a failure under CI (which must provide `what`;
/// the message says how: `install`), or else a `SKIPPED:` line on stderr and `false`, so
/// that the test returns early. The line goes straight to stderr, past the test harness's
/// capture, so that a skip shows in a plain `cargo test` run.
pub fn require(present: bool, what: &str, install: &str) -> bool {
    verdict(present, under_ci(), what, install, &mut std::io::stderr())
}

fn verdict(present: bool, under_ci: bool, what: &str, install: &str, say: &mut dyn Write) -> bool {
    if present {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    assert!(
        !under_ci,
        "{test} needs {what}, which is missing; CI must provide it: {install} (.ci/run does)"
    );
    let _ = writeln!(
        say,
        "SKIPPED: {test} did not run: {what} is missing here ({install}; CI fails without it)"
    );
    false
}

fn tool(name: &str) -> (&'static str, &'static str, &'static str) {
    match TOOLS.iter().find(|(tool, _, _)| *tool == name) {
        Some(tool) => *tool,
        None => panic!("{name} is not in common::TOOLS: add it with how to install it"),
    }
}

/// The CSRF token of the admin listener's forms for whoever `headers` make the request
/// (nobody: the open listener's `local`), as the dashboard's upload form carries it.
pub fn csrf_token_as(server: &Server, headers: &[(&str, &str)]) -> String {
    let page = server_admin_get(server, "/?upload=1", headers).text();
    csrf_in(&page).unwrap_or_else(|| panic!("no CSRF token in the dashboard: {page}"))
}

/// The same for the open listener.
pub fn csrf_token(server: &Server) -> String {
    csrf_token_as(server, &[])
}

/// The first CSRF token in a page: a form's `?csrf=` or its field `csrf`.
pub fn csrf_in(page: &str) -> Option<String> {
    let after = page
        .split("?csrf=")
        .nth(1)
        .or_else(|| page.split("name=\"csrf\" value=\"").nth(1))?;
    let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    (token.len() == 64).then_some(token)
}

fn server_admin_get(server: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    let addr = admin_addr(server);
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    raw_request(addr, request.as_bytes())
}

/// Whether the tests run under CI (`CI` set to anything but empty, `0` or `false`, as CI
/// services set it).
pub fn under_ci() -> bool {
    is_ci(std::env::var("CI").ok().as_deref())
}

fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Debian's Chromium, if installed (under one of its names); else see `require`.
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let (_, _, install) = tool("chromium");
    require(found.is_some(), "chromium", install);
    found
}

/// Headless Chromium as this machine allows it: no sandbox (root), no background traffic
/// (the network is closed), a fresh profile in `profile`, the DOM dumped after 2-3 s of
/// virtual time.
pub fn headless(chromium: &str, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom");
    command
}

/// The guard itself: a missing tool never passes silently under CI.
/// The lines of a command's output that are its answer: every command first says on stderr
/// which configuration file it used (`kkt-update-server: configuration …`), which is not
/// part of a refusal's one sentence.
pub fn answer_lines(text: &str) -> usize {
    text.trim()
        .lines()
        .filter(|line| {
            !line.starts_with("kkt-update-server: configuration ")
                && !line.starts_with("kkt-update-server: no configuration file found")
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(
        expected = "needs a-tool-nobody-has, which is missing; CI must provide it: \
                               apt-get install it"
    )]
    fn a_missing_tool_fails_under_ci() {
        verdict(
            false,
            true,
            "a-tool-nobody-has",
            "apt-get install it",
            &mut Vec::new(),
        );
    }

    #[test]
    fn a_missing_tool_is_skipped_outside_ci_and_a_present_one_runs() {
        let mut said = Vec::new();
        assert!(!verdict(
            false,
            false,
            "a-tool-nobody-has",
            "apt-get install it",
            &mut said
        ));
        assert_eq!(
            String::from_utf8_lossy(&said),
            "SKIPPED: common::tests::a_missing_tool_is_skipped_outside_ci_and_a_present_one_runs \
             did not run: a-tool-nobody-has is missing here (apt-get install it; CI fails \
             without it)\n"
        );
        let mut said = Vec::new();
        assert!(verdict(
            true,
            true,
            "a-tool",
            "apt-get install it",
            &mut said
        ));
        assert!(said.is_empty());
    }

    #[test]
    fn ci_is_any_value_but_empty_0_or_false() {
        for value in ["true", "1", "yes", "github"] {
            assert!(is_ci(Some(value)), "{value}");
        }
        for value in [None, Some(""), Some("0"), Some("false")] {
            assert!(!is_ci(value), "{value:?}");
        }
    }

    #[test]
    #[should_panic(expected = "not in common::TOOLS")]
    fn a_tool_without_an_install_hint_is_refused() {
        require_tool("some-tool");
    }
}
