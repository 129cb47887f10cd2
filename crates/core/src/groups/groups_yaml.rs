//! The text of `groups.yaml`, checked strictly into `Groups`:
//!
//! ```yaml
//! - name: "ООО Ромашка"
//!   networks: [10.1.0.0/16, 192.0.2.0/28]
//!   serials: ["0000000000012345"]
//!   time_zone: Asia/Vladivostok
//! ```
//!
//! Read from the YAML tree key by key rather than through a derived struct, so that every
//! refusal names the group it is in (which the parser's own messages cannot). Everything
//! is bounded (`groups::MAX_*`); the file's size is bounded by the reader before this.

use crate::model::yaml_value_kind::value_kind;
use std::borrow::Cow;

use serde_yaml::Value;

use crate::groups::group::Group;
use crate::groups::membership::Groups;
use crate::groups::refusal::{quoted, GroupLabel, GroupsError, GROUP_KEYS};
use crate::groups::time_zone;
use crate::groups::{MAX_GROUPS, MAX_NAME_CHARS, MAX_NETWORKS, MAX_SERIALS};
use crate::licenses::serial::Serial;
use crate::model::did_you_mean::nearest;
use crate::model::ip_networks::IpNetworks;
use crate::model::one_line::escaped;
use crate::model::problem::yaml_message;
use crate::model::yaml_nesting::refuse_deep_nesting;

/// The groups `text` defines; an empty file (or one of comments) defines none.
pub fn parse(text: &str) -> Result<Groups, GroupsError> {
    refuse_deep_nesting(text).map_err(GroupsError::TooDeep)?;
    let document: Value =
        serde_yaml::from_str(text).map_err(|e| GroupsError::Yaml(yaml_message(&e)))?;
    let entries = match document {
        Value::Null => return Ok(Groups::default()),
        Value::Sequence(entries) => entries,
        other => return Err(GroupsError::NotAList(value_kind(&other))),
    };
    if entries.len() > MAX_GROUPS {
        return Err(GroupsError::TooManyGroups(entries.len()));
    }
    let mut groups: Vec<Group> = Vec::with_capacity(entries.len());
    // Lower-cased names seen, with their labels: "Ромашка" and "РОМАШКА" are one group.
    let mut seen: Vec<(String, GroupLabel)> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let group = group(index, entry)?;
        let folded = group.name.to_lowercase();
        let label = GroupLabel::of(index, Some(&group.name));
        if let Some((_, first)) = seen.iter().find(|(name, _)| *name == folded) {
            return Err(GroupsError::NameRepeated {
                group: label,
                first: first.clone(),
            });
        }
        seen.push((folded, label));
        groups.push(group);
    }
    Ok(Groups::new(groups))
}

/// One entry of the list, at `index` (from 0).
fn group(index: usize, entry: &Value) -> Result<Group, GroupsError> {
    let Value::Mapping(fields) = entry else {
        return Err(GroupsError::EntryNotMapping(
            GroupLabel::Number(index + 1),
            value_kind(entry),
        ));
    };
    // The name first: every later refusal names the group by it.
    let name_value = fields.get("name");
    let label = GroupLabel::of(index, name_value.and_then(scalar_text).as_deref());
    for key in fields.keys() {
        let known = key.as_str().is_some_and(|k| GROUP_KEYS.contains(&k));
        if !known {
            let key = scalar_text(key).unwrap_or_else(|| value_kind(key).to_string());
            let near = if key.len() <= 64 {
                nearest(&key, GROUP_KEYS)
            } else {
                None
            };
            return Err(GroupsError::UnknownKey {
                group: label,
                key,
                near,
            });
        }
    }
    let name = name(name_value, &label)?;
    let networks = networks(fields.get("networks"), &label)?;
    let serials = serials(fields.get("serials"), &label)?;
    let time_zone = match fields.get("time_zone") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            if let Some(utc) = time_zone::inverted_offset(text) {
                return Err(GroupsError::InvertedOffset {
                    group: label.clone(),
                    value: quoted(text),
                    utc,
                });
            }
            Some(
                time_zone::parse(text).map_err(|near| GroupsError::BadTimeZone {
                    group: label.clone(),
                    value: quoted(text),
                    near,
                })?,
            )
        }
        Some(other) => return Err(wrong_kind(&label, "time_zone", other)),
    };
    Ok(Group {
        name,
        networks,
        serials,
        time_zone,
    })
}

fn name(value: Option<&Value>, label: &GroupLabel) -> Result<String, GroupsError> {
    let name = match value {
        None | Some(Value::Null) => return Err(GroupsError::MissingName(label.clone())),
        Some(value) => scalar_text(value).ok_or_else(|| wrong_kind(label, "name", value))?,
    };
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(GroupsError::MissingName(label.clone()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(GroupsError::NameTooLong(label.clone()));
    }
    // Control characters, and those that break lines or reorder what is shown (the
    // bidirectional overrides): a name must read the same in a log line and on a page.
    if matches!(escaped(&name), Cow::Owned(_)) {
        return Err(GroupsError::NameControl(label.clone()));
    }
    Ok(name)
}

fn networks(value: Option<&Value>, label: &GroupLabel) -> Result<IpNetworks, GroupsError> {
    let entries = match value {
        None | Some(Value::Null) => return Ok(IpNetworks::default()),
        Some(Value::Sequence(entries)) => entries,
        Some(other) => return Err(wrong_kind(label, "networks", other)),
    };
    if entries.len() > MAX_NETWORKS {
        return Err(GroupsError::TooManyNetworks(label.clone(), entries.len()));
    }
    let texts = entries
        .iter()
        .map(|entry| match entry {
            Value::String(text) => Ok(text.clone()),
            other => Err(wrong_kind(label, "network", other)),
        })
        .collect::<Result<Vec<String>, GroupsError>>()?;
    IpNetworks::parse("networks", &texts).map_err(|e| GroupsError::Network(label.clone(), e))
}

fn serials(value: Option<&Value>, label: &GroupLabel) -> Result<Vec<Serial>, GroupsError> {
    let entries = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(entries)) => entries,
        Some(other) => return Err(wrong_kind(label, "serials", other)),
    };
    if entries.len() > MAX_SERIALS {
        return Err(GroupsError::TooManySerials(label.clone(), entries.len()));
    }
    let mut serials = entries
        .iter()
        .map(|entry| {
            let serial = match entry {
                Value::String(text) => Serial::parse_file_form(text),
                // An unquoted `0000000000012345` is read by YAML as the integer 12345, as
                // in the license files.
                Value::Number(n) => n.as_u64().and_then(Serial::from_integer),
                _ => None,
            };
            serial.ok_or_else(|| {
                let written = scalar_text(entry).unwrap_or_else(|| value_kind(entry).to_string());
                GroupsError::BadSerial(label.clone(), quoted(&written))
            })
        })
        .collect::<Result<Vec<Serial>, GroupsError>>()?;
    serials.sort_unstable();
    serials.dedup();
    Ok(serials)
}

fn wrong_kind(label: &GroupLabel, key: &'static str, value: &Value) -> GroupsError {
    GroupsError::WrongKind {
        group: label.clone(),
        key,
        kind: value_kind(value),
    }
}

/// A scalar as text (a name written `2024` is the name "2024"); none for a list or a
/// mapping.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lang::InLanguage;

    fn refused(text: &str) -> (String, String) {
        let error = parse(text).unwrap_err();
        (error.to_string(), error.in_russian())
    }

    #[test]
    fn the_spec_example_loads() {
        let groups = parse(
            "# groups.yaml\n- name: \"ООО Ромашка\"\n  networks: [10.1.0.0/16, 192.0.2.0/28]\n  \
             serials: [\"0000000000012345\", 0000000000000007, \"0000000000012345\"]\n  \
             time_zone: Asia/Vladivostok\n- name: \"Пилотные магазины\"\n  networks: \
             [10.20.0.0/16]\n",
        )
        .unwrap();
        let names: Vec<&str> = groups.names().collect();
        assert_eq!(names, ["ООО Ромашка", "Пилотные магазины"]);
        let first = groups.get("ООО Ромашка").unwrap();
        assert_eq!(first.time_zone, Some(chrono_tz::Tz::Asia__Vladivostok));
        let serials: Vec<String> = first.serials.iter().map(ToString::to_string).collect();
        assert_eq!(serials, ["0000000000000007", "0000000000012345"]);
        assert_eq!(groups.get("Пилотные магазины").unwrap().time_zone, None);
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# none yet\n").unwrap().is_empty());
        assert!(parse("[]").unwrap().is_empty());
    }

    #[test]
    fn each_refusal_names_the_group_the_key_the_value_and_the_form() {
        let (en, ru) = refused("- name: A\n  netwroks: [10.0.0.0/8]\n");
        assert_eq!(
            en,
            "group \"A\": unknown key `netwroks` (allowed: `name`, `networks`, `serials`, \
             `time_zone`); did you mean `networks`?"
        );
        assert!(
            ru.starts_with("группа \"A\": неизвестный ключ `netwroks`"),
            "{ru}"
        );
        assert!(ru.contains("имелось в виду `networks`"), "{ru}");
        let (en, _) = refused("- name: A\n  time_zone: Asia/Vladivostock\n");
        assert_eq!(
            en,
            "group \"A\": time_zone: \"Asia/Vladivostock\" is not an IANA time zone (expected \
             a name like Europe/Moscow or Asia/Vladivostok); did you mean `Asia/Vladivostok`?"
        );
        // Etc/GMT+3 is UTC-3: a store's night six hours off from Moscow's.
        let (en, ru) = refused("- name: A\n  time_zone: Etc/GMT+3\n");
        assert!(
            en.starts_with("group \"A\": time_zone: \"Etc/GMT+3\" means UTC-3: in the Etc/GMT"),
            "{en}"
        );
        assert!(ru.contains("означает UTC-3"), "{ru}");
        let (en, ru) = refused("- name: A\n  time_zone: \"+03:00\"\n");
        assert!(en.ends_with("Asia/Vladivostok)"), "{en}");
        assert!(ru.contains("не часовой пояс IANA"), "{ru}");
        let (en, _) = refused("- name: A\n- name: B\n  networks: [10.0.0.0/33]\n");
        assert_eq!(
            en,
            "group \"B\": networks: bad prefix in \"10.0.0.0/33\" (expected 0 to 32 after the /)"
        );
        let (en, _) = refused("- name: A\n  serials: [\"12345\"]\n");
        assert_eq!(
            en,
            "group \"A\": serials: \"12345\" is not a serial number (expected 16 digits in \
             quotes, like \"0000000000012345\")"
        );
        let (en, ru) = refused("- name: Ромашка\n- name: РОМАШКА\n");
        assert_eq!(
            en,
            "group \"РОМАШКА\": the name is taken already (group \"Ромашка\"); names must \
             differ, upper and lower case alike"
        );
        assert!(ru.contains("имя уже занято (группа \"Ромашка\")"), "{ru}");
        let (en, _) = refused("- networks: [10.0.0.0/8]\n");
        assert_eq!(
            en,
            "group 1: `name` is missing (expected a name, like \"OOO Romashka\")"
        );
        let (en, ru) = refused("- name: A\n  networks: 10.0.0.0/8\n");
        assert_eq!(
            en,
            "group \"A\": networks: expected a list of addresses or networks, like \
             [10.1.0.0/16, 192.0.2.15], not a string"
        );
        assert!(ru.contains("ожидается список адресов или сетей"), "{ru}");
        let (en, _) = refused("name: A\nnetworks: [10.0.0.0/8]\n");
        assert_eq!(
            en,
            "expected a list of groups (each starting with \"- name:\"), not a mapping"
        );
        let (en, _) = refused("- name: \"A\\nB\"\n");
        assert_eq!(
            en,
            "group \"A\\nB\": the name holds a line break, a tab, or another control or \
             text-direction character; expected one line of plain text"
        );
        // A right-to-left override would show "Ромашка" for another name on a page.
        let (en, _) = refused("- name: \"abc\u{202e}akhsamoR\"\n");
        assert!(en.contains("text-direction character"), "{en}");
        assert!(en.starts_with("group \"abc\\u{202e}akhsamoR\""), "{en}");
        let (en, _) = refused(&format!("- name: {}\n", "я".repeat(101)));
        assert!(
            en.ends_with("the name is longer than 100 characters"),
            "{en}"
        );
        assert!(en.contains('…') && en.len() < 300, "{en}");
        let (en, _) = refused("- name: A\n  networks: [\n");
        assert!(en.starts_with("not valid YAML: "), "{en}");
    }

    #[test]
    fn counts_are_bounded() {
        let many_groups: String = (0..=MAX_GROUPS)
            .map(|i| format!("- name: g{i}\n"))
            .collect();
        assert_eq!(
            refused(&many_groups).0,
            "1001 groups, more than the 1000 allowed"
        );
        let nets: Vec<String> = (0..=MAX_NETWORKS)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        let (en, _) = refused(&format!("- name: A\n  networks: [{}]\n", nets.join(", ")));
        assert_eq!(
            en,
            "group \"A\": networks: 1001 entries, more than the 1000 allowed"
        );
        let serials: Vec<String> = (0..=MAX_SERIALS).map(|i| format!("\"{i:016}\"")).collect();
        let (en, _) = refused(&format!("- name: A\n  serials: [{}]\n", serials.join(", ")));
        assert_eq!(
            en,
            "group \"A\": serials: 10001 entries, more than the 10000 allowed"
        );
        // At the bounds, it loads.
        let serials: Vec<String> = (0..MAX_SERIALS).map(|i| format!("\"{i:016}\"")).collect();
        let groups = parse(&format!("- name: A\n  serials: [{}]\n", serials.join(", "))).unwrap();
        assert_eq!(groups.get("A").unwrap().serials.len(), MAX_SERIALS);
    }

    /// Nesting and aliases a hostile file could use to exhaust the parser are refused by it.
    #[test]
    fn hostile_yaml_is_refused_not_followed() {
        let deep = format!(
            "- name: A\n  networks: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let started = std::time::Instant::now();
        assert_eq!(
            refused(&deep).0,
            "line 2: lists or mappings in brackets ([ ] or { }) are nested more than 16 levels \
             deep; the file is refused without being read (a real one needs two or three levels)"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("b{}", i - 1)
            };
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, \
                 *{prev}, *{prev}]\n"
            ));
        }
        let (en, _) = refused(&bomb);
        assert!(en.starts_with("not valid YAML: "), "{en}");
    }
}
