//! `kkt-update-server token new NAME [--role R] [--groups G ...]`: a new operator's token,
//! and the line to paste under `operators:` in `server.yaml`. The token is 32 bytes from
//! the operating system's random generator, written as `kkt_` and base64url (47
//! characters: unmistakable for the 64 hex digits of its SHA-256, which is all the file
//! keeps). It is printed once; nothing is written anywhere. The name, role and groups are
//! checked exactly as `server.yaml` will check them, so the line always loads.

use base64::Engine;

use crate::config::cli::TokenNewArgs;
use crate::config::operators::{self, hex, token_sha256, OperatorsError, Written, WrittenEntry};
use crate::model::lang::{fill, Lang};
use crate::words::Words;

/// What every token starts with (a secret scanner, or a person, recognises it).
pub const PREFIX: &str = "kkt_";

/// The text to print (the token and the line), or why not, in `lang`.
pub fn new(args: &TokenNewArgs, lang: Lang) -> Result<String, String> {
    let t = Words::of(lang).operator;
    let refused = |e: OperatorsError| {
        let problem = match &e {
            OperatorsError::Entry { problem, .. } => problem.said(Words::of(lang)),
            OperatorsError::TooMany { .. } => crate::words::FromTable::said(&e, Words::of(lang)),
        };
        fill(t.token_new_refused, &[("problem", &problem)])
    };
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| fill(t.token_new_no_random, &[("why", &e)]))?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hex(&token_sha256(&token));
    let mut keys = vec![
        ("name".to_string(), Written::Text(args.name.clone())),
        ("token_sha256".to_string(), Written::Text(hash.clone())),
        ("role".to_string(), Written::Text(args.role.clone())),
    ];
    if !args.groups.is_empty() {
        keys.push((
            "groups".to_string(),
            Written::List(args.groups.iter().cloned().map(Some).collect()),
        ));
    }
    let entry = operators::parse(&[WrittenEntry::Keys(keys)])
        .map_err(refused)?
        .remove(0);
    let line = yaml_line(
        &entry.name,
        &hash,
        entry.role.name(),
        entry.groups.as_deref(),
    );
    Ok(fill(
        t.token_new_made,
        &[
            ("name", &entry.name),
            ("role", &entry.role.name()),
            ("token", &token),
            ("line", &line),
        ],
    ))
}

/// `  - {name: "…", token_sha256: "…", role: …, groups: ["…"]}`: names as JSON strings,
/// which YAML reads as its double-quoted strings (any character, quotes escaped).
fn yaml_line(name: &str, hash: &str, role: &str, groups: Option<&[String]>) -> String {
    let quoted = |text: &str| serde_json::Value::String(text.to_string()).to_string();
    let groups = groups.map_or_else(String::new, |groups| {
        let list: Vec<String> = groups.iter().map(|g| quoted(g)).collect();
        format!(", groups: [{}]", list.join(", "))
    });
    format!(
        "  - {{name: {}, token_sha256: \"{hash}\", role: {role}{groups}}}",
        quoted(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(name: &str, role: &str, groups: &[&str]) -> TokenNewArgs {
        TokenNewArgs {
            name: name.into(),
            role: role.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn the_line_loads_and_holds_the_tokens_hash() {
        let said = new(
            &args("Ромашка \"ИТ\"", "viewer", &["ООО Ромашка"]),
            Lang::En,
        )
        .unwrap();
        let token = said
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(PREFIX))
            .unwrap();
        assert_eq!(token.len(), PREFIX.len() + 43);
        let line = said
            .lines()
            .find(|l| l.trim_start().starts_with("- {"))
            .unwrap();
        let file = crate::config::parse_file(&format!("operators:\n{line}\n")).unwrap();
        let config = crate::config::Config::resolve(
            &Default::default(),
            file,
            std::path::Path::new("/"),
            None,
        )
        .unwrap();
        let entry = &config.operators[0];
        assert_eq!(entry.name, "Ромашка \"ИТ\"");
        assert_eq!(entry.token_sha256, token_sha256(token));
        assert_eq!(entry.groups, Some(vec!["ООО Ромашка".to_string()]));
        // Two tokens are never the same.
        let again = new(&args("a", "admin", &[]), Lang::En).unwrap();
        assert!(!again.contains(token));
    }

    #[test]
    fn a_bad_role_or_groups_on_a_publisher_is_refused_in_both_languages() {
        let en = new(&args("a", "root", &[]), Lang::En).unwrap_err();
        assert!(
            en.contains("role must be viewer, publisher or admin; got \"root\""),
            "{en}"
        );
        let ru = new(&args("a", "root", &[]), Lang::Ru).unwrap_err();
        assert!(ru.contains("viewer, publisher или admin"), "{ru}");
        let en = new(&args("a", "publisher", &["x"]), Lang::En).unwrap_err();
        assert!(en.contains("groups limits a viewer only"), "{en}");
        let en = new(&args("a\nb", "viewer", &[]), Lang::En).unwrap_err();
        assert!(en.contains("control characters"), "{en}");
    }
}
