//! `kkt-update-server check`: validates the configuration, every release folder and every
//! license file, prints what it found and each problem, and fails on problems, like
//! `nginx -t`. It scans exactly as the server does, so it cannot disagree with it.

use std::path::Path;

use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::Config;
use crate::model::clock;
use crate::model::one_line::escaped;
use crate::platform::process_user;

/// Runs the check; returns the report and whether everything is fine.
pub fn run(config: &Config) -> (String, bool) {
    let snapshot = Snapshot::scan(
        &config.scan_settings(),
        clock::now(),
        None,
        &WriteLedger::default(),
    );
    let mut report = String::new();
    // Which file, and how it was chosen (or where none was found).
    match &config.path {
        Some(_) => report.push_str(&format!("{}: ok\n", config.found.describe())),
        None => report.push_str(&format!(
            "{}{}\n",
            config.found.describe(),
            config.found.fallback()
        )),
    }
    report.push_str(&format!("listen {}\n", config.listen));
    let mut tls_problem = None;
    if let Some(tls) = &config.tls {
        match crate::config::tls::load_pair(&tls.files) {
            Ok(pair) => report.push_str(&format!(
                "tls: {} certificate(s) in {} with the key in {}: ok{}{}\n",
                pair.cert.len(),
                tls.files.cert.display(),
                tls.files.key.display(),
                tls.listen
                    .map_or(String::new(), |a| format!("; HTTPS on {a}")),
                if tls.admin {
                    "; admin listener over HTTPS"
                } else {
                    ""
                }
            )),
            Err(problem) => tls_problem = Some(problem.to_string()),
        }
    }
    report.push_str(&snapshot_report::full_report(&snapshot));
    let mut errors = snapshot_report::errors(&snapshot);
    errors.extend(tls_problem);
    let published = snapshot
        .all_lines()
        .any(|line| line.releases.current().is_some());
    if !published && snapshot.next_settle().is_none() {
        // A fresh installation has no release yet: devices get a valid "no update", which is
        // a state to know about, not a broken configuration.
        report.push_str(&format!(
            "warning: no release is published yet: devices are told there is no update. {}\n",
            next_step(config, &snapshot)
        ));
    }
    // Warnings and problems quote names from the operator's files: each stays one line.
    for warning in config
        .warnings()
        .into_iter()
        .chain(snapshot_report::warnings(&snapshot))
    {
        report.push_str(&format!("warning: {}\n", escaped(&warning)));
    }
    if process_user::is_root() {
        report.push_str(
            "warning: check ran as root, which can read every file; the service runs as its \
             own user and may not. Run it as that user to see what the service sees: \
             sudo -u kkt kkt-update-server check --config <server.yaml>\n",
        );
    }
    for error in &errors {
        report.push_str(&format!("problem: {}\n", escaped(&error.to_string())));
    }
    if errors.is_empty() {
        report.push_str("check passed\n");
    } else {
        report.push_str(&format!("check failed: {} problem(s)\n", errors.len()));
    }
    (report, errors.is_empty())
}

/// What to do on an installation without a release, with this installation's own folder and
/// configuration file, so the sentence can be followed as printed.
fn next_step(config: &Config, snapshot: &Snapshot) -> String {
    let program = if cfg!(windows) {
        "kkt-update-server.exe"
    } else {
        "kkt-update-server"
    };
    let lines: Vec<&str> = snapshot.lines.lines.keys().map(String::as_str).collect();
    let (into, line_flag) = if lines.is_empty() {
        (shown(&config.firmware_dir), String::new())
    } else {
        (
            format!(
                "the folder of its line in {} ({})",
                shown(&config.firmware_dir),
                lines.join(", ")
            ),
            " --line <line>".to_string(),
        )
    };
    let config_flag = config
        .path
        .as_deref()
        .map_or(String::new(), |path| format!(" --config {}", shown(path)));
    format!(
        "Next step: put the vendor's upd_app.bin and upd_app_for_old_frs.bin in a folder \
         named for the release date (yyyymmdd, like 20250301) and copy it into {into}, or run \
         {program} publish <that folder>{line_flag}{config_flag}"
    )
}

/// A path as an operator can paste it: absolute, quoted when it holds a space.
fn shown(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = absolute.display().to_string();
    if text.contains(char::is_whitespace) {
        format!("\"{text}\"")
    } else {
        text
    }
}
