//! The device-facing HTTP API: which path and method goes to which handler. Handlers are
//! thin: read the request, take one snapshot, call one function (for `check_firmware`, the
//! rollout gate's `offer`), write JSON.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::app_state::AppState;
use crate::catalog::device_line::{DeviceLine, DEFAULT_LINE};
use crate::catalog::firmware_offer::FirmwareOffer;
use crate::device_api::api_error::ApiError;
use crate::device_api::base_url::base_url;
use crate::device_api::client_address::{client_ip, unix_now, user_agent};
use crate::device_api::firmware_download;
use crate::device_api::server_info::ServerInfo;
use crate::device_api::{device_requests, request_body};
use crate::model::py_json;
use crate::observe::fleet::{truncate, Fleet, USER_AGENT_MAX};
use crate::store::Event;

/// The address a connection arrived on, recorded when it is accepted (see `server`).
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// Marks a connection that came in over native TLS (`tls_listen`): its download URLs
/// start with `https://`.
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// Registers every device route on an actix `App`.
///
/// actix tries the routes in order, so the two every register polls come first, and the
/// downloads are matched by their `/firmware` prefix (a plain comparison) and told apart in
/// `firmware_download`, which reads the raw path itself: a `/firmware/{tail:.*}` pattern
/// ran a regular expression over every download's path, a fifth of the instructions a
/// 50 KB `Range` request cost (bench/RESULTS.md).
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
    .service(web::scope("/firmware").default_service(web::to(firmware)))
    .service(
        web::resource("/lines/{line}/check_firmware")
            .route(web::post().to(check_firmware_of_line))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource("/lines/{line}/feature_licenses")
            .route(web::post().to(feature_licenses))
            .default_service(web::to(|| not_allowed("POST"))),
    )
    .service(
        web::resource("/version")
            .route(web::get().to(version))
            .route(web::head().to(version))
            .default_service(web::to(|| not_allowed("GET, HEAD"))),
    )
    .default_service(web::to(not_found));
}

async fn check_firmware(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    answer_check(req, payload, state, None).await
}

/// `/lines/<line>/check_firmware`: for drivers configured with their line's own URL.
async fn check_firmware_of_line(
    req: HttpRequest,
    line: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    answer_check(req, payload, state, Some(line.into_inner())).await
}

async fn answer_check(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    asked_line: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let body = request_body::read(payload, state.request_timeout).await?;
    let build = device_requests::build_date(&body)?;
    let snapshot = state.snapshot();
    let host = req.headers().get(header::HOST).map(|h| h.as_bytes());
    let local = req.conn_data::<LocalAddr>().map(|a| a.0);
    let over_tls = req.conn_data::<OverTls>().is_some();
    let base = base_url(snapshot.public_url.as_deref(), host, local, over_tls)?;
    let client = client_ip(&req, &snapshot);
    let device_line = match &asked_line {
        Some(name) if snapshot.line(name).is_some() => DeviceLine::Known(name),
        Some(name) => {
            no_such_line(name);
            DeviceLine::Unknown
        }
        None => snapshot.line_index.line_of(build),
    };
    let now = unix_now();
    let answer = match device_line
        .serving_line()
        .and_then(|name| snapshot.line(name))
    {
        Some(line) => state
            .rollout()
            .offer(&line, build, &base, client, snapshot.groups(), now),
        None => FirmwareOffer::nothing(),
    };
    state.metrics.offered(&answer);
    let line_name: Box<str> = device_line.serving_line().unwrap_or(DEFAULT_LINE).into();
    record_device(&req, &state, client, now, |fleet, client, ua, now| {
        fleet.check_in(client, ua, build, &answer, now);
        Event::CheckIn {
            at: now,
            address: client,
            user_agent: truncate(ua, USER_AGENT_MAX).into(),
            build_date: build.as_u32(),
            line: line_name,
            offered: answer.version,
            update_available: answer.update_available,
            critical: answer.critical,
        }
    });
    json_ok(&answer)
}

/// A driver asks for a line this server does not have: answered "no update" (a non-200
/// would stop the JavaPOS driver), and said in the log at most once a minute.
fn no_such_line(name: &str) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = unix_now();
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + 60
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        log::warn!(
            "a device asked for line {name:?} (/lines/…/check_firmware), but there is no line {name:?} \
             (a folder of firmware_dir with a line.yaml); it was told there is no update"
        );
    }
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
    let found = snapshot.licenses.get(serial);
    let client = client_ip(&req, &snapshot);
    record_device(
        &req,
        &state,
        client,
        unix_now(),
        |fleet, client, ua, now| {
            fleet.license_lookup(client, ua, serial, now);
            Event::Serial {
                at: now,
                address: client,
                user_agent: truncate(ua, USER_AGENT_MAX).into(),
                serial: serial.to_string(),
                licensed: found.is_some(),
            }
        },
    );
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

/// The label of downloads in `kkt_http_requests_total` and the latency histogram: the
/// pattern that matched them before they were matched by prefix (dashboards keep working).
pub const FIRMWARE_ROUTE_LABEL: &str = "/firmware/{tail:.*}";

/// Everything below `/firmware/`: GET and HEAD are downloads (or files beside the firmware),
/// any other method is not allowed; `/firmware` itself is no file, as before. The path is
/// the one the router matched (`%66irmware` is `firmware` there), as the pattern saw it.
async fn firmware(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !req.match_info().as_str().starts_with("/firmware/") {
        return not_found(req).await;
    }
    match *req.method() {
        Method::GET | Method::HEAD => firmware_download::download(req, state).await,
        _ => not_allowed("GET, HEAD").await,
    }
}

async fn not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allow })
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(req.uri().path().to_string()))
}

/// Updates the fleet view for the device at `client` (sent `req`) and the devices gauge,
/// and hands the inventory the event `update` returns (queued: the store is never waited
/// for).
fn record_device(
    req: &HttpRequest,
    state: &AppState,
    client: Option<IpAddr>,
    now: u64,
    update: impl FnOnce(&mut Fleet, IpAddr, &str, u64) -> Event,
) {
    if let Some(client) = client {
        let event = {
            let mut fleet = state.fleet();
            let event = update(&mut fleet, client, user_agent(req), now);
            state.metrics.devices(fleet.len());
            event
        };
        state.inventory.record(event);
    }
}

/// A 200 with the reference's JSON byte form and Content-Type.
fn json_ok<T: Serialize>(value: &T) -> Result<HttpResponse, ApiError> {
    let body = py_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json; charset=UTF-8"))
        .body(body))
}
