//! `kkt-update-server withdraw <yyyymmdd> [--line NAME]`: moves a release out of
//! `firmware_dir` into `firmware_dir/.withdrawn/` (never deletes it), says what devices are
//! offered now (the release now current for the line, or none), and waits until the running server no longer serves it. Publishing the
//! moved folder again undoes it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::firmware_offer::file_path;
use crate::catalog::lines::line_folders;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::commands::publish::{offered_now, write_out, TerminalError};
use crate::commands::server_client::{self, Waited};
use crate::config::cli::WithdrawArgs;
use crate::config::Config;
use crate::model::lang::{fill, InLanguage};
use crate::model::version::Version;
use crate::publishing::withdraw::{withdraw, WithdrawError};
use crate::words::cli::OperatorText;

/// How long to wait for the running server to stop serving it.
const WAIT_FOR: Duration = Duration::from_secs(30);

/// Why `withdraw` refused or failed: one sentence each, what the command says.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawCommandError {
    #[error("the release to withdraw must be a date written yyyymmdd, like 20250301; got {0:?}")]
    NotADate(String),
    #[error(
        "there is no line {name:?} in {} (a line is a folder with a line.yaml)",
        firmware_dir.display()
    )]
    NoSuchLine { name: String, firmware_dir: PathBuf },
    #[error(transparent)]
    Withdraw(#[from] WithdrawError),
    #[error(transparent)]
    Terminal(#[from] TerminalError),
    #[error(
        "the running server still serves {version} after {} s; see its log",
        WAIT_FOR.as_secs()
    )]
    StillServed { version: Version },
}

/// The refusals in Russian: `withdraw` prints them in the operator's language.
impl InLanguage for WithdrawCommandError {
    fn in_russian(&self) -> String {
        match self {
            WithdrawCommandError::NotADate(given) => format!(
                "отзываемый релиз — дата в виде ггггммдд, например 20250301; получено {given:?}"
            ),
            WithdrawCommandError::NoSuchLine { name, firmware_dir } => format!(
                "в {} нет линейки {name:?} (линейка — это папка с line.yaml)",
                firmware_dir.display()
            ),
            WithdrawCommandError::Withdraw(error) => error.in_russian(),
            WithdrawCommandError::Terminal(error) => error.in_russian(),
            WithdrawCommandError::StillServed { version } => format!(
                "работающий сервер всё ещё раздаёт {version} спустя {} с; см. его журнал",
                WAIT_FOR.as_secs()
            ),
        }
    }
}

/// Runs the command; `Err` is the refusal or failure, in words.
pub fn run(
    config: &Config,
    args: &WithdrawArgs,
    out: &mut dyn Write,
) -> Result<(), WithdrawCommandError> {
    let version = Version::parse_folder_name(args.version.trim())
        .ok_or_else(|| WithdrawCommandError::NotADate(args.version.clone()))?;
    let line = match &args.line {
        None => DEFAULT_LINE.to_string(),
        Some(name) if line_folders(&config.firmware_dir).contains(name) => name.clone(),
        Some(name) => {
            return Err(WithdrawCommandError::NoSuchLine {
                name: name.clone(),
                firmware_dir: config.firmware_dir.clone(),
            })
        }
    };
    let moved = withdraw(&config.firmware_dir, &line, version)?;
    let t = OperatorText::of(config.language);
    let line_flag = if line == DEFAULT_LINE {
        String::new()
    } else {
        format!(" --line {line}")
    };
    let values: [(&str, &dyn std::fmt::Display); 3] = [
        ("version", &version),
        ("moved", &moved.display()),
        ("line_flag", &line_flag),
    ];
    let mut said = fill(t.withdrew, &values) + "\n";
    said.push_str(&offered_now(config, &line));
    write_out(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    let path = file_path(&line, version, FIRMWARE_FILES[0]);
    match server_client::wait_for_device(config, &path, "-", 404, WAIT_FOR, &mut || None) {
        Waited::Answered(_) => Ok(write_out(
            out,
            &format!("{}\n", t.withdraw_no_longer_served),
        )?),
        Waited::NoServer(_) | Waited::GaveUp(_) => {
            Ok(write_out(out, &format!("{}\n", t.withdraw_no_server))?)
        }
        Waited::TimedOut => Err(WithdrawCommandError::StillServed { version }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusals say the sentences `withdraw` said when they were strings.
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let version = Version::parse_folder_name("20250301").unwrap();
        let cases = [
            (
                WithdrawCommandError::NotADate("2025".into()),
                "the release to withdraw must be a date written yyyymmdd, like 20250301; got \
                 \"2025\"",
            ),
            (
                WithdrawCommandError::NoSuchLine {
                    name: "x".into(),
                    firmware_dir: "/srv/firmware".into(),
                },
                "there is no line \"x\" in /srv/firmware (a line is a folder with a line.yaml)",
            ),
            (
                WithdrawCommandError::StillServed { version },
                "the running server still serves 20250301 after 30 s; see its log",
            ),
            (
                WithdrawCommandError::Withdraw(WithdrawError::NoRelease {
                    version,
                    line: "kassa".into(),
                    line_dir: "/srv/firmware/kassa".into(),
                }),
                "there is no release 20250301 in line kassa in /srv/firmware/kassa",
            ),
            (
                WithdrawCommandError::Withdraw(WithdrawError::NoRelease {
                    version,
                    line: DEFAULT_LINE.into(),
                    line_dir: "/srv/firmware".into(),
                }),
                "there is no release 20250301 in /srv/firmware",
            ),
            (
                WithdrawCommandError::Withdraw(WithdrawError::Move {
                    from: "/a".into(),
                    to: "/b".into(),
                    error: std::io::Error::other("busy"),
                }),
                "cannot move /a to /b: busy",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }
}
