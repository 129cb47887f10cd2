//! Where each rollout stands, for `GET /status` and the dashboard: its settings, how many
//! are admitted (in all and this hour), its halt, and the one word for its state
//! (`admitting`, `paused`, `halted`, `outside_window`, `hourly_cap_reached`). A pure
//! function of the snapshot and the admissions memory, so both views agree.

use serde::Serialize;

use crate::catalog::snapshot::Snapshot;
use crate::rollout::admissions::{Admissions, Halt};

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RolloutView {
    /// `""`: the default line.
    pub line: String,
    pub version: u32,
    /// The rollout in words.
    pub settings: String,
    pub percent: u8,
    pub pilot: String,
    pub window: Option<String>,
    pub paused: bool,
    /// Set while halted by its stuck devices.
    pub halted: Option<Halt>,
    pub admitted: u64,
    pub admitted_last_hour: u64,
    pub max_new_per_hour: Option<u32>,
    /// How many more the hourly cap lets in right now (none: no cap).
    pub remaining_this_hour: Option<u64>,
    /// `admitting`, `paused`, `halted`, `outside_window` or `hourly_cap_reached`.
    pub state: &'static str,
}

/// Every published release under rollout, with its admissions, as of `now` (Unix seconds)
/// and `local_minute` (of the day, server local time).
pub fn rollouts(
    snapshot: &Snapshot,
    admissions: &Admissions,
    now: u64,
    local_minute: u32,
) -> Vec<RolloutView> {
    let mut views = Vec::new();
    for line in snapshot.all_lines() {
        for release in line.releases.published().rev() {
            let Some(rollout) = &release.rollout else {
                continue;
            };
            let counts = admissions.counts(line.name, release.version, now);
            let halted = admissions.halt(line.name, release.version);
            let remaining = rollout
                .max_new_per_hour
                .map(|cap| u64::from(cap).saturating_sub(counts.admitted_last_hour));
            let state = if rollout.paused {
                "paused"
            } else if halted.is_some() {
                "halted"
            } else if rollout.window.is_some_and(|w| !w.contains(local_minute)) {
                "outside_window"
            } else if remaining == Some(0) {
                "hourly_cap_reached"
            } else {
                "admitting"
            };
            views.push(RolloutView {
                line: line.name.to_string(),
                version: release.version.as_u32(),
                settings: rollout.to_string(),
                percent: rollout.percent,
                pilot: rollout.pilot.to_string(),
                window: rollout.window.map(|w| w.to_string()),
                paused: rollout.paused,
                halted,
                admitted: counts.admitted,
                admitted_last_hour: counts.admitted_last_hour,
                max_new_per_hour: rollout.max_new_per_hour,
                remaining_this_hour: remaining,
                state,
            });
        }
    }
    views
}
