//! The access log: one line per device request (client, request line, status, bytes, time,
//! User-Agent), written off the request path. A request only pushes a small record into a
//! bounded inbox (no formatting, no write, no thread wake-up); a writer thread collects the
//! inbox every 20 ms, formats the lines with one clock reading per batch, and writes them
//! in a few large writes. A full inbox drops the record and counts it, so a slow disk or a
//! stalled journald never holds up a device. On stop, everything queued is written before
//! the process exits.
//!
//! Destination: `stderr` (the default: journald under systemd), a file (`access_log:
//! /var/log/kkt/access.log`, reopened on SIGHUP for logrotate), or `off`.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, Uri, Version};

use crate::config::LogDestination as Destination;
use crate::observe::writer_thread::join_within;
use crate::platform::lock_recover::{CondvarRecover, LockRecover};

/// Records that may wait for the writer; past this they are dropped and counted.
const QUEUE: usize = 16_384;
/// The writer writes at least this often while records come in.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
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

/// What requests leave for the writer, and what start-up and reloads ask of it. Requests
/// only push under a short lock and never wake the writer: it looks every `FLUSH_EVERY`,
/// so a busy server pays no thread switch per request.
#[derive(Default)]
struct Inbox {
    records: Vec<Record>,
    /// A new destination, for the records from this index on.
    reopen: Option<(Destination, usize)>,
    close: bool,
}

struct Shared {
    inbox: Mutex<Inbox>,
    /// Wakes the writer early, for a reopen or the close only.
    wake: Condvar,
    dropped: AtomicU64,
    enabled: AtomicBool,
}

/// The handle handlers and start-up hold. Cloning it is cheap.
#[derive(Clone)]
pub struct AccessLog {
    shared: Arc<Shared>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl AccessLog {
    fn with(enabled: bool) -> AccessLog {
        AccessLog {
            shared: Arc::new(Shared {
                inbox: Mutex::new(Inbox::default()),
                wake: Condvar::new(),
                dropped: AtomicU64::new(0),
                enabled: AtomicBool::new(enabled),
            }),
            writer: Arc::new(Mutex::new(None)),
        }
    }

    /// Starts the writer thread for `destination`.
    pub fn start(destination: Destination) -> AccessLog {
        let log = AccessLog::with(destination != Destination::Off);
        let shared = log.shared.clone();
        let writer = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_loop(&shared, destination));
        match writer {
            Ok(handle) => *log.writer.lock_recover() = Some(handle),
            Err(e) => {
                log::error!("cannot start the access log writer: {e}; no access lines");
                log.shared.enabled.store(false, Ordering::Relaxed);
            }
        }
        log
    }

    /// A log that writes nothing (tests, `check`).
    pub fn off() -> AccessLog {
        AccessLog::with(false)
    }

    /// Whether lines are written at all (so a request can skip building its record).
    pub fn enabled(&self) -> bool {
        self.shared.enabled.load(Ordering::Relaxed)
    }

    /// Hands a record to the writer; never waits for it.
    pub fn record(&self, record: Record) {
        let mut inbox = self.shared.inbox.lock_recover();
        if inbox.records.len() >= QUEUE || inbox.close {
            drop(inbox);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        inbox.records.push(record);
    }

    /// Records dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Reopens the file (logrotate moved it) or switches to a new destination.
    pub fn reopen(&self, destination: Destination) {
        self.shared
            .enabled
            .store(destination != Destination::Off, Ordering::Relaxed);
        let mut inbox = self.shared.inbox.lock_recover();
        let from = inbox.records.len();
        inbox.reopen = Some((destination, from));
        drop(inbox);
        self.shared.wake.notify_all();
    }

    /// Writes everything queued and stops the writer (at most `timeout`).
    pub fn close(&self, timeout: Duration) {
        self.shared.inbox.lock_recover().close = true;
        self.shared.wake.notify_all();
        join_within(&self.writer, timeout);
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

fn write_loop(shared: &Shared, destination: Destination) {
    let mut sink = Sink::open(destination);
    shared
        .enabled
        .store(!matches!(sink, Sink::Off), Ordering::Relaxed);
    let mut buffer = String::with_capacity(FLUSH_BYTES);
    let mut batch = Vec::new();
    loop {
        let (reopen, close) = {
            let mut inbox = shared.inbox.lock_recover();
            if inbox.reopen.is_none() && !inbox.close {
                inbox = shared.wake.wait_timeout_recover(inbox, FLUSH_EVERY);
            }
            std::mem::swap(&mut batch, &mut inbox.records);
            (inbox.reopen.take(), inbox.close)
        };
        // One clock reading per batch: lines of one batch are at most 20 ms apart.
        let now = chrono::Local::now()
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string();
        let (before, after) = match &reopen {
            Some((_, from)) => batch.split_at((*from).min(batch.len())),
            None => (&batch[..], &batch[..0]),
        };
        write_batch(&mut sink, &mut buffer, &now, before);
        if let Some((destination, _)) = reopen {
            sink = Sink::open(destination);
            shared
                .enabled
                .store(!matches!(sink, Sink::Off), Ordering::Relaxed);
        }
        write_batch(&mut sink, &mut buffer, &now, after);
        batch.clear();
        if close {
            return;
        }
    }
}

/// Formats `records` and writes them in writes of about `FLUSH_BYTES`.
fn write_batch(sink: &mut Sink, buffer: &mut String, now: &str, records: &[Record]) {
    for record in records {
        format_line(buffer, now, record);
        if buffer.len() >= FLUSH_BYTES {
            sink.write(buffer.as_bytes());
            buffer.clear();
        }
    }
    if !buffer.is_empty() {
        sink.write(buffer.as_bytes());
        buffer.clear();
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
    use std::time::Instant;

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
    fn a_full_inbox_drops_and_counts_instead_of_waiting() {
        // No writer thread: nothing empties the inbox.
        let log = AccessLog::with(true);
        let started = Instant::now();
        for _ in 0..QUEUE + 100 {
            log.record(record("/check_firmware"));
        }
        assert_eq!(log.dropped(), 100);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
