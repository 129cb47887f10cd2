//! The writer thread's side: a batch of events written in one transaction (a device
//! polling many times a second costs one row update per batch), the per-address bounds
//! kept as rows come, and the prune of what is past the retention.

use std::collections::HashMap;

use anyhow::Result;

use crate::audit::AuditRecord;
use crate::groups::Groups;
use crate::store::audit_sql;
use crate::store::db::{in_transaction, Db, Dialect, Value};
use crate::store::event::Event;
use crate::store::group_tags;
use crate::store::history_kind::HistoryKind;

mod check_in;
use check_in::{steady_together, write_check_in};

/// Serials kept per address, the most recently asked for (at least 64: a shop's registers
/// share one NAT address); older ones are pruned as new ones come. Migration 6 prunes
/// stored ones to the same number.
pub const SERIALS_PER_ADDRESS: u64 = 256;
/// Observed changes of build date kept per address in the history (a register updates a
/// few times a year; one that flips its reported date on every poll would otherwise add a
/// row each time). Migration 6 prunes stored ones to the same number.
pub const BUILD_CHANGES_PER_ADDRESS: u64 = 64;

/// The rows of one address past the `$3` most recent, for a `DELETE … IN`. `LIMIT $2` is
/// "no limit" (both dialects take a 64-bit number; they disagree on how to write "none").
const SERIALS_PAST_THE_BOUND: &str = "DELETE FROM device_serials WHERE address = $1 AND serial IN \
     (SELECT serial FROM device_serials WHERE address = $1 \
     ORDER BY last_seen DESC, serial DESC LIMIT $2 OFFSET $3)";
/// A download counted on the device's row for that file. One row: an older server sharing
/// the store may have added more than one, and each would count it again.
const DOWNLOAD_AGAIN: &str = "UPDATE downloads SET at = $1, bytes = $5, times = times + $7 \
     WHERE id = (SELECT id FROM downloads \
     WHERE address = $2 AND version = $3 AND file = $4 AND complete = $6 LIMIT 1)";
/// `$4`: `build_changed`, as `HistoryKind` stores it.
const BUILD_CHANGES_PAST_THE_BOUND: &str = "DELETE FROM history WHERE id IN \
     (SELECT id FROM history WHERE address = $1 AND kind = $4 \
     ORDER BY id DESC LIMIT $2 OFFSET $3)";

/// Writes `events` in one transaction; `instance` names this server process in the
/// admissions it writes. Audit records are not written here (`append_audit`).
pub fn write(db: &mut dyn Db, events: &[Event], instance: &str) -> Result<()> {
    write_tagged(db, events, instance, None)
}

/// `write`, tagging the devices it makes, and those whose serials it adds, with their group
/// among `groups` (`group_tags`); none: the groups are not known yet (start-up), and the
/// retag that follows tags them.
pub fn write_tagged(
    db: &mut dyn Db,
    events: &[Event],
    instance: &str,
    groups: Option<&Groups>,
) -> Result<()> {
    in_transaction(db, |db| write_all(db, events, instance, groups))
}

/// Appends the audit records among `events`, in order, in one transaction of their own:
/// a trail that cannot be appended to (a record edited by hand so that it no longer reads)
/// holds back only the trail, never the devices' records. The records appended.
pub fn append_audit(db: &mut dyn Db, events: &[Event]) -> Result<Vec<AuditRecord>> {
    in_transaction(db, |db| {
        let mut appended = Vec::new();
        for event in events {
            if let Event::Audit { at, entry, once } = event {
                appended.extend(audit_sql::append(db, entry, *at, *once)?);
            }
        }
        Ok(appended)
    })
}

/// What the writer last wrote of a device in this batch, so that a device polling many
/// times a second costs one row update per batch, not one per request.
#[derive(PartialEq)]
struct Written {
    build_date: u32,
    line: Box<str>,
    offered: u32,
    user_agent: Box<str>,
}

/// One device's repeated downloads of one file in a batch: how many, and the first's time.
struct Repeated {
    times: u64,
    first_at: u64,
}

/// One batch in one transaction: repeats folded (`Repeats`), in PostgreSQL the steady
/// check-ins settled together first (`steady_together`), each event written by its kind,
/// then what is kept per device cut to its bound.
fn write_all(
    db: &mut dyn Db,
    events: &[Event],
    instance: &str,
    groups: Option<&Groups>,
) -> Result<()> {
    let repeats = Repeats::of(events);
    let mut batch = Batch {
        groups,
        ..Batch::default()
    };
    if db.dialect() == Dialect::Postgres {
        steady_together(db, events, &mut batch)?;
    }
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Download { .. } | Event::Serial { .. } if !repeats.last_of_kind[i] => {}
            Event::CheckIn { .. } => write_check_in(db, event, &mut batch)?,
            Event::Serial { .. } => write_serial(db, event, &mut batch)?,
            Event::Download { .. } => write_download(db, event, &repeats)?,
            Event::Admitted { .. } => write_admitted(db, event, instance)?,
            Event::History { .. } => write_history(db, event)?,
            Event::Audit { .. } => {}
        }
    }
    batch.finish(db)
}

/// Key of a download: the same file to the same device, whole or in part.
type DownloadKey = (std::net::IpAddr, u32, &'static str, bool);

/// The same file answered to the same device many times in one batch (a client in a loop)
/// is written once, at the last of them, with their count; likewise the same serial asked
/// for by the same device.
struct Repeats {
    /// Whether each event is the last of its kind in the batch (always true but for
    /// downloads and serials).
    last_of_kind: Vec<bool>,
    downloads: HashMap<DownloadKey, Repeated>,
}

impl Repeats {
    fn of(events: &[Event]) -> Repeats {
        let mut downloads_seen: HashMap<DownloadKey, Repeated> = HashMap::new();
        let mut serials_seen = std::collections::HashSet::new();
        let mut last_of_kind = vec![false; events.len()];
        for (i, event) in events.iter().enumerate().rev() {
            last_of_kind[i] = match event {
                Event::Download {
                    at,
                    address,
                    version,
                    file,
                    complete,
                    ..
                } => {
                    let key = (*address, *version, *file, *complete);
                    match downloads_seen.get_mut(&key) {
                        Some(repeated) => {
                            repeated.times += 1;
                            repeated.first_at = *at;
                            false
                        }
                        None => {
                            downloads_seen.insert(
                                key,
                                Repeated {
                                    times: 1,
                                    first_at: *at,
                                },
                            );
                            true
                        }
                    }
                }
                Event::Serial {
                    address, serial, ..
                } => serials_seen.insert((*address, serial.as_str())),
                _ => true,
            };
        }
        Repeats {
            last_of_kind,
            downloads: downloads_seen,
        }
    }
}

/// What a batch remembers across its events.
#[derive(Default)]
struct Batch<'g> {
    /// The groups new devices are tagged with (none: not known yet).
    groups: Option<&'g Groups>,
    /// The device rows this batch wrote, to skip rewriting one that did not change.
    written: HashMap<String, Written>,
    /// PostgreSQL: devices whose first check-in in the batch was settled with the others'
    /// (`steady_together`).
    settled: std::collections::HashSet<String>,
    /// Devices whose unchanged check-ins only move their last-seen time.
    last_seen: HashMap<String, u64>,
    /// Addresses that got a serial or a build change: pruned to the bound at the end,
    /// once each.
    serials_added: std::collections::HashSet<String>,
    builds_changed: std::collections::HashSet<String>,
}

impl Batch<'_> {
    /// The last-seen times, then each touched device's serials and build changes cut to
    /// their bounds.
    fn finish(self, db: &mut dyn Db) -> Result<()> {
        let Batch {
            groups,
            last_seen,
            serials_added,
            builds_changed,
            ..
        } = self;
        if let Some(groups) = groups {
            group_tags::tag_after_serials(db, groups, serials_added.iter().map(String::as_str))?;
        }
        for (address, at) in last_seen {
            db.exec(
                "UPDATE devices SET last_seen = $1, last_check_in = $1 WHERE address = $2",
                &[Value::from(at), Value::from(address.as_str())],
            )?;
        }
        let past_the_bound = |address: &str, kept: u64| {
            vec![
                Value::from(address),
                Value::Int(i64::MAX),
                Value::from(kept),
            ]
        };
        for address in serials_added {
            db.exec(
                SERIALS_PAST_THE_BOUND,
                &past_the_bound(&address, SERIALS_PER_ADDRESS),
            )?;
        }
        for address in builds_changed {
            let mut params = past_the_bound(&address, BUILD_CHANGES_PER_ADDRESS);
            params.push(Value::from(HistoryKind::BuildChanged.as_str()));
            db.exec(BUILD_CHANGES_PAST_THE_BOUND, &params)?;
        }
        Ok(())
    }
}

/// A serial asked for.
fn write_serial(db: &mut dyn Db, event: &Event, batch: &mut Batch) -> Result<()> {
    let Event::Serial {
        at,
        address,
        user_agent,
        serial,
        licensed,
    } = event
    else {
        return Ok(());
    };
    let address = address.to_string();
    let group = batch
        .groups
        .and_then(|groups| group_tags::by_network(groups, &address));
    touch_device(db, &address, user_agent, *at, group)?;
    db.exec(
        "INSERT INTO device_serials (address, serial, licensed, last_seen) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (address, serial) DO UPDATE SET \
             licensed = excluded.licensed, last_seen = excluded.last_seen",
        &[
            Value::from(address.as_str()),
            Value::from(serial.as_str()),
            Value::from(*licensed),
            Value::from(*at),
        ],
    )?;
    batch.serials_added.insert(address);
    Ok(())
}

/// A download, counted on its device's row for that file.
fn write_download(db: &mut dyn Db, event: &Event, repeats: &Repeats) -> Result<()> {
    let Event::Download {
        at,
        address,
        version,
        file,
        bytes,
        complete,
    } = event
    else {
        return Ok(());
    };
    let repeated = repeats
        .downloads
        .get(&(*address, *version, *file, *complete));
    let (times, first_at) = repeated.map_or((1, *at), |r| (r.times, r.first_at));
    let address = address.to_string();
    // Update, else insert, rather than an upsert on a unique index: a server
    // of an older version sharing the store inserts a row per download, and
    // would fail on such an index. Two instances inserting the same device's
    // first download at once keep two rows, which count alike.
    let params = [
        Value::from(*at),
        Value::from(address.as_str()),
        Value::from(*version),
        Value::from(*file),
        Value::from(*bytes),
        Value::from(*complete),
        Value::from(times),
        Value::from(first_at),
    ];
    // PostgreSQL wants exactly the parameters a statement names.
    let counted = db.exec(DOWNLOAD_AGAIN, &params[..7])?;
    if counted == 0 {
        db.exec(
            "INSERT INTO downloads (at, address, version, file, bytes, complete, \
                 times, first_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &params,
        )?;
    }
    if *complete {
        db.exec(
            "UPDATE device_releases SET downloaded_at = $1 \
                 WHERE address = $2 AND version = $3 AND downloaded_at IS NULL",
            &[
                Value::from(*at),
                Value::from(address.as_str()),
                Value::from(*version),
            ],
        )?;
    }
    Ok(())
}

/// A device admitted to a rollout, named with the instance that admitted it.
fn write_admitted(db: &mut dyn Db, event: &Event, instance: &str) -> Result<()> {
    let Event::Admitted {
        at,
        address,
        line,
        version,
        pilot,
    } = event
    else {
        return Ok(());
    };
    db.exec(
        "INSERT INTO admissions (address, line, version, at, pilot, instance) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (address, line, version) DO NOTHING",
        &[
            Value::from(address.to_string()),
            Value::from(&**line),
            Value::from(*version),
            Value::from(*at),
            Value::from(*pilot),
            Value::from(instance),
        ],
    )?;
    Ok(())
}

/// A line of the history.
fn write_history(db: &mut dyn Db, event: &Event) -> Result<()> {
    let Event::History {
        at,
        kind,
        line,
        version,
        detail,
    } = event
    else {
        return Ok(());
    };
    db.exec(
        "INSERT INTO history (at, kind, version, detail, line) \
             VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::from(*at),
            Value::from(kind.as_str()),
            Value::from(*version),
            Value::from(detail.as_str()),
            Value::from(&**line),
        ],
    )?;
    // A withdrawn release forgets where its stages stood: published again (perhaps as a
    // fixed build under the same version), it starts from its first stage, never straight
    // at the wide share the withdrawn one had reached. Its admissions stay (once admitted,
    // always admitted).
    if *kind == HistoryKind::Withdrawn {
        db.exec(
            "DELETE FROM rollout_stages WHERE line = $1 AND version = $2",
            &[Value::from(&**line), Value::from(*version)],
        )?;
    }
    Ok(())
}

fn touch_device(
    db: &mut dyn Db,
    address: &str,
    user_agent: &str,
    at: u64,
    group: Option<&str>,
) -> Result<()> {
    db.exec(
        "INSERT INTO devices (address, first_seen, last_seen, user_agent, group_name) \
         VALUES ($1, $2, $2, $3, NULLIF($4, '')) \
         ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen, \
         user_agent = excluded.user_agent",
        &[
            Value::from(address),
            Value::from(at),
            Value::from(user_agent),
            Value::from(group.unwrap_or_default()),
        ],
    )?;
    Ok(())
}

/// Drops history and downloads older than `before`, and devices not seen since, in small
/// batches so that the writer never holds the database for long. Returns the rows removed.
pub fn prune(db: &mut dyn Db, before: u64) -> Result<u64> {
    let mut removed = 0;
    for (table, column) in [("history", "at"), ("downloads", "at")] {
        loop {
            let sql = format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} < $1 LIMIT 1000)"
            );
            let n = db.exec(&sql, &[Value::from(before)])?;
            removed += n;
            if n < 1000 {
                break;
            }
        }
    }
    for sql in [
        "DELETE FROM device_releases WHERE address IN (SELECT address FROM devices WHERE last_seen < $1)",
        "DELETE FROM admissions WHERE address IN (SELECT address FROM devices WHERE last_seen < $1)",
        "DELETE FROM device_serials WHERE address IN (SELECT address FROM devices WHERE last_seen < $1)",
        "DELETE FROM devices WHERE last_seen < $1",
    ] {
        removed += db.exec(sql, &[Value::from(before)])?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::migrations::{migrate, MIGRATIONS};

    fn serial(address: &str, serial: u32, at: u64) -> Event {
        Event::Serial {
            at,
            address: address.parse().expect("a test address"),
            user_agent: "test".into(),
            serial: format!("{serial:016}"),
            licensed: false,
        }
    }

    fn check_in(address: &str, build_date: u32, at: u64) -> Event {
        check_in_as(address, "test", build_date, (20250301, false), at)
    }

    /// A check-in from `user_agent`, `offer` the version offered and whether as an update.
    fn check_in_as(
        address: &str,
        user_agent: &str,
        build_date: u32,
        offer: (u32, bool),
        at: u64,
    ) -> Event {
        Event::CheckIn {
            at,
            address: address.parse().expect("a test address"),
            user_agent: user_agent.into(),
            build_date,
            line: "".into(),
            offered: offer.0,
            update_available: offer.1,
            critical: false,
        }
    }

    fn download(address: &str, at: u64, complete: bool) -> Event {
        Event::Download {
            at,
            address: address.parse().expect("a test address"),
            version: 20250301,
            file: "upd_app.bin",
            bytes: 1000,
            complete,
        }
    }

    fn ints(db: &mut dyn Db, sql: &str) -> Result<Vec<i64>> {
        db.query(sql, &[])?
            .iter()
            .map(|row| match row.values() {
                [Value::Int(v)] => Ok(*v),
                other => anyhow::bail!("{sql}: not one number: {other:?}"),
            })
            .collect()
    }

    /// A device's times only move forward within a batch: an unchanged check-in waiting
    /// for the batch's end is not written over a later one that changed the row (it was:
    /// the later row's times went back to the earlier check-in's).
    #[test]
    fn a_batch_leaves_a_device_seen_at_its_last_check_in() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let batch = [
            check_in("10.0.0.1", 20250101, 10),
            check_in("10.0.0.1", 20250101, 20),
            check_in("10.0.0.1", 20250301, 30),
        ];
        write(&mut db, &batch, "a")?;
        assert_eq!(
            ints(&mut db, "SELECT last_seen FROM devices")?,
            [30],
            "last seen"
        );
        assert_eq!(ints(&mut db, "SELECT last_check_in FROM devices")?, [30]);
        Ok(())
    }

    /// One address asking for thousands of serials keeps the most recent
    /// `SERIALS_PER_ADDRESS`; another address's serials are not touched.
    #[test]
    fn serials_are_bounded_per_address_keeping_the_most_recent() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        write(&mut db, &[serial("10.0.0.2", 7, 1)], "a")?;
        for batch in 0..10u32 {
            let events: Vec<Event> = (0..100)
                .map(|n| serial("10.0.0.1", batch * 100 + n, 10 + u64::from(batch)))
                .collect();
            write(&mut db, &events, "a")?;
        }
        let kept = ints(
            &mut db,
            "SELECT CAST(serial AS INTEGER) FROM device_serials WHERE address = '10.0.0.1' ORDER BY 1",
        )?;
        assert_eq!(kept.len() as u64, SERIALS_PER_ADDRESS);
        assert_eq!(kept.first(), Some(&(1000 - SERIALS_PER_ADDRESS as i64)));
        assert_eq!(kept.last(), Some(&999));
        assert_eq!(
            ints(
                &mut db,
                "SELECT COUNT(*) FROM device_serials WHERE address = '10.0.0.2'"
            )?,
            [1]
        );
        Ok(())
    }

    /// A register flipping its reported build date on every poll keeps the most recent
    /// `BUILD_CHANGES_PER_ADDRESS` changes in the history; release events are not touched.
    #[test]
    fn build_changes_are_bounded_per_address() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        write(
            &mut db,
            &[Event::History {
                at: 1,
                kind: HistoryKind::Published,
                line: "".into(),
                version: Some(20250301),
                detail: String::new(),
            }],
            "a",
        )?;
        for n in 0..300u64 {
            let build = if n % 2 == 0 { 20250101 } else { 20250201 };
            write(&mut db, &[check_in("10.0.0.1", build, 10 + n)], "a")?;
        }
        assert_eq!(
            ints(
                &mut db,
                "SELECT COUNT(*) FROM history WHERE kind = 'build_changed'"
            )?,
            [BUILD_CHANGES_PER_ADDRESS as i64]
        );
        assert_eq!(
            ints(
                &mut db,
                "SELECT MAX(at) FROM history WHERE kind = 'build_changed'"
            )?,
            [309]
        );
        assert_eq!(
            ints(
                &mut db,
                "SELECT COUNT(*) FROM history WHERE kind = 'published'"
            )?,
            [1]
        );
        Ok(())
    }

    /// A build date edited by hand into text does not stop the writer: that check-in
    /// writes a good value over it, and the other devices' records are written too.
    #[test]
    fn an_unreadable_stored_build_date_is_written_over_not_a_stuck_batch() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        write(&mut db, &[check_in("10.0.0.1", 20250101, 10)], "a")?;
        db.exec(
            "UPDATE devices SET build_date = 'yesterday' WHERE address = '10.0.0.1'",
            &[],
        )?;
        write(
            &mut db,
            &[
                check_in("10.0.0.1", 20250201, 20),
                check_in("10.0.0.2", 20250201, 20),
            ],
            "a",
        )?;
        assert_eq!(
            ints(&mut db, "SELECT build_date FROM devices ORDER BY address")?,
            [20250201, 20250201]
        );
        Ok(())
    }

    /// The same file downloaded again and again by one device is one row with a count,
    /// its first and last time, across batches; whole and partial answers apart.
    #[test]
    fn repeated_downloads_are_one_row_with_a_count() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        write(
            &mut db,
            &[
                download("10.0.0.1", 100, true),
                download("10.0.0.1", 101, true),
                download("10.0.0.1", 102, false),
                download("10.0.0.2", 102, true),
            ],
            "a",
        )?;
        write(
            &mut db,
            &[
                download("10.0.0.1", 200, true),
                download("10.0.0.1", 201, true),
            ],
            "a",
        )?;
        let rows = db.query(
            "SELECT address, complete, times, first_at, at FROM downloads ORDER BY address, complete",
            &[],
        )?;
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                row.values()
                    .iter()
                    .map(|v| match v {
                        Value::Int(i) => i.to_string(),
                        Value::Text(t) => t.clone(),
                        Value::Null => "NULL".into(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            [
                ["10.0.0.1", "0", "1", "102", "102"],
                ["10.0.0.1", "1", "4", "100", "201"],
                ["10.0.0.2", "1", "1", "102", "102"],
            ]
        );
        Ok(())
    }

    /// Rows an older server sharing the store inserted (one per download, no count) stay
    /// valid, and a download counted again adds to one of them only.
    #[test]
    fn rows_of_an_older_writer_are_counted_once() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        for at in [100, 101] {
            db.exec(
                "INSERT INTO downloads (at, address, version, file, bytes, complete) \
                 VALUES ($1, '10.0.0.1', 20250301, 'upd_app.bin', 1000, 1)",
                &[Value::Int(at)],
            )?;
        }
        write(&mut db, &[download("10.0.0.1", 200, true)], "a")?;
        assert_eq!(
            ints(&mut db, "SELECT times FROM downloads ORDER BY times")?,
            [1, 2]
        );
        assert_eq!(ints(&mut db, "SELECT SUM(times) FROM downloads")?, [3]);
        Ok(())
    }

    /// A store of schema 5 with repeated downloads and too many serials and build changes
    /// comes out of migration 6 folded and pruned to the bounds.
    #[test]
    fn migration_6_folds_downloads_and_prunes_what_is_past_the_bounds() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        crate::store::migrations::migrate_first(&mut db, 5)?;
        for n in 0..30 {
            db.exec(
                "INSERT INTO downloads (at, address, version, file, bytes, complete) \
                 VALUES ($1, '10.0.0.1', 20250301, 'upd_app.bin', 1000, 1)",
                &[Value::Int(100 + n)],
            )?;
        }
        for n in 0..1000 {
            db.exec(
                "INSERT INTO device_serials (address, serial, licensed, last_seen) \
                 VALUES ('10.0.0.1', $1, 0, $2)",
                &[Value::from(format!("{n:016}")), Value::Int(n)],
            )?;
        }
        for n in 0..100 {
            db.exec(
                "INSERT INTO history (at, kind, address, detail) \
                 VALUES ($1, 'build_changed', '10.0.0.1', '')",
                &[Value::Int(n)],
            )?;
        }
        // Migration 6 and every later one.
        assert_eq!(migrate(&mut db)?, MIGRATIONS.len() - 5);
        assert_eq!(
            ints(&mut db, "SELECT times FROM downloads")?,
            [30],
            "one row, counted"
        );
        assert_eq!(ints(&mut db, "SELECT first_at FROM downloads")?, [100]);
        assert_eq!(ints(&mut db, "SELECT at FROM downloads")?, [129]);
        assert_eq!(
            ints(&mut db, "SELECT COUNT(*) FROM device_serials")?,
            [SERIALS_PER_ADDRESS as i64]
        );
        assert_eq!(
            ints(&mut db, "SELECT MIN(last_seen) FROM device_serials")?,
            [1000 - SERIALS_PER_ADDRESS as i64]
        );
        assert_eq!(
            ints(&mut db, "SELECT COUNT(*) FROM history")?,
            [BUILD_CHANGES_PER_ADDRESS as i64]
        );
        assert_eq!(ints(&mut db, "SELECT MIN(at) FROM history")?, [36]);
        Ok(())
    }

    /// A `Db` over SQLite counting the statements run through it (transactions aside),
    /// and keeping their texts.
    struct Counting {
        db: Sqlite,
        statements: usize,
        texts: std::collections::BTreeSet<String>,
    }

    impl Counting {
        fn open(dir: &std::path::Path) -> Result<Counting> {
            let mut db = Sqlite::open(&dir.join("inventory.sqlite"))?;
            migrate(&mut db)?;
            Ok(Counting {
                db,
                statements: 0,
                texts: Default::default(),
            })
        }

        fn seen(&mut self, sql: &str) {
            self.statements += 1;
            self.texts.insert(sql.to_string());
        }

        /// The statements `write` runs for `events`.
        fn statements_of(&mut self, events: &[Event]) -> Result<usize> {
            let before = self.statements;
            write(self, events, "a")?;
            Ok(self.statements - before)
        }
    }

    impl Db for Counting {
        fn exec(&mut self, sql: &str, params: &[Value]) -> crate::store::db_error::DbResult<u64> {
            self.seen(sql);
            self.db.exec(sql, params)
        }
        fn query(
            &mut self,
            sql: &str,
            params: &[Value],
        ) -> crate::store::db_error::DbResult<Vec<crate::store::row::Row>> {
            self.seen(sql);
            self.db.query(sql, params)
        }
        fn batch(&mut self, sql: &str) -> crate::store::db_error::DbResult<()> {
            self.seen(sql);
            self.db.batch(sql)
        }
        fn begin(&mut self) -> crate::store::db_error::DbResult<()> {
            self.db.begin()
        }
        fn commit(&mut self) -> crate::store::db_error::DbResult<()> {
            self.db.commit()
        }
        fn rollback(&mut self) -> crate::store::db_error::DbResult<()> {
            self.db.rollback()
        }
        fn dialect(&self) -> crate::store::db::Dialect {
            self.db.dialect()
        }
    }

    fn offered_check_in(address: &str, build_date: u32, offered: u32, at: u64) -> Event {
        check_in_as(address, "test", build_date, (offered, true), at)
    }

    /// What one check-in costs the writer in SQLite, in statements. The steady state (the
    /// same build, the same offer, already on record) is one update of its row's times.
    /// Otherwise that update finds no row as the check-in would leave it, and the build
    /// date is read, the row written and the offer inserted. The update marking offers as
    /// installed runs only when the build date is new to the store. (It was 3 statements
    /// on every check-in, 4 with an offer, then 2 and 3.) PostgreSQL reads and writes a
    /// changed row in one, and settles a batch's steady check-ins in one
    /// (`inventory_postgres::steady_check_ins_cost_one_statement_a_batch_in_postgres`).
    #[test]
    fn a_steady_check_in_costs_one_statement_offered_or_not() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Counting::open(dir.path())?;
        // 1,000 devices in 10.<network>.0.0/16, each with `event`.
        let fleet = |network: u32, at: u64, event: &dyn Fn(&str, u64) -> Event| -> Vec<Event> {
            (0..1000)
                .map(|i| event(&format!("10.{network}.{}.{}", i / 250, i % 250 + 1), at))
                .collect()
        };
        let plain = |address: &str, at| check_in(address, 20250101, at);
        let offered = |address: &str, at| offered_check_in(address, 20250101, 20250301, at);
        // New devices (their first check-in also marks offers: another instance may be
        // writing one), then the same polling again and again.
        assert_eq!(db.statements_of(&fleet(1, 10, &plain))?, 4000);
        assert_eq!(db.statements_of(&fleet(1, 20, &plain))?, 1000);
        assert_eq!(db.statements_of(&fleet(1, 25, &plain))?, 1000);
        // The same release now offered as an update: the offer is not on record yet, so
        // the row is read and written with it; then the steady state again.
        assert_eq!(db.statements_of(&fleet(1, 30, &offered))?, 4000);
        assert_eq!(db.statements_of(&fleet(1, 40, &offered))?, 1000);
        assert_eq!(db.statements_of(&fleet(2, 50, &offered))?, 5000);
        // Another user agent: the row changes.
        let other_agent =
            |address: &str, at| check_in_as(address, "another", 20250101, (20250301, false), at);
        assert_eq!(db.statements_of(&fleet(1, 45, &other_agent))?, 3000);
        // A device reporting the offered build: the build change, its bound, the update.
        assert_eq!(db.statements_of(&[check_in("10.1.0.1", 20250301, 60)])?, 6);
        Ok(())
    }

    /// An offer is marked installed at the first check-in reporting its build or a newer
    /// one, and never by one that does not: an offer written by an older server sharing
    /// the store, a device first seen on a build past its offer, and an offer up to the
    /// build the device already reports.
    #[test]
    fn offers_are_marked_installed_when_the_build_date_reaches_them() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let updated_at = |db: &mut Sqlite, address: &str| -> Result<Vec<Option<u64>>> {
            db.query(
                "SELECT updated_at FROM device_releases WHERE address = $1 ORDER BY version",
                &[Value::from(address)],
            )?
            .iter()
            .map(|row| Ok(row.opt_u64("updated_at")?))
            .collect()
        };
        write(
            &mut db,
            &[offered_check_in("10.0.0.1", 20250101, 20250301, 10)],
            "a",
        )?;
        write(&mut db, &[check_in("10.0.0.1", 20250101, 20)], "a")?;
        assert_eq!(updated_at(&mut db, "10.0.0.1")?, [None]);
        write(&mut db, &[check_in("10.0.0.1", 20250301, 30)], "a")?;
        assert_eq!(updated_at(&mut db, "10.0.0.1")?, [Some(30)]);

        // An older server wrote the device and its offer; this one sees the new build.
        db.batch(
            "INSERT INTO devices (address, first_seen, last_seen, build_date) \
             VALUES ('10.0.0.2', 1, 1, 20250101);
             INSERT INTO device_releases (address, version, critical, offered_at) \
             VALUES ('10.0.0.2', 20250301, 0, 1);",
        )?;
        write(&mut db, &[check_in("10.0.0.2", 20250401, 40)], "a")?;
        assert_eq!(updated_at(&mut db, "10.0.0.2")?, [Some(40)]);

        // Within one batch: offered, then updated, then polling on.
        write(
            &mut db,
            &[
                offered_check_in("10.0.0.3", 20250101, 20250301, 50),
                check_in("10.0.0.3", 20250301, 51),
                check_in("10.0.0.3", 20250301, 52),
            ],
            "a",
        )?;
        assert_eq!(updated_at(&mut db, "10.0.0.3")?, [Some(51)]);

        // An offer up to the build reported (never made today, kept safe): marked at once.
        write(
            &mut db,
            &[offered_check_in("10.0.0.4", 20250301, 20250301, 60)],
            "a",
        )?;
        write(
            &mut db,
            &[offered_check_in("10.0.0.4", 20250401, 20250201, 70)],
            "a",
        )?;
        assert_eq!(updated_at(&mut db, "10.0.0.4")?, [Some(70), Some(60)]);
        Ok(())
    }

    /// Every statement the writer runs (each event kind, the bounds, the group tags, the
    /// audit trail, the prunes, the migrations) stays in SQLite's statement cache, which
    /// rusqlite sizes at 16 unless told: past it, each check-in parsed its SQL again.
    #[test]
    fn the_writers_statements_all_stay_prepared_in_sqlite() -> Result<()> {
        use crate::audit::{Action, AuditEntry};
        use crate::groups::{Group, Groups};
        use crate::licenses::serial::Serial;
        use crate::model::ip_networks::IpNetworks;
        let dir = tempfile::tempdir()?;
        let mut db = Counting::open(dir.path())?;
        db.texts.clear();
        migrate(&mut db)?;
        let groups = Groups::new(vec![Group {
            name: "A".into(),
            networks: IpNetworks::parse("networks", &["10.0.0.0/24".to_string()])?,
            serials: vec![Serial::parse_file_form("0000000000000042").expect("serial")],
            time_zone: None,
        }]);
        let history = |kind| Event::History {
            at: 1,
            kind,
            line: "".into(),
            version: Some(20250301),
            detail: String::new(),
        };
        let events = [
            history(HistoryKind::Published),
            offered_check_in("10.0.0.1", 20250101, 20250301, 10),
            check_in("10.0.0.1", 20250301, 11),
            check_in("10.0.0.1", 20250301, 12),
            check_in("10.0.1.1", 20250101, 12),
            serial("10.0.1.1", 42, 13),
            serial("10.0.1.1", 42, 14),
            download("10.0.0.1", 15, true),
            download("10.0.0.1", 16, false),
            Event::Admitted {
                at: 17,
                address: "10.0.0.1".parse()?,
                line: "".into(),
                version: 20250301,
                pilot: false,
            },
            history(HistoryKind::Withdrawn),
        ];
        write_tagged(&mut db, &events, "a", Some(&groups))?;
        write_tagged(&mut db, &events, "a", Some(&groups))?;
        let audit = Event::Audit {
            at: 18,
            entry: AuditEntry::new("ivanov", Action::Publish, "20250301", "published"),
            once: false,
        };
        append_audit(&mut db, &[audit])?;
        audit_sql::head(&mut db)?;
        let mut after = String::new();
        while let Some(last) = group_tags::retag_after(&mut db, &groups, &after, 1)? {
            after = last;
        }
        prune(&mut db, 1)?;
        in_transaction(&mut db, |db| audit_sql::prune(db, 1, 100))?;
        let used = db.texts.len();
        assert!(used > 16, "{used}: rusqlite's default cache held them all");
        assert!(
            used <= crate::store::prepared::SQLITE_STATEMENTS_KEPT,
            "{used} statements: {:#?}",
            db.texts
        );
        Ok(())
    }

    /// The prunes run in every write that adds a serial or a build change: each walks one
    /// address's rows through an index, never the table.
    #[test]
    fn the_per_address_prunes_use_their_indexes() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let params = [Value::from("10.0.0.1"), Value::Int(i64::MAX), Value::Int(1)];
        for (sql, index) in [
            (SERIALS_PAST_THE_BOUND, "device_serials_recent"),
            (BUILD_CHANGES_PAST_THE_BOUND, "history_by_address"),
            (DOWNLOAD_AGAIN, "downloads_by_device"),
        ] {
            let plan = crate::store::db::query_plan(&mut db, sql, &params)?;
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("SCAN"), "{sql}: {plan}");
        }
        Ok(())
    }
}
