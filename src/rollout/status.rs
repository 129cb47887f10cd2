//! Where each rollout stands, for `GET /status` and the dashboard: its settings, how many
//! are admitted (in all and this hour), its halt, and its state (`RolloutState`, shown as
//! one word: `admitting`, `paused`, `halted`, `outside_window`, `hourly_cap_reached`). A
//! pure function of the snapshot, the admissions memory and the latest projections (each
//! rollout's `deadline`, `projected_finish`, `late`), so both views agree.

use std::collections::HashMap;

use serde::Serialize;

use crate::catalog::snapshot::Snapshot;
use crate::rollout::admissions::{Admissions, Halt};
use crate::rollout::forecasts::Forecast;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RolloutView {
    /// `""`: the default line.
    pub line: String,
    pub version: u32,
    /// The rollout in words.
    pub settings: String,
    /// The same in Russian, for the Russian dashboard (not part of `/status`).
    #[serde(skip)]
    pub settings_ru: String,
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
    pub state: RolloutState,
    /// `deadline` as written (YYYY-MM-DD): every device of the line should report the
    /// release by the end of that day, server time.
    pub deadline: Option<String>,
    /// When the last device of the line still below the release is projected to report it
    /// (Unix seconds); none when it cannot be projected (`projection` says why).
    pub projected_finish: Option<u64>,
    /// `projected`, or why there is no projected finish (`Projected::as_str`).
    pub projection: &'static str,
    /// The deadline will be missed: the projected finish is after it, the plan never
    /// reaches everyone, or it has passed with devices still below the release.
    pub late: bool,
    /// Devices of the line below the release at the last projection.
    pub below: Option<u64>,
    /// Devices that reported the release at the last projection.
    #[serde(skip)]
    pub updated: Option<u64>,
}

/// Why a rollout has no projected finish besides the projection's own reasons: no inventory
/// to count the line in, or not projected yet (the watch does it within seconds of start).
pub const PROJECTION_NO_INVENTORY: &str = "no_inventory";
pub const PROJECTION_PENDING: &str = "pending";
/// A projected finish is shown.
pub const PROJECTION_MADE: &str = "projected";

/// Where a rollout stands, in one word: `GET /status` and the dashboard's `data-state` show
/// `as_str`, so these words are part of what operators' scripts read.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    /// New devices are let in.
    Admitting,
    /// `paused` in its `meta.yaml`.
    Paused,
    /// Halted by its stuck devices.
    Halted,
    /// Outside its daily window.
    OutsideWindow,
    /// Its `max_new_per_hour` is used up for this hour.
    HourlyCapReached,
}

impl RolloutState {
    /// The word `GET /status` answers (`admitting`, `outside_window`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Admitting => "admitting",
            RolloutState::Paused => "paused",
            RolloutState::Halted => "halted",
            RolloutState::OutsideWindow => "outside_window",
            RolloutState::HourlyCapReached => "hourly_cap_reached",
        }
    }

    /// Whether nobody new is let in until an operator acts (paused or halted).
    pub fn needs_operator(self) -> bool {
        matches!(self, RolloutState::Paused | RolloutState::Halted)
    }
}

impl std::fmt::Display for RolloutState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every published release under rollout, with its admissions and its latest projection
/// (`forecasts`; none: no inventory), as of `now` (Unix seconds) and `local_minute` (of the
/// day, server local time).
pub fn rollouts(
    snapshot: &Snapshot,
    admissions: &Admissions,
    forecasts: Option<&HashMap<(String, u32), Forecast>>,
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
                RolloutState::Paused
            } else if halted.is_some() {
                RolloutState::Halted
            } else if rollout.window.is_some_and(|w| !w.contains(local_minute)) {
                RolloutState::OutsideWindow
            } else if remaining == Some(0) {
                RolloutState::HourlyCapReached
            } else {
                RolloutState::Admitting
            };
            let forecast =
                forecasts.and_then(|f| f.get(&(line.name.to_string(), release.version.as_u32())));
            let projection = match (forecasts, forecast) {
                (None, _) => PROJECTION_NO_INVENTORY,
                (Some(_), None) => PROJECTION_PENDING,
                (Some(_), Some(f)) => f
                    .projection
                    .finish
                    .map_or_else(|why| why.as_str(), |_| PROJECTION_MADE),
            };
            views.push(RolloutView {
                line: line.name.to_string(),
                version: release.version.as_u32(),
                settings: rollout.to_string(),
                settings_ru: rollout.in_russian(),
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
                deadline: rollout.deadline.map(|d| d.format("%Y-%m-%d").to_string()),
                projected_finish: forecast.and_then(|f| f.projection.finish.ok()),
                projection,
                late: forecast.is_some_and(|f| f.projection.late),
                below: forecast.map(|f| f.below),
                updated: forecast.map(|f| f.updated),
            });
        }
    }
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET /status` (serde) and the dashboard (`as_str`) must say the same word.
    #[test]
    fn the_state_reads_the_same_in_json_and_on_the_dashboard() {
        for state in [
            RolloutState::Admitting,
            RolloutState::Paused,
            RolloutState::Halted,
            RolloutState::OutsideWindow,
            RolloutState::HourlyCapReached,
        ] {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.as_str())
            );
        }
        assert_eq!(
            RolloutState::HourlyCapReached.as_str(),
            "hourly_cap_reached"
        );
    }
}
