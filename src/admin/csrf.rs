//! The CSRF token of the admin listener's forms: what keeps another site's page from
//! making an operator's browser change the server's state with the credentials the browser
//! attaches by itself (the session cookie, cached Basic), besides the guard's `Origin` /
//! `Sec-Fetch-Site` check (which old browsers' forms do not trigger: they sent no `Origin`).
//!
//! **The token** is HMAC-SHA256, under a key drawn from the operating system at start-up
//! (`CsrfKey`; a restart invalidates every form), of the operator's name, how they proved
//! who they are and what proved it (the session's id hash, or the token's hash): another
//! operator's token, or one from an ended session, does not match. It is 64 hex digits.
//!
//! **The rule** (`needed`): a request that changes state (any method but GET and HEAD)
//! must carry the token when both
//! - its credential is one a browser sends by itself or none at all: a session cookie,
//!   Basic, or the open listener (no token configured: any page in a browser on the same
//!   machine reaches 127.0.0.1). `Authorization: Bearer` is never sent by a browser on its
//!   own, so scripts, Prometheus and the commands (`reload`, `publish`'s wait) are never
//!   asked for one; and
//! - its `Content-Type` is what an HTML form, or a page's script without a CORS preflight,
//!   can send: `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`
//!   (parameters and case ignored), or anything that is not a well-formed `type/subtype`
//!   (a browser's own parse would not have asked for a preflight either). Any other type
//!   (`application/json`) needs a preflight, which this listener never grants, so no other
//!   site's page can send it. A request without `Content-Type` passes: a form always sends
//!   one, and a body-less `fetch`/`sendBeacon` from another site carries `Origin`, which the
//!   guard refuses; `curl -X POST` without a body keeps working.
//!
//! **Where the token goes**: the form field `csrf` (urlencoded body), or the header
//! `X-CSRF-Token`, or the query parameter `csrf` (for a multipart upload, so the handler can
//! refuse before it streams the body to disk). Handlers call `check` with what `given`
//! found; pages put `token_for` into their forms.
//!
//! `POST /login` takes none: there is no operator yet to bind it to; the guard's `Origin` /
//! `Sec-Fetch-Site` check refuses another site's login post, and the worst a forged login
//! could do is log the victim in as an operator whose token the attacker already has.

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::admin::admin_error::AdminError;
use crate::admin::operator::{Credential, Operator};
use crate::config::operators::hex;

/// The form field, query parameter and (as `X-CSRF-Token`) header that carry the token.
pub const FIELD: &str = "csrf";
/// The header that may carry the token instead.
pub const HEADER: &str = "x-csrf-token";

/// The per-process key (32 bytes from the operating system's generator), kept as the HMAC
/// state it starts every token from.
pub struct CsrfKey(Hmac<Sha256>);

impl CsrfKey {
    /// A fresh key; an error (in words) only when the system's generator fails.
    pub fn new() -> Result<CsrfKey, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no random bytes from the system: {e}"))?;
        <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map(CsrfKey)
            .map_err(|e| e.to_string())
    }

    fn mac(&self, operator: &Operator) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        for part in [
            b"kkt-update-server csrf".as_slice(),
            operator.name.as_bytes(),
            credential_name(operator.credential).as_bytes(),
            &operator.proof,
        ] {
            // Length-prefixed: no two different inputs run together into the same bytes.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }
}

fn credential_name(credential: Credential) -> &'static str {
    match credential {
        Credential::Open => "open",
        Credential::Bearer => "bearer",
        Credential::Basic => "basic",
        Credential::Session => "session",
    }
}

/// The token `operator`'s forms carry (64 hex digits).
pub fn token_for(operator: &Operator, key: &CsrfKey) -> String {
    hex(&key.mac(operator).finalize().into_bytes())
}

/// The token for the operator of `req`, as the admin listener's key makes it (`None` when
/// the listener has no key: not the admin listener).
pub fn token_for_request(req: &HttpRequest, operator: &Operator) -> Option<String> {
    req.app_data::<web::Data<CsrfKey>>()
        .map(|key| token_for(operator, key))
}

/// Whether a request must carry the token (the rule in the module's words).
pub fn needed(method: &Method, credential: Credential, content_type: Option<&str>) -> bool {
    if matches!(*method, Method::GET | Method::HEAD) || credential == Credential::Bearer {
        return false;
    }
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let well_formed = essence
        .split_once('/')
        .is_some_and(|(kind, sub)| token(kind) && token(sub));
    !well_formed
        || matches!(
            essence.as_str(),
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        )
}

/// Passes a request that needs no token (`needed`) or carries the right one; refuses the
/// rest with 403 and a sentence saying what to do.
pub fn check(
    req: &HttpRequest,
    operator: &Operator,
    given: Option<&str>,
) -> Result<(), AdminError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !needed(req.method(), operator.credential, content_type.as_deref()) {
        return Ok(());
    }
    let key = req
        .app_data::<web::Data<CsrfKey>>()
        .ok_or_else(|| AdminError::Internal("the admin listener has no CSRF key".into()))?;
    verify(operator, key, given)
}

/// The token matches `operator`'s (compared in constant time).
pub fn verify(operator: &Operator, key: &CsrfKey, given: Option<&str>) -> Result<(), AdminError> {
    let bytes = given.and_then(unhex).ok_or(AdminError::CsrfMissing)?;
    key.mac(operator)
        .verify_slice(&bytes)
        .map_err(|_| AdminError::CsrfMissing)
}

/// The token a request carries: the header `X-CSRF-Token`, else the query parameter `csrf`,
/// else the field `csrf` of the `form` body when it is `application/x-www-form-urlencoded`
/// (pass the body when the handler read one).
pub fn given(req: &HttpRequest, form: Option<&[u8]>) -> Option<String> {
    if let Some(value) = req.headers().get(HEADER) {
        return value.to_str().ok().map(str::to_string);
    }
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let field = |pairs: &[u8]| form_urlencoded_field(pairs, FIELD);
    field(req.query_string().as_bytes()).or_else(|| form.filter(|_| urlencoded).and_then(field))
}

/// The value of `name` in `a=b&c=d` (percent-decoded, `+` as space); the first wins.
pub fn form_urlencoded_field(pairs: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(pairs)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// 64 hex digits as 32 bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::operator::Role;

    fn session(name: &str, proof: u8) -> Operator {
        Operator {
            name: name.into(),
            role: Role::Admin,
            groups: None,
            credential: Credential::Session,
            proof: [proof; 32],
        }
    }

    #[test]
    fn the_token_is_bound_to_the_operator_and_the_session() {
        let key = CsrfKey::new().unwrap();
        let ivanov = session("Иванов", 1);
        let token = token_for(&ivanov, &key);
        assert_eq!(token.len(), 64);
        assert_eq!(verify(&ivanov, &key, Some(&token)), Ok(()));
        assert_eq!(
            verify(&ivanov, &key, Some(&token.to_ascii_uppercase())),
            Ok(())
        );
        for other in [
            session("Петров", 1),
            session("Иванов", 2),
            Operator {
                credential: Credential::Basic,
                ..session("Иванов", 1)
            },
        ] {
            assert_eq!(
                verify(&other, &key, Some(&token)),
                Err(AdminError::CsrfMissing),
                "{other:?}"
            );
        }
        // Another process's key.
        let other_key = CsrfKey::new().unwrap();
        assert!(verify(&ivanov, &other_key, Some(&token)).is_err());
        for wrong in [None, Some(""), Some("zz"), Some(&token[..63])] {
            assert_eq!(verify(&ivanov, &key, wrong), Err(AdminError::CsrfMissing));
        }
    }

    #[test]
    fn only_form_posts_with_browser_borne_credentials_need_it() {
        let post = Method::POST;
        for credential in [Credential::Session, Credential::Basic, Credential::Open] {
            for form in [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "text/plain;charset=UTF-8",
                "TEXT/PLAIN",
                " Application/X-WWW-Form-Urlencoded ",
                "",
                "text/plain, application/json",
                "garbage",
            ] {
                assert!(
                    needed(&post, credential, Some(form)),
                    "{credential:?} {form}"
                );
            }
            for not_a_form in ["application/json", "application/octet-stream"] {
                assert!(!needed(&post, credential, Some(not_a_form)), "{not_a_form}");
            }
            assert!(!needed(&post, credential, None));
            assert!(!needed(
                &Method::GET,
                credential,
                Some("application/x-www-form-urlencoded")
            ));
        }
        for any in ["application/x-www-form-urlencoded", "multipart/form-data"] {
            assert!(!needed(&post, Credential::Bearer, Some(any)));
        }
        assert!(needed(
            &Method::PUT,
            Credential::Session,
            Some("text/plain")
        ));
    }

    #[test]
    fn fields_are_read_from_a_form_body() {
        assert_eq!(
            form_urlencoded_field(b"a=1&csrf=ab%20c&csrf=x", "csrf").as_deref(),
            Some("ab c")
        );
        assert_eq!(
            form_urlencoded_field(b"token=a+b", "token").as_deref(),
            Some("a b")
        );
        assert_eq!(form_urlencoded_field(b"", "csrf"), None);
    }
}
