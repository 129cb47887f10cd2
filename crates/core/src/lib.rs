//! kkt-core: what the update server knows, apart from how it serves it. The vocabulary
//! (`model`), every word an operator reads in both languages (`words`), the license table (`licenses`), the scan of `firmware_dir` into lines,
//! releases and the snapshot a request reads (`catalog`), and a release's rollout rules
//! (`rollout::rules`), and the audit trail's records and chain (`audit`). Pure decisions over files and values: no HTTP framework, no
//! database, no listener, no command line.
//!
//! A crate of its own so that the compiler keeps it so: it depends on `kkt-platform` (what
//! differs between operating systems) and on data crates only (serde, YAML, SHA-256,
//! dates), never on actix, the store or the server, which re-exports its wings
//! (`crate::catalog::…`, `crate::licenses::…`, `crate::model::…`, `crate::rollout::rules`).
//! Inside it the levels are: `model` at the bottom; `words`, `licenses`, `rollout::rules`
//! and `audit` on it; `groups` (device groups, `groups.yaml`) on `licenses`; `catalog` on
//! all of them.

pub mod audit;
pub mod catalog;
pub mod groups;
pub mod licenses;
pub mod model;
pub mod rollout;
pub mod words;
