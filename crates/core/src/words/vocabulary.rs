//! The model's own refusals said from the tables: a file that is not UTF-8 text, an
//! address list (`pilot`, `trusted_proxies`) with an entry that is no address, and a YAML
//! text nested too deep to be read. The model is
//! below the words, so its types' sentences are made here, in either language; `Display`
//! is the English.

use std::fmt;

use crate::model::ip_networks::NetworkError;
use crate::model::lang::{fill, InLanguage};
use crate::model::text_file::NotUtf8;
use crate::model::yaml_nesting::{NestedTooDeep, Nesting, MAX_BLOCK_DEPTH, MAX_FLOW_DEPTH};
use crate::words::{FromTable, Words};

impl FromTable for NotUtf8 {
    fn said(&self, words: &'static Words) -> String {
        fill(
            words.scan.not_utf8,
            &[("what", &self.what), ("line", &self.line)],
        )
    }
}

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for NotUtf8 {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl FromTable for NetworkError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.rollout;
        match self {
            NetworkError::NotAnAddress { key, entry } => fill(
                t.net_not_address,
                &[("key", key), ("entry", &format!("{entry:?}"))],
            ),
            NetworkError::BadPrefix { key, entry, max } => fill(
                t.net_bad_prefix,
                &[("key", key), ("entry", &format!("{entry:?}")), ("max", max)],
            ),
            NetworkError::TooMany { key } => fill(
                t.net_too_many,
                &[
                    ("key", key),
                    ("max", &crate::model::ip_networks::MAX_ENTRIES),
                ],
            ),
        }
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for NetworkError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl FromTable for NestedTooDeep {
    fn said(&self, words: &'static Words) -> String {
        let (sentence, max) = match self.nesting {
            Nesting::Brackets => (words.scan.yaml_too_deep, MAX_FLOW_DEPTH),
            Nesting::Indentation => (words.scan.yaml_too_deep_indented, MAX_BLOCK_DEPTH),
        };
        fill(sentence, &[("line", &self.line), ("max", &max)])
    }
}

impl fmt::Display for NestedTooDeep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for NestedTooDeep {
    fn in_russian(&self) -> String {
        self.russian()
    }
}
