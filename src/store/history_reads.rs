//! The history as `GET /history` shows it: releases published and withdrawn, rollouts
//! halted and resumed, build dates that changed, newest first.

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{u32_of, u64_of, Db, Value};

/// One entry of `GET /history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    pub at: u64,
    pub kind: String,
    /// `""` for the default line or none.
    pub line: String,
    pub version: Option<u32>,
    pub address: Option<String>,
    pub detail: String,
}

/// The history, newest first.
pub fn history(db: &mut dyn Db, limit: u64, offset: u64) -> Result<Vec<HistoryRow>> {
    let rows = db.query(
        "SELECT at, kind, version, address, detail, line FROM history ORDER BY at DESC, id DESC \
         LIMIT $1 OFFSET $2",
        &[Value::from(limit), Value::from(offset)],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            HistoryRow {
                at: u64_of(&get(0)),
                kind: get(1).text(),
                version: u32_of(&get(2)),
                address: match get(3) {
                    Value::Null => None,
                    v => Some(v.text()),
                },
                detail: get(4).text(),
                line: get(5).text(),
            }
        })
        .collect())
}
