//! How failed logins reach the audit trail without letting a flood of them fill it. Each
//! failure is counted in the metrics and logged (`login::login_failed`); the trail records
//! the first from an address in a minute (`PER_ADDRESS_EVERY`), at most
//! `RECORDS_PER_MINUTE` of them in a minute from all addresses together (an attacker may
//! hold many addresses: a whole IPv6 network), and the rest as one summary record a minute
//! after the first it left out: how many, since when, from how many addresses. So a
//! thousand wrong tokens a second make at most a dozen records a minute, and the trail
//! still says how many there were.
//!
//! The memory is bounded too: the addresses recorded within the last minute
//! (`ADDRESSES_KEPT` at most; the older ones are dropped when it is full, and with
//! `RECORDS_PER_MINUTE` records a minute few are ever live) and three numbers. The tried
//! token is never kept, never recorded, never logged.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::platform::lock_recover::LockRecover;

/// A failure from an address recorded less than this many seconds ago is only counted.
pub const PER_ADDRESS_EVERY: u64 = 60;
/// The most failures recorded one by one in a minute, from all addresses together.
pub const RECORDS_PER_MINUTE: u32 = 10;
/// The most addresses remembered at once.
pub const ADDRESSES_KEPT: usize = 256;

/// What to do with one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Record it.
    Record,
    /// Count it for the summary; `first`: the first one counted since the last summary
    /// (the caller arranges for the summary to be written a minute later).
    Count { first: bool },
}

/// The failures left out since the last summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: u64,
    /// Unix seconds of the first one left out.
    pub since: u64,
    /// From how many distinct addresses (at most `ADDRESSES_KEPT` + 1 told apart; more
    /// are counted as that many).
    pub addresses: usize,
}

/// The limiter: one per admin listener (`web::Data<LoginFailures>`).
#[derive(Default)]
pub struct LoginFailures {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// When each address's last recorded failure was.
    recorded: HashMap<Key, u64>,
    /// The minute the global count is for, and the count.
    minute_start: u64,
    recorded_this_minute: u32,
    /// Left out since the last summary.
    left_out: u64,
    left_out_since: u64,
    /// Distinct addresses among those left out (bounded like `recorded`).
    left_out_from: HashSet<Key>,
}

/// An address as the limiter tells them apart: an IPv6 one by its /64 (what one host or
/// one customer is given), so that walking a network's addresses is one address.
type Key = IpAddr;

fn key(addr: Option<IpAddr>) -> Key {
    match addr {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let segments = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            ))
        }
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        Some(v4) => v4,
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

impl LoginFailures {
    pub fn new() -> LoginFailures {
        LoginFailures::default()
    }

    /// A failure from `addr` (the peer: never a header's word) at `now` (Unix seconds).
    pub fn failed(&self, addr: Option<IpAddr>, now: u64) -> Verdict {
        let key = key(addr);
        let mut inner = self.inner.lock_recover();
        if now.saturating_sub(inner.minute_start) >= 60 {
            inner.minute_start = now;
            inner.recorded_this_minute = 0;
        }
        let recent = inner
            .recorded
            .get(&key)
            .is_some_and(|at| now.saturating_sub(*at) < PER_ADDRESS_EVERY);
        if !recent && inner.recorded_this_minute < RECORDS_PER_MINUTE {
            if inner.recorded.len() >= ADDRESSES_KEPT {
                inner
                    .recorded
                    .retain(|_, at| now.saturating_sub(*at) < PER_ADDRESS_EVERY);
            }
            if inner.recorded.len() < ADDRESSES_KEPT || inner.recorded.contains_key(&key) {
                inner.recorded.insert(key, now);
                inner.recorded_this_minute += 1;
                return Verdict::Record;
            }
        }
        let first = inner.left_out == 0;
        if first {
            inner.left_out_since = now;
        }
        inner.left_out = inner.left_out.saturating_add(1);
        if inner.left_out_from.len() <= ADDRESSES_KEPT {
            inner.left_out_from.insert(key);
        }
        Verdict::Count { first }
    }

    /// The failures left out since the last summary, and starts counting anew; none when
    /// none was.
    pub fn take_summary(&self) -> Option<Summary> {
        let mut inner = self.inner.lock_recover();
        if inner.left_out == 0 {
            return None;
        }
        let summary = Summary {
            count: inner.left_out,
            since: inner.left_out_since,
            addresses: inner.left_out_from.len(),
        };
        inner.left_out = 0;
        inner.left_out_from.clear();
        Some(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[test]
    fn one_record_a_minute_per_address_and_the_rest_summed_up() {
        let failures = LoginFailures::new();
        assert_eq!(failures.failed(v4(1), 1000), Verdict::Record);
        assert_eq!(failures.failed(v4(1), 1001), Verdict::Count { first: true });
        for at in 1002..1059 {
            assert_eq!(failures.failed(v4(1), at), Verdict::Count { first: false });
        }
        // Another address is recorded on its own.
        assert_eq!(failures.failed(v4(2), 1010), Verdict::Record);
        // A minute after its last record, the address is recorded again.
        assert_eq!(failures.failed(v4(1), 1060), Verdict::Record);
        assert_eq!(
            failures.take_summary(),
            Some(Summary {
                count: 58,
                since: 1001,
                addresses: 1
            })
        );
        assert_eq!(failures.take_summary(), None);
        assert_eq!(failures.failed(v4(1), 1061), Verdict::Count { first: true });
    }

    #[test]
    fn many_addresses_make_at_most_the_minutes_records_and_bounded_memory() {
        let failures = LoginFailures::new();
        let mut recorded = 0;
        for n in 0..100_000u32 {
            let addr = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
            if failures.failed(Some(addr), 5000 + u64::from(n) / 1000) == Verdict::Record {
                recorded += 1;
            }
        }
        // 100 seconds: two minutes begun, RECORDS_PER_MINUTE in each.
        assert_eq!(recorded, 2 * RECORDS_PER_MINUTE);
        let inner = failures.inner.lock_recover();
        assert!(inner.recorded.len() <= ADDRESSES_KEPT);
        assert!(inner.left_out_from.len() <= ADDRESSES_KEPT + 1);
        assert_eq!(inner.left_out, 100_000 - u64::from(recorded));
    }

    #[test]
    fn an_ipv6_network_is_one_address() {
        let failures = LoginFailures::new();
        let host = |last: u16| {
            Some(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 1, 2, 0, 0, 0, last,
            )))
        };
        assert_eq!(failures.failed(host(1), 100), Verdict::Record);
        assert_eq!(
            failures.failed(host(2), 101),
            Verdict::Count { first: true }
        );
        let mapped = Some(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 9).to_ipv6_mapped()));
        assert_eq!(failures.failed(mapped, 102), Verdict::Record);
        assert_eq!(failures.failed(v4(9), 103), Verdict::Count { first: false });
    }
}
