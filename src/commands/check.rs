//! `kkt-update-server check`: validates the configuration, every release folder and every
//! license file, prints what it found and each problem, and fails on problems, like
//! `nginx -t`. It scans exactly as the server does, so it cannot disagree with it.

use std::path::Path;

use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::Config;
use crate::model::clock;
use crate::model::lang::fill;
use crate::model::lang::InLanguage;
use crate::model::one_line::escaped;
use crate::platform::process_user;
use crate::words::cli::OperatorText;

/// Runs the check; returns the report, in `config.language`, and whether everything is
/// fine.
pub fn run(config: &Config) -> (String, bool) {
    let lang = config.language;
    let t = OperatorText::of(lang);
    let snapshot = Snapshot::scan(
        &config.scan_settings(),
        clock::now(),
        None,
        &WriteLedger::default(),
    );
    let mut report = String::new();
    // Which file, and how it was chosen (or where none was found).
    match &config.path {
        Some(_) => report.push_str(&format!("{}: ok\n", config.found.describe(lang))),
        None => report.push_str(&format!(
            "{}{}\n",
            config.found.describe(lang),
            config.found.fallback(lang)
        )),
    }
    report.push_str(&fill(t.check_listen, &[("addr", &config.listen)]));
    report.push('\n');
    let tls_problem = tls_line(config, t, &mut report);
    report.push_str(&snapshot_report::full_report(&snapshot, lang));
    let mut errors = snapshot_report::errors(&snapshot, lang);
    errors.extend(tls_problem);
    let published = snapshot
        .all_lines()
        .any(|line| line.releases.current().is_some());
    let mut warnings = Vec::new();
    if !published && snapshot.next_settle().is_none() {
        // A fresh installation has no release yet: devices get a valid "no update", which is
        // a state to know about, not a broken configuration.
        let next = next_step(config, &snapshot, t);
        // The next step quotes this installation's paths: one line, like every warning.
        warnings.push(escaped(&fill(t.check_no_release, &[("next", &next)])).to_string());
    }
    // Warnings and problems quote names from the operator's files: each stays one line.
    let groups = snapshot.groups_file.as_ref().map(|_| snapshot.groups());
    for warning in config
        .warnings()
        .into_iter()
        .chain(snapshot_report::warnings(&snapshot, lang))
        .chain(crate::config::operators::unknown_groups(
            &config.operator_table(),
            groups,
            lang,
        ))
    {
        warnings.push(escaped(&warning).to_string());
    }
    if process_user::is_root() {
        warnings.push(t.check_as_root.to_string());
    }
    for warning in warnings {
        report.push_str(&format!("{}: {warning}\n", t.warning));
    }
    for error in &errors {
        report.push_str(&format!("{}: {}\n", t.problem, escaped(&error.to_string())));
    }
    if errors.is_empty() {
        report.push_str(t.check_passed);
    } else {
        report.push_str(&fill(t.check_failed, &[("count", &errors.len())]));
    }
    report.push('\n');
    (report, errors.is_empty())
}

/// The TLS pair's line of the report, or the problem loading it.
fn tls_line(config: &Config, t: &OperatorText, report: &mut String) -> Option<String> {
    let tls = config.tls.as_ref()?;
    match crate::config::tls::load_pair(&tls.files) {
        Ok(pair) => {
            let https = tls
                .listen
                .map_or(String::new(), |a| fill(t.check_tls_https, &[("addr", &a)]));
            let admin = if tls.admin { t.check_tls_admin } else { "" };
            report.push_str(&fill(
                t.check_tls,
                &[
                    ("count", &pair.cert.len()),
                    ("cert", &tls.files.cert.display()),
                    ("key", &tls.files.key.display()),
                    ("https", &https),
                    ("admin", &admin),
                ],
            ));
            report.push('\n');
            None
        }
        Err(problem) => Some(problem.in_language(config.language)),
    }
}

/// What to do on an installation without a release, with this installation's own folder and
/// configuration file, so the sentence can be followed as printed.
fn next_step(config: &Config, snapshot: &Snapshot, t: &OperatorText) -> String {
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
            fill(
                t.next_step_line_folder,
                &[
                    ("dir", &shown(&config.firmware_dir)),
                    ("lines", &lines.join(", ")),
                ],
            ),
            " --line <line>".to_string(),
        )
    };
    let config_flag = config
        .path
        .as_deref()
        .map_or(String::new(), |path| format!(" --config {}", shown(path)));
    fill(
        t.next_step,
        &[
            ("into", &into),
            ("program", &program),
            ("line_flag", &line_flag),
            ("config_flag", &config_flag),
        ],
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
