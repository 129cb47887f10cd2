//! What a file looked like when we last read it (inode, size, mtime, ctime), so that a
//! rescan re-reads only what changed, and a file that changed while we read it is caught.
//! ctime is included because `cp -a` and `rsync -a` set an old mtime, but nothing can set
//! the ctime back.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Fingerprint {
    pub fn of(meta: &Metadata) -> Fingerprint {
        Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The last time anything about the file changed (the later of mtime and ctime).
    pub fn changed_at(&self) -> SystemTime {
        let later = self.mtime.max(self.ctime);
        match (u64::try_from(later.0), u32::try_from(later.1)) {
            (Ok(secs), Ok(nanos)) => UNIX_EPOCH + Duration::new(secs, nanos.min(999_999_999)),
            _ => UNIX_EPOCH,
        }
    }

    /// Same file with the same contents as far as metadata can tell (inode, size, mtime):
    /// a `chmod` or `chown` changes only the ctime, not the bytes.
    pub fn same_contents(&self, other: &Fingerprint) -> bool {
        (self.dev, self.ino, self.len, self.mtime) == (other.dev, other.ino, other.len, other.mtime)
    }

    /// The modification time, for `Last-Modified`.
    pub fn modified(&self) -> SystemTime {
        match (u64::try_from(self.mtime.0), u32::try_from(self.mtime.1)) {
            (Ok(secs), Ok(nanos)) => UNIX_EPOCH + Duration::new(secs, nanos.min(999_999_999)),
            _ => UNIX_EPOCH,
        }
    }
}
