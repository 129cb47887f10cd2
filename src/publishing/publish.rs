//! One publish, whoever asks: the `publish` command (a folder or a `.zip` named on its
//! command line) and `POST /releases` on the admin listener (an upload the server kept in
//! anonymous temp files) run this same function, so the checks, the refusals and the
//! staging are one code path. Every check runs before `firmware_dir` is touched, and every
//! refusal is one sentence that leaves it as it was; then the release is staged, synced,
//! pinned and renamed into place (`staging`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::{line_folder, line_folders, valid_line_name};
use crate::catalog::release_meta::{to_hex, ReleaseMeta, FIRMWARE_FILES};
use crate::catalog::sample_release;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::release_meta_text::{meta_text, MetaChoices, MetaTextError};
use crate::publishing::source::{self, Source, SourceError, Upload, UPLOAD_SHOWN};
use crate::publishing::staging::{write_release, StagingError, Written};
use crate::words::cli::OperatorText;

/// Why a publish was refused or failed: one sentence each (tests/integration/cli.rs,
/// publish.rs, publishing_safety.rs and upload.rs hold the words). Until the release is
/// written, `firmware_dir` is as it was.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "there is no line {name:?} in {} (a line is a folder with a line.yaml; {})",
        firmware_dir.display(),
        listed(lines)
    )]
    NoSuchLine {
        name: String,
        firmware_dir: PathBuf,
        lines: Vec<String>,
    },
    /// `firmware_dir` holds lines and the default line no release: surely forgotten.
    #[error(
        "{} holds firmware lines ({}); say which one with --line",
        firmware_dir.display(),
        lines.join(", ")
    )]
    LineNotSaid {
        firmware_dir: PathBuf,
        lines: Vec<String>,
    },
    #[error("the description is not UTF-8 text; write it in UTF-8")]
    DescriptionNotUtf8,
    #[error("--rollout-percent must be a whole number from 0 to 100; got {0:?}")]
    RolloutPercent(String),
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A file of the source is the repository's generated sample, not firmware.
    #[error(
        "{name} in {} is the repository's generated sample (it starts with \
         \"KKT-SAMPLE-FIRMWARE\"), not firmware: an installed server never offers it; \
         publish the vendor's upd_app.bin and upd_app_for_old_frs.bin instead",
        file.display()
    )]
    Sample { name: &'static str, file: PathBuf },
    #[error("--version must be a real date written yyyymmdd, like 20250301; got {0:?}")]
    VersionFlag(String),
    /// No `--version`, a name that tells none, and no terminal to ask on.
    #[error("the version cannot be told from the name {0:?}: give --version yyyymmdd")]
    VersionUnknown(String),
    /// What was typed at the prompt.
    #[error("{0:?} is not a real date written yyyymmdd, like 20250301")]
    NotADate(String),
    #[error(
        "release {version} is already published ({}); give --replace to replace it in place",
        target.display()
    )]
    AlreadyPublished { version: Version, target: PathBuf },
    #[error(transparent)]
    Meta(#[from] MetaTextError),
    #[error(transparent)]
    Staging(#[from] StagingError),
}

/// The refusals in Russian: `publish` prints them in the operator's language.
impl InLanguage for PublishError {
    fn in_russian(&self) -> String {
        use PublishError as E;
        match self {
            E::NoSuchLine {
                name,
                firmware_dir,
                lines,
            } => format!(
                "в {} нет линейки {name:?} (линейка — это папка с line.yaml; {})",
                firmware_dir.display(),
                if lines.is_empty() {
                    "линеек нет".to_string()
                } else {
                    format!("линейки: {}", lines.join(", "))
                }
            ),
            E::LineNotSaid {
                firmware_dir,
                lines,
            } => format!(
                "в {} есть линейки прошивок ({}); укажите нужную через --line",
                firmware_dir.display(),
                lines.join(", ")
            ),
            E::DescriptionNotUtf8 => "описание — не текст в UTF-8; напишите его в UTF-8".into(),
            E::RolloutPercent(given) => {
                format!("--rollout-percent — целое число от 0 до 100; получено {given:?}")
            }
            E::Source(error) => error.in_russian(),
            E::Sample { name, file } => format!(
                "{name} в {} — сгенерированный образец из репозитория (начинается с \
                 \"KKT-SAMPLE-FIRMWARE\"), а не прошивка: установленный сервер его никогда \
                 не предлагает; опубликуйте upd_app.bin и upd_app_for_old_frs.bin от \
                 производителя",
                file.display()
            ),
            E::VersionFlag(given) => format!(
                "--version — настоящая дата в виде ггггммдд, например 20250301; получено \
                 {given:?}"
            ),
            E::VersionUnknown(name) => {
                format!("версию нельзя определить по имени {name:?}: укажите --version ггггммдд")
            }
            E::NotADate(given) => {
                format!("{given:?} — не настоящая дата в виде ггггммдд, например 20250301")
            }
            E::AlreadyPublished { version, target } => format!(
                "релиз {version} уже опубликован ({}); чтобы заменить его на месте, добавьте \
                 --replace",
                target.display()
            ),
            E::Meta(error) => error.in_russian(),
            E::Staging(error) => error.in_russian(),
        }
    }
}

impl PublishError {
    /// The release is already there (or appeared meanwhile): a conflict with what is
    /// published, not a bad request.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            PublishError::AlreadyPublished { .. }
                | PublishError::Staging(
                    StagingError::AlreadyPublished(_) | StagingError::AppearedMeanwhile(_)
                )
        )
    }

    /// The system failed (a write, a rename, a permission of the server's own folders),
    /// not the release that was given.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            PublishError::Staging(
                StagingError::Io { .. }
                    | StagingError::Denied { .. }
                    | StagingError::Link(_)
                    | StagingError::Swapped { .. }
            ) | PublishError::Meta(MetaTextError::Write(_))
        )
    }
}

/// The lines there are, for a refusal.
fn listed(lines: &[String]) -> String {
    if lines.is_empty() {
        "there are none".to_string()
    } else {
        format!("the lines are {}", lines.join(", "))
    }
}

/// Where the release comes from.
#[derive(Debug)]
pub enum Given<'a> {
    /// A folder or `.zip` named on the command line, read once its files kept their size
    /// over `stable_for` (a copy still running is refused).
    Path {
        path: &'a Path,
        stable_for: Duration,
    },
    /// What `POST /releases` received.
    Upload(Upload),
}

impl Given<'_> {
    /// How the source is named in refusals.
    fn shown(&self) -> PathBuf {
        match self {
            Given::Path { path, .. } => path.to_path_buf(),
            Given::Upload(Upload::Zip { shown, .. }) => PathBuf::from(shown),
            Given::Upload(Upload::Files { .. }) => PathBuf::from(UPLOAD_SHOWN),
        }
    }
}

/// What the publisher chose, named as the command's flags (and the upload's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    pub version: Option<String>,
    pub line: Option<String>,
    pub description: Option<String>,
    pub critical: bool,
    pub floor: bool,
    pub rollout_percent: Option<String>,
    pub pilot: Vec<String>,
    pub replace: bool,
    /// Check everything and say what would be done; write nothing.
    pub dry_run: bool,
    /// Written as `published_by:`: the OS user for the command, the operator's name for an
    /// upload (the audit trail's actor for the change the server then sees on disk).
    pub published_by: Option<String>,
}

/// What was published (or, in a dry run, would be).
#[derive(Debug, Clone)]
pub struct Published {
    pub line: String,
    pub version: Version,
    /// Where the release is (or would be), as shown.
    pub target: PathBuf,
    pub meta: ReleaseMeta,
    /// The sizes of the two files, in the order of `FIRMWARE_FILES`.
    pub sizes: [usize; 2],
    /// Their SHA-256, in hex, likewise.
    pub hashes: [String; 2],
    /// `None` in a dry run.
    pub written: Option<Written>,
    /// What the command says of it: the release, its files, its rollout and floor, and
    /// what was done (one line each).
    pub said: String,
}

/// Checks the release `given` as `options` say and, unless a dry run, writes it into
/// `firmware_dir`. `ask_version`: what to do when neither a version was given nor the
/// source's name tells one (the command asks on a terminal; an upload is refused).
pub fn publish(
    firmware_dir: &Path,
    given: Given<'_>,
    options: &PublishOptions,
    lang: Lang,
    ask_version: &mut dyn FnMut(&Path) -> Result<Version, PublishError>,
) -> Result<Published, PublishError> {
    let line = target_line(firmware_dir, options.line.as_deref())?;
    let line_dir = line_folder(firmware_dir, &line);
    let choices = meta_choices(options)?;
    let shown = given.shown();
    let source = match given {
        Given::Path { path, stable_for } => source::read(path, stable_for)?,
        Given::Upload(upload) => source::read_upload(upload)?,
    };
    refuse_sample(&source, &line_dir, &shown)?;
    let version = match &options.version {
        Some(text) => Version::parse_folder_name(text.trim())
            .ok_or_else(|| PublishError::VersionFlag(text.clone()))?,
        None => match source.named_version {
            Some(version) => version,
            None => ask_version(&shown)?,
        },
    };
    let target = line_dir.join(version.to_string());
    let exists = target.exists();
    if exists && !options.replace {
        return Err(PublishError::AlreadyPublished { version, target });
    }
    let (meta_yaml, meta) = meta_text(version, source.meta.as_deref(), &choices, &source.files)?;
    let hashes = source.files.each_ref().map(|b| to_hex(&Sha256::digest(b)));
    let t = OperatorText::of(lang);
    let mut said = release_summary(&line, version, &meta, &source.files, &hashes, t);
    let mut published = Published {
        line,
        version,
        target,
        meta,
        sizes: source.files.each_ref().map(Vec::len),
        hashes,
        written: None,
        said: String::new(),
    };
    if options.dry_run {
        let would = if exists {
            t.publish_dry_run_replace
        } else {
            t.publish_dry_run_new
        };
        let _ = writeln!(
            said,
            "{}",
            fill(would, &[("target", &published.target.display())])
        );
        published.said = said;
        return Ok(published);
    }
    let (written_at, how) = write_release(
        firmware_dir,
        &published.line,
        version,
        &source.files,
        &meta_yaml,
        options.replace,
    )?;
    let done = match how {
        Written::New => t.publish_published,
        Written::Replaced => t.publish_replaced,
    };
    let _ = writeln!(said, "{}", fill(done, &[("target", &written_at.display())]));
    published.target = written_at;
    published.written = Some(how);
    published.said = said;
    Ok(published)
}

/// What the publisher asks to write into `meta.yaml`: description, critical, floor,
/// rollout.
fn meta_choices(options: &PublishOptions) -> Result<MetaChoices, PublishError> {
    let rollout_percent = match &options.rollout_percent {
        None => None,
        Some(text) => Some(
            text.trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| PublishError::RolloutPercent(text.clone()))?,
        ),
    };
    Ok(MetaChoices {
        description: options.description.clone(),
        critical: options.critical,
        floor: options.floor,
        rollout_percent,
        pilot: options.pilot.clone(),
        published_by: options.published_by.clone(),
    })
}

/// Refuses the repository's generated sample files, unless this line serves samples.
fn refuse_sample(source: &Source, line_dir: &Path, shown: &Path) -> Result<(), PublishError> {
    let contents: Vec<&[u8]> = source.files.iter().map(Vec::as_slice).collect();
    match sample_release::sample_file(&FIRMWARE_FILES, &contents) {
        Some(name) if !sample_release::samples_served_in(line_dir) => Err(PublishError::Sample {
            name,
            file: shown.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// What is about to be published: the release, its files with their hashes, its rollout.
fn release_summary(
    line: &str,
    version: Version,
    meta: &ReleaseMeta,
    files: &[Vec<u8>; 2],
    hashes: &[String],
    t: &OperatorText,
) -> String {
    let mut said = String::new();
    let where_ = if line == DEFAULT_LINE {
        String::new()
    } else {
        fill(t.publish_in_line, &[("line", &line)])
    };
    let critical = if meta.critical {
        t.publish_critical
    } else {
        ""
    };
    let _ = writeln!(
        said,
        "{}",
        fill(
            t.publish_release,
            &[
                ("version", &version),
                ("where", &where_),
                ("description", &format!("{:?}", meta.description)),
                ("critical", &critical),
            ],
        )
    );
    for (name, (bytes, hash)) in FIRMWARE_FILES.iter().zip(files.iter().zip(hashes)) {
        let values: [(&str, &dyn std::fmt::Display); 3] =
            [("name", name), ("bytes", &bytes.len()), ("hash", hash)];
        let _ = writeln!(said, "{}", fill(t.publish_file, &values));
    }
    if let Some(rollout) = &meta.rollout {
        let _ = writeln!(said, "{}", fill(t.publish_rollout, &[("rollout", rollout)]));
    }
    if meta.floor {
        let _ = writeln!(said, "{}", fill(t.publish_floor, &[("version", &version)]));
    }
    said
}

/// The line to publish into: the one named (it must exist), or the default line (refused
/// when `firmware_dir` holds lines and no release of its own: the line was surely forgotten).
pub fn target_line(firmware_dir: &Path, asked: Option<&str>) -> Result<String, PublishError> {
    let lines = line_folders(firmware_dir);
    match asked {
        Some(name) if valid_line_name(name) && lines.iter().any(|l| l == name) => {
            Ok(name.to_string())
        }
        Some(name) => Err(PublishError::NoSuchLine {
            name: name.to_string(),
            firmware_dir: firmware_dir.to_path_buf(),
            lines,
        }),
        None if lines.is_empty() => Ok(DEFAULT_LINE.to_string()),
        None => {
            let default_has_releases = std::fs::read_dir(firmware_dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(Version::parse_folder_name)
                        .is_some()
                });
            if default_has_releases {
                Ok(DEFAULT_LINE.to_string())
            } else {
                Err(PublishError::LineNotSaid {
                    firmware_dir: firmware_dir.to_path_buf(),
                    lines,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusals say the sentences `publish` said when they were strings (the ones no
    /// integration test reaches).
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let version = Version::parse_folder_name("20250301").unwrap();
        let firmware_dir = PathBuf::from("/srv/firmware");
        let cases = [
            (
                PublishError::NoSuchLine {
                    name: "x".into(),
                    firmware_dir: firmware_dir.clone(),
                    lines: vec![],
                },
                "there is no line \"x\" in /srv/firmware (a line is a folder with a line.yaml; \
                 there are none)",
            ),
            (
                PublishError::NoSuchLine {
                    name: "x".into(),
                    firmware_dir: firmware_dir.clone(),
                    lines: vec!["a".into(), "b".into()],
                },
                "there is no line \"x\" in /srv/firmware (a line is a folder with a line.yaml; \
                 the lines are a, b)",
            ),
            (
                PublishError::LineNotSaid {
                    firmware_dir: firmware_dir.clone(),
                    lines: vec!["a".into(), "b".into()],
                },
                "/srv/firmware holds firmware lines (a, b); say which one with --line",
            ),
            (
                PublishError::AlreadyPublished {
                    version,
                    target: PathBuf::from("/srv/firmware/20250301"),
                },
                "release 20250301 is already published (/srv/firmware/20250301); give --replace \
                 to replace it in place",
            ),
            (
                PublishError::VersionUnknown("r.zip".into()),
                "the version cannot be told from the name \"r.zip\": give --version yyyymmdd",
            ),
            (
                PublishError::NotADate("2025".into()),
                "\"2025\" is not a real date written yyyymmdd, like 20250301",
            ),
            (
                PublishError::Staging(StagingError::AppearedMeanwhile(PathBuf::from(
                    "/srv/firmware/20250301",
                ))),
                "/srv/firmware/20250301 appeared meanwhile; nothing was changed",
            ),
            (
                PublishError::Staging(StagingError::Io {
                    what: "rename into place",
                    path: PathBuf::from("/srv/firmware/20250301/upd_app.bin"),
                    error: std::io::Error::other("busy"),
                }),
                "cannot rename into place /srv/firmware/20250301/upd_app.bin: busy",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }
}
