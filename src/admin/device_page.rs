//! A register's own page, `GET /devices/<address>`: what the inventory knows of it (its
//! requests, the updates it was offered and what became of them, its downloads, serials
//! and rollout admissions) and why it is or is not offered an update (`offer_reason`;
//! where a rollout keeps it from a newer release, which rule, `admission_reason`).
//! A browser gets HTML; `Accept: application/json` gets the same as JSON. The address in
//! the path is parsed strictly (an IPv4 or IPv6 address, nothing else): it is typed by
//! hand or followed from a link, and never reaches the store unparsed.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::admin::admin_error::AdminError;
use crate::admin::admission_reason;
use crate::admin::inventory_pages::{page_time, wants_json};
use crate::admin::offer_reason::{self, Why};
use crate::admin::operator::Operator;
use crate::admin::view_scope::ViewScope;
use crate::app_state::AppState;
use crate::store::device_detail_reads::{self, DeviceDetail};
use crate::store::device_reads::{self, DeviceFilter};
use crate::words::dashboard::{for_request, Text};

/// The longest text that can be an IP address (an IPv6 address with an embedded IPv4
/// one, `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`, is 45).
const MAX_ADDRESS: usize = 45;

/// Registers the page (GET and HEAD; other methods get 405 with `Allow`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/devices/{address}")
            .route(web::get().to(device))
            .route(web::head().to(device))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "GET, HEAD" })
            })),
    );
}

/// The address from the path: an IPv4 or IPv6 address, or a plain refusal naming what was
/// given: at most its first 45 characters, anything but letters, digits, `.`, `:`, `-`
/// and `_` shown as `?` (the answer may be read in a browser).
pub fn parse_address(text: &str) -> Result<IpAddr, AdminError> {
    let parsed = (text.len() <= MAX_ADDRESS)
        .then(|| text.parse::<IpAddr>().ok())
        .flatten();
    parsed.ok_or_else(|| {
        let shown: String = text
            .chars()
            .take(MAX_ADDRESS)
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".:-_".contains(c) {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        AdminError::BadQuery(format!(
            "\"{shown}\" is not a register's address: give an IPv4 address like 10.0.0.5 or \
             an IPv6 address like 2001:db8::5, as /devices/10.0.0.5"
        ))
    })
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    t: &'static Text,
    d: &'a DeviceDetail,
    why: String,
    why_code: &'static str,
    /// The rollout's rule that keeps it from a newer release ("" when none).
    kept_code: &'static str,
    build: String,
}

impl DevicePage<'_> {
    fn time(&self, unix: &u64) -> String {
        page_time(*unix)
    }

    fn maybe_time(&self, unix: &Option<u64>) -> String {
        unix.map_or_else(|| self.t.pages.never.to_string(), page_time)
    }

    fn outcome(&self, outcome: &crate::store::outcome::Outcome) -> &'static str {
        outcome.words(self.t.pages)
    }

    fn date(&self, yyyymmdd: &u32) -> String {
        offer_reason::date(*yyyymmdd)
    }
}

/// Why the register at `ip` (built `build`) is offered what it is, as the request path
/// would decide now: in its admission group (by networks), whose time zone its windows are
/// read in.
fn why_now(state: &AppState, ip: std::net::IpAddr, build: Option<u32>) -> offer_reason::Why {
    let snapshot = state.snapshot_arc();
    // The clock the request path would read now.
    let now = crate::model::clock::unix_now();
    // Its admission group (by networks), whose time zone the windows are read in.
    let group = snapshot.groups().for_admission(ip);
    let group_name = group.map(|g| g.name.as_str());
    let minute = crate::groups::group::local_minute(group, now);
    offer_reason::why(
        &snapshot,
        build,
        &|line, release| {
            state.admissions.is_admitted(line, release.version, ip)
                || release
                    .rollout
                    .as_ref()
                    .is_some_and(|rollout| rollout.is_pilot(ip, group_name))
        },
        &|line, release, rollout| {
            let standing = state
                .admissions
                .standing(line, release.version, now, minute);
            admission_reason::kept_by_in(rollout, ip, group, line, release.version, &standing, now)
        },
    )
}

async fn device(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let ip = parse_address(&path)?;
    // A register of a group the viewer may not see is not found, in the very words of one
    // the inventory does not know: its existence is not confirmed.
    let groups = ViewScope::of(&operator, &Default::default(), state.snapshot().groups())?
        .groups()
        .map(<[String]>::to_vec);
    if !state.inventory.is_on() {
        return Err(AdminError::InventoryUnavailable(
            "the inventory is off (inventory: off): there is no memory of registers".into(),
        ));
    }
    let address = ip.to_string();
    let reader = state.clone();
    let key = address.clone();
    let detail = web::block(move || {
        let stuck_after = reader.inventory.settings().stuck_after;
        reader.inventory.read(|db| {
            if let Some(groups) = groups {
                let own = DeviceFilter {
                    address: Some(key.clone()),
                    groups: Some(groups),
                    limit: 1,
                    ..DeviceFilter::default()
                };
                let (found, _) = device_reads::devices(db, &own, 0, 0)?;
                if found == 0 {
                    return Ok(None);
                }
            }
            device_detail_reads::device_detail(
                db,
                &key,
                crate::model::clock::unix_now(),
                stuck_after,
            )
        })
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?
    .map_err(|e| AdminError::InventoryUnavailable(format!("{e:#}")))?
    .ok_or_else(|| {
        AdminError::NotFound(format!(
            "/devices/{address}: no register with this address in the inventory"
        ))
    })?;
    let why = why_now(&state, ip, detail.device.build_date);
    let t = for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if wants_json(&req) {
        return device_json(&detail, &why, t);
    }
    let page = DevicePage {
        t,
        d: &detail,
        why: why.words(t),
        why_code: why.code(),
        kept_code: why.kept_by().map_or("", |k| k.code()),
        build: detail
            .device
            .build_date
            .map(offer_reason::date)
            .unwrap_or_default(),
    }
    .render()
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page))
}

fn device_json(detail: &DeviceDetail, why: &Why, t: &Text) -> Result<HttpResponse, AdminError> {
    let internal = |e: serde_json::Error| AdminError::Internal(e.to_string());
    let mut value = serde_json::to_value(detail).map_err(internal)?;
    let mut reason = serde_json::to_value(why).map_err(internal)?;
    reason["text"] = serde_json::Value::String(why.words(t));
    value["why"] = reason;
    let body = serde_json::to_vec_pretty(&value).map_err(internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ip_addresses_are_taken() {
        assert!(parse_address("10.0.0.5").is_ok());
        assert!(parse_address("2001:db8::5").is_ok());
        for bad in [
            "",
            "10.0.0",
            "10.0.0.5:80",
            "shop1",
            "10.0.0.5/24",
            "[::1]",
            "1.2.3.4 ",
            &"1".repeat(200),
        ] {
            let error = parse_address(bad).unwrap_err().to_string();
            assert!(error.contains("is not a register's address"), "{error}");
            assert!(error.len() < 300, "{error}");
        }
    }
}
