//! A release's `rollout.pilot_groups` read against the groups of the same snapshot: a name
//! no group has admits nobody, and is reported as a problem of that release (naming the
//! group and the groups there are), not silently ignored. Done at every scan, because
//! `groups.yaml` and `meta.yaml` change apart: an edit of either one is seen the moment
//! the scan that carries it is.

use crate::catalog::releases::{FolderState, ReleaseSet};
use crate::groups::refusal::quoted;
use crate::groups::Groups;
use crate::model::did_you_mean::nearest;
use crate::model::lang::fill;
use crate::model::problem::Problem;
use crate::words::Said;

/// At most this many known groups are listed in one problem.
const KNOWN_LISTED: usize = 20;

/// The problems of `releases`' rollouts whose `pilot_groups` name groups `groups` does not
/// have (`groups`: none when no groups file is set).
pub fn problems(releases: &ReleaseSet, groups: Option<&Groups>) -> Vec<Problem> {
    let mut out = Vec::new();
    for folder in &releases.folders {
        let release = match &folder.state {
            FolderState::Published(release) => release,
            FolderState::Settling {
                serving: Some(release),
                ..
            } => release,
            _ => continue,
        };
        let Some(rollout) = &release.rollout else {
            continue;
        };
        if rollout.pilot_groups.is_empty() {
            continue;
        }
        let meta = folder.path.join("meta.yaml");
        let Some(groups) = groups else {
            out.push(Problem::file(
                &meta,
                Said::new(|w| w.groups.pilot_groups_without_file.to_string()),
            ));
            continue;
        };
        for name in rollout
            .pilot_groups
            .iter()
            .filter(|name| groups.get(name).is_none())
        {
            out.push(Problem::file(&meta, unknown(name, groups)));
        }
    }
    out
}

/// "no group is named "Pilot" (known: "A", "B"); did you mean `Pilots`?".
fn unknown(name: &str, groups: &Groups) -> Said {
    let mut known: Vec<String> = groups.names().take(KNOWN_LISTED).map(quoted).collect();
    if groups.len() > KNOWN_LISTED {
        known.push("…".to_string());
    }
    let near = if name.len() <= 200 {
        nearest(name, groups.names())
    } else {
        None
    };
    let name = quoted(name);
    Said::new(|w| {
        let known = if known.is_empty() {
            w.groups.known_none.to_string()
        } else {
            known.join(", ")
        };
        let hint = near.map_or_else(String::new, |near| {
            fill(w.scan.did_you_mean_key, &[("key", &near)])
        });
        fill(
            w.groups.pilot_group_unknown,
            &[("name", &name), ("known", &known), ("hint", &hint)],
        )
    })
}
