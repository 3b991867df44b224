//! One way to make, read and publish the microsecond histograms the server and its load
//! drivers keep (tick durations, lateness, move and input latency).
//!
//! Every histogram is an [`hdrhistogram::Histogram`] of microseconds. Two kinds exist:
//! [`ticks`] (up to 60 s at two significant digits, for what the server measures on
//! every tick) and [`latencies`] (up to 10 min at three, for what a client waits through,
//! which includes stalls).
//!
//! Precision is memory: the counts array holds about 10^digits counters per power of two,
//! for the server's life. At three digits a tick histogram is 136 KiB and a shard keeps
//! three; at two (a value known to within 1%, far finer than any question asked of tick
//! durations) it is 20 KiB, and the idle server's resident memory fell by 0.7 MiB
//! (BENCHMARKS.md, issue 13, "Eighth session").
//!
//! Whoever keeps a histogram (a shard) hands out a [`Recorded`] instead of a clone: only
//! the values recorded, a few hundred bytes, read the same way ([`summary`], [`recorded`],
//! [`log2_buckets`]). A clone per scrape cost the server about 1 MiB of resident memory
//! that it never gave back.

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Largest tick duration recorded, in microseconds (60 s).
pub const MAX_TICK_US: u64 = 60_000_000;
/// Largest latency recorded, in microseconds (10 min).
pub const MAX_LATENCY_US: u64 = 600_000_000;

/// Significant digits of [`ticks`]: values exact below 256 µs, within 1% above.
pub const TICK_DIGITS: u8 = 2;
/// Significant digits of [`latencies`]: values exact below 2048 µs, within 0.1% above.
pub const LATENCY_DIGITS: u8 = 3;

/// A histogram of 1 µs to `max_us` µs at `digits` significant digits.
fn micros(max_us: u64, digits: u8) -> Histogram<u64> {
    // The bounds are valid constants, so the fallback is never taken; it keeps this
    // function free of a panic path all the same.
    Histogram::new_with_bounds(1, max_us, digits).unwrap_or_else(|_| {
        Histogram::new(3).expect("three significant digits is a valid precision")
    })
}

/// A histogram for tick durations and lateness (1 µs to 60 s, [`TICK_DIGITS`]).
pub fn ticks() -> Histogram<u64> {
    micros(MAX_TICK_US, TICK_DIGITS)
}

/// A histogram for client-side latencies (1 µs to 10 min, [`LATENCY_DIGITS`]).
pub fn latencies() -> Histogram<u64> {
    micros(MAX_LATENCY_US, LATENCY_DIGITS)
}

/// A quantile (0.0 to 1.0; 1.0 is the maximum) in milliseconds; `None` without samples.
pub fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    if histogram.is_empty() {
        return None;
    }
    let us = if quantile >= 1.0 {
        histogram.max()
    } else {
        histogram.value_at_quantile(quantile)
    };
    Some(us as f64 / 1000.0)
}

/// A histogram's recorded values, copied out: `(value, count)` for every bucket that holds
/// a value, ascending, each value the highest its bucket stands for (as hdrhistogram's
/// `iter_recorded` gives them), with the count and mean of the whole. Quantiles and the
/// maximum read from it are the ones the histogram itself gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    pairs: Vec<(u64, u64)>,
    count: u64,
    mean: f64,
}

impl Recorded {
    /// Copies out what `histogram` recorded.
    pub fn of(histogram: &Histogram<u64>) -> Recorded {
        Recorded {
            pairs: histogram
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
            count: histogram.len(),
            mean: histogram.mean(),
        }
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The largest value (0 when empty).
    pub fn max(&self) -> u64 {
        self.pairs.last().map_or(0, |&(value, _)| value)
    }

    /// The value at `quantile` (0.0 to 1.0): that of the first bucket where the running
    /// count reaches `quantile` of the whole (at least its first value), as
    /// `Histogram::value_at_quantile` for any quantile above 0. 0 when empty.
    pub fn value_at_quantile(&self, quantile: f64) -> u64 {
        let wanted = ((quantile.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut running = 0u64;
        for &(value, count) in &self.pairs {
            running = running.saturating_add(count);
            if running >= wanted {
                return value;
            }
        }
        self.max()
    }

    /// `(value, count)` for every bucket that holds a value, ascending.
    pub fn pairs(&self) -> &[(u64, u64)] {
        &self.pairs
    }
}

/// `{count, mean, p50, p90, p99, max}` in microseconds, as the JSON endpoints show it.
pub fn summary(histogram: &Recorded) -> Value {
    json!({
        "count": histogram.len(),
        "mean": histogram.mean(),
        "p50": histogram.value_at_quantile(0.5),
        "p90": histogram.value_at_quantile(0.9),
        "p99": histogram.value_at_quantile(0.99),
        "max": histogram.max(),
    })
}

/// Every recorded value as `[value_us, count]`, so a reader can subtract two readings of
/// a cumulative histogram to get a window.
pub fn recorded(histogram: &Recorded) -> Vec<[u64; 2]> {
    histogram
        .pairs
        .iter()
        .map(|&(value, count)| [value, count])
        .collect()
}

/// `[upper_bound_us, count]` per power-of-two bucket up to the largest value: the bounds
/// are 1, 3, 7, 15, ... (2^k - 1, inclusive), and each count is of the values over the
/// previous bound and at most this one.
///
/// A bucket of the histogram never straddles a bound (its values are exact below 2^k for
/// some k, 256 at two significant digits and 2048 at three, and above that each bucket
/// is a power of two wide and aligned to it), so each recorded value falls in exactly one.
pub fn log2_buckets(histogram: &Recorded) -> Vec<[u64; 2]> {
    let mut buckets: Vec<[u64; 2]> = Vec::new();
    let mut bound = 1u64;
    for &(value, count) in &histogram.pairs {
        if buckets.is_empty() {
            buckets.push([bound, 0]);
        }
        while value > bound {
            bound = bound.saturating_mul(2).saturating_add(1);
            buckets.push([bound, 0]);
        }
        if let Some(last) = buckets.last_mut() {
            last[1] += count;
        }
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_in_milliseconds_and_none_when_empty() {
        let mut h = latencies();
        assert_eq!(quantile_ms(&h, 0.5), None);
        for us in [1_000, 2_000, 3_000, 40_000] {
            h.record(us).unwrap();
        }
        assert_eq!(quantile_ms(&h, 0.5), Some(2.0));
        assert_eq!(quantile_ms(&h, 1.0), Some(h.max() as f64 / 1000.0));
        assert!(quantile_ms(&h, 1.0).unwrap() >= 40.0);
    }

    #[test]
    fn recorded_pairs_sum_to_the_count() {
        let mut h = ticks();
        for us in [5, 5, 7, 900, 60_000_000] {
            h.record(us).unwrap();
        }
        let pairs = recorded(&Recorded::of(&h));
        assert_eq!(pairs.iter().map(|[_, n]| n).sum::<u64>(), 5);
        assert_eq!(summary(&Recorded::of(&h))["count"], 5);
        assert!(h.record(MAX_TICK_US * 4).is_err(), "ticks stop at 60 s");
    }

    #[test]
    fn log2_buckets_are_powers_of_two_and_count_every_value() {
        let mut h = ticks();
        assert!(log2_buckets(&Recorded::of(&h)).is_empty());
        for value in [1, 3, 3, 100] {
            h.record(value).unwrap();
        }
        let buckets = log2_buckets(&Recorded::of(&h));
        assert_eq!(buckets.iter().map(|[_, n]| n).sum::<u64>(), 4);
        assert_eq!(buckets[..3], [[1, 1], [3, 2], [7, 0]]);
        assert_eq!(buckets.last(), Some(&[127, 1]));
    }

    #[test]
    fn recorded_reads_as_the_histogram_itself() {
        // Values over the whole range, exact ones (under 256) and bucketed ones, at both
        // precisions.
        for mut h in [ticks(), latencies()] {
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for _ in 0..5_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let value = match x % 4 {
                    0 => x % 2_048,
                    1 => x % 50_000,
                    2 => x % 5_000_000,
                    _ => x % MAX_TICK_US,
                };
                h.record(value.max(1)).unwrap();
            }
            let r = Recorded::of(&h);
            assert_eq!(r.len(), h.len());
            assert_eq!(r.max(), h.max());
            assert_eq!(r.mean(), h.mean());
            for q in [0.001, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0] {
                assert_eq!(
                    r.value_at_quantile(q),
                    h.value_at_quantile(q),
                    "quantile {q}"
                );
            }
            assert_eq!(summary(&r)["p99"], h.value_at_quantile(0.99));
            // The power-of-two buckets as hdrhistogram's own logarithmic iterator makes them.
            let by_hdr: Vec<[u64; 2]> = h
                .iter_log(1, 2.0)
                .filter(|step| step.value_iterated_to() > 0)
                .map(|step| [step.value_iterated_to(), step.count_since_last_iteration()])
                .collect();
            assert_eq!(log2_buckets(&r), by_hdr);
        }
        assert!(Recorded::default().is_empty());
        assert_eq!(Recorded::default().value_at_quantile(0.5), 0);
    }

    /// A shard keeps three tick histograms for the server's life: their counts arrays stay
    /// small, and a value is still known to within 1%.
    #[test]
    fn tick_histograms_are_small_and_within_one_percent() {
        let h = ticks();
        let bytes = h.distinct_values() * std::mem::size_of::<u64>();
        assert!(bytes <= 32 << 10, "{bytes} bytes of counts");
        assert!(latencies().distinct_values() > 4 * h.distinct_values());
        for value in [255, 256, 1_000, 4_321, 8_333, 33_333, 1_000_000] {
            let low = h.lowest_equivalent(value);
            let high = h.highest_equivalent(value);
            assert!(low <= value && value <= high, "{value}");
            assert!((high - low) * 100 <= value, "{value}: {low}..={high}");
        }
        assert_eq!(h.highest_equivalent(255), 255, "exact below 256");
    }

    #[test]
    fn a_copy_out_is_small() {
        let mut h = latencies();
        for value in 1..=300 {
            h.record(value * 7).unwrap();
        }
        let r = Recorded::of(&h);
        let bytes = std::mem::size_of_val(r.pairs());
        assert_eq!(r.pairs().len(), 300);
        assert!(
            bytes * 20 < h.distinct_values() * 8,
            "{bytes} bytes against the histogram's"
        );
    }
}
