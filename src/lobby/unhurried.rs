//! `Queued` answers that wait to share a write.
//!
//! The answer to `FindMatch` is pushed unhurried ([`Outbox::push_unhurried`]): in a busy
//! queue the match is usually found at once, and its `MatchFound` (or, in a cluster, the
//! `Redirect` to the hosting node) then takes the `Queued` along in the same write. A
//! player not matched by then gets `Queued` by itself after [`queued_wait`]: two tick
//! periods, at most 100 ms.
//!
//! The local matchmaker, whose task never waits on anything but its inbox, serves every
//! waiting answer with one timer: it sleeps until [`Unhurried::next`] and calls
//! [`Unhurried::hurry`]. Values in, values out: every call that decides takes `now`. The
//! cluster's global queue waits on Redis between its turns, so it gives each answer a
//! timer of its own (`lobby/global.rs`), with the same [`queued_wait`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::outbox::Outbox;
use crate::protocol::ServerMsg;

/// How long a `Queued` may wait for other frames to share its write: two tick periods (a
/// match found at once sends `MatchFound` at the room's first tick, at most one period
/// later), and at most 100 ms, which a player cannot tell from an immediate answer.
pub(super) fn queued_wait(tick_period: Duration) -> Duration {
    (tick_period * 2).min(Duration::from_millis(100))
}

/// Answers pushed unhurried, oldest first, each with the instant it is hurried.
#[derive(Debug)]
pub(super) struct Unhurried {
    wait: Duration,
    waiting: VecDeque<(Instant, Arc<Outbox>)>,
}

impl Unhurried {
    /// Answers hurried after [`queued_wait`] of `tick_period`.
    pub(super) fn new(tick_period: Duration) -> Unhurried {
        Unhurried {
            wait: queued_wait(tick_period),
            waiting: VecDeque::new(),
        }
    }

    /// Pushes `msg` to `outbox` unhurried, to be hurried at `now` plus the wait. Returns
    /// `false` as [`Outbox::push_unhurried`] (the outbox closed; nothing to hurry).
    pub(super) fn push(&mut self, outbox: &Arc<Outbox>, msg: &ServerMsg, now: Instant) -> bool {
        let pushed = outbox.push_msg_unhurried(msg);
        if pushed {
            self.waiting.push_back((now + self.wait, outbox.clone()));
        }
        pushed
    }

    /// When the oldest waiting answer is due; `None` when none waits.
    pub(super) fn next(&self) -> Option<Instant> {
        self.waiting.front().map(|&(deadline, _)| deadline)
    }

    /// Wakes the writers of the answers whose wait is over at `now` (a writer that has
    /// written since is not woken again: [`Outbox::hurry`]). Returns how many were still
    /// waiting to be written.
    pub(super) fn hurry(&mut self, now: Instant) -> usize {
        let mut woken = 0;
        while let Some((_, outbox)) = self.waiting.pop_front_if(|(deadline, _)| *deadline <= now) {
            woken += usize::from(outbox.hurry());
        }
        woken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;

    fn queued() -> ServerMsg {
        ServerMsg::Queued {
            game: "tictactoe".into(),
            position: 1,
            queue_size: 1,
        }
    }

    #[test]
    fn the_wait_is_two_ticks_at_most_100_ms() {
        assert_eq!(
            queued_wait(Duration::from_millis(33)),
            Duration::from_millis(66)
        );
        assert_eq!(
            queued_wait(Duration::from_millis(50)),
            Duration::from_millis(100)
        );
        assert_eq!(
            queued_wait(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
    }

    /// An answer goes out with the next write if one comes within the wait, and is
    /// hurried alone (once) if none does; answers are due in the order they were pushed.
    #[test]
    fn answers_are_hurried_when_due_unless_written_already() {
        let t0 = Instant::now();
        let period = Duration::from_millis(33);
        let mut unhurried = Unhurried::new(period);
        assert_eq!(unhurried.next(), None);
        let matched = Outbox::new(Codec::Bincode, 4);
        let alone = Outbox::new(Codec::Bincode, 4);
        assert!(unhurried.push(&matched, &queued(), t0));
        assert!(unhurried.push(&alone, &queued(), t0 + period));
        assert_eq!(unhurried.next(), Some(t0 + 2 * period));

        // Nothing is due a moment before the first deadline.
        assert_eq!(
            unhurried.hurry(t0 + 2 * period - Duration::from_millis(1)),
            0
        );
        // The first player's match was found: its `MatchFound` took the `Queued` along.
        assert!(matched.push_msg(&ServerMsg::Pong { nonce: 1 }));
        let mut batch = crate::outbox::Batch::default();
        matched.take(&mut batch);
        assert_eq!(
            batch.events.len(),
            2,
            "Queued and the next frame in one batch"
        );
        assert_eq!(
            unhurried.hurry(t0 + 2 * period),
            0,
            "written already: not woken"
        );
        assert_eq!(unhurried.next(), Some(t0 + 3 * period));
        // The second was not matched: hurried alone at its deadline, once.
        assert_eq!(unhurried.hurry(t0 + 3 * period), 1);
        assert_eq!(unhurried.next(), None);
        assert_eq!(unhurried.hurry(t0 + 10 * period), 0);

        // A closed outbox takes nothing and waits for nothing.
        let closed = Outbox::new(Codec::Bincode, 1);
        assert!(closed.push_msg(&queued()));
        assert!(!closed.push_msg(&queued()), "over capacity: closed");
        assert!(!unhurried.push(&closed, &queued(), t0));
        assert_eq!(unhurried.next(), None);
    }
}
