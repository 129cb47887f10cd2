//! The inventory on the admin listener: `GET /devices` (and `.csv`, `.xlsx`), `/history`,
//! `/releases`, `/serials/missing` (and `.csv`, `.xlsx`). Queries run on the inventory's
//! reader connection, off the async workers. Every list a device can grow is paged
//! (`limit`, `offset`) or, for the exports, read and sent one chunk at a time
//! (`exports`): no answer holds the whole fleet in memory. A browser asking `/devices` or
//! `/history` gets them as pages (`inventory_pages`); a register's own page is
//! `device_page`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::admin::admin_error::AdminError;
use crate::admin::exports::{self, Cell, Rows, Table, Window};
use crate::admin::inventory_pages;
use crate::admin::operator::Operator;
use crate::admin::view_scope::ViewScope;
use crate::app_state::AppState;
use crate::model::clock;
use crate::model::version::Version;
use crate::store::device_reads::{self, DeviceFilter, DeviceRow};
use crate::store::history_reads::{self, HistoryScope};
use crate::store::outcome::Outcome;
use crate::store::release_reads;
use crate::store::serial_reads::{self, SerialRow};

/// At most this many rows in one answer.
const MAX_LIMIT: u64 = 100_000;
/// At most this many rows on one HTML page: a browser lays out every row, and a
/// hundred thousand of them is minutes of a phone's time; more go to the `.csv` / `.xlsx`.
const MAX_HTML_LIMIT: u64 = 1000;
/// Rows in one answer when `limit` is not given.
const DEFAULT_LIMIT: u64 = 100;
/// Devices an export reads in one query (each with its serials).
const DEVICE_CHUNK: u64 = 500;
/// Serials read in one query.
const SERIAL_CHUNK: u64 = 1000;

type Query = web::Query<HashMap<String, String>>;

/// Registers the inventory routes (GET and HEAD; other methods get 405 with `Allow`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    fn resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
    where
        F: actix_web::Handler<Args> + Clone,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        web::resource(path)
            .route(web::get().to(handler.clone()))
            .route(web::head().to(handler))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "GET, HEAD" })
            }))
    }
    cfg.service(resource("/devices", devices_json))
        .service(resource("/devices.csv", devices_csv))
        .service(resource("/devices.xlsx", devices_xlsx))
        .service(resource("/history", history))
        .service(resource("/releases", releases))
        .service(resource("/serials/missing", missing_json))
        .service(resource("/serials/missing.csv", missing_csv))
        .service(resource("/serials/missing.xlsx", missing_xlsx));
    crate::admin::device_page::configure(cfg);
}

/// The longest search text (`q`) taken.
const MAX_Q: usize = 64;

fn number(query: &Query, key: &str, default: u64, max: u64) -> Result<u64, AdminError> {
    match query.get(key) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                AdminError::BadQuery(format!(
                    "{key} must be a whole number from 0 to {max}; got {text:?}"
                ))
            }),
    }
}

/// The filter a query string asks for, within `scope` (the groups the reader may see, or
/// picked with `?group=`).
fn filter(
    query: &Query,
    critical: Option<u32>,
    scope: &ViewScope,
) -> Result<DeviceFilter, AdminError> {
    let built_before = match query.get("below_critical").map(String::as_str) {
        None | Some("0" | "false" | "") => None,
        Some("1" | "true") => Some(critical.ok_or_else(|| {
            AdminError::BadQuery(
                "below_critical=1 needs a critical version, and none is set \
                 (critical_version in server.yaml, or a release with critical: true)"
                    .into(),
            )
        })?),
        Some(other) => {
            return Err(AdminError::BadQuery(format!(
                "below_critical must be 1 or 0; got {other:?}"
            )))
        }
    };
    let build_date = match query.get("build_date") {
        None => None,
        Some(text) => Some(
            text.trim()
                .parse::<u32>()
                .ok()
                .and_then(Version::from_yyyymmdd)
                .ok_or_else(|| {
                    AdminError::BadQuery(format!(
                        "build_date must be a date written yyyymmdd, like 20250115; got {text:?}"
                    ))
                })?
                .as_u32(),
        ),
    };
    let outcome = match query.get("outcome") {
        None => None,
        Some(text) => Some(Outcome::parse(text.trim()).ok_or_else(|| {
            AdminError::BadQuery(format!(
                "outcome must be pending, downloaded, updated or stuck; got {text:?}"
            ))
        })?),
    };
    let not_seen_days = match query.get("not_seen_days") {
        None => None,
        Some(_) => Some(number(query, "not_seen_days", 0, 36_500)?),
    };
    let admitted = match query.get("admitted") {
        None => None,
        Some(text) => Some(
            Version::parse_folder_name(text.trim())
                .ok_or_else(|| {
                    AdminError::BadQuery(format!(
                        "admitted must be a release written yyyymmdd, like 20250115; got {text:?}"
                    ))
                })?
                .as_u32(),
        ),
    };
    Ok(DeviceFilter {
        built_before,
        admitted,
        line: query.get("line").cloned(),
        build_date,
        not_seen_days,
        outcome,
        q: search(query)?,
        address: None,
        groups: scope.groups().map(<[String]>::to_vec),
        limit: number(query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?,
        offset: number(query, "offset", 0, u64::MAX)?,
    })
}

/// The search text (`q`), when one is given.
fn search(query: &Query) -> Result<Option<String>, AdminError> {
    match query.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) {
        Some(q) if q.chars().count() > MAX_Q => Err(AdminError::BadQuery(format!(
            "q (the search) must be at most {MAX_Q} characters; got {}",
            q.chars().count()
        ))),
        q => Ok(q.map(str::to_string)),
    }
}

/// Refuses a `limit` past what one HTML page shows, pointing at where a longer list is.
fn html_limit(query: &Query, longer: &str) -> Result<(), AdminError> {
    match query.get("limit") {
        Some(text) if number(query, "limit", DEFAULT_LIMIT, MAX_LIMIT)? > MAX_HTML_LIMIT => {
            Err(AdminError::BadQuery(format!(
                "limit must be a whole number from 0 to {MAX_HTML_LIMIT} on a page; got {:?} \
                 (for a longer list use {longer})",
                text.trim()
            )))
        }
        _ => Ok(()),
    }
}

/// The part of a list an export was asked for: all of it unless `limit` or `offset` says
/// otherwise (the same bounds and errors as the JSON lists').
fn window(query: &Query) -> Result<Window, AdminError> {
    Ok(Window {
        offset: number(query, "offset", 0, u64::MAX)?,
        limit: match query.get("limit") {
            None => None,
            Some(_) => Some(number(query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?),
        },
    })
}

/// Runs `read` against the store, off the async workers.
async fn read<T: Send + 'static>(
    state: &web::Data<AppState>,
    read: impl FnOnce(&mut dyn crate::store::db::Db, u64, u64) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, AdminError> {
    let state = state.clone();
    web::block(move || {
        let now = clock::unix_now();
        let stuck_after = state.inventory.settings().stuck_after;
        state.inventory.read(|db| read(db, now, stuck_after))
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?
    .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))
}

#[derive(Serialize)]
struct DeviceList {
    total: u64,
    devices: Vec<DeviceRow>,
}

async fn query_devices(
    state: &web::Data<AppState>,
    query: &Query,
    scope: &ViewScope,
) -> Result<DeviceList, AdminError> {
    let critical = state.snapshot().critical.map(|c| c.version.as_u32());
    let filter = filter(query, critical, scope)?;
    let (total, devices) = read(state, move |db, now, stuck| {
        device_reads::devices(db, &filter, now, stuck)
    })
    .await?;
    Ok(DeviceList { total, devices })
}

/// The devices `operator` may see, within the group `?group=` picks.
fn scope(state: &AppState, operator: &Operator, query: &Query) -> Result<ViewScope, AdminError> {
    ViewScope::of(operator, query, state.snapshot().groups())
}

async fn devices_json(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    if inventory_pages::wants_html(&req) {
        html_limit(&query, "/devices.csv")?;
        let query = web::Query(inventory_pages::form_query(query.into_inner()));
        let scope = scope(&state, &operator, &query)?;
        let list = query_devices(&state, &query, &scope).await?;
        let snapshot = state.snapshot();
        let choices = ViewScope::choices(&operator, snapshot.groups());
        return inventory_pages::devices(
            &req,
            &snapshot,
            &query,
            &choices,
            list.total,
            list.devices,
        );
    }
    let scope = scope(&state, &operator, &query)?;
    json(&query_devices(&state, &query, &scope).await?)
}

const DEVICES: Table = Table {
    file: "devices",
    sheet: "devices",
    header: &[
        "address",
        "build_date",
        "line",
        "first_seen",
        "last_seen",
        "user_agent",
        "serials",
        "offered",
        "outcome",
        "group",
    ],
};

/// Every device a filter selects, in address order, read `DEVICE_CHUNK` at a time.
struct DeviceRows {
    filter: DeviceFilter,
    after: String,
}

impl Rows for DeviceRows {
    fn next_chunk(&mut self, state: &AppState) -> Result<Option<Vec<Vec<Cell>>>, AdminError> {
        let now = clock::unix_now();
        let stuck_after = state.inventory.settings().stuck_after;
        let devices = state
            .inventory
            .read(|db| {
                device_reads::devices_after(
                    db,
                    &self.filter,
                    &self.after,
                    DEVICE_CHUNK,
                    now,
                    stuck_after,
                )
            })
            .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))?;
        let Some(last) = devices.last() else {
            return Ok(None);
        };
        self.after = last.address.clone();
        Ok(Some(devices.into_iter().map(device_cells).collect()))
    }
}

fn device_cells(d: DeviceRow) -> Vec<Cell> {
    let number = |n: Option<u32>| n.map_or(Cell::Empty, Cell::Number);
    vec![
        Cell::Text(d.address),
        number(d.build_date),
        Cell::Text(d.line),
        Cell::Text(time_text(d.first_seen)),
        Cell::Text(time_text(d.last_seen)),
        Cell::Text(d.user_agent),
        Cell::Serials(d.serials.join(" ")),
        number(d.offered),
        d.outcome
            .map_or(Cell::Empty, |o| Cell::Text(format!("{o:?}").to_lowercase())),
        d.group.map_or(Cell::Empty, Cell::Text),
    ]
}

/// The rows of a device export: the filters of `/devices`, all matching devices unless
/// `limit` or `offset` is given.
fn device_export(
    state: &AppState,
    query: &Query,
    operator: &Operator,
) -> Result<(DeviceRows, Window), AdminError> {
    let critical = state.snapshot().critical.map(|c| c.version.as_u32());
    let filter = filter(query, critical, &scope(state, operator, query)?)?;
    Ok((
        DeviceRows {
            filter,
            after: String::new(),
        },
        window(query)?,
    ))
}

async fn devices_csv(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let (rows, window) = device_export(&state, &query, &operator)?;
    exports::csv(state, DEVICES, rows, window).await
}

async fn devices_xlsx(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let (rows, window) = device_export(&state, &query, &operator)?;
    exports::xlsx(state, DEVICES, rows, window).await
}

async fn history(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    if inventory_pages::wants_html(&req) {
        html_limit(&query, "/history with Accept: application/json")?;
    }
    let query = web::Query(inventory_pages::form_query(query.into_inner()));
    let limit = number(&query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = number(&query, "offset", 0, u64::MAX)?;
    let scope = scope(&state, &operator, &query)?;
    let history_scope = match scope.groups() {
        None => HistoryScope::All,
        Some(groups) if scope.is_limited() => HistoryScope::Limited(groups.to_vec()),
        Some(groups) => HistoryScope::Groups(groups.to_vec()),
    };
    let rows = read(&state, move |db, _, _| {
        history_reads::history_of(db, limit, offset, &history_scope)
    })
    .await?;
    if inventory_pages::wants_html(&req) {
        return inventory_pages::history(&req, rows, limit, offset, scope.picked());
    }
    json(&serde_json::json!({ "events": rows }))
}

/// Per release, what became of it among the devices the reader may see (`?group=` too).
async fn releases(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let groups = scope(&state, &operator, &query)?
        .groups()
        .map(<[String]>::to_vec);
    let rows = read(&state, move |db, now, stuck| {
        release_reads::releases_of(db, now, stuck, groups.as_deref())
    })
    .await?;
    json(&serde_json::json!({ "releases": rows }))
}

/// Serials devices asked for that no license file holds now (what to order from the
/// vendor), in serial order, read `SERIAL_CHUNK` at a time. The licenses are those loaded
/// when the list was asked for.
struct MissingSerials {
    snapshot: std::sync::Arc<crate::catalog::snapshot::Snapshot>,
    after: String,
    /// Of these groups' devices only (none: every device).
    groups: Option<Vec<String>>,
}

impl MissingSerials {
    fn new(state: &AppState, scope: &ViewScope) -> MissingSerials {
        MissingSerials {
            snapshot: state.snapshot_arc(),
            after: String::new(),
            groups: scope.groups().map(<[String]>::to_vec),
        }
    }

    /// The next chunk of missing serials (maybe none of a chunk is missing); `None` at the
    /// end.
    fn next_rows(&mut self, state: &AppState) -> Result<Option<Vec<SerialRow>>, AdminError> {
        let rows = state
            .inventory
            .read(|db| {
                serial_reads::serials_after_of(
                    db,
                    &self.after,
                    SERIAL_CHUNK,
                    self.groups.as_deref(),
                )
            })
            .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))?;
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.after = last.serial.clone();
        let licenses = &self.snapshot.licenses;
        Ok(Some(
            rows.into_iter()
                .filter(|row| {
                    crate::licenses::serial::Serial::parse_file_form(&row.serial)
                        .is_some_and(|s| licenses.get(s).is_none())
                })
                .collect(),
        ))
    }
}

impl Rows for MissingSerials {
    fn next_chunk(&mut self, state: &AppState) -> Result<Option<Vec<Vec<Cell>>>, AdminError> {
        Ok(self.next_rows(state)?.map(|rows| {
            rows.into_iter()
                .map(|row| {
                    vec![
                        Cell::Serials(row.serial),
                        Cell::Text(row.address),
                        Cell::Text(time_text(row.last_seen)),
                    ]
                })
                .collect()
        }))
    }
}

const MISSING: Table = Table {
    file: "serials-missing",
    sheet: "serials missing",
    header: &["serial", "last_address", "last_seen"],
};

/// One page of the missing serials (`limit`, default 100, and `offset`), in serial order,
/// and how many there are in all: the whole list is read a chunk at a time, keeping only
/// the page.
async fn missing_json(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let limit = number(&query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = number(&query, "offset", 0, u64::MAX)?;
    let scope = scope(&state, &operator, &query)?;
    let reader = state.clone();
    let (total, serials) = web::block(move || {
        let mut missing = MissingSerials::new(&reader, &scope);
        let mut total: u64 = 0;
        let mut page = Vec::new();
        while let Some(rows) = missing.next_rows(&reader)? {
            for row in rows {
                if total >= offset && total - offset < limit {
                    page.push(row);
                }
                total += 1;
            }
        }
        Ok::<_, AdminError>((total, page))
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))??;
    json(&serde_json::json!({ "total": total, "serials": serials }))
}

async fn missing_csv(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let window = window(&query)?;
    let rows = MissingSerials::new(&state, &scope(&state, &operator, &query)?);
    exports::csv(state, MISSING, rows, window).await
}

async fn missing_xlsx(
    state: web::Data<AppState>,
    query: Query,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let window = window(&query)?;
    let rows = MissingSerials::new(&state, &scope(&state, &operator, &query)?);
    exports::xlsx(state, MISSING, rows, window).await
}

fn time_text(unix: u64) -> String {
    crate::model::unix_time::local_text(unix)
}

fn json<T: Serialize>(value: &T) -> Result<HttpResponse, AdminError> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}
