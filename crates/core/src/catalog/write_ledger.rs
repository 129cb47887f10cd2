//! What the watcher saw of writers: files written and not closed yet ("being written",
//! however long ago the last byte came) and files seen closed after writing. The scan
//! holds a release back while one of its files is being written; a file the watcher never
//! saw (written before its folder was watched, before a restart, after lost events, or on
//! a polled network share) is "not seen", and the scan does not guess in its favour.
//!
//! The reloader keeps the ledger from the watcher's messages; the scan only reads a copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// More paths than any firmware folder holds; past it the ledger forgets everything, which
/// only makes the scan more careful.
const MAX_PATHS: usize = 50_000;

/// What the watcher last saw of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Written to, and not closed since.
    Writing,
    /// Closed after writing; nothing written since.
    Closed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteLedger {
    paths: HashMap<PathBuf, Seen>,
}

impl WriteLedger {
    /// A write to `path` was seen.
    pub fn writing(&mut self, path: &Path) {
        self.set(path, Seen::Writing);
    }

    /// `path` was closed after writing.
    pub fn closed(&mut self, path: &Path) {
        self.set(path, Seen::Closed);
    }

    /// `path` is a new file (created, or renamed in from outside what we watch): nothing is
    /// known of its writers until a write or a close is seen.
    pub fn unknown(&mut self, path: &Path) {
        self.paths.remove(&key(path));
    }

    /// `from` was renamed to `to` (a copy to a temporary name, then renamed into place).
    pub fn renamed(&mut self, from: &Path, to: &Path) {
        let from = key(from);
        let to = key(to);
        let moved: Vec<(PathBuf, Seen)> = self
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with(&from))
            .map(|(path, seen)| {
                let rest = path.strip_prefix(&from).unwrap_or(Path::new(""));
                (to.join(rest), *seen)
            })
            .collect();
        self.paths.retain(|path, _| !path.starts_with(&from));
        self.paths.remove(&to);
        self.paths.extend(moved);
    }

    /// Events were lost (a queue overflow): nothing seen before can be trusted.
    pub fn forget_all(&mut self) {
        self.paths.clear();
    }

    /// Drops paths that no longer exist, so the ledger stays the size of the folder.
    pub fn prune(&mut self) {
        self.paths
            .retain(|path, _| std::fs::symlink_metadata(path).is_ok());
    }

    /// What was seen of `path`, if anything.
    pub fn seen(&self, path: &Path) -> Option<Seen> {
        self.paths.get(&key(path)).copied()
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    fn set(&mut self, path: &Path, seen: Seen) {
        if self.paths.len() >= MAX_PATHS {
            self.paths.clear();
        }
        self.paths.insert(key(path), seen);
    }
}

/// Paths as notify reports them and as the scan builds them, made comparable.
fn key(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_closes_renames_and_losses() {
        let mut ledger = WriteLedger::default();
        let tmp = Path::new("/fw/20250301/.upd_app.bin.Xy12");
        let bin = Path::new("/fw/20250301/upd_app.bin");
        ledger.writing(tmp);
        assert_eq!(ledger.seen(tmp), Some(Seen::Writing));
        ledger.closed(tmp);
        ledger.renamed(tmp, bin);
        assert_eq!(ledger.seen(bin), Some(Seen::Closed));
        assert_eq!(ledger.seen(tmp), None);
        ledger.writing(Path::new("/fw/.staging-1/upd_app.bin"));
        ledger.renamed(Path::new("/fw/.staging-1"), Path::new("/fw/20250302"));
        assert_eq!(
            ledger.seen(Path::new("/fw/20250302/upd_app.bin")),
            Some(Seen::Writing)
        );
        ledger.unknown(bin);
        assert_eq!(ledger.seen(bin), None);
        ledger.forget_all();
        assert!(ledger.is_empty());
    }
}
