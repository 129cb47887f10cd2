//! `server.yaml` as written, read key by key against the settings table. Each value is
//! taken as YAML gives it (text, number, true/false, list) and checked against its
//! setting's shape here, so every error is our own sentence naming the key, the value and
//! the form (never a Rust type name, never serde's English rewritten).

use std::cell::RefCell;
use std::fmt;

use anyhow::{bail, Result};
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use crate::config::layer::{Given, Layer};
use crate::config::operators::{self, OperatorEntry, Written, WrittenEntry};
use crate::config::settings::{self, Setting, SettingError, Shape};
use crate::model::lang::fill;
use crate::model::problem::yaml_message;
use crate::model::yaml_nesting::refuse_deep_nesting;
use crate::words::Said;

/// `server.yaml` as written: the settings it gives.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileConfig {
    pub(crate) given: Layer,
}

/// Parses the YAML text of a configuration file (an empty file is all defaults).
pub fn parse_file(text: &str) -> Result<FileConfig> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    // Refused before the parser reads it: its time grows with the square of the depth.
    refuse_deep_nesting(text).map_err(|e| Said::of(&e))?;
    let problem = RefCell::new(None);
    let read = FileSeed { problem: &problem }.deserialize(serde_yaml::Deserializer::from_str(text));
    match read {
        Ok(given) => Ok(FileConfig { given }),
        Err(error) => match problem.into_inner() {
            Some(sentence) => match error.location() {
                Some(at) => Err(Said::new(|w| {
                    fill(
                        w.config.at_line,
                        &[
                            ("sentence", &sentence.in_language(w.lang)),
                            ("line", &at.line()),
                        ],
                    )
                })
                .into()),
                None => Err(sentence.into()),
            },
            // Not a value of ours: the YAML itself is broken (a tab, an unclosed quote).
            None => bail!("{}", yaml_message(&error)),
        },
    }
}

/// A value as YAML wrote it, before its setting says what it must be.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Text(String),
    Unsigned(u128),
    Negative(i128),
    Float(f64),
    Bool(bool),
    Null,
    List(Vec<Raw>),
    /// Keys with values, in the order written (`operators:` entries read them).
    Map(Vec<(Raw, Raw)>),
    /// A value with a YAML tag of its own (`!vault …`): never a setting.
    Tagged(String),
}

impl fmt::Display for Raw {
    /// As an operator would recognise what they wrote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Text(text) => write!(f, "{text:?}"),
            Raw::Unsigned(n) => write!(f, "{n}"),
            Raw::Negative(n) => write!(f, "{n}"),
            Raw::Float(n) => write!(f, "{n}"),
            Raw::Bool(b) => write!(f, "{b}"),
            Raw::Null => write!(f, "nothing"),
            Raw::List(_) => write!(f, "a list"),
            Raw::Map(_) => write!(f, "keys with values"),
            Raw::Tagged(tag) => write!(f, "a value tagged !{}", tag.escape_debug()),
        }
    }
}

impl Raw {
    /// The text of a scalar: a number or true/false written where text belongs is the text
    /// that was meant (`admin_token: 1234567890123456`).
    fn text(&self) -> Option<String> {
        match self {
            Raw::Text(text) => Some(text.clone()),
            Raw::Unsigned(n) => Some(n.to_string()),
            Raw::Negative(n) => Some(n.to_string()),
            Raw::Bool(b) => Some(b.to_string()),
            Raw::Float(_) | Raw::Null | Raw::List(_) | Raw::Map(_) | Raw::Tagged(_) => None,
        }
    }

    fn texts(&self) -> Option<Vec<String>> {
        match self {
            Raw::List(items) => items.iter().map(Raw::text).collect(),
            _ => None,
        }
    }

    /// A value of an `operators:` entry, as that module reads it.
    fn written(&self) -> Written {
        match self {
            Raw::List(items) => Written::List(items.iter().map(Raw::text).collect()),
            other => other
                .text()
                .map_or_else(|| Written::Other(other.to_string()), Written::Text),
        }
    }
}

/// `operators:` checked: a list of entries with keys, each as `config::operators` wants.
fn operators(raw: &Raw) -> Option<Result<Vec<OperatorEntry>, SettingError>> {
    let Raw::List(items) = raw else {
        return None;
    };
    let entries: Vec<WrittenEntry> = items
        .iter()
        .map(|item| match item {
            Raw::Map(pairs) => WrittenEntry::Keys(
                pairs
                    .iter()
                    .map(|(key, value)| {
                        (
                            key.text().unwrap_or_else(|| key.to_string()),
                            value.written(),
                        )
                    })
                    .collect(),
            ),
            other => WrittenEntry::Other(other.to_string()),
        })
        .collect();
    Some(operators::parse(&entries).map_err(SettingError::Operators))
}

/// `raw` as `setting` holds it: `Ok(None)` for an absent value (`key:` with nothing, or
/// `null` where null means nothing), else a sentence naming the key, the value and the form.
fn convert(setting: &Setting, raw: &Raw) -> Result<Option<Given>, SettingError> {
    if *raw == Raw::Null {
        return Ok(setting.nullable.then_some(Given::Null));
    }
    let given = match setting.shape {
        Shape::Text => raw.text().map(Given::Text),
        Shape::Path => raw.text().map(|t| Given::Path(t.into())),
        Shape::Paths => raw
            .texts()
            .map(|list| Given::Paths(list.into_iter().map(Into::into).collect())),
        Shape::Texts => raw.texts().map(Given::Texts),
        Shape::Number(_) => match raw {
            Raw::Unsigned(n) => u64::try_from(*n).ok().map(Given::Number),
            _ => None,
        },
        Shape::Date => match raw {
            Raw::Unsigned(n) => u32::try_from(*n).ok().map(|n| Given::Number(n.into())),
            _ => None,
        },
        Shape::Bool => match raw {
            Raw::Bool(b) => Some(Given::Bool(*b)),
            _ => None,
        },
        Shape::Operators => match operators(raw) {
            Some(checked) => Some(Given::Operators(checked?)),
            None => None,
        },
    };
    match given {
        Some(given) => Ok(Some(given)),
        None => Err(SettingError::WrongForm {
            key: setting.key,
            form: setting.form,
            given: raw.to_string(),
        }),
    }
}

/// Remembers our sentence while serde carries a placeholder error out with the line.
type Problem<'a> = &'a RefCell<Option<Said>>;

fn fail<E: de::Error>(problem: Problem<'_>, sentence: Said) -> E {
    *problem.borrow_mut() = Some(sentence);
    E::custom("see the sentence kept beside")
}

struct FileSeed<'a> {
    problem: Problem<'a>,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = Layer;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Layer, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = Layer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lines of key: value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Layer, E> {
        Ok(Layer::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Layer, E> {
        Ok(Layer::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Layer, A::Error> {
        let mut layer = Layer::default();
        while let Some(setting) = map.next_key_seed(KeySeed {
            problem: self.problem,
        })? {
            let seed = ValueSeed {
                setting,
                twice: layer.contains(setting),
                problem: self.problem,
            };
            // `settle_ms:` with nothing: as if absent. Written twice: the seed refuses.
            if let Some(given) = map.next_value_seed(seed)? {
                layer.set(setting, given);
            }
        }
        Ok(layer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Layer, A::Error> {
        Err(fail(
            self.problem,
            Said::new(|w| fill(w.config.not_keys, &[("got", &w.config.a_list)])),
        ))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Layer, E> {
        Err(self.not_keys(&format!("{text:?}")))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Layer, E> {
        Err(self.not_keys(&value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Layer, E> {
        Err(self.not_keys(&value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Layer, E> {
        Err(self.not_keys(&value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Layer, E> {
        Err(self.not_keys(&value.to_string()))
    }
}

impl FileSeed<'_> {
    fn not_keys<E: de::Error>(&self, got: &str) -> E {
        fail(
            self.problem,
            Said::new(|w| fill(w.config.not_keys, &[("got", &got)])),
        )
    }
}

/// Reads a key and finds its setting; an unknown key is an error, never ignored.
struct KeySeed<'a> {
    problem: Problem<'a>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = &'static Setting;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<&'static Setting, D::Error> {
        d.deserialize_any(Checked {
            problem: self.problem,
            check: |raw: Raw| {
                let name = raw.text().unwrap_or_else(|| raw.to_string());
                settings::find(&name).ok_or(SettingError::UnknownKey(name))
            },
        })
    }
}

/// Reads the value of one setting and checks its shape.
struct ValueSeed<'a> {
    setting: &'static Setting,
    twice: bool,
    problem: Problem<'a>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Option<Given>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Given>, D::Error> {
        let (setting, twice) = (self.setting, self.twice);
        d.deserialize_any(Checked {
            problem: self.problem,
            check: |raw: Raw| {
                if twice {
                    return Err(SettingError::Twice { key: setting.key });
                }
                convert(setting, &raw)
            },
        })
    }
}

/// Takes a value as written and checks it while serde still stands on it, so the error
/// it raises carries the value's own line.
struct Checked<'a, F> {
    problem: Problem<'a>,
    check: F,
}

impl<F, T> Checked<'_, F>
where
    F: FnOnce(Raw) -> Result<T, SettingError>,
{
    fn finish<E: de::Error>(self, raw: Result<Raw, E>) -> Result<T, E> {
        (self.check)(raw?).map_err(|refused| fail(self.problem, Said::of(&refused)))
    }
}

impl<'de, F, T> Visitor<'de> for Checked<'_, F>
where
    F: FnOnce(Raw) -> Result<T, SettingError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RawVisitor.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<T, E> {
        self.finish(RawVisitor.visit_bool(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        self.finish(RawVisitor.visit_u64(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<T, E> {
        self.finish(RawVisitor.visit_u128(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        self.finish(RawVisitor.visit_i64(value))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<T, E> {
        self.finish(RawVisitor.visit_i128(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        self.finish(RawVisitor.visit_f64(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        self.finish(RawVisitor.visit_str(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        self.finish(RawVisitor.visit_unit())
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.finish(RawVisitor.visit_none())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        self.finish(RawVisitor.visit_some(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        self.finish(RawVisitor.visit_seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        self.finish(RawVisitor.visit_map(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        self.finish(RawVisitor.visit_enum(data))
    }
}

/// Takes any YAML value as written.
struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Raw, E> {
        Ok(Raw::Unsigned(value.into()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Raw, E> {
        Ok(Raw::Unsigned(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Raw, E> {
        self.visit_i128(value.into())
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Raw, E> {
        Ok(match u128::try_from(value) {
            Ok(n) => Raw::Unsigned(n),
            Err(_) => Raw::Negative(value),
        })
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Raw, E> {
        Ok(Raw::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Raw, E> {
        Ok(Raw::Text(value.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(RawSeed)? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry_seed(RawSeed, RawSeed)? {
            pairs.push(pair);
        }
        Ok(Raw::Map(pairs))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Raw, A::Error> {
        let (tag, value) = data.variant::<String>()?;
        value.newtype_variant_seed(RawSeed)?;
        Ok(Raw::Tagged(tag))
    }
}

struct RawSeed;

impl<'de> DeserializeSeed<'de> for RawSeed {
    type Value = Raw;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::SETTINGS;

    fn error(yaml: &str) -> String {
        format!("{:#}", parse_file(yaml).unwrap_err())
    }

    /// A value of the wrong kind for every setting is named with the key, the value as
    /// written and the setting's form, on its own line.
    #[test]
    fn every_setting_names_a_wrong_kind_of_value_in_plain_words() {
        for setting in SETTINGS {
            let (written, shown) = match setting.shape {
                Shape::Text | Shape::Path => ("[a, b]", "a list"),
                Shape::Paths | Shape::Texts => ("5", "5"),
                Shape::Number(_) => ("fast", "\"fast\""),
                Shape::Date => ("2025-01-01", "\"2025-01-01\""),
                Shape::Bool => ("maybe", "\"maybe\""),
                Shape::Operators => ("admin", "\"admin\""),
            };
            let yaml = format!("# server.yaml\n{}: {written}\n", setting.key);
            assert_eq!(
                error(&yaml),
                format!(
                    "{} must be {}; got {shown} (line 2)",
                    setting.key, setting.form
                ),
            );
        }
    }

    #[test]
    fn numbers_past_their_type_negative_and_fractional_are_shown_as_written() {
        for (yaml, got) in [
            ("keep_alive_s: 18446744073709551616", "18446744073709551616"),
            (
                "max_connections: 99999999999999999999999",
                "99999999999999999999999",
            ),
            ("settle_ms: -1", "-1"),
            ("settle_ms: 1.5", "1.5"),
            ("critical_version: 4294967296", "4294967296"),
            ("settle_ms: \"1000\"", "\"1000\""),
        ] {
            let said = error(&format!("firmware_dir: x\n{yaml}\n"));
            assert!(
                said.ends_with(&format!("; got {got} (line 2)")),
                "{yaml}: {said}"
            );
            for rust in [
                "u32",
                "u64",
                "u128",
                "usize",
                "bool",
                "invalid type",
                "expected",
            ] {
                assert!(!said.contains(rust), "{yaml}: {said}");
            }
        }
    }

    #[test]
    fn unknown_twice_written_and_misshapen_files_are_refused() {
        let said = error("listen: 0.0.0.0:1\ncritcal_version: 20180101\n");
        assert!(
            said.starts_with("unknown field `critcal_version`"),
            "{said}"
        );
        assert!(
            said.contains("critical_version") && said.ends_with("(line 2)"),
            "{said}"
        );
        assert_eq!(
            error("listen: 0.0.0.0:1\nlisten: 0.0.0.0:2\n"),
            "listen is written twice; keep one (line 2)"
        );
        assert!(error("- listen\n").contains("must be lines of key: value"));
        assert!(error("just text\n").contains("got \"just text\""));
        // A key with control characters is not echoed raw into a terminal or a log.
        let said = error("\"crit\\e[31mical\": 1\n");
        assert!(
            said.starts_with("unknown field `crit\\u{1b}[31mical`"),
            "{said}"
        );
        assert!(!said.contains('\u{1b}'), "{said}");
        // A tagged value is named, not a serde word.
        assert_eq!(
            error("listen: !vault x\n"),
            "listen must be an address like 0.0.0.0:8888; got a value tagged !vault (line 1)"
        );
        // Broken YAML keeps the parser's own account of where.
        assert!(error("settle_ms: [\n").contains("line 2"));
    }

    #[test]
    fn null_is_absent_except_where_it_means_off() {
        let file = parse_file("listen: ~\nsettle_ms:\nadmin_listen: null\nadmin_token:\n").unwrap();
        assert_eq!(file.given.get(&settings::LISTEN), None);
        assert_eq!(file.given.get(&settings::SETTLE_MS), None);
        assert_eq!(file.given.get(&settings::ADMIN_LISTEN), Some(&Given::Null));
        assert_eq!(file.given.get(&settings::ADMIN_TOKEN), Some(&Given::Null));
        assert_eq!(parse_file("~\n").unwrap(), FileConfig::default());
    }

    /// `operators:` entries are read with their keys; a refusal names the entry and
    /// carries the line.
    #[test]
    fn operators_are_read_entry_by_entry() {
        let hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
        let file = parse_file(&format!(
            "operators:\n  - {{name: \"Иванов\", token_sha256: \"{hash}\", role: admin}}\n  - name: Ромашка ИТ\n    token_sha256: {hash_upper}\n    role: viewer\n    groups: [\"ООО Ромашка\"]\n",
            hash_upper = hash.to_ascii_uppercase().replace('5', "6"),
        ))
        .unwrap();
        let list = file.given.operators(&settings::OPERATORS).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].name, "Ромашка ИТ");
        assert_eq!(
            list[1].groups.as_deref(),
            Some(&["ООО Ромашка".to_string()][..])
        );
        let said = error(&format!(
            "settle_ms: 0\noperators:\n  - {{name: a, token_sha256: \"{hash}\", role: root}}\n"
        ));
        assert_eq!(
            said,
            "operators, entry 1 (\"a\"): role must be viewer, publisher or admin; got \"root\" (line 3)"
        );
    }

    #[test]
    fn numbers_and_true_written_where_text_belongs_are_that_text() {
        let file = parse_file("admin_token: 1234567890123456\npublic_url: true\n").unwrap();
        assert_eq!(
            file.given.get(&settings::ADMIN_TOKEN),
            Some(&Given::Text("1234567890123456".into()))
        );
        assert_eq!(
            file.given.get(&settings::PUBLIC_URL),
            Some(&Given::Text("true".into()))
        );
    }
}
