//! What the dashboard's forms need, worked out per request: who is looking (the forms are
//! shown only to a role that may use them: a viewer sees none), the CSRF token they carry,
//! the lines an upload may go to, and the notice of what the last form post came to.
//!
//! The forms are plain HTML, no script (the dashboard has none): the upload posts
//! `multipart/form-data` to `releases?csrf=TOKEN` (the token in the query, so that the
//! handler refuses a forged post before it reads the body); pause and resume post the
//! token as a form field; withdraw first opens a confirmation page
//! (`GET releases/<version>/withdraw`, `withdraw_page`) whose button posts. The dashboard
//! refreshes itself every few seconds, which would wipe a half-filled form: the upload
//! form is shown on `?upload` (a link from the dashboard), where the page does not refresh.
//!
//! **The notice**: the release routes answer a browser's post with a 303 to
//! `/?published=20250301&line=C.3` or `/?refused=<the sentence>`. Anyone can make such a
//! link, so the notice shows a version only when it is a date, a line only when it is a
//! plain name, and a refusal cut to `NOTICE_MAX` characters, every one escaped by the
//! template; it never does anything but show the words.

use actix_web::HttpRequest;

use crate::admin::csrf;
use crate::admin::operator::{Credential, Operator, Role};
use crate::model::lang::fill;
use crate::model::version::Version;
use crate::words::dashboard::Text;

/// The longest refusal a notice shows, in characters.
pub const NOTICE_MAX: usize = 300;
/// The longest line name a notice shows.
const LINE_MAX: usize = 64;

/// The notice of what a form post came to.
pub struct Notice {
    /// `published`, `withdrawn`, `paused`, `resumed` or `refused`.
    pub kind: &'static str,
    pub text: String,
    pub ok: bool,
}

/// The forms of one dashboard.
#[derive(Default)]
pub struct Forms {
    /// "You: Иванов (publisher)" (none on the open listener).
    pub who: Option<String>,
    /// The CSRF token for the operator's forms (empty without a key: not the admin listener).
    pub csrf: String,
    /// The upload, pause/resume and withdraw forms are shown (role `publisher` and above).
    pub publish: bool,
    /// The logout button is shown (logged in by the login form's session).
    pub logout: bool,
    /// The audit trail is linked (role `publisher` and above).
    pub audit: bool,
    /// `?upload`: the upload form is open and the page does not refresh itself.
    pub upload_open: bool,
    /// The named lines, for the upload's select (the default line is its first choice).
    pub lines: Vec<String>,
    pub notice: Option<Notice>,
}

impl Forms {
    /// The forms `operator` may use on the dashboard `req` asks for, with the named `lines`.
    pub fn for_request(
        req: &HttpRequest,
        operator: &Operator,
        lines: Vec<String>,
        t: &'static Text,
    ) -> Forms {
        let publish = operator.require(Role::Publisher).is_ok();
        let logout = operator.credential == Credential::Session;
        let pairs = query_pairs(req.query_string());
        Forms {
            who: (operator.credential != Credential::Open).then(|| {
                fill(
                    t.pages.forms_signed_in,
                    &[("name", &operator.name), ("role", &operator.role.name())],
                )
            }),
            csrf: if publish || logout {
                csrf::token_for_request(req, operator).unwrap_or_default()
            } else {
                String::new()
            },
            publish,
            logout,
            audit: publish,
            upload_open: publish && pairs.iter().any(|(k, _)| k == "upload"),
            lines,
            notice: notice(&pairs, t),
        }
    }
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

/// The notice the query carries, if it carries one that reads plainly.
pub fn notice(pairs: &[(String, String)], t: &'static Text) -> Option<Notice> {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if let Some(why) = get("refused") {
        let mut text: String = why.chars().take(NOTICE_MAX).collect();
        if why.chars().count() > NOTICE_MAX {
            text.push('…');
        }
        return Some(Notice {
            kind: "refused",
            text: format!("{} {text}", t.pages.forms_refused),
            ok: false,
        });
    }
    let line = match get("line") {
        None => t.default_line.to_string(),
        Some(name) if plain_line(name) => name.to_string(),
        Some(_) => return None,
    };
    let p = t.pages;
    for (kind, words) in [
        ("published", p.forms_published),
        ("withdrawn", p.forms_withdrawn),
        ("paused", p.forms_paused),
        ("resumed", p.forms_resumed),
    ] {
        if let Some(version) = get(kind) {
            let version = Version::parse_folder_name(version)?;
            let date = t.date(&version.as_u32());
            return Some(Notice {
                kind,
                text: fill(words, &[("version", &date), ("line", &line)]),
                ok: true,
            });
        }
    }
    None
}

/// A line's name as a notice may show it: short, letters, digits, `.`, `-`, `_`.
fn plain_line(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= LINE_MAX
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        query_pairs(query)
    }

    #[test]
    fn the_notice_shows_only_what_reads_plainly() {
        let t = crate::words::dashboard::for_request(Some("ru"));
        let shown = notice(&pairs("published=20250301"), t).unwrap();
        assert_eq!(shown.kind, "published");
        assert!(shown.ok);
        assert!(shown.text.contains("01.03.2025"), "{}", shown.text);
        let shown = notice(&pairs("paused=20250301&line=C.3"), t).unwrap();
        assert!(shown.text.contains("C.3"), "{}", shown.text);
        assert!(notice(&pairs("published=march"), t).is_none());
        assert!(notice(&pairs("published=20250301&line=%3Cb%3E"), t).is_none());
        assert!(notice(&pairs("nothing=1"), t).is_none());
        let long = "x".repeat(1000);
        let shown = notice(&pairs(&format!("refused={long}")), t).unwrap();
        assert!(!shown.ok);
        assert!(shown.text.chars().count() < NOTICE_MAX + 40);
        assert!(shown.text.ends_with('…'));
    }
}
