//! The end of serving: on SIGINT/SIGTERM a drain that loses no device, then the background
//! tasks ended, the access log and the inventory flushed, and the admin listener stopped
//! last, so that an operator can watch the drain to its end.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::web;
use log::{info, warn};

use super::background::Background;
use super::device_server::OpenConnections;
use super::{operator_log, LOG};
use crate::app_state::AppState;
use crate::platform::{listen_sockets, stop_signal};

/// How long after pausing the accept loop a just-accepted connection may take to be counted.
const ACCEPT_GRACE: Duration = Duration::from_millis(50);

/// What a stop needs: the device servers, the sockets bound here, their open connections,
/// and how long the drain may take (`shutdown_timeout_s`).
pub(super) struct Drain {
    pub state: web::Data<AppState>,
    pub servers: Vec<ServerHandle>,
    pub own_sockets: Vec<TcpListener>,
    pub open: OpenConnections,
    pub drain_for: Duration,
}

/// Waits, in a task of its own, for SIGINT/SIGTERM (or the Windows service's stop), then
/// drains the device servers. `stop` is made before anything is answered (`StopSignal`).
pub(super) fn on_stop_signal(stop: stop_signal::StopSignal, drain: Drain) {
    actix_web::rt::spawn(async move {
        let what = stop.requested().await;
        info!(
            target: LOG,
            "{what} received: new connections wait in the queue for the next process \
             (with systemd's sockets) or are refused; answering the requests in flight and \
             letting downloads finish for up to {} s",
            drain.drain_for.as_secs()
        );
        drain.run().await;
    });
}

impl Drain {
    /// A stop that loses no device. actix's own graceful stop closes every connection that
    /// has no request under way, including fresh ones whose request is still in the socket
    /// buffer: that device gets nothing. So instead: stop accepting (with systemd's socket,
    /// new connections wait in the kernel's queue for the next process; a socket we bound
    /// stops listening, so new connections are refused and a load balancer tries
    /// elsewhere), answer everything on the connections already open, each answer closing
    /// its connection, and only then stop, or when `drain_for` is over.
    async fn run(self) {
        self.state.start_draining();
        for server in &self.servers {
            server.pause().await;
        }
        let deadline = Instant::now() + self.drain_for;
        // A connection accepted just before the pause may not be counted yet.
        actix_web::rt::time::sleep(ACCEPT_GRACE).await;
        for socket in &self.own_sockets {
            listen_sockets::stop_listening(socket);
        }
        while self.open.count() > 0 && Instant::now() < deadline {
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        let left = self.open.count();
        if left > 0 {
            warn!(
                target: LOG,
                "{left} connections still open after shutdown_timeout_s: closing them"
            );
        }
        for server in &self.servers {
            server.stop(false).await;
        }
    }
}

/// After the device servers have stopped: ends the background tasks, flushes the access
/// log and the inventory, says "stopped", and stops the admin listener.
pub(super) async fn finish(state: &AppState, background: Background, admin: Option<ServerHandle>) {
    background.stop().await;
    state.access_log.close(Duration::from_secs(5));
    state.inventory.close(Duration::from_secs(10));
    info!(target: LOG, "{}", operator_log().stopped);
    if let Some(admin) = admin {
        admin.stop(true).await;
    }
}
