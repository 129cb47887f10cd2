//! A release's staged rollout (`rollout:` in its `meta.yaml`) and the pure decision whether
//! one more device may be admitted to it: pilots always; others only when the rollout is
//! not paused or halted, the server's local time is inside the window, the device's bucket
//! is below `percent`, and the hourly cap has room.
//!
//! The bucket is the first eight bytes of SHA-256("<address>|<line>|<version>") as a
//! big-endian integer, mod 100: the same on every instance, restart and server version, so
//! raising `percent` only ever adds addresses, and a different release draws other ones.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::ip_networks::{IpNetworks, NetworkError};
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::rollout::stages::{
    cap_at, check_rate_growth, check_stages, RawStage, Stage, StageError,
};
use crate::words::cli::OperatorText;
use crate::words::{FromTable, Words};

/// `rollout:` as written in `meta.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollout {
    pilot: Option<Vec<String>>,
    percent: Option<f64>,
    max_new_per_hour: Option<u64>,
    window: Option<String>,
    paused: Option<bool>,
    halt_when_stuck_percent: Option<f64>,
    // Stages that advance themselves (`stages`): kept at the end.
    stages: Option<Vec<RawStage>>,
    rate_growth: Option<f64>,
    max_new_per_hour_limit: Option<u64>,
    stage: Option<i64>,
    /// Any YAML scalar, so that `deadline: 20261231` is refused in plain words rather than
    /// as a type mismatch.
    deadline: Option<serde_yaml::Value>,
    // groups: device groups always admitted (`groups.yaml`), by name.
    pilot_groups: Option<Vec<String>>,
}

/// A checked rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// Always admitted, whatever else says.
    pub pilot: IpNetworks,
    /// Of the other addresses, those whose bucket is below this (0 to 100).
    pub percent: u8,
    /// At most this many newly admitted addresses in any 60 minutes (pilots not counted).
    pub max_new_per_hour: Option<u32>,
    /// Server local time in which new devices may be admitted.
    pub window: Option<Window>,
    /// Nobody new is admitted.
    pub paused: bool,
    /// Stop admitting when more than this share (in tenths of a percent) of the devices
    /// that finished a download are stuck.
    pub halt_when_stuck_per_mille: Option<u32>,
    /// A fingerprint of `rollout:` as written: a halt lasts until it changes.
    pub settings_id: String,
    // Stages that advance themselves: kept at the end.
    /// `stages:`; empty without. With stages, `percent` above is the first stage's.
    pub stages: Vec<Stage>,
    /// The cap's factor at each advance, in thousandths (1000: `rate_growth: 1`).
    pub rate_growth_milli: u32,
    /// The cap never grows past this.
    pub max_new_per_hour_limit: Option<u32>,
    /// `stage: N` as written: forces stage N once, when it appears or changes.
    pub forced_stage: Option<u8>,
    /// Every device of the line should report this release by the end of this day (the
    /// server's time zone); `projection` says whether it will. It changes nothing a device
    /// sees, and is left out of `settings_id`: setting or moving a deadline is no edit
    /// that resumes a halted rollout.
    pub deadline: Option<chrono::NaiveDate>,
    // groups
    /// `pilot_groups:`: registers whose admission group (by networks, `groups.yaml`) is
    /// named here are always admitted, like `pilot` networks. A name no group has admits
    /// nobody; the scan reports it (`catalog::pilot_groups`).
    pub pilot_groups: Vec<String>,
}

/// Why `rollout:` was refused. Display names the key and the expected form, in the words
/// `check`, `publish` and the scan's log show.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutError {
    Pilot(NetworkError),
    /// `percent` as written.
    Percent(f64),
    MaxNewPerHour(u64),
    /// `window` as written is no time span.
    Window(String),
    /// `window` as written starts where it ends.
    EmptyWindow(String),
    HaltWhenStuckPercent(f64),
    /// `stages:` and the keys that go with it.
    Stages(StageError),
    /// `deadline` as written is no day.
    Deadline(String),
    /// `pilot_groups` lists this many names, more than `MAX_PILOT_GROUPS`.
    PilotGroups(usize),
}

/// Each refusal from the tables, in either language (`stages:`'s from its own type).
impl FromTable for RolloutError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.rollout;
        match self {
            RolloutError::Pilot(e) => e.in_language(words.lang),
            RolloutError::Percent(p) => fill(t.percent, &[("value", p)]),
            RolloutError::MaxNewPerHour(n) => fill(
                t.too_large_at_most,
                &[
                    ("key", &"max_new_per_hour"),
                    ("value", n),
                    ("max", &u32::MAX),
                ],
            ),
            RolloutError::Window(text) => fill(t.window, &[("value", &format!("{text:?}"))]),
            RolloutError::EmptyWindow(text) => {
                fill(t.empty_window, &[("value", &format!("{text:?}"))])
            }
            RolloutError::HaltWhenStuckPercent(p) => fill(t.halt_percent, &[("value", p)]),
            RolloutError::Stages(e) => e.in_language(words.lang),
            RolloutError::Deadline(text) => deadline_error(text, words.lang),
            RolloutError::PilotGroups(count) => fill(
                t.too_large_at_most,
                &[
                    ("key", &"pilot_groups"),
                    ("value", &format!("{count} names")),
                    ("max", &MAX_PILOT_GROUPS),
                ],
            ),
        }
    }
}

impl fmt::Display for RolloutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl std::error::Error for RolloutError {}

impl InLanguage for RolloutError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

/// "rollout.deadline: "31.12.2026" is not a day (expected YYYY-MM-DD, like 2026-12-31)".
fn deadline_error(text: &str, lang: Lang) -> String {
    fill(
        OperatorText::of(lang).rollout_deadline_invalid,
        &[("value", &format!("{text:?}"))],
    )
}

/// Longest `deadline` value an error quotes: a key of a megabyte is not echoed whole.
const DEADLINE_QUOTED_MAX: usize = 40;

/// `deadline: YYYY-MM-DD`, exactly (four-digit year, two-digit month and day), a real day.
fn parse_deadline(value: &serde_yaml::Value) -> Result<chrono::NaiveDate, RolloutError> {
    let text = match value {
        serde_yaml::Value::String(text) => text.clone(),
        other => serde_yaml::to_string(other)
            .map(|t| t.trim_end().to_string())
            .unwrap_or_default(),
    };
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let day = if shape_ok {
        chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()
    } else {
        None
    };
    day.ok_or_else(|| {
        let quoted: String = text.chars().take(DEADLINE_QUOTED_MAX).collect();
        RolloutError::Deadline(if quoted.len() < text.len() {
            format!("{quoted}…")
        } else {
            quoted
        })
    })
}

/// `"22:00-06:00"`: minutes of the day, the end excluded; may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u32,
    pub end: u32,
}

impl Window {
    fn parse(text: &str) -> Result<Window, RolloutError> {
        let bad = || RolloutError::Window(text.to_string());
        let (start, end) = text.trim().split_once('-').ok_or_else(bad)?;
        let minute = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
        };
        let (start, end) = (minute(start).ok_or_else(bad)?, minute(end).ok_or_else(bad)?);
        if start % 1440 == end % 1440 {
            return Err(RolloutError::EmptyWindow(text.to_string()));
        }
        Ok(Window {
            start: start % 1440,
            end: end % 1440,
        })
    }

    /// Whether `minute` (of the day, local time) is inside.
    pub fn contains(&self, minute: u32) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

impl Rollout {
    /// Checks `rollout:`; errors name the key and the expected form.
    pub fn from_raw(raw: RawRollout) -> Result<Rollout, RolloutError> {
        // As written, so that adding `paused: false` (the same settings) still counts as
        // the operator's edit that resumes a halted rollout. The form is fixed: a stored
        // halt must compare equal after an upgrade.
        let written = format!(
            "pilot={:?};percent={:?};max_new_per_hour={:?};window={:?};paused={:?};halt={:?}",
            raw.pilot,
            raw.percent,
            raw.max_new_per_hour,
            raw.window,
            raw.paused,
            raw.halt_when_stuck_percent
        );
        // The stage keys join the fingerprint only when written, so that a rollout written
        // before they existed keeps its fingerprint (and a stored halt its meaning).
        let mut written = written;
        if raw.stages.is_some()
            || raw.rate_growth.is_some()
            || raw.max_new_per_hour_limit.is_some()
            || raw.stage.is_some()
        {
            written.push_str(&format!(
                ";stages={:?};rate_growth={:?};limit={:?};stage={:?}",
                raw.stages, raw.rate_growth, raw.max_new_per_hour_limit, raw.stage
            ));
        }
        // Likewise `pilot_groups`: only when written.
        if let Some(groups) = &raw.pilot_groups {
            written.push_str(&format!(";pilot_groups={groups:?}"));
        }
        let digest = Sha256::digest(written.as_bytes());
        let settings_id = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let pilot = IpNetworks::parse("rollout.pilot", raw.pilot.as_deref().unwrap_or_default())
            .map_err(RolloutError::Pilot)?;
        let percent = match raw.percent {
            None => 100,
            Some(p) if (0.0..=100.0).contains(&p) && p.fract() == 0.0 => p as u8,
            Some(p) => return Err(RolloutError::Percent(p)),
        };
        let max_new_per_hour = match raw.max_new_per_hour {
            None => None,
            Some(n) => Some(u32::try_from(n).map_err(|_| RolloutError::MaxNewPerHour(n))?),
        };
        let window = raw.window.as_deref().map(Window::parse).transpose()?;
        let halt_when_stuck_per_mille = match raw.halt_when_stuck_percent {
            None => None,
            Some(p) if (0.0..=100.0).contains(&p) => Some((p * 10.0).round() as u32),
            Some(p) => return Err(RolloutError::HaltWhenStuckPercent(p)),
        };
        let StageKeys {
            stages,
            rate_growth_milli,
            max_new_per_hour_limit,
            forced_stage,
        } = stage_keys(&raw, max_new_per_hour)?;
        let percent = stages.first().map_or(percent, |s| s.percent);
        let deadline = raw.deadline.as_ref().map(parse_deadline).transpose()?;
        let pilot_groups = pilot_groups(raw.pilot_groups.unwrap_or_default())?;
        Ok(Rollout {
            pilot,
            percent,
            max_new_per_hour,
            window,
            paused: raw.paused.unwrap_or(false),
            halt_when_stuck_per_mille,
            settings_id,
            stages,
            rate_growth_milli,
            max_new_per_hour_limit,
            forced_stage,
            deadline,
            pilot_groups,
        })
    }
}

/// `pilot_groups` as written, trimmed, each once; bounded like the groups file
/// (`groups::MAX_GROUPS` names of at most `groups::MAX_NAME_CHARS` characters).
fn pilot_groups(names: Vec<String>) -> Result<Vec<String>, RolloutError> {
    if names.len() > MAX_PILOT_GROUPS {
        return Err(RolloutError::PilotGroups(names.len()));
    }
    let mut kept: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = name.trim().to_string();
        if !name.is_empty() && !kept.contains(&name) {
            kept.push(name);
        }
    }
    Ok(kept)
}

/// At most this many names in `pilot_groups` (as many as `groups.yaml` may hold).
pub const MAX_PILOT_GROUPS: usize = 1000;

impl Rollout {
    /// Whether a device at `address`, of the admission group named `group`, is a pilot:
    /// in a `pilot` network, or in a group `pilot_groups` names.
    pub fn is_pilot(&self, address: IpAddr, group: Option<&str>) -> bool {
        self.pilot.contains(address)
            || group.is_some_and(|group| self.pilot_groups.iter().any(|name| name == group))
    }

    /// The share (percent) and hourly cap at stage `stage` (from 1; the last one past the
    /// end). Without stages: `percent` and `max_new_per_hour`, whatever the stage.
    pub fn limits_at(&self, stage: u8) -> (u8, Option<u32>) {
        if self.stages.is_empty() {
            return (self.percent, self.max_new_per_hour);
        }
        let index = usize::from(stage.max(1)).min(self.stages.len()) - 1;
        let stage = u8::try_from(index + 1).unwrap_or(u8::MAX);
        let cap = self.max_new_per_hour.map(|base| {
            cap_at(
                base,
                self.rate_growth_milli,
                self.max_new_per_hour_limit,
                stage,
            )
        });
        (self.stages[index].percent, cap)
    }

    /// The stages' shares as written: "5% → 25% → 100%".
    fn stage_shares(&self) -> String {
        let shares: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{}%", s.percent))
            .collect();
        shares.join(" → ")
    }

    /// The factor as written: "2", "1.5".
    fn growth_text(&self) -> String {
        let whole = self.rate_growth_milli / 1000;
        match self.rate_growth_milli % 1000 {
            0 => whole.to_string(),
            rest => format!("{whole}.{rest:03}")
                .trim_end_matches('0')
                .to_string(),
        }
    }
}

/// The stage keys of `rollout:`, checked against each other and `max_new_per_hour`.
struct StageKeys {
    stages: Vec<Stage>,
    rate_growth_milli: u32,
    max_new_per_hour_limit: Option<u32>,
    forced_stage: Option<u8>,
}

fn stage_keys(raw: &RawRollout, max_new_per_hour: Option<u32>) -> Result<StageKeys, RolloutError> {
    let stages = match &raw.stages {
        None => Vec::new(),
        Some(_) if raw.percent.is_some() => {
            return Err(RolloutError::Stages(StageError::WithPercent))
        }
        Some(stages) => check_stages(stages).map_err(RolloutError::Stages)?,
    };
    let needs = |key, needs| RolloutError::Stages(StageError::Needs(key, needs));
    let rate_growth_milli = match raw.rate_growth {
        None => 1000,
        Some(_) if stages.is_empty() => return Err(needs("rate_growth", "stages")),
        Some(_) if max_new_per_hour.is_none() => {
            return Err(needs("rate_growth", "max_new_per_hour (the cap it grows)"))
        }
        Some(g) => check_rate_growth(g).map_err(RolloutError::Stages)?,
    };
    let max_new_per_hour_limit = match (raw.max_new_per_hour_limit, max_new_per_hour) {
        (None, _) => None,
        (Some(_), _) if stages.is_empty() => return Err(needs("max_new_per_hour_limit", "stages")),
        (Some(_), None) => {
            return Err(needs(
                "max_new_per_hour_limit",
                "max_new_per_hour (the cap it bounds)",
            ))
        }
        (Some(n), Some(cap)) => {
            let limit = u32::try_from(n).map_err(|_| RolloutError::Stages(StageError::Limit(n)))?;
            if limit < cap {
                return Err(RolloutError::Stages(StageError::LimitBelowCap(n, cap)));
            }
            Some(limit)
        }
    };
    let forced_stage = match raw.stage {
        None => None,
        Some(_) if stages.is_empty() => return Err(needs("stage", "stages")),
        Some(n) => match u8::try_from(n) {
            Ok(n) if n >= 1 && usize::from(n) <= stages.len() => Some(n),
            _ => return Err(RolloutError::Stages(StageError::Forced(n, stages.len()))),
        },
    };
    Ok(StageKeys {
        stages,
        rate_growth_milli,
        max_new_per_hour_limit,
        forced_stage,
    })
}

impl fmt::Display for Rollout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stages.is_empty() {
            write!(f, "{}%", self.percent)?;
        } else {
            write!(f, "stages {}", self.stage_shares())?;
        }
        if !self.pilot.is_empty() {
            write!(f, ", pilot {}", self.pilot)?;
        }
        if let Some(cap) = self.max_new_per_hour {
            write!(f, ", at most {cap} new per hour")?;
        }
        if let Some(window) = self.window {
            write!(f, ", window {window}")?;
        }
        if self.paused {
            f.write_str(", paused")?;
        }
        if let Some(per_mille) = self.halt_when_stuck_per_mille {
            write!(f, ", halt above {} stuck", per_mille_text(per_mille))?;
        }
        if self.rate_growth_milli != 1000 {
            write!(f, ", cap x{} per stage", self.growth_text())?;
        }
        if let Some(limit) = self.max_new_per_hour_limit {
            write!(f, " up to {limit} per hour")?;
        }
        if let Some(stage) = self.forced_stage {
            write!(f, ", stage {stage} forced")?;
        }
        if let Some(deadline) = self.deadline {
            write!(f, ", deadline {}", deadline.format("%Y-%m-%d"))?;
        }
        if !self.pilot_groups.is_empty() {
            write!(f, ", pilot groups {}", self.pilot_groups_text())?;
        }
        Ok(())
    }
}

impl Rollout {
    /// The rollout in Russian words, for the Russian dashboard (`Display` is the English the
    /// log, `check` and `/status` keep).
    pub fn in_russian(&self) -> String {
        let mut text = if self.stages.is_empty() {
            format!("{}%", self.percent)
        } else {
            format!("этапы {}", self.stage_shares())
        };
        if !self.pilot.is_empty() {
            text.push_str(&format!(", пилотные {}", self.pilot));
        }
        if let Some(cap) = self.max_new_per_hour {
            text.push_str(&format!(", не больше {cap} новых в час"));
        }
        if let Some(window) = self.window {
            text.push_str(&format!(", окно {window}"));
        }
        if self.paused {
            text.push_str(", приостановлено");
        }
        if let Some(per_mille) = self.halt_when_stuck_per_mille {
            text.push_str(&format!(
                ", остановка, если застряло больше {}",
                per_mille_text(per_mille)
            ));
        }
        if self.rate_growth_milli != 1000 {
            text.push_str(&format!(", лимит x{} на этап", self.growth_text()));
        }
        if let Some(limit) = self.max_new_per_hour_limit {
            text.push_str(&format!(" до {limit} в час"));
        }
        if let Some(stage) = self.forced_stage {
            text.push_str(&format!(", этап {stage} задан вручную"));
        }
        if let Some(deadline) = self.deadline {
            text.push_str(&format!(", срок {}", deadline.format("%d.%m.%Y")));
        }
        if !self.pilot_groups.is_empty() {
            text.push_str(&format!(", пилотные группы {}", self.pilot_groups_text()));
        }
        text
    }

    /// `pilot_groups` quoted, on one line: `"ООО Ромашка", "Пилотные магазины"`.
    fn pilot_groups_text(&self) -> String {
        let names: Vec<String> = self
            .pilot_groups
            .iter()
            .map(|name| format!("\"{}\"", crate::model::one_line::escaped(name)))
            .collect();
        names.join(", ")
    }
}

/// `52` per mille as "5.2%", `50` as "5%" (kept with the stages, which need it too).
pub use crate::rollout::stages::per_mille_text;

/// The bucket (0 to 99) of a device for one release of one line: SHA-256 of
/// `"<address>|<line>|<version>"`, first eight bytes big-endian, mod 100. The text is
/// formatted straight into the hasher, not into a `String`: this runs on the request path
/// of every device not yet admitted.
pub fn bucket(address: IpAddr, line: &str, version: Version) -> u8 {
    /// Feeds formatted text to the hasher as it is produced.
    struct Feed(Sha256);
    impl fmt::Write for Feed {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            self.0.update(text.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(Sha256::new());
    // Writing into a hasher cannot fail.
    let _ = fmt::Write::write_fmt(&mut feed, format_args!("{address}|{line}|{version}"));
    let digest = feed.0.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

/// At least this many devices must have finished a download before a rollout can halt.
pub const HALT_MIN_FINISHED: u64 = 20;

/// Whether a rollout with `halt_when_stuck_per_mille` must halt: enough devices finished a
/// download, and the stuck share among them is above the threshold.
pub fn halt_due(per_mille: u32, finished: u64, stuck: u64) -> bool {
    finished >= HALT_MIN_FINISHED && stuck * 1000 > u64::from(per_mille) * finished
}

/// Why a device was not admitted, with the figures the rule compared: the request path only
/// needs that it was refused; a register's page says which rule and why (it asks `decide`
/// too, so the two cannot disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Paused,
    Halted,
    /// `local_minute` (of the day, server local time) is outside `window`.
    OutsideWindow {
        window: Window,
        local_minute: u32,
    },
    /// The address's `bucket` is not below `percent`, the current stage's share.
    NotInPercent {
        bucket: u8,
        percent: u8,
    },
    /// `admitted_last_hour` reached `cap`, the current stage's hourly cap.
    HourlyCapReached {
        cap: u32,
        admitted_last_hour: u32,
    },
}

/// The decision for a device not admitted before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// In a pilot network (not counted against the hourly cap).
    Pilot,
    /// Within every rule; counts against the hourly cap.
    Admitted,
    Refused(Refusal),
}

/// What the decision depends on besides the rollout and the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// Minute of the day, server local time.
    pub local_minute: u32,
    /// Addresses admitted (not as pilots) in the last 60 minutes.
    pub admitted_last_hour: u32,
    /// Halted by its stuck devices.
    pub halted: bool,
    /// The rollout's current stage (from 1; ignored without stages): its share and cap apply.
    pub stage: u8,
}

/// Whether `address` may be admitted now to release `version` of `line`; `group` is the
/// name of the device's admission group (by networks: `Groups::for_admission`), and
/// `moment.local_minute` the minute in that group's time zone (the server's without one).
pub fn decide(
    rollout: &Rollout,
    address: IpAddr,
    group: Option<&str>,
    line: &str,
    version: Version,
    moment: Moment,
) -> Admission {
    if rollout.is_pilot(address, group) {
        return Admission::Pilot;
    }
    let (percent, cap) = rollout.limits_at(moment.stage);
    let refused = if rollout.paused {
        Some(Refusal::Paused)
    } else if moment.halted {
        Some(Refusal::Halted)
    } else if let Some(window) = rollout.window.filter(|w| !w.contains(moment.local_minute)) {
        Some(Refusal::OutsideWindow {
            window,
            local_minute: moment.local_minute,
        })
    } else {
        // Hashed only when the cheaper rules let it through.
        let bucket = bucket(address, line, version);
        if bucket >= percent {
            Some(Refusal::NotInPercent { bucket, percent })
        } else {
            cap.filter(|cap| moment.admitted_last_hour >= *cap)
                .map(|cap| Refusal::HourlyCapReached {
                    cap,
                    admitted_last_hour: moment.admitted_last_hour,
                })
        }
    };
    refused.map_or(Admission::Admitted, Admission::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Rollout, String> {
        let raw: RawRollout = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
        Rollout::from_raw(raw).map_err(|e| e.to_string())
    }

    fn v() -> Version {
        Version::from_yyyymmdd(20250301).unwrap()
    }

    fn open() -> Moment {
        Moment {
            local_minute: 12 * 60,
            admitted_last_hour: 0,
            halted: false,
            stage: 1,
        }
    }

    #[test]
    fn errors_read_word_for_word_as_before() {
        for (yaml, expected) in [
            (
                "percent: 10.5",
                "rollout.percent: 10.5 is not a whole number from 0 to 100",
            ),
            (
                "max_new_per_hour: 4294967296",
                "rollout.max_new_per_hour: 4294967296 is too large (at most 4294967295)",
            ),
            (
                "window: \"25:00-06:00\"",
                "rollout.window: \"25:00-06:00\" is not a time span (expected like \
                 \"22:00-06:00\", server local time)",
            ),
            (
                "window: \"06:00-06:00\"",
                "rollout.window: \"06:00-06:00\" starts where it ends; leave window out to \
                 admit at any hour",
            ),
            (
                "halt_when_stuck_percent: -1",
                "rollout.halt_when_stuck_percent: -1 is not a percentage from 0 to 100",
            ),
            (
                "pilot: [10.0.0.0/40]",
                "rollout.pilot: bad prefix in \"10.0.0.0/40\" (expected 0 to 32 after the /)",
            ),
        ] {
            assert_eq!(parse(yaml).unwrap_err(), expected, "{yaml}");
        }
    }

    #[test]
    fn settings_parse_with_defaults_and_plain_errors() {
        let r = parse("percent: 10\nwindow: \"22:00-06:00\"\npilot: [10.20.0.0/16]\n").unwrap();
        assert_eq!((r.percent, r.paused, r.max_new_per_hour), (10, false, None));
        assert_eq!(r.to_string(), "10%, pilot 10.20.0.0/16, window 22:00-06:00");
        assert_eq!(parse("{}").unwrap().percent, 100);
        for (yaml, expected) in [
            (
                "percent: 101",
                "rollout.percent: 101 is not a whole number from 0 to 100",
            ),
            ("percent: 2.5", "rollout.percent: 2.5 is not a whole number"),
            (
                "window: \"22-06\"",
                "rollout.window: \"22-06\" is not a time span",
            ),
            ("window: \"25:00-06:00\"", "is not a time span"),
            ("window: \"06:00-06:00\"", "starts where it ends"),
            (
                "pilot: [shop1]",
                "rollout.pilot: \"shop1\" is not an IP address",
            ),
            (
                "halt_when_stuck_percent: 150",
                "rollout.halt_when_stuck_percent: 150",
            ),
        ] {
            let error = parse(yaml).unwrap_err();
            assert!(error.contains(expected), "{yaml}: {error}");
        }
        assert!(parse("percnt: 10")
            .unwrap_err()
            .contains("unknown field `percnt`"));
        assert_ne!(
            parse("percent: 10").unwrap().settings_id,
            parse("percent: 10\npaused: false").unwrap().settings_id,
            "an explicit paused: false is an edit"
        );
        let halt = parse("halt_when_stuck_percent: 2.5").unwrap();
        assert_eq!(halt.halt_when_stuck_per_mille, Some(25));
        assert_eq!(halt.to_string(), "100%, halt above 2.5% stuck");
    }

    #[test]
    fn a_deadline_is_a_day_written_yyyy_mm_dd() {
        let r = parse("percent: 10\ndeadline: 2026-12-31").unwrap();
        assert_eq!(r.deadline, chrono::NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(r.to_string(), "10%, deadline 2026-12-31");
        assert_eq!(r.in_russian(), "10%, срок 31.12.2026");
        assert_eq!(
            parse("deadline: \"2024-02-29\"").unwrap().deadline,
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for (yaml, value) in [
            ("deadline: 31.12.2026", "\"31.12.2026\""),
            ("deadline: 2026-02-30", "\"2026-02-30\""),
            ("deadline: 2026-1-5", "\"2026-1-5\""),
            ("deadline: \"+2026-12-31\"", "\"+2026-12-31\""),
            ("deadline: \" 2026-12-31\"", "\" 2026-12-31\""),
            ("deadline: 20261231", "\"20261231\""),
            ("deadline: [2026]", "\"- 2026\""),
            (
                "deadline: \"2026-12-31\\n\\u001b[31m\"",
                "\"2026-12-31\\n\\u{1b}[31m\"",
            ),
        ] {
            assert_eq!(
                parse(yaml).unwrap_err(),
                format!(
                    "rollout.deadline: {value} is not a day (expected YYYY-MM-DD, like 2026-12-31)"
                ),
                "{yaml}"
            );
        }
        let long = parse(&format!("deadline: \"{}\"", "9".repeat(100_000))).unwrap_err();
        assert!(long.len() < 200, "not echoed whole: {} bytes", long.len());
        let raw: RawRollout = serde_yaml::from_str("deadline: 31.12.2026").unwrap();
        let error = Rollout::from_raw(raw).unwrap_err();
        assert_eq!(
            error.in_russian(),
            "rollout.deadline: \"31.12.2026\" — не дата (ожидается ГГГГ-ММ-ДД, например 2026-12-31)"
        );
    }

    /// A deadline changes nothing a device sees: setting or moving one is no edit that
    /// resumes a halted rollout, and a rollout without one keeps the fingerprint it had
    /// before the key existed (a halt stored then stays a halt).
    #[test]
    fn a_deadline_leaves_the_settings_fingerprint_alone() {
        let plain = parse("percent: 10\nhalt_when_stuck_percent: 5").unwrap();
        let with = parse("percent: 10\nhalt_when_stuck_percent: 5\ndeadline: 2026-12-31").unwrap();
        assert_eq!(plain.settings_id, with.settings_id);
        let written = format!(
            "pilot={:?};percent={:?};max_new_per_hour={:?};window={:?};paused={:?};halt={:?}",
            None::<Vec<String>>,
            Some(10.0f64),
            None::<u64>,
            None::<String>,
            None::<bool>,
            Some(5.0f64)
        );
        let digest = Sha256::digest(written.as_bytes());
        let expected: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            plain.settings_id, expected,
            "the form stored halts compare with"
        );
    }

    #[test]
    fn windows_wrap_past_midnight() {
        let night = Window::parse("22:00-06:00").unwrap();
        assert!(night.contains(23 * 60) && night.contains(0) && night.contains(5 * 60 + 59));
        assert!(!night.contains(6 * 60) && !night.contains(12 * 60));
        let day = Window::parse("9:30-18:00").unwrap();
        assert!(day.contains(9 * 60 + 30) && !day.contains(18 * 60));
        assert_eq!(
            Window::parse("20:00-24:00").unwrap().to_string(),
            "20:00-00:00"
        );
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        let a: IpAddr = "192.0.2.15".parse().unwrap();
        assert_eq!(bucket(a, "", v()), bucket(a, "", v()));
        // The documented form, computed the plain way.
        for (ip, line) in [
            ("192.0.2.15", ""),
            ("fd00::1:2", "C.3"),
            ("255.255.255.255", "D.1"),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let digest = Sha256::digest(format!("{ip}|{line}|20250301").as_bytes());
            let expected = u64::from_be_bytes(digest[..8].try_into().unwrap()) % 100;
            assert_eq!(u64::from(bucket(ip, line, v())), expected, "{ip} {line}");
        }
        let mut counts = [0u32; 10];
        for i in 0..10_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000u32 + i));
            counts[usize::from(bucket(ip, "C.3", v()) / 10)] += 1;
        }
        assert!(counts.iter().all(|c| (900..1100).contains(c)), "{counts:?}");
    }

    /// `pilot_groups`: a device whose admission group is named is a pilot, even at 0% and
    /// outside the window; other groups and no group are not. Writing the key changes the
    /// fingerprint (an edit that resumes a halt); a rollout without it keeps its own.
    #[test]
    fn pilot_groups_admit_their_groups_devices() {
        let r = parse(
            "percent: 0\nwindow: \"22:00-06:00\"\npilot_groups: [\"Пилотные магазины\", \" Пилотные магазины \", B]",
        )
        .unwrap();
        assert_eq!(r.pilot_groups, ["Пилотные магазины", "B"]);
        let device: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            decide(&r, device, Some("Пилотные магазины"), "", v(), open()),
            Admission::Pilot
        );
        assert_eq!(
            decide(&r, device, Some("B"), "", v(), open()),
            Admission::Pilot
        );
        for other in [Some("C"), Some("пилотные магазины"), None] {
            assert!(matches!(
                decide(&r, device, other, "", v(), open()),
                Admission::Refused(_)
            ));
        }
        assert_eq!(
            r.to_string(),
            "0%, window 22:00-06:00, pilot groups \"Пилотные магазины\", \"B\""
        );
        assert!(r
            .in_russian()
            .ends_with(", пилотные группы \"Пилотные магазины\", \"B\""));
        let plain = parse("percent: 0").unwrap();
        let with = parse("percent: 0\npilot_groups: [B]").unwrap();
        assert_ne!(plain.settings_id, with.settings_id);
        assert!(plain.pilot_groups.is_empty());
        let many: Vec<String> = (0..=MAX_PILOT_GROUPS).map(|i| format!("g{i}")).collect();
        assert_eq!(
            parse(&format!("pilot_groups: [{}]", many.join(", "))).unwrap_err(),
            "rollout.pilot_groups: 1001 names is too large (at most 1000)"
        );
    }

    #[test]
    fn decisions_follow_the_rules_in_order() {
        let r = parse(
            "percent: 100\nmax_new_per_hour: 2\nwindow: \"22:00-06:00\"\npilot: [192.0.2.0/24]",
        )
        .unwrap();
        let pilot: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        let noon = open();
        assert_eq!(decide(&r, pilot, None, "", v(), noon), Admission::Pilot);
        assert_eq!(
            decide(&r, other, None, "", v(), noon),
            Admission::Refused(Refusal::OutsideWindow {
                window: Window::parse("22:00-06:00").unwrap(),
                local_minute: 12 * 60
            })
        );
        let night = Moment {
            local_minute: 23 * 60,
            ..noon
        };
        assert_eq!(decide(&r, other, None, "", v(), night), Admission::Admitted);
        let full = Moment {
            admitted_last_hour: 2,
            ..night
        };
        assert_eq!(
            decide(&r, other, None, "", v(), full),
            Admission::Refused(Refusal::HourlyCapReached {
                cap: 2,
                admitted_last_hour: 2
            })
        );
        let halted = Moment {
            halted: true,
            ..night
        };
        assert_eq!(
            decide(&r, other, None, "", v(), halted),
            Admission::Refused(Refusal::Halted)
        );
        assert_eq!(decide(&r, pilot, None, "", v(), halted), Admission::Pilot);
        let paused = parse("paused: true").unwrap();
        assert_eq!(
            decide(&paused, other, None, "", v(), noon),
            Admission::Refused(Refusal::Paused)
        );
        let none = parse("percent: 0").unwrap();
        assert_eq!(
            decide(&none, other, None, "", v(), noon),
            Admission::Refused(Refusal::NotInPercent {
                bucket: bucket(other, "", v()),
                percent: 0
            })
        );
    }

    #[test]
    fn halts_need_twenty_finished_and_a_share_above_the_threshold() {
        assert!(!halt_due(50, 19, 19));
        assert!(!halt_due(50, 20, 1), "5% is not above 5%");
        assert!(halt_due(50, 20, 2));
        assert!(halt_due(0, 40, 1));
    }

    #[test]
    fn raising_percent_only_adds_addresses() {
        let ten = parse("percent: 10").unwrap();
        let thirty = parse("percent: 30").unwrap();
        for i in 0..2000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0xc000_0200u32 + i));
            if decide(&ten, ip, None, "", v(), open()) == Admission::Admitted {
                assert_eq!(
                    decide(&thirty, ip, None, "", v(), open()),
                    Admission::Admitted
                );
            }
        }
    }

    /// A stored halt names the rollout by this fingerprint: the server that learnt the
    /// stage keys must give a rollout written without them the fingerprint it had before
    /// (computed by the server before them), or an upgrade would resume every halt.
    #[test]
    fn fingerprints_of_rollouts_without_stage_keys_are_unchanged() {
        for (yaml, before) in [
            ("percent: 10\nhalt_when_stuck_percent: 5", "14ccc741"),
            ("{}", "30965818"),
        ] {
            assert_eq!(parse(yaml).unwrap().settings_id, before, "{yaml}");
        }
        let staged = parse("stages: [{percent: 10}]\nhalt_when_stuck_percent: 5").unwrap();
        assert_ne!(
            staged.settings_id,
            parse("halt_when_stuck_percent: 5").unwrap().settings_id
        );
        assert_ne!(
            staged.settings_id,
            parse("stages: [{percent: 10}]\nhalt_when_stuck_percent: 5\nstage: 1")
                .unwrap()
                .settings_id,
            "writing stage: N is an edit"
        );
    }

    #[test]
    fn stage_keys_parse_and_their_errors_name_key_value_and_form() {
        let r = parse(
            "stages: [{percent: 5, soak: 2s}, {percent: 25}, {percent: 100}]\n\
             max_new_per_hour: 100\nrate_growth: 2\nmax_new_per_hour_limit: 300\nstage: 2",
        )
        .unwrap();
        assert_eq!((r.percent, r.stages.len(), r.forced_stage), (5, 3, Some(2)));
        assert_eq!(r.limits_at(1), (5, Some(100)));
        assert_eq!(r.limits_at(2), (25, Some(200)));
        assert_eq!(
            r.limits_at(3),
            (100, Some(300)),
            "the limit bounds the growth"
        );
        assert_eq!(r.limits_at(9), (100, Some(300)));
        assert_eq!(
            r.to_string(),
            "stages 5% → 25% → 100%, at most 100 new per hour, cap x2 per stage up to 300 per \
             hour, stage 2 forced"
        );
        for (yaml, expected) in [
            (
                "percent: 10\nstages: [{percent: 5}]",
                "rollout: stages and percent together",
            ),
            ("stages: []", "rollout.stages: 0 stages"),
            (
                "stages: [{percent: 5}]\nstage: 2",
                "rollout.stage: 2 is not a stage of this rollout (expected 1 to 1)",
            ),
            (
                "stages: [{percent: 5}]\nstage: 0",
                "rollout.stage: 0 is not a stage",
            ),
            (
                "stage: 1",
                "rollout.stage: only means something with stages",
            ),
            (
                "rate_growth: 2",
                "rollout.rate_growth: only means something with stages",
            ),
            (
                "stages: [{percent: 5}]\nrate_growth: 2",
                "rollout.rate_growth: only means something with max_new_per_hour",
            ),
            (
                "stages: [{percent: 5}]\nmax_new_per_hour: 10\nrate_growth: 0.5",
                "rollout.rate_growth: 0.5 is not a factor from 1 to 10",
            ),
            (
                "stages: [{percent: 5}]\nmax_new_per_hour: 10\nmax_new_per_hour_limit: 5",
                "rollout.max_new_per_hour_limit: 5 is below max_new_per_hour 10",
            ),
            (
                "stages: [{percent: 5}]\nmax_new_per_hour: 10\nmax_new_per_hour_limit: 4294967296",
                "rollout.max_new_per_hour_limit: 4294967296 is too large",
            ),
        ] {
            let error = parse(yaml).unwrap_err();
            assert!(error.contains(expected), "{yaml}: {error}");
        }
    }

    #[test]
    fn the_current_stage_sets_the_share_and_the_cap() {
        let r =
            parse("stages: [{percent: 0}, {percent: 100}]\nmax_new_per_hour: 1\nrate_growth: 3")
                .unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        let first = open();
        assert_eq!(
            decide(&r, other, None, "", v(), first),
            Admission::Refused(Refusal::NotInPercent {
                bucket: bucket(other, "", v()),
                percent: 0
            })
        );
        let second = Moment {
            stage: 2,
            admitted_last_hour: 2,
            ..first
        };
        assert_eq!(
            decide(&r, other, None, "", v(), second),
            Admission::Admitted
        );
        let full = Moment {
            admitted_last_hour: 3,
            ..second
        };
        assert_eq!(
            decide(&r, other, None, "", v(), full),
            Admission::Refused(Refusal::HourlyCapReached {
                cap: 3,
                admitted_last_hour: 3
            }),
            "the second stage's cap, grown by rate_growth"
        );
    }
}
