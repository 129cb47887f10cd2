//! Feature licenses by serial: loaded from the `.slf` and `.yaml` files (or folders of them)
//! that `server.yaml` lists, looked up by `POST /feature_licenses`.
//! May use `platform` and `model` only.
//!
//! Each file is kept as its own sorted array; a lookup searches the files from last to
//! first, so "the later file wins" needs no merged copy (a million serials are loaded once,
//! not twice). An unchanged file is reused from the previous table without being read.

pub mod record;
pub mod serial;
pub mod slf;
pub mod yaml;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::model::lang::fill;
use crate::model::problem::Problem;
use crate::model::text_file::utf8_text;
use crate::words::{cause_in, Said, Words};
use kkt_platform::fingerprint::Fingerprint;
use record::LicenseRecord;
use serial::Serial;

/// How many duplicate-serial warnings one file gets before they are summed up.
const DUPLICATES_SHOWN: usize = 5;

/// One entry as a file wrote it (176 bytes; the line is kept to name repeats).
#[derive(Debug, Clone)]
pub struct LicenseEntry {
    pub serial: Serial,
    pub line: usize,
    pub record: LicenseRecord,
}

/// What a parser found in one file.
#[derive(Debug, Default)]
pub struct ParsedLicenses {
    pub entries: Vec<LicenseEntry>,
    pub problems: Vec<Problem>,
    /// Nothing in the file could be read (broken YAML): likely a save in progress.
    pub unreadable: bool,
}

/// One loaded license file.
#[derive(Debug, Clone)]
pub struct LicenseFile {
    pub path: PathBuf,
    /// `None` when the file does not exist (it loads nothing).
    fingerprint: Option<Fingerprint>,
    /// Sorted by serial, one entry per serial. (`Arc<Vec>`, not `Arc<[_]>`: converting a
    /// vector of a million entries into a slice would copy it.)
    entries: Arc<Vec<LicenseEntry>>,
    /// Problems in this file (bad lines, repeated serials), reported on every scan.
    pub problems: Vec<Problem>,
    /// When the file was first seen missing while it still had licenses.
    missing_since: Option<SystemTime>,
    /// The file is changing: the previous entries are kept; look again after this.
    pub wait: Option<Duration>,
    /// The file as a whole cannot be used: not there, not readable, not YAML, or not one
    /// of its lines or entries is a license. What it serves meanwhile is `len()`: the
    /// licenses loaded before it broke, or none when the server started with it so.
    pub broken: Option<Broken>,
}

/// Why a license file cannot be used, and since when (kept across rescans while it stays
/// broken, so the operator sees how long it has been).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// In both languages: the dashboard's banner and the log pick theirs.
    pub reason: Said,
    pub since: SystemTime,
}

impl LicenseFile {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, serial: Serial) -> Option<&LicenseRecord> {
        let index = self
            .entries
            .binary_search_by_key(&serial, |e| e.serial)
            .ok()?;
        self.entries.get(index).map(|e| &e.record)
    }

    /// A file that loads nothing, for `reason`.
    fn failed(path: &Path, reason: Said, now: SystemTime) -> LicenseFile {
        let problems = vec![Problem::file(path, reason.clone())];
        let mut file = LicenseFile::from_parsed(
            path,
            None,
            ParsedLicenses {
                problems,
                ..Default::default()
            },
        );
        file.broken = Some(Broken { reason, since: now });
        file
    }

    fn from_parsed(
        path: &Path,
        fingerprint: Option<Fingerprint>,
        parsed: ParsedLicenses,
    ) -> LicenseFile {
        let mut problems = parsed.problems;
        let mut entries = parsed.entries;
        // Sorted in place, the last line of a serial first, then deduplicated in place:
        // no second copy of a large file's entries is ever made.
        entries.sort_unstable_by_key(|e| (e.serial, std::cmp::Reverse(e.line)));
        let mut repeats = 0;
        entries.dedup_by(|repeat, kept| {
            if repeat.serial != kept.serial {
                return false;
            }
            repeats += 1;
            if repeats <= DUPLICATES_SHOWN {
                let message = said(|w| {
                    fill(
                        w.scan.serial_repeats,
                        &[("serial", &kept.serial), ("line", &repeat.line)],
                    )
                });
                problems.push(Problem::line(path, kept.line, message));
            }
            true
        });
        entries.shrink_to_fit();
        if repeats > DUPLICATES_SHOWN {
            let more = repeats - DUPLICATES_SHOWN;
            let message = said(|w| fill(w.scan.more_repeats, &[("more", &more)]));
            problems.push(Problem::file(path, message));
        }
        problems.sort_by_key(|p| p.line);
        LicenseFile {
            path: path.to_path_buf(),
            fingerprint,
            entries: Arc::new(entries),
            problems,
            missing_since: None,
            wait: None,
            broken: None,
        }
    }
}

/// Every loaded license file, in the order of the `licenses` list.
#[derive(Debug, Clone, Default)]
pub struct LicenseTable {
    pub files: Vec<LicenseFile>,
    /// Serials defined in more than one file (the later file wins).
    pub overrides: Vec<Problem>,
    /// Distinct serials over all files.
    total: usize,
}

impl LicenseTable {
    /// The licenses for `serial`, from the last file that has it.
    pub fn get(&self, serial: Serial) -> Option<&LicenseRecord> {
        self.files.iter().rev().find_map(|file| file.get(serial))
    }

    /// Serials that a device can get (each counted once).
    pub fn total(&self) -> usize {
        self.total
    }

    /// Every problem: per file, then serials that one file overrides in another.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.files
            .iter()
            .flat_map(|f| f.problems.iter())
            .chain(self.overrides.iter())
    }

    /// Loads the license `sources` (files, or folders of `.slf`/`.yaml`/`.yml` files).
    ///
    /// With a `previous` table (a reload), files unchanged since then are reused without
    /// reading them, and no serial disappears because of an edit in progress: a file that
    /// changed less than `settle` ago, or went missing less than `settle` ago, keeps its
    /// previous entries until it has been quiet that long; a file that cannot be read or
    /// parsed at all keeps them until it can.
    pub fn load(
        sources: &[PathBuf],
        previous: Option<&LicenseTable>,
        now: SystemTime,
        settle: Duration,
    ) -> LicenseTable {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for source in sources {
            match license_paths(source, previous) {
                Ok(paths) => files.extend(
                    paths
                        .iter()
                        .map(|path| load_file(path, previous, now, settle)),
                ),
                Err(problem) => problems.push(problem),
            }
        }
        let (overrides, total) = overrides_and_total(&files);
        problems.extend(overrides);
        LicenseTable {
            total,
            files,
            overrides: problems,
        }
    }

    /// The shortest wait until a changing license file should be read again.
    pub fn next_settle(&self) -> Option<Duration> {
        self.files.iter().filter_map(|f| f.wait).min()
    }
}

/// The license files a `licenses` entry names: the file itself, or a folder's files.
/// Files of a folder that held licenses in `previous` but are gone now are listed too,
/// so that they go through the same "missing for `settle`" rule as named files.
/// An entry named like a license file is a file, whatever is at that path now (a file
/// replaced by a folder must not turn into a folder source and lose its licenses).
fn license_paths(source: &Path, previous: Option<&LicenseTable>) -> Result<Vec<PathBuf>, Problem> {
    if format_of(source).is_some() || !source.is_dir() {
        return Ok(vec![source.to_path_buf()]);
    }
    let listing = fs::read_dir(source).map_err(|e| {
        let message = said(|w| fill(w.scan.cannot_list_folder, &[("why", &e)]));
        Problem::file(source, message)
    })?;
    let mut paths: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_license_file_name(path) && path.is_file())
        .collect();
    let vanished = previous
        .into_iter()
        .flat_map(|table| table.files.iter())
        .filter(|f| f.path.parent() == Some(source) && !f.is_empty() && !paths.contains(&f.path))
        .map(|f| f.path.clone());
    paths.extend(vanished.collect::<Vec<_>>());
    paths.sort();
    Ok(paths)
}

/// `.slf`, `.yaml` and `.yml` files, but not hidden files (editors' swap and temp files).
fn is_license_file_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.') && format_of(path).is_some()
}

#[derive(Clone, Copy)]
enum Format {
    Slf,
    Yaml,
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "slf" => Some(Format::Slf),
        "yaml" | "yml" => Some(Format::Yaml),
        _ => None,
    }
}

/// Loads one file, and keeps when it broke from the scan before, if it was broken then too.
fn load_file(
    path: &Path,
    previous: Option<&LicenseTable>,
    now: SystemTime,
    settle: Duration,
) -> LicenseFile {
    let before = previous.and_then(|table| table.files.iter().find(|f| f.path == path));
    let mut file = read_file(path, before, now, settle);
    let broke_before = before.and_then(|b| b.broken.as_ref()).map(|b| b.since);
    if let (Some(broken), Some(since)) = (&mut file.broken, broke_before) {
        broken.since = since;
    }
    file
}

fn read_file(
    path: &Path,
    before: Option<&LicenseFile>,
    now: SystemTime,
    settle: Duration,
) -> LicenseFile {
    // Checked before the file type: a folder that does not exist has no extension either,
    // and "does not exist" is the truth an operator needs.
    if fs::symlink_metadata(path).is_err_and(|e| e.kind() == ErrorKind::NotFound) {
        return missing(path, before, now, settle);
    }
    let Some(format) = format_of(path) else {
        return LicenseFile::failed(path, said(|w| w.scan.license_unknown_type.to_string()), now);
    };
    let meta = match fs::metadata(path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            let reason = said(|w| w.scan.license_not_regular.to_string());
            return keep_previous(path, before, reason, now);
        }
        Err(e) if e.kind() == ErrorKind::NotFound => return missing(path, before, now, settle),
        Err(e) => return keep_previous(path, before, cannot_read(&e), now),
    };
    let fingerprint = Fingerprint::of(&meta);
    if let Some(before) = before {
        if before.fingerprint == Some(fingerprint) {
            return before.clone();
        }
        let quiet_for = now
            .duration_since(fingerprint.changed_at())
            .unwrap_or(Duration::ZERO);
        if quiet_for < settle && !before.is_empty() {
            let mut kept = before.clone();
            kept.wait = Some(settle - quiet_for);
            return kept;
        }
    }
    let parsed = match read_licenses(path, format, meta.len()) {
        Ok(parsed) => parsed,
        Err(e) => return keep_previous(path, before, cannot_read(&e), now),
    };
    match before {
        Some(before) if parsed.unreadable && !before.is_empty() => {
            let reason = parsed.problems.first().map_or_else(
                || said(|w| w.scan.license_unreadable.to_string()),
                |p| p.message.clone(),
            );
            keep_previous(path, Some(before), reason, now)
        }
        _ => {
            // Nothing of it loads, and it says why: broken as a whole (a file that is not
            // YAML, a `.slf` saved as UTF-16 or with the columns in another order).
            let broken = (parsed.unreadable
                || parsed.entries.is_empty() && !parsed.problems.is_empty())
            .then(|| parsed.problems.first().map(problem_said))
            .flatten();
            let mut file = LicenseFile::from_parsed(path, Some(fingerprint), parsed);
            file.broken = broken.map(|reason| Broken { reason, since: now });
            file
        }
    }
}

/// A license file that is not there: its licenses stay for `settle` (an editor may be
/// replacing it), then go.
fn missing(
    path: &Path,
    before: Option<&LicenseFile>,
    now: SystemTime,
    settle: Duration,
) -> LicenseFile {
    if let Some(before) = before.filter(|b| !b.is_empty()) {
        let since = before.missing_since.unwrap_or(now);
        let gone_for = now.duration_since(since).unwrap_or(Duration::ZERO);
        if gone_for < settle {
            let mut kept = before.clone();
            kept.fingerprint = None;
            kept.missing_since = Some(since);
            kept.wait = Some(settle - gone_for);
            return kept;
        }
    }
    LicenseFile::failed(path, said(|w| w.scan.license_missing.to_string()), now)
}

/// The largest license file read: a `.slf` line is about 280 bytes, so this is over three
/// million registers (the bench loads a million, 276 MB); a file larger than this is a
/// wrong file, and must not be read.
const LICENSE_FILE_MAX: u64 = 1024 * 1024 * 1024;

/// The largest YAML license file read. YAML is for licenses edited by hand; the parser holds
/// the whole document as values, about 115 bytes per token (8 MB of `[a,a,…]` took 916 MB),
/// so a YAML file is kept to what a hand-edited file reaches (some 50,000 registers) and
/// its memory under 2 GB however it is written. Fleets beyond that have `.slf` files,
/// streamed line by line.
const YAML_LICENSE_FILE_MAX: u64 = 16 * 1024 * 1024;

fn yaml_too_large() -> std::io::Error {
    let mib = YAML_LICENSE_FILE_MAX / (1024 * 1024);
    std::io::Error::new(
        ErrorKind::InvalidData,
        said(|w| fill(w.scan.license_yaml_too_large, &[("mib", &mib)])),
    )
}

fn too_large() -> std::io::Error {
    let mib = LICENSE_FILE_MAX / (1024 * 1024);
    std::io::Error::new(
        ErrorKind::InvalidData,
        said(|w| fill(w.scan.license_too_large, &[("mib", &mib)])),
    )
}

/// A reason in both languages, from the tables.
fn said(say: impl Fn(&'static Words) -> String) -> Said {
    Said::new(say)
}

/// "cannot read: {why}", the system's reason as it gives it (ours translated).
fn cannot_read(error: &std::io::Error) -> Said {
    said(|w| {
        fill(
            w.scan.license_cannot_read,
            &[("why", &cause_in(error, w.lang))],
        )
    })
}

/// A problem as one sentence in both languages: where, then what.
fn problem_said(problem: &Problem) -> Said {
    said(|w| problem.in_language(w.lang))
}

/// Reads and parses one file: `.slf` streamed line by line, YAML as a whole document.
fn read_licenses(path: &Path, format: Format, size: u64) -> std::io::Result<ParsedLicenses> {
    if size > LICENSE_FILE_MAX {
        return Err(too_large());
    }
    let file = std::io::Read::take(fs::File::open(path)?, LICENSE_FILE_MAX + 1);
    match format {
        Format::Slf => slf::parse(path, std::io::BufReader::with_capacity(1 << 16, file), size),
        Format::Yaml => {
            if size > YAML_LICENSE_FILE_MAX {
                return Err(yaml_too_large());
            }
            let mut bytes = Vec::new();
            let file = std::io::Read::take(file, YAML_LICENSE_FILE_MAX + 1);
            std::io::Read::read_to_end(&mut std::io::BufReader::new(file), &mut bytes)?;
            if bytes.len() as u64 > YAML_LICENSE_FILE_MAX {
                return Err(yaml_too_large());
            }
            let name = path.file_name().map_or_else(
                || "the file".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let text = utf8_text(bytes, &name).map_err(|refused| {
                std::io::Error::new(ErrorKind::InvalidData, Said::of(&refused))
            })?;
            Ok(yaml::parse(path, &text))
        }
    }
}

/// A file that cannot be read now keeps what it served before (none at start-up).
fn keep_previous(
    path: &Path,
    before: Option<&LicenseFile>,
    reason: Said,
    now: SystemTime,
) -> LicenseFile {
    match before {
        Some(before) => {
            let mut kept = before.clone();
            let message = said(|w| {
                fill(
                    w.scan.license_still_serving,
                    &[
                        ("reason", &reason.in_language(w.lang)),
                        ("count", &before.len()),
                    ],
                )
            });
            kept.problems = vec![Problem::file(path, message)];
            // Forget the fingerprint so that the next scan tries again.
            kept.fingerprint = None;
            kept.wait = None;
            kept.broken = Some(Broken { reason, since: now });
            kept
        }
        None => LicenseFile::failed(path, reason, now),
    }
}

/// In one pass over the files: the serials that a later file overrides (summed up per pair
/// of files) and how many distinct serials there are. Done once per load, not per question:
/// with a million serials in several files it is a million lookups.
fn overrides_and_total(files: &[LicenseFile]) -> (Vec<Problem>, usize) {
    let mut problems = Vec::new();
    let mut repeated = 0;
    for (i, earlier) in files.iter().enumerate() {
        let later_files = &files[i + 1..];
        if later_files.is_empty() {
            continue;
        }
        // Per later file: how many of this file's serials it also has, and the first one.
        let mut shared: Vec<(usize, Option<Serial>)> = vec![(0, None); later_files.len()];
        for entry in earlier.entries.iter() {
            let mut overridden = false;
            for (slot, later) in shared.iter_mut().zip(later_files) {
                if later.get(entry.serial).is_some() {
                    slot.0 += 1;
                    slot.1.get_or_insert(entry.serial);
                    overridden = true;
                }
            }
            repeated += usize::from(overridden);
        }
        for ((count, first), later) in shared.into_iter().zip(later_files) {
            let Some(first) = first else { continue };
            let message = said(|w| {
                fill(
                    w.scan.serials_also_in,
                    &[
                        ("count", &count),
                        ("file", &later.path.display()),
                        ("first", &first),
                    ],
                )
            });
            problems.push(Problem::file(&earlier.path, message));
        }
    }
    (
        problems,
        files.iter().map(LicenseFile::len).sum::<usize>() - repeated,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTLE: Duration = Duration::from_millis(500);

    fn now() -> SystemTime {
        SystemTime::now()
    }

    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(10)
    }

    fn yaml_entry(fill: char) -> String {
        let (licenses, signature) = (fill.to_string().repeat(128), "d".repeat(128));
        format!("\"0000000000000001\":\n  licenses: {licenses}\n  signature: {signature}\n")
    }

    fn slf_line(serial: &str, fill: char) -> String {
        format!(
            "{serial}\t{}\t{}\n",
            fill.to_string().repeat(128),
            "A".repeat(128)
        )
    }

    fn lookup(table: &LicenseTable, serial: &str) -> Option<String> {
        table
            .get(Serial::parse_request_form(serial)?)
            .map(|r| r.licenses.to_hex())
    }

    #[test]
    fn later_files_win_and_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.slf");
        let b = dir.path().join("b.slf");
        fs::write(
            &a,
            slf_line("0000000000000001", '1') + &slf_line("0000000000000002", '2'),
        )
        .unwrap();
        fs::write(&b, slf_line("0000000000000002", 'b')).unwrap();
        let table = LicenseTable::load(&[a.clone(), b.clone()], None, now(), SETTLE);
        assert_eq!(lookup(&table, "1"), Some("1".repeat(128)));
        assert_eq!(lookup(&table, "2"), Some("b".repeat(128)));
        assert_eq!(lookup(&table, "3"), None);
        assert_eq!(table.total(), 2);
        assert_eq!(table.overrides.len(), 1);
        assert!(
            table.overrides[0]
                .message
                .to_string()
                .contains("1 serial(s) also in"),
            "{:?}",
            table.overrides
        );
    }

    #[test]
    fn a_serial_in_three_files_counts_once_and_is_reported_per_pair() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["a", "b", "c"]
            .iter()
            .map(|n| dir.path().join(format!("{n}.slf")))
            .collect();
        for (path, fill) in paths.iter().zip(['1', '2', '3']) {
            fs::write(path, slf_line("0000000000000007", fill)).unwrap();
        }
        fs::write(
            &paths[0],
            slf_line("0000000000000007", '1') + &slf_line("0000000000000008", '1'),
        )
        .unwrap();
        let table = LicenseTable::load(&paths, None, now(), SETTLE);
        assert_eq!(table.total(), 2);
        assert_eq!(lookup(&table, "7"), Some("3".repeat(128)));
        assert_eq!(
            table.overrides.len(),
            3,
            "a-b, a-c, b-c: {:?}",
            table.overrides
        );
    }

    #[test]
    fn repeated_serial_in_one_file_keeps_the_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.slf");
        fs::write(
            &a,
            slf_line("0000000000000001", '1') + &slf_line("0000000000000001", '9'),
        )
        .unwrap();
        let table = LicenseTable::load(&[a], None, now(), SETTLE);
        assert_eq!(lookup(&table, "1"), Some("9".repeat(128)));
        assert_eq!(table.problems().next().unwrap().line, Some(2));
    }

    #[test]
    fn folders_load_their_license_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.slf"), slf_line("0000000000000001", 'b')).unwrap();
        fs::write(dir.path().join("a.slf"), slf_line("0000000000000001", 'a')).unwrap();
        fs::write(dir.path().join(".a.slf.swp"), "junk").unwrap();
        fs::write(dir.path().join("notes.txt"), "junk").unwrap();
        let table = LicenseTable::load(&[dir.path().to_path_buf()], None, now(), SETTLE);
        assert_eq!(table.files.len(), 2);
        assert_eq!(lookup(&table, "1"), Some("b".repeat(128)));
    }

    #[test]
    fn broken_yaml_keeps_the_previous_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.yaml");
        fs::write(&path, yaml_entry('c')).unwrap();
        let sources = std::slice::from_ref(&path);
        let first = LicenseTable::load(sources, None, now(), SETTLE);
        assert_eq!(lookup(&first, "1"), Some("c".repeat(128)));
        fs::write(&path, "\"0000000000000001\": [\n").unwrap();
        let second = LicenseTable::load(sources, Some(&first), later(), SETTLE);
        assert_eq!(lookup(&second, "1"), Some("c".repeat(128)));
        let problem = second.problems().next().unwrap().message.to_string();
        assert!(
            problem.contains("still serving the 1 licenses"),
            "{problem}"
        );
        fs::write(&path, yaml_entry('e')).unwrap();
        let third = LicenseTable::load(sources, Some(&second), later(), SETTLE);
        assert_eq!(lookup(&third, "1"), Some("e".repeat(128)));
        assert_eq!(third.problems().count(), 0);
    }

    #[test]
    fn a_file_that_loads_nothing_is_broken_and_says_since_when() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("l.yaml");
        let slf = dir.path().join("k.slf");
        let fine = dir.path().join("fine.slf");
        fs::write(&yaml, "\"0000000000000001\": [\n").unwrap();
        // UTF-16, as a spreadsheet saves "Unicode text": not one line is a license.
        let utf16: Vec<u8> = slf_line("0000000000000002", 'a')
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        fs::write(&slf, utf16).unwrap();
        fs::write(&fine, slf_line("0000000000000003", 'f') + "junk line\n").unwrap();
        let sources = [yaml.clone(), slf.clone(), fine.clone()];
        let t0 = now();
        let first = LicenseTable::load(&sources, None, t0, SETTLE);
        let broken: Vec<_> = first.files.iter().map(|f| f.broken.clone()).collect();
        assert!(broken[0]
            .as_ref()
            .unwrap()
            .reason
            .to_string()
            .contains("not valid YAML"));
        assert_eq!(broken[0].as_ref().unwrap().since, t0);
        assert!(broken[1].is_some(), "{:?}", first.files[1].problems);
        assert_eq!(
            broken[2], None,
            "one bad line among good ones is not a broken file"
        );
        assert_eq!(lookup(&first, "3"), Some("f".repeat(128)));
        // Still broken a scan later: since stays when it first broke.
        fs::write(&yaml, "\"0000000000000001\": {\n").unwrap();
        let second = LicenseTable::load(&sources, Some(&first), later(), SETTLE);
        assert_eq!(second.files[0].broken.as_ref().unwrap().since, t0);
        // Fixed: all clear.
        fs::write(&yaml, yaml_entry('c')).unwrap();
        let third = LicenseTable::load(&sources, Some(&second), later(), SETTLE);
        assert_eq!(third.files[0].broken, None);
        assert_eq!(lookup(&third, "1"), Some("c".repeat(128)));
        // A good file that breaks while running keeps its licenses and is broken.
        fs::write(&yaml, "not: [yaml\n").unwrap();
        let fourth = LicenseTable::load(&sources, Some(&third), later(), SETTLE);
        assert_eq!(lookup(&fourth, "1"), Some("c".repeat(128)));
        assert!(fourth.files[0].broken.is_some());
        // A named file that is not there is broken too.
        let gone = dir.path().join("gone.slf");
        let table = LicenseTable::load(&[gone], None, now(), SETTLE);
        assert!(table.files[0]
            .broken
            .as_ref()
            .unwrap()
            .reason
            .to_string()
            .contains("does not exist"));
    }

    #[test]
    fn an_edit_in_progress_keeps_the_previous_entries_until_quiet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.yaml");
        fs::write(&path, yaml_entry('c')).unwrap();
        let sources = std::slice::from_ref(&path);
        let first = LicenseTable::load(sources, None, now(), SETTLE);
        // Truncated by an editor's save, looked at within the settle window.
        fs::write(&path, "").unwrap();
        let second = LicenseTable::load(sources, Some(&first), now(), SETTLE);
        assert_eq!(lookup(&second, "1"), Some("c".repeat(128)));
        assert!(second.next_settle().is_some());
        // Quiet for longer than settle: the (empty) file is what counts.
        let third = LicenseTable::load(sources, Some(&second), later(), SETTLE);
        assert_eq!(lookup(&third, "1"), None);
        assert_eq!(third.next_settle(), None);
    }

    #[test]
    fn a_deleted_file_drops_its_serials_after_settle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.yaml");
        fs::write(&path, yaml_entry('c')).unwrap();
        let sources = std::slice::from_ref(&path);
        let first = LicenseTable::load(sources, None, now(), SETTLE);
        fs::remove_file(&path).unwrap();
        let t0 = later();
        let second = LicenseTable::load(sources, Some(&first), t0, SETTLE);
        assert_eq!(
            lookup(&second, "1"),
            Some("c".repeat(128)),
            "may be a rename-on-save"
        );
        let third = LicenseTable::load(sources, Some(&second), t0 + SETTLE, SETTLE);
        assert_eq!(lookup(&third, "1"), None);
        assert!(third
            .problems()
            .next()
            .unwrap()
            .message
            .to_string()
            .contains("does not exist"));
    }

    #[test]
    fn a_file_deleted_from_a_folder_source_also_waits() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.slf"), slf_line("0000000000000001", 'a')).unwrap();
        let sources = [dir.path().to_path_buf()];
        let first = LicenseTable::load(&sources, None, now(), SETTLE);
        fs::remove_file(dir.path().join("a.slf")).unwrap();
        let t0 = later();
        let second = LicenseTable::load(&sources, Some(&first), t0, SETTLE);
        assert_eq!(lookup(&second, "1"), Some("a".repeat(128)));
        let third = LicenseTable::load(&sources, Some(&second), t0 + SETTLE, SETTLE);
        assert_eq!(lookup(&third, "1"), None);
        let fourth = LicenseTable::load(&sources, Some(&third), t0 + SETTLE * 2, SETTLE);
        assert!(fourth.files.is_empty(), "a file gone for good is forgotten");
    }
}
