//! A start that fails says why where the operator will look. On Windows a service, or an
//! `.exe` started by a double-click, has no console: what it writes to standard error is
//! lost, and with it the reason it did not start (a broken `server.yaml`, a port taken).
//! So on Windows that reason also goes into the log file the service writes,
//! `kkt-update-server.log` next to `server.yaml` (`log_file`, rotated the same way); on
//! Linux standard error is the journal, and that is enough.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::model::one_line::escaped;
use crate::observe::log_file::RotatingFile;

/// The log file's name, as the service writes it.
pub const LOG_NAME: &str = "kkt-update-server.log";

/// Whether a failed start is written to the log file too (only where there may be no
/// console to read standard error).
pub fn wanted() -> bool {
    cfg!(windows)
}

/// Where the log goes when the configuration could not even be read: next to the file
/// `--config` names, or else next to the program (where a double-clicked `.exe` and the
/// packaged Windows build look for `server.yaml`).
pub fn log_path_without_config(config_arg: Option<&Path>) -> PathBuf {
    let folder = match config_arg {
        Some(config) => config.parent().map(Path::to_path_buf),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf)),
    };
    folder.unwrap_or_default().join(LOG_NAME)
}

/// Appends one log line saying `what` (e.g. "did not start") and why, in the format of the
/// server's own log; a log that cannot be written is said on standard error.
pub fn record(path: &Path, what: &str, error: &str) {
    let line = format!(
        "[{} ERROR kkt_update_server] kkt-update-server {what}: {}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        escaped(error)
    );
    let written = RotatingFile::open(path).and_then(|mut file| {
        file.write_all(line.as_bytes())?;
        file.flush()
    });
    if let Err(e) = written {
        eprintln!(
            "kkt-update-server: cannot write the log {}: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_appended_on_one_line_next_to_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path_without_config(Some(&dir.path().join("server.yaml")));
        assert_eq!(path, dir.path().join(LOG_NAME));
        std::fs::write(&path, "an older line\n").unwrap();
        record(&path, "did not start", "server.yaml: bad\nforged line");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], "an older line");
        assert!(
            lines[1].ends_with(
                "ERROR kkt_update_server] kkt-update-server did not start: server.yaml: bad\\nforged line"
            ),
            "{text}"
        );
    }
}
