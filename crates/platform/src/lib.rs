//! What differs between operating systems, one small module per concern, each hiding its
//! `cfg` so no other wing needs one: file identity and change times (`fingerprint`),
//! whether a file is open for writing (`open_writers`), network file systems (`file_system`),
//! sockets from systemd (`listen_sockets`), the limit on open files (`open_files`), the stop
//! request (`stop_signal`), root or not (`process_user`), the reload request
//! (`reload_signal`), how long unread response bytes may wait (`send_timeout`), syncing a
//! folder (`durable`), the system's own folders (`system_folders`), where an installed copy
//! keeps its configuration (`installed_config`), opening only a regular file, never through
//! a link (`regular_file`), working inside a group-writable folder relative to opened
//! folders, never led out by a swapped-in link (`shared_dir`), folders and files the
//! folder's group may manage, and who refuses when it may not (`shared_folder`), the Windows service (`windows_service`, with its
//! answers to the service manager in `service_control`). Plus the one helper every crate
//! needs that is no operating-system difference: taking a poisoned lock (`lock_recover`),
//! here because this crate is the one all others reach.
//! A crate of its own (kkt-platform), the lowest of the workspace: it uses no other part of
//! the server, so every crate above may use it (`crate::platform::…` in the server).

pub mod durable;
pub mod file_system;
pub mod fingerprint;
pub mod installed_config;
pub mod listen_sockets;
pub mod lock_recover;
pub mod open_files;
pub mod open_writers;
pub mod process_user;
pub mod regular_file;
pub mod reload_signal;
pub mod send_timeout;
pub mod service_control;
pub mod shared_dir;
pub mod shared_folder;
pub mod stop_signal;
pub mod system_folders;
pub mod system_language;
pub mod windows_service;
