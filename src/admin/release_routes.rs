//! Publishing from the admin listener, for the role `publisher` and above:
//!
//! - `POST /releases`: a `multipart/form-data` upload (`release_upload`) published by the
//!   very function the `publish` command runs (`publishing::publish`);
//! - `POST /releases/<version>/withdraw`, `/pause`, `/resume`, with `?line=NAME` for a named
//!   line (`release_actions`): what `withdraw` does (`publishing::withdraw`), and `paused:`
//!   set in the release's `rollout:` (`publishing::rollout_pause`; an automatic halt is
//!   carried over, never cleared).
//!
//! This file registers both and receives the upload; what both answer and record alike
//! (refusals, the audit record, JSON or 303, the reload, the change lock) is
//! `release_answers`.
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

use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{guard, web, HttpRequest, HttpResponse, ResponseError};

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::operator::{Operator, Role};
use crate::admin::release_actions::{release_action, ACTION_FORM_MAX};
use crate::admin::release_answers::{
    audit_subject, done, record_action, refused, reload_json, reload_now, Refusal, CHANGES,
};
use crate::admin::release_upload::read_form;
use crate::app_state::{AppState, ReloadRecord};
use crate::audit::Action as Audited;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::lang::Lang;
use crate::publishing::offer_summary::offer_summary;
use crate::publishing::publish::{publish, Given, PublishError, Published};
use crate::publishing::staging::Written;

/// One upload received at a time (its files are on disk until it is published or refused).
static RECEIVING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// How long an upload may take to arrive: a slow sender must not hold `RECEIVING` forever.
pub const UPLOAD_TIME_MAX: Duration = Duration::from_secs(300);
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
