//! The words of the scan's own reasons: why a release folder is rejected or still
//! settling, why a line folder is not served, what is wrong in a `meta.yaml` (its
//! `rollout:` and `stages:` included) or a `line.yaml`, and why a license file or one of
//! its lines cannot be used. They reach the log, `check`'s rows and the dashboard in the
//! operator's language; `/status` keeps the English (scripts read it). The tables are in
//! `ru.rs` and `en.rs`.

/// The scan's reasons in one language.
#[derive(Debug)]
pub struct ScanText {
    // A release folder.
    pub cannot_list_firmware: &'static str,
    pub not_a_date_folder: &'static str,
    pub still_serving_before: &'static str,
    pub being_written: &'static str,
    pub changed_while_read: &'static str,
    pub cannot_read_folder: &'static str,
    pub folder_is_link: &'static str,
    pub not_a_folder: &'static str,
    pub file_missing: &'static str,
    pub cannot_read_file: &'static str,
    pub file_not_regular: &'static str,
    pub file_of_kind: &'static str,
    pub file_empty: &'static str,
    pub firmware_too_large: &'static str,
    pub in_file: &'static str,
    pub changed_recently: &'static str,
    pub not_seen_closed: &'static str,
    pub and: &'static str,
    pub sha_mismatch: &'static str,
    pub internal_two_files: &'static str,
    pub sample_refused: &'static str,
    pub checked_again_in: &'static str,
    pub not_utf8: &'static str,
    // meta.yaml.
    pub meta_unknown_file: &'static str,
    pub meta_bad_pin: &'static str,
    // A line folder and its line.yaml.
    pub line_name_refused: &'static str,
    pub line_changed_recently: &'static str,
    pub line_still_using: &'static str,
    pub line_yaml_too_large: &'static str,
    pub line_not_a_date: &'static str,
    // A license file.
    pub license_unknown_type: &'static str,
    pub license_not_regular: &'static str,
    pub license_cannot_read: &'static str,
    pub license_unreadable: &'static str,
    pub license_missing: &'static str,
    pub license_too_large: &'static str,
    pub license_still_serving: &'static str,
    pub serial_repeats: &'static str,
    pub more_repeats: &'static str,
    pub cannot_list_folder: &'static str,
    pub serials_also_in: &'static str,
    pub slf_not_utf8: &'static str,
    pub slf_fields: &'static str,
    pub slf_serial: &'static str,
    pub hex_length: &'static str,
    pub hex_not_hex: &'static str,
    pub yaml_invalid: &'static str,
    pub yaml_not_mapping: &'static str,
    pub yaml_entry: &'static str,
    pub entry_serial: &'static str,
    pub entry_not_mapping: &'static str,
    pub entry_unknown_key: &'static str,
    pub entry_not_text: &'static str,
    pub entry_missing: &'static str,
    /// What a YAML value is ("a list"), as the license parser says it in English, in this
    /// language: (English, this language).
    pub value_kinds: &'static [(&'static str, &'static str)],
    // A key the YAML parser refused in meta.yaml or line.yaml.
    pub did_you_mean_key: &'static str,
    /// Read only in Russian: English keeps the YAML parser's own message.
    pub yaml_unknown_key: &'static str,
    // A folder that may not be firmware_dir (or serve static files).
    pub fw_empty: &'static str,
    pub fw_cannot_open: &'static str,
    pub fw_system_folder: &'static str,
    pub fw_holds_private: &'static str,
    /// The server's own files, as `catalog::private_files` and the configuration name them
    /// in English ("the inventory"), in this language.
    pub private_files: &'static [(&'static str, &'static str)],
    // hardening: a YAML file nested too deep to be read (`model::yaml_nesting`).
    pub yaml_too_deep: &'static str,
    pub yaml_too_deep_indented: &'static str,
    /// A YAML license file larger than the parser may hold in memory; {mib}.
    pub license_yaml_too_large: &'static str,
}

impl ScanText {
    /// One of the server's own files ("the inventory"), in this language.
    pub fn private_file<'a>(&self, what: &'a str) -> &'a str {
        self.private_files
            .iter()
            .find(|(en, _)| *en == what)
            .map_or(what, |(_, words)| words)
    }

    /// What a YAML value is, in this language.
    pub fn value_kind<'a>(&self, kind: &'a str) -> &'a str {
        self.value_kinds
            .iter()
            .find(|(en, _)| *en == kind)
            .map_or(kind, |(_, words)| words)
    }
}

/// The refusals of `rollout:` and `stages:` in a `meta.yaml`, and of an address list
/// (`pilot`, `trusted_proxies`), in one language.
#[derive(Debug)]
pub struct RolloutText {
    pub percent: &'static str,
    pub too_large_at_most: &'static str,
    pub window: &'static str,
    pub empty_window: &'static str,
    pub halt_percent: &'static str,
    pub net_not_address: &'static str,
    pub net_bad_prefix: &'static str,
    pub net_too_many: &'static str,
    pub stage_with_percent: &'static str,
    pub stage_count: &'static str,
    pub stage_missing_percent: &'static str,
    pub stage_percent: &'static str,
    pub stage_lower: &'static str,
    pub stage_soak: &'static str,
    pub stage_min_updated: &'static str,
    pub stage_success: &'static str,
    pub rate_growth: &'static str,
    pub limit_below_cap: &'static str,
    pub forced: &'static str,
    pub needs: &'static str,
    /// What a key needs, as `rollout::rules` names it in English, in this language.
    pub needs_what: &'static [(&'static str, &'static str)],
}
