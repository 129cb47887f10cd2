//! Checking a stored chain: every record well formed and one of the actions, numbered
//! without a gap, each `prev` the hash of the record before, the first anchored (at the
//! genesis, or at the hash a checkpoint says it replaced) and, given the last head the
//! server logged, that head still in the chain. The first record that fails is named,
//! with why.

use std::collections::HashSet;

use crate::audit::record::{
    hash, is_bounded, is_hash, Action, AuditRecord, ACTOR_MAX, GENESIS, RESULT_MAX, SUBJECT_MAX,
};
use crate::model::lang::{fill, InLanguage};
use crate::words::{FromTable, Words};

/// A chain that holds: how many records, and the newest one's hash (none when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub count: u64,
    pub head: Option<String>,
    /// The head given is no longer stored: this checkpoint (its seq and time) says a prune
    /// removed it. Hashes cannot tell a real prune from a wipe by someone who can write the
    /// store; only the time the head was logged can (a prune removes only records older
    /// than the retention), so the command says it and leaves the judgement to the reader.
    pub head_pruned_by: Option<(u64, u64)>,
}

/// The first record that fails, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: u64,
    pub why: Why,
}

/// Why a record fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Its action is not one of the set.
    UnknownAction(String),
    /// A field is too long, not one line, or (`prev`) not a hash.
    BadField(&'static str),
    /// This seq is not stored though a later one is: removed.
    Missing,
    /// Its bytes do not hash to the `prev` of the record after it: it was edited (or that
    /// record's `prev` was).
    Edited { next: u64 },
    /// The first record stored is not seq 1 and no checkpoint vouches for where it starts.
    Unanchored,
    /// The head given is no stored record's hash: records after this seq's predecessor
    /// were removed, or the newest edited.
    HeadNotFound(String),
}

impl FromTable for Broken {
    fn said(&self, words: &'static Words) -> String {
        let t = words.operator;
        let why = match &self.why {
            Why::UnknownAction(action) => fill(t.audit_unknown_action, &[("action", action)]),
            Why::BadField(field) => fill(t.audit_bad_field, &[("field", field)]),
            Why::Missing => t.audit_missing.to_string(),
            Why::Edited { next } => fill(t.audit_edited, &[("next", next)]),
            Why::Unanchored => t.audit_unanchored.to_string(),
            Why::HeadNotFound(head) => fill(
                t.audit_head_not_found,
                &[("head", head), ("last", &self.seq.saturating_sub(1))],
            ),
        };
        fill(t.audit_broken, &[("seq", &self.seq), ("why", &why)])
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for Broken {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

/// Checks `records` (as stored, in any order) against the rules of the byte form, and
/// against `head` (the last head the server logged) when given.
pub fn verify(records: &[AuditRecord], head: Option<&str>) -> Result<Verified, Broken> {
    let mut sorted: Vec<&AuditRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.seq);
    let bad = |seq, why| Err(Broken { seq, why });
    for record in &sorted {
        if let Some(why) = malformed(record) {
            return bad(record.seq, why);
        }
    }
    let Some(first) = sorted.first() else {
        return match head {
            Some(head) => bad(1, Why::HeadNotFound(head.to_string())),
            None => Ok(Verified {
                count: 0,
                head: None,
                head_pruned_by: None,
            }),
        };
    };
    if !anchored(first, &sorted) {
        return bad(first.seq, Why::Unanchored);
    }
    let mut hashes: HashSet<String> = HashSet::with_capacity(sorted.len());
    let mut before: Option<(&AuditRecord, String)> = None;
    for record in &sorted {
        if let Some((previous, previous_hash)) = &before {
            if record.seq != previous.seq + 1 {
                return bad(previous.seq + 1, Why::Missing);
            }
            if record.prev != *previous_hash {
                return bad(previous.seq, Why::Edited { next: record.seq });
            }
        }
        let own = hash(record);
        hashes.insert(own.clone());
        before = Some((record, own));
    }
    let (last, last_hash) = before.map(|(r, h)| (r.seq, h)).unwrap_or_default();
    let mut head_pruned_by = None;
    if let Some(head) = head.filter(|h| !hashes.contains(*h)) {
        // A head logged before a prune may be a hash a checkpoint replaced.
        head_pruned_by = sorted
            .iter()
            .find(|r| r.checkpoint().is_some_and(|(_, h)| h == head))
            .map(|r| (r.seq, r.at));
        if head_pruned_by.is_none() {
            return bad(last + 1, Why::HeadNotFound(head.to_string()));
        }
    }
    Ok(Verified {
        count: sorted.len() as u64,
        head: Some(last_hash),
        head_pruned_by,
    })
}

/// What is wrong with a record on its own, if anything.
fn malformed(record: &AuditRecord) -> Option<Why> {
    if Action::parse(&record.action).is_none() {
        return Some(Why::UnknownAction(crate::audit::record::bounded(
            &record.action,
            ACTOR_MAX,
        )));
    }
    let field = if !is_bounded(&record.actor, ACTOR_MAX) {
        "actor"
    } else if !is_bounded(&record.subject, SUBJECT_MAX) {
        "subject"
    } else if !is_bounded(&record.result, RESULT_MAX) {
        "result"
    } else if !is_hash(&record.prev) {
        "prev"
    } else if record.seq == 0 {
        "seq"
    } else {
        return None;
    };
    Some(Why::BadField(field))
}

/// Whether the chain may start at `first`: seq 1 from the genesis, or a later seq whose
/// `prev` is the hash a stored checkpoint says the prune before it replaced.
fn anchored(first: &AuditRecord, records: &[&AuditRecord]) -> bool {
    if first.seq == 1 {
        return first.prev == GENESIS;
    }
    records
        .iter()
        .filter_map(|r| r.checkpoint())
        .any(|(kept, replaced)| kept == first.seq && replaced == first.prev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::{checkpoint_entry, AuditEntry};

    /// A chain of `n` records as the store appends them.
    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_string(), hash);
            let entry = AuditEntry::new("ivanov", Action::Publish, &format!("r{seq}"), "ok");
            out.push(AuditRecord::chained(&entry, seq, 1000 + seq, &prev));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_with_its_head() {
        let records = chain(5);
        let head = hash(&records[4]);
        assert_eq!(
            verify(&records, Some(&head)),
            Ok(Verified {
                count: 5,
                head: Some(head.clone()),
                head_pruned_by: None,
            })
        );
        // An older head is still in the chain: records were appended since it was logged.
        assert!(verify(&records, Some(&hash(&records[2]))).is_ok());
        assert_eq!(
            verify(&[], None),
            Ok(Verified {
                count: 0,
                head: None,
                head_pruned_by: None,
            })
        );
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut records = chain(5);
        records[2].result = "withdrawn".into();
        let broken = verify(&records, None).expect_err("edited");
        assert_eq!(
            broken,
            Broken {
                seq: 3,
                why: Why::Edited { next: 4 }
            }
        );
        assert_eq!(
            broken.to_string(),
            "audit record 3 is bad: its bytes do not hash to the prev that record 4 carries \
             (it was edited, or record 4's prev was)"
        );
        assert!(broken.in_russian().starts_with("запись журнала аудита 3"));
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut records = chain(5);
        records.remove(1);
        assert_eq!(
            verify(&records, None),
            Err(Broken {
                seq: 2,
                why: Why::Missing
            })
        );
        // The first removed: the chain no longer starts at the genesis.
        let mut records = chain(5);
        records.remove(0);
        assert_eq!(
            verify(&records, None),
            Err(Broken {
                seq: 2,
                why: Why::Unanchored
            })
        );
    }

    /// Cutting the newest records off leaves a chain that holds, except against the head
    /// the server logged last.
    #[test]
    fn a_truncated_chain_fails_against_the_head() {
        let mut records = chain(5);
        let head = hash(&records[4]);
        records.pop();
        assert!(verify(&records, None).is_ok());
        assert_eq!(
            verify(&records, Some(&head)),
            Err(Broken {
                seq: 5,
                why: Why::HeadNotFound(head.clone())
            })
        );
        assert_eq!(
            verify(&[], Some(&head)),
            Err(Broken {
                seq: 1,
                why: Why::HeadNotFound(head)
            })
        );
    }

    /// After a prune the chain starts where the checkpoint says, from the hash it
    /// replaced; removing one more old record is still found.
    #[test]
    fn a_checkpoint_anchors_a_pruned_chain() {
        let mut records = chain(5);
        let replaced = hash(&records[1]);
        let prev = hash(&records[4]);
        records.push(AuditRecord::chained(
            &checkpoint_entry(3, &replaced),
            6,
            2000,
            &prev,
        ));
        let kept: Vec<AuditRecord> = records[2..].to_vec();
        assert_eq!(verify(&kept, None).map(|v| v.count), Ok(4));
        // A head logged before the prune, of a record it removed, is vouched for, and the
        // checkpoint that vouches (its seq and time) is named for the reader to judge.
        assert_eq!(
            verify(&kept, Some(&replaced)).map(|v| v.head_pruned_by),
            Ok(Some((6, 2000)))
        );
        assert_eq!(
            verify(&kept, Some(&prev)).map(|v| v.head_pruned_by),
            Ok(None)
        );
        let cut: Vec<AuditRecord> = records[3..].to_vec();
        assert_eq!(
            verify(&cut, None),
            Err(Broken {
                seq: 4,
                why: Why::Unanchored
            })
        );
    }

    #[test]
    fn a_malformed_record_is_named() {
        let mut records = chain(3);
        records[1].action = "delete_everything".into();
        assert_eq!(
            verify(&records, None),
            Err(Broken {
                seq: 2,
                why: Why::UnknownAction("delete_everything".into())
            })
        );
        let mut records = chain(3);
        records[2].actor = "a\nforged line".into();
        assert_eq!(
            verify(&records, None),
            Err(Broken {
                seq: 3,
                why: Why::BadField("actor")
            })
        );
        let mut records = chain(3);
        records[0].prev = "zz".into();
        assert_eq!(
            verify(&records, None),
            Err(Broken {
                seq: 1,
                why: Why::BadField("prev")
            })
        );
    }
}
