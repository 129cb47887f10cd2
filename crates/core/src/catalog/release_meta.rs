//! `meta.yaml` in a release folder: the description devices show, whether the release is
//! critical, optional SHA-256 pins that hold the release back until its files match, an
//! optional staged rollout, and whether it is a floor of its line's upgrade path.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::catalog::yaml_refusal::{Section, YamlRefusal};
use crate::model::did_you_mean::fields_of;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::one_line::escaped;
use crate::model::version::Version;
use crate::model::yaml_nesting::{refuse_deep_nesting, NestedTooDeep};
use crate::rollout::rules::{RawRollout, Rollout, RolloutError};
use crate::words::cli::OperatorText;
use crate::words::{FromTable, Words};

/// The two files every release folder must hold.
pub const FIRMWARE_FILES: [&str; 2] = ["upd_app.bin", "upd_app_for_old_frs.bin"];

/// The largest firmware file a release may hold: real firmware is about 0.5 MB, so this
/// only stops a wrong file (a disk image copied by mistake) from being read into memory.
/// `publish` and the server's scan both hold to it.
pub const FIRMWARE_FILE_MAX: u64 = 64 * 1024 * 1024;
/// The largest `meta.yaml` or `line.yaml`: a few lines of text.
pub const META_FILE_MAX: u64 = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    description: Option<String>,
    critical: Option<bool>,
    sha256: Option<BTreeMap<String, String>>,
    rollout: Option<RawRollout>,
    /// Read as any YAML value, so that `floor: yes please` is refused in our words (key,
    /// value, expected form) rather than the YAML parser's.
    floor: Option<serde_yaml::Value>,
    /// Who published it: the OS user the `publish` command ran as (the audit trail's actor
    /// for a release that appears on disk).
    published_by: Option<String>,
}

/// The parser's refusal of `text`, with the unknown key the document (or its `rollout:`)
/// holds and the known key nearest to it.
fn yaml_refusal(error: &serde_yaml::Error, text: &str) -> YamlRefusal {
    let doc = match serde_yaml::from_str(text) {
        Ok(serde_yaml::Value::Mapping(doc)) => doc,
        _ => serde_yaml::Mapping::new(),
    };
    let mut sections = vec![Section {
        prefix: "",
        mapping: &doc,
        known: fields_of::<RawMeta>(),
    }];
    if let Some(serde_yaml::Value::Mapping(rollout)) = doc.get("rollout") {
        sections.push(Section {
            prefix: "rollout.",
            mapping: rollout,
            known: fields_of::<RawRollout>(),
        });
    }
    YamlRefusal::new(error, &sections)
}

/// Why a `meta.yaml` was refused; Display says it as `check` and the scan's log show it.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaError {
    /// Not YAML, or not the form: the YAML parser's message, with its line when it has one,
    /// and the unknown key the document holds.
    Yaml(YamlRefusal),
    /// Nested too deep to be given to the YAML parser.
    TooDeep(NestedTooDeep),
    /// `sha256:` names a file that is not one of `FIRMWARE_FILES`.
    UnknownFile(String),
    /// The pin of the file named is not 64 hex digits.
    BadPin {
        file: String,
        pin: String,
    },
    Rollout(RolloutError),
    /// `floor:` is not `true` or `false`; the value as written (YAML, cut short).
    Floor(String),
}

/// Ours from the tables; the YAML parser's own message stays as it gives it.
impl FromTable for MetaError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.scan;
        match self {
            MetaError::Yaml(refusal) => refusal.said(words),
            MetaError::TooDeep(e) => e.said(words),
            MetaError::UnknownFile(name) => {
                fill(t.meta_unknown_file, &[("name", &format!("{name:?}"))])
            }
            MetaError::BadPin { file, pin } => fill(
                t.meta_bad_pin,
                &[("file", file), ("pin", &format!("{pin:?}"))],
            ),
            MetaError::Rollout(e) => e.in_language(words.lang),
            MetaError::Floor(shown) => floor_error(shown, words.lang),
        }
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl std::error::Error for MetaError {}

/// The floor's refusal from the operator's table of `lang`.
fn floor_error(shown: &str, lang: Lang) -> String {
    fill(
        OperatorText::of(lang).meta_floor_not_bool,
        &[("value", &shown)],
    )
}

impl InLanguage for MetaError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

/// `floor:` as written: a YAML boolean, or nothing (not a floor).
fn parse_floor(value: Option<&serde_yaml::Value>) -> Result<bool, MetaError> {
    match value {
        None | Some(serde_yaml::Value::Null) => Ok(false),
        Some(serde_yaml::Value::Bool(floor)) => Ok(*floor),
        Some(other) => {
            let shown = serde_yaml::to_string(other)
                .map(|s| escaped(s.trim()).into_owned())
                .unwrap_or_default();
            // A value is quoted back on one line, never a whole document pasted into a log.
            let shown = match shown.char_indices().nth(40) {
                Some((cut, _)) => format!("{}…", &shown[..cut]),
                None => shown,
            };
            Err(MetaError::Floor(shown))
        }
    }
}

/// A checked `meta.yaml`, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseMeta {
    pub description: String,
    pub critical: bool,
    /// Lowercase hex SHA-256 per firmware file, in the order of `FIRMWARE_FILES`.
    pub sha256: [Option<[u8; 32]>; 2],
    /// Staged rollout; none: everyone is admitted.
    pub rollout: Option<Rollout>,
    /// `floor: true`: devices of the line built before this release must install it
    /// before anything newer.
    pub floor: bool,
    /// `published_by:`, as written (the audit trail bounds and escapes it).
    pub published_by: Option<String>,
}

impl ReleaseMeta {
    /// The meta of a folder without `meta.yaml`.
    pub fn defaults(version: Version) -> ReleaseMeta {
        ReleaseMeta {
            description: format!("firmware {version}"),
            critical: false,
            sha256: [None, None],
            rollout: None,
            floor: false,
            published_by: None,
        }
    }

    /// Parses `meta.yaml`; the error names the line when the YAML parser knows it.
    pub fn parse(version: Version, text: &str) -> Result<ReleaseMeta, MetaError> {
        let raw: RawMeta = if text.trim().is_empty() {
            RawMeta::default()
        } else {
            refuse_deep_nesting(text).map_err(MetaError::TooDeep)?;
            serde_yaml::from_str::<Option<RawMeta>>(text)
                .map_err(|e| MetaError::Yaml(yaml_refusal(&e, text)))?
                .unwrap_or_default()
        };
        let mut sha256 = [None, None];
        for (name, hex) in raw.sha256.unwrap_or_default() {
            let Some(slot) = FIRMWARE_FILES.iter().position(|f| *f == name) else {
                return Err(MetaError::UnknownFile(name));
            };
            let Some(pin) = parse_sha256(&hex) else {
                return Err(MetaError::BadPin {
                    file: name,
                    pin: hex,
                });
            };
            sha256[slot] = Some(pin);
        }
        let description = raw
            .description
            .unwrap_or_else(|| format!("firmware {version}"));
        let rollout = raw
            .rollout
            .map(Rollout::from_raw)
            .transpose()
            .map_err(MetaError::Rollout)?;
        let floor = parse_floor(raw.floor.as_ref())?;
        Ok(ReleaseMeta {
            description,
            critical: raw.critical.unwrap_or(false),
            sha256,
            rollout,
            floor,
            published_by: raw.published_by.filter(|name| !name.trim().is_empty()),
        })
    }

    /// Whether any file is pinned by hash (such a release skips the settle wait).
    pub fn is_pinned(&self) -> bool {
        self.sha256.iter().any(Option::is_some)
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lowercase hex of a digest, as `sha256sum` prints it.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Version {
        Version::from_yyyymmdd(20180125).unwrap()
    }

    #[test]
    fn defaults_fill_in() {
        assert_eq!(
            ReleaseMeta::parse(v(), "").unwrap(),
            ReleaseMeta::defaults(v())
        );
        assert_eq!(
            ReleaseMeta::parse(v(), "critical: true\n")
                .unwrap()
                .description,
            "firmware 20180125"
        );
        let meta = ReleaseMeta::parse(v(), "description: \"Исправлена ошибка\"\ncritical: true\n")
            .unwrap();
        assert_eq!(meta.description, "Исправлена ошибка");
        assert!(meta.critical && !meta.is_pinned());
    }

    #[test]
    fn hashes_are_checked() {
        let hash = "AB".repeat(32);
        let meta = ReleaseMeta::parse(
            v(),
            &format!("sha256:\n  upd_app_for_old_frs.bin: {hash}\n"),
        )
        .unwrap();
        assert_eq!(meta.sha256, [None, Some([0xab; 32])]);
        assert!(meta.is_pinned());
        let error = ReleaseMeta::parse(v(), "sha256:\n  upd_app.bn: 00\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown file \"upd_app.bn\""), "{error}");
        let error = ReleaseMeta::parse(v(), "sha256:\n  upd_app.bin: 00\n")
            .unwrap_err()
            .to_string();
        assert_eq!(error, "sha256 of upd_app.bin: \"00\" is not 64 hex digits");
        let error = ReleaseMeta::parse(v(), "sha256:\n  upd_app.bn: 00\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "sha256: unknown file \"upd_app.bn\" (expected upd_app.bin, upd_app_for_old_frs.bin)"
        );
    }

    #[test]
    fn typos_and_wrong_types_are_errors() {
        let error = ReleaseMeta::parse(v(), "critcal: true\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `critcal`"), "{error}");
        assert!(error.contains("line 1"), "{error}");
        assert!(error.ends_with("did you mean `critical`?"), "{error}");
        let error = ReleaseMeta::parse(v(), "rollout:\n  percnt: 10\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("did you mean `percent`?"), "{error}");
        let error = ReleaseMeta::parse(v(), "description: ok\ncritical: yes please\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("critical"), "{error}");
    }

    #[test]
    fn a_rollout_is_read_and_its_errors_named() {
        let meta = ReleaseMeta::parse(v(), "rollout:\n  percent: 10\n  paused: true\n").unwrap();
        let rollout = meta.rollout.unwrap();
        assert_eq!((rollout.percent, rollout.paused), (10, true));
        let error = ReleaseMeta::parse(v(), "rollout:\n  percent: 300\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("rollout.percent: 300"), "{error}");
    }

    #[test]
    fn published_by_is_read_and_an_empty_one_is_none() {
        let meta = ReleaseMeta::parse(v(), "published_by: ivanov\n").unwrap();
        assert_eq!(meta.published_by.as_deref(), Some("ivanov"));
        assert_eq!(
            ReleaseMeta::parse(v(), "published_by: \"\"\n")
                .unwrap()
                .published_by,
            None
        );
        assert_eq!(ReleaseMeta::parse(v(), "").unwrap().published_by, None);
    }

    #[test]
    fn a_floor_is_true_or_false_and_anything_else_is_named_in_both_languages() {
        assert!(ReleaseMeta::parse(v(), "floor: true\n").unwrap().floor);
        assert!(!ReleaseMeta::parse(v(), "floor: false\n").unwrap().floor);
        assert!(!ReleaseMeta::parse(v(), "floor:\n").unwrap().floor);
        assert!(!ReleaseMeta::parse(v(), "").unwrap().floor);
        let error = ReleaseMeta::parse(v(), "floor: yes please\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "floor: yes please is not true or false (expected floor: true to make devices \
             built before this release install it before anything newer)"
        );
        let russian = error.in_russian();
        assert!(
            russian.starts_with("floor: yes please — не true и не false (ожидается floor: true"),
            "{russian}"
        );
        let error = ReleaseMeta::parse(v(), &format!("floor: [{}]\n", "1, ".repeat(500)))
            .unwrap_err()
            .to_string();
        assert!(error.len() < 200, "{error}");
        let error = ReleaseMeta::parse(v(), "floor: \"no\\nfloor: true\"\n")
            .unwrap_err()
            .to_string();
        assert!(!error.contains('\n'), "{error}");
        let error = ReleaseMeta::parse(v(), "flor: true\n")
            .unwrap_err()
            .to_string();
        assert!(error.ends_with("did you mean `floor`?"), "{error}");
    }

    /// A number of the wrong sign or kind in the rollout's keys (the stage keys above all)
    /// is refused naming the form expected, never a Rust type (`u64`, `i64`, `f64`).
    #[test]
    fn a_number_of_the_wrong_kind_is_refused_without_a_type_name() {
        for (meta, expected) in [
            (
                "rollout:\n  stages: [{percent: 5, min_updated: -1}]\n",
                "rollout.stages[0].min_updated: invalid type: integer `-1`, expected a whole \
                 number from 0 up at line 2",
            ),
            (
                "rollout:\n  stages: [{percent: 5}]\n  stage: 1.5\n",
                "rollout.stage: invalid type: floating point `1.5`, expected a whole number at \
                 line 3",
            ),
            (
                "rollout:\n  stages: [{percent: \"five\"}]\n",
                "rollout.stages[0].percent: invalid type: string \"five\", expected a number",
            ),
            (
                "rollout:\n  stages: [{percent: 5}]\n  max_new_per_hour: 5\n  \
                 max_new_per_hour_limit: -3\n",
                "expected a whole number from 0 up",
            ),
            (
                "rollout:\n  max_new_per_hour: -1\n",
                "expected a whole number from 0 up",
            ),
        ] {
            let error = ReleaseMeta::parse(v(), meta).unwrap_err().to_string();
            assert!(error.contains(expected), "{meta}: {error}");
            for rust in ["u64", "i64", "f64"] {
                assert!(!error.contains(rust), "{meta}: {error}");
            }
        }
    }
}
