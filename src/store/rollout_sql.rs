//! What the rollout watch (`rollout::watch`) reads and writes in the store: the admissions
//! other instances made, each rollout's halt state, the outcomes that may halt a rollout,
//! and the halt and the resume themselves (one instance sharing the store writes each).

use anyhow::Result;

use crate::store::db::{in_transaction, Db, Value};
use crate::store::history_kind::HistoryKind;

/// One admission as stored: address, line, version, when, whether as a pilot.
pub type AdmissionRow = (std::net::IpAddr, String, u32, u64, bool);

/// Admissions made at or after `since` by instances other than `except` (at start-up, with
/// the starting instance's own name and 0: every admission stored).
pub fn admissions_since(db: &mut dyn Db, since: u64, except: &str) -> Result<Vec<AdmissionRow>> {
    let rows = db.query(ADMISSIONS_SINCE, &[Value::from(since), Value::from(except)])?;
    let mut admissions = Vec::with_capacity(rows.len());
    for row in rows {
        // An address that is not one (written by hand) admits no device: skipped, as
        // before; a column missing or of another type is an error.
        let Ok(address) = row.text("address")?.parse() else {
            continue;
        };
        admissions.push((
            address,
            row.text("line")?,
            row.u32("version")?,
            row.u64("at")?,
            row.bool("pilot")?,
        ));
    }
    Ok(admissions)
}

/// A rollout's halt state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutStateRow {
    pub line: String,
    pub version: u32,
    /// Outcomes count from downloads at or after this (the last resume).
    pub counted_from: u64,
    pub halted_at: Option<u64>,
    /// The rollout's settings fingerprint when it was halted.
    pub settings: String,
    pub detail: String,
    pub stuck: u64,
    pub finished: u64,
}

pub fn rollout_states(db: &mut dyn Db) -> Result<Vec<RolloutStateRow>> {
    let rows = db.query(
        "SELECT line, version, counted_from, halted_at, settings, detail, stuck, finished \
         FROM rollout_state",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            Ok(RolloutStateRow {
                line: row.text("line")?,
                version: row.u32("version")?,
                counted_from: row.u64("counted_from")?,
                halted_at: row.opt_u64("halted_at")?,
                settings: row.text("settings")?,
                detail: row.text("detail")?,
                stuck: row.u64("stuck")?,
                finished: row.u64("finished")?,
            })
        })
        .collect()
}

/// Run every 2 s per release with `halt_when_stuck_percent`: migration 5's index covers it.
const FINISHED_AND_STUCK: &str = "SELECT COUNT(*) AS finished, \
     COUNT(CASE WHEN updated_at IS NULL AND downloaded_at <= $1 THEN 1 END) AS stuck \
     FROM device_releases WHERE line = $2 AND version = $3 AND downloaded_at IS NOT NULL \
     AND downloaded_at >= $4";

/// Run every 2 s: migration 4's index covers the filter.
const ADMISSIONS_SINCE: &str =
    "SELECT address, line, version, at, pilot FROM admissions WHERE at >= $1 AND instance <> $2";

/// Of the devices that finished downloading release `version` of `line` at or after
/// `since`: how many, and how many of them are stuck.
pub fn finished_and_stuck(
    db: &mut dyn Db,
    line: &str,
    version: u32,
    since: u64,
    now: u64,
    stuck_after: u64,
) -> Result<(u64, u64)> {
    let rows = db.query(
        FINISHED_AND_STUCK,
        &[
            Value::from(now.saturating_sub(stuck_after)),
            Value::from(line),
            Value::from(version),
            Value::from(since),
        ],
    )?;
    match rows.first() {
        Some(row) => Ok((row.u64("finished")?, row.u64("stuck")?)),
        None => Ok((0, 0)),
    }
}

/// Marks a rollout halted unless it already is; whether this call halted it (so that only
/// one instance sharing the store writes the history entry).
pub fn halt_rollout(db: &mut dyn Db, row: &RolloutStateRow) -> Result<bool> {
    in_transaction(db, |db| {
        db.exec(
            "INSERT INTO rollout_state (line, version) VALUES ($1, $2) \
             ON CONFLICT (line, version) DO NOTHING",
            &[Value::from(row.line.as_str()), Value::from(row.version)],
        )?;
        let changed = db.exec(
            "UPDATE rollout_state SET halted_at = $3, settings = $4, detail = $5, stuck = $6, \
             finished = $7 WHERE line = $1 AND version = $2 AND halted_at IS NULL",
            &[
                Value::from(row.line.as_str()),
                Value::from(row.version),
                Value::from(row.halted_at.unwrap_or(0)),
                Value::from(row.settings.as_str()),
                Value::from(row.detail.as_str()),
                Value::from(row.stuck),
                Value::from(row.finished),
            ],
        )?;
        if changed > 0 {
            db.exec(
                "INSERT INTO history (at, kind, version, detail, line) VALUES ($1, $5, $2, $3, $4)",
                &[
                    Value::from(row.halted_at.unwrap_or(0)),
                    Value::from(row.version),
                    Value::from(row.detail.as_str()),
                    Value::from(row.line.as_str()),
                    Value::from(HistoryKind::Halted.as_str()),
                ],
            )?;
        }
        Ok(changed > 0)
    })
}

/// Resumes a halted rollout: outcomes count afresh from `at`; `detail` goes to the history.
pub fn resume_rollout(
    db: &mut dyn Db,
    line: &str,
    version: u32,
    at: u64,
    detail: &str,
) -> Result<bool> {
    in_transaction(db, |db| {
        let changed = db.exec(
            "UPDATE rollout_state SET halted_at = NULL, counted_from = $3 \
             WHERE line = $1 AND version = $2 AND halted_at IS NOT NULL",
            &[Value::from(line), Value::from(version), Value::from(at)],
        )?;
        if changed > 0 {
            db.exec(
                "INSERT INTO history (at, kind, version, detail, line) VALUES ($1, $5, $2, $3, $4)",
                &[
                    Value::from(at),
                    Value::from(version),
                    Value::from(detail),
                    Value::from(line),
                    Value::from(HistoryKind::Resumed.as_str()),
                ],
            )?;
        }
        Ok(changed > 0)
    })
}

/// The settings a halt holds (`rollout_state.settings`): the fingerprint of `rollout:` it
/// halted under, and those a pause or resume the server itself wrote left it with, space
/// separated. A halt lasts while `rollout:` has any of them.
pub fn halt_holds(stored: &str, settings: &str) -> bool {
    stored.split(' ').any(|held| held == settings)
}

/// Lets a halt survive a pause or resume the server writes (`POST .../pause|resume`):
/// `settings`, the fingerprint the edit leaves, joins those the halt holds, before the new
/// `meta.yaml` is renamed in. Whether the rollout is halted. Each edit only toggles
/// `paused`, so a halt holds at most the three fingerprints of `paused` absent, `false`
/// and `true` besides the one it halted under; any other edit resumes it as before.
pub fn carry_halt(db: &mut dyn Db, line: &str, version: u32, settings: &str) -> Result<bool> {
    in_transaction(db, |db| {
        let rows = db.query(
            "SELECT settings FROM rollout_state WHERE line = $1 AND version = $2 \
             AND halted_at IS NOT NULL",
            &[Value::from(line), Value::from(version)],
        )?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let stored = row.text("settings")?;
        if halt_holds(&stored, settings) {
            return Ok(true);
        }
        db.exec(
            "UPDATE rollout_state SET settings = $3 WHERE line = $1 AND version = $2 \
             AND halted_at IS NOT NULL",
            &[
                Value::from(line),
                Value::from(version),
                Value::from(format!("{stored} {settings}").as_str()),
            ],
        )?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::event::Event;
    use crate::store::migrations::migrate;
    use crate::store::writes::write;

    fn admitted(address: &str, at: u64) -> Event {
        Event::Admitted {
            at,
            address: address.parse().expect("a test address"),
            line: "C.3".into(),
            version: 20250301,
            pilot: false,
        }
    }

    /// The rollout watch reads back what other instances admitted, never its own rows; rows
    /// stored before instances were named (migration 4) count as another instance's.
    /// A halt carried over to the settings a pause leaves holds both (once each); one
    /// that is not halted is left alone.
    #[test]
    fn a_carried_halt_holds_the_old_and_the_new_settings() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        assert!(!carry_halt(&mut db, "C.3", 20250301, "bbbb")?);
        let row = RolloutStateRow {
            line: "C.3".into(),
            version: 20250301,
            counted_from: 0,
            halted_at: Some(100),
            settings: "aaaa".into(),
            detail: "stuck".into(),
            stuck: 5,
            finished: 20,
        };
        assert!(halt_rollout(&mut db, &row)?);
        assert!(carry_halt(&mut db, "C.3", 20250301, "bbbb")?);
        assert!(carry_halt(&mut db, "C.3", 20250301, "bbbb")?);
        assert!(carry_halt(&mut db, "C.3", 20250301, "aaaa")?);
        let stored = rollout_states(&mut db)?;
        assert_eq!(stored[0].settings, "aaaa bbbb");
        assert!(halt_holds(&stored[0].settings, "aaaa") && halt_holds(&stored[0].settings, "bbbb"));
        assert!(!halt_holds(&stored[0].settings, "cccc") && !halt_holds("aaaa", "aa"));
        Ok(())
    }

    #[test]
    fn admissions_since_skips_the_asking_instances_own_rows() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.exec(
            "INSERT INTO admissions (address, line, version, at, pilot) VALUES ('10.0.0.9', 'C.3', 20250301, 50, 0)",
            &[],
        )?;
        write(
            &mut db,
            &[admitted("10.0.0.1", 100), admitted("10.0.0.2", 200)],
            "a",
        )?;
        write(&mut db, &[admitted("10.0.0.3", 300)], "b")?;
        let addresses = |rows: Vec<AdmissionRow>| {
            let mut all: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
            all.sort();
            all
        };
        assert_eq!(
            addresses(admissions_since(&mut db, 0, "a")?),
            ["10.0.0.3", "10.0.0.9"]
        );
        assert_eq!(
            addresses(admissions_since(&mut db, 0, "b")?),
            ["10.0.0.1", "10.0.0.2", "10.0.0.9"]
        );
        assert_eq!(
            addresses(admissions_since(&mut db, 150, "b")?),
            ["10.0.0.2"]
        );
        assert_eq!(
            admissions_since(&mut db, 0, "fresh")?.len(),
            4,
            "a start-up reads all"
        );
        Ok(())
    }

    /// The rollout watch's two queries, run every 2 s, read through their indexes (a
    /// table scan here costs a large fleet a share of a core).
    #[test]
    fn the_rollout_watchs_queries_use_their_indexes() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let mut plan =
            |sql: &str, params: &[Value]| crate::store::db::query_plan(&mut db, sql, params);
        let stuck = plan(
            FINISHED_AND_STUCK,
            &[0u64.into(), "C.3".into(), 20250301u32.into(), 0u64.into()],
        )?;
        assert!(
            stuck.contains("COVERING INDEX device_releases_downloads"),
            "{stuck}"
        );
        let admissions = plan(ADMISSIONS_SINCE, &[0u64.into(), "a".into()])?;
        assert!(
            admissions.contains("INDEX admissions_at_instance"),
            "{admissions}"
        );
        Ok(())
    }
}
