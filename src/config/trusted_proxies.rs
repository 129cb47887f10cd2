//! Which peers may tell us the client's address through `X-Forwarded-For` (a reverse
//! proxy or load balancer in front of us), and the client address that follows. A header
//! from anyone else is ignored: a device could otherwise claim any address.

use std::net::IpAddr;

use anyhow::{bail, Context, Result};

/// A list of IP networks (`10.0.0.0/8`, `127.0.0.1`, `::1/128`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// Parses `ip` or `ip/prefix` entries.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies> {
        let mut nets = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let (ip, prefix) = match entry.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (entry, None),
            };
            let ip: IpAddr = ip.parse().with_context(|| {
                format!("trusted_proxies: {entry:?} is not an IP address or network")
            })?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .with_context(|| format!("trusted_proxies: bad prefix in {entry:?}"))?,
                None => max,
            };
            nets.push((ip, prefix));
        }
        if nets.len() > 1024 {
            bail!("trusted_proxies: more than 1024 entries");
        }
        Ok(TrustedProxies { nets })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets
            .iter()
            .any(|(net, prefix)| in_net(ip, *net, *prefix))
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.contains(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
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

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_match() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
        assert!(
            p.contains(ip("10.1.2.3")) && p.contains(ip("127.0.0.1")) && p.contains(ip("fd12::1"))
        );
        assert!(!p.contains(ip("11.0.0.1")) && !p.contains(ip("127.0.0.2")));
        assert!(p.contains(ip("::ffff:10.0.0.1")));
        assert!(proxies(&["0.0.0.0/0"]).contains(ip("8.8.8.8")));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), Some("192.168.5.5")),
            ip("192.168.5.5")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.1"), Some("1.1.1.1, 192.168.5.5, 10.0.0.7")),
            ip("192.168.5.5")
        );
        assert_eq!(
            p.client_ip(ip("192.168.9.9"), Some("1.2.3.4")),
            ip("192.168.9.9")
        );
        assert_eq!(p.client_ip(ip("10.0.0.1"), Some("garbage")), ip("10.0.0.1"));
        assert_eq!(p.client_ip(ip("10.0.0.1"), None), ip("10.0.0.1"));
    }

    #[test]
    fn bad_entries_are_errors() {
        for bad in ["10.0.0.0/33", "nope", "::1/129", "10.0.0.1/x"] {
            assert!(TrustedProxies::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
