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

/// The name of the user this process runs as, for the `published_by` a `publish` or
/// `withdraw` writes: the user database's name for the effective user (Unix), `USERNAME`
/// (Windows); "unknown" when there is none.
#[cfg(unix)]
pub fn user_name() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    crate::shared_folder::user_name(unsafe { libc::geteuid() })
}

#[cfg(not(unix))]
pub fn user_name() -> String {
    std::env::var("USERNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The name of who owns `path` (not followed if it is a link): the audit trail's actor for
/// a release copied in by hand. None where owners are not told simply (Windows: its owner is
/// a security descriptor, not a number in the file's metadata).
#[cfg(unix)]
pub fn owner_of(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::symlink_metadata(path).ok()?;
    Some(crate::shared_folder::user_name(metadata.uid()))
}

#[cfg(not(unix))]
pub fn owner_of(_path: &std::path::Path) -> Option<String> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_file_made_here_is_owned_by_this_user() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        assert_eq!(owner_of(dir.path()), Some(user_name()));
        assert_eq!(owner_of(&dir.path().join("missing")), None);
    }
}
