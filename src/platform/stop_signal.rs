//! The request to stop, as each system sends it: SIGTERM (systemd, `kill`) and SIGINT
//! (Ctrl-C) on Unix; Ctrl-C and the console closing on Windows; and, on every system, a
//! stop asked from inside the process (the Windows service control manager's Stop or
//! Shutdown, see `service_control`). Start-up waits on it and then drains.

use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

/// A stop asked from inside the process, and by whom.
fn inner() -> &'static (Notify, Mutex<&'static str>) {
    static STOP: OnceLock<(Notify, Mutex<&'static str>)> = OnceLock::new();
    STOP.get_or_init(|| (Notify::new(), Mutex::new("stop request")))
}

/// Asks the running server to drain and stop, as a signal would; `what` goes to the log.
pub fn request_stop(what: &'static str) {
    let (notify, name) = inner();
    *name.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = what;
    notify.notify_one();
}

async fn requested_inside() -> &'static str {
    let (notify, name) = inner();
    notify.notified().await;
    *name.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits for a stop request; the name of what asked, for the log.
#[cfg(unix)]
pub async fn stop_requested() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            what = requested_inside() => what,
        },
        _ => {
            log::error!("cannot handle SIGTERM/SIGINT; stop the process with SIGKILL");
            requested_inside().await
        }
    }
}

#[cfg(not(unix))]
pub async fn stop_requested() -> &'static str {
    tokio::select! {
        result = tokio::signal::ctrl_c() => match result {
            Ok(()) => "Ctrl-C",
            Err(_) => requested_inside().await,
        },
        what = requested_inside() => what,
    }
}
