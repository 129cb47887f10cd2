//! The registers' source addresses. Register `i` polls from the `i`-th usable address at or
//! after `--source-base`, so a bench plays thousands of registers, each from its own address,
//! as the server's inventory sees a fleet. Every address in 127.0.0.0/8 is the machine's own
//! on Linux and can be bound without configuring anything; nothing outside it is ever used.
//! Addresses ending in .0 and .255 are skipped: a register never has a network's or a
//! broadcast address, and some tools treat them apart.

use std::fmt;
use std::net::Ipv4Addr;

/// Usable addresses in each /24: .1 to .254.
const PER_BLOCK: u64 = 254;
/// The last /24 of 127.0.0.0/8 (127.255.255.x), as the address's first three bytes.
const LAST_BLOCK: u64 = 0x7f_ff_ff;

/// `count` registers from a first address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers {
    /// The first register's /24, as the address's first three bytes.
    first_block: u64,
    /// The first register's place in its /24 (0 for .1, 253 for .254).
    first_slot: u64,
    count: u64,
}

/// Why the registers' addresses cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// The first address is not a loopback one.
    NotLoopback(Ipv4Addr),
    /// The registers would run past 127.255.255.254; `fit` of them fit from `base`.
    PastTheEnd {
        base: Ipv4Addr,
        count: u64,
        fit: u64,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::NotLoopback(base) => write!(
                f,
                "--source-base {base}: not a loopback address; the registers' addresses must \
                 lie in 127.0.0.0/8 (for example 127.1.0.1)"
            ),
            AddressError::PastTheEnd { base, count, fit } => write!(
                f,
                "--registers {count} from --source-base {base} would run past 127.255.255.254, \
                 the last loopback address: at most {fit} registers fit from there (start \
                 lower, for example 127.1.0.1)"
            ),
        }
    }
}

impl Registers {
    /// `count` registers from `base` (an address ending in .0 starts at .1 of its /24, one
    /// ending in .255 at .1 of the next), all inside 127.0.0.0/8.
    pub fn new(base: Ipv4Addr, count: u64) -> Result<Registers, AddressError> {
        if base.octets()[0] != 127 {
            return Err(AddressError::NotLoopback(base));
        }
        let bits = u64::from(u32::from(base));
        let (mut first_block, last_byte) = (bits >> 8, bits & 0xff);
        let first_slot = match last_byte {
            0 => 0,
            255 => {
                first_block += 1;
                0
            }
            n => n - 1,
        };
        let blocks = (LAST_BLOCK + 1).saturating_sub(first_block);
        let fit = (blocks * PER_BLOCK).saturating_sub(first_slot);
        if count > fit {
            return Err(AddressError::PastTheEnd { base, count, fit });
        }
        Ok(Registers {
            first_block,
            first_slot,
            count,
        })
    }

    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Register `i`'s address (`i` taken modulo the count, so a shared counter can run on).
    pub fn address(&self, i: u64) -> Ipv4Addr {
        let place = self.first_slot + i % self.count.max(1);
        let block = self.first_block + place / PER_BLOCK;
        let last_byte = place % PER_BLOCK + 1;
        // `new` checked that the last block is at most LAST_BLOCK: this fits in 32 bits.
        Ipv4Addr::from(((block << 8) | last_byte) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_count_up_skipping_point_zero_and_point_255() {
        let registers = Registers::new(ip("127.1.0.1"), 600).unwrap();
        assert_eq!(registers.address(0), ip("127.1.0.1"));
        assert_eq!(registers.address(253), ip("127.1.0.254"));
        assert_eq!(registers.address(254), ip("127.1.1.1"));
        assert_eq!(registers.address(508), ip("127.1.2.1"));
        for i in 0..600 {
            let last = registers.address(i).octets()[3];
            assert!(
                last != 0 && last != 255,
                "register {i}: {}",
                registers.address(i)
            );
        }
        let distinct: std::collections::BTreeSet<_> =
            (0..600).map(|i| registers.address(i)).collect();
        assert_eq!(distinct.len(), 600, "every register has its own address");
    }

    #[test]
    fn a_base_on_point_zero_or_point_255_starts_at_the_next_usable_address() {
        let on_zero = Registers::new(ip("127.1.0.0"), 3).unwrap();
        assert_eq!(on_zero.address(0), ip("127.1.0.1"));
        let on_broadcast = Registers::new(ip("127.1.0.255"), 3).unwrap();
        assert_eq!(on_broadcast.address(0), ip("127.1.1.1"));
        let mid = Registers::new(ip("127.1.0.250"), 10).unwrap();
        assert_eq!(mid.address(4), ip("127.1.0.254"));
        assert_eq!(mid.address(5), ip("127.1.1.1"));
    }

    #[test]
    fn the_counter_wraps_round_robin() {
        let registers = Registers::new(ip("127.1.0.1"), 50).unwrap();
        assert_eq!(registers.address(50), registers.address(0));
        assert_eq!(registers.address(149), ip("127.1.0.50"));
    }

    #[test]
    fn sixteen_million_fit_from_127_1_0_1_and_stay_inside_127_slash_8() {
        let registers = Registers::new(ip("127.1.0.1"), 16_000_000).unwrap();
        let last = registers.address(15_999_999);
        assert_eq!(last.octets()[0], 127, "{last}");
        assert!(last > ip("127.240.0.0"), "{last}");
    }

    #[test]
    fn registers_that_would_leave_127_slash_8_are_refused() {
        // 127.255.255.x holds 254; from .250 only 5 remain.
        let error = Registers::new(ip("127.255.255.250"), 6).unwrap_err();
        assert_eq!(
            error,
            AddressError::PastTheEnd {
                base: ip("127.255.255.250"),
                count: 6,
                fit: 5
            }
        );
        assert!(
            error.to_string().contains("at most 5 registers fit"),
            "{error}"
        );
        let fits = Registers::new(ip("127.255.255.250"), 5).unwrap();
        assert_eq!(fits.address(4), ip("127.255.255.254"));
        // From .255 of the last /24 nothing remains.
        assert!(Registers::new(ip("127.255.255.255"), 1).is_err());
        assert!(Registers::new(ip("127.0.0.1"), 16_646_144).is_ok());
        assert!(Registers::new(ip("127.0.0.1"), 16_646_145).is_err());
    }

    #[test]
    fn a_base_outside_loopback_is_refused() {
        for base in ["10.0.0.1", "128.0.0.1", "126.255.255.254", "0.0.0.0"] {
            let error = Registers::new(ip(base), 1).unwrap_err();
            assert_eq!(error, AddressError::NotLoopback(ip(base)));
            assert!(error.to_string().contains("127.0.0.0/8"), "{error}");
        }
    }
}
