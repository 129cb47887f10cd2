//! The kinds of entry in the inventory's history, and the one place that maps each to the
//! text stored in `history.kind` (and shown by `GET /history`: docs/PROTOCOL.md lists
//! them). The stored text never changes, so that existing databases read back.
//!
//! A kind this server does not know (written by a newer server sharing a PostgreSQL store,
//! or by hand) reads back as `Other`, with its text kept and shown as stored: one entry
//! this version cannot name must not hide the whole history from the operator, and
//! nothing here acts on the kind of a stored entry, so there is nothing to refuse.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::words::pages::PageText;

/// What a history entry records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HistoryKind {
    /// A release appeared in a line.
    Published,
    /// A published release got new bytes, rollout or description.
    Changed,
    Paused,
    Unpaused,
    /// A rollout halted by its stuck share (`rollout::watch`).
    Halted,
    /// A halted rollout resumed.
    Resumed,
    /// A published release is gone.
    Withdrawn,
    /// A release folder refused, with the reason.
    Rejected,
    LicensesLoaded,
    /// A device reported another build date than before.
    BuildChanged,
    /// The server started.
    Started,
    /// A rollout's stage passed and the next one started (`rollout::watch`).
    Advanced,
    /// `stage: N` written in `meta.yaml` started stage N.
    StageForced,
    /// A kind this version does not know, as stored.
    Other(String),
}

impl HistoryKind {
    /// The kind in the pages' words; a kind this version does not know, as stored.
    pub fn words<'a>(&'a self, t: &PageText) -> &'a str {
        let index = match self {
            HistoryKind::Published => 0,
            HistoryKind::Changed => 1,
            HistoryKind::Paused => 2,
            HistoryKind::Unpaused => 3,
            HistoryKind::Halted => 4,
            HistoryKind::Resumed => 5,
            HistoryKind::Withdrawn => 6,
            HistoryKind::Rejected => 7,
            HistoryKind::LicensesLoaded => 8,
            HistoryKind::BuildChanged => 9,
            HistoryKind::Started => 10,
            HistoryKind::Advanced => return t.kind_advanced,
            HistoryKind::StageForced => return t.kind_stage_forced,
            HistoryKind::Other(text) => return text,
        };
        t.kinds[index]
    }

    /// Every kind this version writes.
    const KNOWN: [HistoryKind; 13] = [
        HistoryKind::Published,
        HistoryKind::Changed,
        HistoryKind::Paused,
        HistoryKind::Unpaused,
        HistoryKind::Halted,
        HistoryKind::Resumed,
        HistoryKind::Withdrawn,
        HistoryKind::Rejected,
        HistoryKind::LicensesLoaded,
        HistoryKind::BuildChanged,
        HistoryKind::Started,
        HistoryKind::Advanced,
        HistoryKind::StageForced,
    ];

    /// The text stored in `history.kind` (a match, so that a new kind cannot be added
    /// without its text).
    pub fn as_str(&self) -> &str {
        match self {
            HistoryKind::Published => "published",
            HistoryKind::Changed => "changed",
            HistoryKind::Paused => "paused",
            HistoryKind::Unpaused => "unpaused",
            HistoryKind::Halted => "halted",
            HistoryKind::Resumed => "resumed",
            HistoryKind::Withdrawn => "withdrawn",
            HistoryKind::Rejected => "rejected",
            HistoryKind::LicensesLoaded => "licenses_loaded",
            HistoryKind::BuildChanged => "build_changed",
            HistoryKind::Started => "started",
            HistoryKind::Advanced => "advanced",
            HistoryKind::StageForced => "stage_forced",
            HistoryKind::Other(text) => text,
        }
    }

    /// The kind stored as `text`; `Other` when this version does not know it.
    pub fn from_stored(text: &str) -> HistoryKind {
        HistoryKind::KNOWN
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .unwrap_or_else(|| HistoryKind::Other(text.to_string()))
    }
}

impl fmt::Display for HistoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As the stored text: `GET /history` shows `"kind": "published"` as before.
impl Serialize for HistoryKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind maps to its text and back; the texts are docs/PROTOCOL.md's, unchanged.
    #[test]
    fn every_kind_reads_back_as_written() {
        let texts: Vec<&str> = HistoryKind::KNOWN.iter().map(HistoryKind::as_str).collect();
        assert_eq!(
            texts,
            [
                "published",
                "changed",
                "paused",
                "unpaused",
                "halted",
                "resumed",
                "withdrawn",
                "rejected",
                "licenses_loaded",
                "build_changed",
                "started",
                "advanced",
                "stage_forced"
            ]
        );
        for kind in HistoryKind::KNOWN {
            assert_eq!(HistoryKind::from_stored(kind.as_str()), kind);
        }
    }

    /// A kind written by a newer server is kept, shown as stored.
    #[test]
    fn an_unknown_kind_is_kept_as_stored() {
        let kind = HistoryKind::from_stored("promoted");
        assert_eq!(kind, HistoryKind::Other("promoted".into()));
        assert_eq!(kind.as_str(), "promoted");
        assert_eq!(
            serde_json::to_string(&kind).expect("a string"),
            "\"promoted\""
        );
        assert_eq!(
            HistoryKind::from_stored("Published"),
            HistoryKind::Other("Published".into())
        );
    }
}
