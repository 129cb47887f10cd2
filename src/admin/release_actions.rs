//! `POST /releases/<version>/withdraw`, `/pause`, `/resume` (`?line=NAME` for a named
//! line), registered by `release_routes`: what the `withdraw` command does
//! (`publishing::withdraw`), and `paused:` set in the release's `rollout:`
//! (`publishing::rollout_pause`), an automatic halt carried over, never cleared. Each takes
//! the one change lock (`release_answers::CHANGES`) and is recorded the moment it is on
//! disk (see `release_routes` for the whole contract).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::operator::{Operator, Role};
use crate::admin::release_answers::{
    audit_subject, done, record_action, refused, reload_json, reload_now, Refusal, CHANGES,
};
use crate::app_state::AppState;
use crate::audit::Action as Audited;
use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::line_folders;
use crate::model::lang::{fill, InLanguage, Lang};
use crate::model::version::Version;
use crate::publishing::offer_summary::offered_now;
use crate::publishing::rollout_pause::{self, PauseError};
use crate::publishing::withdraw::{withdraw_by, WithdrawError};
use crate::store::audit_events;
use crate::store::rollout_sql;
use crate::words::cli::OperatorText;

/// The largest body a withdraw, pause or resume reads (a form with its CSRF token).
pub(crate) const ACTION_FORM_MAX: usize = 4 * 1024;

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
pub(crate) async fn release_action(
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
