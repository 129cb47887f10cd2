//! `SharedDir` on Windows: a folder opened as itself (`FILE_FLAG_OPEN_REPARSE_POINT`, so a
//! link or junction is seen and refused) and held open without `FILE_SHARE_DELETE`, so
//! the paths the steps name (Windows has no `openat`) lead through the very folders that
//! were opened and checked. A new entry inherits its folder's access list; syncing a
//! folder is a no-op.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::{link_error, Entry};

pub type Handle = File;

/// What `is_entry` can tell on Windows: that an entry is a real folder, no reparse
/// point. A folder is held open, and so cannot be renamed, until it is let go of right
/// before this process renames it; what std offers stable (no file index) cannot tell
/// one real folder from another put there in that moment, which would be harmless (the
/// member could have renamed it there themselves). A link or junction is what matters,
/// and is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity;

/// winnt.h / winbase.h.
const FILE_LIST_DIRECTORY: u32 = 0x0001;
const FILE_READ_ATTRIBUTES: u32 = 0x0080;
const SYNCHRONIZE: u32 = 0x0010_0000;
const FILE_SHARE_READ: u32 = 0x1;
const FILE_SHARE_WRITE: u32 = 0x2;
const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;

/// A folder opened to be held: listing access (so its share mode binds others) and no
/// FILE_SHARE_DELETE, so it cannot be renamed nor deleted while it is open.
fn held_folder(follow: bool) -> OpenOptions {
    let mut options = OpenOptions::new();
    let flags = if follow {
        FILE_FLAG_BACKUP_SEMANTICS
    } else {
        FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT
    };
    options
        .access_mode(FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .custom_flags(flags);
    options
}

pub fn open_root(path: &Path) -> io::Result<File> {
    let file = held_folder(true).open(path)?;
    if !file.metadata()?.is_dir() {
        return Err(io::ErrorKind::NotADirectory.into());
    }
    Ok(file)
}

pub fn open_subdir(_dir: &File, dir_path: &Path, name: &str, shown: &Path) -> io::Result<File> {
    let file = held_folder(false).open(dir_path.join(name))?;
    let metadata = file.metadata()?;
    if metadata.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err(link_error(shown.to_path_buf()));
    }
    if !metadata.is_dir() {
        return Err(io::ErrorKind::NotADirectory.into());
    }
    Ok(file)
}

pub fn mkdir(_dir: &File, dir_path: &Path, name: &str) -> io::Result<()> {
    std::fs::create_dir(dir_path.join(name))
}

pub fn create_file(_dir: &File, dir_path: &Path, name: &str) -> io::Result<File> {
    let path = dir_path.join(name);
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(&path);
    created.map_err(|error| match entry(_dir, dir_path, name) {
        Ok(Entry::Link) => link_error(path.clone()),
        _ => error,
    })
}

pub fn rename(
    _from: &File,
    from_path: &Path,
    name: &str,
    _to: &File,
    to_path: &Path,
    to_name: &str,
) -> io::Result<()> {
    std::fs::rename(from_path.join(name), to_path.join(to_name))
}

pub fn entry(_dir: &File, dir_path: &Path, name: &str) -> io::Result<Entry> {
    match std::fs::symlink_metadata(dir_path.join(name)) {
        Ok(metadata) if metadata.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 => {
            Ok(Entry::Link)
        }
        Ok(metadata) if metadata.is_dir() => Ok(Entry::Folder),
        Ok(_) => Ok(Entry::Other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Entry::Missing),
        Err(e) => Err(e),
    }
}

pub fn identity(handle: &File) -> io::Result<Identity> {
    handle.metadata().map(|_| Identity)
}

/// `Some` when the entry `name` is a real folder (see `Identity`).
pub fn entry_identity(dir: &File, dir_path: &Path, name: &str) -> io::Result<Option<Identity>> {
    Ok((entry(dir, dir_path, name)? == Entry::Folder).then_some(Identity))
}

pub fn is_entry(dir: &File, dir_path: &Path, name: &str, folder: &File) -> io::Result<bool> {
    identity(folder)?;
    Ok(entry_identity(dir, dir_path, name)?.is_some())
}

pub fn remove(_dir: &File, dir_path: &Path, name: &str, folder: bool) -> io::Result<()> {
    if folder {
        std::fs::remove_dir(dir_path.join(name))
    } else {
        std::fs::remove_file(dir_path.join(name))
    }
}

/// A folder made is opened at once and held: owners are not compared.
pub fn made_by_this_process(_made: &File) -> io::Result<bool> {
    Ok(true)
}

/// NTFS journals a folder's entries: nothing to do.
pub fn sync(_handle: &File) -> io::Result<()> {
    Ok(())
}

/// A new entry inherits its folder's access list: nothing to do.
pub fn adopt(_parent: &File, _made: &File, _is_dir: bool) -> io::Result<()> {
    Ok(())
}

pub fn adopt_file(_parent: &File, _made: &File) -> io::Result<()> {
    Ok(())
}
