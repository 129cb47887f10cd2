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

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::lang::{step_in_russian, InLanguage};
use crate::model::version::Version;
use crate::platform::durable::{sync_folder, write_synced};
use crate::platform::shared_folder::{self, why_denied, Denied, Need};

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
}

/// What was done, for the command to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new folder renamed into place.
    New,
    /// The files of a published folder replaced in place.
    Replaced,
}

/// Writes release `version` into `line_dir` (`firmware_dir` or a line's folder).
/// `replace`: a folder of that version may exist and is replaced in place.
pub fn write_release(
    line_dir: &Path,
    version: Version,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
    replace: bool,
) -> Result<(PathBuf, Written), StagingError> {
    let target = line_dir.join(version.to_string());
    if target.exists() {
        if !replace {
            return Err(StagingError::AlreadyPublished(target));
        }
        replace_in_place(&target, files, meta_yaml)?;
        return Ok((target, Written::Replaced));
    }
    let staging = line_dir.join(format!(".staging-{version}-{}", nonce()));
    let result = stage_and_rename(&staging, &target, files, meta_yaml);
    if result.is_err() {
        // Nothing half-written is left behind (a dot-name is ignored by the scan anyway).
        let _ = fs::remove_dir_all(&staging);
    }
    result.map(|()| (target, Written::New))
}

/// The error of step `what` on `path`. A refusal names the folder that refused (for a sync,
/// `path` itself, read; else the folder the entry is made or renamed in, written) and who
/// owns it.
fn io<'a>(what: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> StagingError + 'a {
    move |error| {
        let needed = match (what, path.parent()) {
            ("sync", _) | (_, None) => (path, Need::Read),
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

fn stage_and_rename(
    staging: &Path,
    target: &Path,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
) -> Result<(), StagingError> {
    // The release's folder and files: the line folder's group may manage them as it may
    // the line folder (another operator replaces or withdraws them).
    shared_folder::create_dir(staging).map_err(io("create", staging))?;
    for (name, bytes) in FIRMWARE_FILES.iter().zip(files) {
        let path = staging.join(name);
        write_synced(&path, bytes).map_err(io("write", &path))?;
    }
    let meta = staging.join("meta.yaml");
    write_synced(&meta, meta_yaml.as_bytes()).map_err(io("write", &meta))?;
    sync_folder(staging).map_err(io("sync", staging))?;
    if target.exists() {
        return Err(StagingError::AppearedMeanwhile(target.to_path_buf()));
    }
    fs::rename(staging, target).map_err(io("rename the staged release to", target))?;
    if let Some(parent) = target.parent() {
        sync_folder(parent).map_err(io("sync", parent))?;
    }
    Ok(())
}

fn replace_in_place(
    target: &Path,
    files: &[Vec<u8>; 2],
    meta_yaml: &str,
) -> Result<(), StagingError> {
    let tag = nonce();
    // Everything new is written and synced under dot-names first; a failure here leaves
    // the published release exactly as it was.
    let mut staged = Vec::new();
    let mut stage = |name: &str, bytes: &[u8]| -> Result<(), StagingError> {
        let temp = target.join(format!(".{name}.new-{tag}"));
        write_synced(&temp, bytes).map_err(io("write", &temp))?;
        staged.push((temp, target.join(name)));
        Ok(())
    };
    let staged_result = stage("meta.yaml", meta_yaml.as_bytes())
        .and_then(|()| stage(FIRMWARE_FILES[0], &files[0]))
        .and_then(|()| stage(FIRMWARE_FILES[1], &files[1]));
    if let Err(e) = staged_result {
        for (temp, _) in &staged {
            let _ = fs::remove_file(temp);
        }
        return Err(e);
    }
    // meta.yaml first: from then on the old files fail the new pins and the server keeps
    // serving what it validated before, until both new files are in.
    for (temp, final_path) in &staged {
        fs::rename(temp, final_path).map_err(io("rename into place", final_path))?;
    }
    sync_folder(target).map_err(io("sync", target))
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
        }
    }
}
