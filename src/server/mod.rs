//! The server's lifecycle, one step a file: `bootstrap` (the sockets, the first scan, the
//! state, what the inventory remembers), `device_server` (plain HTTP and HTTPS for the
//! registers, with the access log and metrics as middleware), `admin_server`, `background`
//! (the reloader and the watches, owned by one handle), and `shutdown` (a graceful drain on
//! SIGTERM, then everything closed in order). `serve` runs them in that order.

mod admin_server;
mod background;
mod bootstrap;
mod device_server;
mod listeners;
mod shutdown;

use anyhow::Result;
use log::{error, info, warn};

use crate::catalog::snapshot::Snapshot;
use crate::catalog::snapshot_report;
use crate::config::cli::RawArgs;
use crate::config::Config;
use crate::model::lang::{fill, Lang};
use crate::platform::stop_signal::StopSignal;
use crate::words::Words;
use background::Background;
use device_server::DeviceServers;
use shutdown::Drain;

pub use bootstrap::inventory_settings;

/// The target of every log line of the lifecycle, whichever of its files writes it: the
/// one these lines have always carried (`[… INFO  kkt_update_server::server] listening
/// on …`), which operators filter and grep by.
const LOG: &str = module_path!();

/// Scans, logs what devices will be offered, and serves until SIGINT/SIGTERM, then lets
/// running requests (downloads) finish for up to `shutdown_timeout`.
/// `raw` is kept to re-read the configuration on reload with the same flags laid over it.
pub async fn serve(config: Config, raw: RawArgs) -> Result<()> {
    let booted = bootstrap::bootstrap(&config, raw)?;
    let state = booted.state;
    let listeners = booted.listeners;
    // Before any listener answers: a SIGTERM from now on drains (see `StopSignal`).
    let stop = StopSignal::new();
    let tls_settings = booted.tls.as_ref().map(|tls| &tls.config);
    let devices = DeviceServers::bind(
        &config,
        &state,
        listeners.device,
        listeners.tls.zip(tls_settings),
        booted.open_files,
    )?;
    let admin_over_tls = tls_settings.filter(|_| config.tls.as_ref().is_some_and(|t| t.admin));
    let admin = match listeners.admin {
        Some(listener) => Some(admin_server::start(
            &config,
            &state,
            listener,
            admin_over_tls,
        )?),
        None => None,
    };
    let certificates = booted.tls.map(|tls| tls.certificates);
    let background = Background::start(
        &state,
        booted.reloader,
        certificates,
        booted.admissions_since,
    );
    let devices = devices.start();
    shutdown::on_stop_signal(
        stop,
        Drain {
            state: state.clone(),
            servers: devices.handles(),
            own_sockets: listeners.bound_here,
            open: devices.open.clone(),
            drain_for: config.shutdown_timeout,
        },
    );
    let result = devices.serve().await;
    shutdown::finish(&state, background, admin).await;
    result
}

/// The log's words in the operator's language.
fn operator_log() -> &'static crate::words::log::LogText {
    Words::of(Lang::operator()).log
}

/// Logs the summary lines and every problem of a snapshot, in the operator's language.
pub fn log_snapshot(snapshot: &Snapshot) {
    let lang = Lang::operator();
    info!("{}", snapshot_report::current_line(snapshot, lang));
    info!("{}", snapshot_report::critical_line(snapshot, lang));
    if let Some(lines) = snapshot_report::lines_line(snapshot, lang) {
        info!("{lines}");
    }
    info!("{}", snapshot_report::licenses_line(snapshot, lang));
    if let Some(groups) = snapshot_report::groups_line(snapshot, lang) {
        info!("{}", crate::model::one_line::escaped(&groups));
    }
    for problem in snapshot_report::errors(snapshot, lang) {
        warn!("{problem}");
    }
    for warning in snapshot_report::warnings(snapshot, lang) {
        warn!("{warning}");
    }
    // A license file broken at start has nothing loaded before to fall back on: said as an
    // error, with what devices get meanwhile (the dashboard, /status, /readyz and the
    // kkt_licenses_stale metric say it too).
    for file in &snapshot.licenses.files {
        if let Some(broken) = &file.broken {
            error!(
                "{}",
                fill(
                    Words::of(lang).log.license_file_broken,
                    &[
                        (
                            "file",
                            &crate::model::one_line::escaped(&file.path.display().to_string())
                        ),
                        (
                            "why",
                            &crate::model::one_line::escaped(broken.reason.in_language(lang))
                        ),
                    ],
                )
            );
        }
    }
}
