//! `kkt-update-server withdraw <yyyymmdd> [--line NAME]`: moves a release out of
//! `firmware_dir` into `firmware_dir/.withdrawn/` (never deletes it), says what devices are
//! offered now, and waits until the running server no longer serves it. Publishing the
//! moved folder again undoes it.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::firmware_offer::release_path;
use crate::catalog::lines::line_folders;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::commands::publish::offer_summary;
use crate::commands::server_client;
use crate::config::cli::WithdrawArgs;
use crate::config::Config;
use crate::model::version::Version;
use crate::publishing::withdraw::withdraw;

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
    let moved = withdraw(&config.firmware_dir, &line, version)?;
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
    let write = |out: &mut dyn Write, text: &str| {
        out.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write to the terminal: {e}"))
    };
    write(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    let path = format!(
        "/firmware/{}/{}",
        release_path(&line, version),
        FIRMWARE_FILES[0]
    );
    let started = Instant::now();
    loop {
        match server_client::device_head(config, &path, "-") {
            Ok(404) => return write(out, "the running server no longer serves it\n"),
            Ok(_) => {}
            Err(_) => {
                return write(
                    out,
                    "no running server answered; nothing more to wait for\n",
                )
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!(
                "the running server still serves {version} after 30 s; see its log"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
