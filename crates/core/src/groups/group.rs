//! One group of `groups.yaml`: a client company or a set of stores, named by the operator,
//! holding the registers of its networks (and, for views only, of its serials), with the
//! time zone its rollout windows are read in.

use chrono::Timelike;
use chrono_tz::Tz;

use crate::licenses::serial::Serial;
use crate::model::ip_networks::IpNetworks;

/// A checked group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// As written: one line, at most `MAX_NAME_CHARS` characters, unique in the file
    /// (upper and lower case alike).
    pub name: String,
    /// Registers whose address is in these belong to it (admission and views).
    pub networks: IpNetworks,
    /// Registers that fetched licenses for one of these belong to it, for views only: a
    /// device chooses which serials it asks about. Sorted, each once.
    pub serials: Vec<Serial>,
    /// Its rollout windows' clock; none: the server's.
    pub time_zone: Option<Tz>,
}

impl Group {
    /// The minute of the day (0 to 1439) at `unix_secs` in the group's time zone, or the
    /// server's when the group has none. No allocation: `Tz` is a plain value.
    pub fn local_minute(&self, unix_secs: u64) -> u32 {
        match self.time_zone {
            Some(zone) => minute_in(zone, unix_secs),
            None => crate::model::unix_time::local_minute(unix_secs),
        }
    }

    /// Whether `serial` is one of the group's.
    pub fn holds_serial(&self, serial: Serial) -> bool {
        self.serials.binary_search(&serial).is_ok()
    }

    /// The time zone as written (`Asia/Vladivostok`), or none.
    pub fn time_zone_name(&self) -> Option<&'static str> {
        self.time_zone.map(|zone| zone.name())
    }
}

/// The minute of the day for a register of `group` (of none: the server's time zone), the
/// clock its rollout windows are read by.
pub fn local_minute(group: Option<&Group>, unix_secs: u64) -> u32 {
    match group {
        Some(group) => group.local_minute(unix_secs),
        None => crate::model::unix_time::local_minute(unix_secs),
    }
}

/// The minute of the day at `unix_secs` in `zone`.
fn minute_in(zone: Tz, unix_secs: u64) -> u32 {
    i64::try_from(unix_secs)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or(0, |t| {
            let t = t.with_timezone(&zone);
            t.hour() * 60 + t.minute()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(zone: Option<Tz>) -> Group {
        Group {
            name: "g".into(),
            networks: IpNetworks::default(),
            serials: Vec::new(),
            time_zone: zone,
        }
    }

    #[test]
    fn the_minute_is_the_zones_own() {
        // 2026-01-15 00:30 UTC: 03:30 in Moscow (UTC+3), 10:30 in Vladivostok (UTC+10),
        // 19:30 the day before in New York (UTC-5, winter).
        let at = 1_768_437_000;
        assert_eq!(
            group(Some(Tz::Europe__Moscow)).local_minute(at),
            3 * 60 + 30
        );
        assert_eq!(
            group(Some(Tz::Asia__Vladivostok)).local_minute(at),
            10 * 60 + 30
        );
        assert_eq!(
            group(Some(Tz::America__New_York)).local_minute(at),
            19 * 60 + 30
        );
        // Summer time is the zone's: New York is UTC-4 on 2026-07-15 00:30 UTC.
        assert_eq!(
            group(Some(Tz::America__New_York)).local_minute(1_784_075_400),
            20 * 60 + 30
        );
        // No zone, or no group: the server's.
        let server = crate::model::unix_time::local_minute(at);
        assert_eq!(group(None).local_minute(at), server);
        assert_eq!(local_minute(None, at), server);
    }
}
