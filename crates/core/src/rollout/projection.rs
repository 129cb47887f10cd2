//! When will the last register of a line report a release? The pure projection behind a
//! rollout's `deadline`: from the devices still below the release, the stage plan from the
//! current stage on, and the confirmations per hour observed so far, the moment the last of
//! them is projected to confirm it (`projected_finish`), and whether that is after the
//! deadline (`late`).
//!
//! The model is deliberately plain, so that an operator can redo it by hand:
//! - **Admission.** A stage admits up to its share of the rollout's population (the devices
//!   admitted so far plus those below the release not yet admitted: the ones whose bucket
//!   decides), no faster than its hourly cap, and only inside the window (hours of the
//!   window per day; the window's clock is the server's, at today's UTC offset). No cap:
//!   everyone the share allows is admitted as soon as the window is open.
//! - **Confirmation.** Admitted devices confirm the release (report its build) at the rate
//!   observed so far, never before they are admitted: a queue drained at that rate. A
//!   rate observed while a low cap held admissions back underestimates what a wider stage
//!   will do, so the projection errs late rather than early; it improves as the rate of
//!   each stage is observed.
//! - **Stages.** A stage ends no earlier than its soak after it started, and only once
//!   the confirmed devices reach `min_updated` and `success_percent` of the downloads
//!   (every admitted device is taken to download). The last stage never ends.
//! - Every device below the release is taken to confirm it eventually; a device that never
//!   does shows as stuck and, with `halt_when_stuck_percent`, halts the rollout.
//!
//! The simulation runs in steps of at most an hour (shorter where a soak ends, so a soak
//! that decides the finish is exact), as a fluid (fractions of devices), up to two years
//! ahead. It needs no clock and no store: the server gathers the inputs off the request
//! path and caches the answer.

use crate::rollout::rules::Window;

/// How far ahead the projection looks: a finish later than this is not projected.
pub const HORIZON_S: u64 = 2 * 366 * 86_400;

/// The longest step of the simulation.
const STEP_S: u64 = 3600;

/// Fewer than this many devices (a fraction left by the fluid arithmetic) is none.
const NONE_LEFT: f64 = 1e-6;

/// One stage of the plan, as far as it decides time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePlan {
    /// Share of the rollout's population admitted by the end of this stage (0 to 100).
    pub percent: u8,
    /// The stage lasts at least this long (seconds).
    pub soak_s: u64,
    /// It ends only once at least this many devices confirmed (cumulative).
    pub min_updated: u64,
    /// ... and at least this share of the downloads is confirmed, in tenths of a percent
    /// (0: no condition), as `stages:` keeps it.
    pub success_per_mille: u32,
    /// At most this many newly admitted per hour (none: no cap).
    pub max_new_per_hour: Option<u32>,
}

/// What the inventory knows of the release and its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Devices of the line known to the inventory whose build is below the release.
    pub below: u64,
    /// Of them, those already admitted to it (offered it, not yet reporting it).
    pub admitted_below: u64,
    /// Devices admitted to it so far, in all (pilots and those that updated included).
    pub admitted: u64,
    /// Devices that downloaded it in full (cumulative).
    pub downloaded: u64,
    /// Of them, those that reported its build since and still report it or newer: the
    /// stage gate's count (`stages::Figures`), so that a stage is projected to pass when
    /// the gate will pass it. One that went back to an older build is not counted; it is
    /// below the release again (in `admitted_below`), and projected to confirm it anew.
    pub confirmed: u64,
}

/// Everything the projection depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct Input<'a> {
    pub counts: Counts,
    /// The plan from the current stage on (the current stage first). A rollout without
    /// stages is one stage: its `percent`, its `max_new_per_hour`, no soak.
    pub stages: &'a [StagePlan],
    /// The current stage's number (from 1), to name a stage that never passes.
    pub first_stage_number: u32,
    /// When the current stage started (Unix seconds).
    pub stage_started_at: u64,
    pub window: Option<Window>,
    /// The window's clock minus UTC, in seconds (the server's offset now).
    pub utc_offset_s: i32,
    /// Devices that reported the release per hour, as observed; none: none yet.
    pub confirmations_per_hour: Option<f64>,
    pub paused: bool,
    pub halted: bool,
    /// Unix seconds.
    pub now: u64,
    /// The last second of the deadline's day (Unix seconds); none: no deadline.
    pub deadline: Option<u64>,
}

/// Why there is no projected finish. `/status` shows `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unprojected {
    /// No device below the release is left: it is done.
    Finished,
    /// `paused: true`: nobody new is admitted until the operator resumes.
    Paused,
    /// Halted by its stuck devices until its `rollout:` is edited.
    Halted,
    /// No device has reported the release yet: there is no rate to project with.
    NoConfirmationYet,
    /// The plan ends below 100 %: the rest of the line is never admitted.
    PlanEndsBelowAll { percent: u8 },
    /// This stage can never pass (its `min_updated` is more than its share can admit).
    StageNeverPasses { stage: u32 },
    /// Later than `HORIZON_S` from now.
    BeyondHorizon,
}

impl Unprojected {
    /// One word, as `/status` and the dashboard's `data-projection` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unprojected::Finished => "finished",
            Unprojected::Paused => "paused",
            Unprojected::Halted => "halted",
            Unprojected::NoConfirmationYet => "no_confirmation_yet",
            Unprojected::PlanEndsBelowAll { .. } => "plan_ends_below_100_percent",
            Unprojected::StageNeverPasses { .. } => "stage_never_passes",
            Unprojected::BeyondHorizon => "beyond_two_years",
        }
    }
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection {
    /// When the last device below the release is projected to report it (Unix seconds).
    pub finish: Result<u64, Unprojected>,
    /// The deadline will be missed: the projected finish is after it, the plan can never
    /// finish, or the deadline has passed with devices still below the release.
    pub late: bool,
}

/// Projects the finish of one rollout.
pub fn project(input: &Input<'_>) -> Projection {
    let finish = finish(input);
    let late = input.deadline.is_some_and(|deadline| {
        let devices_left = input.counts.below > 0;
        let past = input.now > deadline && devices_left;
        past || match finish {
            Ok(at) => at > deadline,
            Err(Unprojected::PlanEndsBelowAll { .. } | Unprojected::StageNeverPasses { .. }) => {
                true
            }
            Err(Unprojected::BeyondHorizon) => deadline <= input.now + HORIZON_S,
            Err(_) => false,
        }
    });
    Projection { finish, late }
}

/// The projected finish, or why there is none.
fn finish(input: &Input<'_>) -> Result<u64, Unprojected> {
    if input.counts.below == 0 {
        return Err(Unprojected::Finished);
    }
    if input.halted {
        return Err(Unprojected::Halted);
    }
    if input.paused {
        return Err(Unprojected::Paused);
    }
    let rate = match input.confirmations_per_hour {
        Some(rate) if rate.is_finite() && rate > 0.0 => rate,
        _ => return Err(Unprojected::NoConfirmationYet),
    };
    let Some(last) = input.stages.len().checked_sub(1) else {
        return Err(Unprojected::PlanEndsBelowAll { percent: 0 });
    };
    let mut flow = Flow::new(&input.counts);
    let mut stage = 0usize;
    let mut stage_start = input.stage_started_at;
    let mut t = input.now;
    let end = input.now.saturating_add(HORIZON_S);
    while t < end {
        // Advance as many stages as pass now (the last never ends).
        while stage < last && flow.passes(&input.stages[stage], t, stage_start) {
            stage += 1;
            stage_start = t;
        }
        let plan = &input.stages[stage];
        // The step ends early where this stage's soak ends, so the next starts on time.
        let soak_end = stage_start.saturating_add(plan.soak_s);
        let step_end = if stage < last && soak_end > t {
            soak_end.min(t.saturating_add(STEP_S))
        } else {
            t.saturating_add(STEP_S)
        };
        let admissible = flow.admissible(plan);
        let open_s = window_seconds(input.window, input.utc_offset_s, t, step_end);
        let admit = match plan.max_new_per_hour {
            _ if open_s == 0 => 0.0,
            None => admissible,
            Some(cap) => admissible.min(f64::from(cap) * open_s as f64 / 3600.0),
        };
        let confirm = flow.step(admit, rate * (step_end - t) as f64 / 3600.0);

        if flow.left <= NONE_LEFT {
            // Not before the last admission of this step, nor before the step's
            // confirmations could have been made at the rate.
            let admitted_by = admitted_by(input, plan, t, step_end, admit);
            let confirmed_by = t.saturating_add(whole_seconds(confirm / rate * 3600.0));
            return Ok(admitted_by.max(confirmed_by).min(step_end));
        }
        // Nothing more can happen in this stage: no one to admit under its share, no one
        // waiting to confirm, and its soak is over. Either it passes at the next step, or
        // it never will.
        if flow.pending <= NONE_LEFT && admissible - admit <= NONE_LEFT && soak_end <= step_end {
            if stage == last {
                return Err(Unprojected::PlanEndsBelowAll {
                    percent: plan.percent,
                });
            }
            if !flow.passes(plan, step_end, stage_start) {
                let stage = u32::try_from(stage).unwrap_or(u32::MAX);
                return Err(Unprojected::StageNeverPasses {
                    stage: input.first_stage_number.saturating_add(stage),
                });
            }
        }
        t = step_end;
    }
    Err(Unprojected::BeyondHorizon)
}

/// The simulated devices, in fractions: where each of those below the release stands.
struct Flow {
    /// Below the release, not admitted yet: what the shares admit from.
    unadmitted: f64,
    /// Admitted, not confirmed yet.
    pending: f64,
    /// Still to confirm, until none is left.
    left: f64,
    /// Admitted in all (the share counts them).
    admitted: f64,
    /// The rollout's population the shares are of: admitted plus not yet admitted.
    population: f64,
    downloaded: f64,
    confirmed: f64,
}

impl Flow {
    fn new(counts: &Counts) -> Flow {
        let admitted_below = counts.admitted_below.min(counts.below);
        let unadmitted = (counts.below - admitted_below) as f64;
        let admitted = counts.admitted.max(admitted_below) as f64;
        Flow {
            unadmitted,
            pending: admitted_below as f64,
            left: counts.below as f64,
            admitted,
            population: admitted + unadmitted,
            downloaded: counts.downloaded as f64,
            confirmed: counts.confirmed as f64,
        }
    }

    /// How many more the stage's share lets in.
    fn admissible(&self, plan: &StagePlan) -> f64 {
        if plan.percent >= 100 {
            self.unadmitted
        } else {
            (f64::from(plan.percent) / 100.0 * self.population - self.admitted)
                .clamp(0.0, self.unadmitted)
        }
    }

    /// Admits `admit` (each downloads), then confirms up to `capacity` of the admitted;
    /// how many it confirmed.
    fn step(&mut self, admit: f64, capacity: f64) -> f64 {
        self.unadmitted -= admit;
        self.admitted += admit;
        self.downloaded += admit;
        self.pending += admit;
        let confirm = self.pending.min(capacity);
        self.pending -= confirm;
        self.confirmed += confirm;
        self.left -= confirm;
        confirm
    }

    /// Whether a stage that started at `started` has passed at `t`.
    fn passes(&self, plan: &StagePlan, t: u64, started: u64) -> bool {
        passes(plan, t, started, self.downloaded, self.confirmed)
    }
}

/// Whether a stage that started at `started` has passed at `t`.
fn passes(plan: &StagePlan, t: u64, started: u64, downloaded: f64, confirmed: f64) -> bool {
    // A hair of tolerance: the fluid arithmetic may leave 94.99999 % for 95 %.
    let success_ok =
        confirmed * 1000.0 + NONE_LEFT >= f64::from(plan.success_per_mille) * downloaded;
    t >= started.saturating_add(plan.soak_s)
        && confirmed + NONE_LEFT >= plan.min_updated as f64
        && success_ok
}

/// Seconds of `[from, to)` inside the window (all of it without one): the overlap with
/// the window's span on each local day the interval touches (one or two for a step).
fn window_seconds(window: Option<Window>, utc_offset_s: i32, from: u64, to: u64) -> u64 {
    let Some(window) = window else {
        return to.saturating_sub(from);
    };
    let offset = i128::from(utc_offset_s);
    let (local_from, local_to) = (i128::from(from) + offset, i128::from(to) + offset);
    let (start, end) = (i128::from(window.start) * 60, i128::from(window.end) * 60);
    // The window's spans within one day, seconds from local midnight.
    let spans: [(i128, i128); 2] = if start < end {
        [(start, end), (0, 0)]
    } else {
        [(start, 86_400), (0, end)]
    };
    let mut open = 0i128;
    let mut day = local_from.div_euclid(86_400);
    while day * 86_400 < local_to {
        for (a, b) in spans {
            let (a, b) = (day * 86_400 + a, day * 86_400 + b);
            open += (b.min(local_to) - a.max(local_from)).max(0);
        }
        day += 1;
    }
    u64::try_from(open).unwrap_or(0)
}

/// The minute of the day of `t` on a clock `utc_offset_s` ahead of UTC.
fn local_minute(t: u64, utc_offset_s: i32) -> u32 {
    let local = i64::try_from(t)
        .unwrap_or(i64::MAX)
        .saturating_add(i64::from(utc_offset_s));
    (local.rem_euclid(86_400) / 60) as u32
}

/// The start of the minute after the one `t` is in.
fn next_minute(t: u64) -> u64 {
    (t / 60).saturating_add(1).saturating_mul(60)
}

/// `seconds` rounded up to whole seconds, forgiving the fluid arithmetic's last digits
/// (1200.0000001 s is 1200 s).
fn whole_seconds(seconds: f64) -> u64 {
    (seconds - 1e-6).ceil().max(0.0) as u64
}

/// When, within `[t, step_end)`, the step's `admit` devices were all admitted: at the cap's
/// pace through the open minutes, or at the first open moment without a cap.
fn admitted_by(input: &Input<'_>, plan: &StagePlan, t: u64, step_end: u64, admit: f64) -> u64 {
    if admit <= NONE_LEFT {
        return t;
    }
    let per_second = plan.max_new_per_hour.map(|cap| f64::from(cap) / 3600.0);
    let mut done = 0.0;
    let mut at = t;
    while at < step_end {
        let until = next_minute(at).min(step_end);
        let open = input
            .window
            .is_none_or(|w| w.contains(local_minute(at, input.utc_offset_s)));
        if open {
            let Some(per_second) = per_second else {
                return at;
            };
            let here = per_second * (until - at) as f64;
            if done + here + NONE_LEFT >= admit {
                let need = whole_seconds((admit - done) / per_second);
                return at.saturating_add(need).min(until);
            }
            done += here;
        }
        at = until;
    }
    step_end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 2026-11-30 12:00:00 UTC; the tests' clock is UTC (offset 0) unless said.
    const NOON: u64 = 1_796_040_000;
    const H: u64 = 3600;
    const DAY: u64 = 86_400;

    fn one_stage(percent: u8, cap: Option<u32>) -> StagePlan {
        StagePlan {
            percent,
            soak_s: 0,
            min_updated: 0,
            success_per_mille: 0,
            max_new_per_hour: cap,
        }
    }

    fn below(n: u64) -> Counts {
        Counts {
            below: n,
            ..Counts::default()
        }
    }

    fn input(counts: Counts, stages: &[StagePlan], rate: f64) -> Input<'_> {
        Input {
            counts,
            stages,
            first_stage_number: 1,
            stage_started_at: NOON,
            window: None,
            utc_offset_s: 0,
            confirmations_per_hour: Some(rate),
            paused: false,
            halted: false,
            now: NOON,
            deadline: None,
        }
    }

    fn window(text: &str) -> Window {
        let raw: crate::rollout::rules::RawRollout =
            serde_yaml::from_str(&format!("window: \"{text}\"")).unwrap();
        crate::rollout::rules::Rollout::from_raw(raw)
            .unwrap()
            .window
            .unwrap()
    }

    #[test]
    fn the_clock_of_the_tests_is_noon_utc() {
        assert_eq!(NOON % DAY, 12 * H);
    }

    /// 1000 below, 100 admitted an hour, confirmations far faster: ten hours.
    #[test]
    fn the_hourly_cap_dominates() {
        let stages = [one_stage(100, Some(100))];
        let p = project(&input(below(1000), &stages, 1000.0));
        assert_eq!(p.finish, Ok(NOON + 10 * H));
        assert!(!p.late);
    }

    /// The same cap, but only 22:00-02:00 (four hours a night) from noon: 400 a night,
    /// the last 200 on the third night, done at midnight after it.
    #[test]
    fn the_window_dominates() {
        let stages = [one_stage(100, Some(100))];
        let mut i = input(below(1000), &stages, 1000.0);
        i.window = Some(window("22:00-02:00"));
        assert_eq!(project(&i).finish, Ok(NOON + 2 * DAY + 12 * H));
        // The same window three hours ahead of UTC opens three hours earlier in UTC.
        i.utc_offset_s = 3 * 3600;
        assert_eq!(project(&i).finish, Ok(NOON + 2 * DAY + 9 * H));
    }

    /// A first stage of 10 % soaks 48 hours however fast its devices confirm; then the
    /// other 900 are admitted at once and confirm at 54000 an hour: one minute.
    #[test]
    fn the_soak_dominates() {
        let stages = [
            StagePlan {
                percent: 10,
                soak_s: 48 * H,
                min_updated: 20,
                success_per_mille: 950,
                max_new_per_hour: None,
            },
            one_stage(100, None),
        ];
        let p = project(&input(below(1000), &stages, 54_000.0));
        assert_eq!(p.finish, Ok(NOON + 48 * H + 60));
        // Started a day ago: a day less.
        let mut i = input(below(1000), &stages, 54_000.0);
        i.stage_started_at = NOON - DAY;
        assert_eq!(project(&i).finish, Ok(NOON + 24 * H + 60));
    }

    /// Confirmations at 10 an hour, admission unlimited: 100 devices take ten hours.
    #[test]
    fn the_confirmation_rate_dominates() {
        let stages = [one_stage(100, None)];
        let mut counts = below(100);
        counts.admitted = 140;
        counts.admitted_below = 60;
        assert_eq!(
            project(&input(counts, &stages, 10.0)).finish,
            Ok(NOON + 10 * H)
        );
        // 7.5 an hour: 13 h 20 min.
        assert_eq!(
            project(&input(counts, &stages, 7.5)).finish,
            Ok(NOON + 13 * H + 20 * 60)
        );
    }

    #[test]
    fn a_deadline_before_the_finish_is_late_and_after_it_is_not() {
        let stages = [one_stage(100, Some(100))];
        let mut i = input(below(1000), &stages, 1000.0);
        i.deadline = Some(NOON + 10 * H);
        assert!(!project(&i).late, "on the second is in time");
        i.deadline = Some(NOON + 10 * H - 1);
        assert!(project(&i).late);
    }

    /// A deadline in the past with devices still below is late, whatever else: even with
    /// no rate yet, paused or halted.
    #[test]
    fn a_deadline_in_the_past_is_late_while_devices_are_below() {
        let stages = [one_stage(100, None)];
        let mut i = input(below(3), &stages, 1.0);
        i.deadline = Some(NOON - 1);
        i.confirmations_per_hour = None;
        let p = project(&i);
        assert_eq!(p.finish, Err(Unprojected::NoConfirmationYet));
        assert!(p.late);
        i.paused = true;
        assert!(project(&i).late);
        // Everyone updated: done, in time or not, nothing is late any more.
        let mut done = input(below(0), &stages, 1.0);
        done.deadline = Some(NOON - DAY);
        assert_eq!(
            project(&done),
            Projection {
                finish: Err(Unprojected::Finished),
                late: false
            }
        );
    }

    #[test]
    fn no_rate_paused_and_halted_say_why_and_are_not_late_before_the_deadline() {
        let stages = [one_stage(100, None)];
        let mut i = input(below(10), &stages, 1.0);
        i.deadline = Some(NOON + DAY);
        for rate in [None, Some(0.0), Some(f64::NAN)] {
            i.confirmations_per_hour = rate;
            assert_eq!(
                project(&i),
                Projection {
                    finish: Err(Unprojected::NoConfirmationYet),
                    late: false
                }
            );
        }
        i.confirmations_per_hour = Some(1.0);
        i.paused = true;
        assert_eq!(project(&i).finish, Err(Unprojected::Paused));
        i.halted = true;
        assert_eq!(project(&i).finish, Err(Unprojected::Halted));
        assert!(!project(&i).late);
    }

    /// A plan that stops at 10 % never reaches the rest: late for any deadline.
    #[test]
    fn a_plan_that_ends_below_everyone_never_finishes() {
        let stages = [one_stage(10, None)];
        let mut i = input(below(1000), &stages, 1000.0);
        i.deadline = Some(NOON + 365 * DAY);
        let p = project(&i);
        assert_eq!(p.finish, Err(Unprojected::PlanEndsBelowAll { percent: 10 }));
        assert!(p.late);
        assert_eq!(
            p.finish.unwrap_err().as_str(),
            "plan_ends_below_100_percent"
        );
    }

    /// A first stage of 1 % of 1000 devices can never see 20 confirmed.
    #[test]
    fn a_stage_whose_min_updated_exceeds_its_share_never_passes() {
        let stages = [
            StagePlan {
                percent: 1,
                soak_s: H,
                min_updated: 20,
                success_per_mille: 0,
                max_new_per_hour: None,
            },
            one_stage(100, None),
        ];
        let mut i = input(below(1000), &stages, 100.0);
        i.first_stage_number = 2;
        assert_eq!(
            project(&i).finish,
            Err(Unprojected::StageNeverPasses { stage: 2 })
        );
    }

    /// Success is counted over the downloads: a stage waits until the backlog confirms.
    #[test]
    fn a_stage_waits_for_its_success_share() {
        let stages = [
            StagePlan {
                percent: 50,
                soak_s: 0,
                min_updated: 0,
                success_per_mille: 1000,
                max_new_per_hour: None,
            },
            one_stage(100, None),
        ];
        // 100 below; 50 admitted at once, confirming 10 an hour: 5 h; then the other 50,
        // 5 h more.
        assert_eq!(
            project(&input(below(100), &stages, 10.0)).finish,
            Ok(NOON + 10 * H)
        );
    }

    #[test]
    fn a_zero_cap_never_admits_and_is_beyond_the_horizon() {
        let stages = [one_stage(100, Some(0))];
        let mut i = input(below(5), &stages, 1.0);
        i.deadline = Some(NOON + DAY);
        assert_eq!(
            project(&i),
            Projection {
                finish: Err(Unprojected::BeyondHorizon),
                late: true
            }
        );
        i.deadline = Some(NOON + 3 * 366 * DAY);
        assert!(!project(&i).late, "the deadline is beyond what is known");
    }

    /// The window's open seconds, counted by arithmetic, agree with asking the window
    /// minute by minute.
    #[test]
    fn open_seconds_agree_with_the_window_minute_by_minute() {
        for text in ["22:00-06:00", "09:30-18:00", "00:00-00:01", "23:59-00:00"] {
            let w = window(text);
            for offset in [0, 3 * 3600, -5 * 3600 - 1800, 14 * 3600] {
                for (from, len) in [(NOON, H), (NOON + 17, 3 * DAY + 59), (NOON - 7 * H, 1)] {
                    let mut by_minute = 0;
                    let mut t = from;
                    while t < from + len {
                        let until = next_minute(t).min(from + len);
                        if w.contains(local_minute(t, offset)) {
                            by_minute += until - t;
                        }
                        t = until;
                    }
                    assert_eq!(
                        window_seconds(Some(w), offset, from, from + len),
                        by_minute,
                        "{text} {offset} {from} {len}"
                    );
                }
            }
        }
    }

    /// Numbers no fleet has must not overflow, loop forever or panic.
    #[test]
    fn extremes_stay_bounded() {
        let stages = [one_stage(100, Some(u32::MAX))];
        let mut i = input(below(u64::MAX), &stages, f64::MAX);
        i.counts.admitted = u64::MAX;
        i.counts.admitted_below = u64::MAX;
        i.counts.downloaded = u64::MAX;
        i.deadline = Some(u64::MAX);
        let _ = project(&i);
        i.now = u64::MAX - 10;
        i.stage_started_at = u64::MAX;
        let _ = project(&i);
        let none: [StagePlan; 0] = [];
        assert!(project(&input(below(1), &none, 1.0)).finish.is_err());
    }
}
