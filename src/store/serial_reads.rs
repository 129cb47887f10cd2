//! The serials devices asked for, read in chunks in serial order (`GET /serials`), so that
//! memory holds one chunk however many serials devices sent.

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Value};

/// A serial asked for, with the address and time it was last asked from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialRow {
    pub serial: String,
    pub address: String,
    pub last_seen: u64,
}

/// The serials asked for that sort after `after` (`""`: from the first), in serial order,
/// at most `chunk`, each with the address and time it was last asked from. The admin API
/// reads the whole list this way, one short query per chunk, so that memory holds one
/// chunk however many serials devices sent (the serial index gives the order).
pub fn serials_after(db: &mut dyn Db, after: &str, chunk: u64) -> Result<Vec<SerialRow>> {
    serials_after_of(db, after, chunk, None)
}

/// `serials_after`, of the devices of `groups` only (none: every device): a viewer limited
/// to groups sees the serials its own registers asked for, and their addresses, only.
pub fn serials_after_of(
    db: &mut dyn Db,
    after: &str,
    chunk: u64,
    groups: Option<&[String]>,
) -> Result<Vec<SerialRow>> {
    let mut params = vec![Value::from(after), Value::from(chunk)];
    let own = |alias: &str, condition: &str| {
        format!(" AND {alias}address IN (SELECT address FROM devices WHERE {condition})")
    };
    let (inner, outer) = match groups {
        None => (String::new(), String::new()),
        Some(groups) => {
            let condition =
                crate::store::device_reads::in_groups("group_name", groups, &mut params);
            (own("", &condition), own("t.", &condition))
        }
    };
    let rows = db.query(
        &format!(
            "SELECT g.serial AS serial, g.seen AS seen, (SELECT t.address FROM device_serials t \
             WHERE t.serial = g.serial{outer} ORDER BY t.last_seen DESC, t.address LIMIT 1) \
             AS address FROM (SELECT serial, MAX(last_seen) AS seen FROM device_serials \
             WHERE serial > $1{inner} GROUP BY serial ORDER BY serial LIMIT $2) g \
             ORDER BY g.serial"
        ),
        &params,
    )?;
    rows.iter()
        .map(|row| {
            Ok(SerialRow {
                serial: row.text("serial")?,
                address: row.text("address")?,
                last_seen: row.u64("seen")?,
            })
        })
        .collect()
}
