//! The values one source gave, by setting: the command line with the environment, or the
//! file. `Config::resolve` lays the first over the second over each setting's default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::operators::OperatorEntry;
use crate::config::settings::Setting;

/// One value as given, already of its setting's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Text(String),
    Path(PathBuf),
    Paths(Vec<PathBuf>),
    Texts(Vec<String>),
    Number(u64),
    Bool(bool),
    /// `null` for a setting where it means something (`admin_listen: null`).
    Null,
    /// `operators:`, checked.
    Operators(Vec<OperatorEntry>),
}

/// What one source gave; a setting it did not mention is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layer {
    values: BTreeMap<&'static str, Given>,
}

impl Layer {
    pub fn set(&mut self, setting: &Setting, value: Given) {
        self.values.insert(setting.key, value);
    }

    pub fn get(&self, setting: &Setting) -> Option<&Given> {
        self.values.get(setting.key)
    }

    pub fn contains(&self, setting: &Setting) -> bool {
        self.values.contains_key(setting.key)
    }

    /// Text (and text-like) values; `Some(None)` for `null`.
    pub fn text(&self, setting: &Setting) -> Option<Option<String>> {
        match self.get(setting)? {
            Given::Text(text) => Some(Some(text.clone())),
            Given::Null => Some(None),
            _ => None,
        }
    }

    pub fn path(&self, setting: &Setting) -> Option<PathBuf> {
        match self.get(setting)? {
            Given::Path(path) => Some(path.clone()),
            _ => None,
        }
    }

    pub fn paths(&self, setting: &Setting) -> Option<Vec<PathBuf>> {
        match self.get(setting)? {
            Given::Paths(paths) => Some(paths.clone()),
            _ => None,
        }
    }

    pub fn texts(&self, setting: &Setting) -> Option<Vec<String>> {
        match self.get(setting)? {
            Given::Texts(texts) => Some(texts.clone()),
            _ => None,
        }
    }

    pub fn number(&self, setting: &Setting) -> Option<u64> {
        match self.get(setting)? {
            Given::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn operators(&self, setting: &Setting) -> Option<Vec<OperatorEntry>> {
        match self.get(setting)? {
            Given::Operators(list) => Some(list.clone()),
            _ => None,
        }
    }

    pub fn bool(&self, setting: &Setting) -> Option<bool> {
        match self.get(setting)? {
            Given::Bool(b) => Some(*b),
            _ => None,
        }
    }
}
