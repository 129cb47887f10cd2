//! Who is asking on the admin listener, and what their role lets them do. The access guard
//! decides who a request comes from and leaves an `Operator` in the request's extensions;
//! handlers take it as an argument and ask `require` before they change anything. Roles
//! are ordered: a `publisher` may do all a `viewer` may, an `admin` all a `publisher` may.
//!
//! Which route needs which role (each handler asks `require`, or takes the `viewer` the
//! guard lets through):
//!
//! | role | routes |
//! | --- | --- |
//! | none (the guard's cross-site and `Host` checks only) | `GET /login`, `POST /login`, `POST /logout` |
//! | `viewer` | `GET /` (the dashboard), `/status`, `/metrics`, `/healthz`, `/readyz`, `/devices*` (the lists, `.csv`, `.xlsx`, a register's page), `/history*`, `/serials*`, every other read |
//! | `publisher` | `GET /audit*`, `POST /releases`, `POST /releases/<version>/withdraw\|pause\|resume`, `GET /releases/<version>/withdraw` (its confirmation page) |
//! | `admin` | `POST /reload` |
//!
//! Every operator the guard lets through is at least a `viewer`, so reads need no `require`
//! of their own. A viewer's `groups` is carried here for the lists and exports to filter by
//! (`Operator::groups`); a handler that shows devices must honour it.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::Serialize;

use crate::admin::admin_error::AdminError;

pub use crate::model::role::Role;

/// How the request proved who it is. Credentials a browser attaches by itself (a session
/// cookie, cached Basic) are what a cross-site form post rides on: those requests must
/// carry the form's CSRF token too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// No token is configured: the listener is open to whoever reaches it (its `Host`
    /// checked against DNS rebinding).
    Open,
    /// `Authorization: Bearer <token>`: scripts, Prometheus, the commands.
    Bearer,
    /// HTTP Basic with the token as the password: a browser's cached login.
    Basic,
    /// The session cookie the login form set.
    Session,
}

impl Credential {
    /// The browser sends it by itself, also with a request another site's page makes.
    pub fn is_ambient(self) -> bool {
        matches!(self, Credential::Basic | Credential::Session)
    }
}

/// The operator a request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// The entry's `name:` (`admin` for `admin_token`, `local` when no token is set): what
    /// the audit trail records as the actor.
    pub name: String,
    pub role: Role,
    /// The groups a `viewer` is limited to; `None`: every device.
    pub groups: Option<Vec<String>>,
    pub credential: Credential,
    /// What proved it, for the CSRF token to be bound to (`admin::csrf`): the SHA-256 of
    /// the session's id, or of the token; zeros for the open listener. Never shown.
    #[serde(skip)]
    pub proof: [u8; 32],
}

impl Operator {
    /// Whoever reaches an admin listener without a token: an admin (today's behaviour of
    /// a listener without `admin_token`, bound to 127.0.0.1 by default).
    pub fn open() -> Operator {
        Operator {
            name: "local".to_string(),
            role: Role::Admin,
            groups: None,
            credential: Credential::Open,
            proof: [0; 32],
        }
    }

    /// Refuses, with 403 and the role needed, an operator whose role is below `needed`.
    pub fn require(&self, needed: Role) -> Result<(), AdminError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(AdminError::Forbidden {
                needed,
                role: self.role,
            })
        }
    }
}

/// Handlers take `operator: Operator`: the one the guard found. A request the guard did
/// not mark (it marks every request it lets through) is nobody's and gets the lowest role,
/// limited to no group at all: a handler that forgot the guard shows nothing.
impl FromRequest for Operator {
    type Error = AdminError;
    type Future = Ready<Result<Operator, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = req.extensions().get::<Operator>().cloned();
        ready(Ok(found.unwrap_or_else(|| Operator {
            name: String::new(),
            role: Role::Viewer,
            groups: Some(Vec::new()),
            credential: Credential::Open,
            proof: [0; 32],
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_require_refuses_below() {
        let viewer = Operator {
            role: Role::Viewer,
            ..Operator::open()
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert_eq!(
            viewer.require(Role::Publisher),
            Err(AdminError::Forbidden {
                needed: Role::Publisher,
                role: Role::Viewer
            })
        );
        let publisher = Operator {
            role: Role::Publisher,
            ..Operator::open()
        };
        assert!(publisher.require(Role::Publisher).is_ok());
        assert!(publisher.require(Role::Admin).is_err());
        assert!(Operator::open().require(Role::Admin).is_ok());
    }
}
