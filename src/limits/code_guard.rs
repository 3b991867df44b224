//! Private-room code guessing, per connection.
//!
//! A join code is 8 characters from a 31-letter alphabet: 31^8 ≈ 8.5 × 10^11 codes
//! (39.6 bits). A connection may look up a burst of [`LimitsConfig::code_failure_burst`]
//! codes that name no room, then [`LimitsConfig::code_failures_per_minute`] per minute;
//! attempts beyond that are refused with `RateLimited` without a lookup, and the
//! [`LimitsConfig::max_code_failures`]th failure closes the connection with 4020. With
//! 10,000 rooms open, one guess finds a room with probability 1.2 × 10^-8, and a whole
//! connection's 20 guesses with 2.3 × 10^-7.

use std::time::Duration;

use governor::RateLimiter;
use governor::clock::{Clock, DefaultClock};

use super::LimitsConfig;
use super::conn::{Bucket, bucket};

/// What the reader does with a `JoinRoom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guess {
    /// Look the code up.
    Allowed,
    /// Refuse it with `RateLimited`, without a lookup.
    Limited,
    /// Close the connection with 4020.
    Close,
}

/// One connection's failed code attempts.
pub struct CodeGuard<C: Clock = DefaultClock> {
    clock: C,
    failures: Bucket<C>,
    failed: u32,
    max_failed: u32,
    blocked_until: Option<C::Instant>,
}

impl std::fmt::Debug for CodeGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeGuard")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl CodeGuard {
    /// A guard on the real clock.
    pub fn new(config: &LimitsConfig) -> CodeGuard {
        CodeGuard::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> CodeGuard<C> {
    /// A guard on `clock` (a fake clock in tests).
    pub fn with_clock(config: &LimitsConfig, clock: C) -> CodeGuard<C> {
        let quota = bucket(
            config.code_failures_per_minute,
            Duration::from_secs(60),
            config.code_failure_burst,
        );
        CodeGuard {
            failures: RateLimiter::direct_with_clock(quota, clock.clone()),
            clock,
            failed: 0,
            max_failed: config.max_code_failures.max(1),
            blocked_until: None,
        }
    }

    /// Whether the next `JoinRoom` may be looked up.
    pub fn check(&self) -> Guess {
        if self.failed >= self.max_failed {
            Guess::Close
        } else if self
            .blocked_until
            .is_some_and(|until| self.clock.now() < until)
        {
            Guess::Limited
        } else {
            Guess::Allowed
        }
    }

    /// Records a lookup whose code named no room; returns what to do from now on.
    pub fn failed(&mut self) -> Guess {
        self.failed = self.failed.saturating_add(1);
        if let Err(not_until) = self.failures.check() {
            self.blocked_until = Some(not_until.earliest_possible());
        }
        self.check()
    }

    /// Failed lookups so far.
    pub fn failures(&self) -> u32 {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_burst_then_one_per_period_then_close() {
        let clock = FakeRelativeClock::default();
        let config = LimitsConfig {
            code_failure_burst: 3,
            code_failures_per_minute: 6,
            max_code_failures: 6,
            ..LimitsConfig::default()
        };
        let mut guard = CodeGuard::with_clock(&config, clock.clone());
        for _ in 0..3 {
            assert_eq!(guard.check(), Guess::Allowed);
            assert_eq!(guard.failed(), Guess::Allowed);
        }
        // The fourth failure finds the bucket empty: refused until one is due (10 s).
        assert_eq!(guard.failed(), Guess::Limited);
        clock.advance(Duration::from_secs(9));
        assert_eq!(guard.check(), Guess::Limited);
        clock.advance(Duration::from_secs(1));
        assert_eq!(guard.check(), Guess::Allowed);
        assert_eq!(guard.failed(), Guess::Allowed);
        clock.advance(Duration::from_secs(60));
        assert_eq!(guard.failed(), Guess::Close);
        assert_eq!(guard.check(), Guess::Close);
        assert_eq!(guard.failures(), 6);
    }
}
