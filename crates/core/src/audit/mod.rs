//! The audit trail's model: who did what to which release, and what came of it, as a chain
//! of records each carrying the SHA-256 of the one before, so that a record edited,
//! removed or (given the last head the server logged) cut off the end is found and named.
//!
//! `record` holds one record, its closed set of actions, the bounds on its fields and its
//! fixed byte form; `chain` checks a stored chain. Pure: the store writes and reads the
//! records, the server logs the head, `audit verify` prints what `chain::verify` says.
//!
//! # The byte form (for anyone verifying a chain without this program)
//!
//! A record's bytes are the canonical JSON of its seven fields: one object, keys in byte
//! order (`action`, `actor`, `at`, `prev`, `result`, `seq`, `subject`), no whitespace
//! anywhere, UTF-8, `at` and `seq` written as decimal integers (no sign, no leading zero,
//! no fraction), every other value a JSON string in which `"` is written `\"` and `\` is
//! written `\\` (the fields hold no control characters: they are escaped before a record is
//! made, see `record::bounded`, so no other escape occurs; every other character, `/` and
//! non-ASCII included, is written as itself). For example:
//!
//! ```text
//! {"action":"publish","actor":"ivanov","at":1767225600,"prev":"000…000","result":"published","seq":1,"subject":"C.3/20250301"}
//! ```
//!
//! Its hash is the lowercase hex SHA-256 of those bytes (`sha256sum`'s form). The first
//! record's `prev` is 64 zeros; every other record's `prev` is the hash of the record whose
//! `seq` is one less. Pruning (records older than `inventory_retention_days`) removes the
//! oldest records and appends a `checkpoint` record whose `subject` is
//! `pruned before seq N` and whose `result` is the hash of record N-1 (the newest removed):
//! the chain then starts at record N, whose `prev` must be that hash.

pub mod chain;
pub mod record;

pub use chain::{verify, Broken, Verified, Why};
pub use record::{hash, Action, AuditEntry, AuditRecord, GENESIS};
