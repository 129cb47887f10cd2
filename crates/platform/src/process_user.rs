//! Who this process runs as, where it matters to what it can tell the operator: `check`
//! run as root reads every file, while the service's own user may not.

/// Whether the process runs as root (always false where there is no such thing).
#[cfg(target_os = "linux")]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(target_os = "linux"))]
pub fn is_root() -> bool {
    false
}
