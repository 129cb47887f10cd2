//! Who may use the admin listener: the operators' tokens, and the browser-borne attacks a
//! token alone does not stop. Every admin request passes `guard` first:
//!
//! 1. A request that changes state (anything but GET and HEAD: `POST /reload`) whose
//!    `Origin` or `Sec-Fetch-Site` says it comes from another site's page is refused, token
//!    or not: a browser attaches its cached Basic credentials to a cross-site form POST.
//!    Requests without those headers (curl, Prometheus, scripts) are not browsers' and pass.
//!    (Form posts with a browser's own credentials also need the form's CSRF token: see
//!    `admin::csrf`, which the handlers that change state call.)
//! 2. Without any token (no `operators:`, no `admin_token`), only requests whose `Host` is an
//!    IP address, `localhost`, or a name in `admin_hosts` are answered: through DNS
//!    rebinding, any web page could otherwise read `/devices.csv` from a listener on the
//!    operator's own machine. Whoever is answered is the `admin` named `local`.
//! 3. With tokens, the request must carry one (Bearer, or Basic with the token as the
//!    password and any user name), or the login form's session cookie. A token is hashed
//!    with SHA-256 and looked up among the operators' hashes: every hash is compared, in
//!    constant time, and the match is picked without a branch, so the answer's timing does
//!    not say which operator's hash (or how much of one) matched. It yields that operator,
//!    with its role and groups.
//!
//! The operators come from the state (`AppState::operators`), which a reload of
//! `server.yaml` replaces: a new, removed or demoted operator counts from the next request,
//! sessions included (a session holds the token's hash and is looked up again each time).
//! `/login` and `/logout` are answered without a token (after checks 1 and 2): they are
//! where one is given. A browser (`Accept: text/html`) refused for want of a token gets a
//! page pointing to `/login`, with the `WWW-Authenticate: Basic` that lets it ask for the
//! token as a password as before.

use std::net::IpAddr;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::admin::admin_error::AdminError;
use crate::admin::login_page;
use crate::admin::operator::{Credential, Operator};
use crate::admin::sessions::{self, LiveSession, Sessions};
use crate::app_state::AppState;
use crate::config::operators::{token_sha256, OperatorEntry, OperatorTable};

/// What the guard keeps for the listener's whole life (a restart applies changes): the
/// names answered without a token. (The login sessions are `web::Data<Sessions>`.)
pub struct AdminListener {
    /// `admin_hosts`: names answered without a token besides IP literals and `localhost`.
    pub hosts: Vec<String>,
}

/// What the decision needs: who may come in, and the names answered without a token.
#[derive(Clone, Copy, Debug)]
pub struct AdminAccess<'a> {
    /// Empty: no token is needed (then the `Host` check applies).
    pub operators: &'a OperatorTable,
    pub hosts: &'a [String],
}

/// The middleware: refuses what `decide` refuses, passes the rest on with its `Operator`.
pub async fn guard(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let (Some(state), Some(listener), Some(sessions)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<AdminListener>>().cloned(),
        req.app_data::<web::Data<Sessions>>().cloned(),
    ) else {
        // Never open by accident: a listener set up without them refuses everything.
        let refusal = AdminError::Internal("the admin listener has no access settings".into());
        let response = actix_web::ResponseError::error_response(&refusal);
        return Ok(req.into_response(response).map_into_right_body());
    };
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let session = header(header::COOKIE)
        .as_deref()
        .and_then(sessions::cookie_id)
        .and_then(|id| sessions.find(id));
    let request = Seen {
        changes_state: !matches!(*req.method(), Method::GET | Method::HEAD),
        host: header(header::HOST),
        origin: header(header::ORIGIN),
        fetch_site: header(header::HeaderName::from_static("sec-fetch-site")),
        authorization: header(header::AUTHORIZATION),
        session,
    };
    let operators = state.operators();
    let access = AdminAccess {
        operators: &operators,
        hosts: &listener.hosts,
    };
    match decide(access, &request) {
        Ok(operator) => {
            req.extensions_mut().insert(operator);
        }
        // Where a token is given: answered without one.
        Err(AdminError::Unauthorized) if login_page::is_login_path(req.path()) => {}
        Err(refusal) => {
            if refusal == AdminError::Unauthorized && request.authorization.is_some() {
                // A token was presented and is no operator's: a failed login.
                crate::admin::login::login_failed(req.request(), &state, "Authorization");
            }
            let wants_html = header(header::ACCEPT).is_some_and(|a| a.contains("text/html"));
            let response = if refusal == AdminError::Unauthorized && wants_html {
                login_page::unauthorized(req.request())
            } else {
                actix_web::ResponseError::error_response(&refusal)
            };
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The headers the decision looks at, as sent, and the live session the cookie named.
#[derive(Debug, Default)]
pub struct Seen {
    pub changes_state: bool,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub fetch_site: Option<String>,
    pub authorization: Option<String>,
    pub session: Option<LiveSession>,
}

/// The whole rule, pure so that tests can call it: who the request comes from, or why it
/// is refused. An `Authorization` header decides when there is one (a wrong token is
/// refused even beside a live session); else the session; else nobody.
pub fn decide(access: AdminAccess<'_>, seen: &Seen) -> Result<Operator, AdminError> {
    if seen.changes_state {
        cross_site_check(seen)?;
    }
    if access.operators.is_empty() {
        return host_check(access.hosts, seen.host.as_deref()).map(|()| Operator::open());
    }
    if let Some(authorization) = seen.authorization.as_deref() {
        let (token, credential) = presented_token(authorization).ok_or(AdminError::Unauthorized)?;
        // An empty token (`Basic` with an empty password, `Bearer ` alone) is no operator's,
        // whatever hash `operators:` holds.
        if token.trim().is_empty() {
            return Err(AdminError::Unauthorized);
        }
        let hash = token_sha256(token.trim());
        let entry = access
            .operators
            .find_by_hash(&hash)
            .ok_or(AdminError::Unauthorized)?;
        return Ok(operator(entry, credential, hash));
    }
    if let Some(session) = seen.session {
        let entry = access
            .operators
            .find_by_hash(&session.token_sha256)
            .ok_or(AdminError::Unauthorized)?;
        return Ok(operator(entry, Credential::Session, session.id_sha256));
    }
    Err(AdminError::Unauthorized)
}

fn operator(entry: &OperatorEntry, credential: Credential, proof: [u8; 32]) -> Operator {
    Operator {
        name: entry.name.clone(),
        role: entry.role,
        groups: entry.groups.clone(),
        credential,
        proof,
    }
}

/// Refuses a state-changing request a browser sent from another site's page.
fn cross_site_check(seen: &Seen) -> Result<(), AdminError> {
    if let Some(site) = seen.fetch_site.as_deref().map(str::trim) {
        // `none`: typed in the address bar or a bookmark; `same-origin`: the dashboard.
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Err(AdminError::CrossSite);
        }
    }
    let Some(origin) = seen.origin.as_deref().map(str::trim) else {
        return Ok(());
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'));
    match (authority, seen.host.as_deref().map(str::trim)) {
        (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => Ok(()),
        // `Origin: null` (a sandboxed frame, a file:// page), another site, or no Host to
        // compare with.
        _ => Err(AdminError::CrossSite),
    }
}

/// Without a token: only an IP literal, `localhost` or a name from `admin_hosts`.
fn host_check(hosts: &[String], host: Option<&str>) -> Result<(), AdminError> {
    // No Host header at all (HTTP/1.0 scripts) is no browser: DNS rebinding needs a name.
    let Some(host) = host.map(str::trim) else {
        return Ok(());
    };
    let name = host_name(host).to_ascii_lowercase();
    let allowed = name.parse::<IpAddr>().is_ok() || name == "localhost" || hosts.contains(&name);
    if allowed {
        Ok(())
    } else {
        Err(AdminError::HostNotAllowed(shown(host)))
    }
}

/// `Host` without its port: `[::1]:8889` -> `::1`, `127.0.0.1:8889` -> `127.0.0.1`.
/// Anything after a bracketed address but a port (`[::1]attacker.example`) leaves the
/// whole text, which is no address: only what a browser sends may pass for one.
fn host_name(host: &str) -> &str {
    let is_port = |port: &str| port.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((address, "")) => address,
            Some((address, port)) if port.strip_prefix(':').is_some_and(is_port) => address,
            _ => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        _ => host,
    }
}

/// A header value fit to quote back in an error: printable ASCII, at most 100 characters.
fn shown(value: &str) -> String {
    value
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// The token an `Authorization` header carries: `Bearer <token>`, or `Basic` with
/// base64 of `<any user>:<token>`.
fn presented_token(header: &str) -> Option<(String, Credential)> {
    use base64::Engine;
    if let Some(token) = header.strip_prefix("Bearer ") {
        return Some((token.to_string(), Credential::Bearer));
    }
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_user, password) = text.split_once(':')?;
    Some((password.to_string(), Credential::Basic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::operator::Role;

    const HOSTS: &[String] = &[];

    fn listed() -> Vec<String> {
        vec!["kkt-admin.example.ru".into()]
    }

    fn open_table() -> OperatorTable {
        OperatorTable::default()
    }

    fn entry(name: &str, token: &str, role: Role, groups: Option<&[&str]>) -> OperatorEntry {
        OperatorEntry {
            name: name.into(),
            token_sha256: token_sha256(token),
            role,
            groups: groups.map(|g| g.iter().map(|s| s.to_string()).collect()),
        }
    }

    /// Three operators and `admin_token`.
    fn table() -> OperatorTable {
        OperatorTable::new(
            &[
                entry("Иванов", "ivanov-token-0123456789", Role::Admin, None),
                entry(
                    "Ромашка ИТ",
                    "romashka-token-0123456789",
                    Role::Viewer,
                    Some(&["ООО Ромашка"]),
                ),
                entry("Сборка", "build-token-0123456789", Role::Publisher, None),
            ],
            Some("s3cret-token-for-tests"),
        )
    }

    fn post(host: &str, origin: Option<&str>, site: Option<&str>) -> Seen {
        Seen {
            changes_state: true,
            host: Some(host.into()),
            origin: origin.map(Into::into),
            fetch_site: site.map(Into::into),
            ..Seen::default()
        }
    }

    fn with_auth(auth: Option<&str>) -> Seen {
        Seen {
            host: Some("anything.example".into()),
            authorization: auth.map(Into::into),
            ..Seen::default()
        }
    }

    #[test]
    fn bearer_and_basic_carry_the_token() {
        assert_eq!(
            presented_token("Bearer abc"),
            Some(("abc".into(), Credential::Bearer))
        );
        // "admin:s3cret" and ":s3cret" (no user name).
        assert_eq!(
            presented_token("Basic YWRtaW46czNjcmV0"),
            Some(("s3cret".into(), Credential::Basic))
        );
        assert_eq!(
            presented_token("Basic OnMzY3JldA=="),
            Some(("s3cret".into(), Credential::Basic))
        );
        assert_eq!(presented_token("Basic !!!"), None);
        assert_eq!(presented_token("Digest x"), None);
    }

    #[test]
    fn without_a_token_only_addresses_localhost_and_listed_names_are_answered() {
        let (table, hosts) = (open_table(), listed());
        let access = AdminAccess {
            operators: &table,
            hosts: &hosts,
        };
        for host in [
            "127.0.0.1:8889",
            "127.0.0.1",
            "[::1]:8889",
            "10.0.0.5",
            "localhost:8889",
            "LOCALHOST",
            "kkt-admin.example.ru:8889",
        ] {
            let seen = Seen {
                host: Some(host.into()),
                ..Seen::default()
            };
            assert_eq!(decide(access, &seen), Ok(Operator::open()), "{host}");
        }
        for host in [
            "attacker.example",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "evil\n",
            "[::1]attacker.example",
            "[::1]:80.attacker.example",
            "[::1",
        ] {
            let seen = Seen {
                host: Some(host.into()),
                ..Seen::default()
            };
            assert!(
                matches!(decide(access, &seen), Err(AdminError::HostNotAllowed(_))),
                "{host}"
            );
        }
        assert_eq!(
            decide(access, &Seen::default()),
            Ok(Operator::open()),
            "no Host: curl -0"
        );
    }

    #[test]
    fn cross_site_state_changes_are_refused_token_or_not() {
        let (open, with_token) = (open_table(), table());
        let open = AdminAccess {
            operators: &open,
            hosts: HOSTS,
        };
        let with_token = AdminAccess {
            operators: &with_token,
            hosts: HOSTS,
        };
        let basic = Some("Bearer s3cret-token-for-tests".to_string());
        for seen in [
            post("127.0.0.1:8889", Some("http://attacker.example"), None),
            post("127.0.0.1:8889", Some("null"), None),
            post("127.0.0.1:8889", None, Some("cross-site")),
            post("127.0.0.1:8889", None, Some("same-site")),
            post(
                "127.0.0.1:8889",
                Some("http://127.0.0.1:8889"),
                Some("cross-site"),
            ),
        ] {
            assert_eq!(decide(open, &seen), Err(AdminError::CrossSite), "{seen:?}");
            let seen = Seen {
                authorization: basic.clone(),
                ..seen
            };
            assert_eq!(
                decide(with_token, &seen),
                Err(AdminError::CrossSite),
                "{seen:?}"
            );
        }
        for seen in [
            post("127.0.0.1:8889", None, None),
            post(
                "127.0.0.1:8889",
                Some("http://127.0.0.1:8889"),
                Some("same-origin"),
            ),
            post("127.0.0.1:8889", None, Some("none")),
        ] {
            assert_eq!(decide(open, &seen), Ok(Operator::open()), "{seen:?}");
        }
        // Reading is not changing: a cross-site GET is left to the browser's same-origin
        // rule (and the Host check).
        let read = Seen {
            changes_state: false,
            ..post(
                "127.0.0.1:8889",
                Some("http://attacker.example"),
                Some("cross-site"),
            )
        };
        assert_eq!(decide(open, &read), Ok(Operator::open()));
    }

    #[test]
    fn each_token_yields_its_operator_and_a_wrong_or_missing_one_is_refused() {
        let table = table();
        let access = AdminAccess {
            operators: &table,
            hosts: HOSTS,
        };
        let who = |auth: &str| decide(access, &with_auth(Some(auth)));
        let admin = who("Bearer s3cret-token-for-tests").unwrap();
        assert_eq!((admin.name.as_str(), admin.role), ("admin", Role::Admin));
        assert_eq!(admin.credential, Credential::Bearer);
        assert_eq!(admin.proof, token_sha256("s3cret-token-for-tests"));
        let viewer = who("Bearer romashka-token-0123456789").unwrap();
        assert_eq!(viewer.name, "Ромашка ИТ");
        assert_eq!(viewer.role, Role::Viewer);
        assert_eq!(viewer.groups, Some(vec!["ООО Ромашка".to_string()]));
        assert_eq!(
            viewer.require(Role::Admin),
            Err(AdminError::Forbidden {
                needed: Role::Admin,
                role: Role::Viewer
            })
        );
        // Basic: any user name, the token as the password ("x:build-token-0123456789").
        let publisher = who("Basic eDpidWlsZC10b2tlbi0wMTIzNDU2Nzg5").unwrap();
        assert_eq!(
            (
                publisher.name.as_str(),
                publisher.role,
                publisher.credential
            ),
            ("Сборка", Role::Publisher, Credential::Basic)
        );
        assert_eq!(
            who("Bearer  ivanov-token-0123456789 ").map(|o| o.name),
            Ok("Иванов".to_string())
        );
        for wrong in [
            "Bearer s3cret-token-for-test",
            "Bearer s3cret-token-for-tests2",
            "Bearer ",
            "Bearer IVANOV-TOKEN-0123456789",
            // The hash itself is not the token.
            "Bearer 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
            "Digest ivanov-token-0123456789",
        ] {
            assert_eq!(who(wrong), Err(AdminError::Unauthorized), "{wrong}");
        }
        assert_eq!(
            decide(access, &with_auth(None)),
            Err(AdminError::Unauthorized)
        );
    }

    #[test]
    fn a_session_yields_its_operator_while_the_operator_is_in_the_table() {
        let table = table();
        let access = AdminAccess {
            operators: &table,
            hosts: HOSTS,
        };
        let session = LiveSession {
            token_sha256: token_sha256("romashka-token-0123456789"),
            id_sha256: [9; 32],
        };
        let seen = Seen {
            session: Some(session),
            ..with_auth(None)
        };
        let viewer = decide(access, &seen).unwrap();
        assert_eq!(
            (viewer.name.as_str(), viewer.credential, viewer.proof),
            ("Ромашка ИТ", Credential::Session, [9; 32])
        );
        // A wrong Authorization beside a live session is refused: the header decides.
        let both = Seen {
            session: Some(session),
            ..with_auth(Some("Bearer wrong-token-0123456789"))
        };
        assert_eq!(decide(access, &both), Err(AdminError::Unauthorized));
        // The operator left operators: (a reload): the session opens nothing.
        let smaller = OperatorTable::new(&[], Some("s3cret-token-for-tests"));
        let access = AdminAccess {
            operators: &smaller,
            hosts: HOSTS,
        };
        assert_eq!(decide(access, &seen), Err(AdminError::Unauthorized));
        // Operators configured: the open mode is off, also for 127.0.0.1.
        let local = Seen {
            host: Some("127.0.0.1:8889".into()),
            ..Seen::default()
        };
        assert_eq!(decide(access, &local), Err(AdminError::Unauthorized));
    }

    /// Even an entry holding the hash of the empty text (refused by the configuration,
    /// but a table can be built without it) opens nothing to an empty password.
    #[test]
    fn an_empty_token_is_no_operators() {
        let table = OperatorTable::new(&[entry("x", "", Role::Admin, None)], None);
        let access = AdminAccess {
            operators: &table,
            hosts: HOSTS,
        };
        // ":" and "anyone:" in Basic, and Bearer with nothing or spaces.
        for empty in ["Basic Og==", "Basic YW55b25lOg==", "Bearer ", "Bearer    "] {
            assert_eq!(
                decide(access, &with_auth(Some(empty))),
                Err(AdminError::Unauthorized),
                "{empty}"
            );
        }
    }

    #[test]
    fn the_lookup_finds_every_entry_and_nothing_else() {
        let table = table();
        for entry in table.entries() {
            assert_eq!(table.find_by_hash(&entry.token_sha256), Some(entry));
        }
        let mut near = table.entries()[0].token_sha256;
        near[31] ^= 1;
        assert_eq!(table.find_by_hash(&near), None);
        assert_eq!(open_table().find_by_hash(&near), None);
    }
}
