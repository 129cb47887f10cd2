//! One record of the audit trail: the closed set of actions, the bounds on what a record
//! may hold, and its fixed byte form and hash (described in the wing's `//!`).

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::one_line::escaped;

/// The `prev` of the first record: no record came before it.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest `actor` kept (an operator's or OS user's name), in characters.
pub const ACTOR_MAX: usize = 64;
/// The longest `subject` kept (a line and version, a file): characters.
pub const SUBJECT_MAX: usize = 200;
/// The longest `result` kept (what came of it, a reason): characters.
pub const RESULT_MAX: usize = 500;

/// What was done. A closed set: a stored record naming anything else is a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Release files sent through the admin API.
    Upload,
    /// A release appeared (the `publish` command, a copy by hand, an upload).
    Publish,
    /// A release disappeared (the `withdraw` command, a folder removed).
    Withdraw,
    /// A published release's files were replaced in place.
    Replace,
    /// A rollout paused (`paused: true`).
    Pause,
    /// A paused rollout resumed.
    Resume,
    /// `stage: N` acted on.
    StageForced,
    /// A rollout's stage advanced by itself.
    Advanced,
    /// A rollout halted by its stuck share.
    Halt,
    /// The server read its files again (and what it found).
    Reload,
    /// Any other change of a release's `rollout:` seen in its `meta.yaml`.
    RolloutEdit,
    /// An admin request with a token that is not known.
    LoginFailed,
    /// Old records pruned: the chain starts anew from the hash this record carries.
    Checkpoint,
}

impl Action {
    /// Every action, in the order above.
    pub const ALL: [Action; 13] = [
        Action::Upload,
        Action::Publish,
        Action::Withdraw,
        Action::Replace,
        Action::Pause,
        Action::Resume,
        Action::StageForced,
        Action::Advanced,
        Action::Halt,
        Action::Reload,
        Action::RolloutEdit,
        Action::LoginFailed,
        Action::Checkpoint,
    ];

    /// As stored and in the byte form.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Upload => "upload",
            Action::Publish => "publish",
            Action::Withdraw => "withdraw",
            Action::Replace => "replace",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::StageForced => "stage_forced",
            Action::Advanced => "advanced",
            Action::Halt => "halt",
            Action::Reload => "reload",
            Action::RolloutEdit => "rollout_edit",
            Action::LoginFailed => "login_failed",
            Action::Checkpoint => "checkpoint",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a caller asks to be recorded: the store numbers it, dates it and chains it.
/// Made with `AuditEntry::new`, which bounds every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    pub action: Action,
    pub subject: String,
    pub result: String,
}

impl AuditEntry {
    /// An entry with each field made one line (`model::one_line`) and cut to its bound:
    /// a name or a reason from a file or a request can never forge a line of the log, nor
    /// grow the store without end.
    pub fn new(actor: &str, action: Action, subject: &str, result: &str) -> AuditEntry {
        AuditEntry {
            actor: bounded(actor, ACTOR_MAX),
            action,
            subject: bounded(subject, SUBJECT_MAX),
            result: bounded(result, RESULT_MAX),
        }
    }
}

/// `text` escaped to one line, then cut to `max` characters (the last of them `…` when cut).
pub fn bounded(text: &str, max: usize) -> String {
    let text = escaped(text);
    if text.chars().count() <= max {
        return text.into_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whether `text` is what `bounded` makes of some text with bound `max`.
pub fn is_bounded(text: &str, max: usize) -> bool {
    text.chars().count() <= max && escaped(text) == text
}

/// A record as stored: its place in the chain, when, and the entry's fields. `action` is
/// text: a stored record is read as it is, and `chain::verify` says when it is not one of
/// the actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub seq: u64,
    /// Unix seconds.
    pub at: u64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub result: String,
    /// The hash of the record before (`GENESIS` for the first).
    pub prev: String,
}

impl AuditRecord {
    /// The record `entry` makes at `seq`, after the record whose hash is `prev`.
    pub fn chained(entry: &AuditEntry, seq: u64, at: u64, prev: &str) -> AuditRecord {
        AuditRecord {
            seq,
            at,
            actor: entry.actor.clone(),
            action: entry.action.as_str().to_string(),
            subject: entry.subject.clone(),
            result: entry.result.clone(),
            prev: prev.to_string(),
        }
    }

    /// The fixed byte form: canonical JSON, keys in byte order, no whitespace.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = String::with_capacity(160 + self.subject.len() + self.result.len());
        out.push_str("{\"action\":");
        json_string(&mut out, &self.action);
        out.push_str(",\"actor\":");
        json_string(&mut out, &self.actor);
        let _ = write!(out, ",\"at\":{}", self.at);
        out.push_str(",\"prev\":");
        json_string(&mut out, &self.prev);
        out.push_str(",\"result\":");
        json_string(&mut out, &self.result);
        let _ = write!(out, ",\"seq\":{}", self.seq);
        out.push_str(",\"subject\":");
        json_string(&mut out, &self.subject);
        out.push('}');
        out.into_bytes()
    }

    /// For a checkpoint: the first seq kept after a prune, and the hash it replaces.
    pub fn checkpoint(&self) -> Option<(u64, &str)> {
        if self.action != Action::Checkpoint.as_str() {
            return None;
        }
        let first = self
            .subject
            .strip_prefix(CHECKPOINT_SUBJECT)?
            .parse()
            .ok()?;
        Some((first, self.result.as_str()))
    }
}

/// A checkpoint's subject before the first seq kept.
pub const CHECKPOINT_SUBJECT: &str = "pruned before seq ";

/// The entry a prune appends: records before `first_kept` are gone; the newest of them
/// hashed to `replaced`.
pub fn checkpoint_entry(first_kept: u64, replaced: &str) -> AuditEntry {
    AuditEntry::new(
        "server",
        Action::Checkpoint,
        &format!("{CHECKPOINT_SUBJECT}{first_kept}"),
        replaced,
    )
}

/// A JSON string: `"` and `\` escaped, control characters (which `bounded` never leaves)
/// as JSON writes them; everything else as itself.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The lowercase hex SHA-256 of a record's byte form.
pub fn hash(record: &AuditRecord) -> String {
    let digest = Sha256::digest(record.canonical());
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Whether `text` is a hash as `hash` writes it.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AuditRecord {
        AuditRecord::chained(
            &AuditEntry::new(
                "иванов",
                Action::Publish,
                "C.3/20250301",
                "published \"x\"\\",
            ),
            1,
            1767225600,
            GENESIS,
        )
    }

    /// The byte form, written out in full: what docs and a third party rely on.
    #[test]
    fn the_byte_form_is_sorted_compact_json() {
        let text = String::from_utf8(sample().canonical()).expect("UTF-8");
        assert_eq!(
            text,
            format!(
                "{{\"action\":\"publish\",\"actor\":\"иванов\",\"at\":1767225600,\
                 \"prev\":\"{GENESIS}\",\"result\":\"published \\\"x\\\"\\\\\",\"seq\":1,\
                 \"subject\":\"C.3/20250301\"}}"
            )
        );
        // The same bytes as serde_json writes for a map of the fields (sorted keys).
        let value = serde_json::to_value(sample()).expect("json");
        assert_eq!(text, serde_json::to_string(&value).expect("json"));
    }

    /// The hash is SHA-256 of exactly those bytes, as `sha256sum` prints it.
    #[test]
    fn the_hash_is_sha256_of_the_byte_form() {
        let record = sample();
        let expected = format!("{:x}", Sha256::digest(record.canonical()));
        assert_eq!(hash(&record), expected);
        assert!(is_hash(&hash(&record)));
        let mut edited = record.clone();
        edited.result.push('!');
        assert_ne!(hash(&edited), hash(&record));
    }

    /// A newline, a terminal escape or a bidi override in a name becomes an escape; a long
    /// reason is cut to its bound; and what comes out is bounded as `verify` checks it.
    #[test]
    fn fields_are_one_line_and_bounded() {
        let entry = AuditEntry::new("a\nb\u{202e}", Action::Reload, "s", &"x".repeat(2000));
        assert_eq!(entry.actor, "a\\nb\\u{202e}");
        assert_eq!(entry.result.chars().count(), RESULT_MAX);
        assert!(entry.result.ends_with('…'));
        assert!(is_bounded(&entry.actor, ACTOR_MAX));
        assert!(is_bounded(&entry.result, RESULT_MAX));
        assert!(!is_bounded("a\nb", ACTOR_MAX));
        assert!(!is_bounded(&"y".repeat(ACTOR_MAX + 1), ACTOR_MAX));
    }

    #[test]
    fn actions_read_back_and_nothing_else_does() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("delete_everything"), None);
    }

    #[test]
    fn a_checkpoint_names_the_first_seq_kept_and_the_hash_it_replaces() {
        let entry = checkpoint_entry(57, GENESIS);
        let record = AuditRecord::chained(&entry, 60, 1, GENESIS);
        assert_eq!(record.checkpoint(), Some((57, GENESIS)));
        assert_eq!(sample().checkpoint(), None);
    }
}
