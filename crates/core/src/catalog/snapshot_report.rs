//! Human-readable accounts of a snapshot: the start-up and reload log lines, and the
//! report `kkt-update-server check` prints. One wording for both, so what `check` says is
//! what the log says.

use crate::catalog::device_line::line_label;
use crate::catalog::lines::Line;
use crate::catalog::releases::{FolderState, Release, ReleaseSet};
use crate::catalog::sample_release;
use crate::catalog::snapshot::{CriticalSource, Snapshot};
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::one_line::escaped;
use crate::words::cli::OperatorText;
use crate::words::Words;

/// One line naming the current release, or saying there is none.
pub fn current_line(snapshot: &Snapshot, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    match snapshot.releases.current() {
        Some(r) => fill(
            t.current_release,
            &[
                ("version", &r.version),
                ("description", &format!("{:?}", r.description)),
                ("critical", &t.yes_no(r.critical)),
            ],
        ),
        None => fill(
            t.no_release_published,
            &[("dir", &snapshot.firmware_dir.display())],
        ),
    }
}

/// One line naming the critical version and where it comes from.
pub fn critical_line(snapshot: &Snapshot, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    match snapshot.critical {
        Some(c) => {
            let source = match c.source {
                CriticalSource::Config => t.critical_from_config,
                CriticalSource::Release => t.critical_from_release,
            };
            fill(
                t.critical_version,
                &[("version", &c.version), ("source", &source)],
            )
        }
        None => t.no_critical_version.to_string(),
    }
}

/// A line's upgrade path in words ("upgrade path: floor 20230101 → floor 20240101 → newest
/// 20250101"); none when the line has no floor (the report then reads as it always did).
pub fn upgrade_path_text(releases: &ReleaseSet, lang: Lang) -> Option<String> {
    let t = OperatorText::of(lang);
    let floors = releases.floors();
    let last = *floors.last()?;
    let mut steps: Vec<String> = floors
        .iter()
        .map(|version| fill(t.path_floor, &[("version", version)]))
        .collect();
    if let Some(newest) = releases.current().filter(|r| r.version > last) {
        steps.push(fill(t.path_newest, &[("version", &newest.version)]));
    }
    Some(fill(t.row_upgrade_path, &[("path", &steps.join(" → "))]))
}

/// One line counting the licenses.
pub fn licenses_line(snapshot: &Snapshot, lang: Lang) -> String {
    fill(
        OperatorText::of(lang).licenses_count,
        &[
            ("serials", &snapshot.licenses.total()),
            ("files", &snapshot.licenses.files.len()),
        ],
    )
}

/// One line per named firmware line: its current release (empty without lines).
pub fn lines_line(snapshot: &Snapshot, lang: Lang) -> Option<String> {
    if snapshot.lines.lines.is_empty() {
        return None;
    }
    let t = OperatorText::of(lang);
    let lines: Vec<String> = snapshot
        .lines
        .lines
        .values()
        .map(|line| match line.releases.current() {
            Some(r) => format!("{} {}", line.name, r.version),
            None => format!("{} {}", line.name, t.none),
        })
        .collect();
    Some(fill(t.current_per_line, &[("lines", &lines.join(", "))]))
}

/// Problems with `firmware_dir` itself, with line folders, and notes about versions kept
/// serving, in `lang`.
pub fn release_problems(snapshot: &Snapshot, lang: Lang) -> Vec<String> {
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
        .chain(&snapshot.pilot_group_problems)
        .map(|problem| problem.in_language(lang))
        .collect();
    for line in &snapshot.lines.out {
        out.push(fill(
            Words::of(lang).log.line_not_served,
            &[
                ("dir", &line.dir.display()),
                ("name", &line.name),
                ("reason", &line.reason.in_language(lang)),
            ],
        ));
    }
    out
}

/// Every problem that keeps something from devices, one per line.
pub fn errors(snapshot: &Snapshot, lang: Lang) -> Vec<String> {
    let mut out = release_problems(snapshot, lang);
    for line in snapshot.all_lines() {
        for folder in &line.releases.folders {
            if let FolderState::Rejected(reason) = &folder.state {
                out.push(format!(
                    "{}: {}",
                    folder.path.display(),
                    reason.in_language(lang)
                ));
            }
        }
    }
    for file in &snapshot.licenses.files {
        out.extend(file.problems.iter().map(|p| p.in_language(lang)));
    }
    if let Some(problem) = snapshot.groups_file.as_ref().and_then(|f| f.problem()) {
        out.push(problem.in_language(lang));
    }
    out
}

/// Things worth knowing that are not errors (a serial overridden by a later file, the
/// repository's sample served from the source tree).
pub fn warnings(snapshot: &Snapshot, lang: Lang) -> Vec<String> {
    let t = Words::of(lang).log;
    let mut out: Vec<String> = snapshot
        .licenses
        .overrides
        .iter()
        .map(|p| p.in_language(lang))
        .collect();
    if let (true, None, Err(refused)) = (
        snapshot.static_files,
        &snapshot.firmware_dir_problem,
        &snapshot.static_root,
    ) {
        // Passed the check once, leads elsewhere now (a link re-pointed).
        out.push(fill(
            t.static_not_served,
            &[("why", &refused.in_language(lang))],
        ));
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
                out.push(sample_release::served_warning(&samples, folder, t));
            }
        }
    }
    for (date, lines) in snapshot.line_index.ambiguous() {
        let lines: Vec<&str> = lines.iter().map(|l| line_label(l)).collect();
        out.push(fill(
            t.ambiguous_build,
            &[("date", &date), ("lines", &lines.join(", "))],
        ));
    }
    out
}

/// The release folders of one line, one per row.
fn folder_rows(out: &mut String, releases: &ReleaseSet, indent: &str, lang: Lang) {
    let t = OperatorText::of(lang);
    for folder in &releases.folders {
        let current = releases
            .current()
            .is_some_and(|c| c.version == folder.version);
        let state = match &folder.state {
            FolderState::Published(r) => fill(
                if current {
                    t.row_current
                } else {
                    t.row_published
                },
                &[
                    ("description", &format!("{:?}", r.description)),
                    ("critical", &t.yes_no(r.critical)),
                    ("rollout", &rollout_text(r, t)),
                ],
            ),
            FolderState::Settling {
                wait,
                reason,
                serving,
            } => fill(
                t.row_settling,
                &[
                    ("reason", &reason.in_language(lang)),
                    ("ms", &wait.as_millis()),
                    (
                        "serving",
                        &if serving.is_some() {
                            t.row_still_serving
                        } else {
                            ""
                        },
                    ),
                ],
            ),
            FolderState::Rejected(reason) => {
                fill(t.row_rejected, &[("reason", &reason.in_language(lang))])
            }
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

fn rollout_text(release: &Release, t: &OperatorText) -> String {
    match &release.rollout {
        Some(rollout) => fill(t.row_rollout, &[("rollout", rollout)]),
        None => String::new(),
    }
}

/// The full report of `check`.
pub fn full_report(snapshot: &Snapshot, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    let mut out = String::new();
    let row = |out: &mut String, text: String| push_line(out, format_args!("{text}"));
    row(
        &mut out,
        fill(
            t.row_firmware_dir,
            &[("dir", &snapshot.firmware_dir.display())],
        ),
    );
    folder_rows(&mut out, &snapshot.releases, "  ", lang);
    row(&mut out, current_line(snapshot, lang));
    row(&mut out, critical_line(snapshot, lang));
    if let Some(path) = upgrade_path_text(&snapshot.releases, lang) {
        row(&mut out, path);
    }
    for line in snapshot.lines.lines.values() {
        line_rows(&mut out, snapshot, line, lang);
    }
    for line in &snapshot.lines.out {
        row(
            &mut out,
            fill(
                t.row_line_not_served,
                &[
                    ("name", &line.name),
                    ("reason", &line.reason.in_language(lang)),
                ],
            ),
        );
    }
    row(&mut out, t.row_licenses.to_string());
    for file in &snapshot.licenses.files {
        row(
            &mut out,
            fill(
                t.row_license_file,
                &[("file", &file.path.display()), ("count", &file.len())],
            ),
        );
    }
    row(&mut out, licenses_line(snapshot, lang));
    if let Some(groups) = groups_line(snapshot, lang) {
        row(&mut out, groups);
    }
    out
}

/// At most this many group names are listed in one line.
const GROUP_NAMES_LISTED: usize = 10;

/// One line naming the groups served and their file (none without a groups file):
/// "groups: 2 in /etc/kkt-update-server/groups.yaml ("ООО Ромашка", "Пилотные магазины")".
pub fn groups_line(snapshot: &Snapshot, lang: Lang) -> Option<String> {
    let file = snapshot.groups_file.as_ref()?;
    let t = Words::of(lang).groups;
    if file.groups.is_empty() && file.broken.is_some() {
        return Some(fill(t.none_loaded, &[("file", &file.path.display())]));
    }
    Some(fill(
        t.loaded,
        &[
            ("count", &file.groups.len()),
            ("file", &file.path.display()),
            ("names", &group_names(&file.groups)),
        ],
    ))
}

/// " ("A", "B", …)" for the groups, or nothing when there are none.
pub fn group_names(groups: &crate::groups::Groups) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let mut names: Vec<String> = groups
        .names()
        .take(GROUP_NAMES_LISTED)
        .map(crate::groups::refusal::quoted)
        .collect();
    if groups.len() > GROUP_NAMES_LISTED {
        names.push("…".to_string());
    }
    format!(" ({})", names.join(", "))
}

/// The rows of one named line in `check`'s report.
fn line_rows(out: &mut String, snapshot: &Snapshot, line: &Line, lang: Lang) {
    let t = OperatorText::of(lang);
    let row = |out: &mut String, text: String| push_line(out, format_args!("{text}"));
    let known: Vec<String> = line
        .meta
        .known_builds
        .iter()
        .map(ToString::to_string)
        .collect();
    row(
        out,
        fill(
            t.row_line,
            &[
                ("name", &line.name),
                ("description", &format!("{:?}", line.meta.description)),
                ("dir", &line.dir.display()),
            ],
        ),
    );
    let builds = if known.is_empty() {
        t.row_no_known_builds.to_string()
    } else {
        known.join(", ")
    };
    row(out, fill(t.row_known_builds, &[("builds", &builds)]));
    let critical = snapshot
        .line(&line.name)
        .and_then(|l| l.critical())
        .map_or(t.none.to_string(), |v| v.to_string());
    row(out, fill(t.row_line_critical, &[("version", &critical)]));
    if let Some(path) = upgrade_path_text(&line.releases, lang) {
        row(out, format!("    {path}"));
    }
    folder_rows(out, &line.releases, "    ", lang);
    if line.releases.current().is_none() {
        row(out, t.row_line_no_release.to_string());
    }
}
