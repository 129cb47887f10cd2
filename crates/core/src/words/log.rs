//! The words of the log lines an operator acts on: where the server listens, what a
//! rescan or a reload found, the snapshot's problems and warnings (a sample served, a line
//! not served, a license file that cannot be used). The tables are in `ru.rs` and `en.rs`;
//! the summary lines `check` repeats are in `cli`.

/// The log's words in one language.
#[derive(Debug)]
pub struct LogText {
    // Listening and stopping.
    pub listening: &'static str,
    pub listening_https: &'static str,
    pub admin_listening: &'static str,
    pub token_required: &'static str,
    pub systemd_socket: &'static str,
    pub stopped: &'static str,
    // Rescans and reloads.
    pub trigger_files: &'static str,
    pub trigger_signal: &'static str,
    pub trigger_settle: &'static str,
    pub trigger_request: &'static str,
    pub rescanned: &'static str,
    pub reloaded: &'static str,
    pub nothing_changed: &'static str,
    pub rescan_failed: &'static str,
    pub rescan_failed_outcome: &'static str,
    pub config_kept_outcome: &'static str,
    pub config_loads_again: &'static str,
    pub config_reloaded: &'static str,
    pub config_broken: &'static str,
    pub listen_changed: &'static str,
    pub admin_listen_changed: &'static str,
    pub admin_settings_changed: &'static str,
    pub events_lost: &'static str,
    pub certificate_taken: &'static str,
    pub certificate_refused: &'static str,
    // The snapshot's problems and warnings.
    pub license_file_broken: &'static str,
    pub line_not_served: &'static str,
    pub static_not_served: &'static str,
    pub ambiguous_build: &'static str,
    pub sample_one: &'static str,
    pub sample_many: &'static str,
    pub sample_served: &'static str,
    // operators (branch `operators`): the admin listener's operators and logins.
    pub operators_reloaded: &'static str,
    pub login_failed: &'static str,
    pub login_done: &'static str,
}
