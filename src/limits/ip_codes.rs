//! Room-code lookups per client address: a keyed token bucket shared by every connection
//! from one address (as the per-IP limits count it: the peer, or `X-Forwarded-For` behind
//! a trusted proxy). It caps how fast one address can guess codes however many
//! connections it opens, where the per-connection [`CodeGuard`](super::CodeGuard) only
//! caps one connection. Every `JoinRoom` takes a token, found or not: a household playing
//! normally joins a handful of rooms, a guesser thousands.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, RateLimiter};

use super::{LimitsConfig, bucket};

/// How many checks pass between sweeps of addresses whose bucket is full again.
const SWEEP_EVERY: u32 = 1024;

/// The shared per-address bucket of `JoinRoom` lookups.
#[derive(Debug)]
pub struct IpCodeLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU32,
}

impl IpCodeLimiter {
    /// A limiter with the lookups per minute and burst of `config`.
    pub fn new(config: &LimitsConfig) -> IpCodeLimiter {
        let quota = bucket(
            config.ip_code_lookups_per_minute,
            Duration::from_secs(60),
            config.ip_code_lookup_burst,
        );
        IpCodeLimiter {
            limiter: RateLimiter::keyed(quota),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one lookup for `ip`; `false` when its address is over the limit.
    pub fn allow(&self, ip: IpAddr) -> bool {
        // Forget addresses that have not looked anything up lately, now and then, so the
        // table holds only the recently active ones.
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_burst() {
        let config = LimitsConfig {
            ip_code_lookup_burst: 3,
            ip_code_lookups_per_minute: 1,
            ..LimitsConfig::default()
        };
        let limiter = IpCodeLimiter::new(&config);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.allow(a));
        }
        assert!(!limiter.allow(a), "the burst is spent");
        assert!(limiter.allow(b), "another address is not affected");
    }
}
