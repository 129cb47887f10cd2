//! `kkt-update-server publish <SOURCE>`: the safe way to publish, in one command. Every
//! check runs before `firmware_dir` is touched, and every refusal is one sentence that
//! leaves it as it was; then the release is staged, synced, pinned and renamed into place
//! (see `publishing::staging`), the command says what devices will now be offered, and it
//! waits until the running server serves exactly the new bytes.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::admin::status_report::FolderLabel;
use crate::catalog::device_line::{line_label, DEFAULT_LINE};
use crate::catalog::firmware_offer::file_path;
use crate::catalog::lines::{line_folder, line_folders, valid_line_name};
use crate::catalog::release_meta::{to_hex, ReleaseMeta, FIRMWARE_FILES};
use crate::catalog::releases::Release;
use crate::catalog::sample_release;
use crate::catalog::snapshot::{LineView, Snapshot};
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::commands::server_client::{self, Waited};
use crate::config::cli::PublishArgs;
use crate::config::Config;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::release_meta_text::{meta_text, MetaChoices, MetaTextError};
use crate::publishing::source::{self, SourceError};
use crate::publishing::staging::{write_release, StagingError, Written};
use crate::words::cli::OperatorText;

/// How long the source's files must keep their size to count as completely copied.
const STABLE_FOR: Duration = Duration::from_millis(500);
/// How long to wait for the running server.
const WAIT_FOR: Duration = Duration::from_secs(30);

/// Why `publish` refused or failed: one sentence each, what the command says (tests/integration/cli.rs,
/// tests/integration/publish.rs and publishing_safety.rs hold the words). Until the release is
/// written, `firmware_dir` is as it was.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Terminal(#[from] TerminalError),
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
    #[error("the running server rejected release {version}: {reason}")]
    Rejected { version: Version, reason: String },
    #[error(
        "the running server did not serve release {version} within {} s; see its log and \
         /status",
        WAIT_FOR.as_secs()
    )]
    NotServed { version: Version },
}

/// The command's output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to the terminal: {0}")]
pub struct TerminalError(std::io::Error);

/// The refusals in Russian: `publish` prints them in the operator's language.
impl InLanguage for PublishError {
    fn in_russian(&self) -> String {
        use PublishError as E;
        match self {
            E::Terminal(error) => error.in_russian(),
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
            E::Rejected { version, reason } => {
                format!("работающий сервер отклонил релиз {version}: {reason}")
            }
            E::NotServed { version } => format!(
                "работающий сервер не начал раздавать релиз {version} за {} с; см. его журнал \
                 и /status",
                WAIT_FOR.as_secs()
            ),
        }
    }
}

impl InLanguage for TerminalError {
    fn in_russian(&self) -> String {
        format!("не удалось вывести текст в терминал: {}", self.0)
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

/// Runs the command; what it says goes to `out`. `Err` is the refusal or failure, in words.
pub fn run(config: &Config, args: &PublishArgs, out: &mut dyn Write) -> Result<(), PublishError> {
    let line = target_line(config, args.line.as_deref())?;
    let line_dir = line_folder(&config.firmware_dir, &line);
    let choices = meta_choices(args)?;
    let source = source::read(&args.source, STABLE_FOR)?;
    refuse_sample(&source, &line_dir, &args.source)?;
    let version = release_version(args, &source)?;
    let target = line_dir.join(version.to_string());
    if target.exists() && !args.replace {
        return Err(PublishError::AlreadyPublished { version, target });
    }
    let (meta_yaml, meta) = meta_text(version, source.meta.as_deref(), &choices, &source.files)?;
    let hashes: Vec<String> = source
        .files
        .iter()
        .map(|b| to_hex(&Sha256::digest(b)))
        .collect();
    let t = OperatorText::of(config.language);
    let mut said = release_summary(&line, version, &meta, &source.files, &hashes, t);
    if args.dry_run {
        let would = if target.exists() {
            t.publish_dry_run_replace
        } else {
            t.publish_dry_run_new
        };
        let _ = writeln!(said, "{}", fill(would, &[("target", &target.display())]));
        return Ok(write_out(out, &said)?);
    }
    let (written_at, how) = write_release(
        &config.firmware_dir,
        &line,
        version,
        &source.files,
        &meta_yaml,
        args.replace,
    )?;
    let done = match how {
        Written::New => t.publish_published,
        Written::Replaced => t.publish_replaced,
    };
    let _ = writeln!(said, "{}", fill(done, &[("target", &written_at.display())]));
    said.push_str(&offer_summary(config, &line, version));
    write_out(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    let token = args.server.or_admin_token(config.admin_token.as_deref());
    wait_served(config, token, &hashes[0], &line, version, out)
}

/// What the command line asks to write into `meta.yaml`: description, critical, floor,
/// rollout.
fn meta_choices(args: &PublishArgs) -> Result<MetaChoices, PublishError> {
    let description = match &args.description {
        None => None,
        Some(raw) => Some(
            raw.to_str()
                .ok_or(PublishError::DescriptionNotUtf8)?
                .to_string(),
        ),
    };
    let rollout_percent = match &args.rollout_percent {
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
        description,
        critical: args.critical,
        floor: args.floor,
        rollout_percent,
        pilot: args.pilot.clone(),
        published_by: Some(crate::platform::process_user::user_name()),
    })
}

/// Refuses the repository's generated sample files, unless this line serves samples.
fn refuse_sample(
    source: &source::Source,
    line_dir: &std::path::Path,
    shown: &std::path::Path,
) -> Result<(), PublishError> {
    let contents: Vec<&[u8]> = source.files.iter().map(Vec::as_slice).collect();
    match sample_release::sample_file(&FIRMWARE_FILES, &contents) {
        Some(name) if !sample_release::samples_served_in(line_dir) => Err(PublishError::Sample {
            name,
            file: shown.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// The version to publish as: `--version`, else the one the source's name tells, else asked.
fn release_version(args: &PublishArgs, source: &source::Source) -> Result<Version, PublishError> {
    match &args.version {
        Some(text) => Version::parse_folder_name(text.trim())
            .ok_or_else(|| PublishError::VersionFlag(text.clone())),
        None => match source.named_version {
            Some(version) => Ok(version),
            None => ask_version(&args.source),
        },
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

/// Says `text` on the command's output.
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), TerminalError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(TerminalError)
}

/// The line to publish into: the one named (it must exist), or the default line (refused
/// when `firmware_dir` holds lines and no release of its own: the line was surely forgotten).
fn target_line(config: &Config, asked: Option<&str>) -> Result<String, PublishError> {
    let lines = line_folders(&config.firmware_dir);
    match asked {
        Some(name) if valid_line_name(name) && lines.iter().any(|l| l == name) => {
            Ok(name.to_string())
        }
        Some(name) => Err(PublishError::NoSuchLine {
            name: name.to_string(),
            firmware_dir: config.firmware_dir.clone(),
            lines,
        }),
        None if lines.is_empty() => Ok(DEFAULT_LINE.to_string()),
        None => {
            let default_has_releases = std::fs::read_dir(&config.firmware_dir)
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
                    firmware_dir: config.firmware_dir.clone(),
                    lines,
                })
            }
        }
    }
}

/// Asks for the version on a terminal; refuses without one.
fn ask_version(source: &std::path::Path) -> Result<Version, PublishError> {
    let refusal = || {
        PublishError::VersionUnknown(
            source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    if !std::io::stdin().is_terminal() {
        return Err(refusal());
    }
    let t = OperatorText::of(Lang::operator());
    eprint!("{}", fill(t.ask_version, &[("source", &source.display())]));
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|_| refusal())?;
    Version::parse_folder_name(line.trim())
        .ok_or_else(|| PublishError::NotADate(line.trim().to_string()))
}

/// What devices of `line` are offered now that `version` is in place, from a scan of the
/// folder as the server will see it.
pub fn offer_summary(config: &Config, line: &str, version: Version) -> String {
    let t = OperatorText::of(config.language);
    offered_by_scan(config, line, |named, view, current| {
        if current.version == version {
            let mut text = fill(
                t.offer_now_offered,
                &[("named", &named), ("version", &version)],
            );
            text.push_str(&how_offered(view, current, config.language));
            text
        } else if current.version > version {
            let values: [(&str, &dyn std::fmt::Display); 3] = [
                ("version", &version),
                ("newer", &current.version),
                ("named", &named),
            ];
            fill(t.offer_newer_stays, &values) + "\n"
        } else {
            let values: [(&str, &dyn std::fmt::Display); 2] =
                [("named", &named), ("version", &current.version)];
            fill(t.offer_offered, &values) + "\n"
        }
    })
}

/// What devices of `line` are offered now, whatever was just taken away (for `withdraw`):
/// the release that is now current, how, or that there is none.
pub fn offered_now(config: &Config, line: &str) -> String {
    let t = OperatorText::of(config.language);
    offered_by_scan(config, line, |named, view, current| {
        fill(
            t.offer_now,
            &[("named", &named), ("version", &current.version)],
        ) + &how_offered(view, current, config.language)
    })
}

/// Scans the folder as the server will see it and says, for `line`, that it is not served,
/// that it has no release, or what `current_said` says of its current release.
fn offered_by_scan(
    config: &Config,
    line: &str,
    current_said: impl FnOnce(&str, &LineView<'_>, &Release) -> String,
) -> String {
    let t = OperatorText::of(config.language);
    let later = SystemTime::now() + Duration::from_secs(24 * 3600);
    let snapshot = Snapshot::scan(
        &config.scan_settings(),
        later,
        None,
        &WriteLedger::default(),
    );
    let Some(view) = snapshot.line(line) else {
        return fill(t.offer_line_not_served, &[("line", &line_label(line))]) + "\n";
    };
    let named = if line == DEFAULT_LINE {
        t.offer_devices.to_string()
    } else {
        fill(t.offer_devices_of_line, &[("line", &line)])
    };
    let Some(current) = view.releases.current() else {
        return fill(
            t.offer_no_release,
            &[("line", &line_label(line)), ("named", &named)],
        ) + "\n";
    };
    current_said(&named, &view, current)
}

/// Who is offered the current release (everyone, or as its rollout admits them) and from
/// which build it is critical, and the line's floors when it has any; the end of a line.
fn how_offered(view: &LineView<'_>, current: &Release, lang: Lang) -> String {
    let t = OperatorText::of(lang);
    let mut text = match &current.rollout {
        Some(rollout) => fill(t.offer_as_rollout_admits, &[("rollout", rollout)]),
        None => t.offer_everyone.to_string(),
    };
    if let Some(critical) = view.critical() {
        text.push_str(&fill(t.offer_critical_before, &[("version", &critical)]));
    }
    if let Some(path) = snapshot_report::upgrade_path_text(view.releases, lang) {
        text.push_str(&fill(t.offer_floors_first, &[("path", &path)]));
    }
    text.push('\n');
    text
}

/// Waits until the running server serves exactly the new bytes (its ETag is their SHA-256).
fn wait_served(
    config: &Config,
    token: Option<&str>,
    sha256: &str,
    line: &str,
    version: Version,
    out: &mut dyn Write,
) -> Result<(), PublishError> {
    let path = file_path(line, version, FIRMWARE_FILES[0]);
    let t = OperatorText::of(config.language);
    let mut rejected = || rejection(config, token, line, version);
    match server_client::wait_for_device(config, &path, sha256, 304, WAIT_FOR, &mut rejected) {
        Waited::Answered(took) => {
            let seconds = format!("{:.1}", took.as_secs_f64());
            let said = fill(t.served_now, &[("seconds", &seconds)]);
            Ok(write_out(out, &format!("{said}\n"))?)
        }
        Waited::NoServer(why) => {
            let said = fill(t.no_server_answered, &[("why", &why)]);
            Ok(write_out(out, &format!("{said}\n"))?)
        }
        Waited::GaveUp(reason) => Err(PublishError::Rejected { version, reason }),
        Waited::TimedOut => Err(PublishError::NotServed { version }),
    }
}

/// Why the running server rejects the release, when its `/status` says so.
fn rejection(config: &Config, token: Option<&str>, line: &str, version: Version) -> Option<String> {
    let (status, body) =
        server_client::admin(config, token, "GET", "/status", Duration::from_secs(5)).ok()?;
    if status != 200 {
        return None;
    }
    let status: serde_json::Value = serde_json::from_str(&body).ok()?;
    let folders = if line == DEFAULT_LINE {
        status["releases"].as_array()?.clone()
    } else {
        status["lines"]
            .as_array()?
            .iter()
            .find(|l| l["name"] == line)?["releases"]
            .as_array()?
            .clone()
    };
    folders
        .iter()
        .find(|f| f["version"] == version.as_u32() && f["state"] == FolderLabel::Rejected.as_str())
        .map(|f| {
            f["reason"]
                .as_str()
                .unwrap_or("no reason given")
                .to_string()
        })
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
                PublishError::Rejected {
                    version,
                    reason: "hash mismatch".into(),
                },
                "the running server rejected release 20250301: hash mismatch",
            ),
            (
                PublishError::NotServed { version },
                "the running server did not serve release 20250301 within 30 s; see its log and \
                 /status",
            ),
            (
                PublishError::Terminal(TerminalError(std::io::Error::other("closed"))),
                "cannot write to the terminal: closed",
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
