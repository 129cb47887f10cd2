//! Hot reload: the filesystem watcher (one signal, "something may have changed") and the
//! reloader that debounces, rescans off to the side and swaps the snapshot in one store.
//! May use `app_state` and everything below it; nothing uses it but start-up.

pub mod reloader;
pub mod watcher;
