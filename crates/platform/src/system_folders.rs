//! Folders of the operating system that must never become `firmware_dir`: everything in
//! `firmware_dir` is downloadable by whoever reaches the device port, so `firmware_dir: /`
//! would serve `/etc/shadow` and `/proc/self/environ`. The lists differ per system.

use std::path::{Component, Path};

/// Whether `dir` (absolute, links resolved) is a file system root, one of the system's own
/// folders (or, for the pseudo file systems and the system's configuration, any folder
/// below one), or a user's home folder itself. A folder of its own below `/var/lib`,
/// `/srv` or a home folder is fine.
pub fn is_system_folder(dir: &Path) -> bool {
    let parts: Vec<String> = dir
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_string_lossy().to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let Some(first) = parts.first() else {
        // `/`, `C:\`, `\\server\share\`: a root.
        return true;
    };
    system_folder(first.as_str(), parts.len())
}

/// `first`: the top-level folder's name (lower case); `depth`: how many names the path has.
#[cfg(unix)]
fn system_folder(first: &str, depth: usize) -> bool {
    // Anything below these is the kernel's, the devices' (`/proc/self/environ`) or the
    // system's configuration (`/etc/ssl/private`, `/etc/ssh`).
    const ANYWHERE_BELOW: [&str; 6] = ["proc", "sys", "dev", "run", "etc", "boot"];
    // These themselves (not folders below them): a whole tree of other programs' files.
    const TOP: [&str; 13] = [
        "usr", "var", "home", "root", "bin", "sbin", "lib", "lib64", "opt", "srv", "tmp", "mnt",
        "users",
    ];
    // A user's home itself (`/home/operator`, macOS's `/Users/operator`): documents and keys
    // kept without a dot; a folder below it is fine.
    const PROFILES: [&str; 2] = ["home", "users"];
    ANYWHERE_BELOW.contains(&first)
        || (depth == 1 && TOP.contains(&first))
        || (depth == 2 && PROFILES.contains(&first))
}

/// On Windows, the system's folders, and the profiles' folder and each profile itself.
#[cfg(not(unix))]
fn system_folder(first: &str, depth: usize) -> bool {
    const ANYWHERE_BELOW: [&str; 1] = ["windows"];
    const TOP: [&str; 5] = [
        "program files",
        "program files (x86)",
        "programdata",
        "users",
        "documents and settings",
    ];
    ANYWHERE_BELOW.contains(&first)
        || (depth == 1 && TOP.contains(&first))
        || (depth == 2 && first == "users")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn roots_and_system_folders_are_refused_folders_of_their_own_are_not() {
        for dir in [
            "/",
            "/etc",
            "/proc",
            "/proc/self",
            "/sys/kernel",
            "/dev/shm",
            "/home",
            "/var",
            "/etc/ssl",
            "/etc/kkt-update-server/firmware",
            "/boot/efi",
            "/home/operator",
            "/Users/operator",
        ] {
            assert!(is_system_folder(Path::new(dir)), "{dir}");
        }
        for dir in [
            "/var/lib/kkt-update-server/firmware",
            "/srv/kkt/firmware",
            "/home/operator/firmware",
            "/tmp/.tmpX1/firmware",
        ] {
            assert!(!is_system_folder(Path::new(dir)), "{dir}");
        }
    }
}
