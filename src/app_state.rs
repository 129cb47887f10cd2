//! The state handlers share: the current snapshot behind an `ArcSwap`, replaced whole in one
//! store by a reload and read with one load per request; plus what the operator surface
//! reports (metrics, the fleet view, the reload history, the start time).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, Guard};
use serde::Serialize;

use crate::catalog::snapshot::Snapshot;
use crate::config::operators::OperatorTable;
use crate::config::tls::CertificateStore;
use crate::observe::access_log::AccessLog;
use crate::observe::fleet::Fleet;
use crate::observe::metrics::Metrics;
use crate::platform::lock_recover::LockRecover;
use crate::rollout::admissions::Admissions;
use crate::rollout::forecasts::Forecasts;
use crate::rollout::gate::RolloutGate;
use crate::store::Inventory;

/// The groups a snapshot serves, shared (an empty set without a groups file).
fn groups_of(snapshot: &Snapshot) -> Arc<crate::groups::Groups> {
    match &snapshot.groups_file {
        Some(file) => file.groups.clone(),
        None => Arc::new(crate::groups::Groups::default()),
    }
}

/// How many reloads `/status` and the dashboard remember.
const RELOADS_KEPT: usize = 20;

/// `server.yaml` no longer loads: the running configuration is kept until it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleConfig {
    /// The configuration file, as it was named.
    pub file: String,
    /// Why it does not load (the loader's words; escaped where it is shown).
    pub error: String,
    /// The same in Russian, for the Russian dashboard.
    pub error_ru: String,
    /// Unix seconds: since when it has not loaded.
    pub since: u64,
}

/// One reload, for the operator.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadRecord {
    /// Unix seconds.
    pub at: u64,
    /// `startup`, `files`, `signal`, `settle` or `request` (`POST /reload`).
    pub trigger: &'static str,
    /// What devices now see differently, or why the reload failed.
    pub outcome: String,
    pub ok: bool,
    pub duration_ms: u64,
}

pub struct AppState {
    snapshot: ArcSwap<Snapshot>,
    pub metrics: Metrics,
    fleet: Mutex<Fleet>,
    reloads: Mutex<VecDeque<ReloadRecord>>,
    pub started: SystemTime,
    /// How long a client may take to send a request body.
    pub request_timeout: Duration,
    /// Device requests, one line each, written off the request path.
    pub access_log: AccessLog,
    /// The fleet's memory across restarts, written off the request path.
    pub inventory: Inventory,
    /// Who is admitted to which release under rollout, and which rollouts are halted.
    pub admissions: Admissions,
    /// Each rollout's latest projected finish, refreshed by the rollout watch.
    pub forecasts: Forecasts,
    reload_total: std::sync::atomic::AtomicUsize,
    /// `POST /reload` on the admin listener wakes the reloader through this.
    pub reload_requested: tokio::sync::Notify,
    /// Who asked for the reload `reload_requested` wakes (the audit trail's actor).
    reload_requester: ReloadRequesters,
    /// A stop was requested: answers close their connection instead of keeping it alive.
    draining: AtomicBool,
    /// The TLS certificate serving, when native TLS is on (for `/status` and `/metrics`).
    pub certificates: std::sync::OnceLock<Arc<CertificateStore>>,
    /// Set by the reloader while `server.yaml` does not load.
    config_stale: Mutex<Option<StaleConfig>>,
    /// The configuration file, as named (none when the settings come from flags only),
    /// for the `config_stale` metric's label.
    pub config_file: std::sync::OnceLock<String>,
    /// Who may use the admin listener (`operators:` and `admin_token`), replaced whole by a
    /// reload of `server.yaml` that changes them; the admin guard reads it per request.
    operators: ArcSwap<OperatorTable>,
}

impl AppState {
    pub fn new(
        snapshot: Snapshot,
        fleet_cap: usize,
        request_timeout: Duration,
        access_log: AccessLog,
        inventory: Inventory,
        operators: OperatorTable,
    ) -> anyhow::Result<AppState> {
        let metrics = Metrics::new()?;
        let state = AppState {
            snapshot: ArcSwap::from_pointee(snapshot),
            metrics,
            fleet: Mutex::new(Fleet::new(fleet_cap)),
            reloads: Mutex::new(VecDeque::new()),
            started: SystemTime::now(),
            request_timeout,
            access_log,
            inventory,
            admissions: Admissions::default(),
            forecasts: Forecasts::default(),
            reload_requested: tokio::sync::Notify::new(),
            reload_requester: ReloadRequesters::default(),
            reload_total: std::sync::atomic::AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            certificates: std::sync::OnceLock::new(),
            config_stale: Mutex::new(None),
            config_file: std::sync::OnceLock::new(),
            operators: ArcSwap::from_pointee(operators),
        };
        state.update_gauges(&state.snapshot_arc());
        state.inventory.set_groups(groups_of(&state.snapshot_arc()));
        Ok(state)
    }

    /// Who may use the admin listener now.
    pub fn operators(&self) -> Arc<OperatorTable> {
        self.operators.load_full()
    }

    /// From the next admin request on, these operators (a reload changed them).
    pub fn set_operators(&self, operators: OperatorTable) {
        self.operators.store(Arc::new(operators));
    }

    /// The rollouts as the request path asks them: `rollout().offer(..)`.
    pub fn rollout(&self) -> RolloutGate<'_> {
        RolloutGate::new(&self.admissions, &self.inventory)
    }

    /// The snapshot to answer one request from. Hold it only while answering.
    pub fn snapshot(&self) -> Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// The snapshot, as an owned `Arc` (for long work such as a rescan).
    pub fn snapshot_arc(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Replaces the snapshot for every request that starts from now on.
    pub fn store_arc(&self, snapshot: Arc<Snapshot>) {
        self.update_gauges(&snapshot);
        self.inventory.set_groups(groups_of(&snapshot));
        self.snapshot.store(snapshot);
    }

    /// The fleet view. A panic while it was held cannot leave it half-updated in a way that
    /// matters (it is a cache of observations), so a poisoned lock is used as it is.
    pub fn fleet(&self) -> MutexGuard<'_, Fleet> {
        self.fleet.lock_recover()
    }

    /// From now on every answer closes its connection (the server is stopping).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Asks the reloader for a reload on behalf of `operator` (its name goes to the audit
    /// trail).
    pub fn request_reload(&self, operator: &str) {
        self.reload_requester.add(operator);
        self.reload_requested.notify_one();
    }

    /// Who asked for the reload being made: every operator who asked since the last one
    /// (requests that come together make one reload), never a name nobody gave.
    pub fn take_reload_requester(&self) -> String {
        self.reload_requester.take()
    }

    /// How many reloads were recorded since start (the history keeps only the last ones).
    pub fn reload_count(&self) -> usize {
        self.reload_total.load(Ordering::SeqCst)
    }

    pub fn record_reload(&self, record: ReloadRecord) {
        self.reload_total.fetch_add(1, Ordering::SeqCst);
        self.metrics.reload(record.ok);
        let mut reloads = self.reloads.lock_recover();
        if reloads.len() == RELOADS_KEPT {
            reloads.pop_front();
        }
        reloads.push_back(record);
    }

    /// `server.yaml` failed to load (`Some`), or loaded (`None`). A file that stays broken
    /// keeps the time it first failed, whatever its error says now.
    pub fn set_config_stale(&self, stale: Option<StaleConfig>) {
        let mut kept = self.config_stale.lock_recover();
        *kept = match (kept.take(), stale) {
            (Some(before), Some(now)) => Some(StaleConfig {
                since: before.since,
                ..now
            }),
            (_, now) => now,
        };
    }

    /// Why `server.yaml` does not load, while it does not.
    pub fn config_stale(&self) -> Option<StaleConfig> {
        self.config_stale.lock_recover().clone()
    }

    /// The last reloads, newest first.
    pub fn reloads(&self) -> Vec<ReloadRecord> {
        let reloads = self.reloads.lock_recover();
        reloads.iter().rev().cloned().collect()
    }

    fn update_gauges(&self, snapshot: &Snapshot) {
        let current = snapshot
            .releases
            .current()
            .map_or(0, |r| r.version.as_u32());
        let critical = snapshot.critical.map_or(0, |c| c.version.as_u32());
        self.metrics.state(current, critical);
        let groups = snapshot
            .groups_file
            .as_ref()
            .map(|file| (file.path.display().to_string(), file.broken.is_some()));
        self.metrics
            .groups_stale(groups.as_ref().map(|(path, stale)| (path.as_str(), *stale)));
    }
}

/// The operators who asked for a reload not yet made. Asks that come while one is pending
/// make one reload (the reloader's wake-up holds one permit), so each name is kept, not
/// the last one only: an admin's `POST /reload` and a publisher's pause at the same moment
/// make one record naming both, never one of them for the other's.
#[derive(Default)]
struct ReloadRequesters(Mutex<Vec<String>>);

impl ReloadRequesters {
    /// Names kept for one reload; more distinct ones are summed up as `…`.
    const MAX: usize = 8;

    fn add(&self, operator: &str) {
        let mut names = self.0.lock_recover();
        if !names.iter().any(|n| n == operator) && names.len() <= Self::MAX {
            names.push(operator.to_string());
        }
    }

    /// The names, joined, and forgotten; `unknown` when nobody said (no caller does that).
    fn take(&self) -> String {
        let mut names = std::mem::take(&mut *self.0.lock_recover());
        if names.is_empty() {
            return crate::store::audit_events::UNKNOWN.to_string();
        }
        if names.len() > Self::MAX {
            names.truncate(Self::MAX);
            names.push("…".to_string());
        }
        names.join(", ")
    }
}

#[cfg(test)]
mod reload_requester_tests {
    use super::ReloadRequesters;

    #[test]
    fn every_operator_who_asked_is_named_once_and_then_forgotten() {
        let asked = ReloadRequesters::default();
        asked.add("Иванов");
        asked.add("Сборка");
        asked.add("Иванов");
        assert_eq!(asked.take(), "Иванов, Сборка");
        assert_eq!(asked.take(), "unknown");
        for n in 0..20 {
            asked.add(&format!("op{n}"));
        }
        assert_eq!(asked.take(), "op0, op1, op2, op3, op4, op5, op6, op7, …");
    }
}
