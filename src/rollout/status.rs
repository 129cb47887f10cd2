//! Where each rollout stands, for `GET /status` and the dashboard: its settings, how many
//! are admitted (in all and this hour), its halt, and its state (`RolloutState`, shown as
//! one word: `admitting`, `paused`, `halted`, `outside_window`, `hourly_cap_reached`). A
//! pure function of the snapshot and the admissions memory, so both views agree.

use serde::Serialize;

use crate::catalog::snapshot::Snapshot;
use crate::rollout::admissions::{Admissions, Halt};
use crate::words::dashboard::Text;

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
}

impl RolloutView {
    /// The settings in the page's language: Russian for the Russian page, the English of
    /// `/status` for the English one.
    pub fn settings_in(&self, t: &Text) -> &str {
        if t.lang == "ru" {
            &self.settings_ru
        } else {
            &self.settings
        }
    }
}

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
    /// The state in the dashboard's words.
    pub fn words(&self, t: &Text) -> &'static str {
        match self {
            RolloutState::Paused => t.rollout_paused,
            RolloutState::Halted => t.rollout_halted,
            RolloutState::OutsideWindow => t.rollout_outside_window,
            RolloutState::HourlyCapReached => t.rollout_cap_reached,
            RolloutState::Admitting => t.rollout_admitting,
        }
    }

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
