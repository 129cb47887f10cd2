//! The release folders and lines as the status report shows them: each folder's state in
//! operators' words (`FolderLabel`, which `publish` reads back from `GET /status`), the
//! release offered, and each named line with its folders and upgrade path. Part of the
//! status report (`status_report`).

use serde::Serialize;

use crate::catalog::releases::{FolderState, Release, ReleaseSet};
use crate::catalog::snapshot::Snapshot;
use crate::model::lang::fill;
use crate::words::dashboard::Text;
use crate::words::Said;

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

/// The folders of one line's scan, as the report shows them.
pub(super) fn folder_views(releases: &ReleaseSet) -> Vec<FolderView> {
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

/// A release offered to devices, as the report shows it.
pub(super) fn release_view(release: &Release) -> ReleaseView {
    ReleaseView {
        version: release.version.as_u32(),
        description: release.description.clone(),
        critical: release.critical,
    }
}

/// A line's floors as yyyymmdd numbers, oldest first.
pub(super) fn upgrade_path(releases: &ReleaseSet) -> Vec<u32> {
    releases.floors().iter().map(|v| v.as_u32()).collect()
}

/// Each named line that serves: its release, critical version, builds and folders.
pub(super) fn line_views(snapshot: &Snapshot) -> Vec<LineView> {
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
