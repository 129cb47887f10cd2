//! `kkt-update-server publish <SOURCE>`: the safe way to publish, in one command. Every
//! check runs before `firmware_dir` is touched, and every refusal is one sentence that
//! leaves it as it was; then the release is staged, synced, pinned and renamed into place
//! (see `publishing::staging`), the command says what devices will now be offered, and it
//! waits until the running server serves exactly the new bytes.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, SystemTime};

use crate::admin::status_report::FolderLabel;
use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::firmware_offer::file_path;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::catalog::snapshot::Snapshot;
use crate::catalog::write_ledger::WriteLedger;
use crate::commands::server_client::{self, Waited};
use crate::config::cli::PublishArgs;
use crate::config::Config;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::offer_summary;
use crate::publishing::publish::{publish, Given, PublishError, PublishOptions};
use crate::words::cli::OperatorText;

/// How long the source's files must keep their size to count as completely copied.
const STABLE_FOR: Duration = Duration::from_millis(500);
/// How long to wait for the running server.
const WAIT_FOR: Duration = Duration::from_secs(30);

/// Why `publish` refused or failed: the refusals of the publish itself
/// (`publishing::publish`, shared with `POST /releases`), and what only the command meets.
#[derive(Debug, thiserror::Error)]
pub enum PublishCommandError {
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    #[error(transparent)]
    Publish(#[from] PublishError),
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
impl InLanguage for PublishCommandError {
    fn in_russian(&self) -> String {
        use PublishCommandError as E;
        match self {
            E::Terminal(error) => error.in_russian(),
            E::Publish(error) => error.in_russian(),
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

/// Runs the command; what it says goes to `out`. `Err` is the refusal or failure, in words.
pub fn run(
    config: &Config,
    args: &PublishArgs,
    out: &mut dyn Write,
) -> Result<(), PublishCommandError> {
    let description = match &args.description {
        None => None,
        Some(raw) => Some(
            raw.to_str()
                .ok_or(PublishError::DescriptionNotUtf8)?
                .to_string(),
        ),
    };
    let options = PublishOptions {
        version: args.version.clone(),
        line: args.line.clone(),
        description,
        critical: args.critical,
        floor: args.floor,
        rollout_percent: args.rollout_percent.clone(),
        pilot: args.pilot.clone(),
        replace: args.replace,
        dry_run: args.dry_run,
        published_by: Some(crate::platform::process_user::user_name()),
    };
    let given = Given::Path {
        path: &args.source,
        stable_for: STABLE_FOR,
    };
    let published = publish(
        &config.firmware_dir,
        given,
        &options,
        config.language,
        &mut ask_version,
    )?;
    let mut said = published.said;
    if args.dry_run {
        return Ok(write_out(out, &said)?);
    }
    said.push_str(&offer_summary(config, &published.line, published.version));
    write_out(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    let token = args.server.or_admin_token(config.admin_token.as_deref());
    wait_served(
        config,
        token,
        &published.hashes[0],
        &published.line,
        published.version,
        out,
    )
}

/// Says `text` on the command's output.
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), TerminalError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(TerminalError)
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

/// The folder as the server will see it, scanned now (a day later, so that nothing counts
/// as still settling).
fn scan_as_served(config: &Config) -> Snapshot {
    let later = SystemTime::now() + Duration::from_secs(24 * 3600);
    Snapshot::scan(
        &config.scan_settings(),
        later,
        None,
        &WriteLedger::default(),
    )
}

/// What devices of `line` are offered now that `version` is in place, from a scan of the
/// folder as the server will see it.
pub fn offer_summary(config: &Config, line: &str, version: Version) -> String {
    offer_summary::offer_summary(&scan_as_served(config), line, version, config.language)
}

/// What devices of `line` are offered now, whatever was just taken away (for `withdraw`).
pub fn offered_now(config: &Config, line: &str) -> String {
    offer_summary::offered_now(&scan_as_served(config), line, config.language)
}

/// Waits until the running server serves exactly the new bytes (its ETag is their SHA-256).
fn wait_served(
    config: &Config,
    token: Option<&str>,
    sha256: &str,
    line: &str,
    version: Version,
    out: &mut dyn Write,
) -> Result<(), PublishCommandError> {
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
        Waited::GaveUp(reason) => Err(PublishCommandError::Rejected { version, reason }),
        Waited::TimedOut => Err(PublishCommandError::NotServed { version }),
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

    /// The refusals only the command meets say the sentences they said as strings (the
    /// publish's own: `publishing::publish`).
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let version = Version::parse_folder_name("20250301").unwrap();
        let cases = [
            (
                PublishCommandError::Rejected {
                    version,
                    reason: "hash mismatch".into(),
                },
                "the running server rejected release 20250301: hash mismatch",
            ),
            (
                PublishCommandError::NotServed { version },
                "the running server did not serve release 20250301 within 30 s; see its log and \
                 /status",
            ),
            (
                PublishCommandError::Terminal(TerminalError(std::io::Error::other("closed"))),
                "cannot write to the terminal: closed",
            ),
            (
                PublishCommandError::Publish(PublishError::VersionUnknown("r.zip".into())),
                "the version cannot be told from the name \"r.zip\": give --version yyyymmdd",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }
}
