//! What the release routes (`release_routes`: the upload; `release_actions`: withdraw,
//! pause, resume) answer and record alike: the refusal with its status and both languages,
//! the audit record of each request, the JSON or the browser's 303 back to the dashboard,
//! the reload after a change, and the one lock every change to `firmware_dir` takes.

use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use log::info;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use crate::admin::operator::Operator;
use crate::admin::release_upload::UploadError;
use crate::app_state::{AppState, ReloadRecord};
use crate::audit::{Action as Audited, AuditEntry};
use crate::catalog::device_line::DEFAULT_LINE;
use crate::json_error;
use crate::model::lang::{InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::publish::PublishError;
use crate::store::audit_events;

/// One change to `firmware_dir` at a time, whoever asks.
pub(crate) static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// How long the reload after a change may take before the answer says so.
const RELOAD_WAIT: Duration = Duration::from_secs(30);
/// A refusal or failure of a release route, with its status and the sentence in both
/// languages.
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) english: String,
    pub(crate) russian: String,
}

impl Refusal {
    pub(crate) fn of(status: StatusCode, error: &dyn InLanguage) -> Refusal {
        Refusal {
            status,
            english: error.to_string(),
            russian: error.in_russian(),
        }
    }

    pub(crate) fn from_publish(error: &PublishError) -> Refusal {
        let status = if error.is_conflict() {
            StatusCode::CONFLICT
        } else if error.is_failure() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        Refusal::of(status, error)
    }

    pub(crate) fn from_upload(error: &UploadError) -> Refusal {
        let status = if error.is_too_large() {
            StatusCode::PAYLOAD_TOO_LARGE
        } else if error.is_failure() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        Refusal::of(status, error)
    }
}

/// Who asked for what, and how it ended: the one place per action where the actor, the
/// action and its result are known. Recorded in the audit trail (which bounds and escapes
/// every field) and said in the operator's log (escaped: a sentence may quote a name an
/// upload chose). `subject`: `audit_events::subject`, empty when the upload was refused
/// before its release was known.
pub(crate) fn record_action(
    state: &AppState,
    operator: &Operator,
    action: Audited,
    subject: &str,
    result: Result<&str, &str>,
) {
    let text = match result {
        Ok(done) => {
            info!("{:?} {action} {subject}: {:?}", operator.name, done);
            done.to_string()
        }
        Err(refused) => {
            info!(
                "{:?} {action} {subject} refused: {:?}",
                operator.name, refused
            );
            format!("refused: {refused}")
        }
    };
    state
        .inventory
        .audit(AuditEntry::new(&operator.name, action, subject, &text));
}

/// The release as the audit trail names it (`20250301`, `C.3/20250301`).
pub(crate) fn audit_subject(version: Version, line: &str) -> String {
    audit_events::subject(&(line.to_string(), version.as_u32()))
}

/// Whether the request is a browser's form post (it prefers HTML).
fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|t| t.trim().starts_with("text/html")))
}

/// The browser's language, as the dashboard picks it.
fn browser_lang(req: &HttpRequest) -> Lang {
    let text = crate::words::dashboard::for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if text.lang == "en" {
        Lang::En
    } else {
        Lang::Ru
    }
}

/// A 303 to the dashboard with `query` (already encoded).
fn back_to_dashboard(query: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/?{query}")))
        .finish()
}

fn encoded(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// The answer to a refusal: JSON, or a 303 whose query carries the sentence.
pub(crate) fn refused(req: &HttpRequest, refusal: &Refusal) -> HttpResponse {
    if wants_html(req) {
        let said = match browser_lang(req) {
            Lang::Ru => &refusal.russian,
            Lang::En => &refusal.english,
        };
        return back_to_dashboard(&format!("refused={}", encoded(said)));
    }
    json_error::response(refusal.status, &refusal.english, None)
}

/// The answer to a change done: JSON, or a 303 with `done=version` (and the line).
pub(crate) fn done(
    req: &HttpRequest,
    done: &str,
    version: Version,
    line: &str,
    body: serde_json::Value,
) -> HttpResponse {
    if wants_html(req) {
        let mut query = format!("{done}={version}");
        if line != DEFAULT_LINE {
            query.push_str(&format!("&line={}", encoded(line)));
        }
        return back_to_dashboard(&query);
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(serde_json::to_vec_pretty(&body).unwrap_or_default())
}

/// Rescans now and waits until the snapshot it made is live: the reload this request
/// started (a `request` one that ended after it was asked for).
pub(crate) async fn reload_now(state: &AppState, operator: &Operator) -> Option<ReloadRecord> {
    let before = state.reload_count();
    // The audit trail's actor for this reload: who made the change, never a default name.
    state.request_reload(&operator.name);
    let deadline = Instant::now() + RELOAD_WAIT;
    while Instant::now() < deadline {
        let new = state.reload_count().saturating_sub(before);
        if let Some(done) = state
            .reloads()
            .into_iter()
            .take(new)
            .find(|r| r.trigger == "request")
        {
            return Some(done);
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

pub(crate) fn reload_json(reload: Option<&ReloadRecord>) -> serde_json::Value {
    match reload {
        Some(done) => serde_json::json!({"ok": done.ok, "outcome": done.outcome}),
        None => serde_json::json!({
            "ok": false,
            "outcome": format!("the reload did not finish within {} s; see the log", RELOAD_WAIT.as_secs()),
        }),
    }
}
