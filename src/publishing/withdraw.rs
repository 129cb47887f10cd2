//! Withdrawing a release: its folder is moved into `firmware_dir/.withdrawn/` (a name the
//! scan ignores and the device API never serves), keeping its line's name, so that it can be
//! published again. Nothing is deleted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::line_folder;
use crate::model::version::Version;
use crate::platform::durable::sync_folder;

/// The folder withdrawn releases go to.
pub const WITHDRAWN: &str = ".withdrawn";

/// Moves release `version` of `line` out of `firmware_dir`; where it went.
pub fn withdraw(firmware_dir: &Path, line: &str, version: Version) -> Result<PathBuf, String> {
    let line_dir = line_folder(firmware_dir, line);
    let folder = line_dir.join(version.to_string());
    match fs::symlink_metadata(&folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{} is not a release folder", folder.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "there is no release {version}{} in {}",
                if line == DEFAULT_LINE {
                    String::new()
                } else {
                    format!(" in line {line}")
                },
                line_dir.display()
            ))
        }
        Err(e) => return Err(format!("cannot read {}: {e}", folder.display())),
    }
    let mut shelf = firmware_dir.join(WITHDRAWN);
    if line != DEFAULT_LINE {
        shelf = shelf.join(line);
    }
    fs::create_dir_all(&shelf).map_err(|e| format!("cannot create {}: {e}", shelf.display()))?;
    let mut destination = shelf.join(version.to_string());
    let mut n = 2;
    while destination.exists() {
        destination = shelf.join(format!("{version}-{n}"));
        n += 1;
    }
    fs::rename(&folder, &destination).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            folder.display(),
            destination.display()
        )
    })?;
    for dir in [&line_dir, &shelf] {
        sync_folder(dir).map_err(|e| format!("cannot sync {}: {e}", dir.display()))?;
    }
    Ok(destination)
}
