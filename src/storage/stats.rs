//! The writer's counters, read at `/metrics` scrape time: relaxed atomics, no lock.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::metrics::{MetricSource, Rows};

/// Why a finished game was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// The writer's queue was full.
    QueueFull,
    /// The database refused the record (not a transient failure).
    Refused,
    /// The server stopped before the record was written.
    Shutdown,
}

/// Counters of the results writer.
#[derive(Debug, Default)]
pub struct StorageStats {
    depth: AtomicI64,
    writes: AtomicU64,
    transactions: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    dropped_full: AtomicU64,
    dropped_refused: AtomicU64,
    dropped_shutdown: AtomicU64,
    pruned: AtomicU64,
}

impl StorageStats {
    pub(crate) fn queued(&self, n: u64) {
        self.depth.fetch_add(n as i64, Ordering::Relaxed);
    }

    pub(crate) fn taken(&self, n: usize) {
        self.depth.fetch_sub(n as i64, Ordering::Relaxed);
    }

    pub(crate) fn committed(&self, matches: usize) {
        self.writes.fetch_add(matches as u64, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn pruned(&self, guests: u64) {
        self.pruned.fetch_add(guests, Ordering::Relaxed);
    }

    /// Guests pruned (see `storage::prune`).
    pub fn guests_pruned(&self) -> u64 {
        self.pruned.load(Ordering::Relaxed)
    }

    pub(crate) fn dropped(&self, reason: DropReason, n: usize) {
        let counter = match reason {
            DropReason::QueueFull => &self.dropped_full,
            DropReason::Refused => &self.dropped_refused,
            DropReason::Shutdown => &self.dropped_shutdown,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Finished games waiting for the writer (queued, or in a batch being written).
    pub fn queue_depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed).max(0) as u64
    }

    /// Matches committed.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Write transactions committed (each holds one or more matches).
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }

    /// Failed write attempts (each is retried or, if refused twice, dropped).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Retried write attempts.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Finished games not recorded, for any reason.
    pub fn dropped_total(&self) -> u64 {
        [
            &self.dropped_full,
            &self.dropped_refused,
            &self.dropped_shutdown,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

impl MetricSource for StorageStats {
    fn collect(&self, out: &mut Rows) {
        out.gauge(
            "ticksync_storage_queue_depth",
            "Finished games waiting for the results writer.",
            &[],
            self.queue_depth() as f64,
        );
        out.counter(
            "ticksync_storage_writes",
            "Matches committed to the database.",
            &[],
            self.writes(),
        );
        out.counter(
            "ticksync_storage_transactions",
            "Write transactions committed (each holds one or more matches).",
            &[],
            self.transactions(),
        );
        out.counter(
            "ticksync_storage_failures",
            "Failed write attempts.",
            &[],
            self.failures(),
        );
        out.counter(
            "ticksync_storage_retries",
            "Write attempts retried after a failure.",
            &[],
            self.retries(),
        );
        out.counter(
            "ticksync_storage_guests_pruned",
            "Guest players deleted after --guest-retention-days without a game.",
            &[],
            self.guests_pruned(),
        );
        for (reason, counter) in [
            ("queue_full", &self.dropped_full),
            ("refused", &self.dropped_refused),
            ("shutdown", &self.dropped_shutdown),
        ] {
            out.counter(
                "ticksync_storage_dropped",
                "Finished games not recorded, by reason.",
                &[("reason", reason)],
                counter.load(Ordering::Relaxed),
            );
        }
    }
}
