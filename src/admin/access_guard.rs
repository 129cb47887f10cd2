//! Who may use the admin listener: the token, and the browser-borne attacks a token alone
//! does not stop. Every admin request passes `guard` first:
//!
//! 1. A request that changes state (anything but GET and HEAD: `POST /reload`) whose
//!    `Origin` or `Sec-Fetch-Site` says it comes from another site's page is refused, token
//!    or not: a browser attaches its cached Basic credentials to a cross-site form POST.
//!    Requests without those headers (curl, Prometheus, scripts) are not browsers' and pass.
//! 2. Without a token, only requests whose `Host` is an IP address, `localhost`, or a name
//!    in `admin_hosts` are answered: through DNS rebinding, any web page could otherwise
//!    read `/devices.csv` from a listener on the operator's own machine.
//! 3. With a token, the request must carry it (Bearer, or Basic with the token as the
//!    password), compared in constant time.

use std::net::IpAddr;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::admin::admin_error::AdminError;
use crate::admin::operator::{Credential, Operator, Role};

/// What the guard needs from the configuration.
#[derive(Clone, Debug, Default)]
pub struct AdminAccess {
    /// `None`: no token needed (then the `Host` check applies).
    pub token: Option<String>,
    /// `admin_hosts`: names answered without a token besides IP literals and `localhost`.
    pub hosts: Vec<String>,
}

/// The middleware: refuses what `decide` refuses, passes the rest on.
pub async fn guard(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let access = req
        .app_data::<web::Data<AdminAccess>>()
        .map(|a| a.get_ref().clone())
        .unwrap_or_default();
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let request = Seen {
        changes_state: !matches!(*req.method(), Method::GET | Method::HEAD),
        host: header(header::HOST),
        origin: header(header::ORIGIN),
        fetch_site: header(header::HeaderName::from_static("sec-fetch-site")),
        authorization: header(header::AUTHORIZATION),
    };
    match decide(&access, &request) {
        Ok(operator) => {
            req.extensions_mut().insert(operator);
        }
        Err(refusal) => {
            let response = actix_web::ResponseError::error_response(&refusal);
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The headers the decision looks at, as sent.
#[derive(Debug, Default)]
pub struct Seen {
    pub changes_state: bool,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub fetch_site: Option<String>,
    pub authorization: Option<String>,
}

/// The whole rule, pure so that tests can call it: who the request comes from, or why it
/// is refused.
pub fn decide(access: &AdminAccess, seen: &Seen) -> Result<Operator, AdminError> {
    if seen.changes_state {
        cross_site_check(seen)?;
    }
    match &access.token {
        None => host_check(access, seen.host.as_deref()).map(|()| Operator::open()),
        Some(expected) => {
            let (given, credential) = seen
                .authorization
                .as_deref()
                .and_then(presented_token)
                .unwrap_or((String::new(), Credential::Bearer));
            if constant_time_eq(given.trim().as_bytes(), expected.as_bytes()) {
                Ok(Operator {
                    name: "admin".to_string(),
                    role: Role::Admin,
                    groups: None,
                    credential,
                })
            } else {
                Err(AdminError::Unauthorized)
            }
        }
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
fn host_check(access: &AdminAccess, host: Option<&str>) -> Result<(), AdminError> {
    // No Host header at all (HTTP/1.0 scripts) is no browser: DNS rebinding needs a name.
    let Some(host) = host.map(str::trim) else {
        return Ok(());
    };
    let name = host_name(host).to_ascii_lowercase();
    let allowed =
        name.parse::<IpAddr>().is_ok() || name == "localhost" || access.hosts.contains(&name);
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

/// Compares without stopping at the first difference, so response time does not tell an
/// attacker how much of a guessed token was right. (The length is not secret.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> AdminAccess {
        AdminAccess {
            token: None,
            hosts: vec!["kkt-admin.example.ru".into()],
        }
    }

    fn post(host: &str, origin: Option<&str>, site: Option<&str>) -> Seen {
        Seen {
            changes_state: true,
            host: Some(host.into()),
            origin: origin.map(Into::into),
            fetch_site: site.map(Into::into),
            authorization: None,
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
    fn tokens_compare_exactly() {
        assert!(constant_time_eq(b"secret-token-123", b"secret-token-123"));
        assert!(!constant_time_eq(b"secret-token-124", b"secret-token-123"));
        assert!(!constant_time_eq(b"secret", b"secret-token-123"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn without_a_token_only_addresses_localhost_and_listed_names_are_answered() {
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
            assert_eq!(decide(&open(), &seen), Ok(Operator::open()), "{host}");
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
                matches!(decide(&open(), &seen), Err(AdminError::HostNotAllowed(_))),
                "{host}"
            );
        }
        assert_eq!(
            decide(&open(), &Seen::default()),
            Ok(Operator::open()),
            "no Host: curl -0"
        );
    }

    #[test]
    fn cross_site_state_changes_are_refused_token_or_not() {
        let with_token = AdminAccess {
            token: Some("s3cret-token-for-tests".into()),
            hosts: Vec::new(),
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
            assert_eq!(
                decide(&open(), &seen),
                Err(AdminError::CrossSite),
                "{seen:?}"
            );
            let seen = Seen {
                authorization: basic.clone(),
                ..seen
            };
            assert_eq!(
                decide(&with_token, &seen),
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
            assert_eq!(decide(&open(), &seen), Ok(Operator::open()), "{seen:?}");
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
        assert_eq!(decide(&open(), &read), Ok(Operator::open()));
    }

    #[test]
    fn a_wrong_or_missing_token_is_refused() {
        let access = AdminAccess {
            token: Some("s3cret-token-for-tests".into()),
            hosts: Vec::new(),
        };
        let with = |auth: Option<&str>| Seen {
            host: Some("anything.example".into()),
            authorization: auth.map(Into::into),
            ..Seen::default()
        };
        assert_eq!(
            decide(&access, &with(Some("Bearer s3cret-token-for-tests"))).map(|o| o.role),
            Ok(Role::Admin)
        );
        assert_eq!(
            decide(&access, &with(Some("Bearer s3cret-token-for-test"))),
            Err(AdminError::Unauthorized)
        );
        assert_eq!(decide(&access, &with(None)), Err(AdminError::Unauthorized));
    }
}
