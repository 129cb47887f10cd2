//! The history as `GET /history` shows it: releases published and withdrawn, rollouts
//! halted and resumed, build dates that changed, newest first.

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Value};
use crate::store::history_kind::HistoryKind;

/// One entry of `GET /history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryRow {
    pub at: u64,
    /// Shown as stored (`"published"`, …).
    pub kind: HistoryKind,
    /// `""` for the default line or none.
    pub line: String,
    pub version: Option<u32>,
    pub address: Option<String>,
    pub detail: String,
}

/// The history, newest first.
pub fn history(db: &mut dyn Db, limit: u64, offset: u64) -> Result<Vec<HistoryRow>> {
    history_of(db, limit, offset, &HistoryScope::All)
}

/// Which entries of the history a read shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryScope {
    /// Every entry, as stored.
    All,
    /// Only these groups' devices' entries (`?group=` of an unlimited reader), and the
    /// entries of no device (releases, reloads) as stored.
    Groups(Vec<String>),
    /// For a viewer limited to these groups: its devices' entries, and the entries of no
    /// device without their detail: a halt's or a license reload's detail counts the whole
    /// fleet (other clients' registers), while what happened to which release, and when,
    /// is the same for every client.
    Limited(Vec<String>),
}

/// The entries `scope` shows, newest first.
pub fn history_of(
    db: &mut dyn Db,
    limit: u64,
    offset: u64,
    scope: &HistoryScope,
) -> Result<Vec<HistoryRow>> {
    let mut params = Vec::new();
    let wher = match scope {
        HistoryScope::All => String::new(),
        HistoryScope::Groups(groups) | HistoryScope::Limited(groups) => {
            let own = crate::store::device_reads::in_groups("group_name", groups, &mut params);
            format!("WHERE address IS NULL OR address IN (SELECT address FROM devices WHERE {own})")
        }
    };
    params.push(Value::from(limit));
    let limit = format!("${}", params.len());
    params.push(Value::from(offset));
    let offset = format!("${}", params.len());
    let rows = db.query(
        &format!(
            "SELECT at, kind, version, address, detail, line FROM history {wher} \
             ORDER BY at DESC, id DESC LIMIT {limit} OFFSET {offset}"
        ),
        &params,
    )?;
    let hide_detail = matches!(scope, HistoryScope::Limited(_));
    rows.iter()
        .map(|row| {
            let address = row.opt_text("address")?;
            let detail = if hide_detail && address.is_none() {
                String::new()
            } else {
                row.text("detail")?
            };
            Ok(HistoryRow {
                at: row.u64("at")?,
                kind: HistoryKind::from_stored(&row.text("kind")?),
                version: row.opt_u32("version")?,
                address,
                detail,
                line: row.text("line")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::migrations::migrate;

    /// Entries stored by this version read back with their kind; one of a kind this
    /// version does not know (a newer server sharing the store) reads back as stored,
    /// and does not hide the others.
    #[test]
    fn stored_kinds_read_back_and_an_unknown_one_is_kept() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.exec(
            "INSERT INTO history (at, kind, version, detail, line) VALUES \
             (1, 'published', 20250301, 'new', ''), (2, 'promoted', 20250301, '', 'C.3')",
            &[],
        )?;
        let rows = history(&mut db, 10, 0)?;
        let kinds: Vec<&HistoryKind> = rows.iter().map(|r| &r.kind).collect();
        assert_eq!(
            kinds,
            [
                &HistoryKind::Other("promoted".into()),
                &HistoryKind::Published
            ]
        );
        let json = serde_json::to_value(&rows)?;
        assert_eq!(json[0]["kind"], "promoted");
        assert_eq!(json[1]["kind"], "published");
        Ok(())
    }

    /// A value of the wrong kind in a column (SQLite keeps what it is given) is an error
    /// naming the column, where it used to read as 0.
    #[test]
    fn a_mistyped_stored_value_is_an_error_naming_the_column() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.exec(
            "INSERT INTO history (at, kind, detail) VALUES ('yesterday', 'published', '')",
            &[],
        )?;
        let e = history(&mut db, 10, 0).expect_err("a text time");
        assert_eq!(
            e.to_string(),
            "the inventory's column \"at\" holds the text \"yesterday\"; \
             expected a whole number from 0 up"
        );
        Ok(())
    }
}
