//! `kkt-update-server audit verify [--head HASH]`: reads the audit trail from the
//! configured inventory (the SQLite file, or PostgreSQL) without writing anything, checks
//! its chain (`crate::audit::verify`) and says "ok: N records, head H", or names the first
//! bad record and why. `--head` is the last head the server logged: given it, records cut
//! off the end are found too.

use anyhow::Result;

use crate::audit::{verify, Broken, Verified};
use crate::config::{Config, InventorySetting};
use crate::model::lang::{fill, InLanguage, Lang};
use crate::store::audit_sql;
use crate::store::db::{Db, Postgres, Sqlite};
use crate::words::cli::OperatorText;

/// What `audit verify` found.
#[derive(Debug)]
pub enum Outcome {
    /// The chain holds; `retention_days` is the configured retention, for what is said
    /// when the head given was pruned.
    Ok {
        verified: Verified,
        retention_days: u64,
    },
    Bad(Broken),
}

impl Outcome {
    /// What `audit verify` prints, in `lang`: one line, and a note when the head given was
    /// found only in a checkpoint.
    pub fn said(&self, lang: Lang) -> String {
        let t = OperatorText::of(lang);
        match self {
            Outcome::Ok {
                verified: v,
                retention_days,
            } => {
                let mut said = fill(
                    t.audit_ok,
                    &[
                        ("count", &v.count),
                        ("head", &v.head.as_deref().unwrap_or(t.none)),
                    ],
                );
                if let Some((seq, at)) = v.head_pruned_by {
                    let before = at.saturating_sub(retention_days.saturating_mul(86_400));
                    let time = crate::model::unix_time::local_text;
                    said.push('\n');
                    said.push_str(&fill(
                        t.audit_head_pruned,
                        &[
                            ("seq", &seq),
                            ("at", &time(at)),
                            ("days", retention_days),
                            ("before", &time(before)),
                        ],
                    ));
                }
                said
            }
            Outcome::Bad(broken) => broken.in_language(lang),
        }
    }
}

/// Why the trail could not be checked at all (said in the operator's language).
#[derive(Debug)]
pub enum VerifyError {
    HeadNotHash(String),
    Off,
    Unreadable { store: String, why: String },
}

impl VerifyError {
    pub fn said(&self, lang: Lang) -> String {
        let t = OperatorText::of(lang);
        match self {
            VerifyError::HeadNotHash(value) => fill(
                t.audit_head_not_hash,
                &[("value", &crate::model::one_line::escaped(value))],
            ),
            VerifyError::Off => t.audit_inventory_off.to_string(),
            VerifyError::Unreadable { store, why } => {
                fill(t.audit_unreadable, &[("store", store), ("why", why)])
            }
        }
    }
}

/// Opens the store read-only (PostgreSQL: a read-only session), reads the whole trail
/// and checks it.
pub fn verify_trail(config: &Config, head: Option<&str>) -> Result<Outcome, VerifyError> {
    let head = match head.map(str::trim) {
        Some(h) if !crate::audit::record::is_hash(h) => {
            return Err(VerifyError::HeadNotHash(h.to_string()))
        }
        h => h,
    };
    let unreadable = |e: anyhow::Error| VerifyError::Unreadable {
        store: config.inventory.to_string(),
        why: format!("{e:#}"),
    };
    let mut db = open_read_only(&config.inventory)
        .map_err(unreadable)?
        .ok_or(VerifyError::Off)?;
    let records = audit_sql::records(db.as_mut()).map_err(unreadable)?;
    Ok(match verify(&records, head) {
        Ok(verified) => Outcome::Ok {
            verified,
            retention_days: config.inventory_retention_days,
        },
        Err(broken) => Outcome::Bad(broken),
    })
}

/// The configured store, opened for reading only; none when the inventory is off.
fn open_read_only(setting: &InventorySetting) -> Result<Option<Box<dyn Db>>> {
    Ok(Some(match setting {
        InventorySetting::Sqlite(path) => Box::new(Sqlite::open_read_only(path)?),
        InventorySetting::Postgres(setting) => {
            let mut db = Postgres::connect(setting)?;
            db.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
            Box::new(db)
        }
        InventorySetting::Off => return Ok(None),
    }))
}
