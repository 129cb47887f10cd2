//! `line.yaml`, which makes a folder of `firmware_dir` a firmware line (C.1 = FFD 1.05,
//! C.3 = FFD 1.2, ...): its description, the build dates its devices may report besides its
//! release dates, and an optional critical version for this line only.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;

use crate::catalog::yaml_refusal::{Section, YamlRefusal};
use crate::model::did_you_mean::fields_of;
use crate::model::lang::{fill, InLanguage};
use crate::model::version::Version;
use crate::model::yaml_nesting::{refuse_deep_nesting, NestedTooDeep};
use crate::words::{FromTable, Words};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLineMeta {
    description: Option<String>,
    known_builds: Option<Vec<serde_yaml::Value>>,
    critical_version: Option<serde_yaml::Value>,
}

/// The parser's refusal of `text`, with the unknown key the document holds and the known
/// key nearest to it.
fn yaml_refusal(error: &serde_yaml::Error, text: &str) -> YamlRefusal {
    let doc = match serde_yaml::from_str(text) {
        Ok(serde_yaml::Value::Mapping(doc)) => doc,
        _ => serde_yaml::Mapping::new(),
    };
    let section = Section {
        prefix: "",
        mapping: &doc,
        known: fields_of::<RawLineMeta>(),
    };
    YamlRefusal::new(error, &[section])
}

/// Why a `line.yaml` was refused; Display says it as `check` and the scan's log show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineMetaError {
    /// Not YAML, or not the form: the YAML parser's message, with its line when it has one,
    /// and the unknown key the document holds.
    Yaml(YamlRefusal),
    /// Nested too deep to be given to the YAML parser.
    TooDeep(NestedTooDeep),
    /// The value of `key`, shown as YAML, is not a real date.
    NotADate { key: &'static str, shown: String },
}

/// The YAML parser's own message stays as it gives it; ours are from the tables.
impl FromTable for LineMetaError {
    fn said(&self, words: &'static Words) -> String {
        match self {
            LineMetaError::Yaml(refusal) => refusal.said(words),
            LineMetaError::TooDeep(e) => e.said(words),
            LineMetaError::NotADate { key, shown } => fill(
                words.scan.line_not_a_date,
                &[("key", key), ("shown", shown)],
            ),
        }
    }
}

impl fmt::Display for LineMetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for LineMetaError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for LineMetaError {}

/// A checked `line.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMeta {
    pub description: String,
    pub known_builds: BTreeSet<Version>,
    pub critical_version: Option<Version>,
}

impl LineMeta {
    /// Parses `line.yaml` of the line named `name`; errors name the key and the value.
    pub fn parse(name: &str, text: &str) -> Result<LineMeta, LineMetaError> {
        let raw: RawLineMeta = if text.trim().is_empty() {
            RawLineMeta::default()
        } else {
            refuse_deep_nesting(text).map_err(LineMetaError::TooDeep)?;
            serde_yaml::from_str::<Option<RawLineMeta>>(text)
                .map_err(|e| LineMetaError::Yaml(yaml_refusal(&e, text)))?
                .unwrap_or_default()
        };
        let mut known_builds = BTreeSet::new();
        for value in raw.known_builds.unwrap_or_default() {
            known_builds.insert(date("known_builds", &value)?);
        }
        let critical_version = raw
            .critical_version
            .as_ref()
            .map(|v| date("critical_version", v))
            .transpose()?;
        Ok(LineMeta {
            description: raw.description.unwrap_or_else(|| format!("line {name}")),
            known_builds,
            critical_version,
        })
    }
}

/// A date written `yyyymmdd` (a number or a string) or `D.M.YYYY` (as devices send it).
fn date(key: &'static str, value: &serde_yaml::Value) -> Result<Version, LineMetaError> {
    let parsed = match value {
        serde_yaml::Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .and_then(Version::from_yyyymmdd),
        serde_yaml::Value::String(s) => {
            Version::parse_folder_name(s.trim()).or_else(|| Version::parse_build_date(s.trim()))
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        let shown = serde_yaml::to_string(value)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        LineMetaError::NotADate { key, shown }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_example_parses() {
        let meta = LineMeta::parse(
            "C.3",
            "description: \"ШТРИХ-М-01Ф, ФФД 1.2\"\nknown_builds: [20221228, \"15.9.2022\"]\ncritical_version: 20221228\n",
        )
        .unwrap();
        assert_eq!(meta.description, "ШТРИХ-М-01Ф, ФФД 1.2");
        let builds: Vec<u32> = meta.known_builds.iter().map(|v| v.as_u32()).collect();
        assert_eq!(builds, [20220915, 20221228]);
        assert_eq!(meta.critical_version.map(|v| v.as_u32()), Some(20221228));
        assert_eq!(LineMeta::parse("C.1", "").unwrap().description, "line C.1");
    }

    #[test]
    fn typos_are_errors_in_plain_words() {
        let error = LineMeta::parse("C.3", "known_build: [20221228]\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `known_build`"), "{error}");
        assert!(error.contains("line 1"), "{error}");
        assert!(error.ends_with("did you mean `known_builds`?"), "{error}");
        let error = LineMeta::parse("C.3", "critcal_version: 20250101\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("did you mean `critical_version`?"),
            "{error}"
        );
        let error = LineMeta::parse("C.3", "known_builds: [20221328]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "known_builds: 20221328 is not a real date (expected yyyymmdd like 20221228)"
        );
        let error = LineMeta::parse("C.3", "critical_version: soon\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("critical_version: soon is not a real date"),
            "{error}"
        );
    }
}
