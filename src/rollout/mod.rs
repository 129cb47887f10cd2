//! Staged rollouts, in one place: the rules a release's `rollout:` sets and the pure
//! decision whether one more device is admitted (`rules`), the request path's memory of who
//! is admitted and which rollouts are halted (`admissions`), the one call the
//! `check_firmware` handler makes (`gate`: offer, admit, remember), where each rollout
//! stands for `/status` and the dashboard (`status`), and the watch that keeps
//! the memory in step with the store other instances share and halts a rollout whose
//! devices get stuck (`watch`).
//!
//! One wing, at several heights, because its parts are used from several heights (each part
//! has its own level in `tests/integration/architecture.rs`; docs/design.md draws
//! them):
//! - `rules` (pure; uses only `model`) sits below `catalog`, which parses `rollout:` from
//!   `meta.yaml` into a release; so it lives with `catalog` in kkt-core (`crates/core`),
//!   re-exported here;
//! - `admissions` (memory, no I/O) sits beside `catalog`, below `app_state` that holds it;
//! - `status` (pure: the snapshot and the memory) sits above both, below `admin`;
//! - `gate` sits above `catalog` and `observe` (it runs the offer and queues the inventory
//!   event), below `app_state`, which hands it to the handler;
//! - `forecasts` (memory, no I/O: the latest projection of each rollout's finish) sits
//!   beside `admissions`, below `status` that shows it and `app_state` that holds it; the
//!   watch fills it from the store; the pure `projection` it runs lives in kkt-core
//!   beside `rules`;
//! - `watch` sits with the listeners, above `app_state`: it reads the shared state and the
//!   store, and only start-up (`server`) uses it.
//!
//! A lower part never names a higher one. This file only names the parts.
//!
//! The rollout's SQL (`admissions_since`, `rollout_states`, `halt_rollout`,
//! `resume_rollout`, `finished_and_stuck`) lives in the persistence wing, in
//! `store/rollout_sql.rs`, beside the other queries whose database interface it shares;
//! the watch is its only caller.
//!
//! Stages that advance themselves (`stages:` in `rollout:`) are here too: their pure rules
//! in `stages` (kkt-core, beside `rules`), the current stage of each release in
//! `admissions` (the request path reads only its number there), its record in the
//! inventory (`store/stage_sql.rs`), and the steps (start, advance, force, pause) taken by
//! `watch`, never on the request path.

pub mod admissions;
pub mod forecasts;
pub mod gate;
pub mod status;
pub mod watch;

// The pure rules live in kkt-core (crates/core), below the catalog that parses them.
pub use kkt_core::rollout::rules;
// The pure part of stages that advance themselves, beside the rules.
pub use kkt_core::rollout::stages;
// The pure projection of a rollout's finish (for `deadline`) lives beside them.
pub use kkt_core::rollout::projection;
