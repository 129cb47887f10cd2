//! The access log: one line per device request (client, request line, status, bytes, time,
//! User-Agent), written off the request path. A handler's request only hands a small record
//! to a bounded queue; a writer thread formats the lines, timestamps them with a clock it
//! reads once per batch, and writes them in batches (at least every 100 ms). A full queue
//! drops the record and counts it, so a slow disk or a stalled journald never holds up a
//! device. On stop, everything queued is written before the process exits.
//!
//! Destination: `stderr` (the default: journald under systemd), a file (`access_log:
//! /var/log/kkt/access.log`, reopened on SIGHUP for logrotate), or `off`.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, Uri, Version};

use crate::config::LogDestination as Destination;

/// Records that may wait for the writer; past this they are dropped and counted.
const QUEUE: usize = 16_384;
/// The writer writes at least this often while records come in.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// ... or as soon as this much is buffered.
const FLUSH_BYTES: usize = 64 * 1024;

/// What a request leaves behind: cheap to build (the URI and User-Agent are shared bytes).
pub struct Record {
    pub client: Option<IpAddr>,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub status: u16,
    pub bytes: Option<u64>,
    pub took: Duration,
    pub user_agent: Option<HeaderValue>,
}

enum Message {
    Line(Box<Record>),
    /// Reopen (SIGHUP, or a new destination from a reload).
    Reopen(Destination),
    /// Write everything and stop.
    Close,
}

/// The handle handlers and start-up hold. Cloning it is cheap.
#[derive(Clone)]
pub struct AccessLog {
    sender: Option<SyncSender<Message>>,
    dropped: Arc<AtomicU64>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
    enabled: Arc<AtomicBool>,
}

impl AccessLog {
    /// Starts the writer thread for `destination`.
    pub fn start(destination: Destination) -> AccessLog {
        let (sender, receiver) = sync_channel(QUEUE);
        let enabled = Arc::new(AtomicBool::new(destination != Destination::Off));
        let writer_enabled = enabled.clone();
        let writer = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_loop(receiver, destination, writer_enabled))
            .ok();
        AccessLog {
            sender: writer.as_ref().map(|_| sender),
            dropped: Arc::new(AtomicU64::new(0)),
            writer: Arc::new(Mutex::new(writer)),
            enabled,
        }
    }

    /// A log that writes nothing (tests, `check`).
    pub fn off() -> AccessLog {
        AccessLog {
            sender: None,
            dropped: Arc::new(AtomicU64::new(0)),
            writer: Arc::new(Mutex::new(None)),
            enabled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether lines are written at all (so a request can skip building its record).
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Hands a record to the writer; never waits.
    pub fn record(&self, record: Record) {
        let Some(sender) = &self.sender else { return };
        match sender.try_send(Message::Line(Box::new(record))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Reopens the file (logrotate moved it) or switches to a new destination.
    pub fn reopen(&self, destination: Destination) {
        self.enabled
            .store(destination != Destination::Off, Ordering::Relaxed);
        if let Some(sender) = &self.sender {
            // Waits if the queue is full: this is the reloader, not a device.
            let _ = sender.send(Message::Reopen(destination));
        }
    }

    /// Writes everything queued and stops the writer (at most `timeout`).
    pub fn close(&self, timeout: Duration) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(Message::Close);
        }
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(handle) = handle {
            let deadline = Instant::now() + timeout;
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

/// The open destination.
enum Sink {
    Stderr,
    File(PathBuf, File),
    Off,
}

impl Sink {
    fn open(destination: Destination) -> Sink {
        match destination {
            Destination::Stderr => Sink::Stderr,
            Destination::Off => Sink::Off,
            Destination::File(path) => {
                match OpenOptions::new().create(true).append(true).open(&path) {
                    Ok(file) => Sink::File(path, file),
                    Err(e) => {
                        log::error!(
                            "cannot open the access log {}: {e}; access lines go to stderr",
                            path.display()
                        );
                        Sink::Stderr
                    }
                }
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let result = match self {
            Sink::Stderr => std::io::stderr().lock().write_all(bytes),
            Sink::File(_, file) => file.write_all(bytes),
            Sink::Off => Ok(()),
        };
        if let Err(e) = result {
            // Logged through env_logger, which has its own (unbuffered) path to stderr.
            if let Sink::File(path, _) = self {
                log::error!("cannot write the access log {}: {e}", path.display());
            }
        }
    }
}

fn write_loop(receiver: Receiver<Message>, destination: Destination, enabled: Arc<AtomicBool>) {
    let mut sink = Sink::open(destination);
    enabled.store(!matches!(sink, Sink::Off), Ordering::Relaxed);
    let mut buffer = String::with_capacity(FLUSH_BYTES * 2);
    let mut clock = Clock::default();
    let mut last_flush = Instant::now();
    loop {
        let message = match receiver.recv_timeout(FLUSH_EVERY) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Message::Close),
        };
        match message {
            Some(Message::Line(record)) => format_line(&mut buffer, clock.now(), &record),
            Some(Message::Reopen(destination)) => {
                sink.write(buffer.as_bytes());
                buffer.clear();
                sink = Sink::open(destination);
                enabled.store(!matches!(sink, Sink::Off), Ordering::Relaxed);
            }
            Some(Message::Close) => {
                sink.write(buffer.as_bytes());
                return;
            }
            None => {}
        }
        if !buffer.is_empty()
            && (buffer.len() >= FLUSH_BYTES || last_flush.elapsed() >= FLUSH_EVERY)
        {
            sink.write(buffer.as_bytes());
            buffer.clear();
            last_flush = Instant::now();
            clock.tick();
        }
    }
}

/// The local time as text, formatted at most once per batch.
#[derive(Default)]
struct Clock {
    text: String,
}

impl Clock {
    fn now(&mut self) -> &str {
        if self.text.is_empty() {
            self.text = chrono::Local::now()
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string();
        }
        &self.text
    }

    fn tick(&mut self) {
        self.text.clear();
    }
}

/// One line: `time client "METHOD /path HTTP/1.1" status bytes seconds "User-Agent"`.
pub fn format_line(out: &mut String, time: &str, record: &Record) {
    let client = record
        .client
        .map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let version = match record.version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        _ => "HTTP/1.1",
    };
    let user_agent = record
        .user_agent
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let _ = write!(
        out,
        "{time} {client} \"{} {} {version}\" {} ",
        record.method,
        record.uri.path_and_query().map_or("/", |p| p.as_str()),
        record.status
    );
    match record.bytes {
        Some(bytes) => {
            let _ = write!(out, "{bytes}");
        }
        None => out.push('-'),
    }
    let _ = writeln!(
        out,
        " {:.6} \"{}\"",
        record.took.as_secs_f64(),
        user_agent.replace('"', "'")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> Record {
        Record {
            client: Some("10.0.0.7".parse().unwrap()),
            method: Method::POST,
            uri: path.parse().unwrap(),
            version: Version::HTTP_11,
            status: 200,
            bytes: Some(252),
            took: Duration::from_micros(180),
            user_agent: Some(HeaderValue::from_static("Java/1.8.0_202 \"x\"")),
        }
    }

    #[test]
    fn a_line_has_client_request_status_bytes_time_and_agent() {
        let mut out = String::new();
        format_line(
            &mut out,
            "2026-11-28T10:00:00.000+03:00",
            &record("/check_firmware"),
        );
        assert_eq!(
            out,
            "2026-11-28T10:00:00.000+03:00 10.0.0.7 \"POST /check_firmware HTTP/1.1\" 200 252 \
             0.000180 \"Java/1.8.0_202 'x'\"\n"
        );
    }

    #[test]
    fn everything_queued_is_written_on_close_and_a_reopen_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = AccessLog::start(Destination::File(path.clone()));
        for _ in 0..1000 {
            log.record(record("/check_firmware"));
        }
        // logrotate: the file is moved away, then the server is told to reopen.
        std::thread::sleep(Duration::from_millis(300));
        std::fs::rename(&path, dir.path().join("access.log.1")).unwrap();
        log.reopen(Destination::File(path.clone()));
        for _ in 0..10 {
            log.record(record("/feature_licenses"));
        }
        log.close(Duration::from_secs(5));
        let old = std::fs::read_to_string(dir.path().join("access.log.1")).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert_eq!(old.lines().count(), 1000);
        assert_eq!(new.lines().count(), 10);
        assert!(new.lines().all(|l| l.contains("/feature_licenses")));
        assert_eq!(log.dropped(), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (sender, _receiver) = sync_channel(1);
        let log = AccessLog {
            sender: Some(sender),
            dropped: Arc::new(AtomicU64::new(0)),
            writer: Arc::new(Mutex::new(None)),
            enabled: Arc::new(AtomicBool::new(true)),
        };
        let started = Instant::now();
        for _ in 0..100 {
            log.record(record("/check_firmware"));
        }
        assert_eq!(log.dropped(), 99);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
