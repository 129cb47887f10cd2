//! Withdrawing a release: its folder is moved into `firmware_dir/.withdrawn/` (a name the
//! scan ignores and the device API never serves), keeping its line's name, so that it can be
//! published again. Nothing is deleted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::line_folder;
use crate::model::lang::{step_in_russian, InLanguage};
use crate::model::version::Version;
use crate::platform::durable::sync_folder;
use crate::platform::shared_folder::{self, why_denied, Denied, Need};

/// The folder withdrawn releases go to.
pub const WITHDRAWN: &str = ".withdrawn";

/// Why a release could not be withdrawn; until the move, nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    #[error("{} is not a release folder", .0.display())]
    NotAFolder(PathBuf),
    /// The shelf (or a folder on its way) is a link or not a folder.
    #[error(
        "{} is a link or not a folder: withdrawn releases are moved only into a real folder \
         there (someone with write access to firmware_dir put this here; remove it and \
         withdraw again)",
        .0.display()
    )]
    NotShelf(PathBuf),
    #[error("there is no release {version}{} in {}", in_line(line), line_dir.display())]
    NoRelease {
        version: Version,
        line: String,
        line_dir: PathBuf,
    },
    /// `what`: `read`, `create`, `sync`.
    #[error("cannot {what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot move {} to {}: {error}", from.display(), to.display())]
    Move {
        from: PathBuf,
        to: PathBuf,
        error: std::io::Error,
    },
    /// The system refused: which folder, whose it is, and what to do.
    #[error("cannot {what} {}: permission denied: {denied}", path.display())]
    Denied {
        what: String,
        path: PathBuf,
        denied: Box<Denied>,
    },
}

/// ` in line NAME`, or nothing for the default line.
fn in_line(line: &str) -> String {
    if line == DEFAULT_LINE {
        String::new()
    } else {
        format!(" in line {line}")
    }
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> WithdrawError + 'a {
    move |error| WithdrawError::Io {
        what,
        path: path.to_path_buf(),
        error,
    }
}

/// A refusal of the system, with the first of `needed` that refuses named, or `None` (the
/// error is another one, or nothing can be told).
fn denied(
    error: &std::io::Error,
    what: String,
    path: &Path,
    needed: &[(&Path, Need)],
) -> Option<WithdrawError> {
    if error.kind() != std::io::ErrorKind::PermissionDenied {
        return None;
    }
    Some(WithdrawError::Denied {
        what,
        path: path.to_path_buf(),
        denied: Box::new(why_denied(needed)?),
    })
}

/// Every folder from `firmware_dir` (excluded) down to `shelf` that exists is a folder, not
/// a link: looked at before the shelf is made (so nothing is made through a link) and after.
fn refuse_links(firmware_dir: &Path, shelf: &Path) -> Result<(), WithdrawError> {
    let Ok(below) = shelf.strip_prefix(firmware_dir) else {
        return Ok(());
    };
    let mut path = firmware_dir.to_path_buf();
    for part in below.components() {
        path.push(part);
        let metadata = match fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            // Not made yet: nothing below it exists either.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(io("read", &path)(error)),
        };
        if metadata.file_type().is_symlink() || !metadata.is_dir() {
            return Err(WithdrawError::NotShelf(path));
        }
    }
    Ok(())
}

/// Moves release `version` of `line` out of `firmware_dir`; where it went.
pub fn withdraw(
    firmware_dir: &Path,
    line: &str,
    version: Version,
) -> Result<PathBuf, WithdrawError> {
    let line_dir = line_folder(firmware_dir, line);
    let folder = line_dir.join(version.to_string());
    match fs::symlink_metadata(&folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(WithdrawError::NotAFolder(folder)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(WithdrawError::NoRelease {
                version,
                line: line.to_string(),
                line_dir,
            })
        }
        Err(error) => return Err(io("read", &folder)(error)),
    }
    let mut shelf = firmware_dir.join(WITHDRAWN);
    if line != DEFAULT_LINE {
        shelf = shelf.join(line);
    }
    refuse_links(firmware_dir, &shelf)?;
    // The shelf is shared like `firmware_dir`: any operator of its group withdraws into it.
    shared_folder::create_dir_all(&shelf).map_err(|error| {
        let top = firmware_dir.join(WITHDRAWN);
        let needed = [
            (shelf.as_path(), Need::Write),
            (top.as_path(), Need::Write),
            (firmware_dir, Need::Write),
        ];
        denied(&error, "create".into(), &shelf, &needed)
            .unwrap_or_else(|| io("create", &shelf)(error))
    })?;
    // In a folder a group shares, a member may have put a link where the shelf goes (to a
    // folder of their choice); whoever withdraws next, root included, must not move the
    // release through it. (A link planted between this look and the move is not caught:
    // that needs the move made relative to opened folders.)
    refuse_links(firmware_dir, &shelf)?;
    let mut destination = shelf.join(version.to_string());
    let mut n = 2;
    while destination.exists() {
        destination = shelf.join(format!("{version}-{n}"));
        n += 1;
    }
    fs::rename(&folder, &destination).map_err(|error| {
        // Moving a folder to another parent writes both parents and the folder's own `..`.
        let needed = [
            (line_dir.as_path(), Need::Write),
            (shelf.as_path(), Need::Write),
            (folder.as_path(), Need::Write),
        ];
        let what = format!("move {} to", folder.display());
        denied(&error, what, &destination, &needed).unwrap_or_else(|| WithdrawError::Move {
            from: folder.clone(),
            to: destination.clone(),
            error,
        })
    })?;
    for dir in [&line_dir, &shelf] {
        sync_folder(dir).map_err(io("sync", dir))?;
    }
    Ok(destination)
}

/// The failures in Russian (`withdraw` prints them in the operator's language); the
/// system's own cause stays as the system says it.
impl InLanguage for WithdrawError {
    fn in_russian(&self) -> String {
        match self {
            WithdrawError::NotAFolder(path) => {
                format!("{} — не папка релиза", path.display())
            }
            WithdrawError::NotShelf(path) => format!(
                "{} — не папка, а ссылка или файл: отозванные релизы туда не переносятся \
                 (удалите её, и отзыв создаст настоящую папку)",
                path.display()
            ),
            WithdrawError::NoRelease {
                version,
                line,
                line_dir,
            } => {
                let in_line = if line == DEFAULT_LINE {
                    String::new()
                } else {
                    format!(" в линейке {line}")
                };
                format!("нет релиза {version}{in_line} в {}", line_dir.display())
            }
            WithdrawError::Io { what, path, error } => format!(
                "не удалось {} {}: {error}",
                step_in_russian(what),
                path.display()
            ),
            WithdrawError::Move { from, to, error } => format!(
                "не удалось перенести {} в {}: {error}",
                from.display(),
                to.display()
            ),
            WithdrawError::Denied { what, path, denied } => {
                let step = match what
                    .strip_prefix("move ")
                    .and_then(|w| w.strip_suffix(" to"))
                {
                    Some(folder) => format!("перенести {folder} в"),
                    None => step_in_russian(what),
                };
                format!(
                    "не удалось {step} {}: доступ запрещён: {}",
                    path.display(),
                    denied.in_russian()
                )
            }
        }
    }
}
