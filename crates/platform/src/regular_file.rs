//! Opening a file only when it is a regular file, for `publish`, which must never send a
//! device what a link points at (`/etc/shadow`) nor hang on a FIFO. The name is looked at
//! without following it, and the file is opened so that a name swapped for a link or a
//! FIFO in between is still refused: on Linux with `O_NOFOLLOW | O_NONBLOCK`, on Windows
//! with `FILE_FLAG_OPEN_REPARSE_POINT` (the link itself is opened, not its target); what
//! was opened is asked once more what it is. A hard link is a regular file and is opened.
//! The server's scan of `firmware_dir` reads through the same door (`read_regular`), with a
//! bound on the size.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

/// Why a name was not opened.
#[derive(Debug)]
pub enum NotOpened {
    /// Nothing by that name.
    Missing,
    /// Something that is not a regular file, in words: "a symbolic link", "a folder", ...
    NotRegular(&'static str),
    /// The system refused (permissions, I/O).
    Io(io::Error),
}

/// What `metadata` is, in words, when it is not a regular file.
pub fn kind_of(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    Some(if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a folder"
    } else {
        special_kind(&kind)
    })
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_kind: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// Opens `path` for reading if it is a regular file, never through a link; returns the
/// file and what the open file says of itself.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), NotOpened> {
    let named = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => NotOpened::Missing,
        _ => NotOpened::Io(e),
    })?;
    if let Some(kind) = kind_of(&named) {
        return Err(NotOpened::NotRegular(kind));
    }
    let file = no_follow_options().open(path).map_err(|e| {
        if refused_as_link(&e) {
            NotOpened::NotRegular("a symbolic link")
        } else if e.kind() == io::ErrorKind::NotFound {
            NotOpened::Missing
        } else {
            NotOpened::Io(e)
        }
    })?;
    let opened = file.metadata().map_err(NotOpened::Io)?;
    if let Some(kind) = kind_of(&opened) {
        return Err(NotOpened::NotRegular(kind));
    }
    Ok((file, opened))
}

/// Why a whole file was not read.
#[derive(Debug)]
pub enum NotRead {
    NotOpened(NotOpened),
    /// More than this many bytes (counted on what was read, whatever the size said before).
    Larger(u64),
    /// Reading failed after the open.
    Io(io::Error),
}

/// Reads the whole of `path` if it is a regular file of at most `limit` bytes, never
/// through a link: what the server's own scan reads from `firmware_dir` (a 10 GB file
/// copied in by mistake must not be read into memory).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, NotRead> {
    let (file, opened) = open_regular(path).map_err(NotRead::NotOpened)?;
    if opened.len() > limit {
        return Err(NotRead::Larger(limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    io::Read::read_to_end(
        &mut io::Read::take(file, limit.saturating_add(1)),
        &mut bytes,
    )
    .map_err(NotRead::Io)?;
    if bytes.len() as u64 > limit {
        return Err(NotRead::Larger(limit));
    }
    Ok(bytes)
}

/// Reads the whole of `path` if what it names, links followed, is a regular file of at
/// most `limit` bytes: for a configuration file, which an operator may keep as a link (a
/// Kubernetes ConfigMap, `/etc/alternatives`), but which must never hang on a FIFO nor be
/// read into memory without end. What was opened is asked once more what it is.
pub fn read_regular_followed(path: &Path, limit: u64) -> Result<Vec<u8>, NotRead> {
    let not_opened = |e: io::Error| {
        NotRead::NotOpened(if e.kind() == io::ErrorKind::NotFound {
            NotOpened::Missing
        } else {
            NotOpened::Io(e)
        })
    };
    let named = std::fs::metadata(path).map_err(not_opened)?;
    if let Some(kind) = kind_of(&named) {
        return Err(NotRead::NotOpened(NotOpened::NotRegular(kind)));
    }
    let file = follow_options().open(path).map_err(not_opened)?;
    let opened = file.metadata().map_err(NotRead::Io)?;
    if let Some(kind) = kind_of(&opened) {
        return Err(NotRead::NotOpened(NotOpened::NotRegular(kind)));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(
        &mut io::Read::take(file, limit.saturating_add(1)),
        &mut bytes,
    )
    .map_err(NotRead::Io)?;
    if bytes.len() as u64 > limit {
        return Err(NotRead::Larger(limit));
    }
    Ok(bytes)
}

/// Reading, links followed; on Unix without waiting for a writer (a FIFO swapped in).
#[cfg(unix)]
fn follow_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.read(true).custom_flags(libc::O_NONBLOCK);
    options
}

#[cfg(not(unix))]
fn follow_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    options
}

#[cfg(target_os = "linux")]
fn no_follow_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    // O_NONBLOCK: opening a FIFO put there since the look returns at once instead of
    // waiting for a writer; on a regular file it changes nothing.
    options
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    options
}

#[cfg(target_os = "linux")]
fn refused_as_link(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(windows)]
fn no_follow_options() -> OpenOptions {
    use std::os::windows::fs::OpenOptionsExt;
    /// winbase.h: open a reparse point (a symbolic link, a junction) itself.
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    let mut options = OpenOptions::new();
    options
        .read(true)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    options
}

#[cfg(windows)]
fn refused_as_link(_e: &io::Error) -> bool {
    false
}

/// Elsewhere (macOS, the BSDs) without libc's flags: the look before and the question to
/// the open file after still refuse a link or a FIFO, but a FIFO swapped in between the two
/// could make the open wait.
#[cfg(not(any(target_os = "linux", windows)))]
fn no_follow_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    options
}

#[cfg(not(any(target_os = "linux", windows)))]
fn refused_as_link(_e: &io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_and_a_hard_link_open_a_missing_name_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.bin");
        std::fs::write(&file, b"firmware").unwrap();
        std::fs::hard_link(&file, dir.path().join("b.bin")).unwrap();
        for name in ["a.bin", "b.bin"] {
            let (_, metadata) = open_regular(&dir.path().join(name)).unwrap();
            assert_eq!(metadata.len(), 8);
        }
        assert!(matches!(
            open_regular(&dir.path().join("none")),
            Err(NotOpened::Missing)
        ));
        assert!(matches!(
            open_regular(dir.path()),
            Err(NotOpened::NotRegular("a folder"))
        ));
    }

    #[test]
    fn a_whole_read_is_bounded_on_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.bin");
        std::fs::write(&file, vec![1u8; 100]).unwrap();
        assert_eq!(read_regular(&file, 100).unwrap().len(), 100);
        assert!(matches!(read_regular(&file, 99), Err(NotRead::Larger(99))));
        assert!(matches!(
            read_regular(dir.path(), 1000),
            Err(NotRead::NotOpened(NotOpened::NotRegular("a folder")))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn links_and_fifos_are_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.bin");
        std::fs::write(&target, b"secret").unwrap();
        let link = dir.path().join("link.bin");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            open_regular(&link),
            Err(NotOpened::NotRegular("a symbolic link"))
        ));
        let fifo = dir.path().join("fifo.bin");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            open_regular(&fifo),
            Err(NotOpened::NotRegular("a FIFO (named pipe)"))
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_open_itself_refuses_a_link_and_does_not_wait_on_a_fifo() {
        // What a swap between the look and the open would meet.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.bin");
        std::fs::write(&target, b"secret").unwrap();
        let link = dir.path().join("link.bin");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = no_follow_options().open(&link).unwrap_err();
        assert!(refused_as_link(&error), "{error}");
        let fifo = dir.path().join("fifo.bin");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let opened = no_follow_options().open(&fifo).unwrap();
        assert!(kind_of(&opened.metadata().unwrap()).is_some());
    }
}
