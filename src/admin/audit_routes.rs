//! The audit trail on the admin listener: `GET /audit` (JSON, or a page for a browser)
//! and `GET /audit.csv`, newest first. The JSON and the page are paged by `before=SEQ`
//! (records older than that seq) and `limit`; the CSV is read a chunk at a time. Every
//! field may hold a name or a reason from a file or a request: the page escapes it
//! (askama), the CSV guards it against formulas (`exports`). Role `publisher` and above:
//! the trail names every operator and what each did, which a viewer (a client company's
//! staff) has no business reading.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Serialize;

use crate::admin::admin_error::AdminError;
use crate::admin::exports::{self, Cell, Rows, Table, Window};
use crate::admin::inventory_pages::{page_time, wants_html};
use crate::admin::operator::{Operator, Role};
use crate::app_state::AppState;
use crate::audit::{hash, AuditRecord};
use crate::store::audit_sql::{self, AuditHead};
use crate::words::dashboard::{for_request, Text};

/// Records in one answer when `limit` is not given.
const DEFAULT_LIMIT: u64 = 100;
/// At most this many records in one JSON answer or page (more: `/audit.csv`).
const MAX_LIMIT: u64 = 1000;
/// Records the CSV reads in one query.
const CHUNK: u64 = 1000;

type Query = web::Query<HashMap<String, String>>;

/// Registers `/audit` and `/audit.csv` (GET and HEAD).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, csv) in [("/audit", false), ("/audit.csv", true)] {
        let handler = move |req: HttpRequest,
                            state: web::Data<AppState>,
                            query: Query,
                            operator: Operator| async move {
            operator.require(Role::Publisher)?;
            if csv {
                audit_csv(state, query).await
            } else {
                audit(req, state, query).await
            }
        };
        cfg.service(
            web::resource(path)
                .route(web::get().to(handler))
                .route(web::head().to(handler))
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "GET, HEAD" })
                })),
        );
    }
}

/// A whole number from the query, at most `max`.
fn number(query: &Query, key: &str, max: u64) -> Result<Option<u64>, AdminError> {
    query
        .get(key)
        .map(|text| {
            text.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    AdminError::BadQuery(format!(
                        "{key} must be a whole number from 0 to {max}; got {text:?}"
                    ))
                })
        })
        .transpose()
}

/// One record as `/audit` lists it: the stored fields and the record's own hash.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    record: AuditRecord,
    hash: String,
}

#[derive(Serialize)]
struct Answer {
    /// The newest record's seq and hash as this server last wrote or read it.
    head: Option<AuditHead>,
    records: Vec<Listed>,
    /// `before=` for the next (older) page; none at the oldest.
    next_before: Option<u64>,
}

async fn audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, AdminError> {
    let limit = number(&query, "limit", MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let before = number(&query, "before", u64::MAX)?;
    let reader = state.clone();
    let records = web::block(move || {
        reader
            .inventory
            .read(|db| audit_sql::page(db, limit, before))
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?
    .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))?;
    let next_before = records
        .last()
        .filter(|last| records.len() as u64 == limit && last.seq > 1)
        .map(|last| last.seq);
    let head = state.inventory.audit_head();
    if wants_html(&req) {
        return page(&req, head, records, limit, next_before);
    }
    let records = records
        .into_iter()
        .map(|record| Listed {
            hash: hash(&record),
            record,
        })
        .collect();
    let body = serde_json::to_vec_pretty(&Answer {
        head,
        records,
        next_before,
    })
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}

const AUDIT: Table = Table {
    file: "audit",
    sheet: "audit",
    header: &[
        "seq", "at", "time", "actor", "action", "subject", "result", "prev", "hash",
    ],
};

/// Every record, newest first, `CHUNK` at a time.
struct AuditRows {
    before: Option<u64>,
    done: bool,
}

impl Rows for AuditRows {
    fn next_chunk(&mut self, state: &AppState) -> Result<Option<Vec<Vec<Cell>>>, AdminError> {
        if self.done {
            return Ok(None);
        }
        let before = self.before;
        let records = state
            .inventory
            .read(|db| audit_sql::page(db, CHUNK, before))
            .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))?;
        let Some(last) = records.last() else {
            return Ok(None);
        };
        self.before = Some(last.seq);
        self.done = (records.len() as u64) < CHUNK;
        Ok(Some(records.into_iter().map(cells).collect()))
    }
}

fn cells(record: AuditRecord) -> Vec<Cell> {
    let own = hash(&record);
    vec![
        Cell::Text(record.seq.to_string()),
        Cell::Text(record.at.to_string()),
        Cell::Text(crate::model::unix_time::local_text(record.at)),
        Cell::Text(record.actor),
        Cell::Text(record.action),
        Cell::Text(record.subject),
        Cell::Text(record.result),
        Cell::Text(record.prev),
        Cell::Text(own),
    ]
}

/// `/audit.csv`: the whole trail unless `limit` or `offset` says otherwise.
async fn audit_csv(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, AdminError> {
    if !state.inventory.is_on() {
        return Err(AdminError::InventoryUnavailable(
            crate::store::Unavailable::Off.to_string(),
        ));
    }
    let window = Window {
        offset: number(&query, "offset", u64::MAX)?.unwrap_or(0),
        limit: number(&query, "limit", u64::MAX)?,
    };
    let rows = AuditRows {
        before: number(&query, "before", u64::MAX)?,
        done: false,
    };
    exports::csv(state, AUDIT, rows, window).await
}

/// One line of the page.
struct Line {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    result: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: &'static Text,
    head: Option<AuditHead>,
    lines: Vec<Line>,
    next: Option<String>,
}

fn page(
    req: &HttpRequest,
    head: Option<AuditHead>,
    records: Vec<AuditRecord>,
    limit: u64,
    next_before: Option<u64>,
) -> Result<HttpResponse, AdminError> {
    let t = for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let lines = records
        .into_iter()
        .map(|r| Line {
            seq: r.seq,
            at: page_time(r.at),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            result: r.result,
        })
        .collect();
    let next = next_before.map(|before| format!("audit?limit={limit}&before={before}"));
    let page = AuditPage {
        t,
        head,
        lines,
        next,
    }
    .render()
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page))
}
