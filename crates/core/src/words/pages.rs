//! The words of the operator's pages beyond the dashboard itself (a register's page, the
//! devices list with its search and filters, the history, the "needs attention" block and
//! the reasons a register is or is not offered an update), in `ru.rs` and `en.rs` like
//! the dashboard's, which points at the table of its language (`Text::pages`). Placeholders
//! in braces (`{build}`, `{version}`, `{line}`, `{percent}`) are filled by
//! `offer_reason::Why::words`; dates are written DD.MM.YYYY. An outcome and a history
//! entry's kind find their words beside their types (`Outcome::words`, `HistoryKind::words`).

/// The pages' words in one language.
#[derive(Debug)]
pub struct PageText {
    pub why_heading: &'static str,
    pub why_no_build_date: &'static str,
    pub why_unknown_build: &'static str,
    pub why_ambiguous_line: &'static str,
    pub why_no_release: &'static str,
    pub why_up_to_date: &'static str,
    pub why_offered: &'static str,
    pub why_below_critical: &'static str,
    pub why_held_back: &'static str,
    pub why_not_admitted: &'static str,
    pub why_paused: &'static str,
    pub why_not_admitted_critical: &'static str,
    pub device_title: &'static str,
    pub back: &'static str,
    pub polls: &'static str,
    pub first_seen: &'static str,
    pub last_seen: &'static str,
    pub last_check_in: &'static str,
    pub client: &'static str,
    pub offers: &'static str,
    pub offered_at: &'static str,
    pub downloaded_at: &'static str,
    pub updated_at: &'static str,
    pub downloads: &'static str,
    pub bytes: &'static str,
    pub complete: &'static str,
    pub times: &'static str,
    pub licensed: &'static str,
    pub admissions: &'static str,
    pub pilot: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub never: &'static str,
    pub nothing_yet: &'static str,
    pub devices_title: &'static str,
    pub stuck_title: &'static str,
    pub history_title: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub any: &'static str,
    pub find: &'static str,
    pub found: &'static str,
    pub next_page: &'static str,
    pub outcome_pending: &'static str,
    pub outcome_downloaded: &'static str,
    pub outcome_updated: &'static str,
    pub outcome_stuck: &'static str,
    pub attention: &'static str,
    pub attention_none: &'static str,
    pub attention_no_release: &'static str,
    pub attention_below_critical: &'static str,
    pub attention_stuck: &'static str,
    pub attention_rejected: &'static str,
    pub attention_halted: &'static str,
    pub attention_inventory: &'static str,
    pub one_day_only: &'static str,
    pub event: &'static str,
    pub detail: &'static str,
    /// The history's kinds in words, in `HistoryKind`'s order (published … started).
    pub kinds: [&'static str; 11],
    // Upgrade floors: a register below a floor of its line.
    pub why_below_floor: &'static str,
    pub why_below_floor_not_admitted: &'static str,
    pub why_below_floor_meanwhile: &'static str,
    pub why_below_floor_nothing: &'static str,
    // Stages that advance themselves: the history's two kinds of theirs.
    pub kind_advanced: &'static str,
    pub kind_stage_forced: &'static str,
    // Which rule of a rollout keeps a register out (`admission_reason::KeptBy::words`);
    // placeholders {bucket}, {percent}, {stage}, {stages}, {next}, {next_percent}, {left},
    // {figures}, {window}, {time}, {cap}, {admitted}, {stuck}, {finished}, {share},
    // {threshold}.
    pub kept_bucket: &'static str,
    pub kept_bucket_stage: &'static str,
    pub kept_stage_soaking: &'static str,
    pub kept_stage_waiting: &'static str,
    pub kept_stage_advancing: &'static str,
    pub kept_stage_last: &'static str,
    pub kept_outside_window: &'static str,
    pub kept_hourly_cap: &'static str,
    pub kept_hourly_cap_stage: &'static str,
    pub kept_halted: &'static str,
    pub kept_admitted_at_next_check: &'static str,
    // audit: the audit trail (branch audit).
    pub audit_title: &'static str,
    pub audit_seq: &'static str,
    pub audit_actor: &'static str,
    pub audit_action: &'static str,
    pub audit_subject: &'static str,
    pub audit_result: &'static str,
    pub audit_head: &'static str,
    pub audit_verify_hint: &'static str,
    // operators (branch `operators`): the login page (templates/login.html) and the
    // browser's 401; placeholders {name}, {role}.
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub login_token: &'static str,
    pub login_submit: &'static str,
    pub login_wrong: &'static str,
    pub login_needed: &'static str,
    pub login_open: &'static str,
    pub login_signed_in: &'static str,
    pub login_to_dashboard: &'static str,
    pub logout: &'static str,
    // forms (branch `forms`): the dashboard's forms (upload, pause/resume, withdraw and its
    // confirmation page, logout) and the notice of what a form post came to; placeholders
    // {name}, {role}, {version}, {line}.
    pub forms_signed_in: &'static str,
    pub forms_upload_title: &'static str,
    pub forms_upload_open: &'static str,
    pub forms_upload_intro: &'static str,
    pub forms_zip: &'static str,
    pub forms_or_files: &'static str,
    pub forms_version: &'static str,
    pub forms_line: &'static str,
    pub forms_description: &'static str,
    pub forms_critical: &'static str,
    pub forms_floor: &'static str,
    pub forms_rollout_percent: &'static str,
    pub forms_pilot: &'static str,
    pub forms_replace: &'static str,
    pub forms_publish: &'static str,
    pub forms_cancel: &'static str,
    pub forms_actions: &'static str,
    pub forms_pause: &'static str,
    pub forms_resume: &'static str,
    pub forms_withdraw: &'static str,
    pub forms_withdraw_title: &'static str,
    pub forms_withdraw_text: &'static str,
    pub forms_withdraw_confirm: &'static str,
    pub forms_published: &'static str,
    pub forms_withdrawn: &'static str,
    pub forms_paused: &'static str,
    pub forms_resumed: &'static str,
    pub forms_refused: &'static str,
    pub forms_notice_close: &'static str,
    // views (branch `views`): group views and viewer scopes.
    /// The group selector's label, and the lists' column.
    pub group: &'static str,
    /// The selector's choice of every group the reader may see.
    pub all_groups: &'static str,
    /// Above a limited viewer's pages: `{groups}` are its groups.
    pub limited_to: &'static str,
    /// Where a limited viewer's dashboard leaves out the fleet's figures.
    pub fleet_figures_hidden: &'static str,
}

impl PageText {
    pub fn yes_no(&self, yes: bool) -> &'static str {
        if yes {
            self.yes
        } else {
            self.no
        }
    }
}
