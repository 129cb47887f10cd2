//! The `meta.yaml` a publish writes: the source's own `meta.yaml` (if any) with the
//! command's choices laid over it (description, critical, floor, rollout percent and
//! pilots), and
//! always the SHA-256 pins of the two files, so the server publishes it the moment the
//! files match and never a byte sooner. The text is checked by the server's own parser
//! before anything is written.

use serde_yaml::{Mapping, Value};
use sha2::{Digest, Sha256};

use crate::catalog::release_meta::{to_hex, MetaError, ReleaseMeta, FIRMWARE_FILES};
use crate::model::lang::InLanguage;
use crate::model::problem::yaml_message;
use crate::model::version::Version;

/// Why no `meta.yaml` could be written for the release.
#[derive(Debug, thiserror::Error)]
pub enum MetaTextError {
    /// The source's own `meta.yaml` fails the server's parser (`0` says why).
    #[error("the source's meta.yaml: {0}")]
    SourceMeta(MetaError),
    /// The source's own `meta.yaml` is not YAML (`0` says where and why, in words).
    #[error("{0}")]
    NotYaml(String),
    #[error("cannot write meta.yaml: {0}")]
    Write(serde_yaml::Error),
    /// The text written fails the server's parser (a choice made it invalid; `0` says why).
    #[error("{0}")]
    Invalid(MetaError),
}

/// What the command line says about the release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaChoices {
    pub description: Option<String>,
    /// `--critical` given.
    pub critical: bool,
    /// `--floor` given.
    pub floor: bool,
    pub rollout_percent: Option<u8>,
    pub pilot: Vec<String>,
    /// Who publishes: written as `published_by:` (the audit trail's actor when the server
    /// sees the release appear). The command gives its OS user; an upload, its operator.
    pub published_by: Option<String>,
}

/// The text of `meta.yaml`, and the checked meta it parses to.
pub fn meta_text(
    version: Version,
    source_meta: Option<&str>,
    choices: &MetaChoices,
    files: &[Vec<u8>; 2],
) -> Result<(String, ReleaseMeta), MetaTextError> {
    let mut map = match source_meta {
        None => Mapping::new(),
        Some(text) => {
            // The source's meta.yaml must itself be valid: a typo in it would otherwise be
            // published (and the release kept out by the server).
            ReleaseMeta::parse(version, text).map_err(MetaTextError::SourceMeta)?;
            match serde_yaml::from_str::<Value>(text)
                .map_err(|e| MetaTextError::NotYaml(yaml_message(&e)))?
            {
                Value::Mapping(map) => map,
                _ => Mapping::new(),
            }
        }
    };
    let key = |k: &str| Value::String(k.to_string());
    if let Some(description) = &choices.description {
        map.insert(key("description"), Value::String(description.clone()));
    }
    if !map.contains_key(key("description")) {
        map.insert(
            key("description"),
            Value::String(format!("firmware {version}")),
        );
    }
    if choices.critical {
        map.insert(key("critical"), Value::Bool(true));
    }
    if choices.floor {
        map.insert(key("floor"), Value::Bool(true));
    }
    if let Some(who) = &choices.published_by {
        map.insert(key("published_by"), Value::String(who.clone()));
    }
    let mut pins = Mapping::new();
    for (name, bytes) in FIRMWARE_FILES.iter().zip(files) {
        pins.insert(key(name), Value::String(to_hex(&Sha256::digest(bytes))));
    }
    map.insert(key("sha256"), Value::Mapping(pins));
    if choices.rollout_percent.is_some() || !choices.pilot.is_empty() {
        let mut rollout = match map.remove(key("rollout")) {
            Some(Value::Mapping(existing)) => existing,
            _ => Mapping::new(),
        };
        if let Some(percent) = choices.rollout_percent {
            rollout.insert(key("percent"), Value::Number(u64::from(percent).into()));
        }
        if !choices.pilot.is_empty() {
            let pilots = choices.pilot.iter().cloned().map(Value::String).collect();
            rollout.insert(key("pilot"), Value::Sequence(pilots));
        }
        map.insert(key("rollout"), Value::Mapping(rollout));
    }
    let text = serde_yaml::to_string(&Value::Mapping(map)).map_err(MetaTextError::Write)?;
    let text = format!("# written by kkt-update-server publish\n{text}");
    let meta = ReleaseMeta::parse(version, &text).map_err(MetaTextError::Invalid)?;
    Ok((text, meta))
}

/// In Russian the frame of the sentence; what the release's `meta.yaml` parser says of it
/// stays in English (it names keys and forms as written in the file).
impl InLanguage for MetaTextError {
    fn in_russian(&self) -> String {
        match self {
            MetaTextError::SourceMeta(error) => {
                format!("meta.yaml источника: {}", error.in_russian())
            }
            MetaTextError::NotYaml(why) => why.clone(),
            MetaTextError::Write(error) => format!("не удалось записать meta.yaml: {error}"),
            MetaTextError::Invalid(error) => error.in_russian(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Version {
        Version::from_yyyymmdd(20250301).unwrap()
    }

    fn files() -> [Vec<u8>; 2] {
        [b"new".to_vec(), b"old".to_vec()]
    }

    #[test]
    fn pins_always_and_choices_over_the_sources_meta() {
        let choices = MetaChoices {
            description: Some("Плановое обновление".into()),
            critical: true,
            floor: true,
            rollout_percent: Some(10),
            pilot: vec!["10.20.0.0/16".into()],
            published_by: Some("иванов".into()),
        };
        let source =
            "description: old\npublished_by: someone else\nrollout:\n  window: \"22:00-06:00\"\n";
        let (text, meta) = meta_text(v(), Some(source), &choices, &files()).unwrap();
        assert_eq!(meta.description, "Плановое обновление");
        assert!(meta.critical && meta.floor);
        assert_eq!(meta.published_by.as_deref(), Some("иванов"));
        assert!(text.contains("\nfloor: true\n"), "{text}");
        assert_eq!(meta.sha256[0], Some(Sha256::digest(b"new").into()));
        let rollout = meta.rollout.unwrap();
        assert_eq!(rollout.percent, 10);
        assert_eq!(
            rollout.window.map(|w| w.to_string()).as_deref(),
            Some("22:00-06:00")
        );
        assert!(
            text.starts_with("# written by kkt-update-server publish\n"),
            "{text}"
        );
        let (_, plain) = meta_text(v(), None, &MetaChoices::default(), &files()).unwrap();
        assert_eq!(plain.description, "firmware 20250301");
        assert!(plain.rollout.is_none() && !plain.critical && !plain.floor);
    }

    #[test]
    fn a_bad_source_meta_or_pilot_is_refused_in_plain_words() {
        let error = meta_text(
            v(),
            Some("critcal: true\n"),
            &MetaChoices::default(),
            &files(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("the source's meta.yaml: unknown field `critcal`"),
            "{error}"
        );
        let choices = MetaChoices {
            pilot: vec!["shop-1".into()],
            ..Default::default()
        };
        let error = meta_text(v(), None, &choices, &files())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("rollout.pilot: \"shop-1\" is not an IP address"),
            "{error}"
        );
    }
}
