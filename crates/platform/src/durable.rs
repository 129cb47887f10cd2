//! Making a publish survive a power cut: after files are written and synced, the folder
//! that names them must be synced too, or a crash can leave a renamed folder whose entries
//! never reached the disk. On Unix a folder is opened and `fsync`ed like a file; Windows
//! cannot open a folder that way (std gives no FILE_FLAG_BACKUP_SEMANTICS) and NTFS
//! journals its metadata, so there it is a no-op.

use std::io;
use std::path::Path;

/// Writes `bytes` to a new file at `path` and syncs it to disk; the file's group may
/// manage it as it may its folder (`shared_folder`).
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = crate::shared_folder::create_file(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs a folder's entries (the names of what was created or renamed in it).
#[cfg(unix)]
pub fn sync_folder(path: &Path) -> io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Syncs a folder's entries: NTFS journals them; nothing to do.
#[cfg(not(unix))]
pub fn sync_folder(_path: &Path) -> io::Result<()> {
    Ok(())
}
