//! Where each rollout stands, for `GET /status` and the dashboard: its settings, how many
//! are admitted (in all and this hour), its halt, and its state (`RolloutState`, shown as
//! one word: `admitting`, `paused`, `halted`, `outside_window`, `hourly_cap_reached`). A
//! pure function of the snapshot, the admissions memory and the latest projections (each
//! rollout's `deadline`, `projected_finish`, `late`), so both views agree.
//!
//! A rollout with stages also shows its stage (`stage`: N of M, its share and cap, since
//! when, the figures it is judged by, and one word, `StageState`); its `percent`,
//! `max_new_per_hour` and `remaining_this_hour` are then the current stage's.

use std::collections::HashMap;

use serde::Serialize;

use crate::catalog::snapshot::Snapshot;
use crate::rollout::admissions::{Admissions, Halt, StageNow};
use crate::rollout::forecasts::Forecast;
use crate::rollout::rules::{per_mille_text, Rollout};
use crate::rollout::stages::{figures_text, figures_text_ru, verdict, Figures, Verdict};
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
    /// With `stages:` only: where they stand.
    pub stage: Option<StageStatus>,
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

/// Where a rollout's stages stand (`/status`'s `stage`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct StageStatus {
    /// The current stage, from 1.
    pub number: u8,
    /// How many stages there are.
    pub of: u8,
    pub percent: u8,
    pub max_new_per_hour: Option<u32>,
    /// Unix seconds the stage's clock started (its pauses added; none before the watch's
    /// first round).
    pub since: Option<u64>,
    /// Seconds of soak left (0: soaked).
    pub soak_left_s: u64,
    /// Its thresholds.
    pub soak_s: u64,
    pub min_updated: u64,
    pub success_percent: String,
    /// Cumulative since publish, pilots included; none without an inventory.
    pub figures: Option<Figures>,
    pub confirmed_percent: Option<String>,
    pub state: StageState,
    /// While waiting: what it lacks, in words ("96% confirmed, needs 97%").
    pub waiting_for: Option<String>,
    /// The same in Russian, for the Russian dashboard (not part of `/status`).
    #[serde(skip)]
    pub waiting_for_ru: Option<String>,
}

impl StageStatus {
    /// A rollout's stage in words: "stage 2 of 3: 25%, since 30.11.2026 09:40 — waiting:
    /// 18 of 20 downloads confirmed (90%, needs 95%), …".
    pub fn words(&self, t: &Text, since: &str) -> String {
        let stage = self;
        let state = match stage.state {
            StageState::Soaking => 0,
            StageState::Waiting => 1,
            StageState::Advancing => 2,
            StageState::Last => 3,
            StageState::Halted => 4,
            StageState::Paused => 5,
        };
        let mut line = t
            .stage_of
            .replace("{n}", &stage.number.to_string())
            .replace("{of}", &stage.of.to_string())
            .replace("{percent}", &stage.percent.to_string());
        if !since.is_empty() {
            line.push_str(&format!(", {} {since}", t.stage_since));
        }
        line.push_str(" — ");
        line.push_str(t.stage_states[state]);
        let waiting = if t.lang == "ru" {
            &stage.waiting_for_ru
        } else {
            &stage.waiting_for
        };
        if let Some(waiting) = waiting {
            line.push_str(": ");
            line.push_str(waiting);
        }
        line
    }
}

/// Where a stage stands, in one word (`/status` and the dashboard's `data-stage-state`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    /// Its soak has not passed yet.
    Soaking,
    /// Soaked, but the figures fall short: it advances as soon as they allow.
    Waiting,
    /// Soaked with the figures: the watch's next round starts the next stage.
    Advancing,
    /// The last stage: it never ends.
    Last,
    /// Halted by its stuck share: it neither admits nor advances.
    Halted,
    /// `paused: true`: its clock stands still.
    Paused,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Soaking => "soaking",
            StageState::Waiting => "waiting",
            StageState::Advancing => "advancing",
            StageState::Last => "last",
            StageState::Halted => "halted",
            StageState::Paused => "paused",
        }
    }
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

impl std::fmt::Display for StageState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stage status of `rollout` (with stages) from what the watch last set, at `now` (a
/// register's page shows it too).
pub fn stage_status(
    rollout: &Rollout,
    now_stage: Option<StageNow>,
    halted: bool,
    now: u64,
) -> StageStatus {
    let record = now_stage.map(|s| s.record).unwrap_or_default();
    let figures = now_stage.and_then(|s| s.figures);
    // A stored stage past the list (the list shrank since, or the row was edited by hand)
    // is the last stage: what `limits_at` admits by, and what `/status` says ("3 of 3",
    // never "5 of 3").
    let of = u8::try_from(rollout.stages.len()).unwrap_or(u8::MAX);
    let number = record.stage.clamp(1, of.max(1));
    let index = usize::from(number).min(rollout.stages.len()) - 1;
    let stage = &rollout.stages[index];
    let (percent, cap) = rollout.limits_at(number);
    let clock = if now_stage.is_some() {
        record
    } else {
        // Before the watch's first round the stage has not started: its clock reads zero.
        crate::rollout::stages::StageRecord {
            started_at: now,
            ..record
        }
    };
    let verdict = verdict(&rollout.stages, &clock, now, figures);
    let state = if rollout.paused {
        StageState::Paused
    } else if halted {
        StageState::Halted
    } else {
        match verdict {
            Verdict::Last => StageState::Last,
            Verdict::Soaking(_) => StageState::Soaking,
            Verdict::Waiting => StageState::Waiting,
            Verdict::Passed => StageState::Advancing,
        }
    };
    let waiting = matches!(verdict, Verdict::Waiting);
    let (waiting_for, waiting_for_ru) = match (waiting, figures) {
        (false, _) => (None, None),
        (true, None) => (
            Some("confirmations are counted by the inventory, which is off".to_string()),
            Some("подтверждения считает реестр касс, а он выключен".to_string()),
        ),
        (true, Some(f)) => (
            Some(figures_text(stage, &f)),
            Some(figures_text_ru(stage, &f)),
        ),
    };
    StageStatus {
        number,
        of,
        percent,
        max_new_per_hour: cap,
        since: now_stage.map(|s| s.record.clock_start()),
        soak_left_s: match verdict {
            Verdict::Soaking(left) => left,
            _ => 0,
        },
        soak_s: stage.soak_s,
        min_updated: stage.min_updated,
        success_percent: per_mille_text(stage.success_per_mille),
        figures,
        confirmed_percent: figures.map(|f| per_mille_text(f.confirmed_per_mille())),
        state,
        waiting_for,
        waiting_for_ru,
    }
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

/// Every published release under rollout, with its admissions and its latest projection
/// (`forecasts`; none: no inventory), as of `now` (Unix seconds). `local_minutes` are the
/// minutes of the day by each clock windows are read in (the server's, and each device
/// group's time zone): a rollout is outside its window only when it is so by every one.
pub fn rollouts(
    snapshot: &Snapshot,
    admissions: &Admissions,
    forecasts: Option<&HashMap<(String, u32), Forecast>>,
    now: u64,
    local_minutes: &[u32],
) -> Vec<RolloutView> {
    let mut views = Vec::new();
    for line in snapshot.all_lines() {
        for release in line.releases.published().rev() {
            let Some(rollout) = &release.rollout else {
                continue;
            };
            let counts = admissions.counts(line.name, release.version, now);
            let halted = admissions.halt(line.name, release.version);
            let stage = (!rollout.stages.is_empty()).then(|| {
                let now_stage = admissions.stage(line.name, release.version);
                stage_status(rollout, now_stage, halted.is_some(), now)
            });
            let (percent, cap) = rollout.limits_at(stage.as_ref().map_or(1, |s| s.number));
            let remaining = cap.map(|cap| u64::from(cap).saturating_sub(counts.admitted_last_hour));
            let state = if rollout.paused {
                RolloutState::Paused
            } else if halted.is_some() {
                RolloutState::Halted
            } else if rollout
                .window
                .is_some_and(|w| !local_minutes.iter().any(|m| w.contains(*m)))
            {
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
                percent,
                pilot: rollout.pilot.to_string(),
                window: rollout.window.map(|w| w.to_string()),
                paused: rollout.paused,
                halted,
                admitted: counts.admitted,
                admitted_last_hour: counts.admitted_last_hour,
                max_new_per_hour: cap,
                remaining_this_hour: remaining,
                state,
                stage,
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

    /// A stored stage beyond the list (the list shrank from five stages to two; a row
    /// edited to 255; or 0) is shown as the stage that applies, never "5 of 2".
    #[test]
    fn a_stored_stage_past_the_list_shows_as_the_last() {
        let rollout = Rollout::from_raw(
            serde_yaml::from_str("stages: [{percent: 5, soak: 1h}, {percent: 100}]").unwrap(),
        )
        .unwrap();
        for (stored, shown, percent) in [(5, 2, 100), (255, 2, 100), (0, 1, 5), (2, 2, 100)] {
            let now_stage = StageNow {
                record: crate::rollout::stages::StageRecord {
                    stage: stored,
                    started_at: 1000,
                    ..Default::default()
                },
                figures: None,
            };
            let status = stage_status(&rollout, Some(now_stage), false, 2000);
            assert_eq!(
                (status.number, status.of, status.percent),
                (shown, 2, percent),
                "stored {stored}"
            );
        }
    }

    /// Every word `/status` may give as a rollout's `projection` (other than `projected`)
    /// has its sentence in both tables.
    #[test]
    fn every_reason_without_a_projection_has_words_in_both_languages() {
        use crate::rollout::projection::Unprojected;
        use crate::rollout::status::{PROJECTION_NO_INVENTORY, PROJECTION_PENDING};
        let words = [
            Unprojected::Finished,
            Unprojected::Paused,
            Unprojected::Halted,
            Unprojected::NoConfirmationYet,
            Unprojected::PlanEndsBelowAll { percent: 10 },
            Unprojected::StageNeverPasses { stage: 2 },
            Unprojected::BeyondHorizon,
        ]
        .map(Unprojected::as_str);
        for word in words
            .iter()
            .chain(&[PROJECTION_PENDING, PROJECTION_NO_INVENTORY])
        {
            for table in [&crate::words::ru::DASHBOARD, &crate::words::en::DASHBOARD] {
                assert!(
                    table.projection_reasons.iter().any(|(w, _)| w == word),
                    "{} has no words for {word}",
                    table.lang
                );
            }
        }
    }
}
