//! The history's release events, read off two snapshots (before and after a reload):
//! published, changed in place (new bytes, rollout or description), paused, unpaused,
//! withdrawn, rejected (with the reason), in every line, and license reloads. Pure, so each kind is tested without a server.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::releases::{FolderState, Release};
use crate::catalog::snapshot::Snapshot;
use crate::store::event::Event;
use crate::store::history_kind::HistoryKind;

/// A release: its line's name and its version.
type Key = (String, u32);

/// What changed between `before` (none at start-up) and `after`, as history events.
pub fn release_events(before: Option<&Snapshot>, after: &Snapshot, at: u64) -> Vec<Event> {
    let mut events = Events {
        at,
        list: Vec::new(),
    };
    let old = before.map(published).unwrap_or_default();
    let new = published(after);
    for (key, release) in &new {
        match old.get(key) {
            None => events.published(key, release),
            Some(previous) if !Arc::ptr_eq(previous, release) => {
                events.changed(key, previous, release)
            }
            Some(_) => {}
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        events.push(HistoryKind::Withdrawn, key, String::new());
    }
    let old_rejected = before.map(rejected).unwrap_or_default();
    for (key, reason) in rejected(after) {
        if old_rejected.get(&key) != Some(&reason) {
            events.push(HistoryKind::Rejected, &key, reason);
        }
    }
    let old_licenses = before.map(licenses);
    let new_licenses = licenses(after);
    if old_licenses.as_ref() != Some(&new_licenses) {
        events.licenses_loaded(&new_licenses);
    }
    events.list
}

/// The events found so far, all at one time.
struct Events {
    at: u64,
    list: Vec<Event>,
}

impl Events {
    fn push(&mut self, kind: HistoryKind, key: &Key, detail: String) {
        self.list.push(Event::History {
            at: self.at,
            kind,
            line: key.0.as_str().into(),
            version: Some(key.1),
            detail,
        });
    }

    /// A release new in its line (and paused from the start, if it is).
    fn published(&mut self, key: &Key, release: &Release) {
        self.push(HistoryKind::Published, key, release.description.clone());
        if paused(release) {
            self.push(HistoryKind::Paused, key, "published paused".into());
        }
    }

    /// A release read anew: what changed in it, and whether it was paused or unpaused.
    fn changed(&mut self, key: &Key, previous: &Release, release: &Release) {
        self.push(HistoryKind::Changed, key, what_changed(previous, release));
        match (paused(previous), paused(release)) {
            (false, true) => {
                self.push(HistoryKind::Paused, key, "paused: true in meta.yaml".into())
            }
            (true, false) => self.push(
                HistoryKind::Unpaused,
                key,
                "paused no more in meta.yaml".into(),
            ),
            _ => {}
        }
    }

    /// The license files now loaded, with their counts.
    fn licenses_loaded(&mut self, files: &[(String, usize)]) {
        let detail = files
            .iter()
            .map(|(path, n)| format!("{path}: {n} serials"))
            .collect::<Vec<_>>()
            .join("; ");
        self.list.push(Event::History {
            at: self.at,
            kind: HistoryKind::LicensesLoaded,
            line: "".into(),
            version: None,
            detail,
        });
    }
}

/// The `changed` entry's detail: new bytes first, then the rollout, else the description
/// or flags.
fn what_changed(previous: &Release, release: &Release) -> String {
    let same_bytes = previous
        .files
        .iter()
        .zip(&release.files)
        .all(|(a, b)| a.sha256 == b.sha256);
    if !same_bytes {
        "new bytes".to_string()
    } else if previous.rollout != release.rollout {
        match &release.rollout {
            Some(rollout) => format!("rollout now {rollout}"),
            None => "rollout removed: everyone is admitted".to_string(),
        }
    } else {
        format!("description or flags now {:?}", release.description)
    }
}

fn paused(release: &Release) -> bool {
    release.rollout.as_ref().is_some_and(|r| r.paused)
}

/// The releases published in every line of `snapshot`.
fn published(snapshot: &Snapshot) -> BTreeMap<Key, Arc<Release>> {
    snapshot
        .all_lines()
        .flat_map(|line| {
            line.releases
                .published()
                .map(move |r| ((line.name.to_string(), r.version.as_u32()), r.clone()))
        })
        .collect()
}

/// The release folders refused in every line of `snapshot`, with the reason.
fn rejected(snapshot: &Snapshot) -> BTreeMap<Key, String> {
    snapshot
        .all_lines()
        .flat_map(|line| {
            line.releases
                .folders
                .iter()
                .filter_map(move |f| match &f.state {
                    FolderState::Rejected(reason) => {
                        // The inventory's history keeps the English, as written then.
                        Some((
                            (line.name.to_string(), f.version.as_u32()),
                            reason.to_string(),
                        ))
                    }
                    _ => None,
                })
        })
        .collect()
}

/// The license files of `snapshot` and how many serials each holds.
fn licenses(snapshot: &Snapshot) -> Vec<(String, usize)> {
    snapshot
        .licenses
        .files
        .iter()
        .map(|f| (f.path.display().to_string(), f.len()))
        .collect()
}
