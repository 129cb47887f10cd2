//! The login form's sessions: a random id in a cookie, and here, in memory, which
//! operator's token it stands for and until when. Only the SHA-256 of an id is kept, and
//! only the token's SHA-256 (as `operators:` holds it), so that a session ends the moment
//! its operator leaves `operators:` or changes role (every request looks the hash up in the
//! table that serves now). A restart ends every session: the operator logs in again.
//!
//! Bounded: at most `PER_OPERATOR` sessions of one token (a login beyond that ends that
//! token's own session that would expire first) and `MAX_SESSIONS` in all (a login beyond
//! that ends the soonest-expiring session of the token holding the most). So whoever holds
//! one token, a client's limited viewer included, can log in as often as they like and
//! end only their own sessions, never an admin's. Expiry is read on the rules' clock (`model::clock`), so tests move
//! time instead of waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::config::operators::hex;
use crate::model::clock;
use crate::platform::lock_recover::LockRecover;

/// The cookie's name.
pub const COOKIE: &str = "kkt_session";
/// Sessions kept at once (a service centre has dozens of operators, not thousands).
pub const MAX_SESSIONS: usize = 1_000;
/// Sessions kept at once for one token (an operator's browsers and machines).
pub const PER_OPERATOR: usize = 20;
/// The length of an id as the cookie carries it: 32 random bytes in hex.
const ID_LEN: usize = 64;

/// A session the cookie named, alive now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSession {
    /// The token the operator logged in with, as `operators:` holds it.
    pub token_sha256: [u8; 32],
    /// The SHA-256 of the session's id: what the CSRF token is bound to.
    pub id_sha256: [u8; 32],
}

struct Session {
    token_sha256: [u8; 32],
    /// Unix seconds on the rules' clock.
    expires: u64,
}

/// Every live session.
pub struct Sessions {
    ttl: Duration,
    /// The admin listener speaks HTTPS: the cookie is `Secure`.
    secure: bool,
    map: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    pub fn new(ttl: Duration, secure: bool) -> Sessions {
        Sessions {
            ttl,
            secure,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The `Set-Cookie` value for the session `id`.
    pub fn cookie(&self, id: &str) -> String {
        set_cookie(id, self.ttl, self.secure)
    }

    /// The `Set-Cookie` value that makes the browser forget it.
    pub fn clear_cookie(&self) -> String {
        set_cookie("", Duration::ZERO, self.secure)
    }

    /// A new session for the operator whose token hashes to `token_sha256`: its id, for the
    /// cookie. `None` only when the system's random generator fails.
    pub fn create(&self, token_sha256: [u8; 32]) -> Option<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).ok()?;
        let id = hex(&bytes);
        let now = clock::unix_now();
        let mut map = self.map.lock_recover();
        map.retain(|_, s| s.expires > now);
        let own = map
            .values()
            .filter(|s| s.token_sha256 == token_sha256)
            .count();
        let evicted = if own >= PER_OPERATOR {
            Some(token_sha256)
        } else if map.len() >= MAX_SESSIONS {
            most_sessions(&map)
        } else {
            None
        };
        if let Some(token) = evicted {
            let soonest = map
                .iter()
                .filter(|(_, s)| s.token_sha256 == token)
                .min_by_key(|(_, s)| s.expires)
                .map(|(key, _)| *key);
            if let Some(key) = soonest {
                map.remove(&key);
            }
        }
        map.insert(
            id_sha256(&id),
            Session {
                token_sha256,
                expires: now.saturating_add(self.ttl.as_secs()),
            },
        );
        Some(id)
    }

    /// The live session `id` names (an expired one is forgotten on the way).
    pub fn find(&self, id: &str) -> Option<LiveSession> {
        if id.len() != ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let key = id_sha256(id);
        let now = clock::unix_now();
        let mut map = self.map.lock_recover();
        match map.get(&key) {
            Some(session) if session.expires > now => Some(LiveSession {
                token_sha256: session.token_sha256,
                id_sha256: key,
            }),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session `id` names (logout).
    pub fn end(&self, id: &str) {
        self.map.lock_recover().remove(&id_sha256(id));
    }

    /// How many are kept now (expired ones included until they are next looked at).
    pub fn len(&self) -> usize {
        self.map.lock_recover().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The token holding the most sessions (any of them when several hold as many).
fn most_sessions(map: &HashMap<[u8; 32], Session>) -> Option<[u8; 32]> {
    let mut counts: HashMap<[u8; 32], usize> = HashMap::new();
    for session in map.values() {
        *counts.entry(session.token_sha256).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(token, _)| token)
}

fn id_sha256(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The session id a `Cookie` header carries, if it is one (the first `kkt_session=`).
pub fn cookie_id(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

/// The `Set-Cookie` value for a new session: `HttpOnly` (no script reads it),
/// `SameSite=Strict` (no other site's page makes the browser send it), `Path=/`, and
/// `Secure` when the admin listener speaks HTTPS.
fn set_cookie(id: &str, ttl: Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_until_it_ends() {
        let sessions = Sessions::new(Duration::from_secs(60), false);
        let id = sessions.create([7; 32]).unwrap();
        assert_eq!(id.len(), 64);
        let live = sessions.find(&id).unwrap();
        assert_eq!(live.token_sha256, [7; 32]);
        assert_eq!(live.id_sha256, id_sha256(&id));
        // The same id with its first digit changed (to another digit, whatever it was).
        let first = if id.starts_with('0') { "1" } else { "0" };
        let other = format!("{first}{}", &id[1..]);
        assert_eq!(sessions.find(&other), None);
        assert_eq!(sessions.find("short"), None);
        sessions.end(&id);
        assert_eq!(sessions.find(&id), None);
        let expired = Sessions::new(Duration::ZERO, false);
        let id = expired.create([1; 32]).unwrap();
        assert_eq!(expired.find(&id), None);
        assert!(expired.is_empty());
    }

    #[test]
    fn the_count_is_bounded() {
        let sessions = Sessions::new(Duration::from_secs(60), false);
        for _ in 0..PER_OPERATOR + 5 {
            sessions.create([2; 32]).unwrap();
        }
        assert_eq!(sessions.len(), PER_OPERATOR);
        for token in 0..MAX_SESSIONS {
            let mut hash = [3; 32];
            hash[..8].copy_from_slice(&(token as u64).to_be_bytes());
            sessions.create(hash).unwrap();
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
    }

    /// One token's logins, however many, end only that token's sessions.
    #[test]
    fn one_token_cannot_end_anothers_sessions() {
        let sessions = Sessions::new(Duration::from_secs(60), false);
        let admin = sessions.create([1; 32]).unwrap();
        for _ in 0..MAX_SESSIONS * 2 {
            sessions.create([2; 32]).unwrap();
        }
        assert!(sessions.find(&admin).is_some());
        assert_eq!(sessions.len(), 1 + PER_OPERATOR);
    }

    #[test]
    fn the_cookie_is_read_and_written_with_its_attributes() {
        assert_eq!(cookie_id("a=b; kkt_session=abc; c=d"), Some("abc"));
        assert_eq!(cookie_id("kkt_sessionx=abc"), None);
        assert_eq!(
            set_cookie("abc", Duration::from_secs(5), true),
            "kkt_session=abc; Path=/; Max-Age=5; HttpOnly; SameSite=Strict; Secure"
        );
        let sessions = Sessions::new(Duration::from_secs(9), false);
        assert!(sessions.clear_cookie().contains("Max-Age=0"));
        assert_eq!(
            sessions.cookie("x"),
            "kkt_session=x; Path=/; Max-Age=9; HttpOnly; SameSite=Strict"
        );
    }
}
