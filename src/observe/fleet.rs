//! The fleet view: what each device (by client address) last asked and was offered, so an
//! operator can see how many registers still run firmware older than the critical version.
//! Memory is bounded: past `cap` devices, the least recently seen is forgotten.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use crate::catalog::firmware_offer::FirmwareOffer;
use crate::licenses::serial::Serial;
use crate::model::version::Version;

/// User-Agent strings are cut to this many bytes, so a device costs bounded memory.
pub const USER_AGENT_MAX: usize = 128;
/// The window for "devices seen recently".
pub const DAY_SECS: u64 = 24 * 3600;

/// What we know of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub address: IpAddr,
    pub user_agent: Box<str>,
    /// From its last `check_firmware`.
    pub build_date: Option<u32>,
    /// The version it was last offered (0: none published).
    pub offered: Option<u32>,
    pub update_available: bool,
    pub critical: bool,
    /// Unix seconds of its last `check_firmware`.
    pub last_check_in: Option<u64>,
    /// From its last `feature_licenses`.
    pub serial: Option<Serial>,
    /// Unix seconds of its last request of either kind.
    pub last_seen: u64,
}

/// Devices by address, with least-recently-seen eviction.
#[derive(Debug)]
pub struct Fleet {
    cap: usize,
    devices: HashMap<IpAddr, (u64, Device)>,
    /// Recency order: sequence number of the last touch to address.
    order: BTreeMap<u64, IpAddr>,
    next: u64,
}

/// Counts for the dashboard and `/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FleetSummary {
    /// Devices remembered (at most the cap).
    pub devices: usize,
    /// Devices that checked in over the last 24 hours.
    pub checked_in_24h: usize,
    /// Of those, built before the critical version.
    pub below_critical: usize,
    /// Of those, built on or after the current release (and not below critical).
    pub up_to_date: usize,
    /// The rest: offered an update that is not critical for them. The three add up to
    /// `checked_in_24h`, so the dashboard's cards do too.
    pub offered_not_critical: usize,
    /// With firmware lines: devices whose build date maps to no line (or to several), who
    /// are offered nothing. The four add up to `checked_in_24h`.
    pub no_line: usize,
    /// Of those, how many per build date (yyyymmdd).
    pub by_build_date: BTreeMap<u32, usize>,
}

impl Fleet {
    pub fn new(cap: usize) -> Fleet {
        Fleet {
            cap: cap.max(1),
            devices: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Changes the cap, forgetting the least recently seen devices over it.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
        self.evict();
    }

    /// Records a `check_firmware`.
    pub fn check_in(
        &mut self,
        address: IpAddr,
        user_agent: &str,
        build: Version,
        offer: &FirmwareOffer,
        now: u64,
    ) {
        let device = self.touch(address, user_agent, now);
        device.build_date = Some(build.as_u32());
        device.offered = Some(offer.version);
        device.update_available = offer.update_available;
        device.critical = offer.critical;
        device.last_check_in = Some(now);
    }

    /// Records a `feature_licenses` (serial to address).
    pub fn license_lookup(&mut self, address: IpAddr, user_agent: &str, serial: Serial, now: u64) {
        self.touch(address, user_agent, now).serial = Some(serial);
    }

    /// Puts back a device remembered by the inventory (at start-up, oldest first).
    pub fn restore(&mut self, device: Device) {
        let (address, seen) = (device.address, device.last_seen);
        let ua = device.user_agent.clone();
        *self.touch(address, &ua, seen) = device;
    }

    /// The `n` most recently seen devices, newest first.
    pub fn recent(&self, n: usize) -> Vec<Device> {
        self.recent_of(n, &|_| true)
    }

    /// The `n` most recently seen devices that `shown` keeps (a viewer's groups), newest
    /// first.
    pub fn recent_of(&self, n: usize, shown: &dyn Fn(&Device) -> bool) -> Vec<Device> {
        self.order
            .values()
            .rev()
            .filter_map(|ip| self.devices.get(ip))
            .map(|(_, d)| d)
            .filter(|d| shown(d))
            .take(n)
            .cloned()
            .collect()
    }

    /// Counts over the devices that checked in during the last 24 hours.
    /// Counts the last day's devices; `line_of` gives, for a build date, the current release
    /// and critical version of the line it belongs to (`None`: no line, so no update).
    pub fn summary(
        &self,
        now: u64,
        line_of: &dyn Fn(u32) -> Option<(Option<Version>, Option<Version>)>,
    ) -> FleetSummary {
        self.summary_of(now, line_of, &|_| true)
    }

    /// `summary` over the devices `shown` keeps (a viewer's groups): every count, the
    /// devices remembered too, counts those only.
    pub fn summary_of(
        &self,
        now: u64,
        line_of: &dyn Fn(u32) -> Option<(Option<Version>, Option<Version>)>,
        shown: &dyn Fn(&Device) -> bool,
    ) -> FleetSummary {
        let mut summary = FleetSummary::default();
        for (_, device) in self.devices.values() {
            if !shown(device) {
                continue;
            }
            summary.devices += 1;
            let (Some(build), Some(at)) = (device.build_date, device.last_check_in) else {
                continue;
            };
            if now.saturating_sub(at) > DAY_SECS {
                continue;
            }
            summary.checked_in_24h += 1;
            *summary.by_build_date.entry(build).or_default() += 1;
            let Some((current, critical)) = line_of(build) else {
                summary.no_line += 1;
                continue;
            };
            if critical.is_some_and(|c| build < c.as_u32()) {
                summary.below_critical += 1;
            } else if current.is_none_or(|c| build >= c.as_u32()) {
                summary.up_to_date += 1;
            } else {
                summary.offered_not_critical += 1;
            }
        }
        summary
    }

    /// Moves `address` to most recent (creating it) and returns its record.
    fn touch(&mut self, address: IpAddr, user_agent: &str, now: u64) -> &mut Device {
        let seq = self.next;
        self.next += 1;
        if !self.devices.contains_key(&address) {
            // Make room first, so the device being touched is never the one forgotten.
            while self.devices.len() >= self.cap {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.devices.remove(&oldest);
            }
        }
        let entry = self.devices.entry(address).or_insert_with(|| {
            (
                seq,
                Device {
                    address,
                    user_agent: "".into(),
                    build_date: None,
                    offered: None,
                    update_available: false,
                    critical: false,
                    last_check_in: None,
                    serial: None,
                    last_seen: now,
                },
            )
        });
        self.order.remove(&entry.0);
        entry.0 = seq;
        self.order.insert(seq, address);
        let ua = truncate(user_agent, USER_AGENT_MAX);
        if &*entry.1.user_agent != ua {
            entry.1.user_agent = ua.into();
        }
        entry.1.last_seen = now;
        &mut entry.1
    }

    fn evict(&mut self) {
        while self.devices.len() > self.cap {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.devices.remove(&oldest);
        }
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(version: u32, update: bool, critical: bool) -> FirmwareOffer {
        FirmwareOffer {
            update_available: update,
            critical,
            version,
            description: String::new(),
            url: String::new(),
            url_old_frs: String::new(),
        }
    }

    fn v(value: u32) -> Version {
        Version::from_yyyymmdd(value).unwrap()
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn the_least_recently_seen_device_is_evicted() {
        let mut fleet = Fleet::new(2);
        fleet.check_in(ip(1), "a", v(20180101), &offer(20180125, true, false), 100);
        fleet.check_in(ip(2), "b", v(20180101), &offer(20180125, true, false), 101);
        fleet.license_lookup(ip(1), "a", Serial::from_integer(5).unwrap(), 102);
        fleet.check_in(ip(3), "c", v(20180101), &offer(20180125, true, false), 103);
        let addresses: Vec<IpAddr> = fleet.recent(10).iter().map(|d| d.address).collect();
        assert_eq!(addresses, [ip(3), ip(1)], "ip 2 was seen least recently");
        assert_eq!(
            fleet.recent(10)[1].serial.map(|s| s.to_string()).as_deref(),
            Some("0000000000000005")
        );
        fleet.set_cap(1);
        assert_eq!(fleet.len(), 1);
    }

    #[test]
    fn summary_counts_the_last_day() {
        let mut fleet = Fleet::new(10);
        let now = 10 * DAY_SECS;
        fleet.check_in(ip(1), "a", v(20180101), &offer(20180125, true, true), now);
        fleet.check_in(
            ip(2),
            "b",
            v(20180117),
            &offer(20180125, true, false),
            now - 60,
        );
        fleet.check_in(ip(3), "c", v(20180125), &offer(20180125, false, false), now);
        fleet.check_in(
            ip(4),
            "d",
            v(20170101),
            &offer(20180125, true, true),
            now - 2 * DAY_SECS,
        );
        fleet.license_lookup(ip(5), "e", Serial::from_integer(1).unwrap(), now);
        let summary = fleet.summary(now, &|_| Some((Some(v(20180125)), Some(v(20180116)))));
        assert_eq!(summary.devices, 5);
        assert_eq!(summary.checked_in_24h, 3);
        assert_eq!(summary.below_critical, 1);
        assert_eq!(summary.up_to_date, 1);
        assert_eq!(summary.offered_not_critical, 1);
        assert_eq!(
            summary.below_critical + summary.up_to_date + summary.offered_not_critical,
            summary.checked_in_24h
        );
        assert_eq!(
            summary.by_build_date.into_iter().collect::<Vec<_>>(),
            [(20180101, 1), (20180117, 1), (20180125, 1)]
        );
        // A build date of no line is counted apart.
        let summary = fleet.summary(now, &|build| {
            (build != 20180117).then_some((Some(v(20180125)), Some(v(20180116))))
        });
        assert_eq!((summary.no_line, summary.offered_not_critical), (1, 0));
    }

    #[test]
    fn user_agents_are_bounded() {
        let mut fleet = Fleet::new(10);
        let long = "Я".repeat(200);
        fleet.check_in(ip(1), &long, v(20180101), &offer(20180125, true, false), 1);
        let ua = fleet.recent(1)[0].user_agent.clone();
        assert!(ua.len() <= USER_AGENT_MAX && long.starts_with(&*ua));
    }

    #[test]
    fn a_device_costs_a_bounded_number_of_bytes() {
        // Printed for the README's "bytes per device"; the bound keeps it honest.
        let record =
            std::mem::size_of::<(IpAddr, (u64, Device))>() + std::mem::size_of::<(u64, IpAddr)>();
        println!("fixed bytes per device: {record} + up to {USER_AGENT_MAX} of User-Agent");
        assert!(record <= 176, "{record}");
    }
}
