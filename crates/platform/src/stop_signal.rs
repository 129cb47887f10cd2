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

/// The stop requests this process listens for, registered when made: made before the
/// server answers anything, so that a SIGTERM arriving just after start-up (a unit stopped
/// as it starts) drains like any other, instead of ending the process by the signal's
/// default action with the records of what it answered still unwritten.
pub struct StopSignal {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
    #[cfg(windows)]
    console: Option<WindowsConsole>,
}

#[cfg(windows)]
struct WindowsConsole {
    c: tokio::signal::windows::CtrlC,
    brk: tokio::signal::windows::CtrlBreak,
    close: tokio::signal::windows::CtrlClose,
    shutdown: tokio::signal::windows::CtrlShutdown,
}

impl StopSignal {
    /// Must run inside the server's runtime.
    pub fn new() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                _ => {
                    log::error!("cannot handle SIGTERM/SIGINT; stop the process with SIGKILL");
                    None
                }
            };
            StopSignal { signals }
        }
        // Ctrl-C, Ctrl-Break, the console window closing, and the machine shutting down (a
        // console program gets a few seconds: the drain starts at once). Not a user
        // logging off: a service is sent that for every user's logoff and must keep
        // serving. No console (the service): the service manager's stop comes from inside.
        #[cfg(windows)]
        {
            use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
            let console = match (ctrl_c(), ctrl_break(), ctrl_close(), ctrl_shutdown()) {
                (Ok(c), Ok(brk), Ok(close), Ok(shutdown)) => Some(WindowsConsole {
                    c,
                    brk,
                    close,
                    shutdown,
                }),
                _ => None,
            };
            StopSignal { console }
        }
        #[cfg(not(any(unix, windows)))]
        {
            StopSignal {}
        }
    }

    /// Waits for a stop request; the name of what asked, for the log.
    pub async fn requested(self) -> &'static str {
        #[cfg(unix)]
        {
            let Some((mut term, mut int)) = self.signals else {
                return requested_inside().await;
            };
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
                what = requested_inside() => what,
            }
        }
        #[cfg(windows)]
        {
            let Some(mut w) = self.console else {
                return requested_inside().await;
            };
            tokio::select! {
                _ = w.c.recv() => "Ctrl-C",
                _ = w.brk.recv() => "Ctrl-Break",
                _ = w.close.recv() => "the console closing",
                _ = w.shutdown.recv() => "the system shutting down",
                what = requested_inside() => what,
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            requested_inside().await
        }
    }
}

impl Default for StopSignal {
    fn default() -> StopSignal {
        StopSignal::new()
    }
}
