//! The words of the command line (`check`, `publish`, `withdraw`) and of the log lines an
//! operator acts on; the dashboard's table points at the one of its language, so the
//! summary lines it repeats read as `check` prints them. The tables themselves are in
//! `ru.rs` and `en.rs`.

use crate::model::lang::Lang;

/// The operator's words in one language.
#[derive(Debug)]
pub struct OperatorText {
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,
    // The start-up, reload and `check` summary of a snapshot.
    pub current_release: &'static str,
    pub no_release_published: &'static str,
    pub critical_version: &'static str,
    pub critical_from_config: &'static str,
    pub critical_from_release: &'static str,
    pub no_critical_version: &'static str,
    pub licenses_count: &'static str,
    pub current_per_line: &'static str,
    pub no_lines_any_more: &'static str,
    // `check`'s rows.
    pub row_firmware_dir: &'static str,
    pub row_current: &'static str,
    pub row_published: &'static str,
    pub row_settling: &'static str,
    pub row_still_serving: &'static str,
    pub row_rejected: &'static str,
    pub row_rollout: &'static str,
    pub row_line: &'static str,
    pub row_known_builds: &'static str,
    pub row_no_known_builds: &'static str,
    pub row_line_critical: &'static str,
    pub row_line_no_release: &'static str,
    pub row_line_not_served: &'static str,
    pub row_licenses: &'static str,
    pub row_license_file: &'static str,
    pub check_listen: &'static str,
    pub check_tls: &'static str,
    pub check_tls_https: &'static str,
    pub check_tls_admin: &'static str,
    pub warning: &'static str,
    pub problem: &'static str,
    pub check_passed: &'static str,
    pub check_failed: &'static str,
    pub check_no_release: &'static str,
    pub check_as_root: &'static str,
    pub next_step: &'static str,
    pub next_step_line_folder: &'static str,
    // `publish` and `withdraw`.
    pub publish_release: &'static str,
    pub publish_in_line: &'static str,
    pub publish_critical: &'static str,
    pub publish_file: &'static str,
    pub publish_rollout: &'static str,
    pub publish_dry_run_replace: &'static str,
    pub publish_dry_run_new: &'static str,
    pub publish_published: &'static str,
    pub publish_replaced: &'static str,
    pub offer_devices: &'static str,
    pub offer_devices_of_line: &'static str,
    pub offer_now_offered: &'static str,
    pub offer_newer_stays: &'static str,
    pub offer_offered: &'static str,
    pub offer_now: &'static str,
    pub offer_line_not_served: &'static str,
    pub offer_no_release: &'static str,
    pub offer_as_rollout_admits: &'static str,
    pub offer_everyone: &'static str,
    pub offer_critical_before: &'static str,
    pub served_now: &'static str,
    pub no_server_answered: &'static str,
    pub ask_version: &'static str,
    pub withdrew: &'static str,
    pub withdraw_no_longer_served: &'static str,
    pub withdraw_no_server: &'static str,
    // `service`, `reload` and the requests commands send to the running server.
    pub service_installed: &'static str,
    pub service_removed: &'static str,
    pub service_no_config: &'static str,
    pub service_config_missing: &'static str,
    pub service_config_path: &'static str,
    pub service_current_exe: &'static str,
    pub service_run_by_windows: &'static str,
    pub service_log_unwritable: &'static str,
    pub service_not_here: &'static str,
    pub service_manager: &'static str,
    pub service_create: &'static str,
    pub service_describe: &'static str,
    pub service_no_such: &'static str,
    pub service_remove: &'static str,
    pub service_already_running: &'static str,
    pub service_not_started: &'static str,
    pub reload_no_admin: &'static str,
    pub reload_answered: &'static str,
    pub reload_done: &'static str,
    pub reload_kept: &'static str,
    pub client_no_admin: &'static str,
    pub client_token_refused: &'static str,
    pub client_unreachable: &'static str,
    pub client_admin: &'static str,
    pub client_device: &'static str,
    // Upgrade floors (`floor: true` in meta.yaml, `publish --floor`, `check`'s path).
    pub meta_floor_not_bool: &'static str,
    pub row_upgrade_path: &'static str,
    pub path_floor: &'static str,
    pub path_newest: &'static str,
    pub publish_floor: &'static str,
    pub offer_floors_first: &'static str,
    // A rollout's `deadline`.
    pub rollout_deadline_invalid: &'static str,
    // audit: the audit trail (branch audit).
    pub audit_broken: &'static str,
    pub audit_unknown_action: &'static str,
    pub audit_bad_field: &'static str,
    pub audit_missing: &'static str,
    pub audit_edited: &'static str,
    pub audit_unanchored: &'static str,
    pub audit_head_not_found: &'static str,
    pub audit_ok: &'static str,
    pub audit_head_not_hash: &'static str,
    pub audit_unreadable: &'static str,
    pub audit_inventory_off: &'static str,
    /// `audit verify --head H` when H is stored no more: a checkpoint says a prune removed
    /// it; {seq}, {at} (the checkpoint's time), {days} (the retention), {before} (the date a
    /// head must have been logged before for the prune to be real).
    pub audit_head_pruned: &'static str,
    // operators (branch `operators`): `token new`, and the token commands send.
    pub token_new_made: &'static str,
    pub token_new_refused: &'static str,
    pub token_new_no_random: &'static str,
    pub client_token_chars: &'static str,
    pub client_forbidden: &'static str,
}

impl OperatorText {
    /// The table of a language.
    pub fn of(lang: Lang) -> &'static OperatorText {
        super::Words::of(lang).operator
    }

    /// `true`/`false` in words: English keeps the `critical: true` the log always said.
    pub fn yes_no(&self, value: bool) -> &'static str {
        if value {
            self.yes
        } else {
            self.no
        }
    }
}
