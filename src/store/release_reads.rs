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
    releases_of(db, now, stuck_after, None)
}

/// `devices`' condition on `device_releases` (`AND address IN …` of those groups'
/// devices), its parameters added to `params`; none: every device.
fn of_groups(groups: Option<&[String]>, params: &mut Vec<Value>) -> String {
    match groups {
        None => String::new(),
        Some(groups) => {
            let own = crate::store::device_reads::in_groups("group_name", groups, params);
            format!(" AND address IN (SELECT address FROM devices WHERE {own})")
        }
    }
}

/// `releases`, counting only the devices of `groups` (none: every device).
pub fn releases_of(
    db: &mut dyn Db,
    now: u64,
    stuck_after: u64,
    groups: Option<&[String]>,
) -> Result<Vec<ReleaseRow>> {
    let mut params = vec![Value::from(now.saturating_sub(stuck_after))];
    let own = of_groups(groups, &mut params);
    let rows = db.query(
        &format!(
            "SELECT version, COUNT(*) AS offered, COUNT(downloaded_at) AS downloaded, \
             COUNT(updated_at) AS updated, \
             COUNT(CASE WHEN downloaded_at IS NOT NULL AND updated_at IS NULL \
             AND downloaded_at <= $1 THEN 1 END) AS stuck, line \
             FROM device_releases WHERE 1 = 1{own} GROUP BY line, version \
             ORDER BY line, version DESC"
        ),
        &params,
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
    adoption_of(db, None)
}

/// `adoption`, counting only the devices of `groups` (none: every device).
pub fn adoption_of(db: &mut dyn Db, groups: Option<&[String]>) -> Result<Vec<DayCount>> {
    let mut counts: std::collections::BTreeMap<(u32, u64), (u64, u64)> = Default::default();
    for (column, slot) in [("downloaded_at", 0), ("updated_at", 1)] {
        let mut params = Vec::new();
        let own = of_groups(groups, &mut params);
        let rows = db.query(
            &format!(
                "SELECT version, {column} / 86400 AS day, COUNT(*) AS devices \
                 FROM device_releases WHERE {column} IS NOT NULL{own} \
                 GROUP BY version, {column} / 86400"
            ),
            &params,
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

/// Devices in the inventory per group tag, for the tags among `names` (the groups of
/// `groups.yaml`, at most 1,000: the metrics' `group` label is bounded by them).
pub fn group_devices(db: &mut dyn Db, names: &[String]) -> Result<Vec<(String, u64)>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Vec::new();
    let own = crate::store::device_reads::in_groups("group_name", names, &mut params);
    let rows = db.query(
        &format!(
            "SELECT group_name, COUNT(*) AS devices FROM devices WHERE {own} GROUP BY group_name"
        ),
        &params,
    )?;
    rows.iter()
        .map(|row| Ok((row.text("group_name")?, row.u64("devices")?)))
        .collect()
}
