//! The devices as the admin API lists them (`GET /devices`, the CSV export, the fleet
//! restored at start-up): a filter, its SQL, and one row per device with its serials and
//! the outcome of its last offered update.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Dialect, Value};
use crate::store::outcome::{outcome, Outcome};
use crate::store::row::Row;

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
    /// A substring of the address, of its user agent (either case-insensitive) or of a
    /// serial asked for from it.
    pub q: Option<String>,
    /// Exactly this address (a device's page).
    pub address: Option<String>,
    /// Only devices tagged with one of these groups (a limited viewer's, or `?group=`);
    /// none: every device.
    pub groups: Option<Vec<String>>,
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
    /// Its group (`groups.yaml`), as the inventory last tagged it; none: in no group.
    pub group: Option<String>,
    /// The version it was last offered (0: none published).
    pub offered: Option<u32>,
    /// What became of its last offered update, when it was offered one.
    pub outcome: Option<Outcome>,
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
    let total = match db
        .query(
            &format!("SELECT COUNT(*) AS total {count_from} {wher}"),
            &selected.params,
        )?
        .first()
    {
        Some(row) => row.u64("total")?,
        None => 0,
    };
    let limit = selected.param(Value::from(filter.limit));
    let offset = selected.param(Value::from(filter.offset));
    let order = "ORDER BY d.last_seen DESC, d.address DESC";
    // No index holds `last_seen` (migrations 10 and 11: a steady check-in then updates its
    // row and nothing else), so the devices a filter selects are sorted. Without an
    // outcome to filter by, the page of devices is chosen first and only its devices are
    // joined to their offers: joining a million first cost PostgreSQL a third more (217 ms
    // against 166) and SQLite four times more for the 100,000 restored at start-up (1.9 s
    // against 0.4).
    let wher = selected.page_wher(db.dialect());
    let page = if filter.outcome.is_some() {
        format!("{DEVICES_FROM} {wher} {order} LIMIT {limit} OFFSET {offset}")
    } else {
        format!(
            "FROM (SELECT * FROM devices d {wher} {order} LIMIT {limit} OFFSET {offset}) d \
             {OFFERS_JOINED} {order}"
        )
    };
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

/// Devices `d` joined to the offer of the update each was last offered, `r`.
macro_rules! offers_joined {
    () => {
        "LEFT JOIN device_releases r ON r.address = d.address AND r.version = d.offered"
    };
}
/// A device with the outcome of the update it was last offered.
const DEVICES_FROM: &str = concat!("FROM devices d ", offers_joined!());
/// The join of `DEVICES_FROM`, for devices `d` selected first.
const OFFERS_JOINED: &str = offers_joined!();

/// The conditions a filter puts on `devices d` (and `device_releases r`), with their
/// parameters `$1, $2, …`.
struct DeviceSelection {
    conditions: Vec<String>,
    params: Vec<Value>,
    /// Which of `conditions` is `built_before`'s range of build dates (see `page_wher`).
    build_range: Option<usize>,
}

impl DeviceSelection {
    fn new(filter: &DeviceFilter, now: u64, stuck_after: u64) -> DeviceSelection {
        let mut s = DeviceSelection {
            conditions: Vec::new(),
            params: Vec::new(),
            build_range: None,
        };
        if let Some(version) = filter.built_before {
            let p = s.param(Value::from(version));
            s.build_range = Some(s.conditions.len());
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
            // LIKE is case-sensitive in PostgreSQL and not in SQLite: both sides lowered.
            let pattern = format!("%{}%", q.replace(['%', '_', '\\'], "").to_lowercase());
            let p = s.param(Value::from(pattern));
            s.conditions.push(format!(
                "(LOWER(d.address) LIKE {p} OR LOWER(d.user_agent) LIKE {p} \
                 OR EXISTS (SELECT 1 FROM device_serials s \
                 WHERE s.address = d.address AND s.serial LIKE {p}))"
            ));
        }
        if let Some(address) = &filter.address {
            let p = s.param(Value::from(address.as_str()));
            s.conditions.push(format!("d.address = {p}"));
        }
        if let Some(groups) = &filter.groups {
            let condition = in_groups("d.group_name", groups, &mut s.params);
            s.conditions.push(condition);
        }
        s
    }

    /// Adds a parameter; its placeholder.
    fn param(&mut self, value: Value) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    fn wher(&self) -> String {
        where_of(&self.conditions)
    }

    /// The conditions as the sorted page reads them. A range of build dates can select
    /// most of the fleet (`below_critical` early in a rollout: 600,000 of a million), and
    /// SQLite, which keeps no statistics of it, would read each of them through the
    /// `build_date` index before sorting: 117 ms for 600,000 and 206 ms for a million,
    /// against 85-102 ms for reading the table in order (a unary `+` keeps SQLite off the
    /// index). The count keeps the index (22 ms for 600,000); PostgreSQL chooses by its
    /// statistics.
    fn page_wher(&self, dialect: Dialect) -> String {
        let mut conditions = self.conditions.clone();
        if let (Dialect::Sqlite, Some(range)) = (dialect, self.build_range) {
            if let Some(condition) = conditions.get_mut(range) {
                condition.insert(0, '+');
            }
        }
        where_of(&conditions)
    }
}

/// `WHERE` and `conditions` joined by `AND`; nothing when there are none.
fn where_of(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

/// `column IN ($n, …)` for `groups`, their parameters added to `params`; no group: a
/// condition nothing meets (a viewer limited to no group sees nothing).
pub fn in_groups(column: &str, groups: &[String], params: &mut Vec<Value>) -> String {
    if groups.is_empty() {
        return "1 = 0".to_string();
    }
    let mut placeholders = Vec::with_capacity(groups.len());
    for group in groups {
        params.push(Value::from(group.as_str()));
        placeholders.push(format!("${}", params.len()));
    }
    format!("{column} IN ({})", placeholders.join(", "))
}

/// The serials of a page's devices (`rows`), by address, most recently asked for first:
/// in one query, not one per device (start-up loads 100,000 devices this way), given the
/// page's addresses, since selecting the page again would sort it again. PostgreSQL takes
/// them as an array, SQLite as a JSON array (`json_each`: a page of 100,000 is past
/// SQLite's limit on a statement's parameters).
fn page_serials(db: &mut dyn Db, rows: &[Row]) -> Result<HashMap<String, Vec<String>>> {
    let addresses = rows
        .iter()
        .map(|row| row.text("address"))
        .collect::<Result<Vec<_>, _>>()?;
    let (pick, addresses) = match db.dialect() {
        Dialect::Postgres => ("= ANY($1)", Value::Texts(addresses)),
        Dialect::Sqlite => (
            "IN (SELECT value FROM json_each($1))",
            Value::Text(serde_json::to_string(&addresses)?),
        ),
    };
    let serial_rows = db.query(
        &format!(
            "SELECT s.address AS address, s.serial AS serial FROM device_serials s \
             WHERE s.address {pick} ORDER BY s.last_seen DESC, s.serial DESC"
        ),
        &[addresses],
    )?;
    let mut serials: HashMap<String, Vec<String>> = HashMap::new();
    for row in serial_rows {
        serials
            .entry(row.text("address")?)
            .or_default()
            .push(row.text("serial")?);
    }
    Ok(serials)
}

/// The devices `page` selects, with their serials: `page` is `FROM … WHERE … ORDER BY …
/// LIMIT …` giving devices as `d` and their offers as `device_releases r` (the devices
/// joined first, or a page of them chosen first in a subquery).
fn device_rows(
    db: &mut dyn Db,
    page: &str,
    params: &[Value],
    now: u64,
    stuck_after: u64,
) -> Result<Vec<DeviceRow>> {
    let rows = db.query(
        &format!(
            "SELECT d.address AS address, d.build_date AS build_date, d.line AS line, \
             d.first_seen AS first_seen, d.last_seen AS last_seen, d.user_agent AS user_agent, \
             d.offered AS offered, d.group_name AS group_name, r.version AS offer_version, \
             r.downloaded_at AS downloaded_at, r.updated_at AS updated_at {page}"
        ),
        params,
    )?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut serials = page_serials(db, &rows)?;
    let mut devices = Vec::with_capacity(rows.len());
    for row in rows {
        let address = row.text("address")?;
        let serials = serials.remove(&address).unwrap_or_default();
        // No offer row joined (none recorded): no outcome.
        let offered_update = row.opt_u32("offer_version")?.is_some();
        let outcome = if offered_update {
            Some(outcome(
                row.opt_u64("downloaded_at")?,
                row.opt_u64("updated_at")?,
                now,
                stuck_after,
            ))
        } else {
            None
        };
        devices.push(DeviceRow {
            address,
            build_date: row.opt_u32("build_date")?,
            line: row.text("line")?,
            first_seen: row.u64("first_seen")?,
            last_seen: row.u64("last_seen")?,
            user_agent: row.text("user_agent")?,
            serials,
            group: row.opt_text("group_name")?,
            offered: row.opt_u32("offered")?,
            outcome,
        });
    }
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Sqlite;
    use crate::store::migrations::migrate;

    /// 40,000 devices, seen at 2 to 40,000 (two at each even time: the address breaks the
    /// tie), every thousandth with two serials, the smaller one asked for more recently.
    fn fleet() -> Result<(tempfile::TempDir, Sqlite)> {
        let dir = tempfile::tempdir()?;
        let mut db = Sqlite::open(&dir.path().join("inventory.sqlite"))?;
        migrate(&mut db)?;
        db.begin()?;
        for i in 0..40_000i64 {
            let address = Value::from(format!("10.{}.{}.{}", i / 65_536, i / 256 % 256, i % 256));
            let seen = Value::Int(i - i % 2 + 2);
            db.exec(
                "INSERT INTO devices (address, first_seen, last_seen, build_date) VALUES ($1, 1, $2, 20220101)",
                &[address.clone(), seen],
            )?;
            if i % 1000 == 0 {
                for (serial, at) in [("0001", 9), ("0002", 5)] {
                    db.exec(
                        "INSERT INTO device_serials (address, serial, licensed, last_seen) VALUES ($1, $2, 1, $3)",
                        &[address.clone(), Value::from(format!("{i:012}{serial}")), Value::Int(at)],
                    )?;
                }
            }
        }
        db.commit()?;
        Ok((dir, db))
    }

    /// A page larger than SQLite's limit on a statement's parameters (32,766) still gets
    /// its serials (read by the page's addresses as one JSON array), in their order, and
    /// the devices come most recently seen first, the address breaking ties.
    #[test]
    fn a_page_of_40_000_devices_comes_sorted_with_its_serials_in_sqlite() -> Result<()> {
        let (_dir, mut db) = fleet()?;
        let filter = DeviceFilter {
            limit: 40_000,
            ..DeviceFilter::default()
        };
        let (total, rows) = devices(&mut db, &filter, 100_000, 0)?;
        assert_eq!((total, rows.len()), (40_000, 40_000));
        assert!(rows
            .windows(2)
            .all(|w| (w[0].last_seen, &w[0].address) > (w[1].last_seen, &w[1].address)));
        let with_serials: Vec<&DeviceRow> = rows.iter().filter(|r| !r.serials.is_empty()).collect();
        assert_eq!(with_serials.len(), 40);
        let last = rows.last().map(|r| (r.address.as_str(), r.serials.clone()));
        assert_eq!(
            last,
            Some((
                "10.0.0.0",
                vec!["0000000000000001".into(), "0000000000000002".into()]
            ))
        );
        Ok(())
    }

    /// `below_critical` (a range of build dates, maybe most of the fleet): SQLite's page
    /// reads the table in order, not every selected device through the `build_date`
    /// index; the count still counts on the index.
    #[test]
    fn a_range_of_build_dates_is_sorted_from_the_table_and_counted_on_its_index() -> Result<()> {
        let (_dir, mut db) = fleet()?;
        let filter = DeviceFilter {
            built_before: Some(20250301),
            limit: 100,
            ..DeviceFilter::default()
        };
        let selected = DeviceSelection::new(&filter, 100_000, 0);
        let plan =
            |db: &mut Sqlite, sql: String| crate::store::db::query_plan(db, &sql, &selected.params);
        let page = plan(
            &mut db,
            format!(
                "SELECT * FROM devices d {} ORDER BY d.last_seen DESC, d.address DESC LIMIT 100",
                selected.page_wher(Dialect::Sqlite)
            ),
        )?;
        assert!(
            page.contains("SCAN d") && !page.contains("devices_build_date"),
            "{page}"
        );
        let count = plan(
            &mut db,
            format!("SELECT COUNT(*) FROM devices d {}", selected.wher()),
        )?;
        assert!(count.contains("devices_build_date"), "{count}");
        assert_eq!(selected.page_wher(Dialect::Postgres), selected.wher());
        let (total, rows) = devices(&mut db, &filter, 100_000, 0)?;
        assert_eq!((total, rows.len()), (40_000, 100));
        Ok(())
    }

    /// A page inside the list, and a group's (sorted over the group's index).
    #[test]
    fn a_page_is_the_same_slice_of_the_sorted_list() -> Result<()> {
        let (_dir, mut db) = fleet()?;
        let page = |db: &mut Sqlite, offset| -> Result<Vec<String>> {
            let filter = DeviceFilter {
                limit: 3,
                offset,
                ..DeviceFilter::default()
            };
            Ok(devices(db, &filter, 100_000, 0)?
                .1
                .into_iter()
                .map(|r| r.address)
                .collect())
        };
        // Seen at 40,000: 39,998 (10.0.156.62) and 39,999 (10.0.156.63); then 39,996 and 39,997.
        assert_eq!(
            page(&mut db, 1)?,
            ["10.0.156.62", "10.0.156.61", "10.0.156.60"]
        );
        db.exec(
            "UPDATE devices SET group_name = 'client' WHERE address IN ('10.0.0.5', '10.0.0.9', '10.0.1.0')",
            &[],
        )?;
        let filter = DeviceFilter {
            groups: Some(vec!["client".into()]),
            limit: 10,
            ..DeviceFilter::default()
        };
        let (total, rows) = devices(&mut db, &filter, 100_000, 0)?;
        let addresses: Vec<&str> = rows.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            (total, addresses),
            (3, vec!["10.0.1.0", "10.0.0.9", "10.0.0.5"])
        );
        Ok(())
    }
}
