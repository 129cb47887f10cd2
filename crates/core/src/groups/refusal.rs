//! Why `groups.yaml` was refused, in both languages: each sentence names the group (by its
//! name, or its number when it has none), the key, the value as written (on one line, cut
//! short) and the form expected. One refusal is enough: the file is used whole or not at
//! all, so the operator fixes one thing at a time, as with `server.yaml`.

use std::fmt;

use crate::groups::{MAX_GROUPS, MAX_NAME_CHARS, MAX_NETWORKS, MAX_SERIALS};
use crate::model::ip_networks::NetworkError;
use crate::model::lang::{fill, InLanguage};
use crate::model::one_line::escaped;
use crate::model::text_file::NotUtf8;
use crate::model::yaml_nesting::NestedTooDeep;
use crate::words::{FromTable, Words};

/// The longest value a refusal quotes: a name or a zone of a megabyte is not echoed whole.
const QUOTED_MAX: usize = 60;

/// `text` as a refusal quotes it: in quotes, on one line, cut at `QUOTED_MAX` characters.
pub fn quoted(text: &str) -> String {
    let one_line = escaped(text);
    match one_line.char_indices().nth(QUOTED_MAX) {
        Some((cut, _)) => format!("\"{}…\"", &one_line[..cut]),
        None => format!("\"{one_line}\""),
    }
}

/// Which group a refusal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLabel {
    /// Its place in the file, from 1 (a group without a usable name).
    Number(usize),
    /// Its name, quoted (`quoted`).
    Named(String),
}

impl GroupLabel {
    /// The group at `index` (from 0) named `name`, if it has one.
    pub fn of(index: usize, name: Option<&str>) -> GroupLabel {
        match name.filter(|n| !n.trim().is_empty()) {
            Some(name) => GroupLabel::Named(quoted(name)),
            None => GroupLabel::Number(index + 1),
        }
    }

    fn said(&self, words: &'static Words) -> String {
        let t = words.groups;
        match self {
            GroupLabel::Number(number) => fill(t.group_number, &[("number", number)]),
            GroupLabel::Named(name) => fill(t.group_named, &[("name", name)]),
        }
    }
}

/// Why the file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupsError {
    NotUtf8(NotUtf8),
    /// Larger than `GROUPS_FILE_MAX`.
    TooLarge,
    /// The YAML parser's message, with its position.
    Yaml(String),
    /// Flow collections nested too deep to be given to the YAML parser.
    TooDeep(NestedTooDeep),
    /// The document is not a list: it is `kind` ("a mapping").
    NotAList(&'static str),
    /// More than `MAX_GROUPS` groups.
    TooManyGroups(usize),
    EntryNotMapping(GroupLabel, &'static str),
    UnknownKey {
        group: GroupLabel,
        key: String,
        near: Option<&'static str>,
    },
    /// `key` holds a value of the wrong kind (`kind`: "a mapping").
    WrongKind {
        group: GroupLabel,
        key: &'static str,
        kind: &'static str,
    },
    MissingName(GroupLabel),
    NameTooLong(GroupLabel),
    NameControl(GroupLabel),
    NameRepeated {
        group: GroupLabel,
        first: GroupLabel,
    },
    /// An entry of `networks` (the error's key is `networks`).
    Network(GroupLabel, NetworkError),
    TooManyNetworks(GroupLabel, usize),
    TooManySerials(GroupLabel, usize),
    /// A serial as written (quoted).
    BadSerial(GroupLabel, String),
    /// A zone as written (quoted) and the IANA name nearest to it.
    BadTimeZone {
        group: GroupLabel,
        value: String,
        near: Option<&'static str>,
    },
    /// `Etc/GMT+3` and the like: the database's POSIX names, whose sign is the opposite of
    /// what an operator reads (UTC−3). A store's night read six hours off is updates in
    /// trading hours, so they are refused; `utc` is what the name really means.
    InvertedOffset {
        group: GroupLabel,
        value: String,
        utc: String,
    },
}

/// The keys a group may have, in the order the refusal lists them.
pub const GROUP_KEYS: [&str; 4] = ["name", "networks", "serials", "time_zone"];

impl FromTable for GroupsError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.groups;
        let kind = |kind: &str| words.scan.value_kind(kind).to_string();
        match self {
            GroupsError::NotUtf8(e) => e.in_language(words.lang),
            GroupsError::TooLarge => fill(
                t.too_large,
                &[("mib", &(super::GROUPS_FILE_MAX / (1024 * 1024)))],
            ),
            GroupsError::Yaml(why) => fill(t.yaml_invalid, &[("why", why)]),
            GroupsError::TooDeep(e) => e.said(words),
            GroupsError::NotAList(found) => fill(t.not_a_list, &[("kind", &kind(found))]),
            GroupsError::TooManyGroups(count) => {
                fill(t.too_many_groups, &[("count", count), ("max", &MAX_GROUPS)])
            }
            GroupsError::InvertedOffset { group, value, utc } => fill(
                t.inverted_offset,
                &[
                    ("group", &group.said(words)),
                    ("value", value),
                    ("utc", utc),
                ],
            ),
            other => other.said_of_group(words),
        }
    }
}

impl GroupsError {
    /// The refusals of one group's entry (the file's own are in `said`).
    fn said_of_group(&self, words: &'static Words) -> String {
        let t = words.groups;
        let kind = |kind: &str| words.scan.value_kind(kind).to_string();
        match self {
            GroupsError::NotUtf8(_)
            | GroupsError::TooLarge
            | GroupsError::Yaml(_)
            | GroupsError::TooDeep(_)
            | GroupsError::NotAList(_)
            | GroupsError::TooManyGroups(_) => self.said(words),
            GroupsError::EntryNotMapping(group, found) => fill(
                t.entry_not_mapping,
                &[("group", &group.said(words)), ("kind", &kind(found))],
            ),
            GroupsError::UnknownKey { group, key, near } => {
                let keys: Vec<String> = GROUP_KEYS.iter().map(|k| format!("`{k}`")).collect();
                let hint = near.map_or_else(String::new, |near| {
                    fill(words.scan.did_you_mean_key, &[("key", &near)])
                });
                let key = quoted(key);
                fill(
                    t.unknown_key,
                    &[
                        ("group", &group.said(words)),
                        ("key", &key.trim_matches('"')),
                        ("keys", &keys.join(", ")),
                        ("hint", &hint),
                    ],
                )
            }
            GroupsError::WrongKind {
                group,
                key,
                kind: found,
            } => fill(
                t.wrong_kind,
                &[
                    ("group", &group.said(words)),
                    ("key", key),
                    ("form", &t.form(key)),
                    ("kind", &kind(found)),
                ],
            ),
            GroupsError::MissingName(group) => {
                fill(t.missing_name, &[("group", &group.said(words))])
            }
            GroupsError::NameTooLong(group) => fill(
                t.name_too_long,
                &[("group", &group.said(words)), ("max", &MAX_NAME_CHARS)],
            ),
            GroupsError::NameControl(group) => {
                fill(t.name_control, &[("group", &group.said(words))])
            }
            GroupsError::NameRepeated { group, first } => fill(
                t.name_repeated,
                &[("group", &group.said(words)), ("first", &first.said(words))],
            ),
            other => other.said_of_values(words),
        }
    }

    /// The refusals of a group's `networks`, `serials` and `time_zone`.
    fn said_of_values(&self, words: &'static Words) -> String {
        let t = words.groups;
        match self {
            GroupsError::Network(group, error) => {
                format!("{}: {}", group.said(words), error.in_language(words.lang))
            }
            GroupsError::TooManyNetworks(group, count) => fill(
                t.too_many_networks,
                &[
                    ("group", &group.said(words)),
                    ("count", count),
                    ("max", &MAX_NETWORKS),
                ],
            ),
            GroupsError::TooManySerials(group, count) => fill(
                t.too_many_serials,
                &[
                    ("group", &group.said(words)),
                    ("count", count),
                    ("max", &MAX_SERIALS),
                ],
            ),
            GroupsError::BadSerial(group, value) => fill(
                t.bad_serial,
                &[("group", &group.said(words)), ("value", value)],
            ),
            GroupsError::BadTimeZone { group, value, near } => {
                let hint = near.map_or_else(String::new, |near| {
                    fill(words.scan.did_you_mean_key, &[("key", &near)])
                });
                fill(
                    t.bad_time_zone,
                    &[
                        ("group", &group.said(words)),
                        ("value", value),
                        ("hint", &hint),
                    ],
                )
            }
            other => other.said_of_group(words),
        }
    }
}

impl fmt::Display for GroupsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl std::error::Error for GroupsError {}

impl InLanguage for GroupsError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}
