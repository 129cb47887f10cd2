//! What needs the operator now, for the top of the dashboard (the first screen of a
//! phone): no release published, registers below the critical version, stuck updates,
//! rejected release folders, halted or paused rollouts, a fleet memory that is not being
//! written. Each item links to where it is dealt with; an empty list says all is well.

use crate::admin::status_report::{FolderLabel, Status};
use crate::store::release_reads::ReleaseRow;
use crate::words::dashboard::Text;

/// One thing that needs attention.
pub struct Attention {
    /// For tests and styles: `no_release`, `below_critical`, `stuck`, `rejected`,
    /// `rollouts`, `inventory`.
    pub kind: &'static str,
    pub text: &'static str,
    pub count: Option<u64>,
    /// Where it is dealt with (relative to the dashboard), when the inventory can list it.
    pub href: Option<&'static str>,
}

/// What needs attention, the most urgent first.
pub fn items(
    status: &Status,
    outcomes: &[ReleaseRow],
    inventory_on: bool,
    t: &Text,
) -> Vec<Attention> {
    let mut items = Vec::new();
    let link = |href: &'static str| inventory_on.then_some(href);
    if status.current_release.is_none() && status.lines.iter().all(|l| l.current_release.is_none())
    {
        items.push(Attention {
            kind: "no_release",
            text: t.pages.attention_no_release,
            count: None,
            href: None,
        });
    }
    let below = u64::try_from(status.fleet.below_critical).unwrap_or(u64::MAX);
    if below > 0 {
        items.push(Attention {
            kind: "below_critical",
            text: t.pages.attention_below_critical,
            count: Some(below),
            href: link("devices?below_critical=1"),
        });
    }
    let stuck: u64 = outcomes.iter().map(|r| r.stuck).sum();
    if stuck > 0 {
        items.push(Attention {
            kind: "stuck",
            text: t.pages.attention_stuck,
            count: Some(stuck),
            href: link("devices?outcome=stuck"),
        });
    }
    let rejected = status
        .releases
        .iter()
        .chain(status.lines.iter().flat_map(|l| l.releases.iter()))
        .filter(|f| f.state == FolderLabel::Rejected)
        .count();
    if rejected > 0 {
        items.push(Attention {
            kind: "rejected",
            text: t.pages.attention_rejected,
            count: u64::try_from(rejected).ok(),
            href: Some("#releases"),
        });
    }
    let held = status
        .rollouts
        .iter()
        .filter(|r| r.state.needs_operator())
        .count();
    if held > 0 {
        items.push(Attention {
            kind: "rollouts",
            text: t.pages.attention_halted,
            count: u64::try_from(held).ok(),
            href: Some("#rollouts"),
        });
    }
    if inventory_on && !status.inventory.ok {
        items.push(Attention {
            kind: "inventory",
            text: t.pages.attention_inventory,
            count: None,
            href: Some("#inventory-links"),
        });
    }
    items
}
