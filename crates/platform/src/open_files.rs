//! The limit on open files, which every connection counts against. Started from a shell,
//! a process on Linux usually gets a soft limit of 1,024 under a much higher hard one:
//! then a thousand idle connections to one listener leave no descriptor to accept a
//! connection on any other. The server takes the hard limit (as Go programs do) and tells
//! the listeners how many descriptors there are to share.

/// Raises this process's soft limit on open files to its hard limit and returns the limit
/// now in force; `None` where there is no such limit or it cannot be read.
#[cfg(target_os = "linux")]
pub fn raise_to_hard_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads only the struct it is given. It fails (and the soft
        // limit stays) when the hard limit is above what the kernel allows (nr_open).
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur)
}

/// Windows has no per-process limit on sockets to raise; other systems are left as started.
#[cfg(not(target_os = "linux"))]
pub fn raise_to_hard_limit() -> Option<u64> {
    None
}
