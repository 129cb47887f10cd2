//! The scan of `firmware_dir`: which release folders are published, which are still
//! settling, which are rejected and why. A published release holds its two files in
//! memory exactly as they were checked, so an operator overwriting them on disk can never
//! send a device a mix of old and new bytes.
//!
//! The scan decides from the files alone (never from watcher events): a folder counts when
//! both files are regular and non-empty, `meta.yaml` (if any) is valid, its pinned hashes
//! match, and nothing in it has changed for `settle` (a pinned folder skips that wait).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::http::header::EntityTag;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::catalog::release_meta::{to_hex, ReleaseMeta, FIRMWARE_FILES};
use crate::model::problem::Problem;
use crate::model::version::Version;
use crate::platform::fingerprint::Fingerprint;

/// One firmware file as validated: the bytes served, and what the HTTP caching headers say.
#[derive(Debug)]
pub struct FirmwareFile {
    pub bytes: Bytes,
    pub sha256: [u8; 32],
    /// Strong ETag (the SHA-256), the same on every instance serving these bytes.
    pub etag: EntityTag,
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
    /// In the order of `FIRMWARE_FILES`.
    pub files: [Arc<FirmwareFile>; 2],
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
    /// Complete but changed less than `settle` ago; looked at again after `wait`. When only
    /// `meta.yaml` or the folder changed (not the firmware files), the version published
    /// before keeps `serving` meanwhile, so devices are not flipped to an older release.
    Settling {
        wait: Duration,
        serving: Option<Arc<Release>>,
    },
    /// Kept out, with the reason.
    Rejected(String),
}

#[derive(Debug, Clone)]
pub struct ReleaseFolder {
    pub version: Version,
    pub path: PathBuf,
    pub state: FolderState,
}

/// Every release folder found, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSet {
    pub folders: Vec<ReleaseFolder>,
    /// Problems with `firmware_dir` itself or with entries that are not release folders.
    pub problems: Vec<Problem>,
    published: BTreeMap<Version, Arc<Release>>,
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

    /// Scans `dir`. Unchanged files are taken from `previous` without reading them again.
    /// `Err` when `dir` itself cannot be listed.
    pub fn scan(
        dir: &Path,
        settle: Duration,
        now: SystemTime,
        previous: Option<&ReleaseSet>,
    ) -> Result<ReleaseSet, Problem> {
        let listing = fs::read_dir(dir)
            .map_err(|e| Problem::file(dir, format!("cannot list the firmware folder: {e}")))?;
        let mut set = ReleaseSet::default();
        for entry in listing {
            let entry = entry
                .map_err(|e| Problem::file(dir, format!("cannot list the firmware folder: {e}")))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = entry.path();
            let Some(version) = Version::parse_folder_name(name) else {
                if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
                    set.problems.push(Problem::file(
                        &path,
                        "ignored: the name is not a real date (yyyymmdd)",
                    ));
                }
                continue;
            };
            let before = previous.and_then(|p| p.get(version));
            let state = match check_folder(&path, version, settle, now, before) {
                Ok(state) => state,
                Err(FolderError::Unreadable(reason)) if before.is_some() => {
                    let note = format!("{reason}; still serving the version checked before");
                    set.problems.push(Problem::file(&path, note));
                    before
                        .cloned()
                        .map_or(FolderState::Rejected(reason), FolderState::Published)
                }
                Err(FolderError::Unreadable(reason) | FolderError::Invalid(reason)) => {
                    FolderState::Rejected(reason)
                }
            };
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
        Ok(set)
    }
}

/// Why a folder is not published.
#[derive(Debug)]
enum FolderError {
    /// It could not be read or its `meta.yaml` is invalid: a version that was published
    /// before keeps serving (an edit in progress, a permission slip).
    Unreadable(String),
    /// It is incomplete or does not match its pins: it is not offered.
    Invalid(String),
}

fn unreadable(reason: String) -> FolderError {
    FolderError::Unreadable(reason)
}

/// Decides one folder; `before` is the release published from it by the previous scan.
fn check_folder(
    path: &Path,
    version: Version,
    settle: Duration,
    now: SystemTime,
    before: Option<&Arc<Release>>,
) -> Result<FolderState, FolderError> {
    let folder = fs::symlink_metadata(path)
        .map_err(|e| unreadable(format!("cannot read the folder: {e}")))?;
    if folder.file_type().is_symlink() {
        return Err(FolderError::Invalid(
            "is a symbolic link; copy the folder itself".into(),
        ));
    }
    if !folder.is_dir() {
        return Err(FolderError::Invalid("is not a folder".into()));
    }
    let mut latest_change = Fingerprint::of(&folder).changed_at();

    // The files first: a folder being removed says so, whatever its meta.yaml.
    let mut stats = Vec::with_capacity(2);
    for name in FIRMWARE_FILES {
        let file = path.join(name);
        let m = match fs::symlink_metadata(&file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FolderError::Invalid(format!("{name} is missing")))
            }
            Err(e) => return Err(unreadable(format!("cannot read {name}: {e}"))),
        };
        if !m.is_file() {
            return Err(FolderError::Invalid(format!(
                "{name} is not a regular file"
            )));
        }
        if m.len() == 0 {
            return Err(FolderError::Invalid(format!("{name} is empty")));
        }
        let fingerprint = Fingerprint::of(&m);
        latest_change = latest_change.max(fingerprint.changed_at());
        stats.push((name, file, fingerprint));
    }

    let meta_path = path.join("meta.yaml");
    let meta = match fs::symlink_metadata(&meta_path) {
        Ok(m) if !m.is_file() => {
            return Err(FolderError::Invalid(
                "meta.yaml is not a regular file".into(),
            ))
        }
        Ok(m) => {
            latest_change = latest_change.max(Fingerprint::of(&m).changed_at());
            let text = fs::read(&meta_path)
                .map_err(|e| unreadable(format!("cannot read meta.yaml: {e}")))?;
            let text = String::from_utf8(text)
                .map_err(|_| unreadable("meta.yaml is not UTF-8 text".to_string()))?;
            ReleaseMeta::parse(version, &text).map_err(|e| unreadable(format!("meta.yaml: {e}")))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ReleaseMeta::defaults(version),
        Err(e) => return Err(unreadable(format!("cannot read meta.yaml: {e}"))),
    };

    if !meta.is_pinned() {
        let quiet_for = now.duration_since(latest_change).unwrap_or(Duration::ZERO);
        if quiet_for < settle {
            let files_unchanged = before.is_some_and(|r| {
                r.files
                    .iter()
                    .zip(&stats)
                    .all(|(old, (_, _, fingerprint))| old.fingerprint.same_contents(fingerprint))
            });
            let serving = before.filter(|_| files_unchanged).cloned();
            return Ok(FolderState::Settling {
                wait: settle - quiet_for,
                serving,
            });
        }
    }

    let mut files = Vec::with_capacity(2);
    for (index, (name, file, fingerprint)) in stats.into_iter().enumerate() {
        let reused = before
            .and_then(|r| r.files.get(index))
            .filter(|f| f.fingerprint == fingerprint);
        let firmware = match reused {
            Some(firmware) => firmware.clone(),
            None => match read_firmware(&file, fingerprint)? {
                Some(firmware) => Arc::new(firmware),
                // Changed while we read it: not quiet after all.
                None => {
                    return Ok(FolderState::Settling {
                        serving: None,
                        wait: settle.max(Duration::from_millis(100)),
                    })
                }
            },
        };
        if let Some(expected) = meta.sha256[index] {
            if expected != firmware.sha256 {
                return Err(FolderError::Invalid(format!(
                    "{name} does not match its sha256 in meta.yaml (pinned {}, file has {})",
                    to_hex(&expected),
                    to_hex(&firmware.sha256)
                )));
            }
        }
        files.push(firmware);
    }
    let [upd_app, upd_app_old]: [Arc<FirmwareFile>; 2] = files
        .try_into()
        .map_err(|_| FolderError::Invalid("internal: expected two firmware files".into()))?;
    Ok(FolderState::Published(Arc::new(Release {
        version,
        description: meta.description,
        critical: meta.critical,
        files: [upd_app, upd_app_old],
    })))
}

/// HTTP dates have whole seconds; `Last-Modified` comparisons are made in them.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    std::time::UNIX_EPOCH + Duration::from_secs(secs)
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
    let bytes = fs::read(path).map_err(|e| unreadable(format!("cannot read {name}: {e}")))?;
    let after =
        fs::symlink_metadata(path).map_err(|e| unreadable(format!("cannot read {name}: {e}")))?;
    if Fingerprint::of(&after) != fingerprint || bytes.len() as u64 != after.len() {
        return Ok(None);
    }
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    Ok(Some(FirmwareFile {
        etag: EntityTag::new_strong(to_hex(&sha256)),
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
        let set = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
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
        let set = ReleaseSet::scan(dir.path(), SETTLE, SystemTime::now(), None).unwrap();
        assert_eq!(state(&set, 20180125), "settling");
        assert!(set.current().is_none());
        assert!(set.next_settle().unwrap() <= SETTLE);
    }

    #[test]
    fn pinned_folders_skip_the_wait_but_only_when_they_match() {
        let dir = tempfile::tempdir().unwrap();
        let good = to_hex(&Sha256::digest(b"new 20180125"));
        release(
            dir.path(),
            "20180125",
            Some(&format!("sha256:\n  upd_app.bin: {good}\n")),
        );
        release(
            dir.path(),
            "20180126",
            Some(&format!("sha256:\n  upd_app.bin: {}\n", "0".repeat(64))),
        );
        let set = ReleaseSet::scan(dir.path(), SETTLE, SystemTime::now(), None).unwrap();
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
        let set = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
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
        assert!(set.problems[0].message.contains("not a real date"));
    }

    #[test]
    fn unchanged_files_are_reused_and_changed_ones_reread() {
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", None);
        let first = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
        let second = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&first)).unwrap();
        let (a, b) = (first.current().unwrap(), second.current().unwrap());
        assert!(Arc::ptr_eq(&a.files[0], &b.files[0]));
        fs::write(folder.join("upd_app.bin"), "changed").unwrap();
        let third = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&second)).unwrap();
        assert_eq!(&third.current().unwrap().files[0].bytes[..], b"changed");
        assert_eq!(
            &a.files[0].bytes[..],
            b"new 20180125",
            "the old snapshot keeps its bytes"
        );
    }

    #[test]
    fn a_broken_meta_yaml_keeps_the_published_version_but_a_missing_file_does_not() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180117", None);
        let folder = release(dir.path(), "20180125", Some("description: first\n"));
        let first = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
        fs::write(folder.join("meta.yaml"), "description: [broken\n").unwrap();
        let second = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&first)).unwrap();
        assert_eq!(second.current().unwrap().description, "first");
        assert!(
            second.problems[0]
                .message
                .contains("still serving the version checked before"),
            "{:?}",
            second.problems
        );
        fs::remove_file(folder.join("upd_app.bin")).unwrap();
        let third = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&second)).unwrap();
        assert_eq!(
            third.current().unwrap().version.as_u32(),
            20180117,
            "falls back"
        );
    }

    #[test]
    fn a_file_changed_in_place_stops_the_release_until_quiet() {
        let dir = tempfile::tempdir().unwrap();
        release(dir.path(), "20180117", None);
        let folder = release(dir.path(), "20180125", None);
        let first = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
        // Let 20180117 become quiet, so that only the rewritten folder is changing.
        std::thread::sleep(SETTLE + Duration::from_millis(100));
        fs::write(folder.join("upd_app.bin"), "being rewritten").unwrap();
        let second = ReleaseSet::scan(dir.path(), SETTLE, SystemTime::now(), Some(&first)).unwrap();
        assert_eq!(second.current().unwrap().version.as_u32(), 20180117);
        assert_eq!(state(&second, 20180125), "settling");
        let third = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&second)).unwrap();
        assert_eq!(
            &third.current().unwrap().files[0].bytes[..],
            b"being rewritten"
        );
    }

    #[test]
    fn a_meta_yaml_edit_keeps_the_published_version_until_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let folder = release(dir.path(), "20180125", Some("description: first\n"));
        let first = ReleaseSet::scan(dir.path(), SETTLE, later(), None).unwrap();
        fs::write(folder.join("meta.yaml"), "description: second\n").unwrap();
        let second = ReleaseSet::scan(dir.path(), SETTLE, SystemTime::now(), Some(&first)).unwrap();
        assert_eq!(state(&second, 20180125), "settling");
        assert_eq!(second.current().unwrap().description, "first");
        assert!(second.next_settle().is_some());
        let third = ReleaseSet::scan(dir.path(), SETTLE, later(), Some(&second)).unwrap();
        assert_eq!(third.current().unwrap().description, "second");
    }

    #[test]
    fn a_missing_firmware_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = ReleaseSet::scan(&dir.path().join("nope"), SETTLE, later(), None).unwrap_err();
        assert!(error.message.starts_with("cannot list the firmware folder"));
    }
}
