//! Which devices one read on the admin listener may show: every device, the groups a
//! viewer is limited to (`operators:` … `groups:`, a client's own staff), and within that
//! the one group `?group=NAME` picks. Every read that reveals devices (the lists, exports,
//! a register's page, the history, the dashboard, `/status`, `/metrics`) asks for its
//! scope here and nowhere else, so that a limited viewer sees the same registers
//! everywhere.
//!
//! A group is a device's tag in the inventory (`store::group_tags`) and, for the in-memory
//! fleet, `Groups::of` (networks first, then the serial it asked for). A viewer limited to
//! a group that `groups.yaml` does not have sees nothing (its name matches no device): safe,
//! and reported in the log (`config::operators::unknown_groups`).
//!
//! `?group=NAME` of a group the reader may not see, or of none, is 404 with the same words
//! either way: a client's staff must not learn which other groups exist.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::admin::admin_error::AdminError;
use crate::admin::operator::Operator;
use crate::groups::{Groups, MAX_NAME_CHARS};
use crate::licenses::serial::Serial;

/// The devices one read shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewScope {
    /// The groups whose devices are shown; none: every device (groups or not).
    groups: Option<Vec<String>>,
    /// The reader is limited to groups: fleet-wide figures (other clients' registers) are
    /// hidden from it.
    limited: bool,
    /// The group `?group=` picked, if any.
    picked: Option<String>,
}

impl ViewScope {
    /// Every device, for an unlimited reader that picked no group.
    pub fn all() -> ViewScope {
        ViewScope {
            groups: None,
            limited: false,
            picked: None,
        }
    }

    /// The scope of `operator`'s read with `query` (its `group` parameter), the groups being
    /// `groups`.
    pub fn of(
        operator: &Operator,
        query: &HashMap<String, String>,
        groups: &Groups,
    ) -> Result<ViewScope, AdminError> {
        let picked = query
            .get("group")
            .map(|name| name.trim())
            .filter(|name| !name.is_empty());
        let limited = operator.groups.is_some();
        let Some(name) = picked else {
            return Ok(ViewScope {
                groups: operator.groups.clone(),
                limited,
                picked: None,
            });
        };
        let may = name.chars().count() <= MAX_NAME_CHARS
            && match &operator.groups {
                Some(own) => own.iter().any(|g| g == name),
                None => groups.get(name).is_some(),
            };
        if !may {
            return Err(AdminError::NotFound(
                "group: no group of that name among those you may see (the names are in the \
                 group selector of the dashboard and of /devices)"
                    .into(),
            ));
        }
        Ok(ViewScope {
            groups: Some(vec![name.to_string()]),
            limited,
            picked: Some(name.to_string()),
        })
    }

    /// The groups whose devices are shown; none: every device.
    pub fn groups(&self) -> Option<&[String]> {
        self.groups.as_deref()
    }

    /// The reader is limited to groups (fleet-wide figures are not for it).
    pub fn is_limited(&self) -> bool {
        self.limited
    }

    /// The group `?group=` picked.
    pub fn picked(&self) -> Option<&str> {
        self.picked.as_deref()
    }

    /// Whether every device is shown (no figure needs counting again).
    pub fn is_everything(&self) -> bool {
        self.groups.is_none()
    }

    /// Whether a device of `group` (none: in no group) is shown.
    pub fn shows(&self, group: Option<&str>) -> bool {
        match (&self.groups, group) {
            (None, _) => true,
            (Some(groups), Some(group)) => groups.iter().any(|g| g == group),
            (Some(_), None) => false,
        }
    }

    /// Whether the in-memory fleet's device at `address`, which last asked licenses for
    /// `serial`, is shown: its group by `Groups::of`.
    pub fn shows_device(&self, groups: &Groups, address: IpAddr, serial: Option<Serial>) -> bool {
        if self.groups.is_none() {
            return true;
        }
        let serial = serial.map(|s| s.to_string());
        let group = groups.of(address, serial.as_deref());
        self.shows(group.map(|g| g.name.as_str()))
    }

    /// The groups a selector offers this reader: its own when limited (in its order), else
    /// every group of `groups.yaml`.
    pub fn choices(operator: &Operator, groups: &Groups) -> Vec<String> {
        match &operator.groups {
            Some(own) => own.clone(),
            None => groups.names().map(str::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::operator::Role;
    use crate::groups::Group;
    use crate::model::ip_networks::IpNetworks;

    fn groups() -> Groups {
        let group = |name: &str, network: &str| Group {
            name: name.into(),
            networks: IpNetworks::parse("networks", &[network.to_string()]).expect("network"),
            serials: Vec::new(),
            time_zone: None,
        };
        Groups::new(vec![group("A", "10.1.0.0/16"), group("B", "10.2.0.0/16")])
    }

    fn query(group: &str) -> HashMap<String, String> {
        HashMap::from([("group".to_string(), group.to_string())])
    }

    fn viewer(groups: &[&str]) -> Operator {
        Operator {
            role: Role::Viewer,
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            ..Operator::open()
        }
    }

    #[test]
    fn a_limited_viewer_picks_among_its_own_groups_only() {
        let (groups, a) = (groups(), viewer(&["A"]));
        let own = ViewScope::of(&a, &HashMap::new(), &groups).expect("its own");
        assert_eq!(own.groups(), Some(&["A".to_string()][..]));
        assert!(own.is_limited() && own.shows(Some("A")) && !own.shows(Some("B")));
        assert!(!own.shows(None), "a device in no group is not its own");
        assert!(ViewScope::of(&a, &query("A"), &groups).is_ok());
        let other = ViewScope::of(&a, &query("B"), &groups).expect_err("another's");
        let missing = ViewScope::of(&a, &query("Nope"), &groups).expect_err("none");
        assert_eq!(
            other, missing,
            "the same answer: existence is not confirmed"
        );
        assert!(matches!(other, AdminError::NotFound(_)));
        let ip: IpAddr = "10.2.0.1".parse().expect("ip");
        assert!(!own.shows_device(&groups, ip, None));
    }

    #[test]
    fn an_unlimited_reader_sees_all_or_the_group_it_picks() {
        let (groups, admin) = (groups(), Operator::open());
        let all = ViewScope::of(&admin, &query("  "), &groups).expect("all");
        assert!(all.is_everything() && !all.is_limited());
        let b = ViewScope::of(&admin, &query("B"), &groups).expect("B");
        assert_eq!(b.picked(), Some("B"));
        assert!(b.shows(Some("B")) && !b.shows(Some("A")) && !b.shows(None));
        assert!(ViewScope::of(&admin, &query("C"), &groups).is_err());
        assert!(ViewScope::of(&admin, &query(&"x".repeat(5000)), &groups).is_err());
    }
}
