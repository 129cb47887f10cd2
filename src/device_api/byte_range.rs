//! The `Range` header, read as the reference (Tornado's `StaticFileHandler`) reads it: one
//! range `bytes=a-b`, `bytes=a-` or `bytes=-n`; a header it cannot read, or a list of
//! ranges, is ignored (the whole file, 200); a range that starts at or past the end, one
//! that ends before it starts, and `bytes=-0` are unsatisfiable (416).
//!
//! One deliberate difference: a satisfiable range that covers the whole file is answered
//! 206 (Tornado answers 200), as RFC 9110 describes and resuming clients expect.

use std::ops::Range;

/// What to send for a `Range` header and a file of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable range: the whole file, 200.
    Whole,
    /// These bytes, 206.
    Part(Range<u64>),
    /// 416.
    Unsatisfiable,
}

/// Decides the answer to `header` (the raw `Range` value) for a file of `size` bytes.
pub fn answer(header: &str, size: u64) -> RangeAnswer {
    let Some(spec) = parse(header) else {
        return RangeAnswer::Whole;
    };
    let (start, end) = match spec {
        // `bytes=-0`: a suffix of nothing.
        Spec::Suffix(0) => return RangeAnswer::Unsatisfiable,
        Spec::Suffix(n) => (size.saturating_sub(n), size),
        Spec::From(start) => (start, size),
        Spec::Between(first, last) => {
            if last < first {
                return RangeAnswer::Unsatisfiable;
            }
            (first, last.saturating_add(1).min(size))
        }
    };
    if start >= size {
        return RangeAnswer::Unsatisfiable;
    }
    RangeAnswer::Part(start..end)
}

enum Spec {
    Between(u64, u64),
    From(u64),
    Suffix(u64),
}

fn parse(header: &str) -> Option<Spec> {
    let (unit, value) = header.split_once('=')?;
    if unit.trim() != "bytes" {
        return None;
    }
    let (first, last) = value.trim().split_once('-')?;
    let number = |text: &str| -> Option<Option<u64>> {
        let text = text.trim();
        if text.is_empty() {
            Some(None)
        } else if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok().map(Some)
        } else {
            None
        }
    };
    match (number(first)?, number(last)?) {
        (Some(first), Some(last)) => Some(Spec::Between(first, last)),
        (Some(first), None) => Some(Spec::From(first)),
        (None, Some(n)) => Some(Spec::Suffix(n)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    #[test]
    fn single_ranges() {
        assert_eq!(answer("bytes=0-9", 100), Part(0..10));
        assert_eq!(answer("bytes=90-", 100), Part(90..100));
        assert_eq!(answer("bytes=-10", 100), Part(90..100));
        assert_eq!(answer("bytes=-1000", 100), Part(0..100));
        assert_eq!(answer("bytes=50-5000", 100), Part(50..100));
        assert_eq!(answer("bytes = 1-2 ", 100), Part(1..3));
        assert_eq!(answer("bytes=0-", 100), Part(0..100));
    }

    #[test]
    fn unsatisfiable_like_the_reference() {
        assert_eq!(answer("bytes=100-", 100), Unsatisfiable);
        assert_eq!(answer("bytes=100-0", 480), Unsatisfiable);
        assert_eq!(answer("bytes=-0", 100), Unsatisfiable);
        assert_eq!(answer("bytes=500-600", 100), Unsatisfiable);
    }

    #[test]
    fn unreadable_or_multiple_ranges_mean_the_whole_file() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=a-b",
            "bytes=0x1-2",
            "bytes=99999999999999999999999-",
            "bytes=+1-2",
            "bytes=1--2",
        ] {
            assert_eq!(answer(header, 100), Whole, "{header:?}");
        }
    }
}
