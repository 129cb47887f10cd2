//! Publishing from the admin listener, for the role `publisher` and above:
//!
//! - `POST /releases`: a `multipart/form-data` upload (`release_upload`) published by the
//!   very function the `publish` command runs (`publishing::publish`);
//! - `POST /releases/<version>/withdraw`, `/pause`, `/resume`, with `?line=NAME` for a named
//!   line: what `withdraw` does (`publishing::withdraw`), and `paused:` set in the release's
//!   `rollout:` (`publishing::rollout_pause`; an automatic halt is carried over, never
//!   cleared).
//!
//! One change at a time (`CHANGES`): publishing an upload, a withdraw or a pause waits for
//! the one before it. An upload is received before it takes `CHANGES` (one upload received
//! at a time, `RECEIVING`): a slow sender, up to `UPLOAD_TIME_MAX`, must never hold up the
//! pause or withdraw that stops a bad rollout. After the change the server reloads at once and answers when the new
//! snapshot is live, as `POST /reload` does, so what the answer says devices are offered
//! is what they are offered. API clients get JSON (the refusals as `{"error": "…"}` with
//! 400, 404, 409 or 413); a browser's form post (`Accept: text/html`) gets a 303 back to
//! the dashboard with the outcome in the query (`/?published=20250301`,
//! `/?refused=<the sentence>`), in the browser's language.
//!
//! **Cross-site requests**: besides the guard's `Origin` check, a request whose
//! credentials a browser attaches by itself (a session, Basic, the open listener) must
//! carry the form's CSRF token (`admin::csrf`): an upload in the query (`?csrf=`) or the
//! header, checked before a byte of the body is read; the other actions also as the form
//! field `csrf` (`ACTION_FORM_MAX` bytes read at most).
//!
//! **The audit trail**: every request here is recorded with the operator's name
//! (`record_action`): an upload as `upload` (what came of it, a refusal too), and the
//! release's `meta.yaml` names the operator as `published_by`, so the `publish` or `replace`
//! the rescan then sees on disk names them too; a withdraw signs the shelf with the
//! operator's name. A withdraw, pause or resume is recorded the moment it is on disk, with
//! the words the rescan's record of the same change uses (`audit_events`), so the rescan
//! does not record it a second time under the release's publisher.

use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, Next};
use actix_web::{guard, web, HttpRequest, HttpResponse, ResponseError};
use log::info;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::operator::{Operator, Role};
use crate::admin::release_upload::{read_form, UploadError};
use crate::app_state::{AppState, ReloadRecord};
use crate::audit::{Action as Audited, AuditEntry};
use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::line_folders;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::json_error;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::offer_summary::{offer_summary, offered_now};
use crate::publishing::publish::{publish, Given, PublishError, Published};
use crate::publishing::rollout_pause::{self, PauseError};
use crate::publishing::staging::Written;
use crate::publishing::withdraw::{withdraw_by, WithdrawError};
use crate::store::audit_events;
use crate::store::rollout_sql;
use crate::words::cli::OperatorText;

/// One change to `firmware_dir` at a time, whoever asks.
static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// One upload received at a time (its files are on disk until it is published or refused).
static RECEIVING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// How long an upload may take to arrive: a slow sender must not hold `RECEIVING` forever.
pub const UPLOAD_TIME_MAX: Duration = Duration::from_secs(300);
/// How long the reload after a change may take before the answer says so.
const RELOAD_WAIT: Duration = Duration::from_secs(30);
/// The largest body a withdraw, pause or resume reads (a form with its CSRF token).
const ACTION_FORM_MAX: usize = 4 * 1024;

/// Registers the routes, behind the role check. `POST /releases` shares its path with
/// `GET /releases` (the counts per release, `inventory_routes`): this resource takes only
/// POST, so it must be registered first and other methods fall through to that one.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/releases")
            .guard(guard::Post())
            .wrap(from_fn(publishers_only))
            .route(web::post().to(upload)),
    );
    cfg.service(
        web::resource("/releases/{version}/{action}")
            .app_data(web::PayloadConfig::new(ACTION_FORM_MAX))
            .wrap(from_fn(publishers_only))
            .route(web::post().to(release_action))
            .route(web::get().to(crate::admin::withdraw_page::page))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "GET, POST" })
            })),
    );
}

/// Refuses, before anything of the request is read, an operator below `publisher`.
async fn publishers_only(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let operator = req.extract::<Operator>().await?;
    if let Err(refusal) = operator.require(Role::Publisher) {
        let response = refusal.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A refusal or failure of a release route, with its status and the sentence in both
/// languages.
struct Refusal {
    status: StatusCode,
    english: String,
    russian: String,
}

impl Refusal {
    fn of(status: StatusCode, error: &dyn InLanguage) -> Refusal {
        Refusal {
            status,
            english: error.to_string(),
            russian: error.in_russian(),
        }
    }

    fn from_publish(error: &PublishError) -> Refusal {
        let status = if error.is_conflict() {
            StatusCode::CONFLICT
        } else if error.is_failure() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        };
        Refusal::of(status, error)
    }

    fn from_upload(error: &UploadError) -> Refusal {
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
fn record_action(
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
fn audit_subject(version: Version, line: &str) -> String {
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
fn refused(req: &HttpRequest, refusal: &Refusal) -> HttpResponse {
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
fn done(
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
async fn reload_now(state: &AppState, operator: &Operator) -> Option<ReloadRecord> {
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

fn reload_json(reload: Option<&ReloadRecord>) -> serde_json::Value {
    match reload {
        Some(done) => serde_json::json!({"ok": done.ok, "outcome": done.outcome}),
        None => serde_json::json!({
            "ok": false,
            "outcome": format!("the reload did not finish within {} s; see the log", RELOAD_WAIT.as_secs()),
        }),
    }
}

/// `POST /releases`.
async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    operator.require(Role::Publisher)?;
    // Before a byte of the body is read: the token can only be in the header or the query.
    csrf::check(&req, &operator, csrf::given(&req, None).as_deref())?;
    let _one_received = RECEIVING.lock().await;
    let firmware_dir = state.snapshot().firmware_dir.clone();
    let form = match received_form(&req, payload, &firmware_dir).await {
        Ok(form) => form,
        Err(refusal) => {
            record_action(
                &state,
                &operator,
                Audited::Upload,
                "",
                Err(&refusal.english),
            );
            return Ok(refused(&req, &refusal));
        }
    };
    // Received: only now one change at a time (the files are in anonymous temp files).
    let _one_at_a_time = CHANGES.lock().await;
    let published = publish_form(form, &firmware_dir, &operator).await?;
    let published = match published {
        Ok(published) => published,
        Err(error) => {
            let refusal = Refusal::from_publish(&error);
            record_action(
                &state,
                &operator,
                Audited::Upload,
                "",
                Err(&refusal.english),
            );
            return Ok(refused(&req, &refusal));
        }
    };
    let done_word = match published.written {
        Some(Written::Replaced) => "replaced",
        _ => "published",
    };
    let reload = reload_now(&state, &operator).await;
    let offered = offer_summary(
        &state.snapshot(),
        &published.line,
        published.version,
        Lang::En,
    );
    let subject = audit_subject(published.version, &published.line);
    let result = format!("{done_word}; {}", offered.trim_end());
    record_action(&state, &operator, Audited::Upload, &subject, Ok(&result));
    let body = published_json(&published, &offered, reload.as_ref());
    Ok(done(
        &req,
        "published",
        published.version,
        &published.line,
        body,
    ))
}

/// Publishes what the form holds, as `operator` (off the listener's worker).
async fn publish_form(
    form: crate::admin::release_upload::Form,
    firmware_dir: &std::path::Path,
    operator: &Operator,
) -> Result<Result<Published, PublishError>, AdminError> {
    let mut options = form.options;
    // The release names who published it: the rescan's `publish` record takes it from there.
    options.published_by = Some(operator.name.clone());
    let dir = firmware_dir.to_path_buf();
    web::block(move || {
        let unknown = &mut |shown: &std::path::Path| {
            Err(PublishError::VersionUnknown(
                shown
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ))
        };
        publish(
            &dir,
            Given::Upload(form.upload),
            &options,
            Lang::En,
            unknown,
        )
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))
}

/// The form of `POST /releases`, read within `UPLOAD_TIME_MAX`.
async fn received_form(
    req: &HttpRequest,
    payload: web::Payload,
    firmware_dir: &std::path::Path,
) -> Result<crate::admin::release_upload::Form, Refusal> {
    let multipart = Multipart::new(req.headers(), payload);
    match actix_web::rt::time::timeout(UPLOAD_TIME_MAX, read_form(multipart, firmware_dir)).await {
        Ok(Ok(form)) => Ok(form),
        Ok(Err(error)) => Err(Refusal::from_upload(&error)),
        Err(_) => Err(Refusal {
            status: StatusCode::REQUEST_TIMEOUT,
            english: format!(
                "the upload took longer than {} s; send it again",
                UPLOAD_TIME_MAX.as_secs()
            ),
            russian: format!(
                "загрузка шла дольше {} с; пришлите её снова",
                UPLOAD_TIME_MAX.as_secs()
            ),
        }),
    }
}

/// The summary `publish` prints, as JSON, with the whole text too.
fn published_json(
    published: &Published,
    offered: &str,
    reload: Option<&ReloadRecord>,
) -> serde_json::Value {
    let files: Vec<serde_json::Value> = FIRMWARE_FILES
        .iter()
        .zip(published.sizes.iter().zip(&published.hashes))
        .map(|(name, (bytes, sha256))| serde_json::json!({"name": name, "bytes": bytes, "sha256": sha256}))
        .collect();
    let meta = &published.meta;
    serde_json::json!({
        "status": match published.written {
            Some(Written::Replaced) => "replaced",
            _ => "published",
        },
        "version": published.version.as_u32(),
        "line": published.line,
        "target": published.target.display().to_string(),
        "description": meta.description,
        "critical": meta.critical,
        "floor": meta.floor,
        "rollout": meta.rollout.as_ref().map(ToString::to_string),
        "files": files,
        "offered": offered.trim_end(),
        "said": format!("{}{offered}", published.said),
        "reload": reload_json(reload),
    })
}

/// `?line=NAME` (and the CSRF token, `?csrf=`, which `csrf::given` reads).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LineQuery {
    line: Option<String>,
    #[serde(rename = "csrf")]
    _csrf: Option<String>,
}

/// What `/releases/<version>/<action>` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Withdraw,
    Pause,
    Resume,
}

/// `POST /releases/<version>/withdraw|pause|resume`.
async fn release_action(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    operator.require(Role::Publisher)?;
    csrf::check(&req, &operator, csrf::given(&req, Some(&body)).as_deref())?;
    let (version_text, action_text) = path.into_inner();
    let action = match action_text.as_str() {
        "withdraw" => Action::Withdraw,
        "pause" => Action::Pause,
        "resume" => Action::Resume,
        _ => return Err(AdminError::NotFound(req.path().to_string())),
    };
    let query = web::Query::<LineQuery>::from_query(req.query_string()).map_err(|e| {
        AdminError::BadQuery(format!(
            "the query of {} takes only line=NAME (the firmware line of the release): {e}",
            req.path()
        ))
    })?;
    let line = query.into_inner().line.filter(|l| !l.is_empty());
    let Some(version) = Version::parse_folder_name(&version_text) else {
        return Err(AdminError::NotFound(format!(
            "{}: a release is named by its date, yyyymmdd, like /releases/20250301/{action_text}",
            req.path()
        )));
    };
    let _one_at_a_time = CHANGES.lock().await;
    match action {
        Action::Withdraw => withdraw_release(&req, &state, &operator, version, line).await,
        Action::Pause | Action::Resume => {
            set_paused(
                &req,
                &state,
                &operator,
                version,
                line,
                action == Action::Pause,
            )
            .await
        }
    }
}

/// Why a withdraw was refused, with the line check the command makes.
#[derive(Debug, thiserror::Error)]
enum WithdrawRefusal {
    #[error(
        "there is no line {name:?} in {} (a line is a folder with a line.yaml)",
        firmware_dir.display()
    )]
    NoSuchLine {
        name: String,
        firmware_dir: std::path::PathBuf,
    },
    #[error(transparent)]
    Withdraw(#[from] WithdrawError),
}

impl WithdrawRefusal {
    fn status(&self) -> StatusCode {
        match self {
            WithdrawRefusal::NoSuchLine { .. }
            | WithdrawRefusal::Withdraw(WithdrawError::NoRelease { .. }) => StatusCode::NOT_FOUND,
            WithdrawRefusal::Withdraw(WithdrawError::ShelfFull { .. }) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl InLanguage for WithdrawRefusal {
    fn in_russian(&self) -> String {
        match self {
            WithdrawRefusal::NoSuchLine { name, firmware_dir } => format!(
                "в {} нет линейки {name:?} (линейка — это папка с line.yaml)",
                firmware_dir.display()
            ),
            WithdrawRefusal::Withdraw(error) => error.in_russian(),
        }
    }
}

async fn withdraw_release(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    operator: &Operator,
    version: Version,
    line: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let firmware_dir = state.snapshot().firmware_dir.clone();
    let line_name = line.clone().unwrap_or_else(|| DEFAULT_LINE.to_string());
    let subject = audit_subject(version, &line_name);
    let dir = firmware_dir.clone();
    let (recorder, who, what) = (state.clone(), operator.clone(), subject.clone());
    let moved = web::block(move || -> Result<_, WithdrawRefusal> {
        if let Some(name) = &line {
            if !line_folders(&dir).contains(name) {
                return Err(WithdrawRefusal::NoSuchLine {
                    name: name.clone(),
                    firmware_dir: dir.clone(),
                });
            }
        }
        let moved = withdraw_by(
            &dir,
            line.as_deref().unwrap_or(DEFAULT_LINE),
            version,
            &who.name,
        )?;
        // Recorded the moment it is done: before the rescan that sees the folder gone.
        let done = Ok(audit_events::WITHDRAWN);
        record_action(&recorder, &who, Audited::Withdraw, &what, done);
        Ok(moved)
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    let moved = match moved {
        Ok(moved) => moved,
        Err(error) => {
            let refusal = Refusal::of(error.status(), &error);
            record_action(
                state,
                operator,
                Audited::Withdraw,
                &subject,
                Err(&refusal.english),
            );
            return Ok(refused(req, &refusal));
        }
    };
    let reload = reload_now(state, operator).await;
    let t = OperatorText::of(Lang::En);
    let line_flag = if line_name == DEFAULT_LINE {
        String::new()
    } else {
        format!(" --line {line_name}")
    };
    let values: [(&str, &dyn std::fmt::Display); 3] = [
        ("version", &version),
        ("moved", &moved.display()),
        ("line_flag", &line_flag),
    ];
    let offered = offered_now(&state.snapshot(), &line_name, Lang::En);
    let said = fill(t.withdrew, &values) + "\n" + &offered;
    let body = serde_json::json!({
        "status": "withdrawn",
        "version": version.as_u32(),
        "line": line_name,
        "moved_to": moved.display().to_string(),
        "offered": offered.trim_end(),
        "said": said,
        "reload": reload_json(reload.as_ref()),
    });
    Ok(done(req, "withdrawn", version, &line_name, body))
}

async fn set_paused(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    operator: &Operator,
    version: Version,
    line: Option<String>,
    paused: bool,
) -> Result<HttpResponse, AdminError> {
    let action = if paused {
        Audited::Pause
    } else {
        Audited::Resume
    };
    let firmware_dir = state.snapshot().firmware_dir.clone();
    let line_name = line.clone().unwrap_or_else(|| DEFAULT_LINE.to_string());
    let subject = audit_subject(version, &line_name);
    let worker = state.clone();
    let (who, what) = (operator.clone(), subject.clone());
    let key_line = line_name.clone();
    let outcome = web::block(move || -> Result<(bool, bool), PauseError> {
        let edit = rollout_pause::prepare(&firmware_dir, line.as_deref(), version, paused)?;
        if edit.unchanged() {
            return Ok((false, false));
        }
        // The halt (if any) holds the new settings before the file can be seen.
        let halted = carry_halt(&worker, &key_line, version, &edit.settings_after)?;
        edit.write()?;
        // Recorded the moment it is on disk: before the rescan that sees the edit.
        let done = if paused {
            audit_events::PAUSED
        } else {
            audit_events::RESUMED
        };
        record_action(&worker, &who, action, &what, Ok(done));
        Ok((true, halted))
    })
    .await
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    let (changed, halted) = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            let status = if error.is_not_found() {
                StatusCode::NOT_FOUND
            } else if error.is_failure() {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::CONFLICT
            };
            let refusal = Refusal::of(status, &error);
            record_action(state, operator, action, &subject, Err(&refusal.english));
            return Ok(refused(req, &refusal));
        }
    };
    let reload = if changed {
        reload_now(state, operator).await
    } else {
        None
    };
    let status = match (paused, changed) {
        (true, true) => "paused",
        (false, true) => "resumed",
        (true, false) => "already paused",
        (false, false) => "not paused",
    };
    if !changed {
        record_action(state, operator, action, &subject, Ok(status));
    }
    let mut body = serde_json::json!({
        "status": status,
        "version": version.as_u32(),
        "line": line_name,
        "halted": halted || state.admissions.halt(&line_name, version).is_some(),
    });
    if changed {
        body["reload"] = reload_json(reload.as_ref());
    }
    let done_key = if paused { "paused" } else { "resumed" };
    Ok(done(req, done_key, version, &line_name, body))
}

/// Carries a halt of the rollout over to `settings` (see `rollout_sql::carry_halt`);
/// whether it is halted. Without an inventory there are no halts. A store that does not
/// answer refuses the edit when this instance knows the rollout halted (the edit would
/// lift it), and lets it through otherwise.
fn carry_halt(
    state: &AppState,
    line: &str,
    version: Version,
    settings: &str,
) -> Result<bool, PauseError> {
    if !state.inventory.is_on() {
        return Ok(false);
    }
    match state
        .inventory
        .read(|db| rollout_sql::carry_halt(db, line, version.as_u32(), settings))
    {
        Ok(halted) => Ok(halted),
        Err(_) if state.admissions.halt(line, version).is_none() => Ok(false),
        Err(error) => Err(PauseError::HaltNotCarried(format!("{error:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::Service;
    use actix_web::{test, App, HttpMessage};

    /// A viewer is refused every release route with 403 and the role needed, before the
    /// handler or its body is looked at (no state is even there to reach).
    #[actix_web::test]
    async fn a_viewer_is_refused_every_release_route() {
        let app = test::init_service(
            App::new()
                .wrap_fn(|req, srv| {
                    req.extensions_mut().insert(Operator {
                        role: Role::Viewer,
                        ..Operator::open()
                    });
                    srv.call(req)
                })
                .configure(configure),
        )
        .await;
        for path in [
            "/releases",
            "/releases/20250301/withdraw",
            "/releases/20250301/pause",
            "/releases/20250301/resume?line=kassa",
        ] {
            let response =
                test::call_service(&app, test::TestRequest::post().uri(path).to_request()).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
            let body = test::read_body(response).await;
            let text = String::from_utf8_lossy(&body);
            assert!(
                text.contains(
                    "this needs the role publisher or above, and your token's role is viewer"
                ),
                "{path}: {text}"
            );
        }
    }
}
