//! The tasks that run beside the servers for as long as they serve: the reloader (file
//! changes, SIGHUP, the admin's reload), the certificate watch and the rollout watch. One
//! handle owns them, so that shutdown ends them deliberately, before the access log and
//! the inventory they write to are closed, instead of leaving them to the runtime's end.

use std::future::Future;
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
        let mut background = Background { tasks: Vec::new() };
        background.spawn(reloader.run());
        if let Some(store) = certificates {
            background.spawn(certificate_watch::run(store));
        }
        background.spawn(rollout_watch::run(state.clone(), admissions_since));
        background
    }

    /// Runs `task` on the server's runtime, owned by this handle.
    fn spawn(&mut self, task: impl Future<Output = ()> + 'static) {
        self.tasks.push(actix_web::rt::spawn(task));
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::Background;

    /// Set when the task that holds it is dropped, that is, ended.
    struct Ended(Arc<AtomicBool>);

    impl Drop for Ended {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn stop_ends_tasks_that_would_run_forever() {
        let ended = Arc::new(AtomicBool::new(false));
        let guard = Ended(ended.clone());
        actix_web::rt::System::new().block_on(async move {
            let mut background = Background { tasks: Vec::new() };
            background.spawn(async move {
                let _guard = guard;
                loop {
                    actix_web::rt::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            });
            // Let it start and reach its sleep.
            actix_web::rt::task::yield_now().await;
            assert!(!ended.load(Ordering::SeqCst));
            let stopped =
                actix_web::rt::time::timeout(std::time::Duration::from_secs(5), background.stop())
                    .await;
            assert!(stopped.is_ok(), "stop waited for a task that never ends");
            assert!(
                ended.load(Ordering::SeqCst),
                "stop returned with the task alive"
            );
        });
    }
}
