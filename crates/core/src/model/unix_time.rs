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

/// The server's local offset from UTC at `unix`, in seconds (for the rollout projection's
/// window clock).
pub fn local_utc_offset(unix: u64) -> i32 {
    use chrono::Offset;
    i64::try_from(unix)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or(0, |t| {
            t.with_timezone(&chrono::Local)
                .offset()
                .fix()
                .local_minus_utc()
        })
}

/// The last second of `day` in the server's local time zone (a rollout's `deadline`), as
/// Unix seconds: the next day's local midnight less one. Where that midnight does not
/// exist (a clock change at 00:00), the first local time after it.
pub fn end_of_local_day(day: chrono::NaiveDate) -> u64 {
    use chrono::TimeZone;
    let Some(next) = day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)) else {
        return u64::MAX;
    };
    let midnight = chrono::Local
        .from_local_datetime(&next)
        .earliest()
        .or_else(|| {
            chrono::Local
                .from_local_datetime(&(next + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| next.and_utc().timestamp(), |t| t.timestamp());
    u64::try_from(midnight.saturating_sub(1)).unwrap_or(0)
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
    fn a_day_ends_at_its_last_local_second() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let end = end_of_local_day(day);
        assert!(
            local_text(end).starts_with("2026-12-31 23:59:59"),
            "{}",
            local_text(end)
        );
        assert!(local_text(end + 1).starts_with("2027-01-01 00:00:00"));
        let offset = local_utc_offset(end);
        assert_eq!(
            i64::try_from(end).unwrap() + i64::from(offset) + 1,
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp()
        );
    }

    /// Days at the ends of what a `meta.yaml` can say neither panic nor wrap: year 0 ends
    /// before 1970 (0: long past), year 9999 far ahead.
    #[test]
    fn the_ends_of_the_calendar_stay_in_range() {
        let first = chrono::NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        assert_eq!(end_of_local_day(first), 0);
        let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        assert!(
            end_of_local_day(last) > 250_000_000_000,
            "{}",
            end_of_local_day(last)
        );
        assert_eq!(local_utc_offset(u64::MAX), 0, "no time: no offset");
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
