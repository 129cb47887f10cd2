//! Every file below `firmware_dir` is downloadable by whoever reaches the device port (the
//! reference serves its whole folder, and so do we: release notes, installers). One wrong
//! line (`firmware_dir: /`, `.`, `""`) would then publish `server.yaml` with the admin
//! token, the TLS key, the license files and the inventory. This guard refuses such a
//! configuration at `check`, at start-up and on every reload (the last good one keeps
//! running), and names the files the static-file handler must never serve whatever the
//! folder holds.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::config::{Config, InventorySetting, LogDestination};
use crate::platform::system_folders;

/// A file (or folder) of the server's own that must not be downloadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateFile {
    /// What it is, for the error: "the configuration file".
    pub what: &'static str,
    /// Absolute, with links resolved as far as the path exists.
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
        add("the license file", path, false);
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
    if system_folders::is_system_folder(&dir) {
        bail!(
            "firmware_dir {} is a system folder: every file in it would be downloadable by \
             any device or anyone on the network. Point firmware_dir at a folder of its own \
             that holds only release folders, like /var/lib/kkt-update-server/firmware",
            dir.display()
        );
    }
    for file in private_files(config) {
        if file.path.starts_with(&dir) {
            bail!(
                "firmware_dir {} holds {} {}: devices could download it. Keep firmware_dir a \
                 folder of its own with only release folders in it (like firmware/ next to \
                 server.yaml), and keep the server's own files outside it",
                dir.display(),
                file.what,
                file.path.display()
            );
        }
    }
    Ok(())
}

/// Whether `path` (absolute, links resolved) is one of `private` or beside one as its
/// companion file.
pub fn is_private(path: &Path, private: &[PrivateFile]) -> bool {
    private.iter().any(|file| {
        path == file.path
            || (file.with_siblings
                && path.parent() == file.path.parent()
                && path
                    .as_os_str()
                    .to_string_lossy()
                    .starts_with(&*file.path.as_os_str().to_string_lossy()))
    })
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
        assert!(is_private(Path::new("/srv/kkt/inventory.sqlite"), &private));
        assert!(is_private(
            Path::new("/srv/kkt/inventory.sqlite-wal"),
            &private
        ));
        assert!(!is_private(Path::new("/srv/kkt/notes.txt"), &private));
        assert!(!is_private(
            Path::new("/srv/kkt/sub/inventory.sqlite-wal"),
            &private
        ));
    }
}
