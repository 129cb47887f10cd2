//! The words of the rollout watch's log lines (a stage advanced or forced, a rollout
//! halted or resumed, and what each step was), of the inventory's log lines an operator
//! acts on (it cannot write, it writes again, records lost at a stop), and of the refusals
//! of a PostgreSQL URL in `inventory:`. The tables are in `ru.rs` and `en.rs`. What the
//! inventory's history stores stays in English (it is written once, for every instance).

/// The watch's and the inventory's words in one language.
#[derive(Debug)]
pub struct WatchText {
    // The rollout watch.
    pub halted_restored: &'static str,
    pub halted: &'static str,
    pub resumed: &'static str,
    pub stepped: &'static str,
    pub advanced: &'static str,
    pub stage_forced: &'static str,
    pub step_advance: &'static str,
    pub step_forced_from: &'static str,
    pub step_forced: &'static str,
    pub step_cap: &'static str,
    pub halt_reason: &'static str,
    pub admissions_restored: &'static str,
    pub admissions_unreadable: &'static str,
    pub watch_unreadable: &'static str,
    // The inventory.
    pub writer_not_started: &'static str,
    pub writer_late: &'static str,
    pub records_lost: &'static str,
    pub pruned: &'static str,
    pub cannot_prune: &'static str,
    pub cannot_write: &'static str,
    pub writing_again: &'static str,
    pub unreadable_build_date: &'static str,
    // A PostgreSQL URL in `inventory:`.
    pub pg_sslmode_form: &'static str,
    pub pg_twice: &'static str,
    pub pg_rootcert_empty: &'static str,
    pub pg_unsupported: &'static str,
    pub pg_needs_rootcert: &'static str,
    pub pg_disable_with_rootcert: &'static str,
    pub pg_not_understood: &'static str,
    pub pg_rootcert_not_file: &'static str,
    pub pg_rootcert_unreadable: &'static str,
    pub pg_rootcert_too_large: &'static str,
    pub pg_rootcert_not_pem: &'static str,
    pub pg_rootcert_empty_file: &'static str,
    // A restore read apart, and a stage step that fails (the hostile review's fixes).
    pub halts_unreadable: &'static str,
    pub stages_unreadable: &'static str,
    pub stages_failing: &'static str,
    // audit: the audit trail (branch audit).
    pub audit_appended: &'static str,
    pub audit_pruned: &'static str,
    pub audit_failing: &'static str,
}
