//! The words of device groups (`groups.yaml`): why the file or one of its groups is
//! refused, what `check` and the log say of it, why a release's `pilot_groups` names no
//! group, and what a register's page says of a window kept in its group's time zone. The
//! tables are at the end of `ru.rs` and `en.rs`.

/// Device groups' words in one language.
#[derive(Debug)]
pub struct GroupsText {
    // The file as a whole.
    pub not_a_list: &'static str,
    pub yaml_invalid: &'static str,
    pub too_large: &'static str,
    pub too_many_groups: &'static str,
    pub missing: &'static str,
    pub not_regular: &'static str,
    pub cannot_read: &'static str,
    pub still_using: &'static str,
    // One group; `{group}` is its name in quotes, or its number when it has none.
    pub group_number: &'static str,
    pub group_named: &'static str,
    pub entry_not_mapping: &'static str,
    pub unknown_key: &'static str,
    pub wrong_kind: &'static str,
    pub missing_name: &'static str,
    pub name_too_long: &'static str,
    pub name_control: &'static str,
    pub name_repeated: &'static str,
    pub networks_key: &'static str,
    pub too_many_networks: &'static str,
    pub too_many_serials: &'static str,
    pub bad_serial: &'static str,
    pub bad_time_zone: &'static str,
    /// `Etc/GMT+3` means UTC−3: {group}, {value}, {utc} (the offset it really is).
    pub inverted_offset: &'static str,
    /// The forms a key expects, said in `wrong_kind`: (key, this language's form).
    pub forms: &'static [(&'static str, &'static str)],
    // `check` and the log.
    pub loaded: &'static str,
    pub none_loaded: &'static str,
    pub changed: &'static str,
    // A release's `rollout.pilot_groups`.
    pub pilot_group_unknown: &'static str,
    pub pilot_groups_without_file: &'static str,
    pub known_none: &'static str,
    // The dashboard: a stale groups file, and a register kept by its group's window.
    pub stale_kept: &'static str,
    pub stale_none: &'static str,
    pub kept_outside_window: &'static str,
    // views (branch `views`): operators' groups read against groups.yaml.
    pub operator_group_unknown: &'static str,
    pub operator_groups_without_file: &'static str,
}

impl GroupsText {
    /// The form `key` expects, in this language.
    pub fn form<'a>(&self, key: &'a str) -> &'a str {
        self.forms
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, form)| form)
    }
}
