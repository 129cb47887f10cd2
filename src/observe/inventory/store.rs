//! The inventory's SQL, written once for SQLite and PostgreSQL: schema migrations
//! (`migrations/<dialect>/NNNN_*.sql`, applied in order at start-up and recorded in
//! `schema_migrations`), writing a batch of events in one transaction, and the queries
//! behind the admin API.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::observe::inventory::db::{Db, Value};
use crate::observe::inventory::event::Event;
use crate::observe::inventory::outcome::{outcome, Outcome};

/// The migrations, in order: (version, SQLite text, PostgreSQL text).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../../../migrations/sqlite/0001_inventory.sql"),
        include_str!("../../../migrations/postgres/0001_inventory.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/sqlite/0002_devices_by_last_seen.sql"),
        include_str!("../../../migrations/postgres/0002_devices_by_last_seen.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/sqlite/0003_lines_and_rollouts.sql"),
        include_str!("../../../migrations/postgres/0003_lines_and_rollouts.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/sqlite/0004_admissions_by_instance.sql"),
        include_str!("../../../migrations/postgres/0004_admissions_by_instance.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/sqlite/0005_release_downloads_index.sql"),
        include_str!("../../../migrations/postgres/0005_release_downloads_index.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/sqlite/0006_bounded_per_device.sql"),
        include_str!("../../../migrations/postgres/0006_bounded_per_device.sql"),
    ),
];

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
const BUILD_CHANGES_PAST_THE_BOUND: &str = "DELETE FROM history WHERE id IN \
     (SELECT id FROM history WHERE address = $1 AND kind = 'build_changed' \
     ORDER BY id DESC LIMIT $2 OFFSET $3)";

/// Applies the migrations this database has not seen yet; returns how many. Several
/// processes may start at once on one database (instances sharing PostgreSQL): each
/// migration runs in a transaction that first takes the database's write lock (SQLite) or
/// an advisory lock (PostgreSQL), then checks again whether it is still needed.
pub fn migrate(db: &mut dyn Db) -> Result<usize> {
    let postgres = db.dialect() == "postgres";
    if postgres {
        db.batch("SELECT pg_advisory_lock(7340001)")?;
    }
    let result = migrate_locked(db);
    if postgres {
        let _ = db.batch("SELECT pg_advisory_unlock(7340001)");
    }
    result
}

fn migrate_locked(db: &mut dyn Db) -> Result<usize> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .context("cannot create schema_migrations")?;
    let mut count = 0;
    for (version, sqlite, postgres) in MIGRATIONS {
        let sql = if db.dialect() == "postgres" {
            postgres
        } else {
            sqlite
        };
        db.begin()?;
        let applied = db
            .query(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[Value::Int(*version)],
            )
            .map(|rows| !rows.is_empty());
        match applied {
            Ok(true) => {
                db.rollback()?;
                continue;
            }
            Ok(false) => {}
            Err(e) => {
                let _ = db.rollback();
                return Err(e);
            }
        }
        let result = db.batch(sql).and_then(|()| {
            db.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[
                    Value::Int(*version),
                    Value::from(crate::model::unix_time::unix(std::time::SystemTime::now())),
                ],
            )
        });
        match result {
            Ok(_) => db.commit()?,
            Err(e) => {
                let _ = db.rollback();
                return Err(e).with_context(|| format!("migration {version} failed"));
            }
        }
        count += 1;
    }
    Ok(count)
}

/// Writes `events` in one transaction; `instance` names this server process in the
/// admissions it writes.
pub fn write(db: &mut dyn Db, events: &[Event], instance: &str) -> Result<()> {
    in_transaction(db, |db| write_all(db, events, instance))
}

/// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails.
fn in_transaction<T>(db: &mut dyn Db, work: impl FnOnce(&mut dyn Db) -> Result<T>) -> Result<T> {
    db.begin()?;
    match work(db) {
        Ok(value) => {
            db.commit()?;
            Ok(value)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
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

fn write_all(db: &mut dyn Db, events: &[Event], instance: &str) -> Result<()> {
    // The same file answered to the same device many times in one batch (a client in a
    // loop) is written once, at the last of them, with their count.
    // Likewise the same serial asked for from the same device.
    let mut downloads_seen: HashMap<_, Repeated> = HashMap::new();
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
    let mut written: HashMap<String, Written> = HashMap::new();
    let mut last_seen: HashMap<String, u64> = HashMap::new();
    // Addresses that got a serial or a build change in this batch: pruned to the bound at
    // the end, once each.
    let mut serials_added: std::collections::HashSet<String> = Default::default();
    let mut builds_changed: std::collections::HashSet<String> = Default::default();
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Download { .. } | Event::Serial { .. } if !last_of_kind[i] => {}
            Event::CheckIn {
                at,
                address,
                user_agent,
                build_date,
                line,
                offered,
                update_available,
                critical,
            } => {
                let address = address.to_string();
                let now = Written {
                    build_date: *build_date,
                    line: line.clone(),
                    offered: *offered,
                    user_agent: user_agent.clone(),
                };
                if written.get(&address) == Some(&now) {
                    last_seen.insert(address, *at);
                    continue;
                }
                let before = match written.get(&address) {
                    Some(w) => Some(i64::from(w.build_date)),
                    None => db
                        .query(
                            "SELECT build_date FROM devices WHERE address = $1",
                            &[Value::from(address.as_str())],
                        )?
                        .first()
                        .and_then(|row| row.first().and_then(Value::int)),
                };
                db.exec(
                    "INSERT INTO devices (address, first_seen, last_seen, user_agent, build_date, \
                     last_check_in, offered, critical, line) \
                     VALUES ($1, $2, $2, $3, $4, $2, $5, $6, $7) \
                     ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen, \
                     user_agent = excluded.user_agent, build_date = excluded.build_date, \
                     last_check_in = excluded.last_check_in, offered = excluded.offered, \
                     critical = excluded.critical, line = excluded.line",
                    &[
                        Value::from(address.as_str()),
                        Value::from(*at),
                        Value::from(&**user_agent),
                        Value::from(*build_date),
                        Value::from(*offered),
                        Value::from(*critical),
                        Value::from(&**line),
                    ],
                )?;
                if let Some(before) = before.filter(|b| *b != i64::from(*build_date)) {
                    db.exec(
                        "INSERT INTO history (at, kind, version, address, detail) \
                         VALUES ($1, 'build_changed', $2, $3, $4)",
                        &[
                            Value::from(*at),
                            Value::from(*build_date),
                            Value::from(address.as_str()),
                            Value::from(format!("from {before} to {build_date}")),
                        ],
                    )?;
                    builds_changed.insert(address.clone());
                }
                if *update_available {
                    db.exec(
                        "INSERT INTO device_releases (address, version, critical, offered_at, line) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address, version) DO NOTHING",
                        &[
                            Value::from(address.as_str()),
                            Value::from(*offered),
                            Value::from(*critical),
                            Value::from(*at),
                            Value::from(&**line),
                        ],
                    )?;
                }
                db.exec(
                    "UPDATE device_releases SET updated_at = $1 \
                     WHERE address = $2 AND version <= $3 AND updated_at IS NULL",
                    &[
                        Value::from(*at),
                        Value::from(address.as_str()),
                        Value::from(*build_date),
                    ],
                )?;
                written.insert(address, now);
            }
            Event::Serial {
                at,
                address,
                user_agent,
                serial,
                licensed,
            } => {
                let address = address.to_string();
                touch_device(db, &address, user_agent, *at)?;
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
                serials_added.insert(address);
            }
            Event::Download {
                at,
                address,
                version,
                file,
                bytes,
                complete,
            } => {
                let repeated = downloads_seen.get(&(*address, *version, *file, *complete));
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
            }
            Event::Admitted {
                at,
                address,
                line,
                version,
                pilot,
            } => {
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
            }
            Event::History {
                at,
                kind,
                line,
                version,
                detail,
            } => {
                db.exec(
                    "INSERT INTO history (at, kind, version, detail, line) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        Value::from(*at),
                        Value::from(*kind),
                        Value::from(*version),
                        Value::from(detail.as_str()),
                        Value::from(&**line),
                    ],
                )?;
            }
        }
    }
    for (address, at) in last_seen {
        db.exec(
            "UPDATE devices SET last_seen = $1, last_check_in = $1 WHERE address = $2",
            &[Value::from(at), Value::from(address.as_str())],
        )?;
    }
    for (addresses, sql, kept) in [
        (serials_added, SERIALS_PAST_THE_BOUND, SERIALS_PER_ADDRESS),
        (
            builds_changed,
            BUILD_CHANGES_PAST_THE_BOUND,
            BUILD_CHANGES_PER_ADDRESS,
        ),
    ] {
        for address in addresses {
            db.exec(
                sql,
                &[
                    Value::from(address.as_str()),
                    Value::Int(i64::MAX),
                    Value::from(kept),
                ],
            )?;
        }
    }
    Ok(())
}

fn touch_device(db: &mut dyn Db, address: &str, user_agent: &str, at: u64) -> Result<()> {
    db.exec(
        "INSERT INTO devices (address, first_seen, last_seen, user_agent) VALUES ($1, $2, $2, $3) \
         ON CONFLICT (address) DO UPDATE SET last_seen = excluded.last_seen, \
         user_agent = excluded.user_agent",
        &[
            Value::from(address),
            Value::from(at),
            Value::from(user_agent),
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

/// Which devices `GET /devices` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Built before this version (the critical version, when `below_critical=1`).
    pub built_before: Option<u32>,
    pub line: Option<String>,
    pub build_date: Option<u32>,
    pub not_seen_days: Option<u64>,
    pub outcome: Option<Outcome>,
    /// Admitted to this release (of `line`, or of any line when no line is given).
    pub admitted: Option<u32>,
    /// A substring of the address or of a serial asked for from it.
    pub q: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

/// One device as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRow {
    pub address: String,
    pub build_date: Option<u32>,
    pub line: String,
    pub first_seen: u64,
    pub last_seen: u64,
    pub user_agent: String,
    pub serials: Vec<String>,
    /// The version it was last offered (0: none published).
    pub offered: Option<u32>,
    /// What became of its last offered update, when it was offered one.
    pub outcome: Option<Outcome>,
}

fn u32_of(v: &Value) -> Option<u32> {
    v.int().and_then(|i| u32::try_from(i).ok())
}

fn u64_of(v: &Value) -> u64 {
    v.int().and_then(|i| u64::try_from(i).ok()).unwrap_or(0)
}

/// The devices `filter` selects, most recently seen first, and how many there are in all.
pub fn devices(
    db: &mut dyn Db,
    filter: &DeviceFilter,
    now: u64,
    stuck_after: u64,
) -> Result<(u64, Vec<DeviceRow>)> {
    let mut selected = DeviceSelection::new(filter, now, stuck_after);
    // The join is needed for counting only when the outcome is asked for (ten times
    // faster without it over a million devices).
    let count_from = if filter.outcome.is_some() {
        DEVICES_FROM
    } else {
        "FROM devices d"
    };
    let wher = selected.wher();
    let total = db
        .query(
            &format!("SELECT COUNT(*) {count_from} {wher}"),
            &selected.params,
        )?
        .first()
        .and_then(|row| row.first().map(u64_of))
        .unwrap_or(0);
    let limit = selected.param(Value::from(filter.limit));
    let offset = selected.param(Value::from(filter.offset));
    let page = format!(
        "{DEVICES_FROM} {wher} ORDER BY d.last_seen DESC, d.address DESC LIMIT {limit} OFFSET {offset}"
    );
    let devices = device_rows(db, &page, &selected.params, now, stuck_after)?;
    Ok((total, devices))
}

/// The devices `filter` selects whose address sorts after `after` (`""`: from the first),
/// in address order, at most `chunk` of them; `filter`'s limit and offset are not used.
/// An export reads the whole list this way, one short query per chunk: the address never
/// changes, so every device known throughout the export is read exactly once, however
/// often devices poll meanwhile, and no read holds the database for long.
pub fn devices_after(
    db: &mut dyn Db,
    filter: &DeviceFilter,
    after: &str,
    chunk: u64,
    now: u64,
    stuck_after: u64,
) -> Result<Vec<DeviceRow>> {
    let mut selected = DeviceSelection::new(filter, now, stuck_after);
    let after = selected.param(Value::from(after));
    selected.conditions.push(format!("d.address > {after}"));
    let wher = selected.wher();
    let chunk = selected.param(Value::from(chunk));
    let page = format!("{DEVICES_FROM} {wher} ORDER BY d.address LIMIT {chunk}");
    device_rows(db, &page, &selected.params, now, stuck_after)
}

/// A device with the outcome of the update it was last offered.
const DEVICES_FROM: &str = "FROM devices d LEFT JOIN device_releases r \
                            ON r.address = d.address AND r.version = d.offered";

/// The conditions a filter puts on `devices d` (and `device_releases r`), with their
/// parameters `$1, $2, …`.
struct DeviceSelection {
    conditions: Vec<String>,
    params: Vec<Value>,
}

impl DeviceSelection {
    fn new(filter: &DeviceFilter, now: u64, stuck_after: u64) -> DeviceSelection {
        let mut s = DeviceSelection {
            conditions: Vec::new(),
            params: Vec::new(),
        };
        if let Some(version) = filter.built_before {
            let p = s.param(Value::from(version));
            s.conditions.push(format!("d.build_date < {p}"));
        }
        if let Some(line) = &filter.line {
            let p = s.param(Value::from(line.as_str()));
            s.conditions.push(format!("d.line = {p}"));
        }
        if let Some(build) = filter.build_date {
            let p = s.param(Value::from(build));
            s.conditions.push(format!("d.build_date = {p}"));
        }
        if let Some(days) = filter.not_seen_days {
            let p = s.param(Value::from(now.saturating_sub(days.saturating_mul(86_400))));
            s.conditions.push(format!("d.last_seen < {p}"));
        }
        if let Some(wanted) = filter.outcome {
            let stuck_before = now.saturating_sub(stuck_after);
            let condition = match wanted {
                Outcome::Pending => {
                    "r.version IS NOT NULL AND r.downloaded_at IS NULL AND r.updated_at IS NULL"
                        .to_string()
                }
                Outcome::Updated => "r.updated_at IS NOT NULL".to_string(),
                Outcome::Downloaded => {
                    let p = s.param(Value::from(stuck_before));
                    format!("r.downloaded_at IS NOT NULL AND r.updated_at IS NULL AND r.downloaded_at > {p}")
                }
                Outcome::Stuck => {
                    let p = s.param(Value::from(stuck_before));
                    format!("r.downloaded_at IS NOT NULL AND r.updated_at IS NULL AND r.downloaded_at <= {p}")
                }
            };
            s.conditions.push(condition);
        }
        if let Some(version) = filter.admitted {
            let v = s.param(Value::from(version));
            let line = match &filter.line {
                Some(line) => format!(" AND a.line = {}", s.param(Value::from(line.as_str()))),
                None => String::new(),
            };
            s.conditions.push(format!(
                "EXISTS (SELECT 1 FROM admissions a WHERE a.address = d.address AND a.version = {v}{line})"
            ));
        }
        if let Some(q) = &filter.q {
            let pattern = format!("%{}%", q.replace(['%', '_'], ""));
            let p = s.param(Value::from(pattern));
            s.conditions.push(format!(
                "(d.address LIKE {p} OR EXISTS (SELECT 1 FROM device_serials s \
                 WHERE s.address = d.address AND s.serial LIKE {p}))"
            ));
        }
        s
    }

    /// Adds a parameter; its placeholder.
    fn param(&mut self, value: Value) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn wher(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// The devices `page` (`FROM … WHERE … ORDER BY … LIMIT …` over `devices d` and
/// `device_releases r`) selects, with their serials.
fn device_rows(
    db: &mut dyn Db,
    page: &str,
    params: &[Value],
    now: u64,
    stuck_after: u64,
) -> Result<Vec<DeviceRow>> {
    let rows = db.query(
        &format!(
            "SELECT d.address, d.build_date, d.line, d.first_seen, d.last_seen, d.user_agent, \
             d.offered, r.version, r.downloaded_at, r.updated_at {page}"
        ),
        params,
    )?;
    // The serials of the whole page in one query, not one per device (start-up loads
    // 100,000 devices this way).
    let mut serials: HashMap<String, Vec<String>> = HashMap::new();
    for row in db.query(
        &format!(
            "SELECT s.address, s.serial FROM device_serials s \
             WHERE s.address IN (SELECT d.address {page}) ORDER BY s.last_seen DESC"
        ),
        params,
    )? {
        if let [address, serial, ..] = row.as_slice() {
            serials
                .entry(address.text())
                .or_default()
                .push(serial.text());
        }
    }
    let mut devices = Vec::with_capacity(rows.len());
    for row in rows {
        let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
        let address = get(0).text();
        let serials = serials.remove(&address).unwrap_or_default();
        let offered_update = get(7).int().is_some();
        devices.push(DeviceRow {
            address,
            build_date: u32_of(&get(1)),
            line: get(2).text(),
            first_seen: u64_of(&get(3)),
            last_seen: u64_of(&get(4)),
            user_agent: get(5).text(),
            serials,
            offered: u32_of(&get(6)),
            outcome: offered_update.then(|| {
                outcome(
                    get(8).int().map(|v| v as u64),
                    get(9).int().map(|v| v as u64),
                    now,
                    stuck_after,
                )
            }),
        });
    }
    Ok(devices)
}

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
        "SELECT version, COUNT(*), COUNT(downloaded_at), COUNT(updated_at), \
         COUNT(CASE WHEN downloaded_at IS NOT NULL AND updated_at IS NULL \
         AND downloaded_at <= $1 THEN 1 END), line \
         FROM device_releases GROUP BY line, version ORDER BY line, version DESC",
        &[Value::from(now.saturating_sub(stuck_after))],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            ReleaseRow {
                version: u32_of(&get(0)).unwrap_or(0),
                offered: u64_of(&get(1)),
                downloaded: u64_of(&get(2)),
                updated: u64_of(&get(3)),
                stuck: u64_of(&get(4)),
                line: get(5).text(),
            }
        })
        .collect())
}

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
    let rows = db.query(
        "SELECT g.serial, g.seen, (SELECT t.address FROM device_serials t \
         WHERE t.serial = g.serial ORDER BY t.last_seen DESC, t.address LIMIT 1) \
         FROM (SELECT serial, MAX(last_seen) AS seen FROM device_serials WHERE serial > $1 \
         GROUP BY serial ORDER BY serial LIMIT $2) g ORDER BY g.serial",
        &[Value::from(after), Value::from(chunk)],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            SerialRow {
                serial: get(0).text(),
                address: get(2).text(),
                last_seen: u64_of(&get(1)),
            }
        })
        .collect())
}

/// Per release and day: whole downloads and updates (for the adoption curves).
pub fn adoption(db: &mut dyn Db) -> Result<Vec<crate::observe::adoption_chart::DayCount>> {
    let mut counts: std::collections::BTreeMap<(u32, u64), (u64, u64)> = Default::default();
    for (column, slot) in [("downloaded_at", 0), ("updated_at", 1)] {
        let rows = db.query(
            &format!(
                "SELECT version, {column} / 86400, COUNT(*) FROM device_releases \
                 WHERE {column} IS NOT NULL GROUP BY version, {column} / 86400"
            ),
            &[],
        )?;
        for row in rows {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            let key = (u32_of(&get(0)).unwrap_or(0), u64_of(&get(1)));
            let entry = counts.entry(key).or_default();
            if slot == 0 {
                entry.0 += u64_of(&get(2));
            } else {
                entry.1 += u64_of(&get(2));
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(
            |((version, day), (downloaded, updated))| crate::observe::adoption_chart::DayCount {
                version,
                day,
                downloaded,
                updated,
            },
        )
        .collect())
}

/// One admission as stored: address, line, version, when, whether as a pilot.
pub type AdmissionRow = (std::net::IpAddr, String, u32, u64, bool);

/// Admissions made at or after `since` by instances other than `except` (at start-up, with
/// the starting instance's own name and 0: every admission stored).
pub fn admissions_since(db: &mut dyn Db, since: u64, except: &str) -> Result<Vec<AdmissionRow>> {
    let rows = db.query(ADMISSIONS_SINCE, &[Value::from(since), Value::from(except)])?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            let address = get(0).text().parse().ok()?;
            Some((
                address,
                get(1).text(),
                u32_of(&get(2))?,
                u64_of(&get(3)),
                get(4).int().unwrap_or(0) != 0,
            ))
        })
        .collect())
}

/// A rollout's halt state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutStateRow {
    pub line: String,
    pub version: u32,
    /// Outcomes count from downloads at or after this (the last resume).
    pub counted_from: u64,
    pub halted_at: Option<u64>,
    /// The rollout's settings fingerprint when it was halted.
    pub settings: String,
    pub detail: String,
    pub stuck: u64,
    pub finished: u64,
}

pub fn rollout_states(db: &mut dyn Db) -> Result<Vec<RolloutStateRow>> {
    let rows = db.query(
        "SELECT line, version, counted_from, halted_at, settings, detail, stuck, finished \
         FROM rollout_state",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|row| {
            let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
            RolloutStateRow {
                line: get(0).text(),
                version: u32_of(&get(1)).unwrap_or(0),
                counted_from: u64_of(&get(2)),
                halted_at: get(3).int().map(|v| v as u64),
                settings: get(4).text(),
                detail: get(5).text(),
                stuck: u64_of(&get(6)),
                finished: u64_of(&get(7)),
            }
        })
        .collect())
}

/// Run every 2 s per release with `halt_when_stuck_percent`: migration 5's index covers it.
const FINISHED_AND_STUCK: &str =
    "SELECT COUNT(*), COUNT(CASE WHEN updated_at IS NULL AND downloaded_at <= $1 THEN 1 END) \
     FROM device_releases WHERE line = $2 AND version = $3 AND downloaded_at IS NOT NULL \
     AND downloaded_at >= $4";

/// Run every 2 s: migration 4's index covers the filter.
const ADMISSIONS_SINCE: &str =
    "SELECT address, line, version, at, pilot FROM admissions WHERE at >= $1 AND instance <> $2";

/// Of the devices that finished downloading release `version` of `line` at or after
/// `since`: how many, and how many of them are stuck.
pub fn finished_and_stuck(
    db: &mut dyn Db,
    line: &str,
    version: u32,
    since: u64,
    now: u64,
    stuck_after: u64,
) -> Result<(u64, u64)> {
    let rows = db.query(
        FINISHED_AND_STUCK,
        &[
            Value::from(now.saturating_sub(stuck_after)),
            Value::from(line),
            Value::from(version),
            Value::from(since),
        ],
    )?;
    let row = rows.first();
    let get = |i: usize| row.and_then(|r| r.get(i)).map(u64_of).unwrap_or(0);
    Ok((get(0), get(1)))
}

/// Marks a rollout halted unless it already is; whether this call halted it (so that only
/// one instance sharing the store writes the history entry).
pub fn halt_rollout(db: &mut dyn Db, row: &RolloutStateRow) -> Result<bool> {
    in_transaction(db, |db| {
        db.exec(
            "INSERT INTO rollout_state (line, version) VALUES ($1, $2) \
             ON CONFLICT (line, version) DO NOTHING",
            &[Value::from(row.line.as_str()), Value::from(row.version)],
        )?;
        let changed = db.exec(
            "UPDATE rollout_state SET halted_at = $3, settings = $4, detail = $5, stuck = $6, \
             finished = $7 WHERE line = $1 AND version = $2 AND halted_at IS NULL",
            &[
                Value::from(row.line.as_str()),
                Value::from(row.version),
                Value::from(row.halted_at.unwrap_or(0)),
                Value::from(row.settings.as_str()),
                Value::from(row.detail.as_str()),
                Value::from(row.stuck),
                Value::from(row.finished),
            ],
        )?;
        if changed > 0 {
            db.exec(
                "INSERT INTO history (at, kind, version, detail, line) VALUES ($1, 'halted', $2, $3, $4)",
                &[
                    Value::from(row.halted_at.unwrap_or(0)),
                    Value::from(row.version),
                    Value::from(row.detail.as_str()),
                    Value::from(row.line.as_str()),
                ],
            )?;
        }
        Ok(changed > 0)
    })
}

/// Resumes a halted rollout: outcomes count afresh from `at`; `detail` goes to the history.
pub fn resume_rollout(
    db: &mut dyn Db,
    line: &str,
    version: u32,
    at: u64,
    detail: &str,
) -> Result<bool> {
    in_transaction(db, |db| {
        let changed = db.exec(
            "UPDATE rollout_state SET halted_at = NULL, counted_from = $3 \
             WHERE line = $1 AND version = $2 AND halted_at IS NOT NULL",
            &[Value::from(line), Value::from(version), Value::from(at)],
        )?;
        if changed > 0 {
            db.exec(
                "INSERT INTO history (at, kind, version, detail, line) VALUES ($1, 'resumed', $2, $3, $4)",
                &[Value::from(at), Value::from(version), Value::from(detail), Value::from(line)],
            )?;
        }
        Ok(changed > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::inventory::db::Sqlite;

    fn admitted(address: &str, at: u64) -> Event {
        Event::Admitted {
            at,
            address: address.parse().expect("a test address"),
            line: "C.3".into(),
            version: 20250301,
            pilot: false,
        }
    }

    /// The rollout watch reads back what other instances admitted, never its own rows; rows
    /// stored before instances were named (migration 4) count as another instance's.
    #[test]
    fn admissions_since_skips_the_asking_instances_own_rows() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.exec(
            "INSERT INTO admissions (address, line, version, at, pilot) VALUES ('10.0.0.9', 'C.3', 20250301, 50, 0)",
            &[],
        )?;
        write(
            &mut db,
            &[admitted("10.0.0.1", 100), admitted("10.0.0.2", 200)],
            "a",
        )?;
        write(&mut db, &[admitted("10.0.0.3", 300)], "b")?;
        let addresses = |rows: Vec<AdmissionRow>| {
            let mut all: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
            all.sort();
            all
        };
        assert_eq!(
            addresses(admissions_since(&mut db, 0, "a")?),
            ["10.0.0.3", "10.0.0.9"]
        );
        assert_eq!(
            addresses(admissions_since(&mut db, 0, "b")?),
            ["10.0.0.1", "10.0.0.2", "10.0.0.9"]
        );
        assert_eq!(
            addresses(admissions_since(&mut db, 150, "b")?),
            ["10.0.0.2"]
        );
        assert_eq!(
            admissions_since(&mut db, 0, "fresh")?.len(),
            4,
            "a start-up reads all"
        );
        Ok(())
    }

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
        Event::CheckIn {
            at,
            address: address.parse().expect("a test address"),
            user_agent: "test".into(),
            build_date,
            line: "".into(),
            offered: 20250301,
            update_available: false,
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
        Ok(db
            .query(sql, &[])?
            .iter()
            .filter_map(|row| row.first().and_then(Value::int))
            .collect())
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
                kind: "published",
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
            .map(|row| row.iter().map(Value::text).collect())
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
        db.batch(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )?;
        for (version, sql, _) in &MIGRATIONS[..5] {
            db.batch(sql)?;
            db.exec(
                "INSERT INTO schema_migrations VALUES ($1, 0)",
                &[Value::Int(*version)],
            )?;
        }
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
        assert_eq!(migrate(&mut db)?, 1);
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
            let rows = db.query(&format!("EXPLAIN QUERY PLAN {sql}"), &params)?;
            let plan = rows
                .iter()
                .filter_map(|row| row.last().map(Value::text))
                .collect::<Vec<_>>()
                .join("; ");
            assert!(plan.contains(index), "{sql}: {plan}");
            assert!(!plan.contains("SCAN"), "{sql}: {plan}");
        }
        Ok(())
    }

    /// The rollout watch's two queries, run every 2 s, read through their indexes (a
    /// table scan here costs a large fleet a share of a core).
    #[test]
    fn the_rollout_watchs_queries_use_their_indexes() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        let mut plan = |sql: &str, params: &[Value]| -> Result<String> {
            let rows = db.query(&format!("EXPLAIN QUERY PLAN {sql}"), params)?;
            Ok(rows
                .iter()
                .filter_map(|row| row.last().map(Value::text))
                .collect::<Vec<_>>()
                .join("; "))
        };
        let stuck = plan(
            FINISHED_AND_STUCK,
            &[0u64.into(), "C.3".into(), 20250301u32.into(), 0u64.into()],
        )?;
        assert!(
            stuck.contains("COVERING INDEX device_releases_downloads"),
            "{stuck}"
        );
        let admissions = plan(ADMISSIONS_SINCE, &[0u64.into(), "a".into()])?;
        assert!(
            admissions.contains("INDEX admissions_at_instance"),
            "{admissions}"
        );
        Ok(())
    }
}
