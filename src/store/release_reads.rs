//! Per release, what became of it in the fleet: the counts behind `GET /releases` and the
//! dashboard's table, and the per-day counts behind its adoption curves.

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Value};

/// One day's new downloads and new updates of one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub version: u32,
    /// Days since the Unix epoch.
    pub day: u64,
    pub downloaded: u64,
    pub updated: u64,
}

/// Per release: how many devices were offered it, downloaded it, updated, are stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRow {
    /// `""` for the default line.
    pub line: String,
    pub version: u32,
    pub offered: u64,
    pub downloaded: u64,
    pub updated: u64,
    pub stuck: u64,
}

pub fn releases(db: &mut dyn Db, now: u64, stuck_after: u64) -> Result<Vec<ReleaseRow>> {
    let rows = db.query(
        "SELECT version, COUNT(*) AS offered, COUNT(downloaded_at) AS downloaded, \
         COUNT(updated_at) AS updated, \
         COUNT(CASE WHEN downloaded_at IS NOT NULL AND updated_at IS NULL \
         AND downloaded_at <= $1 THEN 1 END) AS stuck, line \
         FROM device_releases GROUP BY line, version ORDER BY line, version DESC",
        &[Value::from(now.saturating_sub(stuck_after))],
    )?;
    rows.iter()
        .map(|row| {
            Ok(ReleaseRow {
                version: row.u32("version")?,
                offered: row.u64("offered")?,
                downloaded: row.u64("downloaded")?,
                updated: row.u64("updated")?,
                stuck: row.u64("stuck")?,
                line: row.text("line")?,
            })
        })
        .collect()
}

/// Per release and day: whole downloads and updates (for the adoption curves).
pub fn adoption(db: &mut dyn Db) -> Result<Vec<DayCount>> {
    let mut counts: std::collections::BTreeMap<(u32, u64), (u64, u64)> = Default::default();
    for (column, slot) in [("downloaded_at", 0), ("updated_at", 1)] {
        let rows = db.query(
            &format!(
                "SELECT version, {column} / 86400 AS day, COUNT(*) AS devices \
                 FROM device_releases WHERE {column} IS NOT NULL GROUP BY version, {column} / 86400"
            ),
            &[],
        )?;
        for row in rows {
            let key = (row.u32("version")?, row.u64("day")?);
            let devices = row.u64("devices")?;
            let entry = counts.entry(key).or_default();
            if slot == 0 {
                entry.0 += devices;
            } else {
                entry.1 += devices;
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|((version, day), (downloaded, updated))| DayCount {
            version,
            day,
            downloaded,
            updated,
        })
        .collect())
}
