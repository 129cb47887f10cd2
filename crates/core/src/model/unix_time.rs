//! Times as the operator surface reports them: whole seconds since the Unix epoch, the form
//! `/status`, the reload history and the log share.

use std::time::{SystemTime, UNIX_EPOCH};

/// Whole seconds since 1970-01-01 UTC; 0 for a time before it (a clock set wrong).
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A time in the server's local time zone with its offset, as operators read it on the
/// dashboard, in `/status` and in CSV exports: `2026-11-28 14:58:37 +03:00`.
pub fn local_text(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || unix.to_string(),
            |t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S %:z")
                    .to_string()
            },
        )
}

/// The minute of the day (0 to 1439) in the server's local time, for rollout windows.
pub fn local_minute() -> u32 {
    use chrono::Timelike;
    let now = chrono::Local::now();
    now.hour() * 60 + now.minute()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_carry_their_offset() {
        let text = local_text(1_764_000_000);
        let offset = text.rsplit(' ').next().unwrap_or_default();
        assert!(
            offset.len() == 6 && (offset.starts_with('+') || offset.starts_with('-')),
            "{text}"
        );
        assert!(text.starts_with("2025-11-2"), "{text}");
    }
}
