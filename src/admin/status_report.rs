//! What `GET /status` answers and the dashboard shows: one pure function from a snapshot and
//! the operator-side state to a serializable report, so both views always agree.

use std::time::SystemTime;

use serde::Serialize;

use crate::app_state::ReloadRecord;
use crate::catalog::releases::FolderState;
use crate::catalog::snapshot::{CriticalSource, Snapshot};
use crate::catalog::snapshot_report;
use crate::model::unix_time::unix;
use crate::observe::fleet::{Device, FleetSummary};
use crate::observe::inventory::InventoryStatus;

#[derive(Debug, Serialize)]
pub struct Status {
    pub server: ServerStatus,
    /// A release is published: devices can be offered firmware.
    pub ready: bool,
    pub current_release: Option<ReleaseView>,
    pub critical_version: Option<CriticalView>,
    /// Every release folder, newest first.
    pub releases: Vec<FolderView>,
    /// Problems with `firmware_dir` and notes about kept versions.
    pub release_problems: Vec<String>,
    pub licenses: LicensesView,
    /// The last reloads, newest first.
    pub reloads: Vec<ReloadRecord>,
    pub requests: Vec<RequestCount>,
    pub fleet: FleetSummary,
    /// The most recently seen devices, newest first.
    pub devices: Vec<Device>,
    /// The fleet's memory: where it is kept and whether writes succeed.
    pub inventory: InventoryStatus,
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
    /// `current`, `published`, `settling` or `rejected`.
    pub state: &'static str,
    pub description: Option<String>,
    pub critical: Option<bool>,
    /// Why it is rejected, or how long it still settles.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LicensesView {
    pub serials: usize,
    pub files: Vec<LicenseFileView>,
    /// Serials one file overrides in another.
    pub overrides: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LicenseFileView {
    pub path: String,
    pub serials: usize,
    pub problems: Vec<String>,
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
    pub reloads: Vec<ReloadRecord>,
    pub requests: Vec<(String, String, u64)>,
    pub fleet: FleetSummary,
    pub devices: Vec<Device>,
    pub inventory: InventoryStatus,
}

/// Builds the report.
pub fn status(snapshot: &Snapshot, operator: OperatorState, now: SystemTime) -> Status {
    let current = snapshot.releases.current();
    let releases = snapshot
        .releases
        .folders
        .iter()
        .map(|folder| {
            let is_current = current.is_some_and(|c| c.version == folder.version);
            let (state, release, reason) = match &folder.state {
                FolderState::Published(r) => (
                    if is_current { "current" } else { "published" },
                    Some(r),
                    None,
                ),
                FolderState::Settling {
                    wait,
                    reason,
                    serving,
                } => (
                    if is_current { "current" } else { "settling" },
                    serving.as_ref(),
                    Some(format!(
                        "{reason}; checked again in {} ms",
                        wait.as_millis()
                    )),
                ),
                FolderState::Rejected(reason) => ("rejected", None, Some(reason.clone())),
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
        .collect();
    let mut release_problems = snapshot_report::release_problems(snapshot);
    if current.is_none() {
        release_problems.push(snapshot_report::current_line(snapshot));
    }
    let licenses = LicensesView {
        serials: snapshot.licenses.total(),
        files: snapshot
            .licenses
            .files
            .iter()
            .map(|f| LicenseFileView {
                path: f.path.display().to_string(),
                serials: f.len(),
                problems: f.problems.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        overrides: snapshot
            .licenses
            .overrides
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    Status {
        server: ServerStatus {
            version: env!("CARGO_PKG_VERSION"),
            started_at: unix(operator.started),
            started_at_local: crate::model::unix_time::local_text(unix(operator.started)),
            now_local: crate::model::unix_time::local_text(unix(now)),
            uptime_s: now
                .duration_since(operator.started)
                .map_or(0, |d| d.as_secs()),
        },
        ready: current.is_some(),
        current_release: current.map(|r| ReleaseView {
            version: r.version.as_u32(),
            description: r.description.clone(),
            critical: r.critical,
        }),
        critical_version: snapshot.critical.map(|c| CriticalView {
            version: c.version.as_u32(),
            source: match c.source {
                CriticalSource::Config => "config",
                CriticalSource::Release => "release",
            },
        }),
        releases,
        release_problems,
        licenses,
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
        fleet: operator.fleet,
        devices: operator.devices,
        inventory: operator.inventory,
    }
}
