//! Stages that advance themselves (`stages:` in `rollout:`): the pure part. How a stage is
//! written and checked (`RawStage`, `Stage`, the durations `30s`, `15m`, `24h`, `7d`), the
//! hourly cap of stage N (`cap_at`), the stage's clock (`StageRecord::elapsed`), whether a
//! stage has passed (`verdict`), and the one step the rollout watch takes for a release
//! each round (`next_step`). The server keeps the record (in the inventory, or in memory
//! with `inventory: off`) and applies the step; everything here is a function of what it
//! is given, so every instance sharing a store decides alike, and the tests need no clock.
//!
//! Bounds (every one a clear error when passed): at most `MAX_STAGES` stages; each percent
//! a whole number from 0 to 100, never below the stage before (admitted devices stay
//! admitted, so a lower share would mean nothing); `soak` at most `MAX_SOAK_S` (90 days);
//! `min_updated` at most `MAX_MIN_UPDATED`; `success_percent` from 0 to 100 (tenths kept);
//! `rate_growth` from 1 to `MAX_RATE_GROWTH` with at most three decimals.

use std::fmt;

use serde::Deserialize;

use crate::model::lang::{fill, InLanguage};
use crate::words::{FromTable, Words};

/// At most this many stages.
pub const MAX_STAGES: usize = 20;
/// A soak of at most 90 days.
pub const MAX_SOAK_S: u64 = 90 * 86_400;
/// `min_updated` of at most a million devices.
pub const MAX_MIN_UPDATED: u64 = 1_000_000;
/// `rate_growth` of at most 10 (the cap ten times larger at each stage).
pub const MAX_RATE_GROWTH: f64 = 10.0;
/// Defaults of a stage that omits them (PROTOCOL.md).
pub const DEFAULT_SOAK_S: u64 = 24 * 3600;
pub const DEFAULT_MIN_UPDATED: u64 = 20;
pub const DEFAULT_SUCCESS_PER_MILLE: u32 = 950;

/// One entry of `stages:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    percent: Option<f64>,
    /// Any scalar, so that `soak: 30` gets this module's words, not the YAML parser's.
    soak: Option<serde_yaml::Value>,
    min_updated: Option<u64>,
    success_percent: Option<f64>,
}

/// A checked stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Of the addresses that are not pilots, those whose bucket is below this (0 to 100).
    pub percent: u8,
    /// Seconds the stage lasts at least (its clock stops while the rollout is paused).
    pub soak_s: u64,
    /// Confirmed updates needed (cumulative since publish, pilots included).
    pub min_updated: u64,
    /// Confirmed among the devices that downloaded in full, in tenths of a percent.
    pub success_per_mille: u32,
}

/// Why `stages:` (or a key that goes with it) was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum StageError {
    /// `stages` and `percent` both written.
    WithPercent,
    /// `stages: []`, or more than `MAX_STAGES`.
    Count(usize),
    /// A stage without `percent`: its number.
    MissingPercent(usize),
    Percent(usize, f64),
    /// Stage n's percent is below stage n-1's: (n, its percent, the one before).
    Lower(usize, u8, u8),
    Soak(usize, String),
    MinUpdated(usize, u64),
    SuccessPercent(usize, f64),
    RateGrowth(f64),
    Limit(u64),
    /// `max_new_per_hour_limit` below `max_new_per_hour`.
    LimitBelowCap(u64, u32),
    /// `stage: N` outside 1 to the number of stages.
    Forced(i64, usize),
    /// A key that only means something with `stages` (or `max_new_per_hour`).
    Needs(&'static str, &'static str),
}

/// Each refusal from the tables (`words::scan::RolloutText`), in either language.
impl FromTable for StageError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.rollout;
        let stage = |template, n: &usize, value: &dyn fmt::Display| {
            fill(template, &[("n", n), ("value", value)])
        };
        match self {
            StageError::WithPercent => t.stage_with_percent.to_string(),
            StageError::Count(n) => fill(t.stage_count, &[("count", n), ("max", &MAX_STAGES)]),
            StageError::MissingPercent(n) => fill(t.stage_missing_percent, &[("n", n)]),
            StageError::Percent(n, p) => stage(t.stage_percent, n, p),
            StageError::Lower(n, p, before) => fill(
                t.stage_lower,
                &[
                    ("n", n),
                    ("value", p),
                    ("previous", &n.saturating_sub(1)),
                    ("before", before),
                ],
            ),
            StageError::Soak(n, text) => stage(t.stage_soak, n, text),
            StageError::MinUpdated(n, m) => fill(
                t.stage_min_updated,
                &[("n", n), ("value", m), ("max", &MAX_MIN_UPDATED)],
            ),
            StageError::SuccessPercent(n, p) => stage(t.stage_success, n, p),
            StageError::RateGrowth(g) => {
                fill(t.rate_growth, &[("value", g), ("max", &MAX_RATE_GROWTH)])
            }
            StageError::Limit(n) => fill(
                t.too_large_at_most,
                &[
                    ("key", &"max_new_per_hour_limit"),
                    ("value", n),
                    ("max", &u32::MAX),
                ],
            ),
            StageError::LimitBelowCap(limit, cap) => {
                fill(t.limit_below_cap, &[("limit", limit), ("cap", cap)])
            }
            StageError::Forced(n, count) => fill(t.forced, &[("value", n), ("count", count)]),
            StageError::Needs(key, needs) => fill(
                t.needs,
                &[("key", key), ("needs", &lookup(t.needs_what, needs))],
            ),
        }
    }
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for StageError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

/// The second of the pair whose first is `english`, or `english` itself.
fn lookup<'a>(pairs: &'static [(&'static str, &'static str)], english: &'a str) -> &'a str {
    pairs
        .iter()
        .find(|(en, _)| *en == english)
        .map_or(english, |(_, words)| words)
}

/// `52` per mille as "5.2%", `50` as "5%".
pub fn per_mille_text(per_mille: u32) -> String {
    if per_mille.is_multiple_of(10) {
        format!("{}%", per_mille / 10)
    } else {
        format!("{}.{}%", per_mille / 10, per_mille % 10)
    }
}

/// `30s`, `15m`, `24h`, `7d` in seconds; none when it is not one or is over `MAX_SOAK_S`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.len().checked_sub(1)?;
    if !text.is_char_boundary(split) {
        return None;
    }
    let (number, unit) = text.split_at(split);
    if number.is_empty() || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    let seconds = number.parse::<u64>().ok()?.checked_mul(unit)?;
    (seconds <= MAX_SOAK_S).then_some(seconds)
}

/// Seconds as the shortest of the written forms that is exact: `90s`, `15m`, `24h`, `7d`.
pub fn duration_text(seconds: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// A value as an error shows it: at most 40 characters, control characters as spaces (a
/// `meta.yaml` may hold anything; the error goes to the log).
fn shown(text: &str) -> String {
    text.chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `stages:` checked; `number` counts from 1.
pub fn check_stages(raw: &[RawStage]) -> Result<Vec<Stage>, StageError> {
    if raw.is_empty() || raw.len() > MAX_STAGES {
        return Err(StageError::Count(raw.len()));
    }
    let mut stages: Vec<Stage> = Vec::with_capacity(raw.len());
    for (i, raw) in raw.iter().enumerate() {
        let n = i + 1;
        let percent = match raw.percent {
            None => return Err(StageError::MissingPercent(n)),
            Some(p) if (0.0..=100.0).contains(&p) && p.fract() == 0.0 => p as u8,
            Some(p) => return Err(StageError::Percent(n, p)),
        };
        if let Some(before) = stages.last().map(|s| s.percent).filter(|b| percent < *b) {
            return Err(StageError::Lower(n, percent, before));
        }
        let soak_s = match &raw.soak {
            None => DEFAULT_SOAK_S,
            Some(serde_yaml::Value::String(text)) => parse_duration(text)
                .ok_or_else(|| StageError::Soak(n, format!("{:?}", shown(text))))?,
            Some(other) => {
                let text = serde_yaml::to_string(other).unwrap_or_default();
                return Err(StageError::Soak(n, shown(text.trim())));
            }
        };
        let min_updated = match raw.min_updated {
            None => DEFAULT_MIN_UPDATED,
            Some(m) if m <= MAX_MIN_UPDATED => m,
            Some(m) => return Err(StageError::MinUpdated(n, m)),
        };
        let success_per_mille = match raw.success_percent {
            None => DEFAULT_SUCCESS_PER_MILLE,
            Some(p) if (0.0..=100.0).contains(&p) => (p * 10.0).round() as u32,
            Some(p) => return Err(StageError::SuccessPercent(n, p)),
        };
        stages.push(Stage {
            percent,
            soak_s,
            min_updated,
            success_per_mille,
        });
    }
    Ok(stages)
}

/// `rate_growth` in thousandths (1 to 10, at most three decimals kept).
pub fn check_rate_growth(growth: f64) -> Result<u32, StageError> {
    if (1.0..=MAX_RATE_GROWTH).contains(&growth) {
        Ok((growth * 1000.0).round() as u32)
    } else {
        Err(StageError::RateGrowth(growth))
    }
}

/// The hourly cap of stage `stage` (from 1): `base` x growth^(stage-1), at most `limit`
/// (and at most `u32::MAX`). Whole numbers only, so every instance computes the same cap.
pub fn cap_at(base: u32, growth_milli: u32, limit: Option<u32>, stage: u8) -> u32 {
    let ceiling = u128::from(limit.unwrap_or(u32::MAX));
    let mut cap = u128::from(base);
    for _ in 1..stage.max(1) {
        if cap >= ceiling {
            break;
        }
        cap = cap * u128::from(growth_milli) / 1000;
    }
    u32::try_from(cap.min(ceiling)).unwrap_or(u32::MAX)
}

/// Where a release's stages stand, as the server stores it (per line and version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageRecord {
    /// The current stage, from 1.
    pub stage: u8,
    /// Unix seconds it started.
    pub started_at: u64,
    /// While paused: since when (the clock stands still); 0 when running.
    pub paused_at: u64,
    /// Seconds this stage spent paused before `paused_at`.
    pub paused_for: u64,
    /// The last `stage: N` acted on (0: none written).
    pub forced: u8,
}

impl StageRecord {
    /// Seconds the stage has run at `now`, its pauses left out.
    pub fn elapsed(&self, now: u64) -> u64 {
        let until = if self.paused_at > 0 {
            self.paused_at
        } else {
            now
        };
        until
            .saturating_sub(self.started_at)
            .saturating_sub(self.paused_for)
    }

    /// When the stage's clock would have started had it never paused (what `/status`
    /// shows as `since` while it runs).
    pub fn clock_start(&self) -> u64 {
        self.started_at.saturating_add(self.paused_for)
    }
}

/// What the inventory counts for a release, cumulative since it was published, pilots
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Figures {
    /// Devices that downloaded it in full.
    pub downloaded: u64,
    /// Of those, devices that now report its build or newer.
    pub confirmed: u64,
}

impl Figures {
    /// Confirmed among downloaded, in tenths of a percent (0 when nothing was downloaded).
    pub fn confirmed_per_mille(&self) -> u32 {
        if self.downloaded == 0 {
            return 0;
        }
        u32::try_from(self.confirmed.min(self.downloaded) * 1000 / self.downloaded).unwrap_or(1000)
    }
}

/// Whether a stage has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The last stage never ends.
    Last,
    /// Its soak has not passed: seconds left.
    Soaking(u64),
    /// Soaked, but the figures fall short (or are unknown: no inventory).
    Waiting,
    /// Soaked with the figures: the next stage may start.
    Passed,
}

/// The verdict on stage `record.stage` of `stages` at `now` with `figures` (none: not
/// counted, as with `inventory: off`, which never passes). Success is confirmed x 1000 >=
/// success_per_mille x downloaded: a download not yet confirmed counts against it, so
/// downloads alone never pass a stage.
pub fn verdict(
    stages: &[Stage],
    record: &StageRecord,
    now: u64,
    figures: Option<Figures>,
) -> Verdict {
    let index = usize::from(record.stage.max(1)) - 1;
    let Some(stage) = stages.get(index) else {
        return Verdict::Last;
    };
    if index + 1 >= stages.len() {
        return Verdict::Last;
    }
    let elapsed = record.elapsed(now);
    if elapsed < stage.soak_s {
        return Verdict::Soaking(stage.soak_s - elapsed);
    }
    match figures {
        Some(f)
            if f.confirmed >= stage.min_updated
                && u128::from(f.confirmed) * 1000
                    >= u128::from(stage.success_per_mille) * u128::from(f.downloaded) =>
        {
            Verdict::Passed
        }
        _ => Verdict::Waiting,
    }
}

/// The one change the rollout watch makes to a release's record this round (at most one:
/// the next round sees its result).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No record yet: stage 1 (or the forced one) starts now.
    Start(StageRecord),
    /// `stage: N` appeared or changed: stage N starts now (recorded as `stage_forced`).
    Force { from: u8, to: StageRecord },
    /// `stage:` was removed: forget the value, so writing it again forces again.
    ForgetForced,
    /// `paused: true`: the clock stops now.
    Freeze,
    /// `paused` lifted: the clock goes on.
    Thaw,
    /// The stage passed: the next one starts now (recorded as `advanced`).
    Advance { from: u8, to: u8 },
}

/// What the settings say that `next_step` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    pub stages: &'a [Stage],
    pub paused: bool,
    /// `stage: N` as written.
    pub forced: Option<u8>,
    /// Halted by its stuck share: it does not advance.
    pub halted: bool,
}

/// The step for a release whose record is `record` (none: never stored) at `now`.
pub fn next_step(
    settings: Settings<'_>,
    record: Option<&StageRecord>,
    now: u64,
    figures: Option<Figures>,
) -> Option<Step> {
    let paused_at = if settings.paused { now } else { 0 };
    let Some(record) = record else {
        return Some(Step::Start(StageRecord {
            stage: settings.forced.unwrap_or(1),
            started_at: now,
            paused_at,
            paused_for: 0,
            forced: settings.forced.unwrap_or(0),
        }));
    };
    match settings.forced {
        Some(n) if n != record.forced => {
            return Some(Step::Force {
                from: record.stage,
                to: StageRecord {
                    stage: n,
                    started_at: now,
                    paused_at,
                    paused_for: 0,
                    forced: n,
                },
            })
        }
        None if record.forced != 0 => return Some(Step::ForgetForced),
        _ => {}
    }
    if settings.paused {
        return (record.paused_at == 0).then_some(Step::Freeze);
    }
    if record.paused_at != 0 {
        return Some(Step::Thaw);
    }
    if settings.halted {
        return None;
    }
    match verdict(settings.stages, record, now, figures) {
        // `from` is the stored number (the compare-and-set names it); a stored 0 (by hand)
        // is stage 1.
        Verdict::Passed => Some(Step::Advance {
            from: record.stage,
            to: record.stage.max(1) + 1,
        }),
        _ => None,
    }
}

/// The record after `step` at `now` (what the store's compare-and-set writes; the memory
/// with `inventory: off` keeps this).
pub fn after(old: Option<&StageRecord>, step: &Step, now: u64) -> Option<StageRecord> {
    match (step, old) {
        (Step::Start(new), None) => Some(*new),
        (Step::Start(_), Some(old)) => Some(*old),
        (_, None) => None,
        (Step::Force { to, .. }, Some(_)) => Some(*to),
        (Step::ForgetForced, Some(old)) => Some(StageRecord { forced: 0, ..*old }),
        (Step::Freeze, Some(old)) => Some(StageRecord {
            paused_at: now,
            ..*old
        }),
        (Step::Thaw, Some(old)) => Some(StageRecord {
            paused_at: 0,
            paused_for: old.paused_for + now.saturating_sub(old.paused_at),
            ..*old
        }),
        (Step::Advance { to, .. }, Some(old)) => Some(StageRecord {
            stage: *to,
            started_at: now,
            paused_for: 0,
            ..*old
        }),
    }
}

/// "24 of 25 downloads confirmed (96%, needs 95%), 24 updated (needs 20)": the figures
/// that justified an advance, or that a waiting stage lacks.
pub fn figures_text(stage: &Stage, figures: &Figures) -> String {
    format!(
        "{} of {} downloads confirmed ({}, needs {}), {} updated (needs {})",
        figures.confirmed,
        figures.downloaded,
        per_mille_text(figures.confirmed_per_mille()),
        per_mille_text(stage.success_per_mille),
        figures.confirmed,
        stage.min_updated
    )
}

/// The same in Russian, for the Russian dashboard.
pub fn figures_text_ru(stage: &Stage, figures: &Figures) -> String {
    format!(
        "подтвердили {} из {} скачавших ({}, нужно {}), обновлено {} (нужно {})",
        figures.confirmed,
        figures.downloaded,
        per_mille_text(figures.confirmed_per_mille()),
        per_mille_text(stage.success_per_mille),
        figures.confirmed,
        stage.min_updated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(yaml: &str) -> Result<Vec<Stage>, String> {
        let raw: Vec<RawStage> = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
        check_stages(&raw).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_take_the_four_units_and_nothing_else() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("24h"), Some(86_400));
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("90d"), Some(MAX_SOAK_S));
        for bad in [
            "",
            "s",
            "30",
            "1.5h",
            "-1h",
            "91d",
            "1w",
            "24 h",
            "h24",
            "99999999999d",
            "1д",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(duration_text(86_400), "1d");
        assert_eq!(duration_text(90), "90s");
        assert_eq!(duration_text(7200), "2h");
    }

    #[test]
    fn stages_fill_defaults_and_name_each_bad_value() {
        let s = stages("[{percent: 5}, {percent: 25, soak: 2s, min_updated: 3, success_percent: 97.5}, {percent: 100}]")
            .unwrap();
        assert_eq!(
            s[0],
            Stage {
                percent: 5,
                soak_s: 86_400,
                min_updated: 20,
                success_per_mille: 950
            }
        );
        assert_eq!(
            (s[1].soak_s, s[1].min_updated, s[1].success_per_mille),
            (2, 3, 975)
        );
        for (yaml, expected) in [
            ("[]", "rollout.stages: 0 stages (expected 1 to 20"),
            ("[{soak: 1h}]", "rollout.stages, stage 1: no percent"),
            (
                "[{percent: 5}, {percent: 2.5}]",
                "stage 2: percent 2.5 is not a whole number from 0 to 100",
            ),
            (
                "[{percent: 50}, {percent: 20}]",
                "stage 2: percent 20 is below stage 1's 50",
            ),
            (
                "[{percent: 5, soak: 30}]",
                "stage 1: soak 30 is not a duration (expected a whole number and a unit, like 30s",
            ),
            (
                "[{percent: 5, soak: \"1w\"}]",
                "stage 1: soak \"1w\" is not a duration",
            ),
            (
                "[{percent: 5, soak: 100d}]",
                "soak \"100d\" is not a duration",
            ),
            (
                "[{percent: 5, min_updated: 2000000}]",
                "min_updated 2000000 is too large (at most 1000000)",
            ),
            (
                "[{percent: 5, success_percent: 101}]",
                "success_percent 101 is not a percentage from 0 to 100",
            ),
        ] {
            let error = stages(yaml).unwrap_err();
            assert!(error.contains(expected), "{yaml}: {error}");
        }
        let many = format!("[{}]", vec!["{percent: 1}"; 21].join(", "));
        assert!(stages(&many).unwrap_err().contains("21 stages"));
        assert!(stages("[{percent: 5, soke: 1h}]")
            .unwrap_err()
            .contains("unknown field `soke`"));
    }

    #[test]
    fn the_cap_grows_by_the_factor_up_to_the_limit() {
        assert_eq!(cap_at(100, 2000, Some(2000), 1), 100);
        assert_eq!(cap_at(100, 2000, Some(2000), 2), 200);
        assert_eq!(cap_at(100, 2000, Some(2000), 5), 1600);
        assert_eq!(cap_at(100, 2000, Some(2000), 6), 2000);
        assert_eq!(cap_at(100, 2000, None, 20), 52_428_800);
        assert_eq!(cap_at(100, 1500, None, 3), 225);
        assert_eq!(
            cap_at(100, 1000, None, 9),
            100,
            "rate_growth 1 keeps the cap"
        );
        assert_eq!(cap_at(u32::MAX, 10_000, None, 20), u32::MAX);
        assert_eq!(check_rate_growth(1.5), Ok(1500));
        assert!(check_rate_growth(0.5).is_err() && check_rate_growth(11.0).is_err());
    }

    fn record(stage: u8, started_at: u64) -> StageRecord {
        StageRecord {
            stage,
            started_at,
            ..StageRecord::default()
        }
    }

    #[test]
    fn a_stage_passes_only_soaked_with_enough_confirmed() {
        let s = stages(
            "[{percent: 5, soak: 10s, min_updated: 3, success_percent: 95}, {percent: 100}]",
        )
        .unwrap();
        let r = record(1, 1000);
        let good = Figures {
            downloaded: 20,
            confirmed: 19,
        };
        assert_eq!(verdict(&s, &r, 1005, Some(good)), Verdict::Soaking(5));
        assert_eq!(verdict(&s, &r, 1010, Some(good)), Verdict::Passed);
        // 18 of 20 is 90%: a download not confirmed counts against success.
        let short = Figures {
            downloaded: 20,
            confirmed: 18,
        };
        assert_eq!(verdict(&s, &r, 1010, Some(short)), Verdict::Waiting);
        // Downloads alone never pass; too few confirmed neither.
        let few = Figures {
            downloaded: 2,
            confirmed: 2,
        };
        assert_eq!(verdict(&s, &r, 1010, Some(few)), Verdict::Waiting);
        assert_eq!(
            verdict(
                &s,
                &r,
                1010,
                Some(Figures {
                    downloaded: 500,
                    confirmed: 0
                })
            ),
            Verdict::Waiting
        );
        assert_eq!(
            verdict(&s, &r, 1010, None),
            Verdict::Waiting,
            "no inventory"
        );
        assert_eq!(verdict(&s, &record(2, 0), 99_999, None), Verdict::Last);
        assert_eq!(
            figures_text(&s[0], &short),
            "18 of 20 downloads confirmed (90%, needs 95%), 18 updated (needs 3)"
        );
    }

    #[test]
    fn a_pause_stops_the_clock_and_the_steps_go_in_order() {
        let s = stages(
            "[{percent: 5, soak: 10s, min_updated: 0}, {percent: 50, soak: 10s}, {percent: 100}]",
        )
        .unwrap();
        let settings = Settings {
            stages: &s,
            paused: false,
            forced: None,
            halted: false,
        };
        let start = next_step(settings, None, 100, None);
        assert_eq!(start, Some(Step::Start(record(1, 100))));
        let r = record(1, 100);
        let ok = Some(Figures::default());
        assert_eq!(next_step(settings, Some(&r), 105, ok), None);
        assert_eq!(
            next_step(settings, Some(&r), 110, ok),
            Some(Step::Advance { from: 1, to: 2 })
        );
        assert_eq!(
            next_step(
                Settings {
                    halted: true,
                    ..settings
                },
                Some(&r),
                110,
                ok
            ),
            None,
            "a halt stops advancing"
        );
        let paused = Settings {
            paused: true,
            ..settings
        };
        assert_eq!(next_step(paused, Some(&r), 104, ok), Some(Step::Freeze));
        let frozen = StageRecord {
            paused_at: 104,
            ..r
        };
        assert_eq!(
            frozen.elapsed(10_000),
            4,
            "the clock stands still while paused"
        );
        assert_eq!(next_step(paused, Some(&frozen), 10_000, ok), None);
        assert_eq!(
            next_step(settings, Some(&frozen), 10_000, ok),
            Some(Step::Thaw)
        );
        let thawed = StageRecord {
            paused_at: 0,
            paused_for: 10_000 - 104,
            ..r
        };
        assert_eq!(thawed.elapsed(10_000), 4);
        assert_eq!(next_step(settings, Some(&thawed), 10_005, ok), None);
        assert_eq!(
            next_step(settings, Some(&thawed), 10_006, ok),
            Some(Step::Advance { from: 1, to: 2 })
        );
        // `stage: 3` forces once; the same value again does nothing; removing it forgets it.
        let forced = Settings {
            forced: Some(3),
            ..settings
        };
        let Some(Step::Force { from: 1, to }) = next_step(forced, Some(&r), 200, ok) else {
            panic!("no force");
        };
        assert_eq!((to.stage, to.started_at, to.forced), (3, 200, 3));
        assert_eq!(
            next_step(forced, Some(&to), 300, ok),
            None,
            "the last stage never ends"
        );
        let back = StageRecord { stage: 1, ..to };
        assert_eq!(
            next_step(forced, Some(&back), 205, ok),
            None,
            "forced once, not on every read"
        );
        assert_eq!(
            next_step(settings, Some(&to), 300, ok),
            Some(Step::ForgetForced)
        );
        assert_eq!(
            next_step(forced, None, 5, None),
            Some(Step::Start(StageRecord {
                stage: 3,
                started_at: 5,
                forced: 3,
                ..StageRecord::default()
            }))
        );
    }
}
