//! The check of one `yyyymmdd` release folder: whether it is published, still settling or
//! rejected, and why. The scan over `firmware_dir` (`releases`) asks it of each folder.
//!
//! In steps: the folder itself, its firmware files as their metadata shows them, its
//! `meta.yaml`, whether anyone still writes the files (the kernel if it will answer, else
//! what the watcher saw), whether they have been quiet long enough, and only then their
//! bytes, each checked against its pin. A folder published before keeps serving the bytes
//! validated then while its files change, until the new ones pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::catalog::release::{FirmwareFile, Release};
use crate::catalog::release_meta::{
    to_hex, ReleaseMeta, FIRMWARE_FILES, FIRMWARE_FILE_MAX, META_FILE_MAX,
};
use crate::catalog::sample_release;
use crate::catalog::write_ledger::{Seen, WriteLedger};
use crate::model::lang::{fill, InLanguage};
use crate::model::problem::Problem;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;
use crate::words::{cause_in, Said, Words};
use kkt_platform::fingerprint::Fingerprint;
use kkt_platform::open_writers::Writers;
use kkt_platform::regular_file::{read_regular, NotOpened, NotRead};

/// What the scan decided about one `yyyymmdd` folder.
#[derive(Debug, Clone)]
pub enum FolderState {
    Published(Arc<Release>),
    /// Not ready as it is on disk (`reason` says why: a file being written, or changed
    /// less than the quiet time ago); looked at again after `wait`. A version of this
    /// folder checked before keeps `serving` meanwhile, so an edit in place never takes a
    /// release away from devices nor flips them to an older one.
    Settling {
        wait: Duration,
        reason: Said,
        serving: Option<Arc<Release>>,
    },
    /// Kept out, with the reason.
    Rejected(Said),
}

/// How long a folder must be quiet before it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietRules {
    /// For files whose writers are known to be done (seen closed, or the kernel says
    /// nobody has them open for writing).
    pub settle: Duration,
    /// For files nobody could vouch for (`unconfirmed_settle_ms`): the watcher never saw
    /// them closed and the kernel would not say.
    pub unconfirmed: Duration,
}

impl QuietRules {
    /// The same quiet time for every file (tests, and `settle` alone).
    pub fn plain(settle: Duration) -> QuietRules {
        QuietRules {
            settle,
            unconfirmed: settle,
        }
    }
}

/// How often a folder held for a writer is looked at again, in case the close was missed.
const WRITER_RECHECK: Duration = Duration::from_secs(1);

/// What a folder's check makes of it. The folder is still there: whatever is wrong with
/// its files now is an edit in progress, and the version checked `before` keeps serving
/// (with a note in `problems`) until the folder is valid again or removed.
pub(super) fn folder_state(
    checked: Result<FolderState, FolderError>,
    before: Option<&Arc<Release>>,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> FolderState {
    match checked {
        Ok(state) => state,
        Err(FolderError::Unreadable(reason) | FolderError::Invalid(reason)) if before.is_some() => {
            let note = said(|w| {
                fill(
                    w.scan.still_serving_before,
                    &[("reason", &reason.in_language(w.lang))],
                )
            });
            problems.push(Problem::file(path, note));
            before
                .cloned()
                .map_or(FolderState::Rejected(reason), FolderState::Published)
        }
        Err(
            FolderError::Unreadable(reason)
            | FolderError::Invalid(reason)
            | FolderError::NotAFolder(reason),
        ) => FolderState::Rejected(reason),
    }
}

/// Why a folder is not published.
#[derive(Debug)]
pub(super) enum FolderError {
    /// It could not be read or its `meta.yaml` is invalid.
    Unreadable(Said),
    /// It is incomplete or does not match its pins.
    Invalid(Said),
    /// It is not a folder (any more): nothing of it is served.
    NotAFolder(Said),
}

fn unreadable(reason: Said) -> FolderError {
    FolderError::Unreadable(reason)
}

/// A reason in both languages, from the tables.
fn said(say: impl Fn(&'static Words) -> String) -> Said {
    Said::new(say)
}

/// "{name} is missing" and the other sentences about one named file.
fn about(template: fn(&'static Words) -> &'static str, name: &str) -> Said {
    said(|w| fill(template(w), &[("name", &name)]))
}

/// "cannot read {name}: {why}", the system's reason as it gives it (ours translated).
fn cannot_read(name: &str, error: &std::io::Error) -> Said {
    said(|w| {
        fill(
            w.scan.cannot_read_file,
            &[("name", &name), ("why", &cause_in(error, w.lang))],
        )
    })
}

/// Whether a firmware file is still being written, from the kernel if it will say, else
/// from what the watcher saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    Open,
    Done,
    Unknown,
}

/// Where the scan learns of writers: the kernel (`probe`), else the watcher's ledger.
pub(super) struct WriterSources<'a> {
    pub(super) ledger: &'a WriteLedger,
    pub(super) probe: &'a dyn Fn(&Path) -> Writers,
}

fn writer_of(file: &Path, writers: &WriterSources) -> Writer {
    match (writers.probe)(file) {
        Writers::Open => Writer::Open,
        Writers::None => Writer::Done,
        Writers::Unknown => match writers.ledger.seen(file) {
            Some(Seen::Writing) => Writer::Open,
            Some(Seen::Closed) => Writer::Done,
            None => Writer::Unknown,
        },
    }
}

/// Decides one folder; `before` is the release published from it by the previous scan.
/// In steps: the folder itself, its firmware files as their metadata shows them (a folder
/// being removed says so, whatever its meta.yaml), its meta.yaml, whether anyone still
/// writes the files, whether they have been quiet long enough, and only then their bytes.
pub(super) fn check_folder(
    path: &Path,
    version: Version,
    rules: QuietRules,
    now: SystemTime,
    before: Option<&Arc<Release>>,
    writers: &WriterSources,
) -> Result<FolderState, FolderError> {
    let folder = folder_itself(path)?;
    let stats = firmware_stats(path)?;
    let (meta, meta_changed) = read_meta(path, version)?;
    let latest_change = stats
        .iter()
        .map(|stat| stat.fingerprint.changed_at())
        .chain(meta_changed)
        .fold(Fingerprint::of(&folder).changed_at(), SystemTime::max);
    let settling = |wait, reason| {
        Ok(FolderState::Settling {
            wait,
            reason,
            serving: before.cloned(),
        })
    };
    let unconfirmed = match unvouched(&stats, &meta, before, writers) {
        Ok(unconfirmed) => unconfirmed,
        Err(name) => {
            return settling(
                rules.settle.max(WRITER_RECHECK),
                about(|w| w.scan.being_written, name),
            )
        }
    };
    if let Some((wait, reason)) = still_settling(&meta, &unconfirmed, rules, now, latest_change) {
        return settling(wait, reason);
    }
    let files = match read_files(stats, &meta, before)? {
        Ok(files) => files,
        // Changed while we read it: not quiet after all.
        Err(name) => {
            return settling(
                rules.settle.max(Duration::from_millis(100)),
                about(|w| w.scan.changed_while_read, name),
            )
        }
    };
    release_of(path, version, meta, files)
}

/// The folder's own metadata: a folder, not a link to one.
fn folder_itself(path: &Path) -> Result<fs::Metadata, FolderError> {
    let folder = fs::symlink_metadata(path).map_err(|e| {
        unreadable(said(|w| {
            fill(w.scan.cannot_read_folder, &[("why", &cause_in(&e, w.lang))])
        }))
    })?;
    if folder.file_type().is_symlink() {
        return Err(FolderError::NotAFolder(said(|w| {
            w.scan.folder_is_link.to_string()
        })));
    }
    if !folder.is_dir() {
        return Err(FolderError::NotAFolder(said(|w| {
            w.scan.not_a_folder.to_string()
        })));
    }
    Ok(folder)
}

/// A firmware file of a folder as its metadata shows it, before its bytes are read.
struct FileStat {
    name: &'static str,
    path: PathBuf,
    fingerprint: Fingerprint,
}

/// Both firmware files, in `FIRMWARE_FILES` order: each there, a regular file, neither
/// empty nor over `FIRMWARE_FILE_MAX`.
fn firmware_stats(path: &Path) -> Result<Vec<FileStat>, FolderError> {
    let mut stats = Vec::with_capacity(FIRMWARE_FILES.len());
    for name in FIRMWARE_FILES {
        let file = path.join(name);
        let m = match fs::symlink_metadata(&file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FolderError::Invalid(about(|w| w.scan.file_missing, name)))
            }
            Err(e) => return Err(unreadable(cannot_read(name, &e))),
        };
        if !m.is_file() {
            return Err(FolderError::Invalid(about(
                |w| w.scan.file_not_regular,
                name,
            )));
        }
        if m.len() == 0 {
            return Err(FolderError::Invalid(about(|w| w.scan.file_empty, name)));
        }
        if m.len() > FIRMWARE_FILE_MAX {
            return Err(FolderError::Invalid(too_large(name, FIRMWARE_FILE_MAX)));
        }
        stats.push(FileStat {
            name,
            path: file,
            fingerprint: Fingerprint::of(&m),
        });
    }
    Ok(stats)
}

/// The folder's meta.yaml, with when it last changed; the defaults when there is none.
fn read_meta(
    path: &Path,
    version: Version,
) -> Result<(ReleaseMeta, Option<SystemTime>), FolderError> {
    let meta_path = path.join("meta.yaml");
    match fs::symlink_metadata(&meta_path) {
        Ok(m) if !m.is_file() => Err(FolderError::Invalid(about(
            |w| w.scan.file_not_regular,
            "meta.yaml",
        ))),
        Ok(m) => {
            let text = read_bounded(&meta_path, "meta.yaml", META_FILE_MAX)?;
            let text = utf8_text(text, "meta.yaml").map_err(|e| unreadable(Said::of(&e)))?;
            let meta = ReleaseMeta::parse(version, &text).map_err(|e| {
                unreadable(said(|w| {
                    fill(
                        w.scan.in_file,
                        &[("name", &"meta.yaml"), ("why", &e.in_language(w.lang))],
                    )
                }))
            })?;
            Ok((meta, Some(Fingerprint::of(&m).changed_at())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok((ReleaseMeta::defaults(version), None))
        }
        Err(e) => Err(unreadable(cannot_read("meta.yaml", &e))),
    }
}

/// Which changed files nobody vouches for: a pinned file proves itself by its hash; a file
/// whose bytes are the ones validated before needs nothing. `Err` names a file someone is
/// still writing.
fn unvouched(
    stats: &[FileStat],
    meta: &ReleaseMeta,
    before: Option<&Arc<Release>>,
    writers: &WriterSources,
) -> Result<Vec<&'static str>, &'static str> {
    let mut unconfirmed = Vec::new();
    for (index, stat) in stats.iter().enumerate() {
        let unchanged = before
            .and_then(|r| r.files.get(index))
            .is_some_and(|f| f.fingerprint == stat.fingerprint);
        if unchanged {
            continue;
        }
        let pinned = meta.sha256[index].is_some();
        match writer_of(&stat.path, writers) {
            Writer::Open => return Err(stat.name),
            Writer::Unknown if !pinned => unconfirmed.push(stat.name),
            Writer::Unknown => {}
            Writer::Done => {}
        }
    }
    Ok(unconfirmed)
}

/// How much longer to wait and why, when not every file is pinned and the folder changed
/// less than the quiet time ago (`unconfirmed_settle_ms` when a file is `unconfirmed`).
fn still_settling(
    meta: &ReleaseMeta,
    unconfirmed: &[&str],
    rules: QuietRules,
    now: SystemTime,
    latest_change: SystemTime,
) -> Option<(Duration, Said)> {
    if meta.sha256.iter().all(Option::is_some) {
        return None;
    }
    let needed = if unconfirmed.is_empty() {
        rules.settle
    } else {
        rules.settle.max(rules.unconfirmed)
    };
    let quiet_for = now.duration_since(latest_change).unwrap_or(Duration::ZERO);
    if quiet_for >= needed {
        return None;
    }
    let reason = if unconfirmed.is_empty() {
        said(|w| w.scan.changed_recently.to_string())
    } else {
        said(|w| {
            fill(
                w.scan.not_seen_closed,
                &[("names", &unconfirmed.join(w.scan.and))],
            )
        })
    };
    Some((needed - quiet_for, reason))
}

/// The files' bytes, reused from `before` when unchanged, each checked against its pin.
/// The inner `Err` names a file that changed while it was read.
fn read_files(
    stats: Vec<FileStat>,
    meta: &ReleaseMeta,
    before: Option<&Arc<Release>>,
) -> Result<Result<Vec<Arc<FirmwareFile>>, &'static str>, FolderError> {
    let mut files = Vec::with_capacity(stats.len());
    for (index, stat) in stats.into_iter().enumerate() {
        let reused = before
            .and_then(|r| r.files.get(index))
            .filter(|f| f.fingerprint == stat.fingerprint);
        let firmware = match reused {
            Some(firmware) => firmware.clone(),
            None => match read_firmware(&stat.path, stat.fingerprint)? {
                Some(firmware) => Arc::new(firmware),
                None => return Ok(Err(stat.name)),
            },
        };
        if let Some(expected) = meta.sha256[index] {
            if expected != firmware.sha256 {
                let (pinned, has) = (to_hex(&expected), to_hex(&firmware.sha256));
                return Err(FolderError::Invalid(said(|w| {
                    fill(
                        w.scan.sha_mismatch,
                        &[("name", &stat.name), ("pinned", &pinned), ("has", &has)],
                    )
                })));
            }
        }
        files.push(firmware);
    }
    Ok(Ok(files))
}

/// The release the files and meta.yaml make, unless they are the sample release's.
fn release_of(
    path: &Path,
    version: Version,
    meta: ReleaseMeta,
    files: Vec<Arc<FirmwareFile>>,
) -> Result<FolderState, FolderError> {
    let contents: Vec<&[u8]> = files.iter().map(|f| &f.bytes[..]).collect();
    if let Some(reason) = sample_release::refusal(path, &FIRMWARE_FILES, &contents) {
        return Err(FolderError::Invalid(reason));
    }
    let [upd_app, upd_app_old]: [Arc<FirmwareFile>; 2] = files
        .try_into()
        .map_err(|_| FolderError::Invalid(said(|w| w.scan.internal_two_files.to_string())))?;
    Ok(FolderState::Published(Arc::new(Release {
        version,
        description: meta.description,
        critical: meta.critical,
        rollout: meta.rollout,
        floor: meta.floor,
        files: [upd_app, upd_app_old],
        published_by: meta
            .published_by
            .or_else(|| kkt_platform::process_user::owner_of(path)),
    })))
}

/// HTTP dates have whole seconds; `Last-Modified` comparisons are made in them.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    std::time::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Reads a file of a release folder whole: only a regular file (never through a link put
/// there since it was looked at), of at most `limit` bytes counted as read.
fn read_bounded(path: &Path, name: &str, limit: u64) -> Result<Vec<u8>, FolderError> {
    read_regular(path, limit).map_err(|refused| match refused {
        NotRead::Larger(limit) => FolderError::Invalid(too_large(name, limit)),
        NotRead::NotOpened(NotOpened::NotRegular(kind)) => FolderError::Invalid(said(|w| {
            fill(
                w.scan.file_of_kind,
                &[("name", &name), ("kind", &w.config.file_kind(kind))],
            )
        })),
        NotRead::NotOpened(NotOpened::Missing) => {
            FolderError::Invalid(about(|w| w.scan.file_missing, name))
        }
        NotRead::NotOpened(NotOpened::Io(e)) | NotRead::Io(e) => unreadable(cannot_read(name, &e)),
    })
}

/// The sentence for a file over its limit.
fn too_large(name: &str, limit: u64) -> Said {
    said(|w| {
        fill(
            w.scan.firmware_too_large,
            &[("name", &name), ("mib", &(limit / (1024 * 1024)))],
        )
    })
}

/// Reads a firmware file; `None` when it changed while being read.
fn read_firmware(
    path: &Path,
    fingerprint: Fingerprint,
) -> Result<Option<FirmwareFile>, FolderError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = read_bounded(path, &name, FIRMWARE_FILE_MAX)?;
    let after = fs::symlink_metadata(path).map_err(|e| unreadable(cannot_read(&name, &e)))?;
    if Fingerprint::of(&after) != fingerprint || bytes.len() as u64 != after.len() {
        return Ok(None);
    }
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    Ok(Some(FirmwareFile {
        etag: to_hex(&sha256),
        bytes: Bytes::from(bytes),
        sha256,
        modified: whole_seconds(fingerprint.modified()),
        fingerprint,
    }))
}
