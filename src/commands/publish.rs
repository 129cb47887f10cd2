//! `kkt-update-server publish <SOURCE>`: the safe way to publish, in one command. Every
//! check runs before `firmware_dir` is touched, and every refusal is one sentence that
//! leaves it as it was; then the release is staged, synced, pinned and renamed into place
//! (see `publishing::staging`), the command says what devices will now be offered, and it
//! waits until the running server serves exactly the new bytes.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::catalog::device_line::{line_label, DEFAULT_LINE};
use crate::catalog::firmware_offer::file_path;
use crate::catalog::lines::{line_folder, line_folders, valid_line_name};
use crate::catalog::release_meta::{to_hex, FIRMWARE_FILES};
use crate::catalog::sample_release;
use crate::catalog::snapshot::Snapshot;
use crate::catalog::write_ledger::WriteLedger;
use crate::commands::server_client::{self, Waited};
use crate::config::cli::PublishArgs;
use crate::config::Config;
use crate::model::version::Version;
use crate::publishing::release_meta_text::{meta_text, MetaChoices};
use crate::publishing::source;
use crate::publishing::staging::{write_release, Written};

/// How long the source's files must keep their size to count as completely copied.
const STABLE_FOR: Duration = Duration::from_millis(500);
/// How long to wait for the running server.
const WAIT_FOR: Duration = Duration::from_secs(30);

/// Runs the command; what it says goes to `out`. `Err` is the refusal or failure, in words.
pub fn run(config: &Config, args: &PublishArgs, out: &mut dyn Write) -> Result<(), String> {
    let line = target_line(config, args.line.as_deref())?;
    let line_dir = line_folder(&config.firmware_dir, &line);
    let description = match &args.description {
        None => None,
        Some(raw) => Some(
            raw.to_str()
                .ok_or("the description is not UTF-8 text; write it in UTF-8")?
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
                .ok_or_else(|| {
                    format!("--rollout-percent must be a whole number from 0 to 100; got {text:?}")
                })?,
        ),
    };
    let source = source::read(&args.source, STABLE_FOR)?;
    let contents: Vec<&[u8]> = source.files.iter().map(Vec::as_slice).collect();
    if let Some(name) = sample_release::sample_file(&FIRMWARE_FILES, &contents) {
        if !sample_release::samples_served_in(&line_dir) {
            return Err(format!(
                "{name} in {} is the repository's generated sample (it starts with \
                 \"KKT-SAMPLE-FIRMWARE\"), not firmware: an installed server never offers it; \
                 publish the vendor's upd_app.bin and upd_app_for_old_frs.bin instead",
                args.source.display()
            ));
        }
    }
    let version = match &args.version {
        Some(text) => Version::parse_folder_name(text.trim()).ok_or_else(|| {
            format!("--version must be a real date written yyyymmdd, like 20250301; got {text:?}")
        })?,
        None => match source.named_version {
            Some(version) => version,
            None => ask_version(&args.source)?,
        },
    };
    let target = line_dir.join(version.to_string());
    if target.exists() && !args.replace {
        return Err(format!(
            "release {version} is already published ({}); give --replace to replace it in place",
            target.display()
        ));
    }
    let choices = MetaChoices {
        description,
        critical: args.critical,
        rollout_percent,
        pilot: args.pilot.clone(),
    };
    let (meta_yaml, meta) = meta_text(version, source.meta.as_deref(), &choices, &source.files)?;
    let hashes: Vec<String> = source
        .files
        .iter()
        .map(|b| to_hex(&Sha256::digest(b)))
        .collect();

    let mut said = String::new();
    let where_ = if line == DEFAULT_LINE {
        String::new()
    } else {
        format!(" in line {line}")
    };
    let _ = writeln!(
        said,
        "release {version}{where_}: {:?}{}",
        meta.description,
        if meta.critical { ", critical" } else { "" }
    );
    for (name, (bytes, hash)) in FIRMWARE_FILES.iter().zip(source.files.iter().zip(&hashes)) {
        let _ = writeln!(said, "  {name}: {} bytes, sha256 {hash}", bytes.len());
    }
    if let Some(rollout) = &meta.rollout {
        let _ = writeln!(said, "  rollout: {rollout}");
    }
    if args.dry_run {
        let _ = writeln!(
            said,
            "dry run: would {} {} (nothing was written)",
            if target.exists() {
                "replace in place"
            } else {
                "publish as"
            },
            target.display()
        );
        return write_out(out, &said);
    }
    let (written_at, how) =
        write_release(&line_dir, version, &source.files, &meta_yaml, args.replace)?;
    let _ = writeln!(
        said,
        "{} {} (pinned by sha256, synced)",
        match how {
            Written::New => "published",
            Written::Replaced => "replaced in place",
        },
        written_at.display()
    );
    said.push_str(&offer_summary(config, &line, version));
    write_out(out, &said)?;
    if args.no_wait {
        return Ok(());
    }
    wait_served(config, &hashes[0], &line, version, out)
}

/// Says `text` on the command's output.
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), String> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to the terminal: {e}"))
}

/// The line to publish into: the one named (it must exist), or the default line (refused
/// when `firmware_dir` holds lines and no release of its own: the line was surely forgotten).
fn target_line(config: &Config, asked: Option<&str>) -> Result<String, String> {
    let lines = line_folders(&config.firmware_dir);
    let listed = if lines.is_empty() {
        "there are none".to_string()
    } else {
        format!("the lines are {}", lines.join(", "))
    };
    match asked {
        Some(name) if valid_line_name(name) && lines.iter().any(|l| l == name) => {
            Ok(name.to_string())
        }
        Some(name) => Err(format!(
            "there is no line {name:?} in {} (a line is a folder with a line.yaml; {listed})",
            config.firmware_dir.display()
        )),
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
                Err(format!(
                    "{} holds firmware lines ({}); say which one with --line",
                    config.firmware_dir.display(),
                    lines.join(", ")
                ))
            }
        }
    }
}

/// Asks for the version on a terminal; refuses without one.
fn ask_version(source: &std::path::Path) -> Result<Version, String> {
    let refusal = format!(
        "the version cannot be told from the name {:?}: give --version yyyymmdd",
        source
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    if !std::io::stdin().is_terminal() {
        return Err(refusal);
    }
    eprint!("release date of {} (yyyymmdd): ", source.display());
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|_| refusal.clone())?;
    Version::parse_folder_name(line.trim()).ok_or_else(|| {
        format!(
            "{:?} is not a real date written yyyymmdd, like 20250301",
            line.trim()
        )
    })
}

/// What devices of `line` are offered now that `version` is in place, from a scan of the
/// folder as the server will see it.
pub fn offer_summary(config: &Config, line: &str, version: Version) -> String {
    let later = SystemTime::now() + Duration::from_secs(24 * 3600);
    let snapshot = Snapshot::scan(
        &config.scan_settings(),
        later,
        None,
        &WriteLedger::default(),
    );
    let Some(view) = snapshot.line(line) else {
        return format!(
            "line {} is not served (see kkt-update-server check)\n",
            line_label(line)
        );
    };
    let named = if line == DEFAULT_LINE {
        "devices".to_string()
    } else {
        format!("devices of line {line}")
    };
    let Some(current) = view.releases.current() else {
        return format!(
            "no release of {} is published now: {named} are told there is no update\n",
            line_label(line)
        );
    };
    let mut text = String::new();
    if current.version == version {
        let _ = write!(text, "{named} built before {version} are now offered it");
        match &current.rollout {
            Some(rollout) => {
                let _ = write!(
                    text,
                    " as the rollout admits them ({rollout}); the others keep the release below"
                );
            }
            None => text.push_str(" (everyone)"),
        }
        if let Some(critical) = view.critical() {
            let _ = write!(text, "; builds before {critical} are told it is critical");
        }
        text.push('\n');
    } else if current.version > version {
        let _ = writeln!(
            text,
            "{version} is published, but {} is newer and stays the release {named} are offered",
            current.version
        );
    } else {
        let _ = writeln!(text, "{named} are offered {} now", current.version);
    }
    text
}

/// Waits until the running server serves exactly the new bytes (its ETag is their SHA-256).
fn wait_served(
    config: &Config,
    sha256: &str,
    line: &str,
    version: Version,
    out: &mut dyn Write,
) -> Result<(), String> {
    let path = file_path(line, version, FIRMWARE_FILES[0]);
    let mut rejected = || rejection(config, line, version);
    match server_client::wait_for_device(config, &path, sha256, 304, WAIT_FOR, &mut rejected) {
        Waited::Answered(took) => write_out(
            out,
            &format!("the running server serves it ({:.1} s)\n", took.as_secs_f64()),
        ),
        Waited::NoServer(why) => write_out(
            out,
            &format!(
                "no running server answered ({why}); a server started later finds the release by itself\n"
            ),
        ),
        Waited::GaveUp(reason) => Err(format!(
            "the running server rejected release {version}: {reason}"
        )),
        Waited::TimedOut => Err(format!(
            "the running server did not serve release {version} within {} s; see its log and /status",
            WAIT_FOR.as_secs()
        )),
    }
}

/// Why the running server rejects the release, when its `/status` says so.
fn rejection(config: &Config, line: &str, version: Version) -> Option<String> {
    let (status, body) =
        server_client::admin(config, "GET", "/status", Duration::from_secs(5)).ok()?;
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
        .find(|f| f["version"] == version.as_u32() && f["state"] == "rejected")
        .map(|f| {
            f["reason"]
                .as_str()
                .unwrap_or("no reason given")
                .to_string()
        })
}
