//! Folders and files that the group of the folder they are made in can manage, for the
//! `publish` and `withdraw` commands: several operators (members of group `kkt`, which owns
//! `firmware_dir` with the setgid bit, see packaging/debian/postinst) publish, replace and
//! withdraw each other's releases. Left to the umask (022 almost everywhere), every release
//! folder and `.withdrawn/` would be writable by its maker alone, and after one colleague's
//! `withdraw` nobody else could withdraw (moving a folder to another parent rewrites its
//! `..`, which needs write permission on the folder itself).
//!
//! So on Unix what these create in a folder that is group-writable or setgid takes that
//! folder's group permission bits instead of the umask's (folders also its setgid bit,
//! files only read and write) and its group (the setgid bit does that by itself; without
//! it the group is set when the maker is a member). A folder that is neither keeps the
//! umask's choice: one operator's own folders stay as they were. Windows keeps what it has:
//! a new entry inherits its folder's access list. The making itself, relative to opened
//! folders so that no link a member swaps in is followed, is `shared_dir`'s.
//!
//! When the system still says no, `why_denied` finds which folder or file refuses, whose it
//! is and what to do, in words (`Denied`), instead of a bare "Permission denied". It looks
//! by path, after the step failed: what it finds only chooses the words of the refusal.

use std::fmt;
use std::path::{Path, PathBuf};

/// What a step needs of a folder or file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Creating, renaming or removing entries in a folder (or rewriting a moved folder's
    /// `..`): write and search permission.
    Write,
    /// Listing or opening: read permission.
    Read,
}

/// A folder or file that refuses this process, and why, in words: its owner, group and
/// mode, and what to do. `Display` is the explanation that follows "permission denied: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub path: PathBuf,
    pub is_dir: bool,
    pub owner: String,
    pub group: String,
    /// The permission bits, setgid and sticky included (`0o2775`).
    pub mode: u32,
    /// Who this process runs as.
    pub you: String,
    /// Whether this process is in the file's group now (not merely listed in /etc/group).
    pub in_group: bool,
    pub need: Need,
}

impl Denied {
    /// The group's bits this step needs.
    fn group_may(&self) -> bool {
        let needed = match (self.need, self.is_dir) {
            (Need::Write, true) => 0o030,
            (Need::Write, false) => 0o020,
            (Need::Read, _) => 0o040,
        };
        self.mode & needed == needed
    }

    /// What `chmod` gives the group what it needs here.
    fn chmod(&self) -> &'static str {
        if self.is_dir {
            "g+rwxs"
        } else {
            "g+rw"
        }
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        write!(
            f,
            "{} {path} belongs to user {} and group {} (mode {} {:04o}); ",
            if self.is_dir { "folder" } else { "file" },
            self.owner,
            self.group,
            mode_letters(self.mode, self.is_dir),
            self.mode & 0o7777
        )?;
        let join_group = format!(
            "add yourself to group {}: sudo usermod -aG {} $USER, then log in again \
             (a new login is what puts you in it)",
            self.group, self.group
        );
        if !self.group_may() {
            let action = match self.need {
                Need::Write if self.is_dir => "create or move entries in it",
                Need::Write => "change it",
                Need::Read => "read it",
            };
            write!(
                f,
                "group {} may not {action}: ask {} (or an administrator, with sudo) to run \
                 chmod {} {path}",
                self.group,
                self.owner,
                self.chmod()
            )?;
            if !self.in_group {
                write!(f, ", and {join_group}")?;
            }
            Ok(())
        } else if !self.in_group {
            write!(
                f,
                "you ({}) are not in group {}: {join_group}",
                self.you, self.group
            )
        } else if self.is_dir && self.mode & 0o1000 != 0 && self.need == Need::Write {
            write!(
                f,
                "its sticky bit lets only an entry's owner move or delete it: ask an \
                 administrator to run sudo chmod -t {path}"
            )
        } else {
            write!(
                f,
                "you ({}) are in group {} and it may, so an access list or a read-only file \
                 system refuses: ask an administrator",
                self.you, self.group
            )
        }
    }
}

impl Denied {
    /// The same explanation as `Display`, in Russian, for an operator whose system speaks
    /// it (the commands choose; the words of the commands to run stay as they are typed).
    pub fn in_russian(&self) -> String {
        let path = self.path.display();
        let mut text = format!(
            "{} {path} принадлежит пользователю {} и группе {} (права {} {:04o}); ",
            if self.is_dir {
                "папка"
            } else {
                "файл"
            },
            self.owner,
            self.group,
            mode_letters(self.mode, self.is_dir),
            self.mode & 0o7777
        );
        let join_group = format!(
            "добавьте себя в группу {}: sudo usermod -aG {} $USER, затем войдите в систему \
             заново (в группу включает только новый вход)",
            self.group, self.group
        );
        if !self.group_may() {
            let action = match self.need {
                Need::Write if self.is_dir => "создавать и переносить в ней записи",
                Need::Write => "изменять его",
                Need::Read => "читать",
            };
            text.push_str(&format!(
                "группа {} не может {action}: попросите {} (или администратора, через sudo) \
                 выполнить chmod {} {path}",
                self.group,
                self.owner,
                self.chmod()
            ));
            if !self.in_group {
                text.push_str(&format!(", а также {join_group}"));
            }
        } else if !self.in_group {
            text.push_str(&format!(
                "вы ({}) не в группе {}: {join_group}",
                self.you, self.group
            ));
        } else if self.is_dir && self.mode & 0o1000 != 0 && self.need == Need::Write {
            text.push_str(&format!(
                "бит sticky позволяет переносить и удалять запись только её владельцу: \
                 попросите администратора выполнить sudo chmod -t {path}"
            ));
        } else {
            text.push_str(&format!(
                "вы ({}) в группе {}, и ей это разрешено, значит, отказывает список доступа \
                 или файловая система только для чтения: обратитесь к администратору",
                self.you, self.group
            ));
        }
        text
    }
}

/// `drwxrwsr-x`, as `ls -l` writes it.
fn mode_letters(mode: u32, is_dir: bool) -> String {
    let mut text = String::from(if is_dir { "d" } else { "-" });
    for (shift, special, lower, upper) in [(6, 0o4000, 's', 'S'), (3, 0o2000, 's', 'S')] {
        let bits = (mode >> shift) & 7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => lower,
            (false, true) => upper,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    let bits = mode & 7;
    text.push(if bits & 4 != 0 { 'r' } else { '-' });
    text.push(if bits & 2 != 0 { 'w' } else { '-' });
    text.push(match (bits & 1 != 0, mode & 0o1000 != 0) {
        (true, true) => 't',
        (false, true) => 'T',
        (true, false) => 'x',
        (false, false) => '-',
    });
    text
}

/// The user's name (`process_user` names the OS user who published a release).
#[cfg(unix)]
pub(crate) use imp::user_name;

/// The first of `candidates` (the folders and files a failed step needed, in the order
/// worth telling) that refuses this process what the step needs, described; `None` when
/// none can be told (none refuses now, or this system has no such permissions). Names that
/// do not exist are skipped.
pub fn why_denied(candidates: &[(&Path, Need)]) -> Option<Denied> {
    imp::why_denied(candidates)
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::fs;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::{Denied, Need};

    pub fn why_denied(candidates: &[(&Path, Need)]) -> Option<Denied> {
        let described = |(path, need): &(&Path, Need)| {
            let metadata = fs::metadata(path).ok()?;
            Some(describe(path, &metadata, *need))
        };
        candidates
            .iter()
            .find(|(path, need)| refuses(path, *need))
            .and_then(described)
            // None refuses by its permission bits (a sticky bit, an access list): the first
            // that exists is the best guess.
            .or_else(|| candidates.iter().find_map(described))
    }

    /// Whether the kernel refuses this process (its effective ids) `need` on `path`.
    fn refuses(path: &Path, need: Need) -> bool {
        let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        let is_dir = fs::metadata(path).is_ok_and(|m| m.is_dir());
        let mode = match need {
            Need::Write if is_dir => libc::W_OK | libc::X_OK,
            Need::Write => libc::W_OK,
            Need::Read => libc::R_OK,
        };
        // SAFETY: `c_path` is NUL-terminated; faccessat only reads it.
        let answer =
            unsafe { libc::faccessat(libc::AT_FDCWD, c_path.as_ptr(), mode, libc::AT_EACCESS) };
        answer != 0
            && matches!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
            )
    }

    fn describe(path: &Path, metadata: &fs::Metadata, need: Need) -> Denied {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        Denied {
            path: path.to_path_buf(),
            is_dir: metadata.is_dir(),
            owner: user_name(metadata.uid()),
            group: group_name(metadata.gid()),
            mode: metadata.mode() & 0o7777,
            you: user_name(euid),
            in_group: in_group(metadata.gid()),
            need,
        }
    }

    /// Whether this process has `gid` as its effective or a supplementary group.
    fn in_group(gid: libc::gid_t) -> bool {
        // SAFETY: getegid has no preconditions and cannot fail.
        if unsafe { libc::getegid() } == gid {
            return true;
        }
        let mut groups = vec![0 as libc::gid_t; 4096];
        // SAFETY: the buffer holds `groups.len()` entries; getgroups writes at most that many.
        let count = unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) };
        usize::try_from(count).is_ok_and(|n| groups.iter().take(n).any(|g| *g == gid))
    }

    /// The user's name from the system's user database, or the number when it has none.
    pub(crate) fn user_name(uid: libc::uid_t) -> String {
        let mut buffer = vec![0 as libc::c_char; 16 * 1024];
        let mut entry = std::mem::MaybeUninit::<libc::passwd>::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `entry` and `buffer` are valid for writing, their sizes are given, and
        // `found` receives either null or a pointer to `entry`.
        let failed = unsafe {
            libc::getpwuid_r(
                uid,
                entry.as_mut_ptr(),
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            )
        };
        if failed != 0 || found.is_null() {
            return format!("with id {uid}");
        }
        // SAFETY: getpwuid_r succeeded and filled `entry`, whose pw_name points into
        // `buffer`, NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*found).pw_name) };
        name.to_string_lossy().into_owned()
    }

    /// The group's name from the system's group database, or the number when it has none.
    fn group_name(gid: libc::gid_t) -> String {
        let mut buffer = vec![0 as libc::c_char; 64 * 1024];
        let mut entry = std::mem::MaybeUninit::<libc::group>::zeroed();
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `user_name`: valid buffers with their sizes.
        let failed = unsafe {
            libc::getgrgid_r(
                gid,
                entry.as_mut_ptr(),
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            )
        };
        if failed != 0 || found.is_null() {
            return format!("with id {gid}");
        }
        // SAFETY: getgrgid_r succeeded; gr_name points into `buffer`, NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*found).gr_name) };
        name.to_string_lossy().into_owned()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn names_come_from_the_system_databases() {
            assert_eq!(user_name(0), "root");
            assert_eq!(group_name(0), "root");
            assert_eq!(user_name(4_000_000_000), "with id 4000000000");
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::path::Path;

    use super::{Denied, Need};

    /// Access lists are not told apart here; the system's own message stands.
    pub fn why_denied(_candidates: &[(&Path, Need)]) -> Option<Denied> {
        None
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_names_the_folder_its_owner_and_what_to_do() {
        let denied = Denied {
            path: "/var/lib/kkt-update-server/firmware/.withdrawn".into(),
            is_dir: true,
            owner: "anna".into(),
            group: "kkt".into(),
            mode: 0o2755,
            you: "boris".into(),
            in_group: true,
            need: Need::Write,
        };
        assert_eq!(
            denied.to_string(),
            "folder /var/lib/kkt-update-server/firmware/.withdrawn belongs to user anna and \
             group kkt (mode drwxr-sr-x 2755); group kkt may not create or move entries in \
             it: ask anna (or an administrator, with sudo) to run chmod g+rwxs \
             /var/lib/kkt-update-server/firmware/.withdrawn"
        );
        let outsider = Denied {
            mode: 0o2775,
            in_group: false,
            ..denied
        };
        assert!(outsider.to_string().ends_with(
            "you (boris) are not in group kkt: add yourself to group kkt: sudo usermod -aG \
             kkt $USER, then log in again (a new login is what puts you in it)"
        ));
        assert_eq!(mode_letters(0o1777, true), "drwxrwxrwt");
        assert_eq!(mode_letters(0o644, false), "-rw-r--r--");
    }
}
