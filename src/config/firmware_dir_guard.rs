//! Every file below `firmware_dir` is downloadable by whoever reaches the device port (the
//! reference serves its whole folder, and so do we: release notes, installers). One wrong
//! line (`firmware_dir: /`, `.`, `""`) would then publish `server.yaml` with the admin
//! token, the TLS key, the license files and the inventory. This guard refuses such a
//! configuration at `check`, at start-up and on every reload (the last good one keeps
//! running), and names the files the static-file handler must never serve whatever the
//! folder holds: by path (a license folder: everything in it), and by identity, since a
//! hard link (`ln server.yaml firmware/docs/`) is the very file under another name.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::config::{Config, InventorySetting, LogDestination};
use crate::platform::{fingerprint, system_folders};

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

/// The server's own files, as the configuration names them.
pub fn private_files(config: &Config) -> Vec<PrivateFile> {
    let mut files = Vec::new();
    let mut add = |what: &'static str, path: &Path, with_siblings: bool| {
        if let Some(path) = resolved(path) {
            files.push(PrivateFile {
                what,
                path,
                with_siblings,
            });
        }
    };
    if let Some(path) = &config.path {
        add("the configuration file", path, false);
    }
    for path in &config.licenses {
        let what = if path.is_dir() {
            "the license folder"
        } else {
            "the license file"
        };
        add(what, path, false);
    }
    if let Some(tls) = &config.tls {
        add("the TLS certificate", &tls.files.cert, false);
        add("the TLS private key", &tls.files.key, false);
    }
    if let InventorySetting::Sqlite(path) = &config.inventory {
        add("the inventory", path, true);
    }
    if let LogDestination::File(path) = &config.access_log {
        add("the access log", path, true);
    }
    // Written only by the Windows service, but wherever the server runs a file by that
    // name beside the configuration is the server's.
    add("the service's log", &config.service_log(), true);
    files
}

/// Refuses a `firmware_dir` that is a system folder or holds one of the server's own
/// files, with a sentence saying what to do.
pub fn check(config: &Config) -> Result<()> {
    let given = &config.firmware_dir;
    if given.as_os_str().is_empty() {
        bail!(
            "firmware_dir is empty; name a folder of its own that holds only release folders, \
             like firmware or /var/lib/kkt-update-server/firmware"
        );
    }
    let Some(dir) = resolved(given) else {
        // Cannot be made absolute: `require_firmware_dir` says what is wrong with it.
        return Ok(());
    };
    match refusal(&dir, &private_files(config)) {
        Some(refused) => Err(refused.into()),
        None => Ok(()),
    }
}

/// The folder static files serve from: `firmware_dir` resolved now, which is where it
/// leads now. Taken at every scan, not once: a `firmware_dir` that is a link re-pointed
/// after the check (at `/etc`) would otherwise be served from its new target, even while
/// reloads refuse it. `Err` says why nothing is served.
pub fn static_root(
    firmware_dir: &Path,
    private: &[PrivateFile],
) -> Result<PathBuf, FirmwareDirRefusal> {
    let dir = firmware_dir
        .canonicalize()
        .map_err(|error| FirmwareDirRefusal::CannotOpen {
            dir: firmware_dir.to_path_buf(),
            error,
        })?;
    match refusal(&dir, private) {
        Some(refused) => Err(refused),
        None => Ok(dir),
    }
}

/// Why a folder may not be `firmware_dir` (or cannot be served from now), in a sentence
/// saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum FirmwareDirRefusal {
    #[error("firmware_dir {} cannot be opened: {error}", dir.display())]
    CannotOpen { dir: PathBuf, error: std::io::Error },
    #[error(
        "firmware_dir {} is a system folder: every file in it would be downloadable by any \
         device or anyone on the network. Point firmware_dir at a folder of its own that \
         holds only release folders, like /var/lib/kkt-update-server/firmware",
        .0.display()
    )]
    SystemFolder(PathBuf),
    #[error(
        "firmware_dir {} holds {} {}: devices could download it. Keep firmware_dir a folder \
         of its own with only release folders in it (like firmware/ next to server.yaml), \
         and keep the server's own files outside it",
        dir.display(),
        file.what,
        file.path.display()
    )]
    HoldsPrivate { dir: PathBuf, file: PrivateFile },
}

/// Why `dir` (absolute, links resolved) may not be `firmware_dir`, or `None` when it may.
fn refusal(dir: &Path, private: &[PrivateFile]) -> Option<FirmwareDirRefusal> {
    if system_folders::is_system_folder(dir) {
        return Some(FirmwareDirRefusal::SystemFolder(dir.to_path_buf()));
    }
    private
        .iter()
        .find(|file| file.path.starts_with(dir))
        .map(|file| FirmwareDirRefusal::HoldsPrivate {
            dir: dir.to_path_buf(),
            file: file.clone(),
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
fn resolved(path: &Path) -> Option<PathBuf> {
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
    use crate::config::cli::RawArgs;
    use crate::config::parse_file;

    fn config_in(dir: &Path, yaml: &str) -> Result<Config> {
        let path = dir.join("server.yaml");
        std::fs::write(&path, yaml)?;
        Config::resolve(&RawArgs::default(), parse_file(yaml)?, dir, Some(path))
    }

    #[test]
    fn a_folder_holding_the_servers_own_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("firmware")).unwrap();
        let fine = config_in(dir.path(), "firmware_dir: firmware\n").unwrap();
        check(&fine).unwrap();
        for yaml in [
            "firmware_dir: .\n",
            "firmware_dir: \"\"\n",
            "firmware_dir: firmware/..\n",
        ] {
            let config = config_in(dir.path(), yaml).unwrap();
            let error = check(&config).unwrap_err().to_string();
            assert!(
                error.contains("holds the configuration file"),
                "{yaml}: {error}"
            );
        }
        let config = config_in(
            dir.path(),
            "firmware_dir: firmware\nlicenses: [firmware/keys/licenses.yaml]\n",
        )
        .unwrap();
        let error = check(&config).unwrap_err().to_string();
        assert!(error.contains("the license file"), "{error}");
        let config = config_in(
            dir.path(),
            "firmware_dir: firmware\ninventory: sqlite:firmware/inventory.sqlite\n",
        )
        .unwrap();
        assert!(check(&config)
            .unwrap_err()
            .to_string()
            .contains("the inventory"));
    }

    /// The Windows service writes its log next to the configuration file as named (a
    /// link inside `firmware_dir` to a file elsewhere puts the log inside it).
    #[cfg(unix)]
    #[test]
    fn the_service_log_is_one_of_the_servers_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc-kkt")).unwrap();
        std::fs::create_dir_all(dir.path().join("firmware")).unwrap();
        let real = dir.path().join("etc-kkt/server.yaml");
        let yaml = format!(
            "firmware_dir: {}\ninventory: off\n",
            dir.path().join("firmware").display()
        );
        std::fs::write(&real, &yaml).unwrap();
        let link = dir.path().join("firmware/server.yaml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let config = Config::resolve(
            &RawArgs::default(),
            parse_file(&yaml).unwrap(),
            &dir.path().join("firmware"),
            Some(link),
        )
        .unwrap();
        let error = check(&config).unwrap_err().to_string();
        assert!(error.contains("the service's log"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path(), "firmware_dir: /\n").unwrap();
        let error = check(&config).unwrap_err().to_string();
        assert!(
            error.contains("firmware_dir / is a system folder"),
            "{error}"
        );
    }

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
}
