//! The inventory on the admin listener: `GET /devices` (and `.csv`), `/history`,
//! `/releases`, `/serials/missing` (and `.csv`). Queries run on the inventory's reader
//! connection, off the async workers. CSV is what Russian Excel opens as it is: UTF-8 with
//! a BOM, `;` between fields.

use std::collections::HashMap;
use std::time::SystemTime;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::admin::admin_error::AdminError;
use crate::app_state::AppState;
use crate::model::unix_time::unix;
use crate::model::version::Version;
use crate::observe::inventory::outcome::Outcome;
use crate::observe::inventory::store::{self, DeviceFilter, DeviceRow, SerialRow};

/// At most this many rows in one answer.
const MAX_LIMIT: u64 = 100_000;

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
        .service(resource("/history", history))
        .service(resource("/releases", releases))
        .service(resource("/serials/missing", missing_json))
        .service(resource("/serials/missing.csv", missing_csv));
}

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

/// The filter a query string asks for.
fn filter(query: &Query, critical: Option<u32>) -> Result<DeviceFilter, AdminError> {
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
        q: query.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        limit: number(query, "limit", 100, MAX_LIMIT)?,
        offset: number(query, "offset", 0, u64::MAX)?,
    })
}

/// Runs `read` against the store, off the async workers.
async fn read<T: Send + 'static>(
    state: &web::Data<AppState>,
    read: impl FnOnce(&mut dyn crate::observe::inventory::db::Db, u64, u64) -> anyhow::Result<T>
        + Send
        + 'static,
) -> Result<T, AdminError> {
    let state = state.clone();
    web::block(move || {
        let now = unix(SystemTime::now());
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
) -> Result<DeviceList, AdminError> {
    let critical = state.snapshot().critical.map(|c| c.version.as_u32());
    let filter = filter(query, critical)?;
    let (total, devices) = read(state, move |db, now, stuck| {
        store::devices(db, &filter, now, stuck)
    })
    .await?;
    Ok(DeviceList { total, devices })
}

async fn devices_json(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, AdminError> {
    json(&query_devices(&state, &query).await?)
}

async fn devices_csv(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, AdminError> {
    let list = query_devices(&state, &query).await?;
    let mut out = Csv::new(&[
        "address",
        "build_date",
        "line",
        "first_seen",
        "last_seen",
        "user_agent",
        "serials",
        "offered",
        "outcome",
    ]);
    for d in &list.devices {
        out.row(&[
            d.address.clone(),
            d.build_date.map(|b| b.to_string()).unwrap_or_default(),
            d.line.clone(),
            time_text(d.first_seen),
            time_text(d.last_seen),
            d.user_agent.clone(),
            d.serials.join(" "),
            d.offered.map(|v| v.to_string()).unwrap_or_default(),
            d.outcome
                .map(|o| format!("{o:?}").to_lowercase())
                .unwrap_or_default(),
        ]);
    }
    Ok(out.response("devices.csv"))
}

async fn history(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, AdminError> {
    let limit = number(&query, "limit", 100, MAX_LIMIT)?;
    let offset = number(&query, "offset", 0, u64::MAX)?;
    let rows = read(&state, move |db, _, _| store::history(db, limit, offset)).await?;
    json(&serde_json::json!({ "events": rows }))
}

async fn releases(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let rows = read(&state, store::releases).await?;
    json(&serde_json::json!({ "releases": rows }))
}

/// Serials devices asked for that no license file holds now: what to order from the vendor.
async fn missing(state: &web::Data<AppState>) -> Result<Vec<SerialRow>, AdminError> {
    let rows = read(state, |db, _, _| store::serials(db)).await?;
    let snapshot = state.snapshot();
    Ok(rows
        .into_iter()
        .filter(|row| {
            crate::licenses::serial::Serial::parse_file_form(&row.serial)
                .is_some_and(|s| snapshot.licenses.get(s).is_none())
        })
        .collect())
}

async fn missing_json(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let serials = missing(&state).await?;
    json(&serde_json::json!({ "total": serials.len(), "serials": serials }))
}

async fn missing_csv(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let mut out = Csv::new(&["serial", "last_address", "last_seen"]);
    for row in missing(&state).await? {
        out.row(&[row.serial, row.address, time_text(row.last_seen)]);
    }
    Ok(out.response("serials-missing.csv"))
}

fn time_text(unix: u64) -> String {
    crate::model::unix_time::local_text(unix)
}

/// CSV for Excel with Russian settings: a BOM so it reads UTF-8, `;` between fields.
struct Csv(String);

impl Csv {
    fn new(header: &[&str]) -> Csv {
        let mut csv = Csv(String::from("\u{feff}"));
        csv.row(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        csv
    }

    fn row(&mut self, fields: &[String]) {
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        self.0.push_str(&line.join(";"));
        self.0.push_str("\r\n");
    }

    fn response(self, name: &str) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .body(self.0)
    }
}

/// One field: quoted when it holds `;`, `"` or a line break; a leading `=`, `+`, `-` or
/// `@` (a User-Agent is whatever a client sent) is prefixed with `'` so Excel never runs it
/// as a formula.
fn csv_field(field: &str) -> String {
    let safe = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if safe.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

fn json<T: Serialize>(value: &T) -> Result<HttpResponse, AdminError> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("10.0.0.1"), "10.0.0.1");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1+1"), "'-1+1");
    }
}
