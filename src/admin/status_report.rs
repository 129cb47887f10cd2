//! What `GET /status` answers and the dashboard shows: one pure function from a snapshot and
//! the operator-side state to a serializable report, so both views always agree.

use std::time::SystemTime;

use serde::Serialize;

use crate::app_state::{ReloadRecord, StaleConfig};
use crate::catalog::device_line::{line_label, DeviceLine};
use crate::catalog::releases::{FolderState, Release, ReleaseSet};
use crate::catalog::snapshot::{CriticalSource, Snapshot};
use crate::catalog::snapshot_report;
use crate::config::tls::CertificateStore;
use crate::model::lang::{fill, Lang};
use crate::model::problem::Problem;
use crate::model::unix_time::unix;
use crate::model::version::Version;
use crate::observe::fleet::{Device, FleetSummary};
use crate::rollout::status::RolloutView;
use crate::store::InventoryStatus;
use crate::words::dashboard::Text;
use crate::words::Said;

#[derive(Debug, Serialize)]
pub struct Status {
    pub server: ServerStatus,
    /// Files that do not load while the server runs on what it had (`server.yaml`), or on
    /// less than they hold (a license file): empty when all is well. `/readyz` says the
    /// same, and stays 200.
    pub config_stale: Vec<StaleFile>,
    /// A release is published: devices can be offered firmware.
    pub ready: bool,
    pub current_release: Option<ReleaseView>,
    pub critical_version: Option<CriticalView>,
    /// The default line's upgrade path: its floors (yyyymmdd), oldest first; a device
    /// below one installs it before anything newer.
    pub upgrade_path: Vec<u32>,
    /// Every release folder, newest first.
    pub releases: Vec<FolderView>,
    /// Problems with `firmware_dir` and notes about kept versions.
    pub release_problems: Vec<String>,
    /// The same in Russian, for the Russian dashboard (the scan's own reasons they quote
    /// are English). Not part of `/status`.
    #[serde(skip)]
    pub release_problems_ru: Vec<String>,
    pub licenses: LicensesView,
    /// The last reloads, newest first.
    pub reloads: Vec<ReloadRecord>,
    pub requests: Vec<RequestCount>,
    pub fleet: FleetSummary,
    /// The most recently seen devices, newest first.
    pub devices: Vec<Device>,
    /// The fleet's memory: where it is kept and whether writes succeed.
    pub inventory: InventoryStatus,
    /// Named firmware lines (folders with a `line.yaml`); the default line is above.
    pub lines: Vec<LineView>,
    /// Line folders that do not serve, and why.
    pub lines_out: Vec<LineOutView>,
    /// Every published release under rollout, in every line.
    pub rollouts: Vec<RolloutView>,
    /// Build dates devices reported (last 24 h) that no line claims, or several do.
    pub unmapped_build_dates: Vec<UnmappedDate>,
    /// Native TLS, when on: the certificate serving and when it expires.
    pub tls: Option<TlsView>,
}

impl StaleFile {
    /// Why it does not load, in the page's language.
    pub fn error_in(&self, t: &Text) -> &str {
        if t.lang == "ru" {
            &self.error_ru
        } else {
            &self.error
        }
    }
}

impl Status {
    /// The problems under the releases table, in the page's language where the table has
    /// them.
    pub fn release_problems_in(&self, t: &Text) -> &[String] {
        if t.lang == "ru" {
            &self.release_problems_ru
        } else {
            &self.release_problems
        }
    }
}

/// One file that does not load, for the red banner, `/status` and `/readyz`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StaleFile {
    /// The file, as named in the settings.
    pub file: String,
    pub kind: StaleKind,
    /// Why it does not load.
    pub error: String,
    /// The same in Russian, for the Russian dashboard (not part of `/status`).
    #[serde(skip)]
    pub error_ru: String,
    /// Unix seconds: since when.
    pub since: u64,
    pub since_local: String,
    pub stale_for_s: u64,
    /// Licenses still served from it (the ones loaded before it broke; 0 after a start
    /// with it broken: every serial in it then gets 404). None for `server.yaml`.
    pub licenses_served: Option<usize>,
    /// What the server does meanwhile, in words.
    pub meanwhile: String,
    /// groups: the groups still used from `groups.yaml` (the ones loaded before it broke;
    /// 0 after a start with it broken). Only for the groups file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_served: Option<usize>,
}

/// Which kind of file is stale: `GET /status` shows `as_str`, the metric is named by it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StaleKind {
    /// `server.yaml`: the running configuration is kept.
    Config,
    /// A license file.
    Licenses,
    /// groups: the groups file (`groups.yaml`): the groups loaded before are kept.
    Groups,
}

impl StaleKind {
    /// `config` or `licenses`.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleKind::Config => "config",
            StaleKind::Licenses => "licenses",
            StaleKind::Groups => "groups",
        }
    }
}

/// The most of an error a stale file's entry shows: a key of a megabyte in a broken
/// `server.yaml` is echoed by its error, and must not become a megabyte of every
/// `/readyz` answer and dashboard page.
const STALE_ERROR_MAX: usize = 1000;

/// `error`, cut to `STALE_ERROR_MAX` bytes (at a character boundary) with "…" after it.
fn bounded(error: String) -> String {
    if error.len() <= STALE_ERROR_MAX {
        return error;
    }
    let mut end = STALE_ERROR_MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

/// The files that do not load, as of `now` (Unix seconds): `server.yaml` first, then
/// every broken license file.
pub fn stale_files(snapshot: &Snapshot, config: Option<&StaleConfig>, now: u64) -> Vec<StaleFile> {
    let entry = |file: String,
                 kind,
                 (error, error_ru): (String, String),
                 since: u64,
                 served: Option<usize>| {
        let meanwhile = match served {
            None => "the running configuration is kept until the file loads".to_string(),
            Some(0) => "no license is served from it: every serial in it gets 404 \
                        until the file loads"
                .to_string(),
            Some(n) => format!("still serving the {n} licenses loaded before it broke"),
        };
        StaleFile {
            file,
            kind,
            error: bounded(error),
            error_ru: bounded(error_ru),
            since,
            since_local: crate::model::unix_time::local_text(since),
            stale_for_s: now.saturating_sub(since),
            licenses_served: served,
            meanwhile,
            groups_served: None,
        }
    };
    let config = config.map(|c| {
        entry(
            c.file.clone(),
            StaleKind::Config,
            (c.error.clone(), c.error_ru.clone()),
            c.since,
            None,
        )
    });
    let licenses = snapshot.licenses.files.iter().filter_map(|file| {
        let broken = file.broken.as_ref()?;
        Some(entry(
            file.path.display().to_string(),
            StaleKind::Licenses,
            (
                broken.reason.in_language(Lang::En).to_string(),
                broken.reason.in_language(Lang::Ru).to_string(),
            ),
            unix(broken.since),
            Some(file.len()),
        ))
    });
    config
        .into_iter()
        .chain(licenses)
        .chain(groups_stale(snapshot, now))
        .collect()
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TlsView {
    pub cert: String,
    pub key: String,
    /// Unix seconds; none when the certificate's date could not be read.
    pub expires_at: Option<i64>,
    pub expires_at_local: Option<String>,
    /// Whole days left (negative: expired).
    pub days_left: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct LineView {
    pub name: String,
    pub description: String,
    pub path: String,
    pub current_release: Option<ReleaseView>,
    /// Builds before this are critical for this line's devices (yyyymmdd).
    pub critical_version: Option<u32>,
    pub known_builds: Vec<u32>,
    pub releases: Vec<FolderView>,
    /// The line's floors (yyyymmdd), oldest first.
    pub upgrade_path: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct LineOutView {
    pub name: String,
    pub path: String,
    pub reason: Said,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct UnmappedDate {
    pub build_date: u32,
    pub kind: UnmappedKind,
    /// The lines that claim it (ambiguous dates).
    pub lines: Vec<String>,
    /// The line whose releases these devices are offered, if any.
    pub served_by: Option<String>,
    /// Devices that reported it in the last 24 hours.
    pub devices: usize,
}

/// Why a build date maps to no one line: `GET /status` shows `as_str`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnmappedKind {
    /// No line claims it.
    Unknown,
    /// Several lines do.
    Ambiguous,
}

impl UnmappedKind {
    /// The kind in the dashboard's words.
    pub fn words(&self, t: &Text) -> &'static str {
        match self {
            UnmappedKind::Ambiguous => t.kind_ambiguous,
            UnmappedKind::Unknown => t.kind_unknown,
        }
    }

    /// `unknown` or `ambiguous`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnmappedKind::Unknown => "unknown",
            UnmappedKind::Ambiguous => "ambiguous",
        }
    }
}

impl std::fmt::Display for UnmappedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Serialize)]
pub struct ServerStatus {
    pub version: &'static str,
    pub started_at: u64,
    /// `started_at` in the server's local time zone, with the offset.
    pub started_at_local: String,
    /// The time of this report, likewise.
    pub now_local: String,
    pub uptime_s: u64,
}

#[derive(Debug, Serialize)]
pub struct ReleaseView {
    pub version: u32,
    pub description: String,
    pub critical: bool,
}

#[derive(Debug, Serialize)]
pub struct CriticalView {
    pub version: u32,
    /// `config` (critical_version) or `release` (a release marked critical).
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FolderView {
    pub version: u32,
    pub path: String,
    pub state: FolderLabel,
    pub description: Option<String>,
    pub critical: Option<bool>,
    /// Why it is rejected, or how long it still settles (English in `/status`).
    pub reason: Option<Said>,
}

/// A release folder's state as operators see it: the scan's `FolderState`, with the
/// release devices are offered told apart. `GET /status` shows `as_str`, and `publish`
/// reads it back from there.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FolderLabel {
    /// The release devices of its line are offered.
    Current,
    /// Valid and served, but not the newest.
    Published,
    /// Changed lately; checked again once it is quiet.
    Settling,
    /// Kept out (invalid, incomplete, a hash mismatch).
    Rejected,
}

impl FolderLabel {
    /// The state in the dashboard's words.
    pub fn words(&self, t: &Text) -> &'static str {
        match self {
            FolderLabel::Current => t.state_current,
            FolderLabel::Published => t.state_published,
            FolderLabel::Settling => t.state_settling,
            FolderLabel::Rejected => t.state_rejected,
        }
    }

    /// `current`, `published`, `settling` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            FolderLabel::Current => "current",
            FolderLabel::Published => "published",
            FolderLabel::Settling => "settling",
            FolderLabel::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for FolderLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Serialize)]
pub struct LicensesView {
    pub serials: usize,
    pub files: Vec<LicenseFileView>,
    /// Serials one file overrides in another.
    pub overrides: Vec<Said>,
}

#[derive(Debug, Serialize)]
pub struct LicenseFileView {
    pub path: String,
    pub serials: usize,
    pub problems: Vec<Said>,
}

#[derive(Debug, Serialize)]
pub struct RequestCount {
    pub route: String,
    pub status: String,
    pub count: u64,
}

/// Everything the operator-side state contributes to the report.
pub struct OperatorState {
    pub started: SystemTime,
    /// Why `server.yaml` does not load, while it does not.
    pub config_stale: Option<StaleConfig>,
    pub reloads: Vec<ReloadRecord>,
    pub requests: Vec<(String, String, u64)>,
    pub fleet: FleetSummary,
    pub devices: Vec<Device>,
    pub inventory: InventoryStatus,
    pub rollouts: Vec<RolloutView>,
    pub tls: Option<TlsView>,
}

/// The TLS certificate serving, as of `now` (Unix seconds).
pub fn tls_view(store: &CertificateStore, now: i64) -> TlsView {
    let expires_at = store.expires_at();
    TlsView {
        cert: store.files().cert.display().to_string(),
        key: store.files().key.display().to_string(),
        expires_at,
        expires_at_local: expires_at
            .and_then(|t| u64::try_from(t).ok())
            .map(crate::model::unix_time::local_text),
        days_left: expires_at.map(|t| (t - now).div_euclid(86_400)),
    }
}

/// Build dates of the last day's devices that the lines do not map to exactly one line.
pub fn unmapped_build_dates(snapshot: &Snapshot, fleet: &FleetSummary) -> Vec<UnmappedDate> {
    let mut dates = Vec::new();
    for (date, devices) in &fleet.by_build_date {
        let Some(version) = Version::from_yyyymmdd(*date) else {
            continue;
        };
        let found = snapshot.line_index.line_of(version);
        let (kind, lines) = match found {
            DeviceLine::Known(_) => continue,
            DeviceLine::Ambiguous(lines) => (UnmappedKind::Ambiguous, lines.to_vec()),
            DeviceLine::Unknown | DeviceLine::UnknownToDefault => {
                (UnmappedKind::Unknown, Vec::new())
            }
        };
        dates.push(UnmappedDate {
            build_date: *date,
            kind,
            lines,
            served_by: found.serving_line().map(|l| line_label(l).to_string()),
            devices: *devices,
        });
    }
    dates
}

/// The folders of one line's scan, as the report shows them.
fn folder_views(releases: &ReleaseSet) -> Vec<FolderView> {
    let current = releases.current();
    releases
        .folders
        .iter()
        .map(|folder| {
            let is_current = current.is_some_and(|c| c.version == folder.version);
            let (state, release, reason) = match &folder.state {
                FolderState::Published(r) => (
                    if is_current {
                        FolderLabel::Current
                    } else {
                        FolderLabel::Published
                    },
                    Some(r),
                    None,
                ),
                FolderState::Settling {
                    wait,
                    reason,
                    serving,
                } => (
                    if is_current {
                        FolderLabel::Current
                    } else {
                        FolderLabel::Settling
                    },
                    serving.as_ref(),
                    Some(Said::new(|w| {
                        fill(
                            w.scan.checked_again_in,
                            &[
                                ("reason", &reason.in_language(w.lang)),
                                ("ms", &wait.as_millis()),
                            ],
                        )
                    })),
                ),
                FolderState::Rejected(reason) => {
                    (FolderLabel::Rejected, None, Some(reason.clone()))
                }
            };
            FolderView {
                version: folder.version.as_u32(),
                path: folder.path.display().to_string(),
                state,
                description: release.map(|r| r.description.clone()),
                critical: release.map(|r| r.critical),
                reason,
            }
        })
        .collect()
}

/// Builds the report.
pub fn status(snapshot: &Snapshot, operator: OperatorState, now: SystemTime) -> Status {
    let current = snapshot.releases.current();
    let problems_in = |lang| {
        let mut problems = snapshot_report::release_problems(snapshot, lang);
        if current.is_none() {
            problems.push(snapshot_report::current_line(snapshot, lang));
        }
        problems
    };
    Status {
        server: server_view(operator.started, now),
        config_stale: stale_files(snapshot, operator.config_stale.as_ref(), unix(now)),
        ready: current.is_some(),
        current_release: current.map(|r| release_view(r)),
        critical_version: snapshot.critical.map(|c| CriticalView {
            version: c.version.as_u32(),
            source: match c.source {
                CriticalSource::Config => "config",
                CriticalSource::Release => "release",
            },
        }),
        upgrade_path: upgrade_path(&snapshot.releases),
        releases: folder_views(&snapshot.releases),
        release_problems: problems_in(Lang::En),
        release_problems_ru: problems_in(Lang::Ru),
        licenses: licenses_view(snapshot),
        reloads: operator.reloads,
        requests: operator
            .requests
            .into_iter()
            .map(|(route, status, count)| RequestCount {
                route,
                status,
                count,
            })
            .collect(),
        unmapped_build_dates: unmapped_build_dates(snapshot, &operator.fleet),
        fleet: operator.fleet,
        devices: operator.devices,
        inventory: operator.inventory,
        lines: line_views(snapshot),
        lines_out: snapshot
            .lines
            .out
            .iter()
            .map(|out| LineOutView {
                name: out.name.clone(),
                path: out.dir.display().to_string(),
                reason: out.reason.clone(),
            })
            .collect(),
        rollouts: operator.rollouts,
        tls: operator.tls,
    }
}

/// This server's version, when it started and for how long it has run, as of `now`.
fn server_view(started: SystemTime, now: SystemTime) -> ServerStatus {
    ServerStatus {
        version: env!("CARGO_PKG_VERSION"),
        started_at: unix(started),
        started_at_local: crate::model::unix_time::local_text(unix(started)),
        now_local: crate::model::unix_time::local_text(unix(now)),
        uptime_s: now.duration_since(started).map_or(0, |d| d.as_secs()),
    }
}

/// A release offered to devices, as the report shows it.
fn release_view(release: &Release) -> ReleaseView {
    ReleaseView {
        version: release.version.as_u32(),
        description: release.description.clone(),
        critical: release.critical,
    }
}

/// The license files read, their serials and problems, and the serials overridden.
fn licenses_view(snapshot: &Snapshot) -> LicensesView {
    LicensesView {
        serials: snapshot.licenses.total(),
        files: snapshot
            .licenses
            .files
            .iter()
            .map(|f| LicenseFileView {
                path: f.path.display().to_string(),
                serials: f.len(),
                problems: f.problems.iter().map(problem_said).collect(),
            })
            .collect(),
        overrides: snapshot
            .licenses
            .overrides
            .iter()
            .map(problem_said)
            .collect(),
    }
}

/// A problem as one line (where, then what) in both languages.
fn problem_said(problem: &Problem) -> Said {
    Said::new(|w| problem.in_language(w.lang))
}

/// A line's floors as yyyymmdd numbers, oldest first.
fn upgrade_path(releases: &ReleaseSet) -> Vec<u32> {
    releases.floors().iter().map(|v| v.as_u32()).collect()
}

/// Each named line that serves: its release, critical version, builds and folders.
fn line_views(snapshot: &Snapshot) -> Vec<LineView> {
    snapshot
        .lines
        .lines
        .values()
        .map(|line| {
            let view = snapshot.line(&line.name);
            LineView {
                name: line.name.clone(),
                description: line.meta.description.clone(),
                path: line.dir.display().to_string(),
                current_release: line.releases.current().map(|r| release_view(r)),
                critical_version: view.and_then(|v| v.critical()).map(|v| v.as_u32()),
                known_builds: line.meta.known_builds.iter().map(|v| v.as_u32()).collect(),
                releases: folder_views(&line.releases),
                upgrade_path: upgrade_path(&line.releases),
            }
        })
        .collect()
}

// groups: the groups file, when it does not load.

/// `groups.yaml` as a file that does not load, with the groups still used meanwhile.
fn groups_stale(snapshot: &Snapshot, now: u64) -> Option<StaleFile> {
    let file = snapshot.groups_file.as_ref()?;
    let broken = file.broken.as_ref()?;
    let served = file.groups.len();
    let since = unix(broken.since);
    Some(StaleFile {
        file: file.path.display().to_string(),
        kind: StaleKind::Groups,
        error: bounded(broken.reason.in_language(Lang::En).to_string()),
        error_ru: bounded(broken.reason.in_language(Lang::Ru).to_string()),
        since,
        since_local: crate::model::unix_time::local_text(since),
        stale_for_s: now.saturating_sub(since),
        licenses_served: None,
        meanwhile: groups_meanwhile(served, Lang::En),
        groups_served: Some(served),
    })
}

/// What the server does while the groups file does not load, in `lang`.
fn groups_meanwhile(served: usize, lang: Lang) -> String {
    let t = crate::words::Words::of(lang).groups;
    if served == 0 {
        t.stale_none.to_string()
    } else {
        format!("{} {served}.", t.stale_kept)
    }
}

impl StaleFile {
    /// For the groups file: what the server does meanwhile, in the page's language.
    pub fn groups_meanwhile_in(&self, t: &Text) -> Option<String> {
        let lang = if t.lang == "ru" { Lang::Ru } else { Lang::En };
        self.groups_served
            .map(|served| groups_meanwhile(served, lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_error_is_cut_at_a_character_boundary() {
        let error = "ключ".repeat(1000);
        let cut = bounded(error);
        assert!(
            cut.len() <= STALE_ERROR_MAX + '…'.len_utf8(),
            "{}",
            cut.len()
        );
        assert!(cut.ends_with('…') && cut.starts_with("ключ"));
        assert_eq!(bounded("short".into()), "short");
    }

    /// `GET /status` (serde) and the dashboard (`as_str`) must say the same word.
    #[test]
    fn labels_read_the_same_in_json_and_on_the_dashboard() {
        for label in [
            FolderLabel::Current,
            FolderLabel::Published,
            FolderLabel::Settling,
            FolderLabel::Rejected,
        ] {
            assert_eq!(
                serde_json::to_value(label).unwrap(),
                serde_json::Value::from(label.as_str())
            );
        }
        for kind in [UnmappedKind::Unknown, UnmappedKind::Ambiguous] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }
}
