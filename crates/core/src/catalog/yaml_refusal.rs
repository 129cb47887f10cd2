//! A `meta.yaml` or `line.yaml` the YAML parser refused: its message as it gives it (in
//! English, with the line), the "did you mean" of a misspelt key, and the unknown key the
//! document itself holds, found by us. English reads as it always did (the parser's message
//! and the hint); Russian names the unknown key and the keys allowed in the table's words,
//! and quotes the parser only for what we cannot say ourselves (a value of the wrong type).

use serde_yaml::{Mapping, Value};

use crate::model::did_you_mean::nearest;
use crate::model::lang::{fill, InLanguage};
use crate::model::one_line::escaped;
use crate::model::problem::yaml_message;
use crate::words::{FromTable, Words};

/// One section of a document and the keys its struct accepts: `prefix` is how its keys are
/// named (`""` for the document, `"rollout."` for its `rollout:`).
pub struct Section<'a> {
    pub prefix: &'static str,
    pub mapping: &'a Mapping,
    pub known: &'static [&'static str],
}

/// Why the parser refused a document, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlRefusal {
    /// The parser's message with its position.
    message: String,
    /// The known key nearest to the first misspelt one, across the sections in order.
    near: Option<&'static str>,
    /// The first key of the sections that is none of its section's keys: (its name with
    /// the section's prefix, the keys allowed there).
    unknown: Option<(String, &'static [&'static str])>,
}

impl YamlRefusal {
    /// The refusal of `error`, with what the `sections` of the document hold.
    pub fn new(error: &serde_yaml::Error, sections: &[Section<'_>]) -> YamlRefusal {
        let unknown_keys = |section: &Section<'_>| -> Vec<String> {
            section
                .mapping
                .keys()
                .filter_map(Value::as_str)
                .filter(|key| !section.known.contains(key))
                .map(str::to_string)
                .collect()
        };
        let near = sections.iter().find_map(|section| {
            unknown_keys(section)
                .iter()
                .find_map(|key| nearest(key, section.known.iter().copied()))
        });
        let unknown = sections.iter().find_map(|section| {
            let key = unknown_keys(section).into_iter().next()?;
            Some((format!("{}{}", section.prefix, shown(&key)), section.known))
        });
        YamlRefusal {
            message: yaml_message(error),
            near,
            unknown,
        }
    }
}

/// The longest key a refusal quotes: a key of a megabyte is not echoed whole.
const KEY_QUOTED_MAX: usize = 40;

/// A key as the refusal quotes it: on one line, cut at `KEY_QUOTED_MAX` characters.
fn shown(key: &str) -> String {
    let one_line = escaped(key);
    match one_line.char_indices().nth(KEY_QUOTED_MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line.into_owned(),
    }
}

impl FromTable for YamlRefusal {
    fn said(&self, words: &'static Words) -> String {
        let t = words.scan;
        let hint = self.near.map_or_else(String::new, |near| {
            fill(t.did_you_mean_key, &[("key", &near)])
        });
        match (&self.unknown, words.lang) {
            (Some((key, known)), crate::model::lang::Lang::Ru) => {
                let keys: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                let sentence = fill(
                    t.yaml_unknown_key,
                    &[("key", &key.as_str()), ("keys", &keys.join(", "))],
                );
                format!("{sentence}{hint}")
            }
            _ => format!("{}{hint}", self.message),
        }
    }
}

impl std::fmt::Display for YamlRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for YamlRefusal {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["description", "critical"];

    fn refusal(text: &str) -> YamlRefusal {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            description: Option<String>,
            critical: Option<bool>,
        }
        let error = serde_yaml::from_str::<Doc>(text).unwrap_err();
        let doc: Mapping = serde_yaml::from_str(text).unwrap();
        let section = Section {
            prefix: "",
            mapping: &doc,
            known: KNOWN,
        };
        YamlRefusal::new(&error, &[section])
    }

    #[test]
    fn english_is_the_parsers_message_and_russian_names_the_key() {
        let said = refusal("critcal: true\n");
        assert_eq!(
            said.to_string(),
            "unknown field `critcal`, expected `description` or `critical` at line 1 column 1; \
             did you mean `critical`?"
        );
        assert_eq!(
            said.in_russian(),
            "неизвестный ключ `critcal` (допустимы: `description`, `critical`); возможно, \
             имелось в виду `critical`?"
        );
    }

    /// A hostile key (long, with a line break) is quoted on one line and cut short.
    #[test]
    fn a_hostile_key_is_quoted_short_and_on_one_line() {
        let key = format!("a\\nb{}", "x".repeat(900));
        let said = refusal(&format!("\"{key}\": 1\n")).in_russian();
        assert!(!said.contains('\n'), "{said}");
        assert!(said.len() < 300, "{said}");
        assert!(said.contains("`a\\nbxxxx"), "{said}");
    }
}
