//! What the rollout projection (`rollout::forecasts`, for a rollout's `deadline`) reads
//! from the store for one release of one line: the devices of the line still below it and
//! how many of them are admitted already, the downloads and confirmations so far, and the
//! updates of the last day with the first one's time (the rate). Four counts, run off the
//! request path every few seconds per release under rollout; each reads an index
//! (`devices_build_date`, `admissions_release`, `device_releases_downloads`).
//!
//! The downloads and confirmations are the stage gate's own (`stage_sql::figures`): the
//! projection says when each stage will pass, so it must count what the gate will count. A
//! register that reported the build and went back to an older one is no confirmation to
//! either (it is below the release again, and projected to confirm it once more).

use anyhow::Result;

use crate::store::db::{Db, Value};
use crate::store::stage_sql;

/// One release's figures, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseFigures {
    /// Devices of the line whose last build date is below the release.
    pub below: u64,
    /// Devices admitted to the release, and of them those still below it.
    pub admitted: u64,
    pub admitted_below: u64,
    /// Devices that downloaded it in full; of them, those that reported it since and still
    /// report it or newer (as the stage gate counts them: `stage_sql::figures`).
    pub downloaded: u64,
    pub confirmed: u64,
    /// Devices offered it that reported it (downloaded or not; going back since included),
    /// in all and since `recent_since`: the rate of updates.
    pub updated: u64,
    pub updated_recent: u64,
    /// The first download or update of it (Unix seconds): when observing began.
    pub first_seen: Option<u64>,
}

const BELOW: &str = "SELECT COUNT(*) AS below FROM devices WHERE build_date < $2 AND line = $1";

const ADMITTED: &str = "SELECT COUNT(*) AS admitted, \
     COUNT(CASE WHEN d.build_date < $2 THEN 1 END) AS admitted_below \
     FROM admissions a LEFT JOIN devices d ON d.address = a.address \
     WHERE a.line = $1 AND a.version = $2";

/// The updates and when observing began, from `device_releases` alone in one pass (its
/// covering index); the confirmations, which need each register's build now, are the
/// gate's query.
const OUTCOMES: &str = "SELECT COUNT(updated_at) AS updated, \
     COUNT(CASE WHEN updated_at >= $3 THEN 1 END) AS updated_recent, \
     MIN(downloaded_at) AS first_download, MIN(updated_at) AS first_update \
     FROM device_releases WHERE version = $2 AND line = $1";

/// The figures of release `version` of `line`; `recent_since`: where the recent
/// confirmations start (Unix seconds).
pub fn release_figures(
    db: &mut dyn Db,
    line: &str,
    version: u32,
    recent_since: u64,
) -> Result<ReleaseFigures> {
    let key = [Value::from(line), Value::from(version)];
    let below = db.query(BELOW, &key)?;
    let admitted = db.query(ADMITTED, &key)?;
    let outcomes = db.query(
        OUTCOMES,
        &[
            Value::from(line),
            Value::from(version),
            Value::from(recent_since),
        ],
    )?;
    let gate = stage_sql::figures(db, line, version)?;
    let mut figures = ReleaseFigures {
        downloaded: gate.downloaded,
        confirmed: gate.confirmed,
        ..ReleaseFigures::default()
    };
    if let Some(row) = below.first() {
        figures.below = row.u64("below")?;
    }
    if let Some(row) = admitted.first() {
        figures.admitted = row.u64("admitted")?;
        figures.admitted_below = row.u64("admitted_below")?;
    }
    if let Some(row) = outcomes.first() {
        figures.updated = row.u64("updated")?;
        figures.updated_recent = row.u64("updated_recent")?;
        figures.first_seen = match (row.opt_u64("first_download")?, row.opt_u64("first_update")?) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::migrations::migrate;

    fn sqlite() -> Result<(tempfile::TempDir, Sqlite)> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        Ok((dir, db))
    }

    /// Counted by hand: five devices of C.3 (three below 20250301), one of another line,
    /// two admissions (one still below), three offers (two downloaded, one of them
    /// updated; one updated without a download).
    #[test]
    fn the_figures_count_the_line_below_the_release_and_its_outcomes() -> Result<()> {
        let (_dir, mut db) = sqlite()?;
        for (address, line, build) in [
            ("10.0.0.1", "C.3", 20250101u32),
            ("10.0.0.2", "C.3", 20250101),
            ("10.0.0.3", "C.3", 20240101),
            ("10.0.0.4", "C.3", 20250301),
            ("10.0.0.5", "C.3", 20250401),
            ("10.0.0.6", "D.1", 20200101),
        ] {
            db.exec(
                "INSERT INTO devices (address, first_seen, last_seen, line, build_date) \
                 VALUES ($1, 0, 0, $2, $3)",
                &[address.into(), line.into(), Value::from(build)],
            )?;
        }
        for address in ["10.0.0.1", "10.0.0.4"] {
            db.exec(
                "INSERT INTO admissions (address, line, version, at) VALUES ($1, 'C.3', 20250301, 5)",
                &[address.into()],
            )?;
        }
        for (address, downloaded, updated) in [
            ("10.0.0.1", Some(100u64), None::<u64>),
            ("10.0.0.4", Some(200), Some(300)),
            ("10.0.0.5", None, Some(5000)),
        ] {
            db.exec(
                "INSERT INTO device_releases (address, version, offered_at, downloaded_at, \
                 updated_at, line) VALUES ($1, 20250301, 1, $2, $3, 'C.3')",
                &[
                    address.into(),
                    Value::from(downloaded),
                    Value::from(updated),
                ],
            )?;
        }
        let figures = release_figures(&mut db, "C.3", 20250301, 1000)?;
        assert_eq!(
            figures,
            ReleaseFigures {
                below: 3,
                admitted: 2,
                admitted_below: 1,
                downloaded: 2,
                confirmed: 1,
                updated: 2,
                updated_recent: 1,
                first_seen: Some(100),
            }
        );
        assert_eq!(
            release_figures(&mut db, "", 20250301, 0)?,
            ReleaseFigures::default(),
            "the default line has none of them"
        );
        Ok(())
    }

    /// A register that downloaded the release, reported it, and went back to an older build
    /// is no confirmation to the projection, as it is none to the stage gate; it is below
    /// the release again, and its update still counts in the rate.
    #[test]
    fn a_register_back_on_an_older_build_is_not_confirmed() -> Result<()> {
        let (_dir, mut db) = sqlite()?;
        for (address, build) in [("10.0.0.1", 20250301u32), ("10.0.0.2", 20241201)] {
            db.exec(
                "INSERT INTO devices (address, first_seen, last_seen, line, build_date) \
                 VALUES ($1, 0, 0, 'C.3', $2)",
                &[address.into(), Value::from(build)],
            )?;
            db.exec(
                "INSERT INTO admissions (address, line, version, at) VALUES ($1, 'C.3', 20250301, 5)",
                &[address.into()],
            )?;
            db.exec(
                "INSERT INTO device_releases (address, version, offered_at, downloaded_at, \
                 updated_at, line) VALUES ($1, 20250301, 1, 100, 200, 'C.3')",
                &[address.into()],
            )?;
        }
        let figures = release_figures(&mut db, "C.3", 20250301, 0)?;
        assert_eq!(
            (figures.downloaded, figures.confirmed, figures.updated),
            (2, 1, 2)
        );
        assert_eq!((figures.below, figures.admitted_below), (1, 1));
        let gate = stage_sql::figures(&mut db, "C.3", 20250301)?;
        assert_eq!(
            (gate.downloaded, gate.confirmed),
            (figures.downloaded, figures.confirmed)
        );
        Ok(())
    }

    #[test]
    fn the_projections_queries_use_their_indexes() -> Result<()> {
        let (_dir, mut db) = sqlite()?;
        let key = [Value::from("C.3"), Value::from(20250301u32)];
        let mut plan = |sql: &str, params: &[Value]| -> Result<String> {
            let rows = db.query(&format!("EXPLAIN QUERY PLAN {sql}"), params)?;
            Ok(rows
                .iter()
                .map(|row| row.text("detail"))
                .collect::<Result<Vec<_>, _>>()?
                .join("; "))
        };
        let below = plan(BELOW, &key)?;
        assert!(below.contains("INDEX devices_build_date"), "{below}");
        let admitted = plan(ADMITTED, &key)?;
        assert!(admitted.contains("INDEX admissions_release"), "{admitted}");
        let outcomes = plan(OUTCOMES, &[key[0].clone(), key[1].clone(), 0u64.into()])?;
        assert!(
            outcomes.contains("COVERING INDEX device_releases_downloads"),
            "{outcomes}"
        );
        Ok(())
    }
}
