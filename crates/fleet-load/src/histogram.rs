//! Latencies in fixed buckets, HDR-style: one counter per microsecond below 256 us, then 128
//! buckets per power of two (each within 0.8 % of its values), up to hours. Recording is an
//! index and an increment, so a worker allocates nothing per request; the workers' histograms
//! are added up at the end and read for p50 and p99.

use std::time::Duration;

/// Buckets per power of two above `EXACT`.
const SUB: u64 = 128;
/// Values (in us) below this have a bucket each.
const EXACT: u64 = 2 * SUB;
/// The longest latency told apart (about 4.8 hours); longer ones count as this.
const MAX_US: u64 = (1 << 34) - 1;
/// Enough buckets for `MAX_US`: its power of two (33) less 7, times `SUB`, plus `EXACT`.
const BUCKETS: usize = ((33 - 7) * SUB + EXACT) as usize;

#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
        }
    }
}

fn index(us: u64) -> usize {
    let us = us.min(MAX_US);
    if us < EXACT {
        return us as usize;
    }
    let shift = u64::from(63 - us.leading_zeros()) - 7;
    (shift * SUB + (us >> shift)) as usize
}

/// The middle of bucket `i`, in us.
fn value_of(i: usize) -> u64 {
    let i = i as u64;
    if i < EXACT {
        return i;
    }
    let shift = i / SUB - 1;
    let lowest = (i - shift * SUB) << shift;
    lowest + ((1 << shift) - 1) / 2
}

impl Histogram {
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[index(us)] += 1;
        self.total += 1;
    }

    pub fn add(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// The latency below which `fraction` (0.5, 0.99) of the recorded ones lie, in
    /// milliseconds; 0 when nothing was recorded.
    pub fn quantile_ms(&self, fraction: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((fraction * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return value_of(i) as f64 / 1000.0;
            }
        }
        MAX_US as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_close_to_their_values() {
        let mut last = 0;
        for us in [
            0, 1, 255, 256, 257, 511, 512, 1000, 12_345, 1_000_000, MAX_US,
        ] {
            let i = index(us);
            assert!(i >= last && i < BUCKETS, "{us} us -> bucket {i}");
            last = i;
            let back = value_of(i);
            let error = back.abs_diff(us) as f64 / us.max(1) as f64;
            assert!(error < 0.008, "{us} us read back as {back}");
        }
        // Every bucket from EXACT on is reached by exactly the values that map to it.
        for i in EXACT as usize..BUCKETS {
            assert_eq!(index(value_of(i)), i, "bucket {i}");
        }
    }

    #[test]
    fn quantiles_of_a_known_spread() {
        let mut h = Histogram::default();
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile_ms(0.5);
        let p99 = h.quantile_ms(0.99);
        assert!((p50 - 50.0).abs() < 0.5, "{p50}");
        assert!((p99 - 99.0).abs() < 1.0, "{p99}");
        let mut other = Histogram::default();
        other.record(Duration::from_secs(100_000));
        h.add(&other);
        assert_eq!(h.total, 101);
        assert!(
            h.quantile_ms(1.0) > 17_000_000.0,
            "beyond the top counts as the top"
        );
        assert_eq!(Histogram::default().quantile_ms(0.99), 0.0);
    }
}
