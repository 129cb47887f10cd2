//! Every word the dashboard shows (the tables are in `ru.rs` and `en.rs`): Russian first
//! (the people who run these fleets), English for a browser that asks for it first in
//! `Accept-Language`. One template uses whichever table the request picked. A release
//! folder's state, a rollout's state and an unmapped build date's kind find their words
//! beside their types (`FolderLabel::words`, `RolloutState::words`, `UnmappedKind::words`).

use super::cli::OperatorText;
use super::pages::PageText;
use crate::model::lang::Lang;

/// The dashboard's words in one language.
#[derive(Debug)]
pub struct Text {
    pub lang: &'static str,
    pub title: &'static str,
    pub refreshes_every: &'static str,
    pub running_for: &'static str,
    pub current_release: &'static str,
    pub none: &'static str,
    pub no_release_published: &'static str,
    pub critical_version: &'static str,
    pub from_server_yaml: &'static str,
    pub from_release: &'static str,
    pub not_set: &'static str,
    pub devices_24h: &'static str,
    pub below_critical: &'static str,
    pub offered_not_critical: &'static str,
    pub up_to_date: &'static str,
    pub licensed_serials: &'static str,
    pub fleet_by_build_date: &'static str,
    pub no_device_yet: &'static str,
    pub releases: &'static str,
    pub version: &'static str,
    pub state: &'static str,
    pub description: &'static str,
    pub reason: &'static str,
    pub update_outcomes: &'static str,
    pub offered: &'static str,
    pub downloaded: &'static str,
    pub updated: &'static str,
    pub stuck: &'static str,
    pub days: &'static str,
    pub curves_note: &'static str,
    pub link_below_critical: &'static str,
    pub link_stuck: &'static str,
    pub link_missing_serials: &'static str,
    pub link_all_devices: &'static str,
    pub link_history: &'static str,
    pub inventory_not_writing: &'static str,
    pub license_files: &'static str,
    pub file: &'static str,
    pub serials: &'static str,
    pub problems: &'static str,
    pub recent_devices: &'static str,
    pub address: &'static str,
    pub build_date: &'static str,
    pub serial: &'static str,
    pub seen: &'static str,
    pub reloads: &'static str,
    pub local_time: &'static str,
    pub trigger: &'static str,
    pub outcome: &'static str,
    pub ms: &'static str,
    pub is_current: &'static str,
    pub ago: &'static str,
    pub unit_s: &'static str,
    pub unit_min: &'static str,
    pub unit_h: &'static str,
    pub unit_d: &'static str,
    pub state_current: &'static str,
    pub state_published: &'static str,
    pub state_settling: &'static str,
    pub state_rejected: &'static str,
    pub lines: &'static str,
    pub line: &'static str,
    pub default_line: &'static str,
    pub known_builds: &'static str,
    pub line_not_served: &'static str,
    pub rollouts: &'static str,
    pub settings: &'static str,
    pub admitted: &'static str,
    pub left_this_hour: &'static str,
    pub no_cap: &'static str,
    pub window: &'static str,
    pub all_day: &'static str,
    pub halted_because: &'static str,
    pub resume_hint: &'static str,
    pub unmapped_dates: &'static str,
    pub unmapped_note: &'static str,
    pub kind: &'static str,
    pub served_by: &'static str,
    pub no_update: &'static str,
    pub rollout_admitting: &'static str,
    pub rollout_paused: &'static str,
    pub rollout_halted: &'static str,
    pub rollout_outside_window: &'static str,
    pub rollout_cap_reached: &'static str,
    pub kind_unknown: &'static str,
    pub kind_ambiguous: &'static str,
    pub no_line_card: &'static str,
    pub tls_certificate: &'static str,
    /// Before the critical date on the fleet chart.
    pub critical_word: &'static str,
    /// A reload's trigger (`startup`, `files`, `signal`, `settle`, `request`) in words.
    pub triggers: [(&'static str, &'static str); 5],
    /// After a critical release or offer: "(critical)".
    pub critical_mark: &'static str,
    /// The header of the column of what a device says it is (its User-Agent).
    pub user_agent: &'static str,
    /// The other pages' words in the same language.
    pub pages: &'static PageText,
    /// The command line's and the log's words in the same language (one table for both:
    /// the summary lines the dashboard repeats read as `check` prints them).
    pub operator: &'static OperatorText,
    /// The red banner of a file that does not load: "<file> does not load for <time>".
    pub stale_for: &'static str,
    pub stale_since: &'static str,
    pub stale_config_kept: &'static str,
    pub stale_licenses_kept: &'static str,
    pub stale_licenses_none: &'static str,
    pub stale_fix: &'static str,
    // Upgrade floors: each line's path, floors in order, then the newest.
    pub upgrade_path: &'static str,
    pub upgrade_path_then_newest: &'static str,
    // Stages that advance themselves: the stage line under a rollout's state.
    /// "stage {n} of {of}: {percent}%".
    pub stage_of: &'static str,
    pub stage_since: &'static str,
    /// By `StageState`: soaking, waiting, advancing, last, halted, paused.
    pub stage_states: [&'static str; 6],
    // A rollout's deadline and projected finish.
    /// "Deadline" before the day, in the rollout table and on the adoption chart.
    pub deadline: &'static str,
    pub deadline_on_time: &'static str,
    pub deadline_late: &'static str,
    /// Before the projected finish's date and time.
    pub projected_finish: &'static str,
    /// "{n} registers of the line still below the release".
    pub devices_below: &'static str,
    /// Why there is no projected finish (`RolloutView::projection`) in words.
    pub projection_reasons: [(&'static str, &'static str); 9],
}

impl Text {
    /// A line's name, the default line in words.
    pub fn line_name<'a>(&self, name: &'a str) -> &'a str {
        if name.is_empty() {
            self.default_line
        } else {
            name
        }
    }

    /// A reload's trigger in words; one the table does not know stays as recorded.
    pub fn trigger_name<'a>(&self, trigger: &'a str) -> &'a str {
        self.triggers
            .iter()
            .find(|(name, _)| *name == trigger)
            .map_or(trigger, |(_, words)| words)
    }

    /// A date written yyyymmdd (a release, a build) as the pages write dates, DD.MM.YYYY.
    pub fn date(&self, yyyymmdd: &u32) -> String {
        crate::model::version::day_month_year(*yyyymmdd)
    }
}

/// The table of a language.
/// A span in the units of `t` ("2 h 5 min"), rounded down: the dashboard's ages and
/// uptime, and a stage's soak left on a register's page.
pub fn duration_text(secs: u64, t: &Text) -> String {
    let (s, min, h, d) = (t.unit_s, t.unit_min, t.unit_h, t.unit_d);
    match secs {
        n if n < 60 => format!("{n} {s}"),
        n if n < 3600 => format!("{} {min}", n / 60),
        n if n < 86_400 => format!("{} {h} {} {min}", n / 3600, n / 60 % 60),
        n => format!("{} {d} {} {h}", n / 86_400, n / 3600 % 24),
    }
}

pub fn for_lang(lang: Lang) -> &'static Text {
    super::Words::of(lang).dashboard
}

/// The table for a request: English when the browser's first choice is English, else
/// Russian.
pub fn for_request(accept_language: Option<&str>) -> &'static Text {
    let first = accept_language
        .and_then(|header| header.split(',').next())
        .map(|tag| {
            tag.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if first == "en" || first.starts_with("en-") {
        for_lang(Lang::En)
    } else {
        for_lang(Lang::Ru)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_unless_the_browser_asks_for_english_first() {
        assert_eq!(for_request(None).lang, "ru");
        assert_eq!(for_request(Some("ru-RU,ru;q=0.9,en;q=0.8")).lang, "ru");
        assert_eq!(for_request(Some("en-US,en;q=0.9")).lang, "en");
        assert_eq!(for_request(Some("de-DE,en;q=0.5")).lang, "ru");
        assert_eq!(for_lang(Lang::Ru).lang, "ru");
        assert_eq!(for_lang(Lang::En).operator.check_passed, "check passed");
    }
}
