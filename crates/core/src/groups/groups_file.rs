//! `groups.yaml` as the scan reads it, one snapshot after another: the groups served, and,
//! when the file on disk cannot be used (a typo, half a save, gone), why and since when,
//! while the last groups that loaded keep serving (a bad edit must not move every store's
//! rollout window to the server's clock). The license files are the model: an unchanged
//! file is not read again, and a file changed less than `settle` ago is left to settle.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kkt_platform::fingerprint::Fingerprint;

use crate::groups::groups_yaml;
use crate::groups::membership::Groups;
use crate::groups::refusal::GroupsError;
use crate::groups::GROUPS_FILE_MAX;
use crate::licenses::Broken;
use crate::model::lang::fill;
use crate::model::problem::Problem;
use crate::model::text_file::utf8_text;
use crate::words::{cause_in, Said};

/// The groups file of one snapshot.
#[derive(Debug, Clone)]
pub struct GroupsFile {
    pub path: PathBuf,
    /// Of the file as last read; none after a failed read (the next scan tries again).
    fingerprint: Option<Fingerprint>,
    /// What is served: the file's groups, or, while it is broken, the last that loaded
    /// (none when it never did).
    pub groups: Arc<Groups>,
    /// The file cannot be used as it is on disk: why, and since when.
    pub broken: Option<Broken>,
    /// The file is changing: the previous groups are kept; look again after this.
    pub wait: Option<Duration>,
}

impl GroupsFile {
    /// The file at `path`, read unless unchanged since `previous`.
    pub fn load(
        path: &Path,
        previous: Option<&GroupsFile>,
        now: SystemTime,
        settle: Duration,
    ) -> GroupsFile {
        let before = previous.filter(|p| p.path == path);
        let mut file = read(path, before, now, settle);
        let broke_before = before.and_then(|b| b.broken.as_ref()).map(|b| b.since);
        if let (Some(broken), Some(since)) = (&mut file.broken, broke_before) {
            broken.since = since;
        }
        file
    }

    /// What is wrong with the file, as one problem (none when it loaded).
    pub fn problem(&self) -> Option<Problem> {
        let broken = self.broken.as_ref()?;
        let count = self.groups.len();
        let message = if count == 0 {
            broken.reason.clone()
        } else {
            Said::new(|w| {
                fill(
                    w.groups.still_using,
                    &[
                        ("reason", &broken.reason.in_language(w.lang)),
                        ("count", &count),
                    ],
                )
            })
        };
        Some(Problem::file(&self.path, message))
    }
}

fn read(path: &Path, before: Option<&GroupsFile>, now: SystemTime, settle: Duration) -> GroupsFile {
    let meta = match fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            return kept(
                path,
                before,
                said(|w| w.groups.not_regular.to_string()),
                now,
            )
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return kept(path, before, said(|w| w.groups.missing.to_string()), now)
        }
        Err(e) => return kept(path, before, cannot_read(&e), now),
    };
    let fingerprint = Fingerprint::of(&meta);
    if let Some(before) = before {
        if before.fingerprint == Some(fingerprint) {
            return before.clone();
        }
        let quiet_for = now
            .duration_since(fingerprint.changed_at())
            .unwrap_or(Duration::ZERO);
        if quiet_for < settle {
            let mut waiting = before.clone();
            waiting.wait = Some(settle - quiet_for);
            return waiting;
        }
    }
    match read_text(path, meta.len()) {
        Err(e) => kept(path, before, cannot_read(&e), now),
        Ok(Err(refused)) | Ok(Ok(Err(refused))) => {
            let mut file = kept(path, before, Said::of(&refused), now);
            // Refused for what it says: read again only when it changes.
            file.fingerprint = Some(fingerprint);
            file
        }
        Ok(Ok(Ok(groups))) => GroupsFile {
            path: path.to_path_buf(),
            fingerprint: Some(fingerprint),
            groups: Arc::new(groups),
            broken: None,
            wait: None,
        },
    }
}

/// Reads and parses the file: an I/O error outside, a file too large or not UTF-8 in the
/// middle, the parser's verdict inside.
#[allow(clippy::type_complexity)]
fn read_text(
    path: &Path,
    size: u64,
) -> std::io::Result<Result<Result<Groups, GroupsError>, GroupsError>> {
    if size > GROUPS_FILE_MAX {
        return Ok(Err(GroupsError::TooLarge));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)?
        .take(GROUPS_FILE_MAX + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > GROUPS_FILE_MAX {
        return Ok(Err(GroupsError::TooLarge));
    }
    let name = path.file_name().map_or_else(
        || "the groups file".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(match utf8_text(bytes, &name) {
        Ok(text) => Ok(groups_yaml::parse(&text)),
        Err(not_utf8) => Err(GroupsError::NotUtf8(not_utf8)),
    })
}

/// The file cannot be used now: the groups served before stay (none at start-up).
fn kept(path: &Path, before: Option<&GroupsFile>, reason: Said, now: SystemTime) -> GroupsFile {
    GroupsFile {
        path: path.to_path_buf(),
        fingerprint: None,
        groups: before.map(|b| b.groups.clone()).unwrap_or_default(),
        broken: Some(Broken { reason, since: now }),
        wait: None,
    }
}

fn said(say: impl Fn(&'static crate::words::Words) -> String) -> Said {
    Said::new(say)
}

fn cannot_read(error: &std::io::Error) -> Said {
    Said::new(|w| fill(w.groups.cannot_read, &[("why", &cause_in(error, w.lang))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLE: Duration = Duration::from_millis(0);

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(10)
    }

    #[test]
    fn a_bad_edit_keeps_the_last_good_groups_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.yaml");
        fs::write(&path, "- name: A\n  networks: [10.1.0.0/16]\n").unwrap();
        let good = GroupsFile::load(&path, None, later(), SETTLE);
        assert!(good.broken.is_none() && good.problem().is_none());
        assert_eq!(good.groups.len(), 1);

        fs::write(&path, "- name: A\n  netwroks: [10.1.0.0/16]\n- name: B\n").unwrap();
        let bad = GroupsFile::load(&path, Some(&good), later(), SETTLE);
        assert_eq!(bad.groups.names().collect::<Vec<_>>(), ["A"]);
        let problem = bad.problem().unwrap().to_string();
        assert!(problem.contains("unknown key `netwroks`"), "{problem}");
        assert!(
            problem.ends_with("still using the 1 groups loaded before"),
            "{problem}"
        );
        let since = bad.broken.as_ref().unwrap().since;

        // Still broken at the next scan: the same "since".
        let again = GroupsFile::load(&path, Some(&bad), later() + Duration::from_secs(5), SETTLE);
        assert_eq!(again.broken.as_ref().unwrap().since, since);

        fs::remove_file(&path).unwrap();
        let gone = GroupsFile::load(&path, Some(&again), later(), SETTLE);
        assert_eq!(gone.groups.len(), 1);
        assert!(gone
            .problem()
            .unwrap()
            .to_string()
            .contains("does not exist"));

        fs::write(&path, "- name: C\n").unwrap();
        let fixed = GroupsFile::load(&path, Some(&gone), later(), SETTLE);
        assert!(fixed.broken.is_none());
        assert_eq!(fixed.groups.names().collect::<Vec<_>>(), ["C"]);
    }

    #[test]
    fn broken_at_start_serves_no_group_and_huge_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.yaml");
        let missing = GroupsFile::load(&path, None, later(), SETTLE);
        assert!(missing.groups.is_empty() && missing.broken.is_some());
        let file = fs::File::create(&path).unwrap();
        file.set_len(GROUPS_FILE_MAX + 1).unwrap();
        let huge = GroupsFile::load(&path, None, later(), SETTLE);
        let problem = huge.problem().unwrap().to_string();
        assert!(
            problem.ends_with("larger than 2 MiB; a groups file holds names, networks and serials"),
            "{problem}"
        );
        fs::write(&path, b"- name: \xCF\xF0\xE8\n").unwrap();
        let cp1251 = GroupsFile::load(&path, None, later(), SETTLE);
        assert!(cp1251.problem().unwrap().to_string().contains("not UTF-8"));
    }

    #[test]
    fn a_file_changed_just_now_is_left_to_settle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.yaml");
        fs::write(&path, "- name: A\n").unwrap();
        let good = GroupsFile::load(&path, None, later(), SETTLE);
        fs::write(&path, "- name: B\n  networks: [10.0.0.0/8]\n").unwrap();
        let settling = GroupsFile::load(
            &path,
            Some(&good),
            SystemTime::now(),
            Duration::from_secs(60),
        );
        assert_eq!(settling.groups.names().collect::<Vec<_>>(), ["A"]);
        assert!(settling.wait.is_some());
    }
}
