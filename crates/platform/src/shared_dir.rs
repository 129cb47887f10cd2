//! Working inside a folder that a whole group may write (`firmware_dir`, owned by group
//! `kkt` with the setgid bit), for the `publish` and `withdraw` commands, without ever being
//! led out of it by a name a group member swapped meanwhile.
//!
//! Any member may, between a command's look at `firmware/.withdrawn` (or the
//! `.staging-*` folder it just made, a line's folder, a release folder) and its next step,
//! replace that name with a link to a folder of their choosing. A step that names a path
//! resolves every component again, so a `publish` or `withdraw` run by another operator (or
//! root, or the service's user) would create files in, or move a release into, the place
//! the link points at. So a `SharedDir` is an opened folder, and every step is made
//! relative to opened folders, never to a path:
//!
//! - on Unix, `firmware_dir` is opened once (links in the configured path itself are
//!   followed: the administrator chose it); every folder below is opened with
//!   `O_DIRECTORY | O_NOFOLLOW`, and a link is refused with an error naming the entry
//!   (`IsLink`: "… is a link; refusing to follow it"). Folders are made with `mkdirat`,
//!   files with `openat(O_CREAT | O_EXCL | O_NOFOLLOW)`, renamed with `renameat` between
//!   opened folders, synced with `fsync` on the handle, and given their folder's group and
//!   group permission bits with `fchown`/`fchmod` on the handle. What a member can still do
//!   is move an opened folder elsewhere (a place they may write anyway) or put another
//!   folder or a link under the name; so a command asks `is_entry` whether a name still
//!   holds the folder it opened before and after a rename, and says so when it does not,
//!   and uses a folder it made only if this process owns it.
//! - on Windows a folder is opened with `FILE_FLAG_OPEN_REPARSE_POINT` (the link or
//!   junction itself, not its target; an unprivileged user can make a junction) and a
//!   reparse point is refused as on Unix. The handle is kept open, with read access and
//!   without `FILE_SHARE_DELETE`, for as long as the `SharedDir` lives: while it is, nobody
//!   can rename or delete that folder, so the paths the steps name (Windows has no
//!   `openat`; std works with paths) lead through the very folders that were opened and
//!   checked. A folder this process is about to rename (the staged release, a release
//!   being withdrawn) is closed first (`SharedDir::close`); a link swapped in then is
//!   moved, not followed, and `is_entry` finds it afterwards. A new entry inherits its
//!   folder's access list; syncing a folder is a no-op (NTFS journals its metadata).
//!
//! What is made takes its folder's group permission bits and group as `shared_folder`
//! describes (a folder that is neither group-writable nor setgid leaves the umask's
//! choice).

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// An opened folder; `path` is how it is shown in messages (the configured `firmware_dir`
/// joined with the names opened below it), never used to reach it on Unix.
#[derive(Debug)]
pub struct SharedDir {
    path: PathBuf,
    handle: imp::Handle,
}

/// The error a link met where a folder or file is opened or made: "`path` is a link;
/// refusing to follow it". Inside an `io::Error` (kind `Other`); `is_link` finds it.
#[derive(Debug)]
pub struct IsLink {
    pub path: PathBuf,
}

impl fmt::Display for IsLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a link; refusing to follow it",
            self.path.display()
        )
    }
}

impl std::error::Error for IsLink {}

/// The error of a folder made and then, before it could be opened, moved away or replaced
/// by something else (a member of the folder's group did it): "`path` was moved away or
/// replaced right after it was made". Inside an `io::Error` (kind `Other`); `is_replaced`
/// finds it.
#[derive(Debug)]
pub struct Replaced {
    pub path: PathBuf,
}

impl fmt::Display for Replaced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} was moved away or replaced right after it was made",
            self.path.display()
        )
    }
}

impl std::error::Error for Replaced {}

/// The folder an error of this module found moved away or replaced, if that is what it is.
pub fn is_replaced(error: &io::Error) -> Option<&Path> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<Replaced>())
        .map(|replaced| replaced.path.as_path())
}

/// The link an error of this module met, if that is what it is.
pub fn is_link(error: &io::Error) -> Option<&Path> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<IsLink>())
        .map(|link| link.path.as_path())
}

/// Refuses a name that is not one entry of a folder (`a/b`, `..`, empty): every step goes
/// one opened folder at a time.
fn one_entry(name: &str) -> io::Result<&str> {
    let one = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if one {
        Ok(name)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not the name of one entry of a folder"),
        ))
    }
}

fn link_error(path: PathBuf) -> io::Error {
    io::Error::other(IsLink { path })
}

/// What an entry of a folder is, looked at without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Missing,
    Folder,
    Link,
    /// A file, or anything else that is neither a folder nor a link.
    Other,
}

impl SharedDir {
    /// Opens the folder `path`, following links in it: the configured root of the work.
    pub fn open(path: &Path) -> io::Result<SharedDir> {
        Ok(SharedDir {
            path: path.to_path_buf(),
            handle: imp::open_root(path)?,
        })
    }

    /// How this folder is shown.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the entry `name` of this folder is shown.
    pub fn shown(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Opens the folder `name` in this one, never through a link (`IsLink`); something
    /// else than a folder is `NotADirectory`.
    pub fn open_subdir(&self, name: &str) -> io::Result<SharedDir> {
        let name = one_entry(name)?;
        let path = self.shown(name);
        let handle = imp::open_subdir(&self.handle, &self.path, name, &path)?;
        Ok(SharedDir { path, handle })
    }

    /// Makes the folder `name` in this one (it must not exist) and opens it, managed like
    /// this one (`shared_folder`).
    pub fn create_dir(&self, name: &str) -> io::Result<SharedDir> {
        let name = one_entry(name)?;
        imp::mkdir(&self.handle, &self.path, name)?;
        let replaced = || {
            io::Error::other(Replaced {
                path: self.shown(name),
            })
        };
        let made = self.open_subdir(name).map_err(|error| {
            let gone = matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            );
            if gone {
                replaced()
            } else {
                error
            }
        })?;
        // A member's own folder renamed under the name in that moment is not changed (nor
        // written into): what was made is this process's.
        if !imp::made_by_this_process(&made.handle)? {
            return Err(replaced());
        }
        imp::adopt(&self.handle, &made.handle, true)?;
        Ok(made)
    }

    /// Opens the folder `name`, made first (managed like this one) if there is none.
    pub fn open_or_create_subdir(&self, name: &str) -> io::Result<SharedDir> {
        // Three tries: a member may remove what was made before it is opened; more is a
        // game no one wins, and the last error says what happened.
        let mut last = None;
        for _ in 0..3 {
            match self.open_subdir(name) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => return other,
            }
            match self.create_dir(name) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) if is_replaced(&e).is_some() => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| io::ErrorKind::NotFound.into()))
    }

    /// Creates the new file `name` in this folder for writing, managed like the folder. A
    /// name that exists (a link a group member planted included) is refused, never followed
    /// nor truncated.
    pub fn create_file(&self, name: &str) -> io::Result<File> {
        let name = one_entry(name)?;
        let file = imp::create_file(&self.handle, &self.path, name)?;
        imp::adopt_file(&self.handle, &file)?;
        Ok(file)
    }

    /// Renames the entry `name` of this folder to `to_name` in the folder `to` (the same
    /// file system), whatever the entry is: a link is moved, not followed.
    pub fn rename_to(&self, name: &str, to: &SharedDir, to_name: &str) -> io::Result<()> {
        let (name, to_name) = (one_entry(name)?, one_entry(to_name)?);
        imp::rename(
            &self.handle,
            &self.path,
            name,
            &to.handle,
            &to.path,
            to_name,
        )
    }

    /// What the entry `name` is, not following it.
    pub fn entry(&self, name: &str) -> io::Result<Entry> {
        let name = one_entry(name)?;
        imp::entry(&self.handle, &self.path, name)
    }

    /// Whether the entry `name` of this folder is the folder `folder` opened before (not a
    /// link nor another folder put under that name since).
    pub fn is_entry(&self, name: &str, folder: &SharedDir) -> io::Result<bool> {
        let name = one_entry(name)?;
        imp::is_entry(&self.handle, &self.path, name, &folder.handle)
    }

    /// Removes the file (or link) `name` of this folder.
    pub fn remove_file(&self, name: &str) -> io::Result<()> {
        let name = one_entry(name)?;
        imp::remove(&self.handle, &self.path, name, false)
    }

    /// Removes the empty folder `name` of this folder.
    pub fn remove_dir(&self, name: &str) -> io::Result<()> {
        let name = one_entry(name)?;
        imp::remove(&self.handle, &self.path, name, true)
    }

    /// Syncs the folder's entries (the names of what was made or renamed in it) to disk.
    pub fn sync(&self) -> io::Result<()> {
        imp::sync(&self.handle)
    }

    /// Lets go of the folder before this process renames it (on Windows an open folder
    /// cannot be renamed); what it was is still known to `is_entry`.
    pub fn close(self) -> Closed {
        Closed {
            identity: imp::identity(&self.handle),
        }
    }
}

/// A folder closed (`SharedDir::close`), still recognised by `Closed::is_entry`.
#[derive(Debug)]
pub struct Closed {
    identity: io::Result<imp::Identity>,
}

impl Closed {
    /// Whether the entry `name` of `dir` is the folder that was closed.
    pub fn is_entry(&self, dir: &SharedDir, name: &str) -> io::Result<bool> {
        let name = one_entry(name)?;
        match &self.identity {
            Ok(identity) => Ok(imp::entry_identity(&dir.handle, &dir.path, name)?
                .is_some_and(|found| found == *identity)),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }
}

// One small module per platform; both offer the same functions, which `SharedDir` calls
// as `imp::…`.
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::fs::Permissions;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    /// `firmware/` mode 2770 in a temporary folder, opened.
    fn shared() -> (tempfile::TempDir, SharedDir) {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("firmware");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, Permissions::from_mode(0o2770)).unwrap();
        let opened = SharedDir::open(&shared).unwrap();
        (dir, opened)
    }

    #[test]
    fn in_a_group_writable_setgid_folder_the_group_may_manage_what_is_made() {
        let (_dir, firmware) = shared();
        let shelf = firmware.open_or_create_subdir(".withdrawn").unwrap();
        let line = shelf.open_or_create_subdir("line").unwrap();
        for folder in [shelf.path(), line.path()] {
            assert_eq!(mode(folder) & 0o2070, 0o2070, "{}", folder.display());
        }
        drop(line.create_file("upd_app.bin").unwrap());
        let file = line.shown("upd_app.bin");
        assert_eq!(mode(&file) & 0o070, 0o060, "read and write, never execute");
        assert_eq!(mode(&file) & 0o2000, 0, "no setgid on a file");
    }

    #[test]
    fn a_planted_name_is_refused_never_followed_nor_truncated() {
        let (dir, firmware) = shared();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "keep").unwrap();
        std::fs::set_permissions(&secret, Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&secret, firmware.shown(".meta.yaml.new-1")).unwrap();
        let error = firmware.create_file(".meta.yaml.new-1").unwrap_err();
        assert_eq!(
            is_link(&error),
            Some(firmware.shown(".meta.yaml.new-1").as_path())
        );
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "keep");
        assert_eq!(mode(&secret), 0o600);
        std::fs::write(firmware.shown("upd_app.bin"), "old").unwrap();
        let error = firmware.create_file("upd_app.bin").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read_to_string(firmware.shown("upd_app.bin")).unwrap(),
            "old"
        );
    }

    #[test]
    fn in_a_private_folder_the_umask_decides_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("firmware");
        std::fs::create_dir(&own).unwrap();
        std::fs::set_permissions(&own, Permissions::from_mode(0o700)).unwrap();
        let made = SharedDir::open(&own)
            .unwrap()
            .create_dir("20250301")
            .unwrap();
        let plain = own.join("plain");
        std::fs::create_dir(&plain).unwrap();
        assert_eq!(mode(made.path()), mode(&plain));
    }

    #[test]
    fn a_linked_folder_is_refused_by_name_and_nothing_is_made_through_it() {
        let (dir, firmware) = shared();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, firmware.shown(".withdrawn")).unwrap();
        for error in [
            firmware.open_subdir(".withdrawn").unwrap_err(),
            firmware.open_or_create_subdir(".withdrawn").unwrap_err(),
        ] {
            assert_eq!(
                error.to_string(),
                format!(
                    "{} is a link; refusing to follow it",
                    firmware.shown(".withdrawn").display()
                )
            );
        }
        assert_eq!(firmware.entry(".withdrawn").unwrap(), Entry::Link);
        std::fs::write(firmware.shown("file"), "x").unwrap();
        let error = firmware.open_subdir("file").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotADirectory);
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        for name in ["", ".", "..", "a/b", "../x", "a\\b", "a\0b"] {
            let error = firmware.open_or_create_subdir(name).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{name:?}");
            assert!(firmware.create_file(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn an_opened_folder_is_known_under_its_name_and_not_after_a_swap() {
        let (_dir, firmware) = shared();
        let staged = firmware.create_dir(".staging-1").unwrap();
        assert!(firmware.is_entry(".staging-1", &staged).unwrap());
        // A member moves it aside and puts another folder under its name.
        std::fs::rename(firmware.shown(".staging-1"), firmware.shown("aside")).unwrap();
        std::fs::create_dir(firmware.shown(".staging-1")).unwrap();
        assert!(!firmware.is_entry(".staging-1", &staged).unwrap());
        // What is written through the handle lands in the folder that was made.
        drop(staged.create_file("upd_app.bin").unwrap());
        assert!(firmware.shown("aside/upd_app.bin").is_file());
        let released = staged.close();
        assert!(released.is_entry(&firmware, "aside").unwrap());
        assert!(!released.is_entry(&firmware, ".staging-1").unwrap());
        assert!(!released.is_entry(&firmware, "none").unwrap());
    }
}
