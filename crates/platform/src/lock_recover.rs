//! Taking a lock whose holder panicked. std marks such a lock poisoned and makes every
//! later `lock()` an `Err`; unwrapping that would turn one panic (a bug in one request)
//! into a panic of every request after it, and a server that must keep answering devices
//! cannot afford that. Every lock of the server guards data that a panic cannot leave
//! half-changed in a way that matters (a list appended to, a cache of observations, a
//! value replaced whole), so a poisoned lock is used as it is. This is the one place that
//! says so: `mutex.lock_recover()`, `rwlock.read_recover()`, `rwlock.write_recover()`,
//! `condvar.wait_timeout_recover(guard, timeout)`.
//!
//! Not an operating-system difference: it lives here because this is the lowest crate of
//! the workspace, which every other can reach.

use std::sync::RwLockWriteGuard;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

/// `lock()` that takes a poisoned mutex as it is.
pub trait LockRecover<T: ?Sized> {
    fn lock_recover(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockRecover<T> for Mutex<T> {
    fn lock_recover(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `read()` and `write()` that take a poisoned lock as it is.
pub trait RwLockRecover<T: ?Sized> {
    fn read_recover(&self) -> RwLockReadGuard<'_, T>;
    fn write_recover(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockRecover<T> for RwLock<T> {
    fn read_recover(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_recover(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `wait_timeout()` that takes a poisoned mutex as it is; whether the wait timed out is
/// not said (callers look at the data and the clock again).
pub trait CondvarRecover {
    fn wait_timeout_recover<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> MutexGuard<'a, T>;
}

impl CondvarRecover for Condvar {
    fn wait_timeout_recover<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> MutexGuard<'a, T> {
        self.wait_timeout(guard, timeout)
            .map_or_else(|poisoned| poisoned.into_inner().0, |(guard, _)| guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_poisoned_mutex_is_used_as_it_is() {
        let mutex = Arc::new(Mutex::new(vec![1]));
        let held = Arc::clone(&mutex);
        let _ = std::thread::spawn(move || {
            let mut guard = held.lock().unwrap();
            guard.push(2);
            panic!("a holder panics");
        })
        .join();
        assert!(mutex.is_poisoned());
        assert_eq!(*mutex.lock_recover(), vec![1, 2]);
        let condvar = Condvar::new();
        let guard = condvar.wait_timeout_recover(mutex.lock_recover(), Duration::from_millis(1));
        assert_eq!(*guard, vec![1, 2]);
    }

    #[test]
    fn a_poisoned_rwlock_is_used_as_it_is() {
        let lock = Arc::new(RwLock::new(1));
        let held = Arc::clone(&lock);
        let _ = std::thread::spawn(move || {
            let mut guard = held.write().unwrap();
            *guard = 2;
            panic!("a holder panics");
        })
        .join();
        assert!(lock.is_poisoned());
        assert_eq!(*lock.read_recover(), 2);
        *lock.write_recover() = 3;
        assert_eq!(*lock.read_recover(), 3);
    }
}
