//! The login page (templates/login.html, Russian first like the other pages): the form, who
//! is logged in with a logout button, or why a login is needed. Apart from the handlers
//! (`login`) because the guard shows it too: a browser refused for want of a token gets
//! this page (`unauthorized`).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::admin::admin_error::AdminError;
use crate::words::dashboard::{for_request, Text};

/// The paths the guard answers without a token (it still checks `Origin` and `Host`).
pub fn is_login_path(path: &str) -> bool {
    matches!(path, "/login" | "/logout")
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub t: &'a Text,
    /// Why the form is shown again (a wrong token), or why a login is needed.
    pub problem: Option<&'a str>,
    /// No token is configured: nothing to log in to.
    pub open: bool,
    /// "You are logged in as …": then a logout button instead of the form.
    pub signed_in: Option<String>,
    /// The logout form's CSRF token.
    pub csrf: String,
    /// From the page's path back to the listener's root (`../` per level below it), so
    /// that the form posts to `login` wherever the page is shown (and behind a proxy's
    /// prefix).
    pub root: String,
}

/// `../` for each level `path` is below the root: `/devices/123` -> `../`, `/x` -> ``.
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count().saturating_sub(1))
}

/// The page's words, in the language the browser asks for (Russian unless English).
pub fn words(req: &HttpRequest) -> &'static Text {
    for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The page with `status`; never cached (it may name who is logged in).
pub fn render(status: StatusCode, page: &LoginPage<'_>) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => actix_web::ResponseError::error_response(&AdminError::Internal(e.to_string())),
    }
}

/// The 401 a browser gets where a token is needed: the login page with why, and the
/// `WWW-Authenticate: Basic` that lets it ask for the token as a password (as before).
pub fn unauthorized(req: &HttpRequest) -> HttpResponse {
    let t = words(req);
    let mut response = render(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            t,
            problem: Some(t.pages.login_needed),
            open: false,
            signed_in: None,
            csrf: String::new(),
            root: root_of(req.path()),
        },
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"kkt-update-server\", charset=\"UTF-8\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_finds_login_from_any_page() {
        assert_eq!(root_of("/"), "");
        assert_eq!(root_of("/login"), "");
        assert_eq!(root_of("/devices/0000000000012345"), "../");
        assert_eq!(root_of("/a/b/c"), "../../");
    }
}
