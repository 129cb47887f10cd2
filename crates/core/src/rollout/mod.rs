//! The pure part of staged rollouts: a release's `rollout:` settings and the decision
//! whether one more device is admitted (`rules`). The catalog parses `rollout:` from
//! `meta.yaml` with it, so it sits below the catalog, in this crate; the rest of the
//! rollout wing (memory, the gate, status, the watch) is the server's `rollout/`, which
//! re-exports this part as `crate::rollout::rules`. `stages` is the pure part of stages that
//! advance themselves (`stages:` in `rollout:`): their checks, caps, clock and verdicts.
//! `projection` is the pure forecast of when a rollout reaches the last device of its line
//! (for `deadline`), re-exported as `crate::rollout::projection`.

pub mod projection;
pub mod rules;
pub mod stages;
