//! What a file looked like when we last read it (inode, size, mtime, ctime; on Windows
//! size, modified and created times), so that a rescan re-reads only what changed, and a
//! file that changed while we read it is caught.
//! ctime is included because `cp -a` and `rsync -a` set an old mtime, but nothing can set
//! the ctime back.

use std::fs::Metadata;
use std::path::Path;
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
    /// On Unix: device, inode, size, mtime and ctime.
    #[cfg(unix)]
    pub fn of(meta: &Metadata) -> Fingerprint {
        use std::os::unix::fs::MetadataExt;
        Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// On Windows, stable Rust offers no file index: size, the modification time, and the
    /// creation time in place of ctime (a copy is created at copy time, whatever modified
    /// time it keeps, so a copied-in folder still counts as changed just now).
    #[cfg(not(unix))]
    pub fn of(meta: &Metadata) -> Fingerprint {
        let split = |time: std::io::Result<SystemTime>| {
            time.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or((0, 0), |d| {
                    (
                        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        i64::from(d.subsec_nanos()),
                    )
                })
        };
        Fingerprint {
            dev: 0,
            ino: 0,
            len: meta.len(),
            mtime: split(meta.modified()),
            ctime: split(meta.created()),
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

/// Which file this is, whatever name it is reached by: (device, inode) on Unix, so that a
/// hard link is known for the file it is. `None` elsewhere: stable Rust offers no file
/// index on Windows.
pub fn file_identity(meta: &Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Whether the file has names besides the one it was reached by (hard links): never on
/// systems where `file_identity` cannot tell.
pub fn has_other_names(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.nlink() > 1
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Something that tells a folder from another created at the same path later (deleted and
/// created again), so a watch on the old one is renewed: the inode on Unix, the creation
/// time elsewhere. `None` when `path` is not a folder.
pub fn folder_identity(path: &Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_dir())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(meta.ino())
    }
    #[cfg(not(unix))]
    {
        meta.created()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}
