//! The devices as the admin API lists them (`GET /devices`, the CSV export, the fleet
//! restored at start-up): a filter, its SQL, and one row per device with its serials and
//! the outcome of its last offered update.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::store::db::{Db, Dialect, Value};
use crate::store::outcome::{outcome, Outcome};

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
    // PostgreSQL sorts the selected devices (migration 10): without an outcome to filter
    // by, it chooses the page of devices first and joins only those to their offers
    // (joining a million first cost it a third more: 217 ms against 166). SQLite walks
    // its index in the lists' order and stops after the page; the same subquery would
    // sort the page again (100,000 devices at start-up: 679 ms against 422).
    let page = if filter.outcome.is_some() || db.dialect() == Dialect::Sqlite {
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
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
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
    // The serials of the whole page in one query, not one per device (start-up loads
    // 100,000 devices this way). SQLite selects the page again (its index stops after the
    // page); PostgreSQL, whose lists sort (migration 10), is given the page's addresses.
    let serial_rows = match db.dialect() {
        Dialect::Sqlite => db.query(
            &format!(
                "SELECT s.address AS address, s.serial AS serial FROM device_serials s \
                 WHERE s.address IN (SELECT d.address {page}) ORDER BY s.last_seen DESC, s.serial DESC"
            ),
            params,
        )?,
        Dialect::Postgres => {
            let addresses = rows
                .iter()
                .map(|row| row.text("address"))
                .collect::<Result<Vec<_>, _>>()?;
            db.query(
                "SELECT s.address AS address, s.serial AS serial FROM device_serials s \
                 WHERE s.address = ANY($1) ORDER BY s.last_seen DESC, s.serial DESC",
                &[Value::Texts(addresses)],
            )?
        }
    };
    let mut serials: HashMap<String, Vec<String>> = HashMap::new();
    for row in serial_rows {
        serials
            .entry(row.text("address")?)
            .or_default()
            .push(row.text("serial")?);
    }
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
