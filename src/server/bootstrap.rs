//! Everything before the first connection is accepted: the sockets, the TLS certificate,
//! the first scan, the shared state, and what the inventory remembers of the fleet and of
//! the rollouts. Its steps run in the order their log lines have always come in.

use std::sync::Arc;
use std::time::Instant;

use actix_web::web;
use anyhow::{Context, Result};
use log::{info, warn};

use super::listeners::{self, Listeners};
use super::LOG;
use crate::app_state::{AppState, ReloadRecord};
use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::catalog::write_ledger::WriteLedger;
use crate::config::cli::RawArgs;
use crate::config::tls::{self, CertificateStore};
use crate::config::Config;
use crate::model::clock;
use crate::model::lang::Lang;
use crate::observe::access_log::AccessLog;
use crate::platform::open_files;
use crate::reload::reloader::Reloader;
use crate::rollout::watch as rollout_watch;
use crate::store::{self, Event, HistoryKind, Inventory};

/// What start-up hands to the servers and the background tasks.
pub(super) struct Booted {
    pub listeners: Listeners,
    /// The open-file limit after raising it, when the platform has one.
    pub open_files: Option<u64>,
    pub state: web::Data<AppState>,
    /// The certificate files and the TLS settings made from them (`tls_listen` set).
    pub tls: Option<Tls>,
    /// Set up now, before any listener answers, so that an early SIGHUP cannot kill us.
    pub reloader: Reloader,
    /// Where the rollout watch takes up the admissions of other instances.
    pub admissions_since: u64,
}

/// The certificate files, watched for renewal, and the rustls settings serving them.
pub(super) struct Tls {
    pub certificates: Arc<CertificateStore>,
    pub config: rustls::ServerConfig,
}

/// Takes the sockets, scans, builds the state and restores what the inventory remembers.
/// `raw` is kept by the reloader to re-read the configuration with the same flags.
pub(super) fn bootstrap(config: &Config, raw: RawArgs) -> Result<Booted> {
    let started = Instant::now();
    let open_files = open_files::raise_to_hard_limit();
    // Sockets first: a port in use is said before anything is scanned, and with systemd's
    // sockets connections queue in the kernel until we accept them.
    let listeners = listeners::take(config)?;
    let tls = open_tls(config)?;
    for warning in config.warnings() {
        warn!(target: LOG, "{warning}");
    }
    let state = first_scan(config, started)?;
    restore_fleet(&state, config.fleet_max_devices);
    let admissions_since = rollout_watch::restore(&state);
    record_started(&state);
    if let Some(tls) = &tls {
        // Filled before any listener runs: the admin pages never see it empty.
        let _ = state.certificates.set(tls.certificates.clone());
    }
    let reloader = Reloader::new(state.clone(), raw, config.clone());
    Ok(Booted {
        listeners,
        open_files,
        state,
        tls,
        reloader,
        admissions_since,
    })
}

/// The certificate and key files, read and checked, when HTTPS is configured.
fn open_tls(config: &Config) -> Result<Option<Tls>> {
    let Some(setting) = &config.tls else {
        return Ok(None);
    };
    let certificates = Arc::new(
        CertificateStore::open(setting.files.clone()).map_err(|e| crate::words::Said::of(&e))?,
    );
    let config = tls::server_config(certificates.clone())?;
    Ok(Some(Tls {
        certificates,
        config,
    }))
}

/// The first scan, logged, and the state built around it, with the scan as its first reload.
fn first_scan(config: &Config, started: Instant) -> Result<web::Data<AppState>> {
    let snapshot = Snapshot::scan(
        &config.scan_settings(),
        clock::now(),
        None,
        &WriteLedger::default(),
    );
    super::log_snapshot(&snapshot);
    let outcome = snapshot_report::current_line(&snapshot, Lang::operator());
    let state = web::Data::new(
        AppState::new(
            snapshot,
            config.fleet_max_devices,
            config.request_timeout,
            AccessLog::start(config.access_log.clone()),
            Inventory::start(inventory_settings(config)),
            config.operator_table(),
        )
        .context("cannot set up metrics")?,
    );
    state.record_reload(ReloadRecord {
        at: clock::unix_now(),
        trigger: "startup",
        outcome,
        ok: true,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    Ok(state)
}

/// The "started" entry of the inventory's history, with the release now offered.
fn record_started(state: &AppState) {
    state.inventory.record(Event::History {
        at: clock::unix_now(),
        kind: HistoryKind::Started,
        line: "".into(),
        version: state
            .snapshot()
            .releases
            .current()
            .map(|r| r.version.as_u32()),
        detail: snapshot_report::current_line(&state.snapshot(), Lang::operator()),
    });
}

/// The inventory's settings from the configuration.
pub fn inventory_settings(config: &Config) -> store::Settings {
    store::Settings {
        store: config.inventory.clone(),
        stuck_after: config.stuck_after_s,
        retention_days: config.inventory_retention_days,
    }
}

/// Loads the most recently seen devices from the inventory into the fleet view, so the
/// dashboard lists the fleet right after a restart.
fn restore_fleet(state: &AppState, cap: usize) {
    if !state.inventory.is_on() {
        return;
    }
    let started = Instant::now();
    let filter = store::device_reads::DeviceFilter {
        limit: cap as u64,
        ..Default::default()
    };
    let stuck_after = state.inventory.settings().stuck_after;
    let now = clock::unix_now();
    match state
        .inventory
        .read_blocking(|db| store::device_reads::devices(db, &filter, now, stuck_after))
    {
        Ok((total, rows)) => {
            let mut fleet = state.fleet();
            for row in rows.into_iter().rev() {
                if let Some(device) = remembered_device(row) {
                    fleet.restore(device);
                }
            }
            state.metrics.devices(fleet.len());
            info!(
                target: LOG,
                "inventory {}: {total} devices remembered, {} loaded into the fleet view in {} ms",
                state.inventory.settings().store,
                fleet.len(),
                started.elapsed().as_millis()
            );
        }
        Err(e) => warn!(
            target: LOG,
            "inventory {}: cannot load the fleet: {e:#}",
            state.inventory.settings().store
        ),
    }
}

/// A device as the fleet view holds it, from its inventory row; none if its address does
/// not parse.
fn remembered_device(row: store::device_reads::DeviceRow) -> Option<crate::observe::fleet::Device> {
    let address = row.address.parse().ok()?;
    Some(crate::observe::fleet::Device {
        address,
        user_agent: row.user_agent.into(),
        build_date: row.build_date,
        offered: row.offered,
        update_available: row.outcome.is_some(),
        critical: false,
        last_check_in: row.build_date.map(|_| row.last_seen),
        serial: row
            .serials
            .first()
            .and_then(|s| crate::licenses::serial::Serial::parse_file_form(s)),
        last_seen: row.last_seen,
    })
}
