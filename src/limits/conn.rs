//! Per-connection token buckets on messages and bytes, and the flood rule.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use super::{LimitReason, LimitsConfig};
use crate::codec::MAX_DECODE_BYTES;

/// A direct (un-keyed) governor rate limiter on clock `C`.
pub(crate) type Bucket<C> =
    RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// A quota of `burst` cells at once, refilled at `count` per `per` (both at least 1).
pub fn bucket(count: u32, per: Duration, burst: u32) -> Quota {
    let count = count.max(1);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = (per / count).max(Duration::from_nanos(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// What the reader does with one incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Within the limits: handle it.
    Pass,
    /// Over a limit: drop it unread and count the reason.
    Drop(LimitReason),
    /// Over a limit, and past the drop budget: close the connection with 1008.
    Close(LimitReason),
}

/// One connection's message and byte buckets and its budget of dropped messages. Owned by
/// the connection's reader; every check is a few atomic operations.
pub struct ConnLimiter<C: Clock = DefaultClock> {
    messages: Bucket<C>,
    bytes: Bucket<C>,
    drops: Bucket<C>,
}

impl std::fmt::Debug for ConnLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnLimiter").finish_non_exhaustive()
    }
}

impl ConnLimiter {
    /// A limiter on the real clock.
    pub fn new(config: &LimitsConfig) -> ConnLimiter {
        ConnLimiter::with_clock(config, &DefaultClock::default())
    }
}

impl<C: Clock + Clone> ConnLimiter<C> {
    /// A limiter on `clock` (a fake clock in tests). The byte burst is raised to one
    /// maximum-size message if it is smaller, so that a valid message can always pass.
    pub fn with_clock(config: &LimitsConfig, clock: &C) -> ConnLimiter<C> {
        let second = Duration::from_secs(1);
        let byte_burst = config
            .byte_burst
            .max(u32::try_from(MAX_DECODE_BYTES).unwrap_or(u32::MAX));
        let make = |count, burst| {
            RateLimiter::direct_with_clock(bucket(count, second, burst), clock.clone())
        };
        ConnLimiter {
            messages: make(config.messages_per_second, config.message_burst),
            bytes: make(config.bytes_per_second, byte_burst),
            drops: make(config.flood_drops_per_second, config.flood_drop_burst),
        }
    }

    /// Takes one message of `payload_bytes` from the buckets.
    pub fn admit(&self, payload_bytes: usize) -> Admit {
        let over = if self.messages.check().is_err() {
            Some(LimitReason::Messages)
        } else {
            let bytes = u32::try_from(payload_bytes).unwrap_or(u32::MAX);
            match NonZeroU32::new(bytes).map(|n| self.bytes.check_n(n)) {
                None | Some(Ok(Ok(()))) => None,
                Some(_) => Some(LimitReason::Bytes),
            }
        };
        match over {
            None => Admit::Pass,
            Some(reason) if self.drops.check().is_ok() => Admit::Drop(reason),
            Some(reason) => Admit::Close(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn config() -> LimitsConfig {
        LimitsConfig {
            messages_per_second: 10,
            message_burst: 20,
            bytes_per_second: 1000,
            byte_burst: 20_000,
            flood_drop_burst: 5,
            flood_drops_per_second: 1,
            ..LimitsConfig::default()
        }
    }

    #[test]
    fn a_burst_passes_then_excess_drops_then_a_flood_closes() {
        let clock = FakeRelativeClock::default();
        let limiter = ConnLimiter::with_clock(&config(), &clock);
        for _ in 0..20 {
            assert_eq!(limiter.admit(10), Admit::Pass);
        }
        for _ in 0..5 {
            assert_eq!(limiter.admit(10), Admit::Drop(LimitReason::Messages));
        }
        assert_eq!(limiter.admit(10), Admit::Close(LimitReason::Messages));
    }

    #[test]
    fn the_sustained_rate_passes_forever() {
        let clock = FakeRelativeClock::default();
        let limiter = ConnLimiter::with_clock(&config(), &clock);
        // 10 messages per second for a minute, evenly spaced: never dropped.
        for _ in 0..600 {
            assert_eq!(limiter.admit(50), Admit::Pass);
            clock.advance(Duration::from_millis(100));
        }
    }

    #[test]
    fn bytes_are_limited_on_their_own_and_a_maximum_message_always_fits() {
        let clock = FakeRelativeClock::default();
        let limiter = ConnLimiter::with_clock(
            &LimitsConfig {
                byte_burst: 10,
                ..config()
            },
            &clock,
        );
        // The burst was raised to one maximum-size message.
        assert_eq!(limiter.admit(MAX_DECODE_BYTES), Admit::Pass);
        assert_eq!(limiter.admit(1000), Admit::Drop(LimitReason::Bytes));
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.admit(1000), Admit::Pass);
        // Empty messages (pings) cost no bytes.
        assert_eq!(limiter.admit(0), Admit::Pass);
    }

    #[test]
    fn drops_refill_so_an_occasional_excess_never_closes() {
        let clock = FakeRelativeClock::default();
        let limiter = ConnLimiter::with_clock(&config(), &clock);
        for _ in 0..20 {
            limiter.admit(1);
        }
        // One message over the limit every second, for a minute: dropped, never closed.
        for _ in 0..60 {
            clock.advance(Duration::from_secs(1));
            for _ in 0..10 {
                assert_eq!(limiter.admit(1), Admit::Pass);
            }
            assert_eq!(limiter.admit(1), Admit::Drop(LimitReason::Messages));
        }
    }
}
