//! The rollout watch: every few seconds, off the request path, it brings the admissions
//! memory in step with the inventory (admissions other instances sharing the store made;
//! it reads only theirs, its own are in memory already) and decides automatic halts: a
//! release whose rollout has `halt_when_stuck_percent`, with at least 20 devices
//! (`HALT_MIN_FINISHED`) that finished its download since the rollout last (re)started and
//! a stuck share above the threshold, admits nobody new until its `meta.yaml` rollout is
//! edited (`halt_or_resume`). Halts live in the store, so they survive restarts and every
//! instance sees them.
//!
//! It also moves stages that advance themselves (`stages:`; `step_stages`): each round, for
//! each release with stages, it reads the stage record and the figures from the store,
//! takes the one step the rules give (start, force, pause, thaw, advance) by
//! compare-and-set, so that of several instances sharing a store one makes it, and hands
//! the current stage to the admissions memory, where the request path reads its number.
//! With `inventory: off` the records live in that memory only (lost on restart) and, with
//! no confirmations counted, a stage never passes by itself; `stage: N` and `paused` still
//! act.
//!
//! Every `REFRESH_EVERY` it also projects each rollout's finish (`forecasts`), after the
//! halts of the round, so the views read it ready.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::web;
use anyhow::Result;
use log::{info, warn};

use crate::app_state::AppState;
use crate::audit::{Action, AuditEntry};
use crate::catalog::device_line::{line_label, DEFAULT_LINE};
use crate::catalog::releases::Release;
use crate::catalog::snapshot::Snapshot;
use crate::model::clock;
use crate::model::lang::{fill, Lang};
use crate::rollout::admissions::{Halt, StageNow};
use crate::rollout::forecasts::{forecast, Observed, RATE_WINDOW_S, REFRESH_EVERY};
use crate::rollout::projection::Counts;
use crate::rollout::rules::{halt_due, per_mille_text, Rollout};
use crate::rollout::stages::figures_text_ru;
use crate::rollout::stages::{self, duration_text, figures_text, Figures, StageRecord, Step};
use crate::store::db::Db;
use crate::store::projection_reads;
use crate::store::rollout_sql::{self, RolloutStateRow};
use crate::store::stage_sql;
use crate::words::{Said, Words};

/// How often the watch runs.
const EVERY: Duration = Duration::from_secs(2);
/// Admissions are re-read this far back, for rows another instance committed late.
const OVERLAP: u64 = 120;

/// Loads every stored admission and halt; at start-up, before devices are answered. The
/// admissions, the halts and the stage records are read apart: a row of one that does not
/// read (an edit by hand) must not make the server forget the others, above all who was
/// admitted ("once admitted, always admitted"), which no later round reads again.
pub fn restore(state: &AppState) -> u64 {
    if !state.inventory.is_on() {
        return 0;
    }
    let now = clock::unix_now();
    let t = watch_words();
    let why = |e: anyhow::Error| format!("{e:#}");
    let newest = match state
        .inventory
        .read_blocking(|db| rollout_sql::admissions_since(db, 0, state.inventory.instance()))
    {
        Ok(rows) => {
            let newest = rows.iter().map(|r| r.3).max().unwrap_or(now);
            let count = state.admissions.merge(rows);
            if count > 0 {
                info!("{}", fill(t.admissions_restored, &[("count", &count)]));
            }
            newest
        }
        Err(e) => {
            warn!("{}", fill(t.admissions_unreadable, &[("why", &why(e))]));
            now
        }
    };
    match state
        .inventory
        .read_blocking(|db| rollout_sql::rollout_states(db))
    {
        Ok(states) => {
            let halts = halts_of(&states, &state.snapshot_arc());
            for (key, halt) in &halts {
                warn!("{}", halt_line(t.halted_restored, key, halt));
            }
            state.admissions.set_halts(halts);
        }
        Err(e) => warn!("{}", fill(t.halts_unreadable, &[("why", &why(e))])),
    }
    match state
        .inventory
        .read_blocking(|db| stage_sql::stage_rows(db))
    {
        Ok(stages) => state.admissions.set_stages(
            stages
                .into_iter()
                .map(|(key, record)| {
                    let figures = None;
                    (key, StageNow { record, figures })
                })
                .collect(),
        ),
        Err(e) => warn!("{}", fill(t.stages_unreadable, &[("why", &why(e))])),
    }
    newest
}

/// Runs until the process ends.
pub async fn run(state: web::Data<AppState>, mut since: u64) {
    if !state.inventory.is_on() {
        loop {
            actix_web::rt::time::sleep(EVERY).await;
            step_stages_in_memory(&state);
        }
    }
    let mut failing = false;
    // The first round projects too, then one every `REFRESH_EVERY`.
    let mut projected: Option<std::time::Instant> = None;
    loop {
        actix_web::rt::time::sleep(EVERY).await;
        let worker = state.clone();
        let from = since.saturating_sub(OVERLAP);
        let project = projected.is_none_or(|at| at.elapsed() >= REFRESH_EVERY);
        if project {
            projected = Some(std::time::Instant::now());
        }
        match web::block(move || {
            worker.inventory.read(|db| {
                let newest = tick(&worker, db, from)?;
                if project {
                    forecast_all(&worker, db)?;
                }
                Ok(newest)
            })
        })
        .await
        {
            Ok(Ok(newest)) => {
                since = since.max(newest);
                failing = false;
            }
            Ok(Err(e)) if !failing => {
                warn!(
                    "{}",
                    fill(
                        watch_words().watch_unreadable,
                        &[("why", &format!("{e:#}"))]
                    )
                );
                failing = true;
            }
            _ => {}
        }
    }
}

/// One round; returns where the next one reads from (before the overlap): the newest
/// admission seen or this round's start, whichever is later. Not the newest seen alone:
/// with no other instance writing, that would stay at start-up and every round would scan
/// all of this instance's own admissions since then.
fn tick(state: &AppState, db: &mut dyn Db, since: u64) -> Result<u64> {
    let now = clock::unix_now();
    let rows = rollout_sql::admissions_since(db, since, state.inventory.instance())?;
    let newest = rows.iter().map(|r| r.3).max().unwrap_or(since).max(now);
    state.admissions.merge(rows);

    let stuck_after = state.inventory.settings().stuck_after;
    let rows = rollout_sql::rollout_states(db)?;
    let stored: HashMap<(String, u32), &RolloutStateRow> = rows
        .iter()
        .map(|row| ((row.line.clone(), row.version), row))
        .collect();
    // Read again only when this round halted or resumed something.
    let mut changed = false;
    let snapshot = state.snapshot_arc();
    for line in snapshot.all_lines() {
        for release in line.releases.published() {
            let key = (line.name.to_string(), release.version.as_u32());
            let row = stored.get(&key).copied();
            changed |= halt_or_resume(db, state, &key, release, row, now, stuck_after)?;
        }
    }
    let halts = if changed {
        halts_of(&rollout_sql::rollout_states(db)?, &snapshot)
    } else {
        halts_of(&rows, &snapshot)
    };
    announce_changes(&state.admissions.halts(), &halts);
    // Halts first: a store that fails in the stage step below must not hold them back.
    let halted = halts.clone();
    state.admissions.set_halts(halts);
    // Stages apart too: a stage row that does not read (an edit by hand) leaves every
    // stage where it stands (said once), but must not fail the round, or the admissions
    // would be read again from ever further back and no rollout projected.
    match step_stages(db, state, &halted, now) {
        Ok(stages) => {
            STAGES_FAILING.store(false, Ordering::Relaxed);
            state.admissions.set_stages(stages);
        }
        Err(e) => {
            if !STAGES_FAILING.swap(true, Ordering::Relaxed) {
                warn!(
                    "{}",
                    fill(watch_words().stages_failing, &[("why", &format!("{e:#}"))])
                );
            }
        }
    }
    Ok(newest)
}

/// Set while the stage step fails, so that the log says so once (one watch per process).
static STAGES_FAILING: AtomicBool = AtomicBool::new(false);

/// Every published release with stages, with its line and version.
fn staged(state: &AppState) -> Vec<((String, u32), Rollout)> {
    let snapshot = state.snapshot_arc();
    let mut staged = Vec::new();
    for line in snapshot.all_lines() {
        for release in line.releases.published() {
            if let Some(rollout) = release.rollout.as_ref().filter(|r| !r.stages.is_empty()) {
                staged.push((
                    (line.name.to_string(), release.version.as_u32()),
                    rollout.clone(),
                ));
            }
        }
    }
    staged
}

fn settings<'a>(rollout: &'a Rollout, halted: bool) -> stages::Settings<'a> {
    stages::Settings {
        stages: &rollout.stages,
        paused: rollout.paused,
        forced: rollout.forced_stage,
        halted,
    }
}

/// Takes this round's step for each release with stages, in the store; returns where each
/// stands now. A step another instance took first changes nothing here (compare-and-set).
fn step_stages(
    db: &mut dyn Db,
    state: &AppState,
    halts: &HashMap<(String, u32), Halt>,
    now: u64,
) -> Result<HashMap<(String, u32), StageNow>> {
    let staged = staged(state);
    if staged.is_empty() {
        return Ok(HashMap::new());
    }
    let mut records: HashMap<(String, u32), StageRecord> =
        stage_sql::stage_rows(db)?.into_iter().collect();
    let mut stages = HashMap::new();
    let mut stepped = false;
    for (key, rollout) in &staged {
        let figures = stage_sql::figures(db, &key.0, key.1)?;
        let record = records.get(key);
        let step = stages::next_step(
            settings(rollout, halts.contains_key(key)),
            record,
            now,
            Some(figures),
        );
        if let Some(step) = step {
            // The history keeps the English; the log says it in the operator's language.
            let detail = step_detail(rollout, record, &step, &figures, Lang::En);
            if stage_sql::apply(db, key, record, &step, now, &detail)? {
                let said = step_detail(rollout, record, &step, &figures, Lang::operator());
                announce_step(key, &step, &said);
                if let Some(action) = audited(&step) {
                    audit(state, action, key, &detail);
                }
            }
            stepped = true;
        }
        stages.insert(key.clone(), Some(figures));
    }
    if stepped {
        records = stage_sql::stage_rows(db)?.into_iter().collect();
    }
    Ok(stages
        .into_iter()
        .filter_map(|(key, figures)| {
            let record = *records.get(&key)?;
            Some((key, StageNow { record, figures }))
        })
        .collect())
}

/// The same with `inventory: off`: the records live in the admissions memory, and with no
/// confirmations counted no stage passes; `stage: N` and `paused` act as with a store.
fn step_stages_in_memory(state: &AppState) {
    let now = clock::unix_now();
    let before = state.admissions.stages();
    let mut stages = HashMap::new();
    for (key, rollout) in staged(state) {
        let mut record = before.get(&key).map(|s| s.record);
        if let Some(step) = stages::next_step(settings(&rollout, false), record.as_ref(), now, None)
        {
            let detail = step_detail(
                &rollout,
                record.as_ref(),
                &step,
                &Figures::default(),
                Lang::operator(),
            );
            record = stages::after(record.as_ref(), &step, now);
            announce_step(&key, &step, &detail);
        }
        if let Some(record) = record {
            let figures = None;
            stages.insert(key, StageNow { record, figures });
        }
    }
    state.admissions.set_stages(stages);
}

/// The watch's words in the operator's language.
fn watch_words() -> &'static crate::words::watch::WatchText {
    Words::of(Lang::operator()).watch
}

/// A line's name for the log: the default line in the operator's words ("(default)").
fn line_words(name: &str) -> &str {
    if name == DEFAULT_LINE {
        Words::of(Lang::operator()).dashboard.default_line
    } else {
        line_label(name)
    }
}

/// A halt or resume line of the log: the release, its line and (for a halt) why.
fn halt_line(template: &str, key: &(String, u32), halt: &Halt) -> String {
    fill(
        template,
        &[
            ("version", &key.1),
            ("line", &line_words(&key.0)),
            ("reason", &halt.reason.in_language(Lang::operator())),
        ],
    )
}

/// "stage 1 (5%) → stage 2 (25%): …": what the history (in English) and the log (in the
/// operator's language) say of a step that records something (an advance, a forced
/// stage); empty for the others.
fn step_detail(
    rollout: &Rollout,
    old: Option<&StageRecord>,
    step: &Step,
    figures: &Figures,
    lang: Lang,
) -> String {
    let t = Words::of(lang).watch;
    let share = |stage: u8| rollout.limits_at(stage).0;
    let cap = |stage: u8| {
        rollout
            .limits_at(stage)
            .1
            .map_or_else(String::new, |cap| fill(t.step_cap, &[("cap", &cap)]))
    };
    let forced = |template, stage: u8, forced: u8, from: u8| {
        fill(
            template,
            &[
                ("stage", &stage),
                ("percent", &share(stage)),
                ("forced", &forced),
                ("from", &from),
                ("cap", &cap(stage)),
            ],
        )
    };
    match step {
        Step::Advance { from, to } => {
            let index = usize::from(*from).saturating_sub(1);
            let soak = rollout.stages.get(index).map_or(0, |s| s.soak_s);
            let figures = rollout
                .stages
                .get(index)
                .map(|s| match lang {
                    Lang::En => figures_text(s, figures),
                    Lang::Ru => figures_text_ru(s, figures),
                })
                .unwrap_or_default();
            fill(
                t.step_advance,
                &[
                    ("from", from),
                    ("from_percent", &share(*from)),
                    ("to", to),
                    ("to_percent", &share(*to)),
                    ("figures", &figures),
                    ("soak", &duration_text(soak)),
                    ("cap", &cap(*to)),
                ],
            )
        }
        Step::Force { from, to } => forced(t.step_forced_from, to.stage, to.forced, *from),
        Step::Start(new) if new.forced != 0 && old.is_none() => {
            forced(t.step_forced, new.stage, new.forced, 0)
        }
        _ => String::new(),
    }
}

/// The audit trail's action for a step that the history records (an advance, a stage
/// forced), none for the others.
fn audited(step: &Step) -> Option<Action> {
    match step {
        Step::Advance { .. } => Some(Action::Advanced),
        Step::Force { .. } => Some(Action::StageForced),
        Step::Start(new) if new.forced != 0 => Some(Action::StageForced),
        _ => None,
    }
}

/// Logs a step that this instance made and that the history records.
fn announce_step(key: &(String, u32), step: &Step, detail: &str) {
    let t = watch_words();
    let what = match step {
        Step::Advance { .. } => t.advanced,
        Step::Force { .. } => t.stage_forced,
        Step::Start(new) if new.forced != 0 => t.stage_forced,
        _ => return,
    };
    info!(
        "{}",
        fill(
            t.stepped,
            &[
                ("version", &key.1),
                ("line", &line_words(&key.0)),
                ("what", &what),
                ("detail", &detail),
            ],
        )
    );
}

/// Why a rollout halted, from the table of `words`.
fn halt_reason(stuck: u64, finished: u64, threshold: u32, words: &'static Words) -> String {
    let share = u32::try_from(stuck * 1000 / finished.max(1)).unwrap_or(1000);
    fill(
        words.watch.halt_reason,
        &[
            ("stuck", &stuck),
            ("finished", &finished),
            ("share", &per_mille_text(share)),
            ("threshold", &per_mille_text(threshold)),
        ],
    )
}

/// Decides for one published release (`key`: its line and version; `row`: its stored
/// rollout state): a halted rollout whose settings were edited (or removed) is resumed; a
/// running one whose stuck share passed its threshold is halted. Whether it stored either.
fn halt_or_resume(
    db: &mut dyn Db,
    state: &AppState,
    key: &(String, u32),
    release: &Release,
    row: Option<&RolloutStateRow>,
    now: u64,
    stuck_after: u64,
) -> Result<bool> {
    let settings = release
        .rollout
        .as_ref()
        .map(|r| r.settings_id.clone())
        .unwrap_or_default();
    if let Some(row) = row.filter(|r| r.halted_at.is_some()) {
        // A pause or resume the server wrote is no edit that resumes (`carry_halt`).
        if rollout_sql::halt_holds(&row.settings, &settings) {
            return Ok(false);
        }
        let detail = match &release.rollout {
            Some(rollout) => format!("rollout edited: now {rollout}"),
            None => "rollout removed from meta.yaml".to_string(),
        };
        rollout_sql::resume_rollout(db, &key.0, key.1, now, &detail)?;
        return Ok(true);
    }
    let Some(threshold) = release
        .rollout
        .as_ref()
        .and_then(|r| r.halt_when_stuck_per_mille)
    else {
        return Ok(false);
    };
    let counted_from = row.map_or(0, |r| r.counted_from);
    let (finished, stuck) =
        rollout_sql::finished_and_stuck(db, &key.0, key.1, counted_from, now, stuck_after)?;
    if !halt_due(threshold, finished, stuck) {
        return Ok(false);
    }
    // Stored in English; each instance says it in its operator's language (`halts_of`).
    let detail = halt_reason(stuck, finished, threshold, Words::of(Lang::En));
    let halted = rollout_sql::halt_rollout(
        db,
        &RolloutStateRow {
            line: key.0.clone(),
            version: key.1,
            counted_from,
            halted_at: Some(now),
            settings,
            detail: detail.clone(),
            stuck,
            finished,
        },
    )?;
    // Only the instance whose write halted it records it.
    if halted {
        audit(state, Action::Halt, key, &detail);
    }
    Ok(true)
}

/// The audit trail's record of a decision the server made about the rollout of `key`.
fn audit(state: &AppState, action: Action, key: &(String, u32), result: &str) {
    let subject = crate::store::audit_events::subject(key);
    state
        .inventory
        .audit(AuditEntry::new("server", action, &subject, result));
}

/// Logs each rollout halted or resumed since the last round (`before`: the halts then).
fn announce_changes(before: &HashMap<(String, u32), Halt>, halts: &HashMap<(String, u32), Halt>) {
    let t = watch_words();
    for (key, halt) in halts {
        if !before.contains_key(key) {
            warn!("{}", halt_line(t.halted, key, halt));
        }
    }
    for (key, halt) in before.iter().filter(|(k, _)| !halts.contains_key(*k)) {
        info!("{}", halt_line(t.resumed, key, halt));
    }
}

/// Projects the finish of every published release under rollout from the store's counts
/// (`forecasts`), as of now.
fn forecast_all(state: &AppState, db: &mut dyn Db) -> Result<()> {
    let now = clock::unix_now();
    let snapshot = state.snapshot_arc();
    let mut latest = HashMap::new();
    for line in snapshot.all_lines() {
        for release in line.releases.published() {
            let Some(rollout) = &release.rollout else {
                continue;
            };
            let version = release.version.as_u32();
            let f = projection_reads::release_figures(
                db,
                line.name,
                version,
                now.saturating_sub(RATE_WINDOW_S),
            )?;
            let observed = Observed {
                counts: Counts {
                    below: f.below,
                    admitted_below: f.admitted_below,
                    admitted: f.admitted,
                    downloaded: f.downloaded,
                    confirmed: f.confirmed,
                },
                updated: f.updated,
                updated_last_day: f.updated_recent,
                first_seen: f.first_seen,
            };
            let halted = state.admissions.halt(line.name, release.version).is_some();
            let stage = state
                .admissions
                .stage(line.name, release.version)
                .map(|s| s.record);
            latest.insert(
                (line.name.to_string(), version),
                forecast(rollout, stage, &observed, halted, now),
            );
        }
    }
    state.forecasts.set(latest);
    Ok(())
}

/// The halts stored. Each reason is the stored English, and in Russian made again from the
/// stored counts and the threshold of the release as published (a halted rollout's settings
/// are unchanged: an edit resumes it); the stored text where the release is gone.
fn halts_of(rows: &[RolloutStateRow], snapshot: &Snapshot) -> HashMap<(String, u32), Halt> {
    rows.iter()
        .filter_map(|row| {
            let threshold = snapshot
                .all_lines()
                .find(|line| line.name == row.line.as_str())
                .and_then(|line| {
                    line.releases
                        .published()
                        .find(|r| r.version.as_u32() == row.version)
                })
                .and_then(|r| r.rollout.as_ref()?.halt_when_stuck_per_mille);
            let reason = Said::new(|w| match (w.lang, threshold) {
                (Lang::Ru, Some(threshold)) => halt_reason(row.stuck, row.finished, threshold, w),
                _ => row.detail.clone(),
            });
            Some((
                (row.line.clone(), row.version),
                Halt {
                    since: row.halted_at?,
                    stuck: row.stuck,
                    finished: row.finished,
                    reason,
                },
            ))
        })
        .collect()
}
