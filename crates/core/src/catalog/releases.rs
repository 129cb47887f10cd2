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
//! sample folder (`sample_release`). The check of one folder is `folder_check`; the release
//! it publishes, `release`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::catalog::folder_check::{check_folder, folder_state, WriterSources};
use crate::catalog::write_ledger::WriteLedger;
use crate::model::lang::fill;
use crate::model::problem::Problem;
use crate::model::version::Version;
use crate::words::Said;
use kkt_platform::open_writers;

// What the scan hands out is defined next to the check that makes it; named here too, so
// callers keep saying `releases::Release`.
pub use crate::catalog::folder_check::{FolderState, QuietRules};
pub use crate::catalog::release::{FirmwareFile, Release};

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
                Said::new(|w| fill(w.scan.cannot_list_firmware, &[("why", &e)])),
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
                        Said::new(|w| w.scan.not_a_date_folder.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::release_meta::{to_hex, FIRMWARE_FILES};
    use kkt_platform::open_writers::Writers;
    use sha2::{Digest, Sha256};

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
