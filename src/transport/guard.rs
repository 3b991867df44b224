//! The door: per-IP limits and the browser `Origin` allow-list, checked on every WebSocket
//! upgrade request before it is answered, so a refused client costs one HTTP response.
//!
//! - **Origin**: with [`GuardConfig::allowed_origins`] set, an upgrade whose `Origin`
//!   header is not in the list gets HTTP 403. Requests without `Origin` (non-browser
//!   clients; every browser sends one) pass.
//! - **New connections per second per IP** ([`GuardConfig::new_connections_per_ip_per_second`]):
//!   a GCRA token bucket per address (governor's keyed limiter) with a burst of the same
//!   size; over it: HTTP 429 with `Retry-After` in whole seconds.
//! - **Concurrent connections per IP** ([`GuardConfig::max_connections_per_ip`]): the
//!   upgrade takes an [`IpPermit`] that the connection holds until it ends; over the cap:
//!   HTTP 429 with `Retry-After: 5`.
//!
//! The address is the TCP peer's, or with [`GuardConfig::trust_proxy`] the last entry of
//! the last `X-Forwarded-For` header (the one the proxy in front of us appended; entries
//! before it are whatever the client claimed). IPv6 addresses count per /64, since one
//! host usually holds a whole /64.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper::StatusCode;
use hyper::header::{self, HeaderMap};

/// Per-IP limits and the Origin allow-list. 0 turns a limit off.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Most open WebSocket connections from one address.
    pub max_connections_per_ip: usize,
    /// New WebSocket connections per second from one address (also the burst).
    pub new_connections_per_ip_per_second: u32,
    /// Take the client's address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    /// Origins browsers may connect from, e.g. `https://play.example.com`; empty: any.
    pub allowed_origins: Vec<String>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_connections_per_ip: 100,
            new_connections_per_ip_per_second: 20,
            trust_proxy: false,
            allowed_origins: Vec::new(),
        }
    }
}

impl GuardConfig {
    /// No per-IP limits and no Origin check (for tests and load drivers that run many
    /// clients from one address).
    pub fn unlimited() -> GuardConfig {
        GuardConfig {
            max_connections_per_ip: 0,
            new_connections_per_ip_per_second: 0,
            ..GuardConfig::default()
        }
    }
}

/// Seconds a client refused for too many open connections is told to wait.
const CONCURRENT_RETRY_AFTER_SECS: u64 = 5;
/// The rate limiter forgets idle addresses every this many checks.
const PRUNE_EVERY: u64 = 4096;

/// A refused upgrade: the HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 403 or 429.
    pub status: StatusCode,
    /// The `Retry-After` value, for 429.
    pub retry_after: Option<u64>,
    /// Plain-text body.
    pub reason: &'static str,
}

/// Refusals counted by reason.
#[derive(Debug, Default)]
pub struct GuardCounters {
    origin: AtomicU64,
    rate: AtomicU64,
    concurrent: AtomicU64,
}

impl GuardCounters {
    /// `(name, labels, value)` rows for the metrics endpoint.
    pub fn rows(&self) -> Vec<crate::security::CounterRow> {
        let row = |reason, counter: &AtomicU64| {
            (
                "ticksync_upgrades_refused_total",
                vec![("reason", reason)],
                counter.load(Ordering::Relaxed),
            )
        };
        vec![
            row("origin", &self.origin),
            row("ip_rate", &self.rate),
            row("ip_connections", &self.concurrent),
        ]
    }
}

/// The per-IP tables.
pub struct Guard {
    config: GuardConfig,
    open: Mutex<HashMap<IpAddr, usize>>,
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU64,
    /// Refusals by reason.
    pub counters: GuardCounters,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One open connection's place in its address's count; released on drop.
#[derive(Debug)]
pub struct IpPermit {
    guard: Arc<Guard>,
    key: Option<IpAddr>,
}

impl Drop for IpPermit {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut open = self.guard.open();
            if let Some(count) = open.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

impl Guard {
    /// A guard applying `config`.
    pub fn new(config: GuardConfig) -> Guard {
        let rate = NonZeroU32::new(config.new_connections_per_ip_per_second)
            .map(|n| RateLimiter::keyed(Quota::per_second(n)));
        Guard {
            config,
            open: Mutex::new(HashMap::new()),
            rate,
            checks: AtomicU64::new(0),
            counters: GuardCounters::default(),
        }
    }

    fn open(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The address a request counts against: the peer's, or the proxy's word for it.
    pub fn client_ip(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        if self.config.trust_proxy {
            forwarded_for(headers).unwrap_or(peer)
        } else {
            peer
        }
    }

    /// Checks an upgrade request from `peer` and, if it may proceed, counts it as open
    /// until the returned permit is dropped.
    ///
    /// # Errors
    /// [`Refusal`] with 403 (origin) or 429 (rate or count).
    pub fn admit(self: &Arc<Self>, headers: &HeaderMap, peer: IpAddr) -> Result<IpPermit, Refusal> {
        if !self.origin_allowed(headers) {
            self.counters.origin.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                retry_after: None,
                reason: "origin not allowed",
            });
        }
        let key = per_host(self.client_ip(headers, peer));
        if let Some(rate) = &self.rate {
            if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
                rate.retain_recent();
                rate.shrink_to_fit();
            }
            if let Err(not_until) = rate.check_key(&key) {
                self.counters.rate.fetch_add(1, Ordering::Relaxed);
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Err(Refusal {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    retry_after: Some(whole_seconds(wait)),
                    reason: "too many new connections from your address",
                });
            }
        }
        let cap = self.config.max_connections_per_ip;
        if cap == 0 {
            return Ok(IpPermit {
                guard: self.clone(),
                key: None,
            });
        }
        let mut open = self.open();
        let count = open.entry(key).or_insert(0);
        if *count >= cap {
            drop(open);
            self.counters.concurrent.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(CONCURRENT_RETRY_AFTER_SECS),
                reason: "too many connections from your address",
            });
        }
        *count += 1;
        drop(open);
        Ok(IpPermit {
            guard: self.clone(),
            key: Some(key),
        })
    }

    /// Open connections counted against `ip` (for tests and the admin view).
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open().get(&per_host(ip)).copied().unwrap_or(0)
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        if self.config.allowed_origins.is_empty() {
            return true;
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/');
        self.config
            .allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// Rounds a wait up to whole seconds, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The last address in the last `X-Forwarded-For` header.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let entry = last.to_str().ok()?.rsplit(',').next()?.trim();
    entry.parse().ok()
}

/// The key an address counts under: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64.
fn per_host(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
        ]);
        let plain = Guard::new(GuardConfig::default());
        assert_eq!(plain.client_ip(&h, PEER), PEER);
        let proxied = Guard::new(GuardConfig {
            trust_proxy: true,
            ..GuardConfig::default()
        });
        assert_eq!(
            proxied.client_ip(&h, PEER),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let junk = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(proxied.client_ip(&junk, PEER), PEER);
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(per_host(a), per_host(b));
        assert_ne!(per_host(a), per_host(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(per_host(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn concurrent_cap_is_released_on_drop() {
        let guard = Arc::new(Guard::new(GuardConfig {
            max_connections_per_ip: 2,
            new_connections_per_ip_per_second: 0,
            ..GuardConfig::default()
        }));
        let none = HeaderMap::new();
        let first = guard.admit(&none, PEER).unwrap();
        let _second = guard.admit(&none, PEER).unwrap();
        let refused = guard.admit(&none, PEER).unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.retry_after, Some(CONCURRENT_RETRY_AFTER_SECS));
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(guard.admit(&none, other).is_ok());
        drop(first);
        assert_eq!(guard.open_from(PEER), 1);
        assert!(guard.admit(&none, PEER).is_ok());
    }

    #[test]
    fn origins() {
        let guard = Arc::new(Guard::new(GuardConfig {
            allowed_origins: vec!["https://play.example.com/".into()],
            ..GuardConfig::unlimited()
        }));
        for (origin, ok) in [
            (Some("https://play.example.com"), true),
            (Some("HTTPS://PLAY.EXAMPLE.COM"), true),
            (Some("https://evil.example.com"), false),
            (Some("null"), false),
            (None, true),
        ] {
            let h = match origin {
                Some(o) => headers(&[("origin", Box::leak(o.to_string().into_boxed_str()))]),
                None => HeaderMap::new(),
            };
            assert_eq!(guard.admit(&h, PEER).is_ok(), ok, "{origin:?}");
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
    }
}
