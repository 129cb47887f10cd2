//! The server's one reading of the wall clock for what its rules count in wall time: the
//! settle time of a release or license file (its modification time against now), rollout
//! hours and windows, when a device becomes stuck, the times the inventory records and the
//! admin pages compare with. One function, so that the end-to-end tests can move time
//! forward instead of sleeping through it.
//!
//! The hook: a debug build (the one `cargo test` starts) adds the whole seconds written in
//! the file named by `KKT_TEST_CLOCK_FILE` (say `3600`, or `-60`), read at every call, so a
//! test bumps the file and the running server's next rule sees the later time. A release
//! build has no hook: the code is not compiled in (`#[cfg(debug_assertions)]`), the
//! variable is never read, and the binary does not hold its name (a test below checks
//! that the release build ignores it). Timers that wait a duration (the settle deadline,
//! the rollout watch's round) run on the monotonic clock and are not moved.

use std::time::SystemTime;

use crate::model::unix_time::unix;

/// Now, as the rules see it.
pub fn now() -> SystemTime {
    let now = SystemTime::now();
    #[cfg(debug_assertions)]
    {
        let offset = test_hook::offset();
        let shifted = if offset >= 0 {
            now.checked_add(std::time::Duration::from_secs(offset.unsigned_abs()))
        } else {
            now.checked_sub(std::time::Duration::from_secs(offset.unsigned_abs()))
        };
        if let Some(shifted) = shifted {
            return shifted;
        }
    }
    now
}

/// Now in whole seconds since the Unix epoch (see `now`).
pub fn unix_now() -> u64 {
    unix(now())
}

#[cfg(debug_assertions)]
mod test_hook {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    /// The environment variable naming the offset file.
    const VARIABLE: &str = "KKT_TEST_CLOCK_FILE";
    /// Offsets beyond a century either way are refused (a typo, not a test).
    const LIMIT: i64 = 100 * 366 * 86_400;
    /// The file holds one number: a few bytes are read, never more.
    const MAX_BYTES: u64 = 64;

    /// The offset in seconds the test asks for; 0 without the variable. A file that cannot
    /// be read or does not hold a whole number within bounds counts as 0 and is said once
    /// on stderr (a test that bumped it then fails on what it expected, not silently).
    pub fn offset() -> i64 {
        static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
        let Some(path) = FILE.get_or_init(|| std::env::var_os(VARIABLE).map(PathBuf::from)) else {
            return 0;
        };
        match read(path) {
            Ok(offset) => offset,
            Err(problem) => {
                static SAID: AtomicBool = AtomicBool::new(false);
                // Said on stderr, where the log goes, without tying `model` to the logger.
                if !SAID.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "kkt-update-server: {VARIABLE}: {problem}; the clock is not moved \
                         (expected a whole number of seconds, such as 3600 or -60)"
                    );
                }
                0
            }
        }
    }

    fn read(path: &std::path::Path) -> Result<i64, String> {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_BYTES).read_to_string(&mut text))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let text = text.trim();
        match text.parse::<i64>() {
            Ok(offset) if (-LIMIT..=LIMIT).contains(&offset) => Ok(offset),
            Ok(_) => Err(format!(
                "{} holds an offset beyond a century",
                path.display()
            )),
            Err(_) => Err(format!(
                "{} holds {:?}, not a whole number of seconds",
                path.display(),
                text.chars().take(20).collect::<String>()
            )),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_offset_file_holds_a_bounded_whole_number() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("clock");
            for (text, expected) in [
                ("3600\n", Ok(3600)),
                (" -60 ", Ok(-60)),
                ("0", Ok(0)),
                ("1.5", Err("not a whole number")),
                ("an hour", Err("not a whole number")),
                ("99999999999", Err("beyond a century")),
                ("", Err("not a whole number")),
            ] {
                std::fs::write(&path, text).unwrap();
                match (read(&path), expected) {
                    (Ok(got), Ok(want)) => assert_eq!(got, want, "{text:?}"),
                    (Err(got), Err(want)) => assert!(got.contains(want), "{text:?}: {got}"),
                    (got, want) => panic!("{text:?}: {got:?}, expected {want:?}"),
                }
            }
            // A huge file is read only as far as a number can go.
            std::fs::write(&path, "1".repeat(1 << 20)).unwrap();
            assert!(read(&path).is_err());
            assert!(read(&dir.path().join("missing"))
                .unwrap_err()
                .contains("cannot read"));
        }
    }
}

#[cfg(test)]
mod tests {
    /// A release build must not honour the test hook: built without debug assertions,
    /// `now` is the system's clock whatever the environment says. Run by
    /// `cargo test --release --lib clock`, or, without a release build, by
    /// `cargo test --lib clock --config
    /// 'profile.test.package.kkt-update-server.debug-assertions=false'`. The debug build's
    /// check is the end-to-end tests that move the clock (`rollouts`, `inventory`).
    #[cfg(not(debug_assertions))]
    #[test]
    fn a_release_build_ignores_the_test_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        std::fs::write(&path, "86400").unwrap();
        // Set before the first call of `now` in this process, for the whole process: no
        // other test of the library reads this variable.
        std::env::set_var("KKT_TEST_CLOCK_FILE", &path);
        let before = std::time::SystemTime::now();
        let now = super::now();
        let after = std::time::SystemTime::now();
        assert!(
            before <= now && now <= after,
            "the clock moved in a release build"
        );
    }
}
