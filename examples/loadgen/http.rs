//! Tiny HTTP/1.1 GETs against the server's own endpoints (`/healthz`, `/metrics.json`),
//! over TLS for a `wss://` URL (e.g. through nginx).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the server's HTTP endpoints are: host:port, and the TLS to speak (`https`) or
/// none (`http`).
#[derive(Clone)]
pub struct Endpoint {
    /// host:port.
    pub authority: String,
    /// The TLS configuration and the name the certificate must carry, for `https`.
    pub tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority)
    }
}

/// Sends `request` on `stream` and reads the whole response (at most 16 MiB).
async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    request: &str,
) -> anyhow::Result<Vec<u8>> {
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream
        .take(16 * 1024 * 1024)
        .read_to_end(&mut response)
        .await?;
    Ok(response)
}

/// `GET path` on `endpoint`; returns the body. Bounded in time and size.
pub async fn get(endpoint: &Endpoint, path: &str) -> anyhow::Result<String> {
    let authority = &endpoint.authority;
    let fetch = async {
        let stream = TcpStream::connect(authority).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
        match &endpoint.tls {
            None => exchange(stream, &request).await,
            Some((config, name)) => {
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                let stream = connector.connect(name.clone(), stream).await?;
                exchange(stream, &request).await
            }
        }
    };
    let response = tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .context("HTTP GET timed out")??;
    let text = String::from_utf8(response).context("non-UTF-8 response")?;
    let (head, body) = text.split_once("\r\n\r\n").context("no header end")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or_default());
    }
    Ok(body.to_string())
}

/// Whether `error` (from [`get`]) is a TLS certificate that no trusted root vouches for.
pub fn untrusted_certificate(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|tls| matches!(tls, rustls::Error::InvalidCertificate(_)))
    })
}

/// Open connections per `/healthz`.
pub async fn connections(endpoint: &Endpoint) -> anyhow::Result<u64> {
    let body: serde_json::Value = serde_json::from_str(&get(endpoint, "/healthz").await?)?;
    body["connections"]
        .as_u64()
        .context("no `connections` in /healthz")
}

/// One reading of `/metrics.json`: every shard's tick-duration histogram merged, and tick
/// counters.
#[derive(Debug, Clone)]
pub struct TickReading {
    /// Tick work durations (wall clock), microseconds, all shards.
    pub tick_us: Histogram<u64>,
    /// CPU time per tick, microseconds, all shards (empty if the server does not report it).
    pub tick_cpu_us: Histogram<u64>,
    /// Ticks whose work overran the period, all shards.
    pub overruns: u64,
    /// Tick slots skipped, all shards.
    pub skipped: u64,
    /// States superseded in an outbox before they were written, all shards.
    pub superseded: u64,
    /// Shards.
    pub shards: usize,
}

/// Reads `/metrics.json` (a ticksync server's; other servers have none).
pub async fn ticks(endpoint: &Endpoint) -> anyhow::Result<TickReading> {
    let body: serde_json::Value = serde_json::from_str(&get(endpoint, "/metrics.json").await?)?;
    let shards = body["shards"].as_array().context("no `shards`")?;
    let mut tick_us = ticksync::histogram::ticks();
    let mut tick_cpu_us = ticksync::histogram::ticks();
    let (mut overruns, mut skipped, mut superseded) = (0, 0, 0);
    for shard in shards {
        overruns += shard["overruns"].as_u64().unwrap_or(0);
        skipped += shard["skipped"].as_u64().unwrap_or(0);
        superseded += shard["superseded"].as_u64().unwrap_or(0);
        let pairs = shard["tick_us_recorded"]
            .as_array()
            .context("no histogram")?;
        record_pairs(&mut tick_us, pairs)?;
        if let Some(pairs) = shard["tick_cpu_us_recorded"].as_array() {
            record_pairs(&mut tick_cpu_us, pairs)?;
        }
    }
    Ok(TickReading {
        tick_us,
        tick_cpu_us,
        overruns,
        skipped,
        superseded,
        shards: shards.len(),
    })
}

/// Adds `/metrics.json`' `[value, count]` pairs to a histogram.
fn record_pairs(histogram: &mut Histogram<u64>, pairs: &[serde_json::Value]) -> anyhow::Result<()> {
    for pair in pairs {
        let (Some(value), Some(count)) = (pair[0].as_u64(), pair[1].as_u64()) else {
            bail!("bad histogram entry {pair}");
        };
        histogram.saturating_record_n(value, count);
    }
    Ok(())
}

impl TickReading {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &TickReading) -> anyhow::Result<TickReading> {
        let subtract = |now: &Histogram<u64>, then: &Histogram<u64>| {
            let mut window = now.clone();
            window
                .subtract(then)
                .map_err(|e| anyhow::anyhow!("histograms do not subtract: {e:?}"))?;
            anyhow::Ok(window)
        };
        Ok(TickReading {
            tick_us: subtract(&self.tick_us, &earlier.tick_us)?,
            tick_cpu_us: subtract(&self.tick_cpu_us, &earlier.tick_cpu_us)?,
            overruns: self.overruns.saturating_sub(earlier.overruns),
            skipped: self.skipped.saturating_sub(earlier.skipped),
            superseded: self.superseded.saturating_sub(earlier.superseded),
            shards: self.shards,
        })
    }
}
