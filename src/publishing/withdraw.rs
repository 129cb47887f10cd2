//! Withdrawing a release: its folder is moved into `firmware_dir/.withdrawn/` (a name the
//! scan ignores and the device API never serves), keeping its line's name, so that it can be
//! published again. Nothing is deleted.
//!
//! The move is made relative to opened folders (`platform::shared_dir`): `firmware_dir` is
//! opened once, the line's folder, the release folder and the shelf (`.withdrawn/` and its
//! line's folder in it) never through a link, and the release is renamed from the opened
//! line folder into the opened shelf. A member of the group that shares `firmware_dir` who
//! swaps any of them for a link, before or during the command, gets a refusal naming it
//! ("… is a link; refusing to follow it"), never a release moved where the link points.

use std::path::{Path, PathBuf};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::lines::line_folder;
use crate::model::lang::{step_in_russian, InLanguage};
use crate::model::version::Version;
use crate::platform::shared_dir::{is_link, is_replaced, Entry, SharedDir};
use crate::platform::shared_folder::{why_denied, Denied, Need};

/// The folder withdrawn releases go to.
pub const WITHDRAWN: &str = ".withdrawn";

/// Why a release could not be withdrawn; until the move, nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    #[error("{} is not a release folder", .0.display())]
    NotAFolder(PathBuf),
    /// The shelf (or a folder on its way) is not a folder (a file, say).
    #[error(
        "{} is not a folder: withdrawn releases are moved only into a real folder there \
         (someone with write access to firmware_dir put this here; remove it and withdraw \
         again)",
        .0.display()
    )]
    NotShelf(PathBuf),
    /// A folder on the way (the line's, the release, the shelf) is a link: a member of the
    /// group that shares firmware_dir put it there.
    #[error(
        "{} is a link; refusing to follow it (someone with write access to firmware_dir \
         put it there: remove it and withdraw again)",
        .0.display()
    )]
    Link(PathBuf),
    /// The shelf already holds `MAX_COPIES` withdrawn copies of this version.
    #[error(
        "{} already holds {MAX_COPIES} withdrawn copies of {version} ({version} to \
         {version}-{MAX_COPIES}); remove the ones no longer needed and withdraw again",
        shelf.display()
    )]
    ShelfFull { shelf: PathBuf, version: Version },
    #[error("there is no release {version}{} in {}", in_line(line), line_dir.display())]
    NoRelease {
        version: Version,
        line: String,
        line_dir: PathBuf,
    },
    /// `what`: `read`, `open`, `create`, `sync`.
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
    /// A folder withdraw made or moved (the shelf, the release) was moved away or swapped
    /// for something else meanwhile; what was moved instead was put back (`left`: where it
    /// still is, if it could not be).
    #[error(
        "{} was moved away or replaced (by a link or another folder) while withdraw used \
         it: someone with write access to firmware_dir did it; {}",
        folder.display(),
        match left {
            None => "nothing was withdrawn".to_string(),
            Some(at) => format!("what was put there is now {}: look at it", at.display()),
        }
    )]
    Swapped {
        folder: PathBuf,
        left: Option<PathBuf>,
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

/// The error of step `what` on `path`; a link met on the way is named as one, something
/// that is not a folder where the shelf goes as that.
fn io<'a>(what: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> WithdrawError + 'a {
    move |error| {
        if let Some(link) = is_link(&error) {
            return WithdrawError::Link(link.to_path_buf());
        }
        if let Some(folder) = is_replaced(&error) {
            return WithdrawError::Swapped {
                folder: folder.to_path_buf(),
                left: None,
            };
        }
        WithdrawError::Io {
            what,
            path: path.to_path_buf(),
            error,
        }
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

/// Opens the shelf for `line`: `.withdrawn/` in `firmware`, and the line's folder in it,
/// each made if missing (shared like `firmware_dir`: any operator of its group withdraws
/// into it), never through a link.
fn open_shelf(firmware: &SharedDir, line: &str) -> Result<SharedDir, WithdrawError> {
    let top_path = firmware.shown(WITHDRAWN);
    let shelf_path = if line == DEFAULT_LINE {
        top_path.clone()
    } else {
        top_path.join(line)
    };
    let refused = |error: std::io::Error, at: &Path| {
        if error.kind() == std::io::ErrorKind::NotADirectory {
            return WithdrawError::NotShelf(at.to_path_buf());
        }
        let needed = [
            (shelf_path.as_path(), Need::Write),
            (top_path.as_path(), Need::Write),
            (firmware.path(), Need::Write),
        ];
        denied(&error, "create".into(), &shelf_path, &needed)
            .unwrap_or_else(|| io("create", &shelf_path)(error))
    };
    let top = firmware
        .open_or_create_subdir(WITHDRAWN)
        .map_err(|e| refused(e, &top_path))?;
    if line == DEFAULT_LINE {
        return Ok(top);
    }
    top.open_or_create_subdir(line)
        .map_err(|e| refused(e, &shelf_path))
}

/// The file a withdrawal leaves in the withdrawn folder: who withdrew it, one line (the
/// audit trail's actor when the server sees the release go).
pub const WITHDRAWN_BY: &str = "withdrawn_by";
/// The longest `withdrawn_by` read back.
const WITHDRAWN_BY_MAX: u64 = 256;
/// Entries of a shelf looked at for the newest `withdrawn_by` of a version.
const SHELF_ENTRIES_READ: usize = 4096;

/// Moves release `version` of `line` out of `firmware_dir`, signed by the OS user this
/// process runs as (the `withdraw` command); where it went.
pub fn withdraw(
    firmware_dir: &Path,
    line: &str,
    version: Version,
) -> Result<PathBuf, WithdrawError> {
    withdraw_by(
        firmware_dir,
        line,
        version,
        &crate::platform::process_user::user_name(),
    )
}

/// Moves release `version` of `line` out of `firmware_dir` and leaves `by` (who withdrew
/// it: an OS user, an operator's name) in `withdrawn_by` inside it; where it went. A
/// signature that cannot be written is logged, not a failure: the release is withdrawn.
pub fn withdraw_by(
    firmware_dir: &Path,
    line: &str,
    version: Version,
    by: &str,
) -> Result<PathBuf, WithdrawError> {
    let line_path = line_folder(firmware_dir, line);
    let name = version.to_string();
    let folder = line_path.join(&name);
    let no_release = || WithdrawError::NoRelease {
        version,
        line: line.to_string(),
        line_dir: line_path.clone(),
    };
    let firmware = SharedDir::open(firmware_dir).map_err(io("open", firmware_dir))?;
    let line_dir = if line == DEFAULT_LINE {
        None
    } else {
        match firmware.open_subdir(line) {
            Ok(dir) => Some(dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_release()),
            Err(error) => return Err(io("open", &line_path)(error)),
        }
    };
    let line_dir = line_dir.as_ref().unwrap_or(&firmware);
    match line_dir.entry(&name).map_err(io("read", &folder))? {
        Entry::Folder => {}
        Entry::Missing => return Err(no_release()),
        Entry::Link => return Err(WithdrawError::Link(folder)),
        Entry::Other => return Err(WithdrawError::NotAFolder(folder)),
    }
    // Opened to be recognised after the move (a link swapped in is moved, not followed).
    let release = line_dir.open_subdir(&name).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotADirectory {
            WithdrawError::NotAFolder(folder.clone())
        } else {
            io("open", &folder)(error)
        }
    })?;
    let shelf = open_shelf(&firmware, line)?;
    let place = free_place(&shelf, version)?;
    let destination = move_to_shelf(line_dir, &name, release, &shelf, &place, &folder)?;
    if let Err(e) = sign(&shelf, &place, by) {
        log::warn!(
            "cannot write {}: {e}",
            destination.join(WITHDRAWN_BY).display()
        );
    }
    Ok(destination)
}

/// Writes `withdrawn_by` into the withdrawn folder `place` on `shelf` (never through a
/// link, never over an existing file).
fn sign(shelf: &SharedDir, place: &str, by: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let folder = shelf.open_subdir(place)?;
    let mut file = folder.create_file(WITHDRAWN_BY)?;
    file.write_all(format!("{}\n", crate::model::one_line::escaped(by)).as_bytes())?;
    file.sync_all()
}

/// Who withdrew release `version` of `line`, as its newest withdrawn copy on the shelf says
/// (`withdrawn_by`): none when no copy says it. Reads a bounded number of shelf entries and
/// a bounded file, never through a link.
pub fn withdrawn_by(firmware_dir: &Path, line: &str, version: u32) -> Option<String> {
    let top = firmware_dir.join(WITHDRAWN);
    let shelf = if line == DEFAULT_LINE {
        top
    } else {
        top.join(line)
    };
    let name = version.to_string();
    let copy = |entry: &str| entry == name || entry.strip_prefix(&format!("{name}-")).is_some();
    let newest = std::fs::read_dir(&shelf)
        .ok()?
        .take(SHELF_ENTRIES_READ)
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(copy))
        .filter_map(|entry| {
            let signature = entry.path().join(WITHDRAWN_BY);
            let metadata = std::fs::symlink_metadata(&signature).ok()?;
            (metadata.is_file() && !std::fs::symlink_metadata(entry.path()).ok()?.is_symlink())
                .then(|| (metadata.modified().ok(), signature))
        })
        .max_by_key(|(modified, _)| *modified)?;
    let bytes = crate::platform::regular_file::read_regular(&newest.1, WITHDRAWN_BY_MAX).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let who = text.lines().next()?.trim();
    (!who.is_empty()).then(|| who.to_string())
}

/// Withdrawn copies of one version the shelf takes: the search for a free name is bounded,
/// so a shelf that someone filled with `20250301-2`, `-3`, ... cannot keep withdraw looking.
const MAX_COPIES: u32 = 1000;

/// The first name the release may take on the shelf: `20250301`, else `20250301-2`, ...
/// up to `-MAX_COPIES`.
fn free_place(shelf: &SharedDir, version: Version) -> Result<String, WithdrawError> {
    let mut place = version.to_string();
    for n in 2..=MAX_COPIES + 1 {
        if shelf
            .entry(&place)
            .map_err(io("read", &shelf.shown(&place)))?
            == Entry::Missing
        {
            return Ok(place);
        }
        place = format!("{version}-{n}");
    }
    Err(WithdrawError::ShelfFull {
        shelf: shelf.shown(""),
        version,
    })
}

/// Renames the release `name` (opened as `release`, shown as `folder`) from `line_dir`
/// to `place` on `shelf`, checks that what moved is the release, and syncs both folders.
fn move_to_shelf(
    line_dir: &SharedDir,
    name: &str,
    release: SharedDir,
    shelf: &SharedDir,
    place: &str,
    folder: &Path,
) -> Result<PathBuf, WithdrawError> {
    let destination = shelf.shown(place);
    let release = release.close();
    line_dir.rename_to(name, shelf, place).map_err(|error| {
        if !release.is_entry(line_dir, name).unwrap_or(true) {
            // Moved away meanwhile: what failed is a member's doing, not the system's.
            return WithdrawError::Swapped {
                folder: folder.to_path_buf(),
                left: None,
            };
        }
        // Moving a folder to another parent writes both parents and the folder's own `..`.
        let needed = [
            (line_dir.path(), Need::Write),
            (shelf.path(), Need::Write),
            (folder, Need::Write),
        ];
        let what = format!("move {} to", folder.display());
        denied(&error, what, &destination, &needed).unwrap_or_else(|| WithdrawError::Move {
            from: folder.to_path_buf(),
            to: destination.clone(),
            error,
        })
    })?;
    // Swapped between the look and the move: what was moved is not the release; it goes
    // back where it was, when that can be done. (A look that fails says nothing: the move
    // is then let stand.)
    if !release.is_entry(shelf, place).unwrap_or(true) {
        let put_back = shelf.rename_to(place, line_dir, name).is_ok();
        return Err(WithdrawError::Swapped {
            folder: folder.to_path_buf(),
            left: (!put_back).then_some(destination),
        });
    }
    for dir in [line_dir, shelf] {
        dir.sync().map_err(io("sync", dir.path()))?;
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
                "{} — не папка: отозванные релизы туда не переносятся (удалите это, и отзыв \
                 создаст настоящую папку)",
                path.display()
            ),
            WithdrawError::Link(path) => format!(
                "{} — ссылка; переходить по ней withdraw отказывается (её положил тот, кто \
                 может писать в firmware_dir: удалите её и отзовите снова)",
                path.display()
            ),
            WithdrawError::Swapped { folder, left } => format!(
                "{} унесли или подменили (ссылкой или другой папкой), пока withdraw работал с ней: это \
                 сделал тот, кто может писать в firmware_dir; {}",
                folder.display(),
                match left {
                    None => "ничего не отозвано".to_string(),
                    Some(at) => format!("подложенное теперь в {}: проверьте", at.display()),
                }
            ),
            WithdrawError::ShelfFull { shelf, version } => format!(
                "в {} уже {MAX_COPIES} отозванных копий {version} (от {version} до \
                 {version}-{MAX_COPIES}); удалите ненужные и отзовите снова",
                shelf.display()
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
