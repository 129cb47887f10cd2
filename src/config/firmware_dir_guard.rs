//! Every file below `firmware_dir` is downloadable by whoever reaches the device port (the
//! reference serves its whole folder, and so do we: release notes, installers). One wrong
//! line (`firmware_dir: /`, `.`, `""`) would then publish `server.yaml` with the admin
//! token, the TLS key, the license files and the inventory. This guard refuses such a
//! configuration at `check`, at start-up and on every reload (the last good one keeps
//! running), and names the files the static-file handler must never serve whatever the
//! folder holds: by path (a license folder: everything in it), and by identity, since a
//! hard link (`ln server.yaml firmware/docs/`) is the very file under another name.
//! Here the configuration names its files; what a file name or a folder means to the
//! guard (`PrivateFile`, `static_root`, `is_private`) is the catalog's
//! (`catalog::private_files`), since every scan takes it again.

use std::path::Path;

use anyhow::Result;

pub use crate::catalog::private_files::{is_private, static_root, PrivateFile};
use crate::catalog::private_files::{refusal, resolved};
use crate::config::{Config, InventorySetting, LogDestination};
use crate::words::Said;

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
    // groups: client companies' names and networks are the operator's, not a download.
    if let Some(path) = &config.groups {
        add("the groups file", path, false);
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
        return Err(Said::new(|w| w.scan.fw_empty.to_string()).into());
    }
    let Some(dir) = resolved(given) else {
        // Cannot be made absolute: `require_firmware_dir` says what is wrong with it.
        return Ok(());
    };
    match refusal(&dir, &private_files(config)) {
        Some(refused) => Err(Said::of(&refused).into()),
        None => Ok(()),
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
        // groups: client companies' names and networks are no download either.
        let config = config_in(
            dir.path(),
            "firmware_dir: firmware\ngroups: firmware/groups.yaml\n",
        )
        .unwrap();
        let error = check(&config).unwrap_err().to_string();
        assert!(error.contains("holds the groups file"), "{error}");
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
}
