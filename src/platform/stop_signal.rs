//! The request to stop, as each system sends it: SIGTERM (systemd, `kill`) and SIGINT
//! (Ctrl-C) on Unix; Ctrl-C and the console closing on Windows. Start-up waits on it and
//! then drains.

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
        },
        _ => {
            log::error!("cannot handle SIGTERM/SIGINT; stop the process with SIGKILL");
            std::future::pending().await
        }
    }
}

#[cfg(not(unix))]
pub async fn stop_requested() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(_) => std::future::pending().await,
    }
}
