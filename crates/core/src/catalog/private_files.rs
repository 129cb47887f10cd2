//! The server's own files, which static files must never serve whatever `firmware_dir`
//! holds, and the one folder static files serve from: taken again at every scan (the
//! snapshot holds both), from the list the configuration names (`ScanSettings`). Why and
//! which files: `config::firmware_dir_guard`, which fills the list and refuses a bad
//! `firmware_dir` at `check`, at start-up and on every reload.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::lang::{fill, InLanguage};
use crate::words::{FromTable, Words};
use kkt_platform::{fingerprint, system_folders};

/// A file (or folder) of the server's own that must not be downloadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateFile {
    /// What it is, for the error: "the configuration file".
    pub what: &'static str,
    /// Absolute, with links resolved as far as the path exists. When it is a folder (of
    /// license files), everything below it is private.
    pub path: PathBuf,
    /// Files whose names start with this path's are private too: SQLite's `-wal`, `-shm`
    /// and `-journal` beside the inventory, a rotated access log.
    pub with_siblings: bool,
}

/// The folder static files serve from: `firmware_dir` resolved now, which is where it
/// leads now. Taken at every scan, not once: a `firmware_dir` that is a link re-pointed
/// after the check (at `/etc`) would otherwise be served from its new target, even while
/// reloads refuse it. `Err` says why nothing is served.
pub fn static_root(firmware_dir: &Path, private: &[PrivateFile]) -> Result<PathBuf, Refusal> {
    let dir = firmware_dir
        .canonicalize()
        .map_err(|e| Refusal::CannotOpen {
            dir: firmware_dir.to_path_buf(),
            reason: e.to_string(),
        })?;
    match refusal(&dir, private) {
        Some(refused) => Err(refused),
        None => Ok(dir),
    }
}

/// Why a folder may not be `firmware_dir` (or static files not be served from it); Display
/// is a sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It cannot be resolved now (gone, or no permission): `reason` is the system's.
    CannotOpen { dir: PathBuf, reason: String },
    /// It is a system folder (`/`, `/etc`, `C:\Windows`...).
    SystemFolder { dir: PathBuf },
    /// It holds one of the server's own files.
    HoldsPrivate {
        dir: PathBuf,
        what: &'static str,
        path: PathBuf,
    },
}

/// Each refusal from the tables (`words::scan`), in either language.
impl FromTable for Refusal {
    fn said(&self, words: &'static Words) -> String {
        let t = words.scan;
        match self {
            Refusal::CannotOpen { dir, reason } => fill(
                t.fw_cannot_open,
                &[("dir", &dir.display()), ("why", reason)],
            ),
            Refusal::SystemFolder { dir } => fill(t.fw_system_folder, &[("dir", &dir.display())]),
            Refusal::HoldsPrivate { dir, what, path } => fill(
                t.fw_holds_private,
                &[
                    ("dir", &dir.display()),
                    ("what", &t.private_file(what)),
                    ("path", &path.display()),
                ],
            ),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

impl InLanguage for Refusal {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for Refusal {}

/// Why `dir` (absolute, links resolved) may not be `firmware_dir`, in a sentence saying
/// what to do, or `None` when it may.
pub fn refusal(dir: &Path, private: &[PrivateFile]) -> Option<Refusal> {
    if system_folders::is_system_folder(dir) {
        return Some(Refusal::SystemFolder {
            dir: dir.to_path_buf(),
        });
    }
    private
        .iter()
        .find(|file| file.path.starts_with(dir))
        .map(|file| Refusal::HoldsPrivate {
            dir: dir.to_path_buf(),
            what: file.what,
            path: file.path.clone(),
        })
}

/// Whether `path` (absolute, links resolved; `meta` its metadata when it exists) is one of
/// `private`, below a private folder, beside one as its companion file, or a hard link to
/// one. The private files are looked at now, not when the list was made: the inventory is
/// created after start-up, and an editor saves a new file.
pub fn is_private(path: &Path, meta: Option<&std::fs::Metadata>, private: &[PrivateFile]) -> bool {
    // A file with one name is reached only by that name, which the path test covers.
    let linked = meta
        .filter(|m| fingerprint::has_other_names(m))
        .and_then(fingerprint::file_identity);
    private.iter().any(|file| {
        path.starts_with(&file.path)
            || linked.is_some_and(|id| identities(&file.path, file.with_siblings).contains(&id))
            || (file.with_siblings
                && path.parent() == file.path.parent()
                && path
                    .as_os_str()
                    .to_string_lossy()
                    .starts_with(&*file.path.as_os_str().to_string_lossy()))
    })
}

/// The identities of `path` (a file, or the files directly in a folder) and, with
/// `with_siblings`, of the files beside it whose names start with its name.
fn identities(path: &Path, with_siblings: bool) -> Vec<(u64, u64)> {
    let identity = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| fingerprint::file_identity(&m))
    };
    let listed = |folder: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(folder)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let mut found: Vec<(u64, u64)> = Vec::new();
    if path.is_dir() {
        found.extend(listed(path).iter().filter_map(|p| identity(p)));
    } else {
        found.extend(identity(path));
    }
    if let (true, Some(parent), Some(name)) = (with_siblings, path.parent(), path.file_name()) {
        let name = name.to_string_lossy();
        found.extend(
            listed(parent)
                .iter()
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&*name))
                })
                .filter_map(|p| identity(p)),
        );
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// `path` made absolute with links resolved: the whole path when it exists, else its
/// parent's resolved path joined with the name (a log file not written yet), else the path
/// made absolute as written.
pub fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(real) = path.canonicalize() {
        return Some(real);
    }
    let absolute = std::path::absolute(path).ok()?;
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(parent) => Some(parent.join(name)),
            Err(_) => Some(absolute),
        },
        _ => Some(absolute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companions_of_the_inventory_are_private_others_are_not() {
        let private = [PrivateFile {
            what: "the inventory",
            path: PathBuf::from("/srv/kkt/inventory.sqlite"),
            with_siblings: true,
        }];
        let private_here = |path: &str| is_private(Path::new(path), None, &private);
        assert!(private_here("/srv/kkt/inventory.sqlite"));
        assert!(private_here("/srv/kkt/inventory.sqlite-wal"));
        assert!(!private_here("/srv/kkt/notes.txt"));
        assert!(!private_here("/srv/kkt/sub/inventory.sqlite-wal"));
        assert!(!private_here("/srv/kkt/inventory.sqlite.d/x"));
    }

    #[test]
    fn refusals_read_word_for_word_as_before() {
        let dir = PathBuf::from("/srv/kkt");
        let private = [PrivateFile {
            what: "the configuration file",
            path: PathBuf::from("/srv/kkt/server.yaml"),
            with_siblings: false,
        }];
        assert_eq!(
            refusal(&dir, &private).map(|r| r.to_string()),
            Some(
                "firmware_dir /srv/kkt holds the configuration file /srv/kkt/server.yaml: \
                 devices could download it. Keep firmware_dir a folder of its own with only \
                 release folders in it (like firmware/ next to server.yaml), and keep the \
                 server's own files outside it"
                    .to_string()
            )
        );
        let gone = static_root(Path::new("/nonexistent/kkt-firmware"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            gone.starts_with("firmware_dir /nonexistent/kkt-firmware cannot be opened: "),
            "{gone}"
        );
    }
}
