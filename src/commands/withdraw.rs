//! `kkt-update-server withdraw <yyyymmdd> [--line NAME]`: moves a release out of
//! `firmware_dir` into `firmware_dir/.withdrawn/` (never deletes it), says what devices are
//! offered now, and waits until the running server no longer serves it. Publishing the
//! moved folder again undoes it.

use std::io::Write;
use std::time::Duration;

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::firmware_offer::file_path;
use crate::catalog::lines::line_folders;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::commands::publish::{offer_summary, write_out};
use crate::commands::server_client::{self, Waited};
use crate::config::cli::WithdrawArgs;
use crate::config::Config;
use crate::model::version::Version;
use crate::publishing::withdraw::withdraw;

/// How long to wait for the running server to stop serving it.
const WAIT_FOR: Duration = Duration::from_secs(30);

/// Runs the command; `Err` is the refusal or failure, in words.
pub fn run(config: &Config, args: &WithdrawArgs, out: &mut dyn Write) -> Result<(), String> {
    let version = Version::parse_folder_name(args.version.trim()).ok_or_else(|| {
        format!(
            "the release to withdraw must be a date written yyyymmdd, like 20250301; got {:?}",
            args.version
        )
    })?;
    let line = match &args.line {
        None => DEFAULT_LINE.to_string(),
        Some(name) if line_folders(&config.firmware_dir).contains(name) => name.clone(),
        Some(name) => {
            return Err(format!(
                "there is no line {name:?} in {} (a line is a folder with a line.yaml)",
                config.firmware_dir.display()
            ))
        }
    };
    let moved = withdraw(&config.firmware_dir, &line, version).map_err(|e| e.to_string())?;
    let mut said = format!(
        "withdrew {version}: moved to {} (publish it again with kkt-update-server publish {} --replace{})\n",
        moved.display(),
        moved.display(),
        if line == DEFAULT_LINE {
            String::new()
        } else {
            format!(" --line {line}")
        }
    );
    said.push_str(&offer_summary(config, &line, version));
    write_out(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    let path = file_path(&line, version, FIRMWARE_FILES[0]);
    match server_client::wait_for_device(config, &path, "-", 404, WAIT_FOR, &mut || None) {
        Waited::Answered(_) => write_out(out, "the running server no longer serves it\n"),
        Waited::NoServer(_) | Waited::GaveUp(_) => write_out(
            out,
            "no running server answered; nothing more to wait for\n",
        ),
        Waited::TimedOut => Err(format!(
            "the running server still serves {version} after {} s; see its log",
            WAIT_FOR.as_secs()
        )),
    }
}
