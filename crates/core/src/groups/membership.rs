//! Which group a register belongs to. Two questions with different answers on purpose:
//! admission (`pilot_groups`, rollout windows) asks by address only, because a device
//! chooses which serials it asks licenses for and could otherwise pick its own group; views
//! and reports ask by address, then by the serials it fetched licenses for.

use std::net::IpAddr;

use crate::groups::group::Group;
use crate::licenses::serial::Serial;

/// The groups of `groups.yaml`, in the file's order (the first that holds a register
/// wins). Empty: no groups file, or none loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    groups: Vec<Group>,
}

impl Groups {
    /// `groups` as checked (names unique, bounded): see `groups_yaml::parse`.
    pub fn new(groups: Vec<Group>) -> Groups {
        Groups { groups }
    }

    /// The group whose networks first hold `address`: the group a rollout admits by
    /// (`pilot_groups`) and reads its window in. Networks only.
    pub fn for_admission(&self, address: IpAddr) -> Option<&Group> {
        self.groups.iter().find(|g| g.networks.contains(address))
    }

    /// The group of a register at `address` that fetched licenses for `serials`: the first
    /// whose networks hold the address, else the first holding one of the serials (in the
    /// file's order of groups). For views and reports only, never for admission.
    pub fn of<'s>(
        &self,
        address: IpAddr,
        serials: impl IntoIterator<Item = &'s str>,
    ) -> Option<&Group> {
        if let Some(group) = self.for_admission(address) {
            return Some(group);
        }
        let serials: Vec<Serial> = serials
            .into_iter()
            .filter_map(Serial::parse_request_form)
            .collect();
        if serials.is_empty() {
            return None;
        }
        self.groups
            .iter()
            .find(|g| serials.iter().any(|s| g.holds_serial(*s)))
    }

    /// The group named `name` exactly.
    pub fn get(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Every group, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter()
    }

    /// The names, in the file's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ip_networks::IpNetworks;

    fn group(name: &str, networks: &[&str], serials: &[&str]) -> Group {
        let networks: Vec<String> = networks.iter().map(|n| n.to_string()).collect();
        let mut serials: Vec<Serial> = serials
            .iter()
            .map(|s| Serial::parse_file_form(s).unwrap())
            .collect();
        serials.sort_unstable();
        Group {
            name: name.to_string(),
            networks: IpNetworks::parse("networks", &networks).unwrap(),
            serials,
            time_zone: None,
        }
    }

    fn groups() -> Groups {
        Groups::new(vec![
            group("Ромашка", &["10.1.0.0/16"], &["0000000000012345"]),
            group(
                "Overlap",
                &["10.1.2.0/24", "10.2.0.0/16"],
                &["0000000000012345", "0000000000000007"],
            ),
            group("Serials only", &[], &["0000000000000099"]),
        ])
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn name(group: Option<&Group>) -> Option<&str> {
        group.map(|g| g.name.as_str())
    }

    #[test]
    fn admission_is_by_networks_only_and_the_first_group_wins() {
        let groups = groups();
        assert_eq!(name(groups.for_admission(ip("10.1.2.3"))), Some("Ромашка"));
        assert_eq!(name(groups.for_admission(ip("10.2.0.1"))), Some("Overlap"));
        assert_eq!(
            name(groups.for_admission(ip("::ffff:10.2.0.1"))),
            Some("Overlap")
        );
        assert_eq!(groups.for_admission(ip("192.0.2.1")), None);
    }

    #[test]
    fn views_ask_networks_first_then_serials() {
        let groups = groups();
        // The address decides even when a serial names another group.
        assert_eq!(
            name(groups.of(ip("10.2.0.1"), ["0000000000000099"])),
            Some("Overlap")
        );
        // No network: the first group holding one of the serials, in the file's order.
        assert_eq!(
            name(groups.of(ip("192.0.2.1"), ["99", "0000000000012345"])),
            Some("Ромашка")
        );
        assert_eq!(name(groups.of(ip("192.0.2.1"), ["7"])), Some("Overlap"));
        assert_eq!(
            name(groups.of(ip("192.0.2.1"), [" 99 "])),
            Some("Serials only")
        );
        assert_eq!(groups.of(ip("192.0.2.1"), ["nope", "1"]), None);
        assert_eq!(groups.of(ip("192.0.2.1"), []), None);
        // Admission never reads serials.
        assert_eq!(groups.for_admission(ip("192.0.2.1")), None);
    }

    #[test]
    fn no_file_is_no_group() {
        let none = Groups::default();
        assert!(none.is_empty());
        assert_eq!(none.for_admission(ip("10.1.2.3")), None);
        assert_eq!(none.of(ip("10.1.2.3"), ["0000000000012345"]), None);
    }
}
