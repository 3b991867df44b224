//! Each connection's fair share of its shard's inbox.
//!
//! A shard's inbox is shared by every connection with a room on that shard. Each game
//! input a connection forwards holds an [`InboxShare`] until the shard takes it out of the
//! inbox; a connection that already has [`InboxShares::cap`] inputs waiting gets
//! `RateLimited` instead, so no connection can fill the inbox for the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// One connection's count of inputs waiting in its shard's inbox.
#[derive(Debug, Clone)]
pub struct InboxShares {
    waiting: Arc<AtomicU32>,
    cap: u32,
}

impl InboxShares {
    /// Shares for a connection allowed `cap` waiting inputs (at least one).
    pub fn new(cap: u32) -> InboxShares {
        InboxShares {
            waiting: Arc::new(AtomicU32::new(0)),
            cap: cap.max(1),
        }
    }

    /// The most inputs this connection may have waiting.
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Inputs waiting now.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::Acquire)
    }

    /// A share for one more input, unless the connection's share is used up.
    pub fn try_take(&self) -> Option<InboxShare> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.cap).then_some(n + 1)
            })
            .ok()
            .map(|_| InboxShare(Some(self.waiting.clone())))
    }
}

/// One input's place in its shard's inbox, given back when dropped (when the shard takes
/// the input out of its inbox).
#[derive(Debug)]
pub struct InboxShare(Option<Arc<AtomicU32>>);

impl InboxShare {
    /// A share that counts against nobody (benches, tests, inputs not from a connection).
    pub fn untracked() -> InboxShare {
        InboxShare(None)
    }
}

impl Drop for InboxShare {
    fn drop(&mut self) {
        if let Some(waiting) = &self.0 {
            waiting.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_run_out_at_the_cap_and_come_back_when_dropped() {
        let shares = InboxShares::new(2);
        let a = shares.try_take().unwrap();
        let b = shares.try_take().unwrap();
        assert!(shares.try_take().is_none());
        assert_eq!(shares.waiting(), 2);
        drop(a);
        let c = shares.try_take().unwrap();
        drop((b, c));
        assert_eq!(shares.waiting(), 0);
        drop(InboxShare::untracked());
        assert_eq!(shares.waiting(), 0);
    }
}
