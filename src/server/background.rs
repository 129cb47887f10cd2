//! The tasks that run beside the servers for as long as they serve: the reloader (file
//! changes, SIGHUP, the admin's reload), the certificate watch and the rollout watch. One
//! handle owns them, so that shutdown ends them deliberately, before the access log and
//! the inventory they write to are closed, instead of leaving them to the runtime's end.

use std::sync::Arc;

use actix_web::rt::task::JoinHandle;
use actix_web::web;

use crate::app_state::AppState;
use crate::config::tls::CertificateStore;
use crate::reload::certificate_watch;
use crate::reload::reloader::Reloader;
use crate::rollout::watch as rollout_watch;

/// The background tasks, running.
pub(super) struct Background {
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the reloader, the certificate watch (HTTPS only) and the rollout watch.
    pub fn start(
        state: &web::Data<AppState>,
        reloader: Reloader,
        certificates: Option<Arc<CertificateStore>>,
        admissions_since: u64,
    ) -> Background {
        let mut tasks = vec![actix_web::rt::spawn(reloader.run())];
        if let Some(store) = certificates {
            tasks.push(actix_web::rt::spawn(certificate_watch::run(store)));
        }
        tasks.push(actix_web::rt::spawn(rollout_watch::run(
            state.clone(),
            admissions_since,
        )));
        Background { tasks }
    }

    /// Ends every task and waits until each has: none of them ends by itself (they run
    /// until the process ends), and none holds anything that must be finished, so they
    /// are cancelled at their next await (a scan or a query already under way on a
    /// blocking thread finishes there and its result is dropped).
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            // Cancelled, or already returned: either way it is over.
            let _ = task.await;
        }
    }
}
