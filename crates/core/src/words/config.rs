//! The words of the configuration: which file is used, and every refusal of `server.yaml`,
//! a flag or an environment variable (the key, the value, the form expected), and the
//! warnings `check` prints and the start-up logs. The tables are in `ru.rs` and `en.rs`.

/// The configuration's words in one language.
#[derive(Debug)]
pub struct ConfigText {
    // Which file is used.
    pub used_flag: &'static str,
    pub used_env: &'static str,
    pub used_found: &'static str,
    pub used_none: &'static str,
    pub defaults_only: &'static str,
    pub in_working_folder: &'static str,
    // The file itself.
    pub invalid: &'static str,
    pub cannot_read: &'static str,
    pub not_regular: &'static str,
    /// What a path is when it is not a regular file, as `platform::regular_file` says it
    /// in English, in this language: (English, this language).
    pub file_kinds: &'static [(&'static str, &'static str)],
    pub too_big: &'static str,
    pub at_line: &'static str,
    pub not_keys: &'static str,
    pub a_list: &'static str,
    // A value.
    pub out_of_bounds: &'static str,
    pub unit: &'static str,
    /// A bound's unit (as `config::settings` writes it in English), in this language.
    pub units: &'static [(&'static str, &'static str)],
    pub wrong_form: &'static str,
    /// Each setting's form, by key, in this language; empty in English, where each
    /// setting's own `form` (config/settings.rs, beside its definition) is the text.
    pub forms: &'static [(&'static str, &'static str)],
    pub twice: &'static str,
    pub unknown_key: &'static str,
    pub unknown_field: &'static str,
    pub unknown_field_hidden: &'static str,
    pub did_you_mean: &'static str,
    pub too_large_here: &'static str,
    pub critical_not_a_date: &'static str,
    pub tls_needs_files: &'static str,
    pub tls_listen_own: &'static str,
    pub inventory_form: &'static str,
    pub firmware_dir_missing_no_config: &'static str,
    pub firmware_dir_missing: &'static str,
    pub firmware_dir_is_file: &'static str,
    pub firmware_dir_unlistable: &'static str,
    pub admin_token_blank: &'static str,
    pub admin_token_short: &'static str,
    pub admin_token_chars: &'static str,
    pub admin_hosts_form: &'static str,
    pub address_form: &'static str,
    pub public_url_form: &'static str,
    // The TLS files.
    pub tls_cert_unreadable: &'static str,
    pub tls_cert_not_pem: &'static str,
    pub tls_no_certificate: &'static str,
    pub tls_key_unreadable: &'static str,
    pub tls_no_key: &'static str,
    pub tls_not_their_key: &'static str,
    pub tls_key_refused: &'static str,
    pub tls_set_up: &'static str,
    // Warnings: settings that work but leave a door open.
    pub warn_admin_open: &'static str,
    pub warn_trusted_everyone: &'static str,
    // operators (branch `operators`): the refusals of `operators:` (config/operators.rs).
    pub operators_too_many: &'static str,
    pub operators_entry: &'static str,
    pub operator_not_keys: &'static str,
    pub operator_unknown_key: &'static str,
    pub operator_plain_token: &'static str,
    pub operator_missing: &'static str,
    pub operator_not_text: &'static str,
    pub operator_name_empty: &'static str,
    pub operator_name_long: &'static str,
    pub operator_name_control: &'static str,
    pub operator_name_twice: &'static str,
    pub operator_hash_form: &'static str,
    pub operator_hash_twice: &'static str,
    pub operator_role: &'static str,
    pub operator_groups_not_viewer: &'static str,
    pub operator_groups_form: &'static str,
    pub operator_groups_empty: &'static str,
    pub operator_groups_many: &'static str,
    pub operator_group_name: &'static str,
    pub operator_admin_name: &'static str,
    pub operator_admin_hash: &'static str,
    // attack26
    pub operator_empty_hash: &'static str,
}

impl ConfigText {
    /// A unit written in English by the settings, in this language.
    pub fn unit_words<'a>(&self, unit: &'a str) -> &'a str {
        lookup(self.units, unit)
    }

    /// What a path is ("a folder"), in this language.
    pub fn file_kind<'a>(&self, kind: &'a str) -> &'a str {
        lookup(self.file_kinds, kind)
    }

    /// A setting's form in this language: the table's, or the English `form` given.
    pub fn form<'a>(&self, key: &str, english: &'a str) -> &'a str {
        self.forms
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(english, |(_, form)| form)
    }
}

/// The second of the pair whose first is `english`, or `english` itself.
fn lookup<'a>(pairs: &'static [(&'static str, &'static str)], english: &'a str) -> &'a str {
    pairs
        .iter()
        .find(|(en, _)| *en == english)
        .map_or(english, |(_, words)| words)
}
