//! The withdraw button's confirmation: `GET /releases/<version>/withdraw[?line=NAME]` (role
//! `publisher`, like the post it leads to) is a page saying what withdrawing does, with the
//! button that posts it and a way back. A second page rather than a script's `confirm()`:
//! the dashboard has no script, and a page works with none.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::login_page::words;
use crate::admin::operator::{Operator, Role};
use crate::app_state::AppState;
use crate::catalog::device_line::DEFAULT_LINE;
use crate::model::lang::fill;
use crate::model::version::Version;
use crate::words::dashboard::Text;

#[derive(Template)]
#[template(path = "withdraw.html")]
struct WithdrawPage {
    t: &'static Text,
    text: String,
    /// Where the button posts, relative to the page: `withdraw` or `withdraw?line=…`.
    action: String,
    csrf: String,
}

/// `GET /releases/<version>/<action>`: the confirmation page for `withdraw`; the other
/// actions are posted straight from the dashboard.
pub async fn page(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    operator.require(Role::Publisher)?;
    let (version_text, action) = path.into_inner();
    if action != "withdraw" {
        return Err(AdminError::MethodNotAllowed { allow: "POST" });
    }
    let Some(version) = Version::parse_folder_name(&version_text) else {
        return Err(AdminError::NotFound(format!(
            "{}: a release is named by its date, yyyymmdd, like /releases/20250301/withdraw",
            req.path()
        )));
    };
    let line =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("line").cloned())
            .filter(|l| !l.is_empty());
    // Only a release that is published: a link cannot make the page say anything else.
    let line_name = line.as_deref().unwrap_or(DEFAULT_LINE);
    let published = state.snapshot().all_lines().any(|view| {
        view.name == line_name && view.releases.published().any(|r| r.version == version)
    });
    if !published {
        return Err(AdminError::NotFound(format!(
            "{}: no release {version} is published{}",
            req.path(),
            line.as_deref()
                .map(|l| format!(" in the line {:?}", l.chars().take(64).collect::<String>()))
                .unwrap_or_default()
        )));
    }
    let t = words(&req);
    let line_shown = line.as_deref().unwrap_or(t.default_line);
    let action = match &line {
        Some(line) => format!(
            "withdraw?line={}",
            percent_encoding::utf8_percent_encode(line, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => "withdraw".to_string(),
    };
    let page = WithdrawPage {
        t,
        text: fill(
            t.pages.forms_withdraw_text,
            &[
                ("version", &t.date(&version.as_u32())),
                ("line", &line_shown),
            ],
        ),
        action,
        csrf: csrf::token_for_request(&req, &operator).unwrap_or_default(),
    }
    .render()
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page))
}
