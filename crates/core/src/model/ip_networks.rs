//! A list of IP networks (`10.0.0.0/8`, `192.0.2.15`, `fd00::/8`) and whether an address is
//! in it: who may send `X-Forwarded-For` (`trusted_proxies`), and which shops pilot a
//! rollout (`rollout.pilot`). Errors name the key the list came from.

use std::fmt;
use std::net::IpAddr;

/// Parsed networks, each an address and a prefix length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpNetworks {
    nets: Vec<(IpAddr, u8)>,
}

/// At most this many entries in one list.
pub const MAX_ENTRIES: usize = 1024;

/// Why a list of networks was refused; `key` names the list the entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// The part before any `/` is no IP address.
    NotAnAddress { key: String, entry: String },
    /// The prefix after the `/` is no number from 0 to `max`.
    BadPrefix { key: String, entry: String, max: u8 },
    /// More than `MAX_ENTRIES` entries.
    TooMany { key: String },
}

// Its sentence, in either language, is made from the tables: `words::vocabulary`.

impl std::error::Error for NetworkError {}

impl IpNetworks {
    /// Parses `ip` or `ip/prefix` entries; `key` names the list in errors.
    pub fn parse(key: &str, entries: &[String]) -> Result<IpNetworks, NetworkError> {
        let mut nets = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let (ip, prefix) = match entry.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (entry, None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| NetworkError::NotAnAddress {
                key: key.to_string(),
                entry: entry.to_string(),
            })?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                    NetworkError::BadPrefix {
                        key: key.to_string(),
                        entry: entry.to_string(),
                        max,
                    }
                })?,
                None => max,
            };
            nets.push((ip, prefix));
        }
        if nets.len() > MAX_ENTRIES {
            return Err(NetworkError::TooMany {
                key: key.to_string(),
            });
        }
        Ok(IpNetworks { nets })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets
            .iter()
            .any(|(net, prefix)| in_net(ip, *net, *prefix))
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The entries that hold every address of their family (`0.0.0.0/0`, `::/0`).
    pub fn everyone(&self) -> impl Iterator<Item = String> + '_ {
        self.nets
            .iter()
            .filter(|(_, prefix)| *prefix == 0)
            .map(|(ip, prefix)| format!("{ip}/{prefix}"))
    }
}

impl fmt::Display for IpNetworks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = |ip: &IpAddr| if ip.is_ipv4() { 32 } else { 128 };
        let text: Vec<String> = self
            .nets
            .iter()
            .map(|(ip, prefix)| {
                if *prefix == max(ip) {
                    ip.to_string()
                } else {
                    format!("{ip}/{prefix}")
                }
            })
            .collect();
        f.write_str(&text.join(", "))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V4(_)) => ip
            .to_ipv4_mapped()
            .is_some_and(|v4| in_net(IpAddr::V4(v4), net, prefix)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> IpNetworks {
        IpNetworks::parse(
            "test",
            &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_match() {
        let p = nets(&["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
        assert!(
            p.contains(ip("10.1.2.3")) && p.contains(ip("127.0.0.1")) && p.contains(ip("fd12::1"))
        );
        assert!(!p.contains(ip("11.0.0.1")) && !p.contains(ip("127.0.0.2")));
        assert!(p.contains(ip("::ffff:10.0.0.1")));
        assert!(nets(&["0.0.0.0/0"]).contains(ip("8.8.8.8")));
        assert_eq!(p.to_string(), "10.0.0.0/8, 127.0.0.1, fd00::/8");
    }

    #[test]
    fn errors_read_as_before() {
        let error = |entry: &str| {
            IpNetworks::parse("trusted_proxies", &[entry.to_string()])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("nope"),
            "trusted_proxies: \"nope\" is not an IP address or network \
             (expected like 192.0.2.15 or 10.20.0.0/16)"
        );
        assert_eq!(
            error("10.0.0.0/33"),
            "trusted_proxies: bad prefix in \"10.0.0.0/33\" (expected 0 to 32 after the /)"
        );
        let many: Vec<String> = (0..=MAX_ENTRIES)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        assert_eq!(
            IpNetworks::parse("trusted_proxies", &many)
                .unwrap_err()
                .to_string(),
            "trusted_proxies: more than 1024 entries"
        );
    }

    #[test]
    fn bad_entries_are_errors_naming_the_key() {
        for bad in ["10.0.0.0/33", "nope", "::1/129", "10.0.0.1/x"] {
            let error = IpNetworks::parse("rollout.pilot", &[bad.to_string()])
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("rollout.pilot: "), "{error}");
            assert!(error.contains(bad), "{error}");
        }
    }
}
