//! The login form: `GET /login` (a page, Russian first), `POST /login` with the token (a
//! session cookie, see `sessions`), `POST /logout`. Browsers that log in with Basic (any
//! user name, the token as the password) keep doing so; the form is for those that should
//! not keep a password prompt's credentials for the day, and for a page that says who is
//! logged in. A wrong token is answered at once (tokens are 256 random bits: guessing is
//! hopeless, and a delay would only slow the operator down), and counted: in
//! `kkt_admin_login_failures_total`, the log, and the audit trail (`login_failed`, as
//! `login_failures` limits it: a flood of wrong tokens cannot fill the trail).

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use log::{info, warn};

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::login_failures::{
    LoginFailures, Summary, Verdict, PER_ADDRESS_EVERY, RECORDS_PER_MINUTE,
};
use crate::admin::login_page::{render as page, words, LoginPage};
use crate::admin::operator::Operator;
use crate::admin::sessions::{self, Sessions};
use crate::app_state::AppState;
use crate::audit::{Action, AuditEntry};
use crate::config::operators::token_sha256;
use crate::model::lang::fill;
use crate::store::audit_events::UNKNOWN;
use crate::words::log::LogText;

/// The largest login or logout form read (a token is 60-odd characters).
const FORM_MAX: usize = 4 * 1024;

/// Registers `/login` and `/logout`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .app_data(web::PayloadConfig::new(FORM_MAX))
            .route(web::get().to(login_page))
            .route(web::head().to(login_page))
            .route(web::post().to(login))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed {
                    allow: "GET, HEAD, POST",
                })
            })),
    );
    cfg.service(
        web::resource("/logout")
            .app_data(web::PayloadConfig::new(FORM_MAX))
            .route(web::post().to(logout))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "POST" })
            })),
    );
}

/// `GET /login`: the form; or, to an operator already in, who they are and a logout button.
async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let t = words(&req);
    let operator = req.extensions_operator();
    let signed_in = operator.as_ref().map(|o| {
        fill(
            t.pages.login_signed_in,
            &[("name", &o.name), ("role", &o.role.name())],
        )
    });
    let csrf = operator
        .as_ref()
        .and_then(|o| csrf::token_for_request(&req, o))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        &LoginPage {
            t,
            problem: None,
            open: state.operators().is_empty(),
            signed_in,
            csrf,
            root: String::new(),
        },
    )
}

/// The operator the guard found, if it found one (`/login` is also answered without).
trait GuardOperator {
    fn extensions_operator(&self) -> Option<Operator>;
}

impl GuardOperator for HttpRequest {
    fn extensions_operator(&self) -> Option<Operator> {
        actix_web::HttpMessage::extensions(self)
            .get::<Operator>()
            .cloned()
    }
}

/// `POST /login` with the form field `token`: a session for its operator, and back to the
/// dashboard; a token no operator has: the form again, 401.
async fn login(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    sessions: web::Data<Sessions>,
) -> HttpResponse {
    let t = words(&req);
    let operators = state.operators();
    if operators.is_empty() {
        return see_other("./");
    }
    let token = csrf::form_urlencoded_field(&body, "token").unwrap_or_default();
    let hash = token_sha256(token.trim());
    let found = (!token.trim().is_empty())
        .then(|| operators.find_by_hash(&hash))
        .flatten();
    let Some(entry) = found else {
        login_failed(&req, &state, "the login form");
        return page(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                t,
                problem: Some(t.pages.login_wrong),
                open: false,
                signed_in: None,
                csrf: String::new(),
                root: String::new(),
            },
        );
    };
    let Some(id) = sessions.create(hash) else {
        return actix_web::ResponseError::error_response(&AdminError::Internal(
            "no random bytes from the system for a session id".into(),
        ));
    };
    info!(
        "{}",
        fill(
            log_words().login_done,
            &[
                ("name", &entry.name.escape_debug()),
                ("role", &entry.role.name()),
                ("peer", &peer(&req)),
            ]
        )
    );
    let mut response = see_other("./");
    if let Ok(cookie) = header::HeaderValue::from_str(&sessions.cookie(&id)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Where a refused login is known: the token (never shown, never logged, never recorded) is
/// no operator's: the login form's, or an `Authorization` header's (the guard). Counted in
/// `kkt_admin_login_failures_total`, logged with the peer's address, and recorded in the
/// audit trail as `login_failed` when `LoginFailures` lets it (else summed up a minute
/// later in one record).
pub fn login_failed(req: &HttpRequest, state: &web::Data<AppState>, how: &str) {
    state.metrics.admin_login_failed();
    let peer_text = peer(req);
    // Logged as often as recorded: a flood of wrong tokens must not fill the log either
    // (the metric counts every one; the summary record sums up the rest).
    let log = || {
        warn!(
            "{}",
            fill(log_words().login_failed, &[("peer", &peer_text)])
        )
    };
    let Some(failures) = req.app_data::<web::Data<LoginFailures>>().cloned() else {
        log();
        return;
    };
    let now = crate::model::clock::unix_now();
    match failures.failed(req.peer_addr().map(|a| a.ip()), now) {
        Verdict::Record => {
            log();
            state.inventory.audit(AuditEntry::new(
                UNKNOWN,
                Action::LoginFailed,
                &format!("from {peer_text}"),
                &format!("refused: {how}: the token is no operator's"),
            ))
        }
        Verdict::Count { first: false } => {}
        Verdict::Count { first: true } => {
            let state = state.clone();
            actix_web::rt::spawn(async move {
                actix_web::rt::time::sleep(std::time::Duration::from_secs(PER_ADDRESS_EVERY)).await;
                if let Some(summary) = failures.take_summary() {
                    state.inventory.audit(summary_entry(&summary));
                }
            });
        }
    }
}

/// The record of the failures `LoginFailures` left out.
fn summary_entry(summary: &Summary) -> AuditEntry {
    AuditEntry::new(
        UNKNOWN,
        Action::LoginFailed,
        &format!("from {} address(es)", summary.addresses),
        &format!(
            "refused: {} more failed logins since {} (unix {}), not recorded one by one: at \
             most one a minute per address and {RECORDS_PER_MINUTE} a minute in all",
            summary.count,
            crate::model::unix_time::local_text(summary.since),
            summary.since
        ),
    )
}

/// `POST /logout`: ends the session (with the form's CSRF token when there is one to end)
/// and forgets the cookie; back to the login page.
async fn logout(
    req: HttpRequest,
    body: web::Bytes,
    sessions: web::Data<Sessions>,
) -> Result<HttpResponse, AdminError> {
    let operator = req.extensions_operator();
    if let Some(operator) = operator.as_ref() {
        csrf::check(&req, operator, csrf::given(&req, Some(&body)).as_deref())?;
    }
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(sessions::cookie_id)
        .map(str::to_string);
    // The session the cookie names ends, however the request proved itself (it passed the
    // CSRF check above when there was anyone to check).
    if let Some(id) = cookie {
        sessions.end(&id);
    }
    let mut response = see_other("login");
    if let Ok(cookie) = header::HeaderValue::from_str(&sessions.clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

fn see_other(location: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The peer's address, for the log (never a header's word).
fn peer(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "?".to_string(), |a| a.ip().to_string())
}

fn log_words() -> &'static LogText {
    crate::words::Words::of(crate::model::lang::Lang::operator()).log
}
