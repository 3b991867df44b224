//! [`MetricSource`], the one thing a counter struct implements to appear in `/metrics`,
//! and [`Rows`], the samples a scrape collects before they are encoded.

use std::collections::HashMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

/// Something that reports metric samples when `/metrics` is scraped. `collect` runs on the
/// HTTP task of the scrape: read atomics or cheap snapshots, never wait.
pub trait MetricSource: Send + Sync + std::fmt::Debug + 'static {
    /// Reports this source's samples.
    fn collect(&self, out: &mut Rows);
}

/// Labels of one sample, as (name, value) pairs.
type Labels = Vec<(String, String)>;

#[derive(Debug)]
enum Value {
    Counter(u64),
    Gauge(f64),
    Histogram {
        sum: f64,
        count: u64,
        /// (upper bound, observations in this bucket only), ascending.
        buckets: Vec<(f64, u64)>,
    },
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    metric_type: MetricType,
    samples: Vec<(Labels, Value)>,
}

/// The samples of one scrape, grouped into families by name in the order first reported.
#[derive(Debug, Default)]
pub struct Rows {
    families: Vec<Family>,
    by_name: HashMap<String, usize>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

impl Rows {
    fn push(
        &mut self,
        name: &str,
        help: &str,
        metric_type: MetricType,
        labels: Labels,
        value: Value,
    ) {
        let index = *self.by_name.entry(name.to_string()).or_insert_with(|| {
            self.families.push(Family {
                name: name.to_string(),
                help: help.to_string(),
                metric_type,
                samples: Vec::new(),
            });
            self.families.len() - 1
        });
        let family = &mut self.families[index];
        if family.metric_type != metric_type {
            tracing::debug!(name, "metric reported with two types; sample dropped");
            return;
        }
        family.samples.push((labels, value));
    }

    /// A counter sample. The name is given without the `_total` suffix, which the encoder
    /// adds (a trailing `_total` is accepted and stripped).
    pub fn counter(&mut self, name: &str, help: &str, labels_: &[(&str, &str)], value: u64) {
        let name = name.strip_suffix("_total").unwrap_or(name);
        self.push(
            name,
            help,
            MetricType::Counter,
            labels(labels_),
            Value::Counter(value),
        );
    }

    /// A gauge sample.
    pub fn gauge(&mut self, name: &str, help: &str, labels_: &[(&str, &str)], value: f64) {
        self.push(
            name,
            help,
            MetricType::Gauge,
            labels(labels_),
            Value::Gauge(value),
        );
    }

    /// A histogram sample: `buckets` are (upper bound, observations in that bucket alone),
    /// ascending; observations above the last bound count only in `count`.
    pub fn histogram(
        &mut self,
        name: &str,
        help: &str,
        labels_: &[(&str, &str)],
        sum: f64,
        count: u64,
        buckets: Vec<(f64, u64)>,
    ) {
        let value = Value::Histogram {
            sum,
            count,
            buckets,
        };
        self.push(name, help, MetricType::Histogram, labels(labels_), value);
    }

    /// Counter rows in the `(name, labels, value)` shape other modules report, all with
    /// the same help text.
    pub fn counter_rows<N, L, K, V>(
        &mut self,
        help: &str,
        rows: impl IntoIterator<Item = (N, L, u64)>,
    ) where
        N: AsRef<str>,
        L: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        for (name, labels, value) in rows {
            let name = name.as_ref();
            let name = name.strip_suffix("_total").unwrap_or(name);
            let labels = labels
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            self.push(
                name,
                help,
                MetricType::Counter,
                labels,
                Value::Counter(value),
            );
        }
    }
}

impl Collector for Rows {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.families {
            let mut metric =
                encoder.encode_descriptor(&family.name, &family.help, None, family.metric_type)?;
            for (labels, value) in &family.samples {
                let mut sample = metric.encode_family(labels)?;
                match value {
                    Value::Counter(v) => {
                        sample.encode_counter::<NoLabelSet, _, u64>(v, None)?;
                    }
                    Value::Gauge(v) => sample.encode_gauge(v)?,
                    Value::Histogram {
                        sum,
                        count,
                        buckets,
                    } => sample.encode_histogram::<NoLabelSet>(*sum, *count, buckets, None)?,
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    fn render(rows: Rows) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(rows));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn families_group_samples_and_counters_get_total() {
        let mut rows = Rows::default();
        rows.counter("x_msgs", "Messages.", &[("kind", "a")], 2);
        rows.gauge("x_open", "Open.", &[], 5.0);
        rows.counter("x_msgs_total", "Messages.", &[("kind", "b")], 3);
        let text = render(rows);
        assert!(text.contains("# TYPE x_msgs_total counter\n"), "{text}");
        assert!(text.contains("x_msgs_total{kind=\"a\"} 2\n"), "{text}");
        assert!(text.contains("x_msgs_total{kind=\"b\"} 3\n"), "{text}");
        assert!(text.contains("x_open 5"), "{text}");
        assert_eq!(text.matches("# TYPE x_msgs_total").count(), 1, "{text}");
    }

    #[test]
    fn histogram_buckets_are_cumulative_in_the_text() {
        let mut rows = Rows::default();
        rows.histogram(
            "x_us",
            "Durations.",
            &[("shard", "0")],
            60.0,
            4,
            vec![(10.0, 1), (100.0, 2)],
        );
        let text = render(rows);
        assert!(
            text.contains("x_us_bucket{shard=\"0\",le=\"10\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("x_us_bucket{shard=\"0\",le=\"100\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("x_us_bucket{shard=\"0\",le=\"+Inf\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("x_us_count{shard=\"0\"} 4\n"), "{text}");
    }

    #[test]
    fn a_name_reported_with_two_types_keeps_the_first() {
        let mut rows = Rows::default();
        rows.gauge("x", "X.", &[], 1.0);
        rows.counter("x", "X.", &[("a", "b")], 1);
        let text = render(rows);
        assert!(!text.contains("a=\"b\""), "{text}");
    }
}
