//! Every word an operator reads, in one home: `ru.rs` and `en.rs` each hold one
//! language's whole table, and the sibling modules define its parts by where they are
//! read: the command line and the log's summary lines (`cli`), the log lines an operator
//! acts on (`log`), the configuration's refusals (`config`), the dashboard (`dashboard`)
//! and the other pages (`pages`). A translator reads one file; a new sentence is one field
//! here and one line in each language's file (the compiler refuses a table missing it).
//! Placeholders in braces are filled by `model::lang::fill`; what devices receive never
//! comes from here.
//!
//! A refusal says each sentence once per language, in the table: its type's one match picks
//! the template and the values (`FromTable::said`); its `Display` is the English table's
//! (what tests and scripts read) and its Russian the Russian table's. A
//! sentence made before anyone knows who reads it (a configuration error, made before the
//! configuration says its language) is a `Said`: both languages at once, picked when
//! printed (`chain_in`).

pub mod cli;
pub mod config;
pub mod dashboard;
pub mod en;
pub mod groups;
pub mod log;
pub mod pages;
pub mod ru;
pub mod scan;
pub mod vocabulary;
pub mod watch;

use std::error::Error;

use crate::model::lang::Lang;

/// One language's words, every part of them.
#[derive(Debug)]
pub struct Words {
    pub lang: Lang,
    pub operator: &'static cli::OperatorText,
    pub dashboard: &'static dashboard::Text,
    pub pages: &'static pages::PageText,
    pub log: &'static log::LogText,
    pub config: &'static config::ConfigText,
    // The scan's reasons and the rollout's refusals (kept at the end).
    pub scan: &'static scan::ScanText,
    pub rollout: &'static scan::RolloutText,
    pub watch: &'static watch::WatchText,
    // groups: device groups (`groups.yaml`).
    pub groups: &'static groups::GroupsText,
}

impl Words {
    /// The table of a language.
    pub fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::Ru => &ru::WORDS,
            Lang::En => &en::WORDS,
        }
    }
}

/// A refusal or report whose sentence comes from the table: one match picks the template
/// and its values, for either language. Its `Display` writes `english()` and its
/// `InLanguage::in_russian` is `russian()` (two one-line impls beside the type).
pub trait FromTable {
    /// The sentence in the language of `words`.
    fn said(&self, words: &'static Words) -> String;

    fn english(&self) -> String {
        self.said(Words::of(Lang::En))
    }

    fn russian(&self) -> String {
        self.said(Words::of(Lang::Ru))
    }
}

pub use crate::model::said::Said;

/// `Said` is the model's (a `Problem` carries one); made here, from the tables.
impl Said {
    /// The sentence `say` makes from each language's table.
    pub fn new(say: impl Fn(&'static Words) -> String) -> Said {
        Said::pair(say(Words::of(Lang::En)), say(Words::of(Lang::Ru)))
    }
}

/// An error and its causes, joined by ": " as `{:#}` joins them, in `lang`: each `Said` in
/// its language (also one carried inside an `io::Error`), every other cause (the operating
/// system's, a library's) as it gives it.
pub fn chain_in(error: &(dyn Error + 'static), lang: Lang) -> String {
    let mut parts = vec![one_in(error, lang)];
    let mut next = error.source();
    while let Some(cause) = next {
        parts.push(one_in(cause, lang));
        next = cause.source();
    }
    parts.join(": ")
}

/// An `io::Error` in `lang`: ours (made with a `Said` inside) translated, the operating
/// system's as it gives it.
pub fn cause_in(error: &std::io::Error, lang: Lang) -> String {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Said>())
    {
        Some(said) => said.in_language(lang).to_string(),
        None => error.to_string(),
    }
}

fn one_in(error: &(dyn Error + 'static), lang: Lang) -> String {
    if let Some(said) = error.downcast_ref::<Said>() {
        return said.in_language(lang).to_string();
    }
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        return cause_in(io, lang);
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// Every text of a table, keyed by where it is: the field names down to it (and its
    /// place in a list), read from the table's `{:#?}` (one value per line, indented by
    /// depth), so a field added to a structure is covered without naming it here.
    fn texts(table: &Words) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut path: Vec<String> = Vec::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for line in format!("{table:#?}").lines() {
            let depth = (line.len() - line.trim_start().len()) / 4;
            path.truncate(depth);
            let item = line.trim().trim_end_matches(',');
            if matches!(item, ")" | "]" | "}") {
                continue;
            }
            let (name, value) = match item.split_once(": ") {
                Some((name, value)) if !name.starts_with('"') => (Some(name), value),
                _ if depth == 0 => (Some(item.trim_end_matches(" {")), item),
                _ => (None, item),
            };
            let here = path.join(".");
            let key = match name {
                Some(name) => format!("{here}.{name}"),
                None => {
                    let n = counts.entry(here.clone()).or_default();
                    *n += 1;
                    format!("{here}#{n}")
                }
            };
            if let Some(text) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                out.insert(key.clone(), text.to_string());
            }
            if let Some(name) = name {
                path.resize(depth, String::new());
                path.push(name.to_string());
            } else if value.ends_with(['[', '(', '{']) {
                path.resize(depth, String::new());
                path.push(key.rsplit('.').next().unwrap_or_default().to_string());
            }
        }
        out
    }

    /// The `{name}` placeholders of a template.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect()
    }

    /// Both tables hold a non-empty text in every field, and every placeholder a sentence
    /// fills in one language it fills in the other: a translation can never drop the
    /// value (the folder, the version) the operator needs.
    #[test]
    fn both_tables_are_complete_and_keep_every_placeholder() {
        let ru = texts(Words::of(Lang::Ru));
        let en = texts(Words::of(Lang::En));
        for (key, text) in ru.iter().chain(&en) {
            assert!(!text.trim().is_empty(), "{key} is empty");
        }
        for (key, ru_text) in &ru {
            match en.get(key) {
                Some(en_text) => assert_eq!(
                    placeholders(ru_text),
                    placeholders(en_text),
                    "{key}: «{ru_text}» / «{en_text}»"
                ),
                // English forms are each setting's own, beside its definition.
                None => assert!(key.contains(".forms"), "{key} is only in Russian"),
            }
        }
        for key in en.keys() {
            assert!(ru.contains_key(key), "{key} is only in English");
        }
        assert!(
            ru.len() > 300,
            "{} texts: the reading missed some",
            ru.len()
        );
        for key in [
            "Words.log.listening",
            "Words.config.units.units#1#2",
            "Words.dashboard.pages.why_offered",
            "Words.operator.withdrew",
        ] {
            assert!(ru.contains_key(key), "{key} not read: {:?}", ru.keys());
        }
    }

    /// The reading of the tables sees a placeholder dropped from a translation.
    #[test]
    fn a_dropped_placeholder_is_seen() {
        assert_eq!(
            placeholders("release {version} in {dir}"),
            BTreeSet::from(["version", "dir"])
        );
        assert_ne!(
            placeholders("релиз {version}"),
            placeholders("release {version} in {dir}")
        );
        assert!(placeholders("{\"json\": 1}").is_empty());
    }

    #[test]
    fn said_keeps_both_languages_and_a_chain_reads_in_one() {
        let said = Said::new(|w| w.config.a_list.to_string());
        assert_eq!(said.to_string(), "a list");
        assert_eq!(said.in_language(Lang::Ru), "список");
        let inner = std::io::Error::other(Said::new(|w| w.config.a_list.to_string()));
        assert_eq!(cause_in(&inner, Lang::Ru), "список");
        let os = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(cause_in(&os, Lang::Ru), os.to_string());
    }
}
