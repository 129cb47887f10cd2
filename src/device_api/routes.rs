//! The device-facing HTTP API: which path and method goes to which handler. Handlers are
//! thin: read the request, take one snapshot, call a pure function, write JSON.

use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::app_state::AppState;
use crate::catalog::firmware_offer::offer;
use crate::catalog::snapshot::Snapshot;
use crate::device_api::api_error::ApiError;
use crate::device_api::base_url::base_url;
use crate::device_api::firmware_download;
use crate::device_api::server_info::ServerInfo;
use crate::device_api::{device_requests, request_body};
use crate::model::py_json;
use crate::observe::fleet::Fleet;

/// The address a connection arrived on, recorded when it is accepted (see `server`).
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// Registers every device route on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/check_firmware")
            .route(web::post().to(check_firmware))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource("/feature_licenses")
            .route(web::post().to(feature_licenses))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource("/version")
            .route(web::get().to(version))
            .route(web::head().to(version))
            .default_service(web::to(|| not_allowed("GET, HEAD"))),
    )
    .service(
        web::resource("/firmware/{tail:.*}")
            .route(web::get().to(firmware_download::download))
            .route(web::head().to(firmware_download::download))
            .default_service(web::to(|| not_allowed("GET, HEAD"))),
    )
    .default_service(web::to(not_found));
}

async fn check_firmware(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = request_body::read(payload, state.request_timeout).await?;
    let build = device_requests::build_date(&body)?;
    let snapshot = state.snapshot();
    let host = req.headers().get(header::HOST).map(|h| h.as_bytes());
    let local = req.conn_data::<LocalAddr>().map(|a| a.0);
    let base = base_url(snapshot.public_url.as_deref(), host, local)?;
    let answer = offer(&snapshot, build, &base);
    state.metrics.offered(&answer);
    record_device(&req, &state, &snapshot, |fleet, client, ua, now| {
        fleet.check_in(client, ua, build, &answer, now)
    });
    json_ok(&answer)
}

#[derive(Serialize)]
struct LicenseAnswer {
    licenses: String,
    signature: String,
}

async fn feature_licenses(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = request_body::read(payload, state.request_timeout).await?;
    let serial = device_requests::serial(&body)?;
    let snapshot = state.snapshot();
    record_device(&req, &state, &snapshot, |fleet, client, ua, now| {
        fleet.license_lookup(client, ua, serial, now)
    });
    let found = snapshot.licenses.get(serial);
    state.metrics.license_lookup(found.is_some());
    let record = found.ok_or_else(|| ApiError::UnknownSerial(serial.to_string()))?;
    json_ok(&LicenseAnswer {
        licenses: record.licenses.to_hex(),
        signature: record.signature.to_hex(),
    })
}

async fn version() -> Result<HttpResponse, ApiError> {
    json_ok(&ServerInfo::current())
}

async fn not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(req.uri().path().to_string()))
}

/// Updates the fleet view for the device behind `req`, and the devices gauge.
fn record_device(
    req: &HttpRequest,
    state: &AppState,
    snapshot: &Snapshot,
    update: impl FnOnce(&mut Fleet, IpAddr, &str, u64),
) {
    if let Some(client) = client_ip(req, snapshot) {
        let mut fleet = state.fleet();
        update(&mut fleet, client, user_agent(req), unix_now());
        state.metrics.devices(fleet.len());
    }
}

/// The device's address: the peer, or what a trusted proxy says in `X-Forwarded-For`.
fn client_ip(req: &HttpRequest, snapshot: &Snapshot) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    Some(snapshot.trusted_proxies.client_ip(peer, forwarded))
}

fn user_agent(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A 200 with the reference's JSON byte form and Content-Type.
fn json_ok<T: Serialize>(value: &T) -> Result<HttpResponse, ApiError> {
    let body = py_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json; charset=UTF-8"))
        .body(body))
}
