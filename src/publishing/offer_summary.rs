//! What devices of a line are offered, in the command's words, from a snapshot: after a
//! publish (`offer_summary`), after a withdraw (`offered_now`). The commands pass a scan of
//! the folder as the server will see it; the admin listener passes the live snapshot, once
//! the reload that follows its change is done, so both say what is true.

use crate::catalog::device_line::{line_label, DEFAULT_LINE};
use crate::catalog::releases::Release;
use crate::catalog::snapshot::{LineView, Snapshot};
use crate::catalog::snapshot_report;
use crate::model::lang::{fill, Lang};
use crate::model::version::Version;
use crate::words::cli::OperatorText;

/// What devices of `line` are offered now that `version` is in place.
pub fn offer_summary(snapshot: &Snapshot, line: &str, version: Version, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    offered_in(snapshot, line, lang, |named, view, current| {
        if current.version == version {
            let mut text = fill(
                t.offer_now_offered,
                &[("named", &named), ("version", &version)],
            );
            text.push_str(&how_offered(view, current, lang));
            text
        } else if current.version > version {
            let values: [(&str, &dyn std::fmt::Display); 3] = [
                ("version", &version),
                ("newer", &current.version),
                ("named", &named),
            ];
            fill(t.offer_newer_stays, &values) + "\n"
        } else {
            let values: [(&str, &dyn std::fmt::Display); 2] =
                [("named", &named), ("version", &current.version)];
            fill(t.offer_offered, &values) + "\n"
        }
    })
}

/// What devices of `line` are offered now, whatever was just taken away (for `withdraw`):
/// the release that is now current, how, or that there is none.
pub fn offered_now(snapshot: &Snapshot, line: &str, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    offered_in(snapshot, line, lang, |named, view, current| {
        fill(
            t.offer_now,
            &[("named", &named), ("version", &current.version)],
        ) + &how_offered(view, current, lang)
    })
}

/// Says, for `line` in `snapshot`, that it is not served, that it has no release, or what
/// `current_said` says of its current release.
fn offered_in(
    snapshot: &Snapshot,
    line: &str,
    lang: Lang,
    current_said: impl FnOnce(&str, &LineView<'_>, &Release) -> String,
) -> String {
    let t = OperatorText::of(lang);
    let Some(view) = snapshot.line(line) else {
        return fill(t.offer_line_not_served, &[("line", &line_label(line))]) + "\n";
    };
    let named = if line == DEFAULT_LINE {
        t.offer_devices.to_string()
    } else {
        fill(t.offer_devices_of_line, &[("line", &line)])
    };
    let Some(current) = view.releases.current() else {
        return fill(
            t.offer_no_release,
            &[("line", &line_label(line)), ("named", &named)],
        ) + "\n";
    };
    current_said(&named, &view, current)
}

/// Who is offered the current release (everyone, or as its rollout admits them) and from
/// which build it is critical, and the line's floors when it has any; the end of a line.
fn how_offered(view: &LineView<'_>, current: &Release, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    let mut text = match &current.rollout {
        Some(rollout) => fill(t.offer_as_rollout_admits, &[("rollout", rollout)]),
        None => t.offer_everyone.to_string(),
    };
    if let Some(critical) = view.critical() {
        text.push_str(&fill(t.offer_critical_before, &[("version", &critical)]));
    }
    if let Some(path) = snapshot_report::upgrade_path_text(view.releases, lang) {
        text.push_str(&fill(t.offer_floors_first, &[("path", &path)]));
    }
    text.push('\n');
    text
}
