//! The audit trail's records of what a rescan found changed on disk: a release published,
//! withdrawn or its files replaced, its rollout paused, resumed or otherwise edited in its
//! `meta.yaml`. Read off the same two snapshots as the history's release events
//! (`release_events`); pure but for `withdrawer`, which the caller gives (who withdrew a
//! release is on the shelf it went to, not in either snapshot).
//!
//! The actor is who the release names: `published_by` in its `meta.yaml` (the `publish`
//! command writes the OS user it ran as), else the owner of its folder (`Release::
//! published_by`); for a withdrawal, the `withdrawn_by` the `withdraw` command left on the
//! shelf; "unknown" when none can be told (a folder removed by hand, Windows owners).
//! Every instance sharing a store sees the same change: the records are `once`
//! (`audit_sql::SAME_CHANGE_WITHIN`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::audit::{Action, AuditEntry};
use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::releases::Release;
use crate::catalog::snapshot::Snapshot;

/// A release: its line's name and its version.
type Key = (String, u32);

/// The actor when nobody can be named.
pub const UNKNOWN: &str = "unknown";
/// The results of a withdraw, pause and resume seen on disk: the admin API records its own
/// change with the same words the moment it is on disk, so the rescan's record of it is
/// the same change and is not made again (`audit_sql::SAME_CHANGE_WITHIN`).
pub const WITHDRAWN: &str = "withdrawn: no longer offered nor served";
pub const PAUSED: &str = "paused: true";
pub const RESUMED: &str = "paused no more";

/// The audit entries for what changed between `before` and `after`; `withdrawer(line,
/// version)` names who withdrew a release that is gone.
pub fn audit_entries(
    before: &Snapshot,
    after: &Snapshot,
    withdrawer: impl Fn(&str, u32) -> Option<String>,
) -> Vec<AuditEntry> {
    let old = published(before);
    let new = published(after);
    let mut entries = Vec::new();
    for (key, release) in &new {
        match old.get(key) {
            None => entries.push(entry(
                key,
                release,
                Action::Publish,
                published_text(release),
            )),
            Some(previous) if !Arc::ptr_eq(previous, release) => {
                changed(&mut entries, key, previous, release)
            }
            Some(_) => {}
        }
    }
    for (key, release) in old.iter().filter(|(k, _)| !new.contains_key(*k)) {
        let actor = withdrawer(&key.0, key.1)
            .or_else(|| release.published_by.clone())
            .unwrap_or_else(|| UNKNOWN.to_string());
        entries.push(AuditEntry::new(
            &actor,
            Action::Withdraw,
            &subject(key),
            WITHDRAWN,
        ));
    }
    entries
}

/// A release's subject in the trail: `20250301`, or `C.3/20250301` in a named line.
pub fn subject(key: &Key) -> String {
    if key.0 == DEFAULT_LINE {
        key.1.to_string()
    } else {
        format!("{}/{}", key.0, key.1)
    }
}

fn entry(key: &Key, release: &Release, action: Action, result: String) -> AuditEntry {
    let actor = release.published_by.as_deref().unwrap_or(UNKNOWN);
    AuditEntry::new(actor, action, &subject(key), &result)
}

fn published_text(release: &Release) -> String {
    let mut text = format!("published: {:?}", release.description);
    if let Some(rollout) = &release.rollout {
        text.push_str(&format!(", rollout {rollout}"));
    }
    text.push_str(&format!(", sha256 {}", short_hashes(release)));
    text
}

/// The two files' SHA-256, the first 16 hex digits of each.
fn short_hashes(release: &Release) -> String {
    release
        .files
        .iter()
        .map(|f| crate::catalog::release_meta::to_hex(&f.sha256[..8]))
        .collect::<Vec<_>>()
        .join("/")
}

/// A release read anew: new bytes (replace), paused or resumed, other rollout edits.
fn changed(entries: &mut Vec<AuditEntry>, key: &Key, previous: &Release, release: &Release) {
    let same_bytes = previous
        .files
        .iter()
        .zip(&release.files)
        .all(|(a, b)| a.sha256 == b.sha256);
    if !same_bytes {
        let result = format!("new bytes, sha256 {}", short_hashes(release));
        entries.push(entry(key, release, Action::Replace, result));
    }
    let paused = |r: &Release| r.rollout.as_ref().is_some_and(|r| r.paused);
    match (paused(previous), paused(release)) {
        (false, true) => entries.push(entry(key, release, Action::Pause, PAUSED.into())),
        (true, false) => entries.push(entry(key, release, Action::Resume, RESUMED.into())),
        _ => {}
    }
    let unpaused = |r: &Release| {
        r.rollout.as_ref().map(|rollout| {
            let mut rollout = rollout.clone();
            rollout.paused = false;
            rollout.to_string()
        })
    };
    // `settings_id` is the rollout as written: an edit that changes no setting (adding
    // `paused: false`, which resumes a halted rollout) is an edit all the same, unless the
    // pause it toggled is what was recorded.
    let written = |r: &Release| r.rollout.as_ref().map(|r| r.settings_id.clone());
    let rewritten = written(previous) != written(release) && paused(previous) == paused(release);
    let now = unpaused(release);
    if unpaused(previous) != now || rewritten {
        let result = match now {
            Some(rollout) => format!("rollout now {rollout}"),
            None => "rollout removed: everyone is admitted".to_string(),
        };
        entries.push(entry(key, release, Action::RolloutEdit, result));
    }
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
