//! Whether some process holds a file open for writing right now, asked of the kernel.
//!
//! On Linux a read lease (`fcntl(F_SETLEASE, F_RDLCK)`) is refused with `EAGAIN` exactly
//! when the file is open for writing anywhere on this machine; we take it and give it back
//! at once. The kernel allows it for the file's owner or a process with `CAP_LEASE` (root,
//! or the systemd unit's `AmbientCapabilities=CAP_LEASE`); otherwise, and on file systems
//! without leases (NFS, SMB), and on other systems, the answer is "cannot tell", and the
//! scan falls back to what the watcher saw and to a longer quiet time.

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

#[cfg(not(target_os = "linux"))]
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
