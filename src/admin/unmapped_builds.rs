//! Build dates the fleet reported that the lines do not map to exactly one line (none
//! claims them, or several do), for the status report (`status_report`).

use serde::Serialize;

use crate::catalog::device_line::{line_label, DeviceLine};
use crate::catalog::snapshot::Snapshot;
use crate::model::version::Version;
use crate::observe::fleet::FleetSummary;
use crate::words::dashboard::Text;

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
