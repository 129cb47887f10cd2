//! Filesystem watching, reduced to "something may have changed" plus what inotify says of
//! writers (a file written and not yet closed). The notify callback only forwards into a
//! bounded channel; the reloader keeps the write ledger, debounces and rescans everything.
//! Event paths are never trusted (inotify loses events for files created before a watch on
//! a new folder exists), so what changed is decided by the scan, not here. When watching
//! cannot start at all (`WatchError`), changes are picked up on SIGHUP and `reload` only.
//!
//! Watched: `firmware_dir` recursively; and, non-recursively, the folders holding the
//! configuration file, each license file and the groups file (so that editors' rename-on-save and
//! delete-then-create are seen), each license folder, and `firmware_dir`'s parent (so that
//! a deleted and re-created `firmware_dir` is seen and watched again).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use log::{debug, error, info, warn};
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::config::{Config, WatchMode};
use crate::platform::{file_system, fingerprint};

/// How many messages may wait for the reloader. Past it a message is dropped and the loss
/// is remembered (`Lost`): writes and closes can then no longer be trusted.
pub const CHANNEL_SIZE: usize = 4096;

/// What the watcher tells the reloader. Every message also means "rescan".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Something may have changed.
    Rescan,
    /// A write to this file (it is being written until it is closed).
    Writing(PathBuf),
    /// This file was closed after writing.
    Closed(PathBuf),
    /// A new file (created, or renamed in from outside): nothing known of its writers.
    New(PathBuf),
    /// Renamed (a temporary name renamed into place).
    Renamed(PathBuf, PathBuf),
    /// Events were lost (a kernel queue overflow, a full channel, a watcher error).
    Lost,
}

/// What an event tells, for a watcher that reports writes and closes (inotify). A poll
/// cannot see writers: every change it reports is only "rescan".
pub fn changes_of(event: &Event, tracks_writers: bool) -> Vec<Change> {
    use notify::event::{CreateKind, ModifyKind, RenameMode};
    if event.need_rescan() {
        return vec![Change::Lost];
    }
    if !tracks_writers {
        return vec![Change::Rescan];
    }
    let each = |make: fn(PathBuf) -> Change| event.paths.iter().cloned().map(make).collect();
    match event.kind {
        EventKind::Modify(ModifyKind::Data(_)) => each(Change::Writing),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => each(Change::Closed),
        EventKind::Create(CreateKind::File)
        | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => each(Change::New),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if event.paths.len() == 2 => {
            vec![Change::Renamed(
                event.paths[0].clone(),
                event.paths[1].clone(),
            )]
        }
        _ => vec![Change::Rescan],
    }
}

/// Whether an event can mean a change. Opening, reading and closing a file unwritten are
/// not changes (notify reports them, and the scan itself causes them: counting them would
/// rescan forever).
pub fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Which changed paths matter. Watching a folder non-recursively to see a file replaced
/// also reports every other file in it (a log file next to `server.yaml` would otherwise
/// trigger a rescan per request): those are ignored. Everything below `firmware_dir` counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchFilter {
    /// Any path below these counts (`firmware_dir`).
    trees: Vec<PathBuf>,
    /// These paths count (the configuration file, license files, `firmware_dir` itself).
    files: Vec<PathBuf>,
    /// Paths directly inside these count (license folders).
    folders: Vec<PathBuf>,
}

impl WatchFilter {
    pub fn new(config: &Config) -> WatchFilter {
        let firmware = absolute(&config.firmware_dir);
        let mut filter = WatchFilter {
            trees: vec![firmware.clone()],
            files: vec![firmware],
            folders: Vec::new(),
        };
        filter.files.extend(config.path.iter().map(|p| absolute(p)));
        for source in &config.licenses {
            let source = absolute(source);
            filter.files.push(source.clone());
            filter.folders.push(source);
        }
        // groups: the groups file, like a license file.
        filter
            .files
            .extend(config.groups.iter().map(|p| absolute(p)));
        filter
    }

    /// Whether a change to `path` can matter.
    pub fn matters(&self, path: &Path) -> bool {
        let path = absolute(path);
        self.trees.iter().any(|tree| path.starts_with(tree))
            || self.files.contains(&path)
            || path
                .parent()
                .is_some_and(|parent| self.folders.iter().any(|f| f == parent))
    }

    /// Whether an event can matter: one with no paths (an overflow) always does.
    pub fn event_matters(&self, event: &Event) -> bool {
        is_change(&event.kind)
            && (event.paths.is_empty() || event.paths.iter().any(|p| self.matters(p)))
    }
}

/// `path` made absolute against the working directory (without touching the disk).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The folders to watch for `config`, with how.
pub fn watch_list(config: &Config) -> BTreeMap<PathBuf, RecursiveMode> {
    let mut list = BTreeMap::new();
    let flat = |path: &Path, list: &mut BTreeMap<PathBuf, RecursiveMode>| {
        list.entry(folder_path(path))
            .or_insert(RecursiveMode::NonRecursive);
    };
    list.insert(folder_path(&config.firmware_dir), RecursiveMode::Recursive);
    flat(&parent(&config.firmware_dir), &mut list);
    if let Some(path) = &config.path {
        flat(&parent(path), &mut list);
    }
    for source in &config.licenses {
        if source.is_dir() {
            flat(source, &mut list);
        }
        flat(&parent(source), &mut list);
    }
    // groups: its folder, so that an editor's rename-on-save is seen.
    if let Some(groups) = &config.groups {
        flat(&parent(groups), &mut list);
    }
    list
}

/// An empty path (the parent of a bare relative name) means the working directory.
fn folder_path(path: &Path) -> PathBuf {
    if path.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        path.to_path_buf()
    }
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Watching could not start; changes are then picked up on SIGHUP and `reload` only. Says
/// what `explain` says.
#[derive(Debug, thiserror::Error)]
#[error("{}", explain(.0))]
pub struct WatchError(notify::Error);

/// The operator-facing explanation of a watch error.
pub fn explain(error: &notify::Error) -> String {
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => format!(
            "{error}: the inotify watch limit is reached; raise it with \
             `sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.d/ to keep it). \
             Until then changes are picked up only on SIGHUP"
        ),
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(24) => format!(
            "{error}: too many inotify instances; raise `sysctl fs.inotify.max_user_instances` \
             (default 128). Until then changes are picked up only on SIGHUP"
        ),
        _ => error.to_string(),
    }
}

/// The event callback: forwards what matters into the bounded channel, nothing else. A
/// message that does not fit is not waited for (the callback runs on notify's thread);
/// the loss is flagged instead, and the reloader then trusts no write state it had.
fn forwarder(
    filter: Arc<ArcSwap<WatchFilter>>,
    changes: mpsc::Sender<Change>,
    lost: Arc<AtomicBool>,
    tracks_writers: bool,
) -> impl Fn(notify::Result<Event>) + Send + 'static {
    move |event: notify::Result<Event>| {
        let messages = match &event {
            Ok(event) if filter.load().event_matters(event) => changes_of(event, tracks_writers),
            Ok(_) => return,
            // An error (say, an event queue overflow) may hide changes.
            Err(_) => vec![Change::Lost],
        };
        for message in messages {
            if let Err(mpsc::error::TrySendError::Full(_)) = changes.try_send(message) {
                lost.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// How one folder is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Watch {
    mode: RecursiveMode,
    polled: bool,
    ino: u64,
}

/// The notify watchers kept alive for as long as this value lives (the system's and, for
/// network shares or `watch: poll`, a polling one), and the folders each watches (with
/// their inode, to notice a folder deleted and created again).
pub struct FsWatcher {
    native: Option<RecommendedWatcher>,
    poll: Option<PollWatcher>,
    changes: mpsc::Sender<Change>,
    /// Set when a message could not be forwarded; the reloader clears it.
    pub lost: Arc<AtomicBool>,
    /// Shared with the notify callbacks; replaced when the configuration changes.
    filter: Arc<ArcSwap<WatchFilter>>,
    watched: BTreeMap<PathBuf, Watch>,
    /// Folders that could not be watched last time, so that each failure is logged once.
    failed: BTreeMap<PathBuf, String>,
}

impl FsWatcher {
    /// Starts a watcher that forwards changes into `changes`.
    pub fn new(changes: mpsc::Sender<Change>) -> Result<FsWatcher, WatchError> {
        let filter = Arc::new(ArcSwap::from_pointee(WatchFilter::default()));
        let lost = Arc::new(AtomicBool::new(false));
        let native = notify::recommended_watcher(forwarder(
            filter.clone(),
            changes.clone(),
            lost.clone(),
            true,
        ))
        .map_err(WatchError)?;
        Ok(FsWatcher {
            native: Some(native),
            poll: None,
            changes,
            lost,
            filter,
            watched: BTreeMap::new(),
            failed: BTreeMap::new(),
        })
    }

    /// Whether `path` is to be polled under `config`, and why (for the log).
    fn poll_reason(config: &Config, path: &Path) -> Option<String> {
        match config.watch {
            WatchMode::Poll => Some("watch: poll".to_string()),
            WatchMode::Notify => None,
            WatchMode::Auto => file_system::network_kind(path).map(|kind| {
                format!(
                    "{kind} network file system: changes made by other machines are not notified"
                )
            }),
        }
    }

    /// Watches what `config` needs: adds new folders, drops old ones, and watches again a
    /// folder that was deleted and created anew.
    ///
    /// A folder watched anew may have changed before its watch was there (a folder moved
    /// back and a release renamed into it at once; a release copied in while the server
    /// starts): events never say what happened before, so a new watch asks for one more
    /// rescan, which decides from the files.
    pub fn sync(&mut self, config: &Config) {
        let filter = WatchFilter::new(config);
        if **self.filter.load() != filter {
            self.filter.store(Arc::new(filter));
        }
        let wanted = watch_list(config);
        self.unwatch_stale(config, &wanted);
        let mut armed = false;
        for (path, mode) in wanted {
            if !self.watched.contains_key(&path) {
                armed |= self.watch(config, path, mode);
            }
        }
        if armed {
            // Full means a rescan is already coming; Closed means the server is stopping.
            let _ = self.changes.try_send(Change::Rescan);
        }
    }

    /// Drops the watches `config` no longer wants, or wants another way, and those of
    /// folders deleted (or replaced) since they were watched.
    fn unwatch_stale(&mut self, config: &Config, wanted: &BTreeMap<PathBuf, RecursiveMode>) {
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(path, watch)| {
                wanted.get(*path) != Some(&watch.mode)
                    || inode(path) != Some(watch.ino)
                    || Self::poll_reason(config, path).is_some() != watch.polled
            })
            .map(|(path, _)| path.clone())
            .collect();
        for path in stale {
            if let Some(watch) = self.watched.remove(&path) {
                let _ = match (watch.polled, &mut self.poll, &mut self.native) {
                    (true, Some(poll), _) => poll.unwatch(&path),
                    (false, _, Some(native)) => native.unwatch(&path),
                    _ => Ok(()),
                };
            }
        }
    }

    /// Watches `path` (natively, or by polling where `config` says); whether it is watched
    /// now. A folder not there yet is watched once it appears, on the next rescan; a
    /// failure is logged once.
    fn watch(&mut self, config: &Config, path: PathBuf, mode: RecursiveMode) -> bool {
        let Some(ino) = inode(&path) else {
            return false;
        };
        let poll_reason = Self::poll_reason(config, &path);
        let result = match &poll_reason {
            Some(_) => self.poller(config).and_then(|poll| poll.watch(&path, mode)),
            None => match &mut self.native {
                Some(native) => native.watch(&path, mode),
                None => Err(notify::Error::generic("no watcher")),
            },
        };
        match result {
            Ok(()) => {
                match &poll_reason {
                    Some(reason) => info!(
                        "watching {} by polling every {} ms ({reason})",
                        path.display(),
                        config.poll_interval.as_millis()
                    ),
                    None => debug!(
                        "watching {}{}",
                        path.display(),
                        if mode == RecursiveMode::Recursive {
                            " and every folder below it"
                        } else {
                            ""
                        }
                    ),
                }
                self.failed.remove(&path);
                let polled = poll_reason.is_some();
                self.watched.insert(path, Watch { mode, polled, ino });
                true
            }
            Err(e) => {
                let message = explain(&e);
                if self.failed.get(&path) != Some(&message) {
                    if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
                        error!("cannot watch {}: {message}", path.display());
                    } else {
                        warn!("cannot watch {}: {message}", path.display());
                    }
                    self.failed.insert(path, message);
                }
                false
            }
        }
    }

    /// The polling watcher, started on first use.
    fn poller(&mut self, config: &Config) -> notify::Result<&mut PollWatcher> {
        if self.poll.is_none() {
            let handler = forwarder(
                self.filter.clone(),
                self.changes.clone(),
                self.lost.clone(),
                false,
            );
            let settings = notify::Config::default().with_poll_interval(config.poll_interval);
            self.poll = Some(PollWatcher::new(handler, settings)?);
        }
        self.poll
            .as_mut()
            .ok_or_else(|| notify::Error::generic("no poll watcher"))
    }
}

fn inode(path: &Path) -> Option<u64> {
    fingerprint::folder_identity(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    #[test]
    fn reads_are_not_changes() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Read)));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(is_change(&EventKind::Any));
    }

    #[test]
    fn only_paths_that_can_matter_count() {
        let raw = crate::config::cli::RawArgs::default();
        let file =
            crate::config::parse_file("licenses: [lic, keys.slf]\ngroups: clients/groups.yaml\n")
                .unwrap();
        let base = Path::new("/srv/kkt");
        let config = Config::resolve(&raw, file, base, Some(base.join("server.yaml"))).unwrap();
        let filter = WatchFilter::new(&config);
        for yes in [
            "/srv/kkt/firmware",
            "/srv/kkt/firmware/20250301/upd_app.bin",
            "/srv/kkt/server.yaml",
            "/srv/kkt/keys.slf",
            "/srv/kkt/lic/a.slf",
            "/srv/kkt/lic",
            "/srv/kkt/clients/groups.yaml",
        ] {
            assert!(filter.matters(Path::new(yes)), "{yes}");
        }
        for no in [
            "/srv/kkt/server.log",
            "/srv/kkt/.server.yaml.swp",
            "/srv/kkt/lic/sub/a.slf",
            "/srv/kkt/firmware2/x",
            "/srv/kkt/clients/other.yaml",
        ] {
            assert!(!filter.matters(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn writes_closes_renames_and_overflows_become_messages() {
        use notify::event::{DataChange, Flag};
        let path = PathBuf::from("/fw/20250301/upd_app.bin");
        let event = |kind| Event::new(kind).add_path(path.clone());
        let write = event(EventKind::Modify(ModifyKind::Data(DataChange::Any)));
        assert_eq!(changes_of(&write, true), [Change::Writing(path.clone())]);
        assert_eq!(
            changes_of(&write, false),
            [Change::Rescan],
            "a poll sees no writers"
        );
        let close = event(EventKind::Access(AccessKind::Close(AccessMode::Write)));
        assert_eq!(changes_of(&close, true), [Change::Closed(path.clone())]);
        let created = event(EventKind::Create(CreateKind::File));
        assert_eq!(changes_of(&created, true), [Change::New(path.clone())]);
        let tmp = PathBuf::from("/fw/20250301/.upd_app.bin.X1");
        let both = Event::new(EventKind::Modify(ModifyKind::Name(RenameMode::Both)))
            .add_path(tmp.clone())
            .add_path(path.clone());
        assert_eq!(changes_of(&both, true), [Change::Renamed(tmp, path)]);
        let overflow = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(changes_of(&overflow, true), [Change::Lost]);
    }

    #[test]
    fn the_watch_limit_error_names_the_sysctl() {
        let text = explain(&notify::Error::new(notify::ErrorKind::MaxFilesWatch));
        assert!(text.contains("fs.inotify.max_user_watches"), "{text}");
        let text = explain(&notify::Error::io(std::io::Error::from_raw_os_error(24)));
        assert!(text.contains("fs.inotify.max_user_instances"), "{text}");
    }

    #[test]
    fn watches_firmware_recursively_and_license_folders_flat() {
        let dir = tempfile::tempdir().unwrap();
        let licenses = dir.path().join("lic");
        std::fs::create_dir(&licenses).unwrap();
        let raw = crate::config::cli::RawArgs::default();
        let file = crate::config::parse_file("licenses: [lic, more/extra.slf]\n").unwrap();
        let config =
            Config::resolve(&raw, file, dir.path(), Some(dir.path().join("server.yaml"))).unwrap();
        let list = watch_list(&config);
        assert_eq!(
            list.get(&dir.path().join("firmware")),
            Some(&RecursiveMode::Recursive)
        );
        assert_eq!(list.get(dir.path()), Some(&RecursiveMode::NonRecursive));
        assert_eq!(list.get(&licenses), Some(&RecursiveMode::NonRecursive));
        assert_eq!(
            list.get(&dir.path().join("more")),
            Some(&RecursiveMode::NonRecursive)
        );
    }
}
