//! What the background writers (the access log, the inventory) share: a stop that waits for
//! the writer's last batch, but not forever. (Their locks survive a panic elsewhere through
//! `platform::lock_recover`, like every lock of the server.)

use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::platform::lock_recover::LockRecover;

/// Waits up to `timeout` for the writer in `slot` to finish; whether it did.
pub fn join_within(slot: &Mutex<Option<JoinHandle<()>>>, timeout: Duration) -> bool {
    let Some(handle) = slot.lock_recover().take() else {
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
