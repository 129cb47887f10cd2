//! Whether some process holds a file open for writing right now, asked of the kernel.
//!
//! On Linux a read lease (`fcntl(F_SETLEASE, F_RDLCK)`) is refused with `EAGAIN` exactly
//! when the file is open for writing anywhere on this machine; we take it and give it back
//! at once. The kernel allows it for the file's owner or a process with `CAP_LEASE` (root,
//! or the systemd unit's `AmbientCapabilities=CAP_LEASE`); otherwise, and on file systems
//! without leases (NFS, SMB), the answer is "cannot tell", and the scan falls back to what
//! the watcher saw and to a longer quiet time.
//!
//! On Windows every open names what it lets others do at the same time (its share mode).
//! We open the file for reading and let others read (and delete or rename) but not write:
//! Windows refuses that open with a sharing violation exactly while another handle has the
//! file open for writing (Explorer, `copy`, an editor), or holds it without letting others
//! read; both mean "not finished". We close it at once. Any other failure is "cannot tell".
//! On other systems the answer is always "cannot tell".

use std::path::Path;

/// What the kernel says about writers of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    /// Someone has it open for writing.
    Open,
    /// Nobody has it open for writing.
    None,
    /// The kernel would not say (no permission, no lease support, another system).
    Unknown,
}

#[cfg(target_os = "linux")]
pub fn probe(path: &Path) -> Writers {
    use std::os::fd::AsRawFd;
    use std::sync::Once;

    // A lease holder is sent SIGIO when another process opens the file for writing during
    // the microseconds we hold it; SIGIO's default action ends the process. Nothing else
    // here uses SIGIO.
    static IGNORE_SIGIO: Once = Once::new();
    IGNORE_SIGIO.call_once(|| {
        // SAFETY: setting a signal's disposition to "ignore" has no preconditions.
        unsafe {
            libc::signal(libc::SIGIO, libc::SIG_IGN);
        }
    });
    let Ok(file) = std::fs::File::open(path) else {
        return Writers::Unknown;
    };
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is a valid descriptor owned by `file` for the duration of these calls.
    let taken = unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) };
    if taken == 0 {
        // SAFETY: as above; releasing our own lease.
        unsafe {
            libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK);
        }
        return Writers::None;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EAGAIN) => Writers::Open,
        _ => Writers::Unknown,
    }
}

#[cfg(windows)]
pub fn probe(path: &Path) -> Writers {
    use std::os::windows::fs::OpenOptionsExt;
    // winnt.h and winerror.h.
    const FILE_SHARE_READ: u32 = 0x1;
    const FILE_SHARE_DELETE: u32 = 0x4;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    // FILE_SHARE_DELETE: a rename or delete of the folder during the microseconds we hold
    // the file is not refused because of us; FILE_SHARE_WRITE is what we leave out.
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_DELETE)
        .open(path);
    match opened {
        Ok(_) => Writers::None,
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => Writers::Open,
        Err(_) => Writers::Unknown,
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
pub fn probe(_path: &Path) -> Writers {
    Writers::Unknown
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_open_for_writing_is_seen_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upd_app.bin");
        let mut writer = std::fs::File::create(&path).unwrap();
        writer.write_all(b"half").unwrap();
        // We own the file, so the kernel answers even without CAP_LEASE.
        assert_eq!(probe(&path), Writers::Open);
        drop(writer);
        assert_eq!(probe(&path), Writers::None);
        assert_eq!(probe(&dir.path().join("missing")), Writers::Unknown);
    }
}
