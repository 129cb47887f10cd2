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

/// The minute of the day (0 to 1439) of `unix` in the server's local time, for rollout
/// windows.
pub fn local_minute(unix: u64) -> u32 {
    use chrono::Timelike;
    i64::try_from(unix)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or(0, |t| {
            let t = t.with_timezone(&chrono::Local);
            t.hour() * 60 + t.minute()
        })
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

    #[test]
    fn the_local_minute_is_that_of_the_local_time() {
        for unix in [0, 1_764_000_000, 1_764_000_000 + 13 * 3600 + 37 * 60] {
            let text = local_text(unix);
            let hh_mm = text.split(' ').nth(1).unwrap_or_default();
            let hours: u32 = hh_mm[..2].parse().unwrap();
            let minutes: u32 = hh_mm[3..5].parse().unwrap();
            assert_eq!(local_minute(unix), hours * 60 + minutes, "{text}");
        }
    }
}
