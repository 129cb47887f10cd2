//! The operator's "reload now": SIGHUP on Unix (`systemctl reload`, `kill -HUP`). Windows
//! has no such signal; there a change is seen by the watcher, and a restart of the service
//! rescans everything.

/// Waits for reload requests.
pub struct ReloadSignal {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl ReloadSignal {
    /// Must run inside the server's runtime, before it answers, so that an early SIGHUP
    /// cannot end the process (its default action).
    pub fn new() -> ReloadSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let hangup = match signal(SignalKind::hangup()) {
                Ok(hangup) => Some(hangup),
                Err(e) => {
                    log::error!("cannot handle SIGHUP: {e}");
                    None
                }
            };
            ReloadSignal { hangup }
        }
        #[cfg(not(unix))]
        {
            ReloadSignal {}
        }
    }

    /// The next reload request (never, where there is no way to send one).
    pub async fn next(&mut self) -> Option<()> {
        #[cfg(unix)]
        {
            match &mut self.hangup {
                Some(hangup) => hangup.recv().await,
                None => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            std::future::pending().await
        }
    }
}

impl Default for ReloadSignal {
    fn default() -> ReloadSignal {
        ReloadSignal::new()
    }
}
