//! Human-readable accounts of a snapshot: the start-up and reload log lines, and the
//! report `kkt-update-server check` prints. One wording for both, so what `check` says is
//! what the log says.

use std::fmt::Write;

use crate::catalog::releases::FolderState;
use crate::catalog::snapshot::{CriticalSource, Snapshot};

/// One line naming the current release, or saying there is none.
pub fn current_line(snapshot: &Snapshot) -> String {
    match snapshot.releases.current() {
        Some(r) => format!(
            "current release {} ({:?}, critical: {})",
            r.version, r.description, r.critical
        ),
        None => format!(
            "no release published in {}: devices are told there is no update",
            snapshot.firmware_dir.display()
        ),
    }
}

/// One line naming the critical version and where it comes from.
pub fn critical_line(snapshot: &Snapshot) -> String {
    match snapshot.critical {
        Some(c) => {
            let source = match c.source {
                CriticalSource::Config => "critical_version in the configuration",
                CriticalSource::Release => "a release marked critical: true",
            };
            format!("critical version {} (from {source})", c.version)
        }
        None => "no critical version: no device is told an update is critical".to_string(),
    }
}

/// One line counting the licenses.
pub fn licenses_line(snapshot: &Snapshot) -> String {
    let files = snapshot.licenses.files.len();
    format!(
        "{} serials with feature licenses from {files} file(s)",
        snapshot.licenses.total()
    )
}

/// Problems with `firmware_dir` itself and notes about versions kept serving.
pub fn release_problems(snapshot: &Snapshot) -> Vec<String> {
    let dir = snapshot.firmware_dir_problem.iter();
    dir.chain(&snapshot.releases.problems)
        .map(ToString::to_string)
        .collect()
}

/// Every problem that keeps something from devices, one per line.
pub fn errors(snapshot: &Snapshot) -> Vec<String> {
    let mut out = release_problems(snapshot);
    for folder in &snapshot.releases.folders {
        if let FolderState::Rejected(reason) = &folder.state {
            out.push(format!("{}: {reason}", folder.path.display()));
        }
    }
    for file in &snapshot.licenses.files {
        out.extend(file.problems.iter().map(ToString::to_string));
    }
    out
}

/// Things worth knowing that are not errors (a serial overridden by a later file).
pub fn warnings(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .licenses
        .overrides
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The full report of `check`.
pub fn full_report(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "firmware_dir {}", snapshot.firmware_dir.display());
    for folder in &snapshot.releases.folders {
        let current = snapshot
            .releases
            .current()
            .is_some_and(|c| c.version == folder.version);
        let state = match &folder.state {
            FolderState::Published(r) if current => {
                format!("current   {:?}, critical: {}", r.description, r.critical)
            }
            FolderState::Published(r) => {
                format!("published {:?}, critical: {}", r.description, r.critical)
            }
            FolderState::Settling {
                wait,
                reason,
                serving,
            } => format!(
                "settling  {reason}; checked again in {} ms{}",
                wait.as_millis(),
                if serving.is_some() {
                    " (the version checked before keeps serving)"
                } else {
                    ""
                }
            ),
            FolderState::Rejected(reason) => format!("rejected  {reason}"),
        };
        let _ = writeln!(out, "  {} {state}", folder.version);
    }
    let _ = writeln!(out, "{}", current_line(snapshot));
    let _ = writeln!(out, "{}", critical_line(snapshot));
    let _ = writeln!(out, "licenses");
    for file in &snapshot.licenses.files {
        let _ = writeln!(out, "  {}: {} serials", file.path.display(), file.len());
    }
    let _ = writeln!(out, "{}", licenses_line(snapshot));
    out
}
