//! Where an installed copy of the server keeps its configuration, which differs per system:
//! the package's conffile under `/etc` on Linux (and other Unix systems), `server.yaml`
//! beside the `.exe` on Windows (the zip is unpacked into one folder and run from there).
//! Only packaged builds look here (`config::search`); a build from source never does, so a
//! test in a temporary folder cannot pick up a machine's `/etc`.

use std::path::{Path, PathBuf};

/// The configuration files an installed server looks for, in order. `root` is the file
/// system's root (`/`; a temporary folder in tests), `program_folder` the folder of the
/// running program, when the system can say.
#[cfg(unix)]
pub fn installed_config_files(root: &Path, _program_folder: Option<&Path>) -> Vec<PathBuf> {
    vec![root.join("etc/kkt-update-server/server.yaml")]
}

/// On Windows, `server.yaml` beside `kkt-update-server.exe`.
#[cfg(not(unix))]
pub fn installed_config_files(_root: &Path, program_folder: Option<&Path>) -> Vec<PathBuf> {
    program_folder
        .map(|folder| vec![folder.join("server.yaml")])
        .unwrap_or_default()
}

/// The folder of the running program, when the system can say.
pub fn program_folder() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
}
