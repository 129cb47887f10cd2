//! The audit trail in the store (`audit`, migration 8): records appended one at a time,
//! each chained to the one before (`crate::audit`), read back newest first for `/audit`,
//! whole for `audit verify`, and pruned past the retention with a checkpoint left behind.
//!
//! An append reads the newest record and writes the next seq in the writer's transaction,
//! under a lock: SQLite's write lock (the writer's `BEGIN IMMEDIATE`), PostgreSQL's
//! transaction-scoped advisory lock `AUDIT_LOCK`. So two instances sharing PostgreSQL
//! append in turn and never both chain to the same record; the primary key on `seq` would
//! refuse a second record at one place even without the lock.

use anyhow::Result;

use crate::audit::record::checkpoint_entry;
use crate::audit::{hash, AuditEntry, AuditRecord, GENESIS};
use crate::store::db::{Db, Dialect, Value};
use crate::store::row::Row;

/// The advisory lock appends and prunes take on PostgreSQL (migrations take 7340001).
const AUDIT_LOCK: i64 = 7_340_002;

/// A change seen on disk that the newest record of the same subject already says (same
/// action and result) within this many seconds is not recorded again: each instance
/// sharing a store sees the same folder appear, a few seconds apart at most.
pub const SAME_CHANGE_WITHIN: u64 = 600;

const COLUMNS: &str = "seq, at, actor, action, subject, result, prev";

/// The newest record: its seq and hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

fn record(row: &Row) -> Result<AuditRecord> {
    let seq = row.u64("seq")?;
    let read = || -> Result<AuditRecord> {
        Ok(AuditRecord {
            seq,
            at: row.u64("at")?,
            actor: row.text("actor")?,
            action: row.text("action")?,
            subject: row.text("subject")?,
            result: row.text("result")?,
            prev: row.text("prev")?,
        })
    };
    read().map_err(|e| anyhow::anyhow!("audit record {seq}: {e:#}"))
}

/// Takes the audit's lock for the rest of the transaction (SQLite's writer already holds
/// the database's).
fn lock(db: &mut dyn Db) -> Result<()> {
    if db.dialect() == Dialect::Postgres {
        // A literal: the lock's value (void) is no column the inventory reads.
        db.batch(&format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK})"))?;
    }
    Ok(())
}

/// The newest record, if any.
fn newest(db: &mut dyn Db) -> Result<Option<AuditRecord>> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1"),
        &[],
    )?;
    rows.first().map(record).transpose()
}

/// The newest record's seq and hash (none while the trail is empty).
pub fn head(db: &mut dyn Db) -> Result<Option<AuditHead>> {
    Ok(newest(db)?.map(|r| AuditHead {
        seq: r.seq,
        hash: hash(&r),
    }))
}

/// Appends `entry` at `at`, chained to the newest record; inside the caller's transaction.
/// `once`: a change seen on disk, skipped (None) when the newest record of its subject is
/// the same change, recorded within `SAME_CHANGE_WITHIN` (another instance recorded it).
pub fn append(
    db: &mut dyn Db,
    entry: &AuditEntry,
    at: u64,
    once: bool,
) -> Result<Option<AuditRecord>> {
    lock(db)?;
    if once && recorded_already(db, entry, at)? {
        return Ok(None);
    }
    let (seq, prev) = match newest(db)? {
        Some(newest) => (newest.seq + 1, hash(&newest)),
        None => (1, GENESIS.to_string()),
    };
    let record = AuditRecord::chained(entry, seq, at, &prev);
    insert(db, &record)?;
    Ok(Some(record))
}

fn insert(db: &mut dyn Db, record: &AuditRecord) -> Result<()> {
    db.exec(
        &format!("INSERT INTO audit ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            Value::from(record.seq),
            Value::from(record.at),
            Value::from(record.actor.as_str()),
            Value::from(record.action.as_str()),
            Value::from(record.subject.as_str()),
            Value::from(record.result.as_str()),
            Value::from(record.prev.as_str()),
        ],
    )?;
    Ok(())
}

/// Whether the newest record of `entry`'s subject is this very change, recently.
fn recorded_already(db: &mut dyn Db, entry: &AuditEntry, at: u64) -> Result<bool> {
    let rows = db.query(
        "SELECT at, action, result FROM audit WHERE subject = $1 ORDER BY seq DESC LIMIT 1",
        &[Value::from(entry.subject.as_str())],
    )?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    Ok(row.text("action")? == entry.action.as_str()
        && row.text("result")? == entry.result
        && row.u64("at")?.abs_diff(at) <= SAME_CHANGE_WITHIN)
}

/// One page of the trail, newest first: at most `limit` records, those before seq `before`
/// when given.
pub fn page(db: &mut dyn Db, limit: u64, before: Option<u64>) -> Result<Vec<AuditRecord>> {
    let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2"),
        &[Value::Int(before), Value::from(limit)],
    )?;
    rows.iter().map(record).collect()
}

/// The whole trail, oldest first (for `audit verify`; bounded by the retention).
pub fn records(db: &mut dyn Db) -> Result<Vec<AuditRecord>> {
    let rows = db.query(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"), &[])?;
    rows.iter().map(record).collect()
}

/// Removes the records older than `before` (unix seconds), always a run from the oldest
/// (the chain is cut at the first record at or after `before`), and appends a checkpoint
/// carrying the hash of the newest one removed; inside the caller's transaction. The
/// checkpoint, or none when nothing was old enough.
pub fn prune(db: &mut dyn Db, before: u64, now: u64) -> Result<Option<AuditRecord>> {
    lock(db)?;
    let Some(newest) = newest(db)? else {
        return Ok(None);
    };
    let rows = db.query(
        "SELECT MIN(seq) AS oldest, \
         (SELECT MIN(seq) FROM audit WHERE at >= $1) AS kept FROM audit",
        &[Value::from(before)],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let oldest = row.opt_u64("oldest")?.unwrap_or(newest.seq);
    let first_kept = row.opt_u64("kept")?.unwrap_or(newest.seq + 1);
    if first_kept <= oldest {
        return Ok(None);
    }
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM audit WHERE seq = $1"),
        &[Value::from(first_kept - 1)],
    )?;
    let Some(last_removed) = rows.first().map(record).transpose()? else {
        return Ok(None);
    };
    db.exec(
        "DELETE FROM audit WHERE seq < $1",
        &[Value::from(first_kept)],
    )?;
    // Chained to the newest record as read before the delete: when every record was old
    // enough, the trail is the checkpoint alone, still carrying on from it.
    let entry = checkpoint_entry(first_kept, &hash(&last_removed));
    let checkpoint = AuditRecord::chained(&entry, newest.seq + 1, now, &hash(&newest));
    insert(db, &checkpoint)?;
    Ok(Some(checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{verify, Action};
    use crate::store::db::{in_transaction, Sqlite};
    use crate::store::migrations::migrate;

    fn entry(subject: &str) -> AuditEntry {
        AuditEntry::new("ivanov", Action::Publish, subject, "published")
    }

    #[test]
    fn appends_chain_and_verify() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        for n in 0..5u64 {
            in_transaction(&mut db, |db| {
                append(db, &entry(&format!("r{n}")), 100 + n, false)
            })?;
        }
        let all = records(&mut db)?;
        let head = head(&mut db)?.expect("a head");
        assert_eq!(head.seq, 5);
        assert_eq!(verify(&all, Some(&head.hash)).map(|v| v.count), Ok(5));
        let newest: Vec<u64> = page(&mut db, 2, None)?.iter().map(|r| r.seq).collect();
        assert_eq!(newest, [5, 4]);
        let older: Vec<u64> = page(&mut db, 10, Some(3))?.iter().map(|r| r.seq).collect();
        assert_eq!(older, [2, 1]);
        Ok(())
    }

    /// A change seen on disk by a second instance is not recorded again; the same subject
    /// changed otherwise (or much later) is.
    #[test]
    fn the_same_change_seen_twice_is_recorded_once() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let publish = entry("C.3/20250301");
        assert!(append(&mut db, &publish, 100, true)?.is_some());
        assert!(append(&mut db, &publish, 103, true)?.is_none());
        let withdraw = AuditEntry::new("ivanov", Action::Withdraw, "C.3/20250301", "withdrawn");
        assert!(append(&mut db, &withdraw, 104, true)?.is_some());
        assert!(append(&mut db, &publish, 105, true)?.is_some());
        assert!(append(&mut db, &publish, 105 + SAME_CHANGE_WITHIN + 1, true)?.is_some());
        assert_eq!(records(&mut db)?.len(), 4);
        Ok(())
    }

    /// Pruning removes the oldest run and leaves a checkpoint the chain verifies from;
    /// pruning everything leaves the checkpoint alone, anchored likewise.
    #[test]
    fn a_prune_leaves_a_checkpoint() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        for n in 0..6u64 {
            append(&mut db, &entry(&format!("r{n}")), 100 + n * 10, false)?;
        }
        let old_head = head(&mut db)?.expect("a head").hash;
        assert!(prune(&mut db, 95, 1000)?.is_none(), "nothing that old");
        let checkpoint = prune(&mut db, 125, 1000)?.expect("a checkpoint");
        assert_eq!(checkpoint.seq, 7);
        assert_eq!(checkpoint.subject, "pruned before seq 4");
        let kept = records(&mut db)?;
        assert_eq!(kept.first().map(|r| r.seq), Some(4));
        assert!(verify(&kept, Some(&old_head)).is_ok());
        let checkpoint = prune(&mut db, 5000, 5000)?.expect("a checkpoint");
        let kept = records(&mut db)?;
        assert_eq!(kept, [checkpoint]);
        assert!(verify(&kept, None).is_ok());
        Ok(())
    }
}
