//! Hot reload: waits for a change signal (filesystem, SIGHUP, or a settling folder's
//! timer), debounces on the trailing edge, re-reads the configuration, rescans with the
//! same pure scan as start-up, and swaps the whole snapshot in one store.
//!
//! A rescan never makes things worse than the snapshot it replaces (the scan keeps what
//! cannot be read now), and a configuration file that fails to load keeps the running one.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use log::{debug, error, info, warn};
use tokio::sync::mpsc;

use crate::app_state::{AppState, ReloadRecord, StaleConfig};
use crate::audit::{Action, AuditEntry};
use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::cli::RawArgs;
use crate::config::Config;
use crate::model::clock;
use crate::model::lang::{fill, Lang};
use crate::platform::reload_signal::ReloadSignal;
use crate::reload::watcher::{Change, FsWatcher, CHANNEL_SIZE};
use crate::store::audit_events::audit_entries;
use crate::store::release_events::release_events;
use crate::words::cli::OperatorText;
use crate::words::log::LogText;
use crate::words::{chain_in, Words};

/// Quiet time after the last change signal before a rescan (the trailing edge).
const DEBOUNCE: Duration = Duration::from_millis(100);
/// A steady stream of changes (a long copy) still gets a rescan this often.
const MAX_DEBOUNCE: Duration = Duration::from_secs(1);
/// Margin after a settle deadline, so that the folder is surely quiet when rescanned.
const SETTLE_MARGIN: Duration = Duration::from_millis(20);

/// What started a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A filesystem change.
    Files,
    /// SIGHUP.
    Signal,
    /// A release folder or license file has been quiet for `settle_ms`.
    Settle,
    /// `POST /reload` on the admin listener (`kkt-update-server reload`).
    Request,
}

impl Trigger {
    /// What happened, in the log's words.
    pub fn words(self, t: &LogText) -> &'static str {
        match self {
            Trigger::Files => t.trigger_files,
            Trigger::Signal => t.trigger_signal,
            Trigger::Settle => t.trigger_settle,
            Trigger::Request => t.trigger_request,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Trigger::Files => "files",
            Trigger::Signal => "signal",
            Trigger::Settle => "settle",
            Trigger::Request => "request",
        }
    }
}

pub struct Reloader {
    state: web::Data<AppState>,
    raw: RawArgs,
    config: Config,
    changes: mpsc::Receiver<Change>,
    /// What the watcher saw of files being written, handed to every scan.
    ledger: WriteLedger,
    hangup: ReloadSignal,
    /// Kept alive for as long as the reloader runs: dropping it stops the watching.
    watcher: Option<FsWatcher>,
    /// Problems already logged, so that a lasting fault is logged once, not per rescan.
    logged: HashSet<String>,
    /// Viewers limited to groups the groups file does not have, as last logged.
    operator_groups_logged: HashSet<String>,
    /// The last configuration error logged.
    config_error: Option<String>,
}

impl Reloader {
    /// Sets up watching and the SIGHUP handler. Must run inside the server's runtime, and
    /// before the server answers, so that an early SIGHUP cannot kill the process.
    pub fn new(state: web::Data<AppState>, raw: RawArgs, config: Config) -> Reloader {
        let (sender, changes) = mpsc::channel(CHANNEL_SIZE);
        let watcher = match FsWatcher::new(sender) {
            Ok(mut watcher) => {
                watcher.sync(&config);
                Some(watcher)
            }
            Err(message) => {
                error!("cannot watch for changes: {message}");
                None
            }
        };
        let hangup = ReloadSignal::new();
        let logged = problems(&state.snapshot_arc());
        if let Some(path) = &config.path {
            let _ = state.config_file.set(path.display().to_string());
        }
        Reloader {
            state,
            raw,
            config,
            changes,
            ledger: WriteLedger::default(),
            hangup,
            watcher,
            logged,
            operator_groups_logged: HashSet::new(),
            config_error: None,
        }
        .with_operator_groups_checked()
    }

    /// Logs (once each, again when it changes) every viewer limited to a group the groups
    /// file does not have: checked when either file reloads, since they change apart.
    fn check_operator_groups(&mut self) {
        let snapshot = self.state.snapshot_arc();
        let groups = snapshot.groups_file.as_ref().map(|_| snapshot.groups());
        let now: HashSet<String> = crate::config::operators::unknown_groups(
            &self.state.operators(),
            groups,
            Lang::operator(),
        )
        .into_iter()
        .map(|w| crate::model::one_line::escaped(&w).into_owned())
        .collect();
        for warning in now.difference(&self.operator_groups_logged) {
            warn!("{warning}");
        }
        self.operator_groups_logged = now;
    }

    fn with_operator_groups_checked(mut self) -> Reloader {
        self.check_operator_groups();
        self
    }

    /// Runs until the process ends.
    pub async fn run(mut self) {
        let mut settle_at = settle_deadline(&self.state.snapshot_arc());
        loop {
            let trigger = tokio::select! {
                Some(change) = self.changes.recv() => {
                    self.note(change);
                    Trigger::Files
                }
                Some(()) = self.hangup.next() => Trigger::Signal,
                () = self.state.reload_requested.notified() => Trigger::Request,
                () = sleep_until(settle_at), if settle_at.is_some() => Trigger::Settle,
            };
            if trigger == Trigger::Files {
                self.debounce().await;
            }
            let snapshot = self.reload(trigger).await;
            settle_at = settle_deadline(&snapshot);
        }
    }

    /// Waits until no change signal has come for `DEBOUNCE` (at most `MAX_DEBOUNCE`).
    async fn debounce(&mut self) {
        let started = Instant::now();
        while started.elapsed() < MAX_DEBOUNCE {
            match tokio::time::timeout(DEBOUNCE, self.changes.recv()).await {
                Ok(Some(change)) => {
                    self.note(change);
                    continue;
                }
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Re-reads the configuration, rescans, swaps the snapshot and logs what changed.
    pub async fn reload(&mut self, trigger: Trigger) -> Arc<Snapshot> {
        let started = Instant::now();
        let config_error = self.reload_config();
        if matches!(trigger, Trigger::Signal | Trigger::Request) {
            // logrotate moved the access log away: write to a new file of that name.
            self.state.access_log.reopen(self.config.access_log.clone());
        }
        let previous = self.state.snapshot_arc();
        let config = self.config.clone();
        let before = previous.clone();
        // Messages that came in meanwhile (a close, say) count for this scan.
        while let Ok(change) = self.changes.try_recv() {
            self.note(change);
        }
        if let Some(watcher) = &self.watcher {
            if watcher.lost.swap(false, Ordering::SeqCst) {
                self.lose_track();
            }
        }
        self.ledger.prune();
        let ledger = self.ledger.clone();
        let scanned = web::block(move || {
            Snapshot::scan(
                &config.scan_settings(),
                clock::now(),
                Some(&before),
                &ledger,
            )
        })
        .await;
        let snapshot = match scanned {
            Ok(snapshot) => Arc::new(snapshot),
            Err(e) => {
                let t = log_words();
                error!("{}", fill(t.rescan_failed, &[("why", &e)]));
                self.record(
                    trigger,
                    fill(t.rescan_failed_outcome, &[("why", &e)]),
                    false,
                    started,
                );
                return previous;
            }
        };
        self.state.store_arc(snapshot.clone());
        for event in release_events(Some(&previous), &snapshot, clock::unix_now()) {
            self.state.inventory.record(event);
        }
        let firmware_dir = self.config.firmware_dir.clone();
        let withdrawer = |line: &str, version: u32| {
            crate::publishing::withdraw::withdrawn_by(&firmware_dir, line, version)
        };
        for entry in audit_entries(&previous, &snapshot, withdrawer) {
            self.state.inventory.audit_seen_on_disk(entry);
        }
        if let Some(watcher) = &mut self.watcher {
            watcher.sync(&self.config);
        }
        let summary = self.log_changes(trigger, &previous, &snapshot, started.elapsed());
        self.check_operator_groups();
        match config_error {
            Some(error) => self.record(
                trigger,
                fill(log_words().config_kept_outcome, &[("why", &error)]),
                false,
                started,
            ),
            None => self.record(trigger, summary, true, started),
        }
        snapshot
    }

    /// Keeps the ledger of writers from one watcher message.
    fn note(&mut self, change: Change) {
        match change {
            Change::Rescan => {}
            Change::Writing(path) => self.ledger.writing(&path),
            Change::Closed(path) => self.ledger.closed(&path),
            Change::New(path) => self.ledger.unknown(&path),
            Change::Renamed(from, to) => self.ledger.renamed(&from, &to),
            Change::Lost => self.lose_track(),
        }
    }

    /// Events were lost: which files are being written is no longer known, so every file
    /// not yet published waits `unconfirmed_settle_ms` unless the kernel vouches for it.
    fn lose_track(&mut self) {
        if !self.ledger.is_empty() {
            warn!("{}", log_words().events_lost);
        }
        self.ledger.forget_all();
    }

    fn record(&self, trigger: Trigger, outcome: String, ok: bool, started: Instant) {
        self.audit(trigger, &outcome, ok);
        self.state.record_reload(ReloadRecord {
            at: clock::unix_now(),
            trigger: trigger.name(),
            outcome,
            ok,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// The audit trail's record of a reload: every one an operator asked for (`POST
    /// /reload`, SIGHUP), and those the server made by itself (a file changed, a folder
    /// settled) that changed something or failed; a rescan that found nothing new is no
    /// decision worth a record.
    fn audit(&self, trigger: Trigger, outcome: &str, ok: bool) {
        let asked = matches!(trigger, Trigger::Request | Trigger::Signal);
        if !asked && ok && outcome == log_words().nothing_changed {
            return;
        }
        let actor = match trigger {
            Trigger::Request => self.state.take_reload_requester(),
            _ => "server".to_string(),
        };
        let result = if ok {
            format!("reloaded: {outcome}")
        } else {
            format!("kept the running state: {outcome}")
        };
        self.state.inventory.audit(AuditEntry::new(
            &actor,
            Action::Reload,
            &format!("trigger {}", trigger.name()),
            &result,
        ));
    }

    /// Loads the configuration again; on failure keeps the running one (logged once) and
    /// returns the error, in the operator's language.
    fn reload_config(&mut self) -> Option<String> {
        let t = log_words();
        match Config::load(&self.raw) {
            Ok(config) => {
                if self.config_error.take().is_some() {
                    info!("{}", t.config_loads_again);
                }
                self.state.set_config_stale(None);
                if config == self.config {
                    return None;
                }
                if config.access_log != self.config.access_log {
                    self.state.access_log.reopen(config.access_log.clone());
                }
                if config.fleet_max_devices != self.config.fleet_max_devices {
                    self.state.fleet().set_cap(config.fleet_max_devices);
                }
                if config.listen != self.config.listen {
                    warn!(
                        "{}",
                        fill(
                            t.listen_changed,
                            &[("new", &config.listen), ("old", &self.config.listen)]
                        )
                    );
                }
                if config.admin_listen != self.config.admin_listen {
                    warn!("{}", t.admin_listen_changed);
                }
                self.apply_admin_settings(&config);
                info!("{}", t.config_reloaded);
                self.config = Config {
                    listen: self.config.listen,
                    admin_listen: self.config.admin_listen,
                    admin_hosts: self.config.admin_hosts.clone(),
                    shutdown_timeout: self.config.shutdown_timeout,
                    session_ttl: self.config.session_ttl,
                    ..config
                };
                None
            }
            Err(e) => {
                // `/status` and the banner keep the English; the log speaks the operator's.
                let message = format!("{e:#}");
                self.state.set_config_stale(Some(StaleConfig {
                    file: self.config_file(),
                    error: message.clone(),
                    error_ru: chain_in(&*e, Lang::Ru),
                    since: clock::unix_now(),
                }));
                let said = chain_in(&*e, Lang::operator());
                if self.config_error.as_ref() != Some(&message) {
                    error!("{}", fill(t.config_broken, &[("why", &said)]));
                    self.config_error = Some(message);
                }
                Some(said)
            }
        }
    }

    /// The admin listener's settings of a configuration that loaded: the operators apply
    /// from the next request (one store of the whole table: a request sees the old
    /// operators or the new, never a mix); the rest is said to need a restart.
    fn apply_admin_settings(&self, config: &Config) {
        let t = log_words();
        let operators = config.operator_table();
        if operators != self.config.operator_table() {
            let count = operators.entries().len();
            self.state.set_operators(operators);
            info!("{}", fill(t.operators_reloaded, &[("count", &count)]));
        }
        let admin_tls = |c: &Config| c.tls.as_ref().map(|t| t.admin);
        if config.admin_hosts != self.config.admin_hosts
            || config.shutdown_timeout != self.config.shutdown_timeout
            || config.session_ttl != self.config.session_ttl
            || admin_tls(config) != admin_tls(&self.config)
        {
            warn!("{}", t.admin_settings_changed);
        }
    }

    /// The configuration file, as named (`server.yaml` when the settings came from flags).
    fn config_file(&self) -> String {
        self.state
            .config_file
            .get()
            .cloned()
            .unwrap_or_else(|| "server.yaml".to_string())
    }

    /// Logs what devices now see differently (and new problems); returns that summary.
    fn log_changes(
        &mut self,
        trigger: Trigger,
        previous: &Snapshot,
        snapshot: &Snapshot,
        took: Duration,
    ) -> String {
        let mut changes = Vec::new();
        let version = |s: &Snapshot| s.releases.current().map(|r| r.version);
        if version(previous) != version(snapshot)
            || previous.releases.current().map(|r| &r.description)
                != snapshot.releases.current().map(|r| &r.description)
        {
            changes.push(snapshot_report::current_line(snapshot, Lang::operator()));
        }
        if previous.critical != snapshot.critical {
            changes.push(snapshot_report::critical_line(snapshot, Lang::operator()));
        }
        let lines = snapshot_report::lines_line(snapshot, Lang::operator());
        if snapshot_report::lines_line(previous, Lang::operator()) != lines {
            changes.push(lines.unwrap_or_else(|| {
                OperatorText::of(Lang::operator())
                    .no_lines_any_more
                    .to_string()
            }));
        }
        if previous.licenses.total() != snapshot.licenses.total() {
            changes.push(snapshot_report::licenses_line(snapshot, Lang::operator()));
        }
        changes.extend(groups_change(previous, snapshot));
        let t = log_words();
        let ms = took.as_millis();
        let rescanned = || {
            fill(
                t.rescanned,
                &[
                    ("trigger", &trigger.words(t)),
                    ("ms", &ms),
                    ("nothing", &t.nothing_changed),
                ],
            )
        };
        if changes.is_empty() && matches!(trigger, Trigger::Signal | Trigger::Request) {
            info!("{}", rescanned());
        } else if changes.is_empty() {
            debug!("{}", rescanned());
        } else {
            info!(
                "{}",
                fill(
                    t.reloaded,
                    &[
                        ("trigger", &trigger.words(t)),
                        ("ms", &ms),
                        ("changes", &changes.join("; ")),
                    ],
                )
            );
        }
        let now = problems(snapshot);
        for problem in now.difference(&self.logged) {
            warn!("{problem}");
        }
        self.logged = now;
        if changes.is_empty() {
            t.nothing_changed.to_string()
        } else {
            changes.join("; ")
        }
    }
}

/// groups: "groups now: 2 ("A", "B")" when the groups served changed (an edit that
/// loaded; a bad one is a problem, logged as such).
fn groups_change(previous: &Snapshot, snapshot: &Snapshot) -> Option<String> {
    if previous.groups() == snapshot.groups() {
        return None;
    }
    let t = Words::of(Lang::operator()).groups;
    Some(
        crate::model::one_line::escaped(&fill(
            t.changed,
            &[
                ("count", &snapshot.groups().len()),
                ("names", &snapshot_report::group_names(snapshot.groups())),
            ],
        ))
        .into_owned(),
    )
}

/// The log's words in the operator's language.
fn log_words() -> &'static LogText {
    Words::of(Lang::operator()).log
}

/// Every problem of a snapshot, as logged.
fn problems(snapshot: &Snapshot) -> HashSet<String> {
    snapshot_report::errors(snapshot, Lang::operator())
        .into_iter()
        .chain(snapshot_report::warnings(snapshot, Lang::operator()))
        .collect()
}

fn settle_deadline(snapshot: &Snapshot) -> Option<tokio::time::Instant> {
    snapshot
        .next_settle()
        .map(|wait| tokio::time::Instant::now() + wait + SETTLE_MARGIN)
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
