//! Every error the admin listener answers, as JSON `{"error": "…"}` with the right status.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::json_error;
use crate::model::role::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// `admin_token` is set and the request lacks `Authorization: Bearer <token>`, or has
    /// another token.
    Unauthorized,
    /// The operator's role is below what the request needs (a viewer asking to reload).
    Forbidden { needed: Role, role: Role },
    /// A state-changing request sent by another site's page (`Origin`, `Sec-Fetch-Site`).
    CrossSite,
    /// A form post with a browser's own credentials without the form's CSRF token, or with
    /// a wrong one (`admin::csrf`).
    CsrfMissing,
    /// No token is configured and `Host` is not an address, `localhost` or in `admin_hosts`
    /// (what DNS rebinding looks like); the value is the Host, made printable.
    HostNotAllowed(String),
    /// Not ready to serve devices (no release published); the reason says why.
    NotReady(String),
    /// Nothing is served at this path.
    NotFound(String),
    /// The method is not one this path answers; `allow` lists those it does (`GET, HEAD`).
    MethodNotAllowed { allow: &'static str },
    /// A query parameter is wrong; the message names it, the value and the expected form.
    BadQuery(String),
    /// The inventory is off or cannot be read; the message says which.
    InventoryUnavailable(String),
    /// A bug of ours; the message says what failed.
    Internal(String),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Unauthorized => write!(
                f,
                "missing or wrong admin token; send Authorization: Bearer <token>, log in at \
                 /login, or give any user name and the token as the password"
            ),
            AdminError::Forbidden { needed, role } => write!(
                f,
                "refused: this needs the role {} or above, and your token's role is {}; ask \
                 an admin for a token with that role",
                needed.name(),
                role.name()
            ),
            AdminError::CrossSite => write!(
                f,
                "refused: this request changes the server's state and was sent by another \
                 site's page (Origin or Sec-Fetch-Site say so); use the dashboard itself, or \
                 curl"
            ),
            AdminError::CsrfMissing => write!(
                f,
                "refused: this form post changes the server's state and does not carry the \
                 form's CSRF token (field csrf), or carries another session's; reload the page \
                 and send the form again, or from a script use Authorization: Bearer <token>"
            ),
            AdminError::HostNotAllowed(host) => write!(
                f,
                "refused: the admin listener has no admin_token, so it answers only requests \
                 addressed to an IP address or localhost, and Host {host:?} is neither; open \
                 it by address (like http://127.0.0.1:8889/), add the name to admin_hosts, \
                 or set admin_token"
            ),
            AdminError::NotReady(reason) => write!(f, "not ready: {reason}"),
            AdminError::NotFound(path) => write!(f, "not found: {path}"),
            AdminError::MethodNotAllowed { allow } => {
                write!(
                    f,
                    "method not allowed here; use {}",
                    allow.replace(", ", " or ")
                )
            }
            AdminError::Internal(e) => write!(f, "internal error: {e}"),
            AdminError::BadQuery(message) => write!(f, "{message}"),
            AdminError::InventoryUnavailable(why) => write!(f, "inventory unavailable: {why}"),
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::Forbidden { .. }
            | AdminError::CrossSite
            | AdminError::CsrfMissing
            | AdminError::HostNotAllowed(_) => StatusCode::FORBIDDEN,
            AdminError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::BadQuery(_) => StatusCode::BAD_REQUEST,
            AdminError::InventoryUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let extra = match self {
            AdminError::Unauthorized => {
                // Basic, so that a browser asks for the password (the token); scripts
                // and Prometheus send Bearer, which is accepted as well.
                Some((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Basic realm=\"kkt-update-server\", charset=\"UTF-8\"",
                    ),
                ))
            }
            AdminError::MethodNotAllowed { allow } => {
                Some((header::ALLOW, HeaderValue::from_static(allow)))
            }
            _ => None,
        };
        json_error::response(self.status_code(), &self.to_string(), extra)
    }
}
