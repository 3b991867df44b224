//! When the shards tick: together while the server is light, staggered once it is busy.
//!
//! Each tick ends by waking the writer of every connection that got frames
//! ([`crate::outbox::with_deferred_wakes`]). Shards that tick at the same instant wake all
//! their writers at once, and the last of them waits behind every other send of that
//! instant; on a busy machine some then miss their next state (the client skips it). Shard
//! `i` of `S` ticking `i / S` of a period after the first spreads those sends over the
//! period, as the bare WebSocket server of the benchmarks does. But on a light server
//! ticking together is cheaper: the worker threads wake once a period instead of once per
//! shard, and the clients' answers come back in one burst (BENCHMARKS.md, seventeenth
//! session: staggered ticks cost a fifth more CPU per tic-tac-toe move at 200 clients, and
//! held 3,000 arena clients on 2 cores where ticking together held none of 6 runs).
//!
//! Policy: every shard records, after each tick, how many writers it woke. While the sum
//! over the shards' latest ticks is under [`SPREAD_ABOVE`], the shards tick together; from
//! it on they are staggered, and they tick together again once it falls under half of it
//! (the gap keeps a load near the bound from switching at every tick). A shard that
//! changes phase moves its next tick to the first instant of its new phase that is after
//! now and in a later period than its last tick ([`next_tick`]), so it never ticks twice
//! in one period and its tick numbers stay those of the clock (see `shard.rs`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::protocol::Tick;

/// Writers woken per period (summed over the shards' latest ticks) from which the shards
/// tick staggered: about a thousand sends, several milliseconds of one core, a sizeable
/// part of a 30 Hz period for the last writer to wait.
pub(crate) const SPREAD_ABOVE: usize = 1000;

/// The engine's shared view of the shards' load, and the phase it asks of them.
#[derive(Debug)]
pub(crate) struct Pacing {
    woken: Box<[AtomicUsize]>,
    spread: AtomicBool,
    above: usize,
}

impl Pacing {
    /// Pacing for `shards` shards that stagger from `above` writers per period on.
    pub(crate) fn new(shards: usize, above: usize) -> Pacing {
        Pacing {
            woken: (0..shards.max(1)).map(|_| AtomicUsize::new(0)).collect(),
            spread: AtomicBool::new(false),
            above,
        }
    }

    /// Records that shard `shard` woke `woken` writers at its tick; returns whether the
    /// shards are to tick staggered from now on.
    pub(crate) fn record(&self, shard: usize, woken: usize) -> bool {
        if let Some(slot) = self.woken.get(shard) {
            slot.store(woken, Ordering::Relaxed);
        }
        let total = self.woken.iter().map(|w| w.load(Ordering::Relaxed)).sum();
        let spread = decide(self.spread.load(Ordering::Relaxed), total, self.above);
        self.spread.store(spread, Ordering::Relaxed);
        spread
    }
}

/// Whether to tick staggered, having ticked `spread`, with `total` writers woken per
/// period: from `above` on, until under half of it.
pub(crate) fn decide(spread: bool, total: usize, above: usize) -> bool {
    if spread {
        total >= above / 2
    } else {
        total >= above
    }
}

/// Shard `index` of `shards`'s offset from the first shard's ticks when staggered.
pub(crate) fn offset(period: Duration, index: usize, shards: usize) -> Duration {
    let shards = u32::try_from(shards.max(1)).unwrap_or(u32::MAX);
    let index = u32::try_from(index).unwrap_or(0).min(shards - 1);
    period * index / shards
}

/// When a shard that moves to the phase `offset` ticks next, as a `Duration` since the
/// engine's start: the first instant `offset + m * period` after `since` whose period
/// comes after that of tick `after` (the shard's last), so that a shard changing phase
/// never ticks twice in one period and its tick numbers stay those of the clock.
pub(crate) fn next_tick(
    offset: Duration,
    period: Duration,
    since: Duration,
    after: Tick,
) -> Duration {
    let period_ns = period.as_nanos().max(1);
    let after_since = match since.checked_sub(offset) {
        Some(past) => past.as_nanos() / period_ns + 1,
        None => 0,
    };
    let m = after_since.max(u128::from(after) + 1);
    offset + Duration::from_nanos(u64::try_from(m * period_ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_stagger_from_the_bound_and_tick_together_again_under_half_of_it() {
        assert!(!decide(false, 999, 1000));
        assert!(decide(false, 1000, 1000));
        assert!(decide(true, 999, 1000));
        assert!(decide(true, 500, 1000));
        assert!(!decide(true, 499, 1000));
        assert!(!decide(false, 0, 1000));
    }

    #[test]
    fn every_shards_latest_tick_counts() {
        let pacing = Pacing::new(2, 1000);
        assert!(!pacing.record(0, 600));
        assert!(pacing.record(1, 400), "600 + 400 writers a period");
        assert!(pacing.record(0, 200), "200 + 400: still over half");
        assert!(!pacing.record(1, 250), "200 + 250: under half");
        assert!(
            !pacing.record(7, 10_000),
            "a shard that does not exist counts nothing"
        );
    }

    #[test]
    fn offsets_divide_the_period() {
        let period = Duration::from_millis(30);
        assert_eq!(offset(period, 0, 2), Duration::ZERO);
        assert_eq!(offset(period, 1, 2), Duration::from_millis(15));
        assert_eq!(offset(period, 3, 4), Duration::from_micros(22_500));
        assert_eq!(offset(period, 0, 0), Duration::ZERO);
    }

    #[test]
    fn a_shard_changing_phase_ticks_next_in_a_later_period() {
        let ms = Duration::from_millis;
        // Together at 0, 30, 60, 90 ms (tick 3 at 90); staggered by 15 from now on: not at
        // 105 (tick 3's period still), at 135, tick 4.
        assert_eq!(next_tick(ms(15), ms(30), ms(91), 3), ms(135));
        // A late tick: tick 3 ran at 104 ms; 105 would be its period too.
        assert_eq!(next_tick(ms(15), ms(30), ms(104), 3), ms(135));
        // Far behind the clock (slots were skipped): the first instant after now.
        assert_eq!(next_tick(ms(15), ms(30), ms(200), 3), ms(225));
        // Staggered at 15, 45, 75 (tick 2 at 75); together from now on: at 90, tick 3.
        assert_eq!(next_tick(ms(0), ms(30), ms(76), 2), ms(90));
        // Before the offset itself.
        assert_eq!(next_tick(ms(15), ms(30), ms(3), 0), ms(45));
    }
}
