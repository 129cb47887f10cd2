//! What the rollout watch reads and writes for stages that advance themselves: each
//! release's stage record (`rollout_stages`, migration 7), the figures a stage is judged by
//! (devices that downloaded a release in full, and how many of them now report its build),
//! and the one step a round takes. Every change is a compare-and-set: the UPDATE names the
//! record as the watch read it, so when instances sharing PostgreSQL decide the same step
//! at once, the database lets one of them make it (the others change no row and write no
//! history), whatever their clocks.

use anyhow::Result;

use crate::rollout::stages::{Figures, StageRecord, Step};
use crate::store::db::{in_transaction, Db, Value};
use crate::store::history_kind::HistoryKind;

/// A release's stage record as stored, with its line and version.
pub type StageRow = ((String, u32), StageRecord);

/// Every stored stage record.
pub fn stage_rows(db: &mut dyn Db) -> Result<Vec<StageRow>> {
    let rows = db.query(
        "SELECT line, version, stage, started_at, paused_at, paused_for, forced \
         FROM rollout_stages",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            // A stage number out of range (written by hand) reads as the last stage there
            // is; the rules bound it again.
            let small = |n: u64| u8::try_from(n).unwrap_or(u8::MAX);
            Ok((
                (row.text("line")?, row.u32("version")?),
                StageRecord {
                    stage: small(row.u64("stage")?),
                    started_at: row.u64("started_at")?,
                    paused_at: row.u64("paused_at")?,
                    paused_for: row.u64("paused_for")?,
                    forced: small(row.u64("forced")?),
                },
            ))
        })
        .collect()
}

/// Run every 2 s per release with stages: migration 5's index finds the downloads, the
/// devices' primary key each one's build now. Confirmed is "reported the build after the
/// download, and still reports it (or newer)": a register that went back to an older
/// build (flashed back by a service engineer, or falling back by itself) is no success.
///
/// The deadline projection reads these same figures (`projection_reads::release_figures`):
/// it says when each stage will pass, so it counts as the gate does.
const FIGURES: &str = "SELECT COUNT(*) AS downloaded, \
     COUNT(CASE WHEN r.updated_at IS NOT NULL AND d.build_date >= $2 THEN 1 END) AS confirmed \
     FROM device_releases r LEFT JOIN devices d ON d.address = r.address \
     WHERE r.line = $1 AND r.version = $2 AND r.downloaded_at IS NOT NULL";

/// Devices that downloaded release `version` of `line` in full, and how many of them now
/// report its build or newer: cumulative since it was published, pilots included.
pub fn figures(db: &mut dyn Db, line: &str, version: u32) -> Result<Figures> {
    let rows = db.query(FIGURES, &[Value::from(line), Value::from(version)])?;
    match rows.first() {
        Some(row) => Ok(Figures {
            downloaded: row.u64("downloaded")?,
            confirmed: row.u64("confirmed")?,
        }),
        None => Ok(Figures::default()),
    }
}

/// Makes `step` on the record of `key` as it was read (`old`; none: not stored yet), with
/// `detail` for the history of an advance or a forced stage. Whether this call made it: false
/// when another instance changed the record first.
pub fn apply(
    db: &mut dyn Db,
    key: &(String, u32),
    old: Option<&StageRecord>,
    step: &Step,
    now: u64,
    detail: &str,
) -> Result<bool> {
    in_transaction(db, |db| {
        let changed = match (step, old) {
            (Step::Start(new), _) => start(db, key, new)?,
            (_, None) => 0,
            (Step::Force { to, .. }, Some(old)) => force(db, key, old, to)?,
            (Step::ForgetForced, Some(_)) => db.exec(
                "UPDATE rollout_stages SET forced = 0 \
                 WHERE line = $1 AND version = $2 AND forced <> 0",
                &[Value::from(key.0.as_str()), Value::from(key.1)],
            )?,
            (Step::Freeze, Some(_)) => db.exec(
                "UPDATE rollout_stages SET paused_at = $3 \
                 WHERE line = $1 AND version = $2 AND paused_at = 0",
                &[
                    Value::from(key.0.as_str()),
                    Value::from(key.1),
                    Value::from(now),
                ],
            )?,
            (Step::Thaw, Some(old)) => thaw(db, key, old, now)?,
            (Step::Advance { from, to }, Some(old)) => db.exec(
                "UPDATE rollout_stages SET stage = $3, started_at = $4, paused_for = 0 \
                 WHERE line = $1 AND version = $2 AND stage = $5 AND started_at = $6",
                &[
                    Value::from(key.0.as_str()),
                    Value::from(key.1),
                    Value::from(u32::from(*to)),
                    Value::from(now),
                    Value::from(u32::from(*from)),
                    Value::from(old.started_at),
                ],
            )?,
        };
        let kind = match step {
            Step::Advance { .. } => Some(HistoryKind::Advanced),
            Step::Force { .. } => Some(HistoryKind::StageForced),
            Step::Start(new) if new.forced != 0 => Some(HistoryKind::StageForced),
            _ => None,
        };
        if let (true, Some(kind)) = (changed > 0, kind) {
            db.exec(
                "INSERT INTO history (at, kind, version, detail, line) VALUES ($1, $5, $2, $3, $4)",
                &[
                    Value::from(now),
                    Value::from(key.1),
                    Value::from(detail),
                    Value::from(key.0.as_str()),
                    Value::from(kind.as_str()),
                ],
            )?;
        }
        Ok(changed > 0)
    })
}

/// The first record of a release; none written when another instance wrote it first.
fn start(db: &mut dyn Db, key: &(String, u32), new: &StageRecord) -> Result<u64> {
    Ok(db.exec(
        "INSERT INTO rollout_stages (line, version, stage, started_at, paused_at, \
         paused_for, forced) VALUES ($1, $2, $3, $4, $5, 0, $6) \
         ON CONFLICT (line, version) DO NOTHING",
        &[
            Value::from(key.0.as_str()),
            Value::from(key.1),
            Value::from(u32::from(new.stage)),
            Value::from(new.started_at),
            Value::from(new.paused_at),
            Value::from(u32::from(new.forced)),
        ],
    )?)
}

/// `stage: N`: the record `to`, unless the stored one is no longer `old`.
fn force(db: &mut dyn Db, key: &(String, u32), old: &StageRecord, to: &StageRecord) -> Result<u64> {
    Ok(db.exec(
        "UPDATE rollout_stages SET stage = $3, started_at = $4, paused_at = $5, \
         paused_for = 0, forced = $6 WHERE line = $1 AND version = $2 \
         AND stage = $7 AND started_at = $8 AND forced = $9",
        &[
            Value::from(key.0.as_str()),
            Value::from(key.1),
            Value::from(u32::from(to.stage)),
            Value::from(to.started_at),
            Value::from(to.paused_at),
            Value::from(u32::from(to.forced)),
            Value::from(u32::from(old.stage)),
            Value::from(old.started_at),
            Value::from(u32::from(old.forced)),
        ],
    )?)
}

/// The pause lasted from `old.paused_at` to `now` (a clock that went back adds nothing).
fn thaw(db: &mut dyn Db, key: &(String, u32), old: &StageRecord, now: u64) -> Result<u64> {
    Ok(db.exec(
        "UPDATE rollout_stages SET paused_for = paused_for + $3, paused_at = 0 \
         WHERE line = $1 AND version = $2 AND paused_at = $4",
        &[
            Value::from(key.0.as_str()),
            Value::from(key.1),
            Value::from(now.saturating_sub(old.paused_at)),
            Value::from(old.paused_at),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::migrations::migrate;

    fn key() -> (String, u32) {
        ("C.3".to_string(), 20250301)
    }

    /// Two instances that read the same record and decide the same advance: one makes it,
    /// the other changes nothing and writes no history.
    #[test]
    fn an_advance_decided_twice_is_made_once() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let start = StageRecord {
            stage: 1,
            started_at: 100,
            ..StageRecord::default()
        };
        assert!(apply(&mut db, &key(), None, &Step::Start(start), 100, "")?);
        assert!(!apply(&mut db, &key(), None, &Step::Start(start), 101, "")?);
        let advance = Step::Advance { from: 1, to: 2 };
        assert!(apply(
            &mut db,
            &key(),
            Some(&start),
            &advance,
            200,
            "figures"
        )?);
        assert!(!apply(
            &mut db,
            &key(),
            Some(&start),
            &advance,
            201,
            "figures"
        )?);
        let rows = stage_rows(&mut db)?;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].1.stage, rows[0].1.started_at), (2, 200));
        let history = db.query("SELECT kind, detail FROM history", &[])?;
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].text("kind")?, "advanced");
        // A pause stops the clock; the thaw adds the pause to paused_for.
        let now = rows[0].1;
        assert!(apply(&mut db, &key(), Some(&now), &Step::Freeze, 210, "")?);
        let frozen = stage_rows(&mut db)?[0].1;
        assert!(apply(&mut db, &key(), Some(&frozen), &Step::Thaw, 250, "")?);
        let thawed = stage_rows(&mut db)?[0].1;
        assert_eq!((thawed.paused_at, thawed.paused_for), (0, 40));
        assert_eq!(thawed.elapsed(260), 20);
        Ok(())
    }

    /// Of three registers that downloaded the release, one never reported it, one reports
    /// it (then a newer one), and one reported it and then went back to its old build:
    /// one confirmed, not two.
    #[test]
    fn a_register_back_on_an_older_build_is_not_confirmed() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        for (address, build, updated) in [
            ("10.0.0.1", 20250101u32, None::<u64>),
            ("10.0.0.2", 20250401, Some(300u64)),
            ("10.0.0.3", 20250101, Some(300)),
        ] {
            db.exec(
                "INSERT INTO devices (address, first_seen, last_seen, line, build_date) \
                 VALUES ($1, 0, 0, 'C.3', $2)",
                &[address.into(), Value::from(build)],
            )?;
            db.exec(
                "INSERT INTO device_releases (address, version, offered_at, downloaded_at, \
                 updated_at, line) VALUES ($1, 20250301, 1, 200, $2, 'C.3')",
                &[address.into(), Value::from(updated)],
            )?;
        }
        assert_eq!(
            figures(&mut db, "C.3", 20250301)?,
            Figures {
                downloaded: 3,
                confirmed: 1,
            }
        );
        Ok(())
    }

    #[test]
    fn the_figures_query_uses_its_indexes() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let rows = db.query(
            &format!("EXPLAIN QUERY PLAN {FIGURES}"),
            &["C.3".into(), 20250301u32.into()],
        )?;
        let plan = rows
            .iter()
            .map(|row| row.text("detail"))
            .collect::<Result<Vec<_>, _>>()?
            .join("; ");
        // The downloads by their index, each device's build by its primary key: no scan.
        assert!(
            plan.contains("USING INDEX device_releases_downloads")
                && plan.contains("SEARCH d USING INDEX sqlite_autoindex_devices_1")
                && !plan.contains("SCAN"),
            "{plan}"
        );
        Ok(())
    }
}
