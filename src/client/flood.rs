//! A flooding client, for checking the server's per-connection limits: it sends `Ack`s at
//! a fixed rate (100,000 per second by default), in batches, until the server closes it.

use std::time::Duration;

use tokio::time::Instant;

use super::{ClientError, Connection};
use crate::codec::Codec;
use crate::protocol::ClientMsg;

/// How to flood.
#[derive(Debug, Clone)]
pub struct FloodConfig {
    /// Server URL.
    pub url: String,
    /// Codec to speak.
    pub codec: Codec,
    /// Messages per second to send.
    pub per_second: u32,
    /// Messages per write (one flush each).
    pub batch: u32,
    /// Give up if the server has not closed the connection by then.
    pub timeout: Duration,
}

impl FloodConfig {
    /// 100,000 `Ack`s per second in batches of 1,000, for at most 10 s.
    pub fn new(url: impl Into<String>) -> FloodConfig {
        FloodConfig {
            url: url.into(),
            codec: Codec::Bincode,
            per_second: 100_000,
            batch: 1000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// How a flood ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodOutcome {
    /// Messages written before the server closed the connection.
    pub sent: u64,
    /// The server's close code (`None` if the stream ended without a close frame).
    pub close_code: Option<u16>,
    /// The close frame's reason.
    pub reason: String,
    /// From the first message to the close.
    pub lasted: Duration,
}

/// Connects, says `Hello`, and floods until the server closes the connection.
///
/// # Errors
/// [`ClientError::Timeout`] if the server keeps the connection open past
/// [`FloodConfig::timeout`], or any connection error before the close.
pub async fn flood(config: &FloodConfig) -> Result<FloodOutcome, ClientError> {
    let mut conn = Connection::connect(&config.url, config.codec, config.timeout).await?;
    conn.hello(None).await?;
    let batch = config.batch.max(1);
    let pace = Duration::from_secs_f64(f64::from(batch) / f64::from(config.per_second.max(1)));
    let ack = ClientMsg::Ack { tick: 1 };
    let started = Instant::now();
    let mut sent = 0u64;
    let closed = |sent, code, reason, started: Instant| {
        Ok(FloodOutcome {
            sent,
            close_code: code,
            reason,
            lasted: started.elapsed(),
        })
    };
    loop {
        if started.elapsed() > config.timeout {
            return Err(ClientError::Timeout(
                config.timeout,
                "the server to close a flood",
            ));
        }
        conn.set_timeout(config.timeout);
        let write = conn.send_burst(&ack, batch as usize).await;
        if write.is_ok() {
            sent += u64::from(batch);
        }
        // Read what came back until the next batch is due; the close ends the flood.
        let due = started + pace.mul_f64((sent / u64::from(batch)) as f64);
        conn.set_timeout(due.saturating_duration_since(Instant::now()));
        match conn.recv().await {
            Ok(_) | Err(ClientError::Timeout(..)) if write.is_ok() => {}
            Err(ClientError::Closed { code, reason }) => {
                return closed(sent, code, reason, started);
            }
            Err(ClientError::WebSocket(_)) => return closed(sent, None, String::new(), started),
            Ok(_) | Err(ClientError::Timeout(..)) => {
                // The write failed but no close is readable yet: look once more.
                conn.set_timeout(Duration::from_secs(1));
                return match conn.recv().await {
                    Err(ClientError::Closed { code, reason }) => {
                        closed(sent, code, reason, started)
                    }
                    _ => closed(sent, None, String::new(), started),
                };
            }
            Err(other) => return Err(other),
        }
    }
}
