//! Prometheus metrics: `GET /metrics` in the Prometheus text format (version 0.0.4).
//!
//! Every family is produced at scrape time by a [`MetricSource`], which reports samples
//! into [`Rows`]; [`Metrics::render`] turns them into text with the `prometheus-client`
//! crate's encoder (no hand-made exposition text). Sources are of two kinds:
//!
//! - **counters kept on the hot path** ([`WireCounters`]: messages and bytes by kind,
//!   closes by code, errors by code, resumes, HTTP refusals) are plain atomics, written
//!   with one relaxed `fetch_add` per message and read only when scraped: no lock and no
//!   allocation per message;
//! - **state read at scrape time** (connections, sessions, queues, rooms, shard tick
//!   histograms) is taken from the server's own structures when `/metrics` is asked for.
//!
//! # Plugging in more counters
//!
//! Any struct of atomics can become a source: implement [`MetricSource`] and register it
//! once at start-up with [`Metrics::register`] (for example from
//! [`crate::server::Server::metrics`]). A struct that already reports
//! `(name, labels, value)` rows needs only [`Rows::counter_rows`]:
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use ticksync::metrics::{Metrics, MetricSource, Rows};
//!
//! #[derive(Debug, Default)]
//! struct Limits { dropped: AtomicU64 }
//!
//! impl Limits {
//!     fn rows(&self) -> Vec<(&'static str, Vec<(&'static str, String)>, u64)> {
//!         let dropped = self.dropped.load(Ordering::Relaxed);
//!         vec![("ticksync_limit_hits_total", vec![("reason", "flood".into())], dropped)]
//!     }
//! }
//!
//! impl MetricSource for Limits {
//!     fn collect(&self, out: &mut Rows) {
//!         out.counter_rows("Limit hits by reason.", self.rows());
//!     }
//! }
//!
//! let metrics = Metrics::default();
//! let limits = Arc::new(Limits::default());
//! limits.dropped.fetch_add(3, Ordering::Relaxed);
//! metrics.register(limits);
//! let text = metrics.render(&[]);
//! assert!(text.contains("ticksync_limit_hits_total{reason=\"flood\"} 3"));
//! ```

mod rows;
mod server;
mod sources;
mod wire;

pub use rows::{MetricSource, Rows};
pub(crate) use server::ServerSnapshot;
pub use wire::{ClientKind, HttpRefusal, WireCounters, server_kind};

use std::sync::{Arc, RwLock};

use prometheus_client::registry::Registry;

/// The `Content-Type` of `GET /metrics`.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The metrics of one server: its hot-path counters and every registered source.
#[derive(Debug, Default)]
pub struct Metrics {
    wire: Arc<WireCounters>,
    sources: RwLock<Vec<Arc<dyn MetricSource>>>,
}

impl Metrics {
    /// The counters the connections write on every message.
    pub fn wire(&self) -> &Arc<WireCounters> {
        &self.wire
    }

    /// Adds a source whose samples every later scrape includes. Meant for start-up; a
    /// scrape takes a read lock on the list, never the hot path.
    pub fn register(&self, source: Arc<dyn MetricSource>) {
        self.sources
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(source);
    }

    /// Renders the wire counters, every registered source, then `extra` (state read for
    /// this scrape), in the Prometheus text format.
    pub fn render(&self, extra: &[&dyn MetricSource]) -> String {
        let mut rows = Rows::default();
        self.wire.collect(&mut rows);
        for source in self
            .sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            source.collect(&mut rows);
        }
        for source in extra {
            source.collect(&mut rows);
        }
        let mut registry = Registry::default();
        registry.register_collector(Box::new(rows));
        let mut text = String::new();
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        {
            tracing::error!(%error, "could not encode the metrics");
        }
        text
    }
}
