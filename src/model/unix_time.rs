//! Times as the operator surface reports them: whole seconds since the Unix epoch, the form
//! `/status`, the reload history and the log share.

use std::time::{SystemTime, UNIX_EPOCH};

/// Whole seconds since 1970-01-01 UTC; 0 for a time before it (a clock set wrong).
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
