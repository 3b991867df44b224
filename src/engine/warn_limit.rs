//! At most one warning per interval for conditions that can repeat every tick (a shard
//! overrunning its budget under load), counting the ones held back so that the next
//! warning says how many there were. Keeps the log readable when it matters most.

use std::time::{Duration, Instant};

/// How often a repeating warning may be logged.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(10);

/// One repeating warning's rate limit.
#[derive(Debug, Default)]
pub(crate) struct WarnLimit {
    last: Option<Instant>,
    held: u64,
}

impl WarnLimit {
    /// Called each time the condition happens. `Some(n)` when it should be logged now,
    /// with `n` occurrences held back since the last one logged; `None` to stay quiet.
    pub(crate) fn allow(&mut self, now: Instant, every: Duration) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < every => {
                self.held += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_per_interval_counting_the_rest() {
        let mut limit = WarnLimit::default();
        let start = Instant::now();
        let every = Duration::from_secs(10);
        assert_eq!(limit.allow(start, every), Some(0));
        for ms in [1, 500, 9_999] {
            assert_eq!(limit.allow(start + Duration::from_millis(ms), every), None);
        }
        assert_eq!(limit.allow(start + Duration::from_secs(10), every), Some(3));
        assert_eq!(limit.allow(start + Duration::from_secs(11), every), None);
        assert_eq!(limit.allow(start + Duration::from_secs(25), every), Some(1));
    }
}
