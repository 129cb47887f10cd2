//! The history's release events, read off two snapshots (before and after a reload):
//! published, changed in place (new bytes or description), withdrawn, rejected (with the
//! reason), and license reloads. Pure, so each kind is tested without a server.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::releases::{FolderState, Release};
use crate::catalog::snapshot::Snapshot;
use crate::observe::inventory::event::Event;

/// What changed between `before` (none at start-up) and `after`, as history events.
pub fn release_events(before: Option<&Snapshot>, after: &Snapshot, at: u64) -> Vec<Event> {
    let published = |s: &Snapshot| -> BTreeMap<u32, Arc<Release>> {
        s.releases
            .published()
            .map(|r| (r.version.as_u32(), r.clone()))
            .collect()
    };
    let old = before.map(published).unwrap_or_default();
    let new = published(after);
    let mut events = Vec::new();
    let mut push = |kind: &'static str, version: Option<u32>, detail: String| {
        events.push(Event::History {
            at,
            kind,
            version,
            detail,
        });
    };
    for (version, release) in &new {
        match old.get(version) {
            None => push("published", Some(*version), release.description.clone()),
            Some(previous) if !Arc::ptr_eq(previous, release) => {
                let same_bytes = previous
                    .files
                    .iter()
                    .zip(&release.files)
                    .all(|(a, b)| a.sha256 == b.sha256);
                let detail = if same_bytes {
                    format!("description or flags now {:?}", release.description)
                } else {
                    "new bytes".to_string()
                };
                push("changed", Some(*version), detail);
            }
            Some(_) => {}
        }
    }
    for version in old.keys().filter(|v| !new.contains_key(v)) {
        push("withdrawn", Some(*version), String::new());
    }
    let rejected = |s: &Snapshot| -> BTreeMap<u32, String> {
        s.releases
            .folders
            .iter()
            .filter_map(|f| match &f.state {
                FolderState::Rejected(reason) => Some((f.version.as_u32(), reason.clone())),
                _ => None,
            })
            .collect()
    };
    let old_rejected = before.map(rejected).unwrap_or_default();
    for (version, reason) in rejected(after) {
        if old_rejected.get(&version) != Some(&reason) {
            push("rejected", Some(version), reason);
        }
    }
    let licenses = |s: &Snapshot| -> Vec<(String, usize)> {
        s.licenses
            .files
            .iter()
            .map(|f| (f.path.display().to_string(), f.len()))
            .collect()
    };
    let old_licenses = before.map(licenses);
    let new_licenses = licenses(after);
    if old_licenses.as_ref() != Some(&new_licenses) {
        let detail = new_licenses
            .iter()
            .map(|(path, n)| format!("{path}: {n} serials"))
            .collect::<Vec<_>>()
            .join("; ");
        push("licenses_loaded", None, detail);
    }
    events
}
