//! Our YAML license format, for operators who edit licenses by hand:
//!
//! ```yaml
//! "0000000000012345":
//!   licenses: ff00…
//!   signature: 0123…
//! ```
//!
//! A bad entry is reported with its line and skipped; the good entries load. A file that is
//! not YAML at all loads nothing and says where the syntax broke.

use crate::model::yaml_value_kind::value_kind;
use std::collections::HashMap;
use std::path::Path;

use serde_yaml::Value;

use std::fmt;

use super::record::{HexError, HexField, LicenseRecord};
use super::serial::Serial;
use super::{LicenseEntry, ParsedLicenses};
use crate::model::lang::{fill, InLanguage};
use crate::model::problem::Problem;
use crate::model::yaml_nesting::refuse_deep_nesting;
use crate::words::{FromTable, Said, Words};

/// Parses the text of a YAML license file.
pub fn parse(path: &Path, text: &str) -> ParsedLicenses {
    let mut parsed = ParsedLicenses::default();
    // Refused before the parser reads it (it would take days over a deep file of 1 GiB);
    // unreadable, so the licenses loaded before keep serving.
    if let Err(too_deep) = refuse_deep_nesting(text) {
        parsed
            .problems
            .push(Problem::file(path, Said::of(&too_deep)));
        parsed.unreadable = true;
        return parsed;
    }
    let document: Value = match serde_yaml::from_str(text) {
        Ok(document) => document,
        Err(error) => {
            let line = error.location().map_or(1, |at| at.line());
            parsed.problems.push(Problem::line(
                path,
                line,
                Said::new(|w| fill(w.scan.yaml_invalid, &[("why", &error)])),
            ));
            parsed.unreadable = true;
            return parsed;
        }
    };
    let mapping = match document {
        Value::Null => return parsed,
        Value::Mapping(mapping) => mapping,
        other => {
            let kind = value_kind(&other);
            parsed.problems.push(Problem::line(
                path,
                1,
                Said::new(|w| {
                    fill(
                        w.scan.yaml_not_mapping,
                        &[("kind", &w.scan.value_kind(kind))],
                    )
                }),
            ));
            parsed.unreadable = true;
            return parsed;
        }
    };
    let lines = key_lines(text);
    for (key, value) in mapping {
        let key_text = match &key {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => value_kind(other).to_string(),
        };
        let line = lines.get(key_text.as_str()).copied().unwrap_or(1);
        match parse_entry(&key, value) {
            Ok((serial, record)) => parsed.entries.push(LicenseEntry {
                serial,
                record,
                line,
            }),
            Err(error) => parsed.problems.push(Problem::line(
                path,
                line,
                Said::new(|w| {
                    fill(
                        w.scan.yaml_entry,
                        &[("key", &format!("{key_text:?}")), ("why", &error.said(w))],
                    )
                }),
            )),
        }
    }
    parsed
}

/// Why one serial's entry of a `.yaml` license file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryError {
    /// The key is no serial number.
    Serial,
    /// The value is no mapping: it is `found` ("a list").
    NotMapping {
        found: &'static str,
    },
    UnknownKey(String),
    /// The field named is not a string.
    NotText(String),
    /// The field named is not 128 hex digits.
    Hex(String, HexError),
    /// The field named is missing.
    Missing(&'static str),
}

impl FromTable for EntryError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.scan;
        match self {
            EntryError::Serial => t.entry_serial.to_string(),
            EntryError::NotMapping { found } => {
                fill(t.entry_not_mapping, &[("kind", &t.value_kind(found))])
            }
            EntryError::UnknownKey(name) => {
                fill(t.entry_unknown_key, &[("name", &format!("{name:?}"))])
            }
            EntryError::NotText(name) => fill(t.entry_not_text, &[("name", name)]),
            EntryError::Hex(name, e) => fill(
                t.in_file,
                &[("name", name), ("why", &e.in_language(words.lang))],
            ),
            EntryError::Missing(name) => fill(t.entry_missing, &[("name", name)]),
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

fn parse_entry(key: &Value, value: Value) -> Result<(Serial, LicenseRecord), EntryError> {
    let serial = match key {
        Value::String(s) => Serial::parse_file_form(s),
        // An unquoted `0000000000012345:` is read by YAML as the integer 12345.
        Value::Number(n) => n.as_u64().and_then(Serial::from_integer),
        _ => None,
    }
    .ok_or(EntryError::Serial)?;
    let Value::Mapping(fields) = value else {
        return Err(EntryError::NotMapping {
            found: value_kind(&value),
        });
    };
    let (mut licenses, mut signature) = (None, None);
    for (name, field) in fields {
        let name = name.as_str().unwrap_or("?").to_string();
        let slot = match name.as_str() {
            "licenses" => &mut licenses,
            "signature" => &mut signature,
            _ => return Err(EntryError::UnknownKey(name)),
        };
        let Some(text) = field.as_str() else {
            return Err(EntryError::NotText(name));
        };
        *slot = Some(HexField::parse(text).map_err(|e| EntryError::Hex(name, e))?);
    }
    let licenses = licenses.ok_or(EntryError::Missing("licenses"))?;
    let signature = signature.ok_or(EntryError::Missing("signature"))?;
    Ok((
        serial,
        LicenseRecord {
            licenses,
            signature,
        },
    ))
}

/// Line numbers of top-level keys, found in one pass, so that a bad entry can be named by
/// line (the YAML parser keeps no positions for values).
fn key_lines(text: &str) -> HashMap<&str, usize> {
    let mut lines = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        if let Some((key, _)) = line.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            lines.entry(key).or_insert(index + 1);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(c: char) -> String {
        c.to_string().repeat(128)
    }

    #[test]
    fn good_entries_load_and_bad_ones_are_named_by_line() {
        let text = format!(
            "\"0000000000012345\":\n  licenses: {}\n  signature: {}\n\
             \"123\":\n  licenses: {}\n  signature: {}\n\
             \"0000000000000002\":\n  licenses: zz\n  signature: {}\n\
             0000000000000003:\n  licenses: {}\n  signature: {}\n  extra: 1\n",
            hex('f'),
            hex('A'),
            hex('f'),
            hex('A'),
            hex('A'),
            hex('f'),
            hex('A'),
        );
        let parsed = parse(Path::new("l.yaml"), &text);
        let serials: Vec<String> = parsed
            .entries
            .iter()
            .map(|e| e.serial.to_string())
            .collect();
        assert_eq!(serials, ["0000000000012345"]);
        assert_eq!(parsed.entries[0].record.signature.to_hex(), hex('A'));
        let problems: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("l.yaml:4: serial \"123\": the serial must be 16 digits"),
            "{problems:?}"
        );
        assert!(
            problems[1]
                .starts_with("l.yaml:7: serial \"0000000000000002\": licenses: expected 128"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("unknown key \"extra\""),
            "{problems:?}"
        );
        assert!(!parsed.unreadable);
    }

    #[test]
    fn broken_yaml_loads_nothing_and_says_where() {
        let parsed = parse(
            Path::new("l.yaml"),
            "\"0000000000012345\":\n  licenses: [\n",
        );
        assert!(parsed.entries.is_empty());
        assert!(parsed.unreadable);
        assert!(
            parsed.problems[0].to_string().starts_with("l.yaml:"),
            "{:?}",
            parsed.problems
        );
    }

    #[test]
    fn an_empty_file_is_no_licenses() {
        let parsed = parse(Path::new("l.yaml"), "# nothing yet\n");
        assert!(parsed.entries.is_empty() && parsed.problems.is_empty() && !parsed.unreadable);
    }
}
