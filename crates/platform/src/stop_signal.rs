//! The request to stop, as each system sends it: SIGTERM (systemd, `kill`) and SIGINT
//! (Ctrl-C) on Unix; Ctrl-C and the console closing on Windows; and, on every system, a
//! stop asked from inside the process (the Windows service control manager's Stop or
//! Shutdown, see `service_control`). Start-up waits on it and then drains.

use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

use crate::lock_recover::LockRecover;

/// A stop asked from inside the process, and by whom.
fn inner() -> &'static (Notify, Mutex<&'static str>) {
    static STOP: OnceLock<(Notify, Mutex<&'static str>)> = OnceLock::new();
    STOP.get_or_init(|| (Notify::new(), Mutex::new("stop request")))
}

/// Asks the running server to drain and stop, as a signal would; `what` goes to the log.
pub fn request_stop(what: &'static str) {
    let (notify, name) = inner();
    *name.lock_recover() = what;
    notify.notify_one();
}

async fn requested_inside() -> &'static str {
    let (notify, name) = inner();
    notify.notified().await;
    *name.lock_recover()
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

/// Ctrl-C, Ctrl-Break, the console window closing, and the machine shutting down (a
/// console program gets a few seconds: the drain starts at once). Not a user logging off:
/// a service is sent that for every user's logoff and must keep serving.
#[cfg(windows)]
pub async fn stop_requested() -> &'static str {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
    let (Ok(mut c), Ok(mut brk), Ok(mut close), Ok(mut shutdown)) =
        (ctrl_c(), ctrl_break(), ctrl_close(), ctrl_shutdown())
    else {
        // No console (the service): the service manager's stop comes from inside.
        return requested_inside().await;
    };
    tokio::select! {
        _ = c.recv() => "Ctrl-C",
        _ = brk.recv() => "Ctrl-Break",
        _ = close.recv() => "the console closing",
        _ = shutdown.recv() => "the system shutting down",
        what = requested_inside() => what,
    }
}

#[cfg(not(any(unix, windows)))]
pub async fn stop_requested() -> &'static str {
    requested_inside().await
}
