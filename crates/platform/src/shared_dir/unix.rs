//! `SharedDir` on Unix: every step relative to an opened folder (`openat`, `mkdirat`,
//! `renameat`, `unlinkat`, `statat` through rustix), links refused with `O_NOFOLLOW`, a
//! folder known by its device and inode, and what is made given its folder's group and
//! group permission bits through the handle (`fchown`, `fchmod`).

use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use super::{link_error, Entry};

pub type Handle = File;

/// A folder's identity: its device and inode.
pub type Identity = (u64, u64);

const SETGID: u32 = 0o2000;

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

pub fn open_root(path: &Path) -> io::Result<File> {
    let fd = rustix::fs::open(path, dir_flags(), Mode::empty())?;
    Ok(File::from(fd))
}

pub fn open_subdir(dir: &File, dir_path: &Path, name: &str, shown: &Path) -> io::Result<File> {
    use rustix::io::Errno;
    // A name that is no folder fails the open: ELOOP (Linux and macOS without
    // O_DIRECTORY), EMLINK (FreeBSD) or ENOTDIR (Linux with O_DIRECTORY, for a link
    // and a file alike), so the entry itself is asked what it is. Found a folder by
    // then, it changed since: opened again, three times at most (a name that keeps
    // changing between a folder and something else is a member's swapping).
    for _ in 0..3 {
        match rustix::fs::openat(dir, name, dir_flags() | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(fd) => return Ok(File::from(fd)),
            Err(Errno::LOOP | Errno::MLINK | Errno::NOTDIR) => match entry(dir, dir_path, name)? {
                Entry::Link => break,
                Entry::Other => return Err(io::ErrorKind::NotADirectory.into()),
                Entry::Missing => return Err(io::ErrorKind::NotFound.into()),
                Entry::Folder => {}
            },
            Err(errno) => return Err(errno.into()),
        }
    }
    Err(link_error(shown.to_path_buf()))
}

pub fn mkdir(dir: &File, _dir_path: &Path, name: &str) -> io::Result<()> {
    // As std's create_dir: the umask decides, `adopt` then gives the group its bits.
    Ok(rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o777))?)
}

pub fn create_file(dir: &File, dir_path: &Path, name: &str) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => Ok(File::from(fd)),
        // O_EXCL refuses any existing name, a link included: say it is one.
        Err(errno) => match entry(dir, dir_path, name) {
            Ok(Entry::Link) => Err(link_error(dir_path.join(name))),
            _ => Err(errno.into()),
        },
    }
}

pub fn rename(
    from: &File,
    _from_path: &Path,
    name: &str,
    to: &File,
    _to_path: &Path,
    to_name: &str,
) -> io::Result<()> {
    Ok(rustix::fs::renameat(from, name, to, to_name)?)
}

pub fn entry(dir: &File, _dir_path: &Path, name: &str) -> io::Result<Entry> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => Entry::Folder,
            FileType::Symlink => Entry::Link,
            _ => Entry::Other,
        }),
        Err(rustix::io::Errno::NOENT) => Ok(Entry::Missing),
        Err(errno) => Err(errno.into()),
    }
}

pub fn identity(handle: &File) -> io::Result<Identity> {
    let metadata = handle.metadata()?;
    Ok((metadata.dev(), metadata.ino()))
}

/// The identity of the entry `name` (not followed), `None` when there is none.
pub fn entry_identity(dir: &File, _dir_path: &Path, name: &str) -> io::Result<Option<Identity>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        Ok(stat) => Ok(Some((stat.st_dev as u64, stat.st_ino as u64))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(errno) => Err(errno.into()),
    }
}

pub fn is_entry(dir: &File, dir_path: &Path, name: &str, folder: &File) -> io::Result<bool> {
    let wanted = identity(folder)?;
    Ok(entry_identity(dir, dir_path, name)? == Some(wanted))
}

pub fn remove(dir: &File, _dir_path: &Path, name: &str, folder: bool) -> io::Result<()> {
    let flags = if folder {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    Ok(rustix::fs::unlinkat(dir, name, flags)?)
}

pub fn sync(handle: &File) -> io::Result<()> {
    handle.sync_all()
}

/// Whether this process's effective user owns `made`.
pub fn made_by_this_process(made: &File) -> io::Result<bool> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    Ok(made.metadata()?.uid() == euid)
}

/// The mode `made` should get in `parent`, or `None` to leave it as made: the parent
/// is neither group-writable nor setgid. The owner's and others' bits as the umask
/// left them; the group's from the parent (folders also its setgid bit, files only
/// read and write).
fn shared_mode(parent_mode: u32, made_mode: u32, is_dir: bool) -> Option<u32> {
    if parent_mode & 0o020 == 0 && parent_mode & SETGID == 0 {
        return None;
    }
    let kept = made_mode & 0o1707;
    Some(if is_dir {
        kept | (parent_mode & 0o070) | (parent_mode & SETGID)
    } else {
        kept | (parent_mode & 0o060)
    })
}

/// Gives `made` (just made in `parent`, both opened) the parent's group and group
/// permission bits, through the handles: nothing a member swaps in meanwhile is changed.
pub fn adopt(parent: &File, made: &File, is_dir: bool) -> io::Result<()> {
    let parent = parent.metadata()?;
    let metadata = made.metadata()?;
    let Some(mode) = shared_mode(parent.mode(), metadata.mode(), is_dir) else {
        return Ok(());
    };
    if metadata.gid() != parent.gid() {
        // Without the setgid bit the entry has the maker's own group; the parent's is
        // given when the maker is a member of it, and kept as it is otherwise.
        let _ = std::os::unix::fs::fchown(made, None, Some(parent.gid()));
    }
    made.set_permissions(std::fs::Permissions::from_mode(mode))
}

pub fn adopt_file(parent: &File, made: &File) -> io::Result<()> {
    adopt(parent, made, false)
}
