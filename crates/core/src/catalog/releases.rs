//! The scan of `firmware_dir`: which release folders are published, which are still
//! settling, which are rejected and why. A published release holds its two files in
//! memory exactly as they were checked, so an operator overwriting them on disk can never
//! send a device a mix of old and new bytes.
//!
//! The scan decides from the files (never from which events arrived): a folder counts when
//! both files are regular and non-empty, `meta.yaml` (if any) is valid, its pinned hashes
//! match, no file is open for writing, and nothing in it has changed for `settle` (a
//! folder whose files are all pinned skips that wait). "Open for writing" is asked of the
//! kernel where it will answer, else taken from what the watcher saw; a file nobody can
//! vouch for waits `unconfirmed_settle_ms` of quiet instead. A folder published before
//! keeps serving the bytes validated then while its files change, until the new ones pass.
//! The repository's generated sample bytes are rejected outside the source tree's own
//! sample folder (`sample_release`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::catalog::release_meta::{
    to_hex, ReleaseMeta, FIRMWARE_FILES, FIRMWARE_FILE_MAX, META_FILE_MAX,
};
use crate::catalog::sample_release;
use crate::catalog::write_ledger::{Seen, WriteLedger};
use crate::model::lang::{fill, InLanguage};
use crate::model::problem::Problem;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;
use crate::rollout::rules::Rollout;
use crate::words::{cause_in, Said, Words};
use kkt_platform::fingerprint::Fingerprint;
use kkt_platform::open_writers::{self, Writers};
use kkt_platform::regular_file::{read_regular, NotOpened, NotRead};

/// One firmware file as validated: the bytes served, and what the HTTP caching headers say.
#[derive(Debug)]
pub struct FirmwareFile {
    pub bytes: Bytes,
    pub sha256: [u8; 32],
    /// The strong ETag's opaque value: the SHA-256 in hex, the same on every instance
    /// serving these bytes. A plain string, so the catalog knows no HTTP framework: the
    /// download handler makes the header of it.
    pub etag: String,
    /// Modification time in whole seconds, as HTTP dates carry it.
    pub modified: SystemTime,
    fingerprint: Fingerprint,
}

/// A published release.
#[derive(Debug)]
pub struct Release {
    pub version: Version,
    pub description: String,
    pub critical: bool,
    /// Who may be offered it; none: everyone.
    pub rollout: Option<Rollout>,
    /// `floor: true`: a step of its line's upgrade path (see `ReleaseSet::floor_above`).
    pub floor: bool,
    /// In the order of `FIRMWARE_FILES`.
    pub files: [Arc<FirmwareFile>; 2],
    /// Who published it, for the audit trail: `published_by` in its `meta.yaml` (the
    /// `publish` command writes it), else the owner of its folder (none where that cannot
    /// be told simply: Windows).
    pub published_by: Option<String>,
}

impl Release {
    /// The file named `name`, if it is one of the two firmware files.
    pub fn file(&self, name: &str) -> Option<&Arc<FirmwareFile>> {
        let index = FIRMWARE_FILES.iter().position(|f| *f == name)?;
        self.files.get(index)
    }
}

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

#[derive(Debug, Clone)]
pub struct ReleaseFolder {
    pub version: Version,
    pub path: PathBuf,
    pub state: FolderState,
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

/// Every release folder found, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSet {
    pub folders: Vec<ReleaseFolder>,
    /// Problems with `firmware_dir` itself or with entries that are not release folders.
    pub problems: Vec<Problem>,
    published: BTreeMap<Version, Arc<Release>>,
    /// The published releases marked `floor: true`, oldest first: built once per scan so
    /// that a request finds its floor with one binary search.
    floors: Vec<Version>,
}

impl ReleaseSet {
    /// The release devices are offered: the newest published one.
    pub fn current(&self) -> Option<&Arc<Release>> {
        self.published.values().next_back()
    }

    pub fn get(&self, version: Version) -> Option<&Arc<Release>> {
        self.published.get(&version)
    }

    pub fn published(&self) -> impl DoubleEndedIterator<Item = &Arc<Release>> {
        self.published.values()
    }

    /// The line's upgrade path: its floors, oldest first.
    pub fn floors(&self) -> &[Version] {
        &self.floors
    }

    /// The lowest floor above `build`: the release a device built on `build` must install
    /// before anything newer; none when no floor is newer than its build.
    pub fn floor_above(&self, build: Version) -> Option<Version> {
        let index = self.floors.partition_point(|floor| *floor <= build);
        self.floors.get(index).copied()
    }

    /// The shortest wait until a settling folder should be looked at again.
    pub fn next_settle(&self) -> Option<Duration> {
        self.folders
            .iter()
            .filter_map(|f| match f.state {
                FolderState::Settling { wait, .. } => Some(wait),
                _ => None,
            })
            .min()
    }

    /// Scans `dir`. Unchanged files are taken from `previous` without reading them again;
    /// `ledger` says which files the watcher saw being written.
    /// `Err` when `dir` itself cannot be listed.
    pub fn scan(
        dir: &Path,
        rules: QuietRules,
        now: SystemTime,
        previous: Option<&ReleaseSet>,
        ledger: &WriteLedger,
    ) -> Result<ReleaseSet, Problem> {
        let writers = WriterSources {
            ledger,
            probe: &open_writers::probe,
        };
        ReleaseSet::scan_with(dir, rules, now, previous, &writers)
    }

    fn scan_with(
        dir: &Path,
        rules: QuietRules,
        now: SystemTime,
        previous: Option<&ReleaseSet>,
        writers: &WriterSources,
    ) -> Result<ReleaseSet, Problem> {
        let unlisted = |e: std::io::Error| {
            Problem::file(
                dir,
                said(|w| fill(w.scan.cannot_list_firmware, &[("why", &e)])),
            )
        };
        let listing = fs::read_dir(dir).map_err(unlisted)?;
        let mut set = ReleaseSet::default();
        for entry in listing {
            let entry = entry.map_err(unlisted)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            let Some(version) = Version::parse_folder_name(name) else {
                if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
                    set.problems.push(Problem::file(
                        &path,
                        said(|w| w.scan.not_a_date_folder.to_string()),
                    ));
                }
                continue;
            };
            let before = previous.and_then(|p| p.get(version));
            let checked = check_folder(&path, version, rules, now, before, writers);
            let state = folder_state(checked, before, &path, &mut set.problems);
            match &state {
                FolderState::Published(release)
                | FolderState::Settling {
                    serving: Some(release),
                    ..
                } => {
                    set.published.insert(version, release.clone());
                }
                _ => {}
            }
            set.folders.push(ReleaseFolder {
                version,
                path,
                state,
            });
        }
        set.folders.sort_by_key(|f| std::cmp::Reverse(f.version));
        // The map iterates oldest first, so the floors come out sorted.
        set.floors = set
            .published
            .values()
            .filter(|r| r.floor)
            .map(|r| r.version)
            .collect();
        Ok(set)
    }
}

/// What a folder's check makes of it. The folder is still there: whatever is wrong with
/// its files now is an edit in progress, and the version checked `before` keeps serving
/// (with a note in `problems`) until the folder is valid again or removed.
fn folder_state(
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
enum FolderError {
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
struct WriterSources<'a> {
    ledger: &'a WriteLedger,
    probe: &'a dyn Fn(&Path) -> Writers,
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
fn check_folder(
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

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLE: Duration = Duration::from_millis(500);

    /// A scan as the server makes it, with an empty ledger.
    fn scan(
        dir: &Path,
        now: SystemTime,
        previous: Option<&ReleaseSet>,
    ) -> Result<ReleaseSet, Problem> {
        ReleaseSet::scan(
            dir,
            QuietRules::plain(SETTLE),
            now,
            previous,
            &WriteLedger::default(),
        )
    }

    /// A scan where the kernel will not say who writes (no permission, a network share).
    fn scan_blind(
        dir: &Path,
        rules: QuietRules,
        now: SystemTime,
        previous: Option<&ReleaseSet>,
        ledger: &WriteLedger,
    ) -> ReleaseSet {
        let writers = WriterSources {
            ledger,
            probe: &|_| Writers::Unknown,
        };
        ReleaseSet::scan_with(dir, rules, now, previous, &writers).unwrap()
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(10)
    }

    fn release(dir: &Path, name: &str, meta: Option<&str>) -> PathBuf {
        let folder = dir.join(name);
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("upd_app.bin"), format!("new {name}")).unwrap();
        fs::write(
            folder.join("upd_app_for_old_frs.bin"),
            format!("old {name}"),
        )
        .unwrap();
        if let Some(meta) = meta {
            fs::write(folder.join("meta.yaml"), meta).unwrap();
        }
        folder
    }

    fn state(set: &ReleaseSet, version: u32) -> String {
        let folder = set
            .folders
            .iter()
            .find(|f| f.version.as_u32() == version)
            .expect("folder listed");
        match &folder.state {
            FolderState::Published(_) => "published".into(),
            FolderState::Settling { .. } => "settling".into(),
            FolderState::Rejected(reason) => format!("rejected: {reason}"),
        }
    }

    #[test]
    fn newest_complete_folder_is_current() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180117", None);
        release(
            dir.path(),
            "20180125",
            Some("description: super\ncritical: true\n"),
        );
        let broken = release(dir.path(), "20180201", None);
        fs::remove_file(broken.join("upd_app_for_old_frs.bin")).unwrap();
        fs::create_dir(dir.path().join(".staging-20190101")).unwrap();
        let set = scan(dir.path(), later(), None).unwrap();
        let current = set.current().unwrap();
        assert_eq!(current.version.as_u32(), 20180125);
        assert_eq!(
            (current.description.as_str(), current.critical),
            ("super", true)
        );
        assert_eq!(
            &current.file("upd_app.bin").unwrap().bytes[..],
            b"new 20180125"
        );
        assert_eq!(
            state(&set, 20180201),
            "rejected: upd_app_for_old_frs.bin is missing"
        );
        assert_eq!(set.folders.len(), 3);
        assert_eq!(
            set.get(Version::from_yyyymmdd(20180117).unwrap())
                .unwrap()
                .description,
            "firmware 20180117"
        );
    }

    #[test]
    fn a_folder_changed_just_now_settles_first() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180125", None);
        let set = scan(dir.path(), SystemTime::now(), None).unwrap();
        assert_eq!(state(&set, 20180125), "settling");
        assert!(set.current().is_none());
        assert!(set.next_settle().unwrap() <= SETTLE);
    }

    #[test]
    fn pinned_folders_skip_the_wait_but_only_when_they_match() {
        let dir = tempfile::tempdir().unwrap();
        let pins = |new: &str, old: &str| {
            format!("sha256:\n  upd_app.bin: {new}\n  upd_app_for_old_frs.bin: {old}\n")
        };
        let good_new = to_hex(&Sha256::digest(b"new 20180125"));
        let good_old = to_hex(&Sha256::digest(b"old 20180125"));
        release(dir.path(), "20180125", Some(&pins(&good_new, &good_old)));
        let good_old_26 = to_hex(&Sha256::digest(b"old 20180126"));
        release(
            dir.path(),
            "20180126",
            Some(&pins(&"0".repeat(64), &good_old_26)),
        );
        let set = scan(dir.path(), SystemTime::now(), None).unwrap();
        assert_eq!(state(&set, 20180125), "published");
        assert!(
            state(&set, 20180126).starts_with("rejected: upd_app.bin does not match its sha256"),
            "{}",
            state(&set, 20180126)
        );
    }

    #[test]
    fn bad_meta_empty_files_and_symlinks_are_rejected_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180101", Some("critcal: true\n"));
        let empty = release(dir.path(), "20180102", None);
        fs::write(empty.join("upd_app.bin"), "").unwrap();
        let linked = release(dir.path(), "20180103", None);
        fs::remove_file(linked.join("upd_app.bin")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", linked.join("upd_app.bin")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("20180101"), dir.path().join("20180104"))
            .unwrap();
        fs::create_dir(dir.path().join("20180231")).unwrap();
        let set = scan(dir.path(), later(), None).unwrap();
        assert!(
            state(&set, 20180101).contains("meta.yaml: unknown field `critcal`"),
            "{}",
            state(&set, 20180101)
        );
        assert_eq!(state(&set, 20180102), "rejected: upd_app.bin is empty");
        assert_eq!(
            state(&set, 20180103),
            "rejected: upd_app.bin is not a regular file"
        );
        assert_eq!(
            state(&set, 20180104),
            "rejected: is a symbolic link; copy the folder itself"
        );
        assert!(set.current().is_none());
        assert_eq!(set.problems.len(), 1);
        assert!(set.problems[0]
            .message
            .to_string()
            .contains("not a real date"));
    }

    #[test]
    fn unchanged_files_are_reused_and_changed_ones_reread() {
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", None);
        let first = scan(dir.path(), later(), None).unwrap();
        let second = scan(dir.path(), later(), Some(&first)).unwrap();
        let (a, b) = (first.current().unwrap(), second.current().unwrap());
        assert!(Arc::ptr_eq(&a.files[0], &b.files[0]));
        fs::write(folder.join("upd_app.bin"), "changed").unwrap();
        let third = scan(dir.path(), later(), Some(&second)).unwrap();
        assert_eq!(&third.current().unwrap().files[0].bytes[..], b"changed");
        assert_eq!(
            &a.files[0].bytes[..],
            b"new 20180125",
            "the old snapshot keeps its bytes"
        );
    }

    #[test]
    fn a_broken_meta_yaml_or_a_missing_file_keeps_the_published_version() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180117", None);
        let folder = release(dir.path(), "20180125", Some("description: first\n"));
        let first = scan(dir.path(), later(), None).unwrap();
        fs::write(folder.join("meta.yaml"), "description: [broken\n").unwrap();
        let second = scan(dir.path(), later(), Some(&first)).unwrap();
        assert_eq!(second.current().unwrap().description, "first");
        assert!(
            second.problems[0]
                .message
                .to_string()
                .contains("still serving the version checked before"),
            "{:?}",
            second.problems
        );
        // A file taken away mid-edit: the folder is still there, so its release stays.
        fs::remove_file(folder.join("upd_app.bin")).unwrap();
        let third = scan(dir.path(), later(), Some(&second)).unwrap();
        assert_eq!(third.current().unwrap().version.as_u32(), 20180125);
        assert!(third.problems[0]
            .message
            .to_string()
            .contains("upd_app.bin is missing"));
        // Removing the folder is how a release is withdrawn.
        fs::remove_dir_all(&folder).unwrap();
        let fourth = scan(dir.path(), later(), Some(&third)).unwrap();
        assert_eq!(fourth.current().unwrap().version.as_u32(), 20180117);
    }

    #[test]
    fn a_file_changed_in_place_keeps_the_validated_bytes_until_quiet() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180117", None);
        let folder = release(dir.path(), "20180125", None);
        let first = scan(dir.path(), later(), None).unwrap();
        fs::write(folder.join("upd_app.bin"), "being rewritten").unwrap();
        let second = scan(dir.path(), SystemTime::now(), Some(&first)).unwrap();
        let current = second.current().unwrap();
        assert_eq!(
            current.version.as_u32(),
            20180125,
            "no fall back to 20180117"
        );
        assert_eq!(&current.files[0].bytes[..], b"new 20180125");
        assert_eq!(state(&second, 20180125), "settling");
        let third = scan(dir.path(), later(), Some(&second)).unwrap();
        assert_eq!(
            &third.current().unwrap().files[0].bytes[..],
            b"being rewritten"
        );
    }

    #[test]
    fn a_file_open_for_writing_is_never_published_however_quiet() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", None);
        // A copy stalled mid-file: the writer holds it open, the bytes are old news.
        let mut writer = fs::OpenOptions::new()
            .append(true)
            .open(folder.join("upd_app.bin"))
            .unwrap();
        writer.write_all(b" more").unwrap();
        let far_later = SystemTime::now() + Duration::from_secs(3600);
        let set = scan(dir.path(), far_later, None).unwrap();
        assert!(set.current().is_none());
        match &set.folders[0].state {
            FolderState::Settling { reason, .. } => {
                assert_eq!(reason.to_string(), "upd_app.bin is being written")
            }
            other => panic!("{other:?}"),
        }
        // The same, known only from the watcher (the kernel would not say).
        let mut ledger = WriteLedger::default();
        ledger.writing(&folder.join("upd_app.bin"));
        let rules = QuietRules::plain(SETTLE);
        let set = scan_blind(dir.path(), rules, far_later, None, &ledger);
        assert!(set.current().is_none());
        drop(writer);
        ledger.closed(&folder.join("upd_app.bin"));
        let set = scan_blind(dir.path(), rules, far_later, None, &ledger);
        assert_eq!(state(&set, 20180125), "published");
        let set = scan(dir.path(), far_later, None).unwrap();
        assert_eq!(state(&set, 20180125), "published");
    }

    #[test]
    fn files_nobody_saw_closed_wait_the_longer_quiet_time() {
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", None);
        let rules = QuietRules {
            settle: SETTLE,
            unconfirmed: Duration::from_secs(60),
        };
        let soon = SystemTime::now() + SETTLE * 2;
        let set = scan_blind(dir.path(), rules, soon, None, &WriteLedger::default());
        match &set.folders[0].state {
            FolderState::Settling { reason, wait, .. } => {
                assert!(reason.to_string().contains("not seen closed"), "{reason}");
                assert!(*wait > Duration::from_secs(50), "{wait:?}");
            }
            other => panic!("{other:?}"),
        }
        // Seen closed by the watcher: the plain settle time is enough.
        let mut ledger = WriteLedger::default();
        for name in FIRMWARE_FILES {
            ledger.closed(&folder.join(name));
        }
        let set = scan_blind(dir.path(), rules, soon, None, &ledger);
        assert_eq!(state(&set, 20180125), "published");
        // Or a minute of quiet.
        let minute = SystemTime::now() + Duration::from_secs(61);
        let set = scan_blind(dir.path(), rules, minute, None, &WriteLedger::default());
        assert_eq!(state(&set, 20180125), "published");
    }

    #[test]
    fn one_pinned_file_does_not_let_the_other_skip_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let good = to_hex(&Sha256::digest(b"new 20180125"));
        release(
            dir.path(),
            "20180125",
            Some(&format!("sha256:\n  upd_app.bin: {good}\n")),
        );
        let set = scan(dir.path(), SystemTime::now(), None).unwrap();
        assert_eq!(state(&set, 20180125), "settling");
    }

    #[test]
    fn a_meta_yaml_edit_keeps_the_published_version_until_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", Some("description: first\n"));
        let first = scan(dir.path(), later(), None).unwrap();
        fs::write(folder.join("meta.yaml"), "description: second\n").unwrap();
        let second = scan(dir.path(), SystemTime::now(), Some(&first)).unwrap();
        assert_eq!(state(&second, 20180125), "settling");
        assert_eq!(second.current().unwrap().description, "first");
        assert!(second.next_settle().is_some());
        let third = scan(dir.path(), later(), Some(&second)).unwrap();
        assert_eq!(third.current().unwrap().description, "second");
    }

    #[test]
    fn a_missing_firmware_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = scan(&dir.path().join("nope"), later(), None).unwrap_err();
        assert!(error
            .message
            .to_string()
            .starts_with("cannot list the firmware folder"));
    }
}
