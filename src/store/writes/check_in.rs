//! A check-in's writes: the device's row (in the steady state one update of its times,
//! compared in the statement; else read and upserted), a build change in the history, the
//! offer, and the offers its build date installs. In PostgreSQL a batch's steady check-ins
//! are settled together first (`steady_together`).

use std::collections::HashMap;

use anyhow::Result;

use super::{Batch, Written};
use crate::store::db::{Db, Dialect, Value};
use crate::store::event::Event;
use crate::store::group_tags;
use crate::store::history_kind::HistoryKind;
use crate::store::row::Row;
use crate::store::value::stored_int;

/// A check-in: the device row, a build change in the history, the offer, what it updated to.
pub(super) fn write_check_in(db: &mut dyn Db, event: &Event, batch: &mut Batch) -> Result<()> {
    let Event::CheckIn {
        at,
        address,
        user_agent,
        build_date,
        line,
        offered,
        update_available,
        critical,
    } = event
    else {
        return Ok(());
    };
    let address = address.to_string();
    let now = Written {
        build_date: *build_date,
        line: line.clone(),
        offered: *offered,
        user_agent: user_agent.clone(),
    };
    if batch.written.get(&address) == Some(&now) {
        batch.last_seen.insert(address, *at);
        return Ok(());
    }
    // Settled: the row was as this check-in leaves it, its offer (if any) on record, and
    // its times are moved. PostgreSQL tried the batch's steady check-ins together; SQLite
    // tries each device's first check-in in the batch on its own (no round trip to save).
    let settled = match db.dialect() {
        Dialect::Postgres => batch.settled.remove(&address),
        Dialect::Sqlite => {
            !batch.written.contains_key(&address)
                && seen_unchanged(db, &address, *at, &now, *critical, *update_available)?
        }
    };
    let stored = if settled {
        Stored::Row {
            build_date: Some(i64::from(*build_date)),
        }
    } else {
        // A later check-in than any waiting in `last_seen` for the batch's end.
        batch.last_seen.remove(&address);
        write_device(db, batch, &address, *at, &now, *critical)?
    };
    let before = match stored {
        Stored::Row { build_date } => build_date,
        Stored::NoRow => None,
    };
    if let Some(before) = before.filter(|b| *b != i64::from(*build_date)) {
        write_build_change(db, &address, *at, before, *build_date)?;
        batch.builds_changed.insert(address.clone());
    }
    if *update_available && !settled {
        write_offer(db, &address, *at, &now, *critical)?;
    }
    mark_if_installed(db, &address, *at, stored, &now, *update_available)?;
    batch.written.insert(address, now);
    Ok(())
}

/// Marks the offers this check-in's build date installs, when it can change anything.
///
/// Every offer is written with this update in the same transaction, by every version of
/// the server (an older one sharing the store included): so no offer up to the build date
/// a row holds is left unmarked, and none exists for a device without a row (the prune
/// deletes a device's offers before its row). The update can only change something when
/// the build date is new to the store (or unreadable there), or when this check-in's offer
/// is up to it. A device's first check-in marks too: another instance sharing the store
/// may be writing the same address's first row and an offer at this moment (registers
/// behind one NAT address), unseen by this statement's snapshot; skipping here would leave
/// that offer unmarked for good.
fn mark_if_installed(
    db: &mut dyn Db,
    address: &str,
    at: u64,
    stored: Stored,
    now: &Written,
    update_available: bool,
) -> Result<()> {
    let offer_up_to_it = update_available && now.offered <= now.build_date;
    let unchanged = match stored {
        Stored::NoRow => false,
        Stored::Row { build_date: before } => before == Some(i64::from(now.build_date)),
    };
    if offer_up_to_it || !unchanged {
        mark_updated(db, address, at, now.build_date)?;
    }
    Ok(())
}

/// What the store held of a device before a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// No row: the device was never seen (or was pruned).
    NoRow,
    /// Its row, with the build date it last reported (none: never reported, or unreadable).
    Row { build_date: Option<i64> },
}

/// The device's row as a check-in leaves it (created on its first), in `$1` to `$8`:
/// address, time, user agent, build date, version offered, critical, line, group. The
/// group is written when the row is made only: afterwards it changes with the device's
/// serials or the groups (`group_tags`), never with a check-in.
macro_rules! upsert_device_sql {
    () => {
        "INSERT INTO devices (address, first_seen, last_seen, user_agent, build_date, \
         last_check_in, offered, critical, line, group_name) \
         VALUES ($1, $2, $2, $3, $4, $2, $5, $6, $7, NULLIF($8, '')) \
         ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen, \
         user_agent = excluded.user_agent, build_date = excluded.build_date, \
         last_check_in = excluded.last_check_in, offered = excluded.offered, \
         critical = excluded.critical, line = excluded.line"
    };
}
const UPSERT_DEVICE: &str = upsert_device_sql!();
/// A check-in that changes nothing on the device's row but its times, the steady state of
/// a fleet (a register polls every few minutes with the same build date and is offered the
/// same release): the row is compared with the check-in in the statement itself, and an
/// update offered (`$8`) must be on record already, so one update of two columns replaces
/// a read, an upsert of eight and the offer's insert. It updates no row when the device
/// has none, anything differs (`NULL` included) or the offer is missing, and the full
/// write follows. Comparing in the statement, not with what this writer remembers, stays
/// right when another instance sharing the store wrote the row in between.
const SEEN_UNCHANGED: &str = "UPDATE devices SET last_seen = $1, last_check_in = $1 \
     WHERE address = $2 AND build_date = $3 AND offered = $4 AND critical = $5 \
     AND line = $6 AND user_agent = $7 AND ($8 = 0 OR EXISTS (SELECT 1 FROM device_releases \
     WHERE device_releases.address = $2 AND device_releases.version = $4))";
/// What the store held of the device: no row, or one with its build date.
const STORED_BUILD_DATE: &str = "SELECT build_date FROM devices WHERE address = $1";
/// PostgreSQL: both in one statement, one round trip instead of two. Every part of a
/// statement sees the tables as they were when it began (one snapshot), so `before` reads
/// the row as it was before the upsert changed it; a data-modifying part runs to its end
/// whether or not its output is read. (SQLite has no `INSERT` inside `WITH`, and no round
/// trips to save.)
const UPSERT_DEVICE_READING_BEFORE: &str = concat!(
    "WITH before AS (SELECT build_date FROM devices WHERE address = $1), written AS (",
    upsert_device_sql!(),
    " RETURNING address) SELECT build_date FROM before"
);

/// Writes the device's row as this check-in leaves it; what the store held before.
fn write_device(
    db: &mut dyn Db,
    batch: &Batch,
    address: &str,
    at: u64,
    now: &Written,
    critical: bool,
) -> Result<Stored> {
    // Looked up only for a row that may be new: an existing row keeps its group.
    let group = batch
        .groups
        .and_then(|groups| group_tags::by_network(groups, address));
    let params = [
        Value::from(address),
        Value::from(at),
        Value::from(&*now.user_agent),
        Value::from(now.build_date),
        Value::from(now.offered),
        Value::from(critical),
        Value::from(&*now.line),
        // PostgreSQL binds a NULL as a number: no group is '' here (a group's name is
        // never empty), NULL in the row.
        Value::from(group.unwrap_or_default()),
    ];
    if let Some(w) = batch.written.get(address) {
        db.exec(UPSERT_DEVICE, &params)?;
        return Ok(Stored::Row {
            build_date: Some(i64::from(w.build_date)),
        });
    }
    if db.dialect() == Dialect::Postgres {
        let rows = db.query(UPSERT_DEVICE_READING_BEFORE, &params)?;
        return Ok(stored(rows.first()));
    }
    let rows = db.query(STORED_BUILD_DATE, &[Value::from(address)])?;
    db.exec(UPSERT_DEVICE, &params)?;
    Ok(stored(rows.first()))
}

/// `SEEN_UNCHANGED` for many devices in one statement (PostgreSQL: `unnest` turns the
/// lists into rows); what it returns are the addresses it did not settle (few, in the
/// steady state: returning the settled ones cost the writer a row each).
const SEEN_UNCHANGED_TOGETHER: &str = "WITH v AS (SELECT * FROM unnest($1::text[], \
     $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], \
     $8::bigint[]) AS v(address, at, build_date, offered, critical, line, user_agent, offer)), \
     u AS (UPDATE devices AS d SET last_seen = v.at, last_check_in = v.at FROM v \
     WHERE d.address = v.address AND d.build_date = v.build_date AND d.offered = v.offered \
     AND d.critical = v.critical AND d.line = v.line AND d.user_agent = v.user_agent \
     AND (v.offer = 0 OR EXISTS (SELECT 1 FROM device_releases r \
     WHERE r.address = v.address AND r.version = v.offered)) RETURNING d.address) \
     SELECT v.address FROM v WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.address = v.address)";

/// PostgreSQL: the batch's steady check-ins settled in one statement, not a round trip
/// each (at a fleet's full rate the round trips, not the rows, bound what one writer can
/// keep up with). Taken: each device's first check-in in the batch, when nothing else in
/// the batch touches its row (a serial or a download would, in an order this must keep);
/// their rows are compared and updated together as `SEEN_UNCHANGED` does one. Those it
/// did not settle are written one by one, in order (`write_check_in`).
pub(super) fn steady_together(db: &mut dyn Db, events: &[Event], batch: &mut Batch) -> Result<()> {
    let mut touched = std::collections::HashSet::new();
    for event in events {
        if let Event::Serial { address, .. } | Event::Download { address, .. } = event {
            touched.insert(*address);
        }
    }
    let mut first: HashMap<String, &Event> = HashMap::new();
    for event in events {
        if let Event::CheckIn { address, .. } = event {
            if !touched.contains(address) {
                first.entry(address.to_string()).or_insert(event);
            }
        }
    }
    if first.is_empty() {
        return Ok(());
    }
    let mut lists = Together::default();
    for (address, event) in &first {
        if let Event::CheckIn {
            at,
            user_agent,
            build_date,
            line,
            offered,
            critical,
            update_available,
            ..
        } = event
        {
            lists.addresses.push(address.clone());
            lists.at.push(stored_int(*at));
            lists.build_dates.push(i64::from(*build_date));
            lists.offered.push(i64::from(*offered));
            lists.critical.push(i64::from(*critical));
            lists.lines.push(line.to_string());
            lists.user_agents.push(user_agent.to_string());
            lists.offers.push(i64::from(*update_available));
        }
    }
    let unsettled = db.query(
        SEEN_UNCHANGED_TOGETHER,
        &[
            Value::Texts(lists.addresses),
            Value::Ints(lists.at),
            Value::Ints(lists.build_dates),
            Value::Ints(lists.offered),
            Value::Ints(lists.critical),
            Value::Texts(lists.lines),
            Value::Texts(lists.user_agents),
            Value::Ints(lists.offers),
        ],
    )?;
    for row in &unsettled {
        first.remove(&row.text("address")?);
    }
    batch.settled.extend(first.into_keys());
    Ok(())
}

/// The columns of `SEEN_UNCHANGED_TOGETHER`, a list each.
#[derive(Default)]
struct Together {
    addresses: Vec<String>,
    at: Vec<i64>,
    build_dates: Vec<i64>,
    offered: Vec<i64>,
    critical: Vec<i64>,
    lines: Vec<String>,
    user_agents: Vec<String>,
    offers: Vec<i64>,
}

/// `SEEN_UNCHANGED`: whether the device's row was there as this check-in would leave it,
/// with its offer on record (its times now moved).
fn seen_unchanged(
    db: &mut dyn Db,
    address: &str,
    at: u64,
    now: &Written,
    critical: bool,
    update_available: bool,
) -> Result<bool> {
    let params = [
        Value::from(at),
        Value::from(address),
        Value::from(now.build_date),
        Value::from(now.offered),
        Value::from(critical),
        Value::from(&*now.line),
        Value::from(&*now.user_agent),
        Value::from(update_available),
    ];
    Ok(db.exec(SEEN_UNCHANGED, &params)? > 0)
}

/// A `build_changed` entry in the history: the device reports another build date.
fn write_build_change(
    db: &mut dyn Db,
    address: &str,
    at: u64,
    before: i64,
    build_date: u32,
) -> Result<()> {
    db.exec(
        "INSERT INTO history (at, kind, version, address, detail) VALUES ($1, $5, $2, $3, $4)",
        &[
            Value::from(at),
            Value::from(build_date),
            Value::from(address),
            Value::from(format!("from {before} to {build_date}")),
            Value::from(HistoryKind::BuildChanged.as_str()),
        ],
    )?;
    Ok(())
}

/// The release offered, remembered once per device and version (its outcome is filled in
/// by later downloads and check-ins).
fn write_offer(
    db: &mut dyn Db,
    address: &str,
    at: u64,
    now: &Written,
    critical: bool,
) -> Result<()> {
    db.exec(
        "INSERT INTO device_releases (address, version, critical, offered_at, line) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address, version) DO NOTHING",
        &[
            Value::from(address),
            Value::from(now.offered),
            Value::from(critical),
            Value::from(at),
            Value::from(&*now.line),
        ],
    )?;
    Ok(())
}

/// Every offer up to the build date the device now reports is updated (from now on).
fn mark_updated(db: &mut dyn Db, address: &str, at: u64, build_date: u32) -> Result<()> {
    db.exec(
        "UPDATE device_releases SET updated_at = $1 \
             WHERE address = $2 AND version <= $3 AND updated_at IS NULL",
        &[
            Value::from(at),
            Value::from(address),
            Value::from(build_date),
        ],
    )?;
    Ok(())
}

/// What the store held of a device, from its row if it has one (no build date for a
/// device only asking for licenses so far).
///
/// A stored value that is not a number (only a hand edit can put one there) is taken as
/// unknown, with a warning, rather than failing the batch: a failed batch is retried and
/// would hold back every other device's records until someone repaired the row, while this
/// check-in writes a good value over it.
fn stored(row: Option<&Row>) -> Stored {
    match row.map(|row| row.opt_i64("build_date")) {
        Some(Ok(build_date)) => Stored::Row { build_date },
        Some(Err(unreadable)) => {
            let t = crate::words::Words::of(crate::model::lang::Lang::operator()).watch;
            log::warn!(
                "{}",
                crate::model::lang::fill(t.unreadable_build_date, &[("why", &unreadable)])
            );
            Stored::Row { build_date: None }
        }
        None => Stored::NoRow,
    }
}
