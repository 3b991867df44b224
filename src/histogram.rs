//! One way to make, read and publish the microsecond histograms the server and its load
//! drivers keep (tick durations, lateness, move and input latency).
//!
//! Every histogram is an [`hdrhistogram::Histogram`] of microseconds at three significant
//! digits. Two ranges exist: [`ticks`] (up to 60 s, for things measured on the server) and
//! [`latencies`] (up to 10 min, for what a client waits through, which includes stalls).

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Largest tick duration recorded, in microseconds (60 s).
pub const MAX_TICK_US: u64 = 60_000_000;
/// Largest latency recorded, in microseconds (10 min).
pub const MAX_LATENCY_US: u64 = 600_000_000;

/// A histogram of 1 µs to `max_us` µs at three significant digits.
fn micros(max_us: u64) -> Histogram<u64> {
    // The bounds are valid constants, so the fallback is never taken; it keeps this
    // function free of a panic path all the same.
    Histogram::new_with_bounds(1, max_us, 3).unwrap_or_else(|_| {
        Histogram::new(3).expect("three significant digits is a valid precision")
    })
}

/// A histogram for tick durations and lateness (1 µs to 60 s).
pub fn ticks() -> Histogram<u64> {
    micros(MAX_TICK_US)
}

/// A histogram for client-side latencies (1 µs to 10 min).
pub fn latencies() -> Histogram<u64> {
    micros(MAX_LATENCY_US)
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

/// `{count, mean, p50, p90, p99, max}` in microseconds, as the JSON endpoints show it.
pub fn summary(histogram: &Histogram<u64>) -> Value {
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
pub fn recorded(histogram: &Histogram<u64>) -> Vec<[u64; 2]> {
    histogram
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect()
}

/// `[upper_bound_us, count]` per power-of-two bucket up to the largest value: the bounds
/// are 1, 3, 7, 15, ... (2^k - 1, inclusive), and each count is of the values over the
/// previous bound and at most this one.
pub fn log2_buckets(histogram: &Histogram<u64>) -> Vec<[u64; 2]> {
    if histogram.is_empty() {
        return Vec::new();
    }
    histogram
        .iter_log(1, 2.0)
        .filter(|step| step.value_iterated_to() > 0)
        .map(|step| [step.value_iterated_to(), step.count_since_last_iteration()])
        .collect()
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
        let pairs = recorded(&h);
        assert_eq!(pairs.iter().map(|[_, n]| n).sum::<u64>(), 5);
        assert_eq!(summary(&h)["count"], 5);
        assert!(h.record(MAX_TICK_US * 4).is_err(), "ticks stop at 60 s");
    }

    #[test]
    fn log2_buckets_are_powers_of_two_and_count_every_value() {
        let mut h = ticks();
        assert!(log2_buckets(&h).is_empty());
        for value in [1, 3, 3, 100] {
            h.record(value).unwrap();
        }
        let buckets = log2_buckets(&h);
        assert_eq!(buckets.iter().map(|[_, n]| n).sum::<u64>(), 4);
        assert_eq!(buckets[..3], [[1, 1], [3, 2], [7, 0]]);
        assert_eq!(buckets.last(), Some(&[127, 1]));
    }
}
