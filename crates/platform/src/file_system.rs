//! What kind of file system a path lives on, to know whether change notifications can be
//! trusted there: inotify sees nothing of what another machine writes to an NFS or SMB
//! share, so such paths are polled (`watch: auto`).

use std::path::Path;

/// The name of the network file system `path` is on, or `None` for a local one (or when
/// it cannot be told: the path is missing, or this system has no `statfs`).
#[cfg(target_os = "linux")]
pub fn network_kind(path: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;

    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c_path` is NUL-terminated and `stat` is a valid buffer for one `statfs`.
    let ok = unsafe { libc::statfs(c_path.as_ptr(), stat.as_mut_ptr()) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: statfs returned 0, so it filled the buffer.
    let stat = unsafe { stat.assume_init() };
    // The magic numbers of linux/magic.h (f_type's width differs between architectures).
    #[allow(clippy::unnecessary_cast)]
    let kind = stat.f_type as i64 & 0xffff_ffff;
    network_name(kind)
}

#[cfg(not(target_os = "linux"))]
pub fn network_kind(_path: &Path) -> Option<&'static str> {
    None
}

/// The network file systems by their `statfs` magic number.
pub fn network_name(magic: i64) -> Option<&'static str> {
    Some(match magic {
        0x6969 => "nfs",
        0x517b => "smb",
        0xff53_4d42 => "cifs",
        0xfe53_4d42 => "smb2",
        0x6573_5546 => "fuse (sshfs, rclone or similar)",
        0x00c3_6400 => "ceph",
        0x0102_1997 => "9p",
        0x5346_414f => "afs",
        0x7370_6673 => "vboxsf",
        0x7366_746e => "ncp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_magic_numbers_are_named_and_local_ones_are_not() {
        assert_eq!(network_name(0x6969), Some("nfs"));
        assert_eq!(network_name(0xff53_4d42), Some("cifs"));
        assert_eq!(network_name(0xef53), None, "ext4 is local");
        assert_eq!(network_name(0x0102_1994), None, "tmpfs is local");
        #[cfg(target_os = "linux")]
        assert_eq!(network_kind(Path::new("/proc")), None);
    }
}
