//! The release to publish, read from a folder or a `.zip`: its two firmware files (regular,
//! non-empty, not the same bytes, not still growing), an optional `meta.yaml` to start from,
//! and the version its name tells (`20250301`, `20250301.zip`, a zip whose one top folder
//! is `20250301`). Every refusal is one plain sentence.
//!
//! A source is hostile until checked, whoever handed it over: what is published is sent to
//! every register as firmware. So only regular files are read: a symbolic link (to
//! `/etc/shadow`, say), a FIFO or a device is refused by name, in a folder or as an entry of
//! an archive (its Unix mode bits), and a file is opened without following a link
//! (`platform::regular_file`). A hard link is a regular file and is read. Every file is read
//! through a bound of its limit plus one byte, so a zip entry whose header claims 1,000
//! bytes and that inflates to a gigabyte stops at the limit: headers are never believed.
//! An archive's names must stay inside it (no absolute name, no `..`) and name each file
//! once, also when they differ only in letter case or `\` for `/`; it may list at most
//! `ENTRIES_MAX` entries, and listing them may read at most `LISTING_MAX` bytes.

use std::cell::Cell;
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use zip::result::ZipError;

use crate::catalog::release_meta::FIRMWARE_FILES;
use crate::model::lang::InLanguage;
use crate::model::text_file::{utf8_text, NotUtf8};
use crate::model::version::Version;
use crate::platform::regular_file::{kind_of, open_regular, read_regular, NotOpened, NotRead};

/// The largest firmware file `publish` takes: the server's own limit.
pub const FILE_MAX: u64 = crate::catalog::release_meta::FIRMWARE_FILE_MAX;
/// The largest `meta.yaml` it takes: the server's own limit.
pub const META_MAX: u64 = crate::catalog::release_meta::META_FILE_MAX;
/// A zip larger than this is refused (two firmware files are well under 10 MB).
pub const ZIP_MAX: u64 = 256 * 1024 * 1024;
/// The most entries an archive may list: a release's archive holds a handful.
pub const ENTRIES_MAX: usize = 1000;
/// The most bytes read to list an archive (its end record and table of contents): zip's
/// reader keeps every entry it lists in memory, several times the table's size, so a
/// table of millions of tiny entries would cost gigabytes before any count could be asked.
pub const LISTING_MAX: u64 = 1024 * 1024;

/// Why a source is refused, one plain sentence each (what `publish` says). A cause (an I/O
/// or zip error) is part of the sentence, not `source()`, so a report that prints the
/// chain does not say it twice.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {shown}: {error}")]
    Unreadable {
        shown: String,
        error: std::io::Error,
    },
    #[error(
        "{} is a symbolic link; publish reads only real folders and files: give the folder \
         or .zip it points to",
        .0.display()
    )]
    SymbolicLink(PathBuf),
    #[error(
        "{} is neither a folder nor a .zip; give the folder that holds upd_app.bin and \
         upd_app_for_old_frs.bin, or a .zip of it",
        .0.display()
    )]
    NeitherFolderNorZip(PathBuf),
    #[error(
        "{} and {} in {} are the same bytes: one of them is surely the wrong file",
        FIRMWARE_FILES[0],
        FIRMWARE_FILES[1],
        .0.display()
    )]
    SameBytes(PathBuf),
    #[error(
        "{} is still being written (it changed from {before} to {after} bytes while it was \
         checked); wait until the copy has finished",
        path.display()
    )]
    StillWritten {
        path: PathBuf,
        before: u64,
        after: u64,
    },
    /// A link, FIFO, device...: `kind` says which, in words.
    #[error(
        "{shown} is {kind}, not a regular file; publish reads only regular files: put the \
         file itself there"
    )]
    NotRegular { shown: String, kind: &'static str },
    #[error(
        "{shown} is larger than {} MiB; {}: is it the right file?",
        limit / 1_048_576,
        usual_size(*limit)
    )]
    TooLarge { shown: String, limit: u64 },
    /// One of `FIRMWARE_FILES` is not in the folder or archive `shown`.
    #[error("{name} is missing in {shown}")]
    FileMissing { name: &'static str, shown: String },
    #[error("{shown} is empty")]
    Empty { shown: String },
    #[error("{} disappeared while it was read", .0.display())]
    Disappeared(PathBuf),
    #[error("{} changed while it was read", .0.display())]
    ChangedWhileRead(PathBuf),
    /// `meta.yaml` is not UTF-8 text (`why` says so in words).
    #[error("{shown}: {why}")]
    NotText { shown: String, why: NotUtf8 },
    #[error(
        "{shown} is {} MB; a release's two files are far smaller: is it the right archive?",
        bytes / 1_048_576
    )]
    ZipTooLarge { shown: String, bytes: u64 },
    #[error(
        "{shown}: listing its entries takes more than {} MiB (or it is no zip at all); a \
         release archive lists a handful of files: is it the right archive?",
        LISTING_MAX / 1_048_576
    )]
    ListingTooLarge { shown: String },
    #[error("{shown} is not a readable .zip: {error}")]
    NotZip { shown: String, error: ZipError },
    #[error(
        "{shown} lists {count} entries; a release archive holds a handful (at most \
         {ENTRIES_MAX}): is it the right archive?"
    )]
    TooManyEntries { shown: String, count: usize },
    #[error("{shown}: entry {index} cannot be read: {error}")]
    EntryUnreadable {
        shown: String,
        index: usize,
        error: ZipError,
    },
    /// An entry's name is absolute, reaches outside, or holds a NUL (`why`, in words).
    #[error("{shown}: the entry {name:?} {why}; the archive is refused as a whole")]
    BadEntryName {
        shown: String,
        name: String,
        why: &'static str,
    },
    #[error(
        "{shown}: the entry {name:?} is {kind}, not a regular file; publish reads only \
         regular files: zip the files themselves"
    )]
    EntryNotRegular {
        shown: String,
        name: String,
        kind: &'static str,
    },
    #[error(
        "{shown} holds {name:?} twice (names that differ at most in letter case or slashes \
         are the same file once unpacked); keep one"
    )]
    NamedTwice { shown: String, name: String },
    #[error(
        "{shown}: {path:?} is nested too deep; put the files at the top of the archive or in \
         one folder"
    )]
    NestedTooDeep { shown: String, path: String },
    /// Two entries in different places are the same release file.
    #[error("{shown} holds {file} twice ({first:?} and {second:?}); keep one")]
    FileTwice {
        shown: String,
        file: String,
        first: String,
        second: String,
    },
    #[error("{shown}: {name:?} cannot be unpacked: {error}")]
    EntryNotUnpacked {
        shown: String,
        name: String,
        error: ZipError,
    },
    #[error("{shown}: {name:?} cannot be unpacked: {error}")]
    EntryNotInflated {
        shown: String,
        name: String,
        error: std::io::Error,
    },
    #[error(
        "{shown}: {name:?} unpacks to more than {} MiB (its header claims {claimed} bytes); \
         {}: is it the right archive?",
        limit / 1_048_576,
        usual_size(*limit)
    )]
    UnpacksTooLarge {
        shown: String,
        name: String,
        limit: u64,
        claimed: u64,
    },
    /// A second entry of one name, which zip's reader hides (see `hidden_entry`).
    #[error(
        "{shown} holds {name:?} twice (a second entry of that name, which zip tools would \
         unpack over the first); keep one"
    )]
    HiddenTwice { shown: String, name: String },
}

/// What a source holds.
#[derive(Debug)]
pub struct Source {
    /// In the order of `FIRMWARE_FILES`.
    pub files: [Vec<u8>; 2],
    /// `meta.yaml` of the source, as text.
    pub meta: Option<String>,
    /// The version the source's name tells, if it is a date.
    pub named_version: Option<Version>,
}

/// What an archive holds, checked (see `zip_contents`).
#[derive(Debug)]
pub struct ZipContents {
    /// In the order of `FIRMWARE_FILES`; each non-empty and at most `FILE_MAX` bytes.
    pub files: [Vec<u8>; 2],
    /// `meta.yaml`, as text, at most `META_MAX` bytes.
    pub meta: Option<String>,
    /// The one folder the archive's files sit in, if there is exactly one.
    pub folder: Option<String>,
}

/// Reads `path`, refusing a source still being written: sizes and times must not change
/// over `stable_for`.
pub fn read(path: &Path, stable_for: Duration) -> Result<Source, SourceError> {
    let meta = fs::symlink_metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => SourceError::Missing(path.to_path_buf()),
        _ => unreadable(path, error),
    })?;
    if meta.file_type().is_symlink() {
        return Err(SourceError::SymbolicLink(path.to_path_buf()));
    }
    let source = if meta.is_dir() {
        read_folder(path, stable_for)?
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        read_zip(path, stable_for)?
    } else {
        return Err(SourceError::NeitherFolderNorZip(path.to_path_buf()));
    };
    let [new, old] = &source.files;
    if new == old {
        return Err(SourceError::SameBytes(path.to_path_buf()));
    }
    Ok(source)
}

/// A release uploaded to the server (`POST /releases`), kept in anonymous temp files
/// that no other process can reach by name: a `.zip`, or the two firmware files. `shown`
/// names it in refusals (the uploaded file's name when it is a plain one).
#[derive(Debug)]
pub enum Upload {
    Zip {
        file: fs::File,
        shown: String,
    },
    /// In the order of `FIRMWARE_FILES`.
    Files {
        files: [fs::File; 2],
    },
}

/// How the upload's two files are named in refusals.
pub const UPLOAD_SHOWN: &str = "the upload";

/// Reads an upload with the very checks `read` makes of a folder or a `.zip` (the bounds,
/// the archive's names and entry kinds, non-empty, not the same bytes), minus the wait for
/// a copy to finish: the server wrote the files itself and closed them.
pub fn read_upload(upload: Upload) -> Result<Source, SourceError> {
    let (source, shown) = match upload {
        Upload::Zip { file, shown } => (read_uploaded_zip(&file, &shown)?, shown),
        Upload::Files { files } => {
            let mut read: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
            for ((slot, file), name) in read.iter_mut().zip(files).zip(FIRMWARE_FILES) {
                *slot = read_uploaded_file(file, name)?;
            }
            let source = Source {
                files: read,
                meta: None,
                named_version: None,
            };
            (source, UPLOAD_SHOWN.to_string())
        }
    };
    let [new, old] = &source.files;
    if new == old {
        return Err(SourceError::SameBytes(PathBuf::from(shown)));
    }
    Ok(source)
}

/// One uploaded firmware file, through its bound; `name` is the part it came in.
fn read_uploaded_file(mut file: fs::File, name: &'static str) -> Result<Vec<u8>, SourceError> {
    let shown = format!("{name} in {UPLOAD_SHOWN}");
    file.seek(SeekFrom::Start(0))
        .map_err(|error| SourceError::Unreadable {
            shown: shown.clone(),
            error,
        })?;
    let bytes = read_bounded(file, 0, FILE_MAX).map_err(|e| match e {
        ReadError::TooLarge => SourceError::TooLarge {
            shown: shown.clone(),
            limit: FILE_MAX,
        },
        ReadError::Io(error) => SourceError::Unreadable {
            shown: shown.clone(),
            error,
        },
    })?;
    if bytes.is_empty() {
        return Err(SourceError::Empty { shown });
    }
    Ok(bytes)
}

/// An uploaded archive: its size bound, then `zip_contents` as for a `.zip` on disk; the
/// version its name or its one folder tells.
fn read_uploaded_zip(mut file: &fs::File, shown: &str) -> Result<Source, SourceError> {
    let unreadable = |error| SourceError::Unreadable {
        shown: shown.to_string(),
        error,
    };
    let bytes = file.metadata().map_err(unreadable)?.len();
    if bytes > ZIP_MAX {
        return Err(SourceError::ZipTooLarge {
            shown: shown.to_string(),
            bytes,
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let contents = zip_contents(BufReader::new(file), shown)?;
    let from_folder = contents
        .folder
        .as_deref()
        .and_then(Version::parse_folder_name);
    Ok(Source {
        files: contents.files,
        meta: contents.meta,
        named_version: version_of_name(Path::new(shown)).or(from_folder),
    })
}

/// The version a file or folder name tells: `20250301`, `20250301.zip`.
fn version_of_name(path: &Path) -> Option<Version> {
    let stem = path.file_stem()?.to_str()?;
    Version::parse_folder_name(stem)
}

type Stamp = (u64, Option<SystemTime>);

/// Size and modification time, to see whether something still grows.
fn stamp(path: &Path) -> Result<Stamp, SourceError> {
    let m = fs::symlink_metadata(path).map_err(|error| unreadable(path, error))?;
    Ok((m.len(), m.modified().ok()))
}

fn still_written(path: &Path, before: Stamp) -> Result<(), SourceError> {
    let after = stamp(path)?;
    if after != before {
        return Err(SourceError::StillWritten {
            path: path.to_path_buf(),
            before: before.0,
            after: after.0,
        });
    }
    Ok(())
}

fn unreadable(path: &Path, error: std::io::Error) -> SourceError {
    SourceError::Unreadable {
        shown: path.display().to_string(),
        error,
    }
}

/// What a file under `limit` usually weighs, for a refusal.
fn usual_size(limit: u64) -> &'static str {
    if limit == META_MAX {
        "a meta.yaml is a few lines"
    } else {
        "firmware is about 0.5 MB"
    }
}

/// Why a bounded read stopped.
enum ReadError {
    /// More than the limit.
    TooLarge,
    Io(std::io::Error),
}

/// Reads `reader` to its end, at most `limit` bytes: one byte more is refused, whatever
/// size anything claimed (`claimed` only sizes the first allocation, never above `limit`).
fn read_bounded(reader: impl Read, claimed: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    let capacity = usize::try_from(claimed.min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Reads the regular file `path`, at most `limit` bytes; `None` when there is none.
fn read_file(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, SourceError> {
    let shown = path.display().to_string();
    match read_regular(path, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(NotRead::NotOpened(NotOpened::Missing)) => Ok(None),
        Err(NotRead::NotOpened(NotOpened::NotRegular(kind))) => {
            Err(SourceError::NotRegular { shown, kind })
        }
        Err(NotRead::Larger(limit)) => Err(SourceError::TooLarge { shown, limit }),
        Err(NotRead::NotOpened(NotOpened::Io(error)) | NotRead::Io(error)) => {
            Err(SourceError::Unreadable { shown, error })
        }
    }
}

fn read_folder(dir: &Path, stable_for: Duration) -> Result<Source, SourceError> {
    let mut stamps = Vec::new();
    for name in FIRMWARE_FILES {
        let file = dir.join(name);
        let shown = file.display().to_string();
        let m = match fs::symlink_metadata(&file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SourceError::FileMissing {
                    name,
                    shown: dir.display().to_string(),
                })
            }
            Err(error) => return Err(SourceError::Unreadable { shown, error }),
        };
        if let Some(kind) = kind_of(&m) {
            return Err(SourceError::NotRegular { shown, kind });
        }
        if m.len() == 0 {
            return Err(SourceError::Empty { shown });
        }
        if m.len() > FILE_MAX {
            return Err(SourceError::TooLarge {
                shown,
                limit: FILE_MAX,
            });
        }
        stamps.push((file.clone(), (m.len(), m.modified().ok())));
    }
    std::thread::sleep(stable_for);
    let mut files: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (slot, (file, before)) in files.iter_mut().zip(stamps) {
        still_written(&file, before)?;
        *slot = read_file(&file, FILE_MAX)?.ok_or(SourceError::Disappeared(file.clone()))?;
        still_written(&file, before)?;
        if slot.len() as u64 != before.0 {
            return Err(SourceError::ChangedWhileRead(file));
        }
    }
    let meta_path = dir.join("meta.yaml");
    let meta = match read_file(&meta_path, META_MAX)? {
        Some(bytes) => Some(
            utf8_text(bytes, "meta.yaml").map_err(|why| SourceError::NotText {
                shown: meta_path.display().to_string(),
                why,
            })?,
        ),
        None => None,
    };
    Ok(Source {
        files,
        meta,
        named_version: version_of_name(dir),
    })
}

fn read_zip(path: &Path, stable_for: Duration) -> Result<Source, SourceError> {
    let shown = path.display().to_string();
    let (file, opened) = open_regular(path).map_err(|e| match e {
        NotOpened::Missing => SourceError::Missing(path.to_path_buf()),
        NotOpened::NotRegular(kind) => SourceError::NotRegular {
            shown: shown.clone(),
            kind,
        },
        NotOpened::Io(error) => SourceError::Unreadable {
            shown: shown.clone(),
            error,
        },
    })?;
    let before = (opened.len(), opened.modified().ok());
    if before.0 > ZIP_MAX {
        return Err(SourceError::ZipTooLarge {
            shown,
            bytes: before.0,
        });
    }
    std::thread::sleep(stable_for);
    still_written(path, before)?;
    let contents = zip_contents(BufReader::new(&file), &shown)?;
    still_written(path, before)?;
    let from_folder = contents
        .folder
        .as_deref()
        .and_then(Version::parse_folder_name);
    Ok(Source {
        files: contents.files,
        meta: contents.meta,
        named_version: version_of_name(path).or(from_folder),
    })
}

/// Counts what zip's reader reads while it lists an archive, and refuses to read past
/// `LISTING_MAX` (see there).
struct Listing<'a, R> {
    inner: R,
    /// Bytes it may still read; `u64::MAX` once the listing is done.
    left: &'a Cell<u64>,
    /// Set when a read was refused.
    ran_out: &'a Cell<bool>,
}

impl<R: Read> Read for Listing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let left = self.left.get();
        if left == 0 {
            self.ran_out.set(true);
            return Err(std::io::Error::other("the archive's listing is too large"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..want])?;
        self.left.set(left.saturating_sub(read as u64));
        Ok(read)
    }
}

impl<R: Seek> Seek for Listing<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

/// What an entry of an archive is, from its name and its Unix mode bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Folder,
    /// Not a regular file nor a folder, in words.
    Other(&'static str),
}

fn entry_kind(name: &str, unix_mode: Option<u32>) -> EntryKind {
    // sys/stat.h: the type bits of a mode; 0 (permissions only) says nothing.
    const S_IFMT: u32 = 0o170_000;
    let by_name = if name.ends_with(['/', '\\']) {
        EntryKind::Folder
    } else {
        EntryKind::File
    };
    match unix_mode.map_or(0, |m| m & S_IFMT) {
        0 | 0o100_000 => by_name,
        0o040_000 => EntryKind::Folder,
        0o120_000 => EntryKind::Other("a symbolic link"),
        0o010_000 => EntryKind::Other("a FIFO (named pipe)"),
        0o140_000 => EntryKind::Other("a socket"),
        0o020_000 | 0o060_000 => EntryKind::Other("a device"),
        _ => EntryKind::Other("not a regular file"),
    }
}

/// The parts of an entry's name (`\` read as `/`, as Windows tools write it; `.` and empty
/// parts left out), or why the name is refused.
fn name_parts(name: &str) -> Result<Vec<&str>, &'static str> {
    if name.contains('\0') {
        return Err("holds a NUL byte");
    }
    if name.starts_with(['/', '\\']) {
        return Err("is an absolute name");
    }
    let parts: Vec<&str> = name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let drive =
        |p: &str| p.len() >= 2 && p.as_bytes()[0].is_ascii_alphabetic() && p.as_bytes()[1] == b':';
    if parts.first().is_some_and(|p| drive(p)) {
        return Err("is an absolute name");
    }
    if parts.contains(&"..") {
        return Err("reaches outside the archive (..)");
    }
    Ok(parts)
}

/// An entry to unpack: its index, name and the slot it fills (0 and 1: `FIRMWARE_FILES`,
/// 2: `meta.yaml`).
struct Wanted {
    index: usize,
    name: String,
    slot: usize,
    claimed: u64,
}

/// Reads and checks the archive `reader` (`shown` names it in refusals): every entry listed
/// is checked (a name that stays inside, once; a regular file or a folder), then the two
/// firmware files and `meta.yaml`, at the top or in one folder, are unpacked, each through
/// its bound. What zip bytes can become, for `publish` and for the fuzzer.
pub fn zip_contents<R: Read + Seek>(reader: R, shown: &str) -> Result<ZipContents, SourceError> {
    let left = Cell::new(LISTING_MAX);
    let ran_out = Cell::new(false);
    let listing = Listing {
        inner: reader,
        left: &left,
        ran_out: &ran_out,
    };
    let mut archive = match zip::ZipArchive::new(listing) {
        Ok(archive) => archive,
        Err(_) if ran_out.get() => {
            return Err(SourceError::ListingTooLarge {
                shown: shown.to_string(),
            })
        }
        Err(error) => {
            return Err(SourceError::NotZip {
                shown: shown.to_string(),
                error,
            })
        }
    };
    left.set(u64::MAX);
    if archive.len() > ENTRIES_MAX {
        return Err(SourceError::TooManyEntries {
            shown: shown.to_string(),
            count: archive.len(),
        });
    }
    let directory_start = archive.central_directory_start();
    let Survey {
        listed,
        top_folders,
        wanted,
    } = survey(&mut archive, shown)?;
    let found = unpack(&mut archive, &wanted, shown)?;
    let mut reader = archive.into_inner().inner;
    if let Some(name) = hidden_entry(&mut reader, directory_start, &listed) {
        return Err(SourceError::HiddenTwice {
            shown: shown.to_string(),
            name,
        });
    }
    assemble(found, top_folders, shown)
}

/// What the table of contents says: every entry checked (name, kind, repeats), and the
/// three files publish reads, not yet unpacked.
struct Survey {
    /// Where each listed entry's header starts (to find entries zip's reader hid).
    listed: HashSet<u64>,
    /// The folders entries sit in, for the release's name.
    top_folders: BTreeSet<String>,
    wanted: Vec<Wanted>,
}

fn survey<A: Read + Seek>(
    archive: &mut zip::ZipArchive<A>,
    shown: &str,
) -> Result<Survey, SourceError> {
    let shown_ = || shown.to_string();
    let mut listed = HashSet::new();
    let mut seen = HashSet::new();
    let mut top_folders = BTreeSet::new();
    let mut wanted: Vec<Wanted> = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|error| SourceError::EntryUnreadable {
                shown: shown_(),
                index,
                error,
            })?;
        let name = entry.name().to_string();
        listed.insert(entry.central_header_start());
        let parts = name_parts(&name).map_err(|why| SourceError::BadEntryName {
            shown: shown_(),
            name: name.clone(),
            why,
        })?;
        let kind = entry_kind(&name, entry.unix_mode());
        if let EntryKind::Other(kind) = kind {
            return Err(SourceError::EntryNotRegular {
                shown: shown_(),
                name,
                kind,
            });
        }
        if !seen.insert(parts.join("/").to_lowercase()) {
            return Err(SourceError::NamedTwice {
                shown: shown_(),
                name,
            });
        }
        if kind == EntryKind::Folder {
            continue;
        }
        if parts.len() > 1 {
            top_folders.insert(parts[0].to_string());
        }
        let entry = Entry {
            index,
            name: name.clone(),
            claimed: entry.size(),
        };
        if let Some(want) = wanted_file(shown, entry, &parts, &wanted)? {
            wanted.push(want);
        }
    }
    Ok(Survey {
        listed,
        top_folders,
        wanted,
    })
}

/// A file entry of an archive, as listed.
struct Entry {
    index: usize,
    name: String,
    claimed: u64,
}

/// The entry (named by `parts`) if it is one of the three files publish reads, checked: at
/// most one folder deep, not already found (`wanted`), and not claiming more than its bound.
fn wanted_file(
    shown: &str,
    entry: Entry,
    parts: &[&str],
    wanted: &[Wanted],
) -> Result<Option<Wanted>, SourceError> {
    let Some(file_name) = parts.last() else {
        return Ok(None);
    };
    let slot = match FIRMWARE_FILES.iter().position(|f| f == file_name) {
        Some(slot) => slot,
        None if *file_name == "meta.yaml" => 2,
        None => return Ok(None),
    };
    if parts.len() > 2 {
        return Err(SourceError::NestedTooDeep {
            shown: shown.to_string(),
            path: parts.join("/"),
        });
    }
    if let Some(first) = wanted.iter().find(|w| w.slot == slot) {
        return Err(SourceError::FileTwice {
            shown: shown.to_string(),
            file: file_name.to_string(),
            first: first.name.clone(),
            second: entry.name,
        });
    }
    let limit = if slot == 2 { META_MAX } else { FILE_MAX };
    if entry.claimed > limit {
        return Err(SourceError::TooLarge {
            shown: format!("{shown}: {file_name}"),
            limit,
        });
    }
    Ok(Some(Wanted {
        index: entry.index,
        name: entry.name,
        slot,
        claimed: entry.claimed,
    }))
}

/// Unpacks the wanted entries, each through its bound (never the header's size).
fn unpack<A: Read + Seek>(
    archive: &mut zip::ZipArchive<A>,
    wanted: &[Wanted],
    shown: &str,
) -> Result<[Option<Vec<u8>>; 3], SourceError> {
    let mut found: [Option<Vec<u8>>; 3] = [None, None, None];
    for w in wanted {
        let entry = archive
            .by_index(w.index)
            .map_err(|error| SourceError::EntryNotUnpacked {
                shown: shown.to_string(),
                name: w.name.clone(),
                error,
            })?;
        let limit = if w.slot == 2 { META_MAX } else { FILE_MAX };
        found[w.slot] = Some(read_bounded(entry, w.claimed, limit).map_err(|e| match e {
            ReadError::TooLarge => SourceError::UnpacksTooLarge {
                shown: shown.to_string(),
                name: w.name.clone(),
                limit,
                claimed: w.claimed,
            },
            ReadError::Io(error) => SourceError::EntryNotInflated {
                shown: shown.to_string(),
                name: w.name.clone(),
                error,
            },
        })?);
    }
    Ok(found)
}

/// The two firmware files (both present, non-empty), `meta.yaml` as text, and the one
/// folder the entries sit in, if there is one.
fn assemble(
    found: [Option<Vec<u8>>; 3],
    top_folders: BTreeSet<String>,
    shown: &str,
) -> Result<ZipContents, SourceError> {
    let [new, old, meta] = found;
    let mut files: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for ((name, slot), data) in FIRMWARE_FILES.iter().zip(&mut files).zip([new, old]) {
        match data {
            Some(data) if data.is_empty() => {
                return Err(SourceError::Empty {
                    shown: format!("{name} in {shown}"),
                })
            }
            Some(data) => *slot = data,
            None => {
                return Err(SourceError::FileMissing {
                    name,
                    shown: shown.to_string(),
                })
            }
        }
    }
    let meta = match meta {
        Some(bytes) => Some(
            utf8_text(bytes, "meta.yaml").map_err(|why| SourceError::NotText {
                shown: shown.to_string(),
                why,
            })?,
        ),
        None => None,
    };
    let folder = match top_folders.into_iter().collect::<Vec<_>>().as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };
    Ok(ZipContents {
        files,
        meta,
        folder,
    })
}

/// zip's reader keeps one entry per name: of two entries named alike it shows only one,
/// and nothing tells that the other existed (zip-rs/zip2 issue 841). So its table of
/// contents is walked once more here, header by header from where the reader began, and
/// every header must be one the reader listed (`listed`: their offsets). Returns the name
/// of the first that is not. The walk stops at the first thing that is not a header, so it
/// visits at most one more header than were listed.
fn hidden_entry<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    listed: &HashSet<u64>,
) -> Option<String> {
    /// The fixed part of a central directory header (APPNOTE 4.3.12).
    const HEADER: usize = 46;
    const SIGNATURE: [u8; 4] = *b"PK\x01\x02";
    let mut at = start;
    for _ in 0..=listed.len() {
        let mut header = [0u8; HEADER];
        reader.seek(SeekFrom::Start(at)).ok()?;
        reader.read_exact(&mut header).ok()?;
        if header[..4] != SIGNATURE {
            return None;
        }
        let length =
            |offset: usize| u64::from(u16::from_le_bytes([header[offset], header[offset + 1]]));
        if !listed.contains(&at) {
            let mut name = vec![0u8; usize::from(u16::from_le_bytes([header[28], header[29]]))];
            let _ = reader.read_exact(&mut name);
            return Some(String::from_utf8_lossy(&name).into_owned());
        }
        at = at
            .saturating_add(HEADER as u64)
            .saturating_add(length(28))
            .saturating_add(length(30))
            .saturating_add(length(32));
    }
    None
}

/// The refusals in Russian (`publish` prints them in the operator's language). Causes from
/// the system or the zip reader (`error`) and the kinds of entry stay in English.
impl InLanguage for SourceError {
    fn in_russian(&self) -> String {
        use SourceError as E;
        let size = |limit: u64| {
            if limit == META_MAX {
                "meta.yaml занимает несколько строк"
            } else {
                "прошивка весит около 0,5 МБ"
            }
        };
        match self {
            E::Missing(path) => format!("{} не существует", path.display()),
            E::Unreadable { shown, error } => format!("не удалось прочитать {shown}: {error}"),
            E::SymbolicLink(path) => format!(
                "{} — символьная ссылка; publish читает только настоящие папки и файлы: \
                 укажите папку или .zip, на которые она указывает",
                path.display()
            ),
            E::NeitherFolderNorZip(path) => format!(
                "{} — не папка и не .zip; укажите папку с upd_app.bin и \
                 upd_app_for_old_frs.bin или её .zip",
                path.display()
            ),
            E::SameBytes(path) => format!(
                "{} и {} в {} совпадают байт в байт: один из них наверняка не тот файл",
                FIRMWARE_FILES[0],
                FIRMWARE_FILES[1],
                path.display()
            ),
            E::StillWritten {
                path,
                before,
                after,
            } => format!(
                "{} ещё записывается (размер изменился с {before} до {after} байт во время \
                 проверки); дождитесь окончания копирования",
                path.display()
            ),
            E::NotRegular { shown, kind } => format!(
                "{shown} — {kind}, а не обычный файл; publish читает только обычные файлы: \
                 положите туда сам файл"
            ),
            E::TooLarge { shown, limit } => format!(
                "{shown} больше {} МиБ; {}: тот ли это файл?",
                limit / 1_048_576,
                size(*limit)
            ),
            E::FileMissing { name, shown } => format!("в {shown} нет {name}"),
            E::Empty { shown } => format!("{shown} пуст"),
            E::Disappeared(path) => format!("{} исчез во время чтения", path.display()),
            E::ChangedWhileRead(path) => format!("{} изменился во время чтения", path.display()),
            E::NotText { shown, why } => format!(
                "{shown}: {} — не текст в UTF-8 (строка {}; кириллица сохранена в \
                 Windows-1251?): сохраните его в UTF-8",
                why.what, why.line
            ),
            E::ZipTooLarge { shown, bytes } => format!(
                "{shown} весит {} МБ; два файла релиза намного меньше: тот ли это архив?",
                bytes / 1_048_576
            ),
            E::ListingTooLarge { shown } => format!(
                "{shown}: список записей занимает больше {} МиБ (или это вовсе не zip); в \
                 архиве релиза несколько файлов: тот ли это архив?",
                LISTING_MAX / 1_048_576
            ),
            zip => zip_in_russian(zip),
        }
    }
}

/// The refusals of an archive's contents in Russian (`SourceError::in_russian`).
fn zip_in_russian(error: &SourceError) -> String {
    use SourceError as E;
    let size = |limit: u64| {
        if limit == META_MAX {
            "meta.yaml занимает несколько строк"
        } else {
            "прошивка весит около 0,5 МБ"
        }
    };
    match error {
        E::NotZip { shown, error } => format!("{shown} — не читаемый .zip: {error}"),
        E::TooManyEntries { shown, count } => format!(
            "в {shown} записей: {count}; в архиве релиза их несколько (не больше \
             {ENTRIES_MAX}): тот ли это архив?"
        ),
        E::EntryUnreadable {
            shown,
            index,
            error,
        } => format!("{shown}: запись {index} не читается: {error}"),
        E::BadEntryName { shown, name, why } => {
            format!("{shown}: запись {name:?} {why}; архив отклонён целиком")
        }
        E::EntryNotRegular { shown, name, kind } => format!(
            "{shown}: запись {name:?} — {kind}, а не обычный файл; publish читает только \
             обычные файлы: упакуйте в zip сами файлы"
        ),
        E::NamedTwice { shown, name } => format!(
            "в {shown} дважды есть {name:?} (имена, различающиеся только регистром букв \
             или косыми чертами, при распаковке дают один файл); оставьте одну"
        ),
        E::NestedTooDeep { shown, path } => format!(
            "{shown}: {path:?} вложен слишком глубоко; положите файлы в корень архива или \
             в одну папку"
        ),
        E::FileTwice {
            shown,
            file,
            first,
            second,
        } => format!("в {shown} дважды есть {file} ({first:?} и {second:?}); оставьте один"),
        E::EntryNotUnpacked { shown, name, error } => {
            format!("{shown}: {name:?} не распаковывается: {error}")
        }
        E::EntryNotInflated { shown, name, error } => {
            format!("{shown}: {name:?} не распаковывается: {error}")
        }
        E::UnpacksTooLarge {
            shown,
            name,
            limit,
            claimed,
        } => format!(
            "{shown}: {name:?} распаковывается больше чем в {} МиБ (заголовок заявляет \
             {claimed} байт); {}: тот ли это архив?",
            limit / 1_048_576,
            size(*limit)
        ),
        E::HiddenTwice { shown, name } => format!(
            "в {shown} дважды есть {name:?} (вторая запись с тем же именем, которую \
             zip-программы распакуют поверх первой); оставьте одну"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// The sentences a refusal says are what `publish` said before they were typed (the
    /// ones no integration test reaches).
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let p = PathBuf::from("/tmp/src");
        let cases = [
            (
                SourceError::NeitherFolderNorZip(p.clone()),
                "/tmp/src is neither a folder nor a .zip; give the folder that holds upd_app.bin \
                 and upd_app_for_old_frs.bin, or a .zip of it",
            ),
            (
                SourceError::SymbolicLink(p.clone()),
                "/tmp/src is a symbolic link; publish reads only real folders and files: give \
                 the folder or .zip it points to",
            ),
            (
                SourceError::SameBytes(p.clone()),
                "upd_app.bin and upd_app_for_old_frs.bin in /tmp/src are the same bytes: one of \
                 them is surely the wrong file",
            ),
            (
                SourceError::StillWritten {
                    path: p.clone(),
                    before: 1,
                    after: 2,
                },
                "/tmp/src is still being written (it changed from 1 to 2 bytes while it was \
                 checked); wait until the copy has finished",
            ),
            (
                SourceError::FileMissing {
                    name: "upd_app.bin",
                    shown: "/tmp/src".into(),
                },
                "upd_app.bin is missing in /tmp/src",
            ),
            (
                SourceError::TooLarge {
                    shown: "r.zip: meta.yaml".into(),
                    limit: META_MAX,
                },
                "r.zip: meta.yaml is larger than 1 MiB; a meta.yaml is a few lines: is it the \
                 right file?",
            ),
            (
                SourceError::ZipTooLarge {
                    shown: "r.zip".into(),
                    bytes: 300 * 1_048_576,
                },
                "r.zip is 300 MB; a release's two files are far smaller: is it the right archive?",
            ),
            (
                SourceError::ListingTooLarge {
                    shown: "r.zip".into(),
                },
                "r.zip: listing its entries takes more than 1 MiB (or it is no zip at all); a \
                 release archive lists a handful of files: is it the right archive?",
            ),
            (
                SourceError::TooManyEntries {
                    shown: "r.zip".into(),
                    count: 1001,
                },
                "r.zip lists 1001 entries; a release archive holds a handful (at most 1000): is \
                 it the right archive?",
            ),
            (
                SourceError::NestedTooDeep {
                    shown: "r.zip".into(),
                    path: "a/b/upd_app.bin".into(),
                },
                "r.zip: \"a/b/upd_app.bin\" is nested too deep; put the files at the top of the \
                 archive or in one folder",
            ),
            (
                SourceError::FileTwice {
                    shown: "r.zip".into(),
                    file: "upd_app.bin".into(),
                    first: "a/upd_app.bin".into(),
                    second: "upd_app.bin".into(),
                },
                "r.zip holds upd_app.bin twice (\"a/upd_app.bin\" and \"upd_app.bin\"); keep one",
            ),
            (
                SourceError::HiddenTwice {
                    shown: "r.zip".into(),
                    name: "upd_app.bin".into(),
                },
                "r.zip holds \"upd_app.bin\" twice (a second entry of that name, which zip tools \
                 would unpack over the first); keep one",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn contents(zip: Vec<u8>) -> Result<ZipContents, String> {
        // The tests compare the sentences a refusal says.
        zip_contents(Cursor::new(zip), "r.zip").map_err(|e| e.to_string())
    }

    #[test]
    fn names_that_reach_out_are_refused_others_are_split() {
        assert_eq!(name_parts("a/./b//c").unwrap(), ["a", "b", "c"]);
        assert_eq!(name_parts("a\\b").unwrap(), ["a", "b"]);
        assert_eq!(name_parts("a/b/").unwrap(), ["a", "b"]);
        for name in ["/etc/passwd", "\\x", "C:/x", "c:x", "C:\\Windows\\x"] {
            assert_eq!(name_parts(name), Err("is an absolute name"), "{name}");
        }
        for name in ["../x", "a/../../x", "a/..", "a\\..\\x"] {
            assert_eq!(
                name_parts(name),
                Err("reaches outside the archive (..)"),
                "{name}"
            );
        }
        assert_eq!(name_parts("a\0b"), Err("holds a NUL byte"));
        // A name merely containing dots or a colon further in is a name.
        assert_eq!(name_parts("a..b/c:d").unwrap(), ["a..b", "c:d"]);
    }

    #[test]
    fn entry_kinds_come_from_the_unix_mode_bits() {
        assert_eq!(entry_kind("a", None), EntryKind::File);
        assert_eq!(entry_kind("a/", None), EntryKind::Folder);
        assert_eq!(entry_kind("a", Some(0o644)), EntryKind::File);
        assert_eq!(entry_kind("a", Some(0o100_644)), EntryKind::File);
        assert_eq!(entry_kind("a", Some(0o040_755)), EntryKind::Folder);
        assert_eq!(
            entry_kind("a", Some(0o120_777)),
            EntryKind::Other("a symbolic link")
        );
        assert_eq!(
            entry_kind("a/", Some(0o120_777)),
            EntryKind::Other("a symbolic link")
        );
        assert_eq!(
            entry_kind("a", Some(0o010_644)),
            EntryKind::Other("a FIFO (named pipe)")
        );
        assert_eq!(
            entry_kind("a", Some(0o140_644)),
            EntryKind::Other("a socket")
        );
        assert_eq!(
            entry_kind("a", Some(0o020_644)),
            EntryKind::Other("a device")
        );
        assert_eq!(
            entry_kind("a", Some(0o060_644)),
            EntryKind::Other("a device")
        );
    }

    #[test]
    fn a_bounded_read_takes_the_limit_and_refuses_one_byte_more() {
        let exact = read_bounded(Cursor::new(vec![1u8; 1000]), 5, 1000)
            .ok()
            .unwrap();
        assert_eq!(exact.len(), 1000);
        assert!(matches!(
            read_bounded(Cursor::new(vec![1u8; 1001]), u64::MAX, 1000),
            Err(ReadError::TooLarge)
        ));
    }

    #[test]
    fn a_plain_archive_gives_its_files_meta_and_folder() {
        let zip = zip_of(&[
            ("20250301/", b""),
            ("20250301/upd_app.bin", b"new"),
            ("20250301/upd_app_for_old_frs.bin", b"old"),
            ("20250301/meta.yaml", b"\xEF\xBB\xBFcritical: true\n"),
            ("20250301/notes.txt", b"notes"),
        ]);
        let got = contents(zip).unwrap();
        assert_eq!(got.files, [b"new".to_vec(), b"old".to_vec()]);
        assert_eq!(got.meta.as_deref(), Some("critical: true\n"));
        assert_eq!(got.folder.as_deref(), Some("20250301"));
    }

    #[test]
    fn a_name_listed_twice_is_found_though_the_reader_hides_it() {
        // No writer makes two entries of one name: make one under another, then rename.
        let mut zip = zip_of(&[
            ("upd_app.bin", b"new"),
            ("upd_app_for_old_frs.bin", b"old"),
            ("upd_app.biX", b"evil"),
        ]);
        for at in 0..zip.len() - 11 {
            if &zip[at..at + 11] == b"upd_app.biX" {
                zip[at + 10] = b'n';
            }
        }
        let error = contents(zip).unwrap_err();
        assert!(
            error.contains("holds \"upd_app.bin\" twice (a second entry of that name"),
            "{error}"
        );
    }

    #[test]
    fn missing_empty_and_non_utf8_are_refused() {
        let error = contents(zip_of(&[("upd_app.bin", b"new")])).unwrap_err();
        assert_eq!(error, "upd_app_for_old_frs.bin is missing in r.zip");
        let error = contents(zip_of(&[
            ("upd_app.bin", b""),
            ("upd_app_for_old_frs.bin", b"old"),
        ]))
        .unwrap_err();
        assert_eq!(error, "upd_app.bin in r.zip is empty");
        let error = contents(zip_of(&[
            ("upd_app.bin", b"new"),
            ("upd_app_for_old_frs.bin", b"old"),
            ("meta.yaml", b"description: \xcf\xeb\xe0\xed\n"),
        ]))
        .unwrap_err();
        assert!(error.contains("meta.yaml is not UTF-8 text"), "{error}");
        let error = contents(b"not a zip at all".to_vec()).unwrap_err();
        assert!(error.starts_with("r.zip is not a readable .zip"), "{error}");
    }

    #[test]
    fn a_name_in_a_refusal_is_escaped() {
        let error = contents(zip_of(&[
            ("upd_app.bin", b"new"),
            ("upd_app_for_old_frs.bin", b"old"),
            ("../\x1b[31mred\nforged line", b"x"),
        ]))
        .unwrap_err();
        assert!(!error.contains('\n') && !error.contains('\x1b'), "{error}");
        assert!(error.contains("\\u{1b}[31mred\\nforged line"), "{error}");
    }

    #[test]
    fn a_listing_past_its_budget_stops_reading_there() {
        let mut entries: Vec<(String, Vec<u8>)> = vec![
            ("upd_app.bin".into(), b"new".to_vec()),
            ("upd_app_for_old_frs.bin".into(), b"old".to_vec()),
        ];
        // 700 names of 1,600 bytes: about 1.1 MB of table of contents, under 1,000 entries.
        for i in 0..700 {
            entries.push((format!("{i:04}{}", "x".repeat(1600)), Vec::new()));
        }
        let borrowed: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let error = contents(zip_of(&borrowed)).unwrap_err();
        assert!(
            error.contains("listing its entries takes more than 1 MiB"),
            "{error}"
        );
    }
}
