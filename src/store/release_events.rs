//! The history's release events, read off two snapshots (before and after a reload):
//! published, changed in place (new bytes, rollout or description), paused, unpaused,
//! withdrawn, rejected (with the reason), in every line, and license reloads. Pure, so each kind is tested without a server.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::catalog::releases::{FolderState, Release};
use crate::catalog::snapshot::Snapshot;
use crate::store::event::Event;

/// What changed between `before` (none at start-up) and `after`, as history events.
pub fn release_events(before: Option<&Snapshot>, after: &Snapshot, at: u64) -> Vec<Event> {
    type Key = (String, u32);
    let published = |s: &Snapshot| -> BTreeMap<Key, Arc<Release>> {
        s.all_lines()
            .flat_map(|line| {
                line.releases
                    .published()
                    .map(move |r| ((line.name.to_string(), r.version.as_u32()), r.clone()))
            })
            .collect()
    };
    let old = before.map(published).unwrap_or_default();
    let new = published(after);
    let mut events = Vec::new();
    let mut push = |kind: &'static str, key: &Key, detail: String| {
        events.push(Event::History {
            at,
            kind,
            line: key.0.as_str().into(),
            version: Some(key.1),
            detail,
        });
    };
    let paused = |r: &Release| r.rollout.as_ref().is_some_and(|r| r.paused);
    for (key, release) in &new {
        match old.get(key) {
            None => {
                push("published", key, release.description.clone());
                if paused(release) {
                    push("paused", key, "published paused".into());
                }
            }
            Some(previous) if !Arc::ptr_eq(previous, release) => {
                let same_bytes = previous
                    .files
                    .iter()
                    .zip(&release.files)
                    .all(|(a, b)| a.sha256 == b.sha256);
                let detail = if !same_bytes {
                    "new bytes".to_string()
                } else if previous.rollout != release.rollout {
                    match &release.rollout {
                        Some(rollout) => format!("rollout now {rollout}"),
                        None => "rollout removed: everyone is admitted".to_string(),
                    }
                } else {
                    format!("description or flags now {:?}", release.description)
                };
                push("changed", key, detail);
                match (paused(previous), paused(release)) {
                    (false, true) => push("paused", key, "paused: true in meta.yaml".into()),
                    (true, false) => push("unpaused", key, "paused no more in meta.yaml".into()),
                    _ => {}
                }
            }
            Some(_) => {}
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        push("withdrawn", key, String::new());
    }
    let rejected = |s: &Snapshot| -> BTreeMap<Key, String> {
        s.all_lines()
            .flat_map(|line| {
                line.releases
                    .folders
                    .iter()
                    .filter_map(move |f| match &f.state {
                        FolderState::Rejected(reason) => {
                            Some(((line.name.to_string(), f.version.as_u32()), reason.clone()))
                        }
                        _ => None,
                    })
            })
            .collect()
    };
    let old_rejected = before.map(rejected).unwrap_or_default();
    for (key, reason) in rejected(after) {
        if old_rejected.get(&key) != Some(&reason) {
            push("rejected", &key, reason);
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
        events.push(Event::History {
            at,
            kind: "licenses_loaded",
            line: "".into(),
            version: None,
            detail,
        });
    }
    events
}
