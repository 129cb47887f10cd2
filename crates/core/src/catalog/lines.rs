//! Firmware lines: the folders of `firmware_dir` that hold a `line.yaml`, each with its own
//! `yyyymmdd` release folders, scanned by the same rules as the default line (release
//! folders directly in `firmware_dir`). A line's `line.yaml` is treated like a release's
//! `meta.yaml`: it is taken when it has been quiet for `settle_ms` and is valid; a bad edit
//! keeps the version checked before; a line never checked is not served at all.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::catalog::line_meta::LineMeta;
use crate::catalog::release_meta::META_FILE_MAX;
use crate::catalog::releases::{QuietRules, ReleaseSet};
use crate::catalog::write_ledger::WriteLedger;
use crate::model::lang::{fill, InLanguage};
use crate::model::problem::Problem;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;
use crate::words::{cause_in, Said};
use kkt_platform::fingerprint::Fingerprint;
use kkt_platform::regular_file::{read_regular, NotOpened, NotRead};

/// The name the default line (the release folders directly in `firmware_dir`) is stored
/// and matched under. Here, with the other line names, so that `device_line` (which maps a
/// build date to a line) uses this module and not the other way round.
pub const DEFAULT_LINE: &str = "";

/// The file that makes a folder a line.
pub const LINE_FILE: &str = "line.yaml";

/// A line that serves: its checked `line.yaml` and its releases.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub dir: PathBuf,
    pub meta: LineMeta,
    meta_fingerprint: Fingerprint,
    pub releases: ReleaseSet,
}

/// A line folder that does not serve (yet), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOut {
    pub name: String,
    pub dir: PathBuf,
    pub reason: Said,
}

/// Every line folder found.
#[derive(Debug, Clone, Default)]
pub struct LineSet {
    pub lines: BTreeMap<String, Line>,
    /// Line folders whose `line.yaml` was never valid or is still settling.
    pub out: Vec<LineOut>,
    /// Problems of serving lines (a bad edit kept out, a folder that cannot be listed).
    pub problems: Vec<Problem>,
    waits: Vec<Duration>,
}

/// Whether `name` may name a line (it becomes part of URLs).
pub fn valid_line_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && Version::parse_folder_name(name).is_none()
}

/// The folder that holds the releases of `line`: `firmware_dir` itself for the default line.
pub fn line_folder(firmware_dir: &Path, line: &str) -> PathBuf {
    if line == DEFAULT_LINE {
        firmware_dir.to_path_buf()
    } else {
        firmware_dir.join(line)
    }
}

/// The names of the line folders of `firmware_dir` (folders with a `line.yaml`), sorted;
/// without reading their releases.
pub fn line_folders(firmware_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(firmware_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let is_dir = fs::symlink_metadata(entry.path()).ok()?.is_dir();
            (is_dir && valid_line_name(&name) && entry.path().join(LINE_FILE).is_file())
                .then_some(name)
        })
        .collect();
    names.sort();
    names
}

impl LineSet {
    pub fn get(&self, name: &str) -> Option<&Line> {
        self.lines.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.out.is_empty()
    }

    /// The shortest wait until something settling in a line should be looked at again.
    pub fn next_settle(&self) -> Option<Duration> {
        self.waits
            .iter()
            .copied()
            .chain(self.lines.values().filter_map(|l| l.releases.next_settle()))
            .min()
    }

    /// Finds the line folders of `firmware_dir` and scans each. A listing error leaves the
    /// previous lines as they were (the default line's scan reports it).
    pub fn scan(
        firmware_dir: &Path,
        rules: QuietRules,
        now: SystemTime,
        previous: Option<&LineSet>,
        ledger: &WriteLedger,
    ) -> LineSet {
        let Ok(listing) = fs::read_dir(firmware_dir) else {
            return previous.cloned().unwrap_or_default();
        };
        let mut set = LineSet::default();
        for entry in listing.flatten() {
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') || Version::parse_folder_name(&name).is_some() {
                continue;
            }
            let Ok(folder) = fs::symlink_metadata(&path) else {
                continue;
            };
            let meta_path = path.join(LINE_FILE);
            if !folder.is_dir() || fs::symlink_metadata(&meta_path).is_err() {
                continue;
            }
            if !valid_line_name(&name) {
                set.out.push(LineOut {
                    name: name.clone(),
                    dir: path,
                    reason: Said::new(|w| w.scan.line_name_refused.to_string()),
                });
                continue;
            }
            let before = previous.and_then(|p| p.lines.get(&name));
            set.scan_line(name, path, rules, now, before, ledger);
        }
        set
    }

    fn scan_line(
        &mut self,
        name: String,
        dir: PathBuf,
        rules: QuietRules,
        now: SystemTime,
        before: Option<&Line>,
        ledger: &WriteLedger,
    ) {
        let meta_path = dir.join(LINE_FILE);
        let out = |reason: Said| LineOut {
            name: name.clone(),
            dir: dir.clone(),
            reason,
        };
        let checked = match read_line_meta(&name, &meta_path, rules, now, before) {
            Ok(checked) => checked,
            Err(LineMetaError::Settling(wait)) => match before {
                Some(line) => {
                    self.waits.push(wait);
                    (line.meta.clone(), line.meta_fingerprint)
                }
                None => {
                    self.waits.push(wait);
                    self.out
                        .push(out(Said::new(|w| w.scan.line_changed_recently.to_string())));
                    return;
                }
            },
            Err(LineMetaError::Invalid(reason)) => match before {
                Some(line) => {
                    self.problems.push(Problem::file(
                        &meta_path,
                        Said::new(|w| {
                            fill(
                                w.scan.line_still_using,
                                &[("reason", &reason.in_language(w.lang))],
                            )
                        }),
                    ));
                    (line.meta.clone(), line.meta_fingerprint)
                }
                None => {
                    self.out.push(out(reason));
                    return;
                }
            },
        };
        let releases = match ReleaseSet::scan(&dir, rules, now, before.map(|l| &l.releases), ledger)
        {
            Ok(releases) => releases,
            Err(problem) => {
                self.problems.push(problem);
                before.map(|l| l.releases.clone()).unwrap_or_default()
            }
        };
        let (meta, meta_fingerprint) = checked;
        self.lines.insert(
            name.clone(),
            Line {
                name,
                dir,
                meta,
                meta_fingerprint,
                releases,
            },
        );
    }
}

enum LineMetaError {
    Settling(Duration),
    Invalid(Said),
}

/// Reads `line.yaml` unless it is the one checked before.
fn read_line_meta(
    name: &str,
    path: &Path,
    rules: QuietRules,
    now: SystemTime,
    before: Option<&Line>,
) -> Result<(LineMeta, Fingerprint), LineMetaError> {
    let invalid = LineMetaError::Invalid;
    let cannot_read = |e: &std::io::Error| {
        Said::new(|w| {
            fill(
                w.scan.cannot_read_file,
                &[("name", &LINE_FILE), ("why", &cause_in(e, w.lang))],
            )
        })
    };
    let m = fs::symlink_metadata(path).map_err(|e| invalid(cannot_read(&e)))?;
    if !m.is_file() {
        return Err(invalid(Said::new(|w| {
            fill(w.scan.file_not_regular, &[("name", &LINE_FILE)])
        })));
    }
    let fingerprint = Fingerprint::of(&m);
    if let Some(line) = before.filter(|l| l.meta_fingerprint == fingerprint) {
        return Ok((line.meta.clone(), fingerprint));
    }
    let quiet = now
        .duration_since(fingerprint.changed_at())
        .unwrap_or(Duration::ZERO);
    if quiet < rules.settle {
        return Err(LineMetaError::Settling(rules.settle - quiet));
    }
    let bytes = read_regular(path, META_FILE_MAX).map_err(|refused| {
        invalid(match refused {
            NotRead::Larger(limit) => Said::new(|w| {
                fill(
                    w.scan.line_yaml_too_large,
                    &[("mib", &(limit / (1024 * 1024)))],
                )
            }),
            NotRead::NotOpened(NotOpened::NotRegular(kind)) => Said::new(|w| {
                fill(
                    w.scan.file_of_kind,
                    &[("name", &LINE_FILE), ("kind", &w.config.file_kind(kind))],
                )
            }),
            NotRead::NotOpened(NotOpened::Missing) => {
                Said::new(|w| fill(w.scan.file_missing, &[("name", &LINE_FILE)]))
            }
            NotRead::NotOpened(NotOpened::Io(e)) | NotRead::Io(e) => cannot_read(&e),
        })
    })?;
    let text = utf8_text(bytes, LINE_FILE).map_err(|e| invalid(Said::of(&e)))?;
    let meta = LineMeta::parse(name, &text).map_err(|e| {
        invalid(Said::new(|w| {
            fill(
                w.scan.in_file,
                &[("name", &LINE_FILE), ("why", &e.in_language(w.lang))],
            )
        }))
    })?;
    Ok((meta, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLE: Duration = Duration::from_millis(200);

    fn scan(dir: &Path, now: SystemTime, previous: Option<&LineSet>) -> LineSet {
        LineSet::scan(
            dir,
            QuietRules::plain(SETTLE),
            now,
            previous,
            &WriteLedger::default(),
        )
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(10)
    }

    fn release(dir: &Path, version: &str) {
        let folder = dir.join(version);
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("upd_app.bin"), format!("new {version}")).unwrap();
        fs::write(
            folder.join("upd_app_for_old_frs.bin"),
            format!("old {version}"),
        )
        .unwrap();
    }

    #[test]
    fn folders_with_line_yaml_are_lines_with_their_own_releases() {
        let dir = tempfile::tempdir().unwrap();
        let c3 = dir.path().join("C.3");
        fs::create_dir(&c3).unwrap();
        fs::write(c3.join(LINE_FILE), "known_builds: [20220915]\n").unwrap();
        release(&c3, "20221228");
        release(dir.path(), "20230119");
        fs::create_dir(dir.path().join("not-a-line")).unwrap();
        let bad = dir.path().join("C 1");
        fs::create_dir(&bad).unwrap();
        fs::write(bad.join(LINE_FILE), "").unwrap();
        let set = scan(dir.path(), later(), None);
        assert_eq!(set.lines.keys().collect::<Vec<_>>(), ["C.3"]);
        let line = set.get("C.3").unwrap();
        assert_eq!(line.releases.current().unwrap().version.as_u32(), 20221228);
        assert_eq!(line.meta.known_builds.len(), 1);
        assert_eq!(set.out.len(), 1);
        assert!(
            set.out[0].reason.to_string().contains("latin letters"),
            "{:?}",
            set.out
        );
    }

    #[test]
    fn a_bad_line_yaml_keeps_the_one_checked_before_or_keeps_the_line_out() {
        let dir = tempfile::tempdir().unwrap();
        let c3 = dir.path().join("C.3");
        fs::create_dir(&c3).unwrap();
        release(&c3, "20221228");
        fs::write(c3.join(LINE_FILE), "known_build: [20220915]\n").unwrap();
        let first = scan(dir.path(), later(), None);
        assert!(first.lines.is_empty());
        assert!(first.out[0]
            .reason
            .to_string()
            .contains("unknown field `known_build`"));
        fs::write(c3.join(LINE_FILE), "known_builds: [20220915]\n").unwrap();
        let settling = scan(dir.path(), SystemTime::now(), Some(&first));
        assert!(settling.lines.is_empty() && settling.next_settle().is_some());
        let second = scan(dir.path(), later(), Some(&settling));
        assert_eq!(second.get("C.3").unwrap().meta.known_builds.len(), 1);
        fs::write(c3.join(LINE_FILE), "known_builds: [2022]\n").unwrap();
        let third = scan(dir.path(), later(), Some(&second));
        assert_eq!(third.get("C.3").unwrap().meta.known_builds.len(), 1);
        assert!(third.problems[0]
            .message
            .to_string()
            .contains("still using the line.yaml checked before"));
    }
}
