//! Writing a release into its line's folder so that no scan can ever see it half done.
//!
//! A new version: the files and `meta.yaml` (with pins) are written into
//! `.staging-<version>-<nonce>` beside the final place (same file system, a name the scan
//! ignores), synced, and the folder is renamed to `<version>` in one step, then the parent
//! is synced. A version already published (`--replace`): the folder must never disappear,
//! or devices would be offered an older release for a moment. So the new `meta.yaml`, whose
//! pins the old files fail, is renamed in first (the server keeps serving the bytes it
//! validated before), then each new file is renamed over the old one; once both match
//! their pins the server swaps the new release in whole.
//!
//! Every step is made relative to opened folders (`platform::shared_dir`): `firmware_dir`
//! is opened once, the line's folder, the staging folder and a release folder below it
//! never through a link. A member of the group that shares `firmware_dir` who swaps one of
//! them for a link meanwhile gets a refusal ("… is a link; refusing to follow it"), and
//! nothing is written anywhere else; one who swaps the staging folder for another between
//! the writing and the rename is found by its identity, and nothing is published.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::catalog::device_line::DEFAULT_LINE;
use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::lang::{step_in_russian, InLanguage};
use crate::model::version::Version;
use crate::platform::durable::write_synced;
use crate::platform::shared_dir::{is_link, is_replaced, Entry, SharedDir};
use crate::platform::shared_folder::{why_denied, Denied, Need};

/// A name no other process picks at the same moment, for staging files and folders.
fn nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:09}", std::process::id())
}

/// Why a release could not be written; whatever was staged is removed again (a
/// replacement in place may have renamed some files in, see `replace_in_place`).
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("{} is already published; give --replace to replace it in place", .0.display())]
    AlreadyPublished(PathBuf),
    /// Another publish put the same version in place while this one staged it.
    #[error("{} appeared meanwhile; nothing was changed", .0.display())]
    AppearedMeanwhile(PathBuf),
    /// `what`: `create`, `write`, `sync`, `rename into place`...
    #[error("cannot {what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// The system refused: which folder or file, whose it is, and what to do.
    #[error("cannot {what} {}: permission denied: {denied}", path.display())]
    Denied {
        what: &'static str,
        path: PathBuf,
        denied: Box<Denied>,
    },
    /// A folder on the way (the line's, the staging one, the release) is a link: a member
    /// of the group that shares firmware_dir put it there.
    #[error(
        "{} is a link; refusing to follow it (someone with write access to firmware_dir \
         put it there: remove it and publish again)",
        .0.display()
    )]
    Link(PathBuf),
    /// The staging folder was moved away (and something else perhaps put under its name)
    /// between its making and the rename; `left`: where that something still is, if it
    /// could not be put back.
    #[error(
        "{} was moved away or replaced (by a link or another folder) while publish wrote \
         it: someone with write access to firmware_dir did it; {}",
        staging.display(),
        match left {
            None => "nothing was published".to_string(),
            Some(target) => format!("{} now holds what was put there: remove it", target.display()),
        }
    )]
    Swapped {
        staging: PathBuf,
        left: Option<PathBuf>,
    },
}

/// What was done, for the command to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new folder renamed into place.
    New,
    /// The files of a published folder replaced in place.
    Replaced,
}

/// Writes release `version` into the folder of `line` in `firmware_dir` (`firmware_dir`
/// itself for the default line). `replace`: a folder of that version may exist and is
/// replaced in place. Returns where the release now is, as it is shown.
pub fn write_release(
    firmware_dir: &Path,
    line: &str,
    version: Version,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
    replace: bool,
) -> Result<(PathBuf, Written), StagingError> {
    let firmware = SharedDir::open(firmware_dir).map_err(io("open", firmware_dir))?;
    let line_dir = if line == DEFAULT_LINE {
        firmware
    } else {
        let shown = firmware.shown(line);
        firmware.open_subdir(line).map_err(io("open", &shown))?
    };
    let name = version.to_string();
    let target = line_dir.shown(&name);
    match line_dir.entry(&name).map_err(io("read", &target))? {
        Entry::Missing => {}
        Entry::Link => return Err(StagingError::Link(target)),
        _ if !replace => return Err(StagingError::AlreadyPublished(target)),
        _ => {
            replace_in_place(&line_dir, &name, files, meta_yaml)?;
            return Ok((target, Written::Replaced));
        }
    }
    let staging = format!(".staging-{version}-{}", nonce());
    stage_and_rename(&line_dir, &staging, &name, files, meta_yaml)?;
    Ok((target, Written::New))
}

/// The error of step `what` on `path`. A refusal names the folder that refused (for a sync
/// or an open, `path` itself, read; else the folder the entry is made or renamed in,
/// written) and who owns it; a link met on the way is named as one.
fn io<'a>(what: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> StagingError + 'a {
    move |error| {
        if let Some(link) = is_link(&error) {
            return StagingError::Link(link.to_path_buf());
        }
        if let Some(folder) = is_replaced(&error) {
            return StagingError::Swapped {
                staging: folder.to_path_buf(),
                left: None,
            };
        }
        let needed = match (what, path.parent()) {
            ("sync" | "open", _) | (_, None) => (path, Need::Read),
            (_, Some(parent)) => (parent, Need::Write),
        };
        let denied = (error.kind() == std::io::ErrorKind::PermissionDenied)
            .then(|| why_denied(&[needed]))
            .flatten();
        match denied {
            Some(denied) => StagingError::Denied {
                what,
                path: path.to_path_buf(),
                denied: Box::new(denied),
            },
            None => StagingError::Io {
                what,
                path: path.to_path_buf(),
                error,
            },
        }
    }
}

/// Writes the release's files into the opened staging folder and syncs them and it.
fn fill(staged: &SharedDir, files: &[Vec<u8>; 2], meta_yaml: &str) -> Result<(), StagingError> {
    for (name, bytes) in FIRMWARE_FILES.iter().zip(files) {
        write_synced(staged, name, bytes).map_err(io("write", &staged.shown(name)))?;
    }
    write_synced(staged, "meta.yaml", meta_yaml.as_bytes())
        .map_err(io("write", &staged.shown("meta.yaml")))?;
    staged.sync().map_err(io("sync", staged.path()))
}

/// Removes what was staged: the files through the staging folder's handle, then the
/// folder, if `name` in `line_dir` is still that folder. Nothing half-written is left
/// behind (a dot-name is ignored by the scan anyway); failures are left to the next look.
fn discard(line_dir: &SharedDir, name: &str, staged: SharedDir) {
    for file in FIRMWARE_FILES.iter().copied().chain(["meta.yaml"]) {
        let _ = staged.remove_file(file);
    }
    let staged = staged.close();
    if staged.is_entry(line_dir, name).unwrap_or(false) {
        let _ = line_dir.remove_dir(name);
    }
}

fn stage_and_rename(
    line_dir: &SharedDir,
    staging: &str,
    target: &str,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
) -> Result<(), StagingError> {
    let staging_path = line_dir.shown(staging);
    let target_path = line_dir.shown(target);
    // The release's folder and files: the line folder's group may manage them as it may
    // the line folder (another operator replaces or withdraws them).
    let staged = line_dir
        .create_dir(staging)
        .map_err(io("create", &staging_path))?;
    if let Err(e) = fill(&staged, files, meta_yaml) {
        discard(line_dir, staging, staged);
        return Err(e);
    }
    if line_dir.entry(target).map_err(io("read", &target_path))? != Entry::Missing {
        discard(line_dir, staging, staged);
        return Err(StagingError::AppearedMeanwhile(target_path));
    }
    // The name must still hold the folder written through the handle: a member may have
    // moved it away and put a link or a folder of theirs there.
    if !line_dir
        .is_entry(staging, &staged)
        .map_err(io("read", &staging_path))?
    {
        discard(line_dir, staging, staged);
        return Err(StagingError::Swapped {
            staging: staging_path,
            left: None,
        });
    }
    let staged = staged.close();
    if let Err(error) = line_dir.rename_to(staging, line_dir, target) {
        if !staged.is_entry(line_dir, staging).unwrap_or(false) {
            // Moved away meanwhile: what failed is the member's doing, not the system's.
            return Err(StagingError::Swapped {
                staging: staging_path,
                left: None,
            });
        }
        if let Ok(again) = line_dir.open_subdir(staging) {
            discard(line_dir, staging, again);
        }
        return Err(io("rename the staged release to", &target_path)(error));
    }
    // Swapped between the look and the rename: what was renamed is not the release. It
    // is put back under the staging name (the scan ignores it) when that can be done. (A
    // look that fails says nothing: the rename of the release is then let stand.)
    if !staged.is_entry(line_dir, target).unwrap_or(true) {
        let put_back = line_dir.rename_to(target, line_dir, staging).is_ok();
        return Err(StagingError::Swapped {
            staging: staging_path,
            left: (!put_back).then_some(target_path),
        });
    }
    line_dir.sync().map_err(io("sync", line_dir.path()))
}

fn replace_in_place(
    line_dir: &SharedDir,
    name: &str,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
) -> Result<(), StagingError> {
    let release = line_dir
        .open_subdir(name)
        .map_err(io("open", &line_dir.shown(name)))?;
    let tag = nonce();
    // Everything new is written and synced under dot-names first; a failure here leaves
    // the published release exactly as it was.
    let mut staged: Vec<(String, &str)> = Vec::new();
    let mut stage = |name: &'static str, bytes: &[u8]| -> Result<(), StagingError> {
        let temp = format!(".{name}.new-{tag}");
        write_synced(&release, &temp, bytes).map_err(io("write", &release.shown(&temp)))?;
        staged.push((temp, name));
        Ok(())
    };
    let staged_result = stage("meta.yaml", meta_yaml.as_bytes())
        .and_then(|()| stage(FIRMWARE_FILES[0], &files[0]))
        .and_then(|()| stage(FIRMWARE_FILES[1], &files[1]));
    if let Err(e) = staged_result {
        for (temp, _) in &staged {
            let _ = release.remove_file(temp);
        }
        return Err(e);
    }
    // meta.yaml first: from then on the old files fail the new pins and the server keeps
    // serving what it validated before, until both new files are in.
    for (temp, final_name) in &staged {
        release
            .rename_to(temp, &release, final_name)
            .map_err(io("rename into place", &release.shown(final_name)))?;
    }
    release.sync().map_err(io("sync", release.path()))
}

/// The failures in Russian (`publish` prints them in the operator's language); the
/// system's own cause stays as the system says it.
impl InLanguage for StagingError {
    fn in_russian(&self) -> String {
        match self {
            StagingError::AlreadyPublished(path) => format!(
                "{} уже опубликован; чтобы заменить его на месте, добавьте --replace",
                path.display()
            ),
            StagingError::AppearedMeanwhile(path) => format!(
                "{} тем временем появился; ничего не изменено",
                path.display()
            ),
            StagingError::Io { what, path, error } => format!(
                "не удалось {} {}: {error}",
                step_in_russian(what),
                path.display()
            ),
            StagingError::Denied { what, path, denied } => format!(
                "не удалось {} {}: доступ запрещён: {}",
                step_in_russian(what),
                path.display(),
                denied.in_russian()
            ),
            StagingError::Link(path) => format!(
                "{} — ссылка; переходить по ней publish отказывается (её положил тот, кто может \
                 писать в firmware_dir: удалите её и опубликуйте снова)",
                path.display()
            ),
            StagingError::Swapped { staging, left } => format!(
                "{} унесли или подменили (ссылкой или другой папкой), пока publish записывал её: это \
                 сделал тот, кто может писать в firmware_dir; {}",
                staging.display(),
                match left {
                    None => "ничего не опубликовано".to_string(),
                    Some(target) => {
                        format!(
                            "в {} теперь лежит подложенное: удалите его",
                            target.display()
                        )
                    }
                }
            ),
        }
    }
}
