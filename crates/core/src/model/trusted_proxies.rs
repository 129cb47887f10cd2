//! Which peers may tell us the client's address through `X-Forwarded-For` (a reverse
//! proxy or load balancer in front of us), and the client address that follows. A header
//! from anyone else is ignored: a device could otherwise claim any address.

use std::net::IpAddr;

use crate::model::ip_networks::{IpNetworks, NetworkError};

/// The networks whose peers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: IpNetworks,
}

impl TrustedProxies {
    /// Parses `ip` or `ip/prefix` entries.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, NetworkError> {
        let nets = IpNetworks::parse("trusted_proxies", entries)?;
        Ok(TrustedProxies { nets })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.contains(ip)
    }

    /// Entries that trust every address (`0.0.0.0/0`, `::/0`): then anyone can claim any
    /// address, a rollout pilot's included.
    pub fn everyone(&self) -> Vec<String> {
        self.nets.everyone().collect()
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
