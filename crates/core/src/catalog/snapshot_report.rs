//! Human-readable accounts of a snapshot: the start-up and reload log lines, and the
//! report `kkt-update-server check` prints. One wording for both, so what `check` says is
//! what the log says.

use crate::catalog::device_line::line_label;
use crate::catalog::releases::{FolderState, Release, ReleaseSet};
use crate::catalog::sample_release;
use crate::catalog::snapshot::{CriticalSource, Snapshot};
use crate::model::one_line::escaped;

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

/// One line per named firmware line: its current release (empty without lines).
pub fn lines_line(snapshot: &Snapshot) -> Option<String> {
    if snapshot.lines.lines.is_empty() {
        return None;
    }
    let lines: Vec<String> = snapshot
        .lines
        .lines
        .values()
        .map(|line| match line.releases.current() {
            Some(r) => format!("{} {}", line.name, r.version),
            None => format!("{} none", line.name),
        })
        .collect();
    Some(format!("current release per line: {}", lines.join(", ")))
}

/// Problems with `firmware_dir` itself, with line folders, and notes about versions kept
/// serving.
pub fn release_problems(snapshot: &Snapshot) -> Vec<String> {
    let dir = snapshot.firmware_dir_problem.iter();
    let mut out: Vec<String> = dir
        .chain(&snapshot.releases.problems)
        .chain(&snapshot.lines.problems)
        .chain(
            snapshot
                .lines
                .lines
                .values()
                .flat_map(|l| &l.releases.problems),
        )
        .map(ToString::to_string)
        .collect();
    for line in &snapshot.lines.out {
        out.push(format!(
            "{}: line {} is not served: {}",
            line.dir.display(),
            line.name,
            line.reason
        ));
    }
    out
}

/// Every problem that keeps something from devices, one per line.
pub fn errors(snapshot: &Snapshot) -> Vec<String> {
    let mut out = release_problems(snapshot);
    for line in snapshot.all_lines() {
        for folder in &line.releases.folders {
            if let FolderState::Rejected(reason) = &folder.state {
                out.push(format!("{}: {reason}", folder.path.display()));
            }
        }
    }
    for file in &snapshot.licenses.files {
        out.extend(file.problems.iter().map(ToString::to_string));
    }
    out
}

/// Things worth knowing that are not errors (a serial overridden by a later file, the
/// repository's sample served from the source tree).
pub fn warnings(snapshot: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = snapshot
        .licenses
        .overrides
        .iter()
        .map(ToString::to_string)
        .collect();
    if let (true, None, Err(refused)) = (
        snapshot.static_files,
        &snapshot.firmware_dir_problem,
        &snapshot.static_root,
    ) {
        // Passed the check once, leads elsewhere now (a link re-pointed).
        out.push(format!("static files are not served: {refused}"));
    }
    for line in snapshot.all_lines() {
        let samples: Vec<String> = line
            .releases
            .published()
            .filter(|r| r.files.iter().any(|f| sample_release::is_sample(&f.bytes)))
            .map(|r| r.version.to_string())
            .collect();
        if let Some(folder) = line.releases.folders.first().and_then(|f| f.path.parent()) {
            if !samples.is_empty() {
                out.push(sample_release::served_warning(&samples, folder));
            }
        }
    }
    for (date, lines) in snapshot.line_index.ambiguous() {
        out.push(format!(
            "build date {date} belongs to several lines ({}): devices reporting it get no update \
             until only one line.yaml or release folder claims it",
            lines
                .iter()
                .map(|l| line_label(l))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// The release folders of one line, one per row.
fn folder_rows(out: &mut String, releases: &ReleaseSet, indent: &str) {
    for folder in &releases.folders {
        let current = releases
            .current()
            .is_some_and(|c| c.version == folder.version);
        let state = match &folder.state {
            FolderState::Published(r) if current => {
                format!(
                    "current   {:?}, critical: {}{}",
                    r.description,
                    r.critical,
                    rollout_text(r)
                )
            }
            FolderState::Published(r) => {
                format!(
                    "published {:?}, critical: {}{}",
                    r.description,
                    r.critical,
                    rollout_text(r)
                )
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
        push_line(out, format_args!("{indent}{} {state}", folder.version));
    }
}

/// Writes one line of the report. Its text quotes names from the operator's files (a
/// license file, a line's folder), made fit for one line so that none can write a line of
/// its own (`model::one_line`).
fn push_line(out: &mut String, text: std::fmt::Arguments<'_>) {
    out.push_str(&escaped(&text.to_string()));
    out.push('\n');
}

fn rollout_text(release: &Release) -> String {
    match &release.rollout {
        Some(rollout) => format!(", rollout: {rollout}"),
        None => String::new(),
    }
}

/// The full report of `check`.
pub fn full_report(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    push_line(
        &mut out,
        format_args!("firmware_dir {}", snapshot.firmware_dir.display()),
    );
    folder_rows(&mut out, &snapshot.releases, "  ");
    push_line(&mut out, format_args!("{}", current_line(snapshot)));
    push_line(&mut out, format_args!("{}", critical_line(snapshot)));
    for line in snapshot.lines.lines.values() {
        let known: Vec<String> = line
            .meta
            .known_builds
            .iter()
            .map(ToString::to_string)
            .collect();
        push_line(
            &mut out,
            format_args!(
                "line {} {:?} in {}",
                line.name,
                line.meta.description,
                line.dir.display()
            ),
        );
        push_line(
            &mut out,
            format_args!(
                "    known builds: {}",
                if known.is_empty() {
                    "none besides its releases".to_string()
                } else {
                    known.join(", ")
                }
            ),
        );
        let critical = snapshot.line(&line.name).and_then(|l| l.critical());
        push_line(
            &mut out,
            format_args!(
                "    critical version: {}",
                critical.map_or("none".to_string(), |v| v.to_string())
            ),
        );
        folder_rows(&mut out, &line.releases, "    ");
        if line.releases.current().is_none() {
            push_line(
                &mut out,
                format_args!("    no release published in this line"),
            );
        }
    }
    for line in &snapshot.lines.out {
        push_line(
            &mut out,
            format_args!("line {} not served: {}", line.name, line.reason),
        );
    }
    push_line(&mut out, format_args!("licenses"));
    for file in &snapshot.licenses.files {
        push_line(
            &mut out,
            format_args!("  {}: {} serials", file.path.display(), file.len()),
        );
    }
    push_line(&mut out, format_args!("{}", licenses_line(snapshot)));
    out
}
