//! Who is admitted to which release under rollout, and which rollouts are halted: the
//! memory the request path asks ("once admitted, always admitted") and the hourly cap's
//! count. Loaded from the inventory at start-up, written to it through the writer, and
//! merged with what other instances sharing the store admitted (the rollout watch), so the
//! answer never waits for a database. Without an inventory it lasts until the restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::RwLock;

use serde::Serialize;

use crate::model::version::Version;
use crate::platform::lock_recover::RwLockRecover;
use crate::rollout::rules::{decide, Admission, Moment, Rollout};
use crate::rollout::stages::{Figures, StageRecord};

/// The hourly cap counts admissions over this many seconds.
pub const HOUR: u64 = 3600;

#[derive(Debug, Default)]
struct ReleaseAdmissions {
    addresses: HashSet<IpAddr>,
    /// Times of the non-pilot admissions of the last hour, oldest first.
    recent: VecDeque<u64>,
    /// Set while the rollout is halted by its stuck devices.
    halt: Option<Halt>,
    /// The current stage (from 1; 0 before the watch's first round: the first stage), the
    /// one number of the stages the request path reads.
    stage: u8,
    /// Its record and figures, for `/status` (with stages only).
    stage_now: Option<StageNow>,
}

impl ReleaseAdmissions {
    /// Non-pilot admissions since `now - HOUR`, without changing anything (read lock).
    fn count_last_hour(&self, now: u64) -> u32 {
        let since = now.saturating_sub(HOUR);
        let older = self.recent.partition_point(|at| *at <= since);
        u32::try_from(self.recent.len() - older).unwrap_or(u32::MAX)
    }

    fn admitted_last_hour(&mut self, now: u64) -> u32 {
        while self.recent.front().is_some_and(|at| *at + HOUR <= now) {
            self.recent.pop_front();
        }
        u32::try_from(self.recent.len()).unwrap_or(u32::MAX)
    }

    fn add(&mut self, address: IpAddr, at: u64, pilot: bool) -> bool {
        if !self.addresses.insert(address) {
            return false;
        }
        if !pilot {
            // Keep the list ordered: admissions merged from other instances come late.
            let position = self.recent.partition_point(|t| *t <= at);
            self.recent.insert(position, at);
        }
        true
    }
}

/// Why a rollout stopped admitting by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Halt {
    /// Unix seconds.
    pub since: u64,
    pub stuck: u64,
    pub finished: u64,
    /// In words, in both languages (`/status` gives the English, as stored).
    pub reason: crate::words::Said,
}

/// A release's stage as the rollout watch last read it: its record (from the inventory, or
/// this memory with `inventory: off`) and the figures it is judged by (none: not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageNow {
    pub record: StageRecord,
    pub figures: Option<Figures>,
}

/// What the decision for one more device of a release is taken in, read under the shared
/// lock without changing anything (the request path's first look, and a register's page).
fn moment_of(release: Option<&ReleaseAdmissions>, now: u64, local_minute: u32) -> Moment {
    Moment {
        local_minute,
        admitted_last_hour: release.map_or(0, |r| r.count_last_hour(now)),
        halted: release.is_some_and(|r| r.halt.is_some()),
        stage: release.map_or(1, |r| r.stage),
    }
}

/// Where a release's rollout stands for one more device, read at once: the moment `decide`
/// takes (as the request path would take it now), the halt and the stage behind it. A
/// register's page explains a refusal from it; nothing is admitted by reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub moment: Moment,
    pub halt: Option<Halt>,
    pub stage: Option<StageNow>,
}

/// A new admission, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdmission {
    pub pilot: bool,
}

/// Per release: how many are admitted, and how many more the cap allows this hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseCounts {
    pub admitted: u64,
    pub admitted_last_hour: u64,
}

/// The request path reads under a shared lock and allocates nothing; only an admission (once
/// per device and release) takes the write lock.
#[derive(Debug, Default)]
pub struct Admissions {
    /// By line, then version.
    releases: RwLock<HashMap<String, HashMap<u32, ReleaseAdmissions>>>,
}

impl Admissions {
    /// Whether `address` was admitted to release `version` of `line` (a device's page asks;
    /// nothing is admitted by asking).
    pub fn is_admitted(&self, line: &str, version: Version, address: IpAddr) -> bool {
        self.releases
            .read_recover()
            .get(line)
            .and_then(|l| l.get(&version.as_u32()))
            .is_some_and(|r| r.addresses.contains(&address))
    }

    pub fn halt(&self, line: &str, version: Version) -> Option<Halt> {
        self.releases
            .read_recover()
            .get(line)
            .and_then(|l| l.get(&version.as_u32()))
            .and_then(|r| r.halt.clone())
    }

    /// Where release `version` of `line` stands at `now` and `local_minute` (see `Standing`).
    pub fn standing(&self, line: &str, version: Version, now: u64, local_minute: u32) -> Standing {
        let releases = self.releases.read_recover();
        let release = releases.get(line).and_then(|l| l.get(&version.as_u32()));
        Standing {
            moment: moment_of(release, now, local_minute),
            halt: release.and_then(|r| r.halt.clone()),
            stage: release.and_then(|r| r.stage_now),
        }
    }

    /// Whether the device at `address`, of the admission group named `group` (by networks;
    /// none: of no group), is admitted to release `version` of `line` under `rollout`,
    /// admitting it now if the rules allow; `Some` when it was admitted just now.
    /// `local_minute` is the minute in its group's time zone (the server's without one).
    pub fn admit(
        &self,
        line: &str,
        version: Version,
        rollout: &Rollout,
        (address, group): (IpAddr, Option<&str>),
        now: u64,
        local_minute: u32,
    ) -> (bool, Option<NewAdmission>) {
        // The common cases under the shared lock: admitted before, or refused.
        {
            let releases = self.releases.read_recover();
            let release = releases.get(line).and_then(|l| l.get(&version.as_u32()));
            if release.is_some_and(|r| r.addresses.contains(&address)) {
                return (true, None);
            }
            let moment = moment_of(release, now, local_minute);
            if let Admission::Refused(_) = decide(rollout, address, group, line, version, moment) {
                return (false, None);
            }
        }
        // Admitted: decided again under the write lock, so the hourly cap holds exactly.
        let mut releases = self.releases.write_recover();
        let release = releases
            .entry(line.to_string())
            .or_default()
            .entry(version.as_u32())
            .or_default();
        if release.addresses.contains(&address) {
            return (true, None);
        }
        let moment = Moment {
            local_minute,
            admitted_last_hour: release.admitted_last_hour(now),
            halted: release.halt.is_some(),
            stage: release.stage,
        };
        match decide(rollout, address, group, line, version, moment) {
            Admission::Pilot => {
                release.add(address, now, true);
                (true, Some(NewAdmission { pilot: true }))
            }
            Admission::Admitted => {
                release.add(address, now, false);
                (true, Some(NewAdmission { pilot: false }))
            }
            Admission::Refused(_) => (false, None),
        }
    }

    /// Adds admissions read from the store (at start-up, or made by another instance).
    pub fn merge(&self, rows: impl IntoIterator<Item = (IpAddr, String, u32, u64, bool)>) -> usize {
        let mut releases = self.releases.write_recover();
        let mut added = 0;
        for (address, line, version, at, pilot) in rows {
            let release = releases
                .entry(line)
                .or_default()
                .entry(version)
                .or_default();
            if release.add(address, at, pilot) {
                added += 1;
            }
        }
        added
    }

    /// Replaces the halted rollouts.
    pub fn set_halts(&self, mut halts: HashMap<(String, u32), Halt>) {
        let mut releases = self.releases.write_recover();
        for (line, versions) in releases.iter_mut() {
            for (version, release) in versions.iter_mut() {
                release.halt = halts.remove(&(line.clone(), *version));
            }
        }
        for ((line, version), halt) in halts {
            releases
                .entry(line)
                .or_default()
                .entry(version)
                .or_default()
                .halt = Some(halt);
        }
    }

    /// Replaces the stages of the releases with stages (by line and version).
    pub fn set_stages(&self, mut stages: HashMap<(String, u32), StageNow>) {
        let mut releases = self.releases.write_recover();
        for (line, versions) in releases.iter_mut() {
            for (version, release) in versions.iter_mut() {
                release.stage_now = stages.remove(&(line.clone(), *version));
                release.stage = release.stage_now.map_or(0, |s| s.record.stage);
            }
        }
        for ((line, version), now) in stages {
            let release = releases
                .entry(line)
                .or_default()
                .entry(version)
                .or_default();
            release.stage_now = Some(now);
            release.stage = now.record.stage;
        }
    }

    /// The stage of release `version` of `line`, as the watch last set it.
    pub fn stage(&self, line: &str, version: Version) -> Option<StageNow> {
        self.releases
            .read_recover()
            .get(line)
            .and_then(|l| l.get(&version.as_u32()))
            .and_then(|r| r.stage_now)
    }

    /// Every stage set (what the watch keeps in memory with `inventory: off`).
    pub fn stages(&self) -> HashMap<(String, u32), StageNow> {
        let releases = self.releases.read_recover();
        let mut stages = HashMap::new();
        for (line, versions) in releases.iter() {
            for (version, release) in versions {
                if let Some(now) = release.stage_now {
                    stages.insert((line.clone(), *version), now);
                }
            }
        }
        stages
    }

    pub fn halts(&self) -> HashMap<(String, u32), Halt> {
        let releases = self.releases.read_recover();
        let mut halts = HashMap::new();
        for (line, versions) in releases.iter() {
            for (version, release) in versions {
                if let Some(halt) = &release.halt {
                    halts.insert((line.clone(), *version), halt.clone());
                }
            }
        }
        halts
    }

    pub fn counts(&self, line: &str, version: Version, now: u64) -> ReleaseCounts {
        let releases = self.releases.read_recover();
        let release = releases.get(line).and_then(|l| l.get(&version.as_u32()));
        ReleaseCounts {
            admitted: release.map_or(0, |r| r.addresses.len() as u64),
            admitted_last_hour: release.map_or(0, |r| u64::from(r.count_last_hour(now))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(yaml: &str) -> Rollout {
        Rollout::from_raw(serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    fn v() -> Version {
        Version::from_yyyymmdd(20250301).unwrap()
    }

    fn ip(i: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn the_hourly_cap_admits_exactly_its_number_then_more_an_hour_later() {
        let admissions = Admissions::default();
        let r = rollout("max_new_per_hour: 10");
        let admitted = (0..30)
            .filter(|i| admissions.admit("", v(), &r, (ip(*i), None), 1000, 0).0)
            .count();
        assert_eq!(admitted, 10);
        // The admitted stay admitted; the others wait for the hour to pass.
        assert!(admissions.admit("", v(), &r, (ip(0), None), 1001, 0).0);
        assert!(
            !admissions
                .admit("", v(), &r, (ip(29), None), 1000 + HOUR - 1, 0)
                .0
        );
        assert!(
            admissions
                .admit("", v(), &r, (ip(29), None), 1000 + HOUR, 0)
                .0
        );
        assert_eq!(admissions.counts("", v(), 1000 + HOUR).admitted, 11);
    }

    #[test]
    fn once_admitted_always_admitted_even_when_paused() {
        let admissions = Admissions::default();
        let open = rollout("percent: 100");
        assert_eq!(
            admissions.admit("C.3", v(), &open, (ip(1), None), 10, 0),
            (true, Some(NewAdmission { pilot: false }))
        );
        let paused = rollout("paused: true");
        assert_eq!(
            admissions.admit("C.3", v(), &paused, (ip(1), None), 20, 0),
            (true, None)
        );
        assert_eq!(
            admissions.admit("C.3", v(), &paused, (ip(2), None), 20, 0),
            (false, None)
        );
        assert!(!admissions.is_admitted("", v(), ip(1)), "lines are apart");
    }

    #[test]
    fn merged_admissions_count_against_the_cap() {
        let admissions = Admissions::default();
        let added =
            admissions.merge((0..5).map(|i| (ip(i), String::new(), v().as_u32(), 100, false)));
        assert_eq!(added, 5);
        let r = rollout("max_new_per_hour: 6");
        assert!(admissions.admit("", v(), &r, (ip(10), None), 200, 0).0);
        assert!(!admissions.admit("", v(), &r, (ip(11), None), 200, 0).0);
    }
}
