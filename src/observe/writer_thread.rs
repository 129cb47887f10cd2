//! What the background writers (the access log, the inventory) share: a lock that survives
//! a panic elsewhere, and a stop that waits for the writer's last batch, but not forever.

use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A poisoned lock still holds usable data: the writers' inboxes are plain lists, which a
/// panic elsewhere cannot leave half-changed.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits up to `timeout` for the writer in `slot` to finish; whether it did.
pub fn join_within(slot: &Mutex<Option<JoinHandle<()>>>, timeout: Duration) -> bool {
    let Some(handle) = lock(slot).take() else {
        return true;
    };
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let finished = handle.is_finished();
    if finished {
        let _ = handle.join();
    }
    finished
}
