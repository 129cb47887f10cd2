//! Each rollout's projected finish (for its `deadline`), kept ready for `/status`, the
//! dashboard and `/metrics`: the rollout watch counts each release in the store off the
//! request path every `REFRESH_EVERY`, makes the forecasts here (`forecast`) and stores
//! them (`set`); the views read the latest (`latest`), so that a page or a scrape never
//! waits for the counts of a large fleet. Memory and pure assembly only, no I/O.
//!
//! The pure projection (kkt-core's `projection`, beside `rules`) gets its input here: what
//! the store counted (`Observed`), the rollout's plan (`plan_of`), its halt, the
//! confirmation rate (`confirmations_per_hour`), the deadline's last second and the
//! window's clock in the server's time zone.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use crate::model::unix_time::{end_of_local_day, local_utc_offset};
use crate::platform::lock_recover::RwLockRecover;
use crate::rollout::projection::{project, Counts, Input, Projection, StagePlan};
use crate::rollout::rules::Rollout;
use crate::rollout::stages::StageRecord;

/// How often the watch refreshes the projections.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// The rate is taken over the last day once a release has been observed that long (a day
/// holds one night, when registers flash).
pub const RATE_WINDOW_S: u64 = 86_400;

/// A rate over less than this is taken over this (one confirmation a second after the
/// first download is not 3600 an hour).
const RATE_SPAN_AT_LEAST_S: u64 = 60;

/// One rollout's latest projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    pub projection: Projection,
    /// Devices of the line below the release when it was made.
    pub below: u64,
    /// Devices that reported the release so far (downloaded or not).
    pub updated: u64,
}

/// The latest projection of every published release under rollout, by line and version.
#[derive(Debug, Default)]
pub struct Forecasts {
    latest: RwLock<HashMap<(String, u32), Forecast>>,
}

impl Forecasts {
    /// The latest projections (none before the first refresh).
    pub fn latest(&self) -> HashMap<(String, u32), Forecast> {
        self.latest.read_recover().clone()
    }

    /// Replaces them all (the watch, after a round of counting).
    pub fn set(&self, latest: HashMap<(String, u32), Forecast>) {
        *self.latest.write_recover() = latest;
    }
}

/// What the store counted for one release, as the projection needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Observed {
    pub counts: Counts,
    /// Devices that reported the release, in all and in the last day.
    pub updated: u64,
    pub updated_last_day: u64,
    /// The first download or update of it (Unix seconds): when observing began.
    pub first_seen: Option<u64>,
}

/// The projection of one rollout (`halted`: by its stuck devices), as of `now`.
pub fn forecast(
    rollout: &Rollout,
    stage: Option<StageRecord>,
    observed: &Observed,
    halted: bool,
    now: u64,
) -> Forecast {
    let number = stage.map_or(1, |s| s.stage.max(1));
    let stages = plan_of(rollout, number);
    let projection = project(&input(rollout, stage, &stages, observed, halted, now));
    Forecast {
        projection,
        below: observed.counts.below,
        updated: observed.updated,
    }
}

/// The stage plan of a rollout from its current stage on. A rollout without stages is one
/// stage: its `percent` under its `max_new_per_hour`, no soak, no conditions.
///
/// Where stages exist, this is the list from the current stage (stored in the inventory)
/// to the last, each with its percent, soak, `min_updated`, `success_percent` and its
/// hourly cap (`max_new_per_hour` x `rate_growth`^(N-1), at most the limit); `input` then
/// takes the current stage's number and start from the same place.
pub fn plan_of(rollout: &Rollout, current: u8) -> Vec<StagePlan> {
    if rollout.stages.is_empty() {
        return vec![StagePlan {
            percent: rollout.percent,
            soak_s: 0,
            min_updated: 0,
            success_per_mille: 0,
            max_new_per_hour: rollout.max_new_per_hour,
        }];
    }
    let first = usize::from(current.max(1)).min(rollout.stages.len());
    (first..=rollout.stages.len())
        .map(|number| {
            let stage = &rollout.stages[number - 1];
            let (percent, cap) = rollout.limits_at(u8::try_from(number).unwrap_or(u8::MAX));
            StagePlan {
                percent,
                soak_s: stage.soak_s,
                min_updated: stage.min_updated,
                success_per_mille: stage.success_per_mille,
                max_new_per_hour: cap,
            }
        })
        .collect()
}

/// The projection's input for one rollout.
fn input<'a>(
    rollout: &Rollout,
    stage: Option<StageRecord>,
    stages: &'a [StagePlan],
    observed: &Observed,
    halted: bool,
    now: u64,
) -> Input<'a> {
    Input {
        counts: observed.counts,
        stages,
        // Without stages there is one, started whenever: it has no soak. With stages, the
        // current one as the watch stored it (its clock's start, pauses added); before the
        // watch's first round, one starting now.
        first_stage_number: stage.map_or(1, |s| u32::from(s.stage.max(1))),
        stage_started_at: stage.map_or(now, |s| s.clock_start()),
        window: rollout.window,
        utc_offset_s: local_utc_offset(now),
        confirmations_per_hour: confirmations_per_hour(observed, now),
        // A frozen stage clock is a pause too (the watch freezes it a round after the edit).
        paused: rollout.paused || stage.is_some_and(|s| s.paused_at > 0),
        halted,
        now,
        deadline: rollout.deadline.map(end_of_local_day),
    }
}

/// Devices that reported the release per hour: over the last day once it has been
/// observed that long (and something was confirmed in it), else since the first download
/// or update; none before the first confirmation.
pub fn confirmations_per_hour(observed: &Observed, now: u64) -> Option<f64> {
    let first = observed.first_seen?;
    if observed.updated == 0 {
        return None;
    }
    let span = now.saturating_sub(first);
    let (count, over) = if span > RATE_WINDOW_S && observed.updated_last_day > 0 {
        (observed.updated_last_day, RATE_WINDOW_S)
    } else {
        (observed.updated, span.max(RATE_SPAN_AT_LEAST_S))
    };
    Some(count as f64 * 3600.0 / over as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(updated: u64, last_day: u64, first: Option<u64>) -> Observed {
        Observed {
            updated,
            updated_last_day: last_day,
            first_seen: first,
            ..Observed::default()
        }
    }

    #[test]
    fn the_rate_is_over_the_last_day_once_there_is_one() {
        let now = 10 * 86_400;
        assert_eq!(confirmations_per_hour(&figures(0, 0, None), now), None);
        assert_eq!(confirmations_per_hour(&figures(0, 0, Some(now)), now), None);
        // Two hours observed, 10 confirmed: 5 an hour.
        assert_eq!(
            confirmations_per_hour(&figures(10, 10, Some(now - 7200)), now),
            Some(5.0)
        );
        // Five days observed, 48 of the 500 in the last day: 2 an hour.
        assert_eq!(
            confirmations_per_hour(&figures(500, 48, Some(now - 5 * 86_400)), now),
            Some(2.0)
        );
        // Nothing in the last day: the whole span (100 in 100 h).
        assert_eq!(
            confirmations_per_hour(&figures(100, 0, Some(now - 360_000)), now),
            Some(1.0)
        );
        // A second after the first download counts as a minute.
        assert_eq!(
            confirmations_per_hour(&figures(1, 1, Some(now - 1)), now),
            Some(60.0)
        );
    }

    #[test]
    fn a_rollout_without_stages_is_one_stage_of_its_percent_and_cap() {
        let rollout = Rollout::from_raw(
            serde_yaml::from_str("percent: 30\nmax_new_per_hour: 50\ndeadline: 2026-12-31")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            plan_of(&rollout, 1),
            [StagePlan {
                percent: 30,
                soak_s: 0,
                min_updated: 0,
                success_per_mille: 0,
                max_new_per_hour: Some(50),
            }]
        );
    }

    #[test]
    fn a_staged_rollout_is_planned_from_its_current_stage_with_each_stages_cap() {
        let rollout = Rollout::from_raw(
            serde_yaml::from_str(
                "stages:\n  - {percent: 5, soak: 1h, min_updated: 3, success_percent: 97.5}\n  - {percent: 25, soak: 2h}\n  - {percent: 100}\n\
                 max_new_per_hour: 10\nrate_growth: 3\nmax_new_per_hour_limit: 50\n\
                 deadline: 2026-12-31",
            )
            .unwrap(),
        )
        .unwrap();
        let from_first = plan_of(&rollout, 1);
        assert_eq!(from_first.len(), 3);
        assert_eq!(
            from_first[0],
            StagePlan {
                percent: 5,
                soak_s: 3600,
                min_updated: 3,
                success_per_mille: 975,
                max_new_per_hour: Some(10),
            }
        );
        // Stage 2: defaults filled in, the cap grown once; stage 3: grown twice, cut at 50.
        assert_eq!(
            from_first[1],
            StagePlan {
                percent: 25,
                soak_s: 7200,
                min_updated: 20,
                success_per_mille: 950,
                max_new_per_hour: Some(30),
            }
        );
        assert_eq!(from_first[2].max_new_per_hour, Some(50));
        // From the stored stage on: stage 3 alone.
        assert_eq!(plan_of(&rollout, 3), from_first[2..].to_vec());
        // A stored stage past the list (stages removed meanwhile) plans the last one.
        assert_eq!(plan_of(&rollout, 9), from_first[2..].to_vec());
    }

    #[test]
    fn the_projection_starts_from_the_stored_stage_and_its_clock() {
        let rollout = Rollout::from_raw(
            serde_yaml::from_str(
                "stages:\n  - {percent: 50, soak: 10h, min_updated: 1, success_percent: 0}\n  - {percent: 100, soak: 1s}\ndeadline: 2026-12-31",
            )
            .unwrap(),
        )
        .unwrap();
        let now = 1_780_000_000;
        let observed = Observed {
            counts: Counts {
                below: 100,
                admitted_below: 0,
                admitted: 50,
                downloaded: 50,
                confirmed: 50,
            },
            updated: 50,
            updated_last_day: 50,
            first_seen: Some(now - 3600),
        };
        let record = |stage: u8, started_at: u64| StageRecord {
            stage,
            started_at,
            ..StageRecord::default()
        };
        let finish = |stage| {
            forecast(&rollout, stage, &observed, false, now)
                .projection
                .finish
        };
        // Stage 1 just started: its 10 h soak is still ahead.
        let fresh = finish(Some(record(1, now))).unwrap();
        // Stage 1 started 9 h ago: one hour of soak left, so it finishes about 9 h sooner.
        let older = finish(Some(record(1, now - 9 * 3600))).unwrap();
        assert!(fresh >= older + 8 * 3600, "{fresh} vs {older}");
        // Already at stage 2: no soak of stage 1 left at all.
        let second = finish(Some(record(2, now))).unwrap();
        assert!(second < older, "{second} vs {older}");
        // A frozen clock is a pause: nothing projected.
        let frozen = StageRecord {
            paused_at: now - 60,
            ..record(1, now - 3600)
        };
        assert!(finish(Some(frozen)).is_err());
    }
}
