//! What `GET /status` answers and the dashboard shows: one pure function from a snapshot and
//! the operator-side state to a serializable report, so both views always agree.

use std::time::SystemTime;

use serde::Serialize;

use crate::admin::release_views::{folder_views, line_views, release_view, upgrade_path};
use crate::app_state::{ReloadRecord, StaleConfig};
use crate::catalog::snapshot::{CriticalSource, Snapshot};
use crate::catalog::snapshot_report;
use crate::config::tls::CertificateStore;
use crate::model::lang::Lang;
use crate::model::problem::Problem;
use crate::model::unix_time::unix;
use crate::observe::fleet::{Device, FleetSummary};
use crate::rollout::status::RolloutView;
use crate::store::InventoryStatus;
use crate::words::dashboard::Text;
use crate::words::Said;

// The report's parts live in files of their own; their names are said here too, so that
// `status_report::{…}` keeps naming everything the report holds.
pub use crate::admin::release_views::{
    CriticalView, FolderLabel, FolderView, LineOutView, LineView, ReleaseView,
};
pub use crate::admin::stale_files::{stale_files, StaleFile, StaleKind};
pub use crate::admin::unmapped_builds::{unmapped_build_dates, UnmappedDate, UnmappedKind};

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

#[cfg(test)]
mod tests {
    use super::*;

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
