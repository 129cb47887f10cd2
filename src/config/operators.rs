//! `operators:` in `server.yaml`: who may use the admin listener, each with a name, the
//! SHA-256 of their token (never the token: a copy of the file must not open the
//! listener), a role, and for a viewer the groups it is limited to.
//!
//! ```yaml
//! operators:
//!   - {name: "Иванов", token_sha256: "<64 hex digits>", role: admin}
//!   - {name: "Ромашка ИТ", token_sha256: "<64 hex digits>", role: viewer, groups: ["ООО Ромашка"]}
//! ```
//!
//! The list is file only (a structured value has no sensible flag) and bounded: at most
//! `MAX_OPERATORS` entries, names and group names of at most `MAX_NAME` characters without
//! control characters, each name and each hash once. `groups` on a publisher or an admin is
//! refused, not ignored: they see every device, and an operator who wrote `groups` believed
//! otherwise. The group names are read against `groups.yaml` by `unknown_groups`, as a
//! warning, not a refusal: the two files are edited and reload apart (a group renamed in
//! one before the other), and a viewer limited to a group that does not exist sees nothing,
//! which is safe. `admin_token` joins the list as one `admin` operator named `admin`
//! (`OperatorTable`).

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::model::lang::fill;
pub use crate::model::role::Role;
use crate::words::{FromTable, Words};

/// The most entries `operators:` may hold.
pub const MAX_OPERATORS: usize = 1_000;
/// The longest name (of an operator or a group), in characters.
pub const MAX_NAME: usize = 100;
/// The most groups one viewer may be limited to.
pub const MAX_GROUPS: usize = 100;
/// The name `admin_token`'s operator has.
pub const ADMIN_TOKEN_NAME: &str = "admin";

/// One entry of `operators:`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorEntry {
    pub name: String,
    /// The SHA-256 of the token.
    pub token_sha256: [u8; 32],
    pub role: Role,
    /// The groups a viewer is limited to (`None`: every device). Only ever set for a viewer.
    pub groups: Option<Vec<String>>,
}

/// The SHA-256 of a token, as `token_sha256` holds it.
pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Every operator the admin listener knows: `operators:` plus `admin_token`'s `admin`.
/// Empty: no token is configured, and the listener is open (its `Host` checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorTable {
    entries: Vec<OperatorEntry>,
}

impl OperatorTable {
    /// `operators:` with `admin_token` added as the operator `admin` (role `admin`).
    pub fn new(operators: &[OperatorEntry], admin_token: Option<&str>) -> OperatorTable {
        let mut entries = operators.to_vec();
        if let Some(token) = admin_token {
            entries.push(OperatorEntry {
                name: ADMIN_TOKEN_NAME.to_string(),
                token_sha256: token_sha256(token),
                role: Role::Admin,
                groups: None,
            });
        }
        OperatorTable { entries }
    }

    pub fn entries(&self) -> &[OperatorEntry] {
        &self.entries
    }

    /// No token at all: the listener is open.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The operator whose token hashes to `hash`. Every entry is compared (no early exit)
    /// in constant time, and the index of the match is picked by a constant-time select:
    /// neither which entry matched nor how many bytes of any did shows in the timing.
    pub fn find_by_hash(&self, hash: &[u8; 32]) -> Option<&OperatorEntry> {
        let mut found = u32::MAX;
        for (index, entry) in self.entries.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            found.conditional_assign(&index, entry.token_sha256.ct_eq(hash));
        }
        usize::try_from(found)
            .ok()
            .and_then(|i| self.entries.get(i))
    }
}

/// At most this many known groups are listed in one warning.
const KNOWN_LISTED: usize = 20;

/// Warnings, in `lang`, for every viewer limited to a group that `groups` (none: no groups
/// file is set) does not have, each naming the operator, the group, the groups there are
/// and the nearest name: such a viewer sees none of that group's registers.
pub fn unknown_groups(
    table: &OperatorTable,
    groups: Option<&crate::groups::Groups>,
    lang: crate::model::lang::Lang,
) -> Vec<String> {
    use crate::groups::refusal::quoted;
    let t = Words::of(lang).groups;
    let mut out = Vec::new();
    for entry in table.entries() {
        let Some(own) = &entry.groups else {
            continue;
        };
        let operator = quoted(&entry.name);
        let Some(groups) = groups else {
            out.push(fill(
                t.operator_groups_without_file,
                &[("operator", &operator)],
            ));
            continue;
        };
        for name in own.iter().filter(|name| groups.get(name).is_none()) {
            let mut known: Vec<String> = groups.names().take(KNOWN_LISTED).map(quoted).collect();
            if groups.len() > KNOWN_LISTED {
                known.push("…".to_string());
            }
            let known = if known.is_empty() {
                t.known_none.to_string()
            } else {
                known.join(", ")
            };
            let hint = crate::model::did_you_mean::nearest(name, groups.names())
                .map_or_else(String::new, |near| {
                    fill(Words::of(lang).scan.did_you_mean_key, &[("key", &near)])
                });
            out.push(fill(
                t.operator_group_unknown,
                &[
                    ("operator", &operator),
                    ("name", &quoted(name)),
                    ("known", &known),
                    ("hint", &hint),
                ],
            ));
        }
    }
    out
}

/// A value given for a key of an entry, as the file wrote it (`file::Raw` made small, so
/// that this module does not depend on how the file is read).
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// A scalar's text (a number or true/false written where text belongs is that text).
    Text(String),
    /// A list of scalars' texts (`None` for an item that is not one).
    List(Vec<Option<String>>),
    /// Anything else, as an operator would recognise it ("a list", "keys with values").
    Other(String),
}

/// One entry as written: its keys in order, or what it was instead of keys.
#[derive(Debug, Clone, PartialEq)]
pub enum WrittenEntry {
    Keys(Vec<(String, Written)>),
    Other(String),
}

/// Why `operators:` is refused: the entry (its number from 1, and its name when it has
/// one), and what is wrong in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorsError {
    TooMany {
        count: usize,
    },
    Entry {
        number: usize,
        name: Option<String>,
        problem: EntryProblem,
    },
}

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    NotKeys {
        given: String,
    },
    UnknownKey {
        key: String,
    },
    /// `token:` (the token itself): never written into the file.
    PlainToken,
    Missing {
        key: &'static str,
    },
    NotText {
        key: &'static str,
        given: String,
    },
    NameEmpty,
    NameTooLong {
        count: usize,
    },
    NameControl,
    NameTwice {
        other: usize,
    },
    /// Not 64 hexadecimal digits; only the length is shown (it may be a token pasted by
    /// mistake).
    HashForm {
        count: usize,
    },
    HashTwice {
        other: usize,
    },
    RoleUnknown {
        given: String,
    },
    GroupsNotViewer {
        role: Role,
    },
    GroupsForm {
        given: String,
    },
    GroupsEmpty,
    GroupsTooMany {
        count: usize,
    },
    GroupName {
        given: String,
    },
    /// The name `admin_token`'s operator has, while `admin_token` is set.
    NameOfAdminToken,
    /// The SHA-256 of `admin_token`.
    HashOfAdminToken,
    /// The SHA-256 of the empty text: an empty password would open the listener.
    HashOfEmpty,
}

/// A value fit to quote in an error: escaped, at most `MAX_NAME` characters.
fn shown(text: &str) -> String {
    let short: String = text.chars().take(MAX_NAME).collect();
    let more = if text.chars().count() > MAX_NAME {
        "…"
    } else {
        ""
    };
    format!("\"{}{more}\"", short.escape_debug())
}

/// A name (of an operator or a group) fit to keep: trimmed, 1 to `MAX_NAME` characters, no
/// control characters (a log line or a CSV cell must not be split by one).
fn name_problem(name: &str) -> Option<EntryProblem> {
    let count = name.chars().count();
    if name.is_empty() {
        Some(EntryProblem::NameEmpty)
    } else if count > MAX_NAME {
        Some(EntryProblem::NameTooLong { count })
    } else if name.chars().any(char::is_control) {
        Some(EntryProblem::NameControl)
    } else {
        None
    }
}

/// 64 hexadecimal digits (either case), as bytes.
fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        hash[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(hash)
}

/// Hexadecimal, lower case.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks every entry of `operators:`; the first problem found, with its entry.
pub fn parse(entries: &[WrittenEntry]) -> Result<Vec<OperatorEntry>, OperatorsError> {
    if entries.len() > MAX_OPERATORS {
        return Err(OperatorsError::TooMany {
            count: entries.len(),
        });
    }
    let mut checked: Vec<OperatorEntry> = Vec::with_capacity(entries.len());
    for (index, written) in entries.iter().enumerate() {
        let number = index + 1;
        let entry = parse_entry(written).map_err(|(name, problem)| OperatorsError::Entry {
            number,
            name,
            problem,
        })?;
        let twice = |problem: EntryProblem| OperatorsError::Entry {
            number,
            name: Some(entry.name.clone()),
            problem,
        };
        if let Some(other) = checked.iter().position(|o| o.name == entry.name) {
            return Err(twice(EntryProblem::NameTwice { other: other + 1 }));
        }
        if let Some(other) = checked
            .iter()
            .position(|o| o.token_sha256 == entry.token_sha256)
        {
            return Err(twice(EntryProblem::HashTwice { other: other + 1 }));
        }
        checked.push(entry);
    }
    Ok(checked)
}

/// `operators:` beside `admin_token`: the name `admin` and the token's hash are its.
pub fn check_with_admin_token(
    operators: &[OperatorEntry],
    admin_token: Option<&str>,
) -> Result<(), OperatorsError> {
    let Some(token) = admin_token else {
        return Ok(());
    };
    let hash = token_sha256(token);
    for (index, entry) in operators.iter().enumerate() {
        let problem = if entry.name == ADMIN_TOKEN_NAME {
            EntryProblem::NameOfAdminToken
        } else if entry.token_sha256 == hash {
            EntryProblem::HashOfAdminToken
        } else {
            continue;
        };
        return Err(OperatorsError::Entry {
            number: index + 1,
            name: Some(entry.name.clone()),
            problem,
        });
    }
    Ok(())
}

/// One entry, or its name as far as known and what is wrong.
fn parse_entry(written: &WrittenEntry) -> Result<OperatorEntry, (Option<String>, EntryProblem)> {
    let keys = match written {
        WrittenEntry::Keys(keys) => keys,
        WrittenEntry::Other(given) => {
            return Err((
                None,
                EntryProblem::NotKeys {
                    given: given.clone(),
                },
            ))
        }
    };
    let text = |key: &'static str| -> Result<Option<String>, EntryProblem> {
        match keys.iter().find(|(k, _)| k == key).map(|(_, v)| v) {
            None => Ok(None),
            Some(Written::Text(text)) => Ok(Some(text.trim().to_string())),
            Some(Written::List(_)) => Err(EntryProblem::NotText {
                key,
                given: "a list".to_string(),
            }),
            Some(Written::Other(given)) => Err(EntryProblem::NotText {
                key,
                given: given.clone(),
            }),
        }
    };
    // The name first, so that every later problem can say whose entry it is.
    let name = text("name").map_err(|p| (None, p))?;
    let known = name.as_ref().filter(|n| name_problem(n).is_none()).cloned();
    let fail = |problem: EntryProblem| (known.clone(), problem);
    for (key, _) in keys {
        match key.as_str() {
            "name" | "token_sha256" | "role" | "groups" => {}
            "token" => return Err(fail(EntryProblem::PlainToken)),
            other => return Err(fail(EntryProblem::UnknownKey { key: shown(other) })),
        }
    }
    let name = name.ok_or_else(|| fail(EntryProblem::Missing { key: "name" }))?;
    if let Some(problem) = name_problem(&name) {
        return Err((None, problem));
    }
    let hash = text("token_sha256").map_err(&fail)?.ok_or_else(|| {
        fail(EntryProblem::Missing {
            key: "token_sha256",
        })
    })?;
    let token_sha256 = parse_hash(&hash).ok_or_else(|| {
        fail(EntryProblem::HashForm {
            count: hash.chars().count(),
        })
    })?;
    // The guard trims a presented token: a hash of nothing but spaces is as empty.
    if token_sha256 == self::token_sha256("") {
        return Err(fail(EntryProblem::HashOfEmpty));
    }
    let role = text("role")
        .map_err(&fail)?
        .ok_or_else(|| fail(EntryProblem::Missing { key: "role" }))?;
    let role = Role::parse(&role).ok_or_else(|| {
        fail(EntryProblem::RoleUnknown {
            given: shown(&role),
        })
    })?;
    let written = keys.iter().find(|(k, _)| k == "groups").map(|(_, v)| v);
    let groups = groups_of(written, role).map_err(&fail)?;
    Ok(OperatorEntry {
        name,
        token_sha256,
        role,
        groups,
    })
}

/// `groups` as written for an operator of `role`: only a viewer may have it.
fn groups_of(written: Option<&Written>, role: Role) -> Result<Option<Vec<String>>, EntryProblem> {
    match written {
        None => Ok(None),
        Some(_) if role != Role::Viewer => Err(EntryProblem::GroupsNotViewer { role }),
        Some(Written::List(items)) => groups(items).map(Some),
        Some(Written::Text(text)) => Err(EntryProblem::GroupsForm { given: shown(text) }),
        Some(Written::Other(given)) => Err(EntryProblem::GroupsForm {
            given: given.clone(),
        }),
    }
}

/// A viewer's `groups`: 1 to `MAX_GROUPS` names, each fit to keep; repeats kept once.
fn groups(items: &[Option<String>]) -> Result<Vec<String>, EntryProblem> {
    if items.is_empty() {
        return Err(EntryProblem::GroupsEmpty);
    }
    if items.len() > MAX_GROUPS {
        return Err(EntryProblem::GroupsTooMany { count: items.len() });
    }
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(name) = item.as_deref().map(str::trim) else {
            return Err(EntryProblem::GroupsForm {
                given: "a list holding a list or keys".to_string(),
            });
        };
        if name_problem(name).is_some() {
            return Err(EntryProblem::GroupName { given: shown(name) });
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

impl FromTable for OperatorsError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.config;
        match self {
            OperatorsError::TooMany { count } => fill(
                t.operators_too_many,
                &[("count", count), ("max", &MAX_OPERATORS)],
            ),
            OperatorsError::Entry {
                number,
                name,
                problem,
            } => {
                let name = name
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" ({})", shown(n)));
                fill(
                    t.operators_entry,
                    &[
                        ("number", number),
                        ("name", &name),
                        ("problem", &problem.said(words)),
                    ],
                )
            }
        }
    }
}

impl EntryProblem {
    /// The sentence in the language of `words` (without the entry: `token new` says it too).
    pub fn said(&self, words: &'static Words) -> String {
        let t = words.config;
        match self {
            EntryProblem::NotKeys { given } => fill(t.operator_not_keys, &[("given", given)]),
            EntryProblem::UnknownKey { key } => fill(t.operator_unknown_key, &[("key", key)]),
            EntryProblem::PlainToken => t.operator_plain_token.to_string(),
            EntryProblem::Missing { key } => fill(t.operator_missing, &[("key", key)]),
            EntryProblem::NotText { key, given } => {
                fill(t.operator_not_text, &[("key", key), ("given", given)])
            }
            EntryProblem::NameEmpty => fill(t.operator_name_empty, &[("max", &MAX_NAME)]),
            EntryProblem::NameTooLong { count } => fill(
                t.operator_name_long,
                &[("count", count), ("max", &MAX_NAME)],
            ),
            EntryProblem::NameControl => t.operator_name_control.to_string(),
            EntryProblem::NameTwice { other } => fill(t.operator_name_twice, &[("other", other)]),
            EntryProblem::HashForm { count } => fill(t.operator_hash_form, &[("count", count)]),
            EntryProblem::HashTwice { other } => fill(t.operator_hash_twice, &[("other", other)]),
            EntryProblem::RoleUnknown { given } => fill(t.operator_role, &[("given", given)]),
            EntryProblem::GroupsNotViewer { role } => {
                fill(t.operator_groups_not_viewer, &[("role", &role.name())])
            }
            EntryProblem::GroupsForm { given } => fill(t.operator_groups_form, &[("given", given)]),
            EntryProblem::GroupsEmpty => t.operator_groups_empty.to_string(),
            EntryProblem::GroupsTooMany { count } => fill(
                t.operator_groups_many,
                &[("count", count), ("max", &MAX_GROUPS)],
            ),
            EntryProblem::GroupName { given } => fill(
                t.operator_group_name,
                &[("given", given), ("max", &MAX_NAME)],
            ),
            EntryProblem::NameOfAdminToken => t.operator_admin_name.to_string(),
            EntryProblem::HashOfAdminToken => t.operator_admin_hash.to_string(),
            EntryProblem::HashOfEmpty => t.operator_empty_hash.to_string(),
        }
    }
}

impl std::fmt::Display for OperatorsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl crate::model::lang::InLanguage for OperatorsError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for OperatorsError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lang::InLanguage;

    const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

    fn keys(pairs: &[(&str, Written)]) -> WrittenEntry {
        WrittenEntry::Keys(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn text(t: &str) -> Written {
        Written::Text(t.to_string())
    }

    fn entry(name: &str, hash: &str, role: &str) -> WrittenEntry {
        keys(&[
            ("name", text(name)),
            ("token_sha256", text(hash)),
            ("role", text(role)),
        ])
    }

    #[test]
    fn good_entries_are_kept_with_their_hash_as_bytes() {
        let upper = HASH.to_ascii_uppercase();
        let other = hex(&token_sha256("other"));
        let list = parse(&[
            entry("Иванов", &upper, "admin"),
            keys(&[
                ("name", text("Ромашка ИТ")),
                ("token_sha256", text(&other)),
                ("role", text("viewer")),
                (
                    "groups",
                    Written::List(vec![Some("ООО Ромашка".into()), Some("ООО Ромашка".into())]),
                ),
            ]),
        ])
        .unwrap();
        assert_eq!(list[0].token_sha256, token_sha256("password"));
        assert_eq!(hex(&list[0].token_sha256), HASH);
        assert_eq!(list[0].role, Role::Admin);
        assert_eq!(list[0].groups, None);
        assert_eq!(list[1].groups, Some(vec!["ООО Ромашка".to_string()]));
    }

    fn refused(entries: &[WrittenEntry]) -> (String, String) {
        let e = parse(entries).unwrap_err();
        (e.to_string(), e.in_russian())
    }

    #[test]
    fn bad_entries_are_named_with_the_key_the_value_and_the_form_in_both_languages() {
        let (en, ru) = refused(&[entry("Иванов", HASH, "root")]);
        assert_eq!(
            en,
            "operators, entry 1 (\"Иванов\"): role must be viewer, publisher or admin; got \"root\""
        );
        assert!(
            ru.starts_with("operators, запись 1 (\"Иванов\"): role"),
            "{ru}"
        );
        assert!(ru.contains("viewer, publisher или admin"), "{ru}");

        // A token pasted where its hash belongs is not echoed.
        let (en, ru) = refused(&[entry("a", "kkt_s3cret-token", "admin")]);
        assert!(en.contains("64 hexadecimal digits"), "{en}");
        assert!(en.contains("got 16 characters"), "{en}");
        assert!(
            !en.contains("s3cret") && !ru.contains("s3cret"),
            "{en} {ru}"
        );

        let (en, _) = refused(&[keys(&[
            ("name", text("b")),
            ("token", text("s3cret")),
            ("role", text("admin")),
        ])]);
        assert!(
            en.contains("token_sha256") && !en.contains("s3cret"),
            "{en}"
        );

        let (en, ru) = refused(&[keys(&[
            ("name", text("Сборка")),
            ("token_sha256", text(HASH)),
            ("role", text("publisher")),
            ("groups", Written::List(vec![Some("ООО Ромашка".into())])),
        ])]);
        assert!(
            en.contains("groups limits a viewer only") && en.contains("publisher"),
            "{en}"
        );
        assert!(ru.contains("groups"), "{ru}");

        let (en, _) = refused(&[entry("x", HASH, "admin"), entry("x", HASH, "viewer")]);
        assert!(en.starts_with("operators, entry 2 (\"x\"): "), "{en}");
        assert!(en.contains("entry 1"), "{en}");
        let other = hex(&token_sha256("other"));
        assert!(parse(&[entry("x", HASH, "admin"), entry("y", &other, "viewer")]).is_ok());
        let (en, _) = refused(&[entry("x", HASH, "admin"), entry("y", HASH, "viewer")]);
        assert!(en.contains("token_sha256 is also entry 1's"), "{en}");

        let long = "я".repeat(101);
        let (en, _) = refused(&[entry(&long, HASH, "admin")]);
        assert!(en.contains("101 characters") && en.contains("100"), "{en}");
        let (en, _) = refused(&[entry("a\u{1b}[31m", HASH, "admin")]);
        assert!(
            en.contains("control characters") && !en.contains('\u{1b}'),
            "{en}"
        );
        let (en, _) = refused(&[keys(&[("name", text("a")), ("role", text("admin"))])]);
        assert!(en.contains("token_sha256 is missing"), "{en}");
        let (en, _) = refused(&[WrittenEntry::Other("\"Иванов\"".into())]);
        assert!(
            en.starts_with("operators, entry 1: must be keys with values"),
            "{en}"
        );
        let (en, _) = refused(&[keys(&[
            ("name", text("a")),
            ("token_sha256", text(HASH)),
            ("role", text("viewer")),
            ("group", text("x")),
        ])]);
        assert!(en.contains("unknown key \"group\""), "{en}");
        let (en, _) = refused(&[keys(&[
            ("name", text("a")),
            ("token_sha256", text(HASH)),
            ("role", text("viewer")),
            ("groups", Written::List(Vec::new())),
        ])]);
        assert!(en.contains("groups is empty"), "{en}");
    }

    #[test]
    fn the_list_is_bounded() {
        let many: Vec<WrittenEntry> = (0..=MAX_OPERATORS)
            .map(|i| {
                entry(
                    &format!("op{i}"),
                    &hex(&token_sha256(&i.to_string())),
                    "viewer",
                )
            })
            .collect();
        let e = parse(&many).unwrap_err();
        assert_eq!(
            e.to_string(),
            "operators lists 1001 entries; at most 1000 are allowed"
        );
        assert!(parse(&many[..MAX_OPERATORS]).is_ok());
    }

    #[test]
    fn admin_token_keeps_its_name_and_its_hash() {
        let token = "s3cret-token-for-tests";
        let list = parse(&[entry("admin", HASH, "viewer")]).unwrap();
        let e = check_with_admin_token(&list, Some(token)).unwrap_err();
        assert!(e.to_string().contains("admin_token"), "{e}");
        assert!(check_with_admin_token(&list, None).is_ok());
        let list = parse(&[entry("b", &hex(&token_sha256(token)), "viewer")]).unwrap();
        assert!(check_with_admin_token(&list, Some(token)).is_err());
        let table = OperatorTable::new(&[], Some(token));
        assert_eq!(table.entries()[0].name, "admin");
        assert_eq!(table.entries()[0].role, Role::Admin);
        assert!(OperatorTable::new(&[], None).is_empty());
    }
}
