//! What handlers and reloads tell the inventory: small records, built on the request path
//! without touching the store, written later by the inventory's writer.

use std::net::IpAddr;

use crate::audit::AuditEntry;
use crate::store::history_kind::HistoryKind;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A `check_firmware`: the build date a device reported and what it was offered.
    CheckIn {
        at: u64,
        address: IpAddr,
        user_agent: Box<str>,
        build_date: u32,
        /// The line it was offered from (`""`: the default line, or none).
        line: Box<str>,
        offered: u32,
        update_available: bool,
        critical: bool,
    },
    /// A `feature_licenses`: the serial asked for, and whether a license is on file.
    Serial {
        at: u64,
        address: IpAddr,
        user_agent: Box<str>,
        serial: String,
        licensed: bool,
    },
    /// A firmware file answered: whole (200) or a part (206).
    Download {
        at: u64,
        address: IpAddr,
        version: u32,
        file: &'static str,
        bytes: u64,
        complete: bool,
    },
    /// A device admitted to a release under rollout (remembered for good).
    Admitted {
        at: u64,
        address: IpAddr,
        line: Box<str>,
        version: u32,
        pilot: bool,
    },
    /// A release event or a license reload, for the history.
    History {
        at: u64,
        kind: HistoryKind,
        line: Box<str>,
        version: Option<u32>,
        detail: String,
    },
    /// A record of the audit trail: appended after the batch's other records, chained to
    /// the newest. `once`: a change seen on disk, which every instance sharing the store
    /// sees (`audit_sql::append` records it once).
    Audit {
        at: u64,
        entry: AuditEntry,
        once: bool,
    },
}

impl Event {
    /// The address whose share of the inbox this event counts against: every record a
    /// device's requests make, except admissions (the server decides those, once per
    /// release) and the server's own history.
    pub fn limited_address(&self) -> Option<IpAddr> {
        match self {
            Event::CheckIn { address, .. }
            | Event::Serial { address, .. }
            | Event::Download { address, .. } => Some(*address),
            Event::Admitted { .. } | Event::History { .. } | Event::Audit { .. } => None,
        }
    }
}
