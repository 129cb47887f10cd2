//! The inventory's lists as pages for a browser: `GET /devices` (with the search box and
//! the filters: build date, line, outcome, below critical; `?outcome=stuck` is the stuck
//! list) and `GET /history`, answered as HTML when the request accepts `text/html` (a
//! browser following the dashboard's links); every other client gets the JSON as before.
//! Everything shown comes from devices (addresses, user agents, serials): askama escapes
//! it, links carry it percent-encoded, and the lists are paged.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::admin::admin_error::AdminError;
use crate::admin::offer_reason::date;
use crate::catalog::snapshot::Snapshot;
use crate::store::device_reads::DeviceRow;
use crate::store::history_reads::HistoryRow;
use crate::words::dashboard::{for_request, Text};

/// What stays as it is in a link's path segment or query value.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b':')
    .remove(b'-')
    .remove(b'_');

/// The query keys the devices page's form sends, in the order links repeat them.
const FORM_KEYS: [&str; 7] = [
    "group",
    "q",
    "build_date",
    "line",
    "outcome",
    "below_critical",
    "limit",
];

/// Whether the request asks for HTML (a browser).
pub fn wants_html(req: &HttpRequest) -> bool {
    accept(req).contains("text/html")
}

/// Whether the request asks for JSON and not for HTML (scripts, `curl -H`).
pub fn wants_json(req: &HttpRequest) -> bool {
    let accept = accept(req);
    accept.contains("application/json") && !accept.contains("text/html")
}

fn accept(req: &HttpRequest) -> String {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn language(req: &HttpRequest) -> &'static Text {
    for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A time as the pages write it: DD.MM.YYYY HH:MM, server local time.
pub fn page_time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || unix.to_string(),
            |t| {
                t.with_timezone(&chrono::Local)
                    .format("%d.%m.%Y %H:%M")
                    .to_string()
            },
        )
}

/// A text made safe for a link's path segment or query value.
pub fn link_part(text: &str) -> String {
    utf8_percent_encode(text, KEPT).to_string()
}

/// The form's query with blank fields dropped: on the page, an empty box means "any".
pub fn form_query(mut query: HashMap<String, String>) -> HashMap<String, String> {
    query.retain(|_, value| !value.trim().is_empty());
    query
}

/// One device in the list, formatted.
pub struct DeviceLine {
    pub address: String,
    pub href: String,
    pub build_date: String,
    pub line: String,
    pub last_seen: String,
    pub user_agent: String,
    pub serials: String,
    pub offered: String,
    pub outcome: &'static str,
    pub group: String,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage<'a> {
    t: &'static Text,
    title: &'static str,
    total: u64,
    devices: Vec<DeviceLine>,
    q: &'a str,
    build_date: &'a str,
    line: &'a str,
    outcome: &'a str,
    below_critical: bool,
    lines: Vec<String>,
    critical: Option<String>,
    next: Option<String>,
    /// The group selector's choices (none: no groups, no selector), and the one picked.
    groups: &'a [String],
    group: &'a str,
}

/// The devices list as a page: `rows` is the page of `total` devices the query selects.
pub fn devices(
    req: &HttpRequest,
    snapshot: &Snapshot,
    query: &HashMap<String, String>,
    groups: &[String],
    total: u64,
    rows: Vec<DeviceRow>,
) -> Result<HttpResponse, AdminError> {
    let t = language(req);
    let get = |key: &str| query.get(key).map_or("", String::as_str);
    let offset: u64 = get("offset").parse().unwrap_or(0);
    let shown = u64::try_from(rows.len()).unwrap_or(u64::MAX);
    let next = (offset.saturating_add(shown) < total && shown > 0).then(|| {
        let mut link: Vec<String> = FORM_KEYS
            .iter()
            .filter_map(|key| query.get(*key).map(|v| format!("{key}={}", link_part(v))))
            .collect();
        link.push(format!("offset={}", offset.saturating_add(shown)));
        format!("devices?{}", link.join("&"))
    });
    let devices = rows
        .into_iter()
        .map(|d| DeviceLine {
            href: format!("devices/{}", link_part(&d.address)),
            build_date: d.build_date.map(date).unwrap_or_default(),
            line: t.line_name(&d.line).to_string(),
            last_seen: page_time(d.last_seen),
            user_agent: d.user_agent,
            serials: d.serials.join(" "),
            offered: match d.offered {
                Some(0) | None => String::new(),
                Some(v) => date(v),
            },
            outcome: d.outcome.as_ref().map_or("", |o| o.words(t.pages)),
            group: d.group.unwrap_or_default(),
            address: d.address,
        })
        .collect();
    let page = DevicesPage {
        t,
        title: if get("outcome") == "stuck" {
            t.pages.stuck_title
        } else {
            t.pages.devices_title
        },
        total,
        devices,
        q: get("q"),
        build_date: get("build_date"),
        line: get("line"),
        outcome: get("outcome"),
        below_critical: matches!(get("below_critical"), "1" | "true"),
        lines: snapshot.lines.lines.keys().cloned().collect(),
        critical: snapshot.critical.map(|c| date(c.version.as_u32())),
        next,
        groups,
        group: get("group"),
    };
    html(page.render())
}

/// One history entry, formatted.
pub struct HistoryLine {
    pub at: String,
    pub kind: String,
    pub line: String,
    pub version: String,
    pub address: Option<(String, String)>,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    t: &'static Text,
    events: Vec<HistoryLine>,
    next: Option<String>,
}

/// The history as a page; `next_offset` when there may be more; `group` the group
/// `?group=` picked, kept in the next page's link.
pub fn history(
    req: &HttpRequest,
    rows: Vec<HistoryRow>,
    limit: u64,
    offset: u64,
    group: Option<&str>,
) -> Result<HttpResponse, AdminError> {
    let t = language(req);
    let shown = u64::try_from(rows.len()).unwrap_or(u64::MAX);
    let group = group.map_or_else(String::new, |g| format!("group={}&", link_part(g)));
    let next = (shown == limit && shown > 0).then(|| {
        format!(
            "history?{group}limit={limit}&offset={}",
            offset.saturating_add(shown)
        )
    });
    let events = rows
        .into_iter()
        .map(|row| HistoryLine {
            at: page_time(row.at),
            kind: row.kind.words(t.pages).to_string(),
            line: t.line_name(&row.line).to_string(),
            version: row.version.map(date).unwrap_or_default(),
            address: row
                .address
                .map(|a| (format!("devices/{}", link_part(&a)), a)),
            detail: row.detail,
        })
        .collect();
    html(HistoryPage { t, events, next }.render())
}

fn html(page: Result<String, askama::Error>) -> Result<HttpResponse, AdminError> {
    let page = page.map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page))
}
