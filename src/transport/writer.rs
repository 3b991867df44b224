//! One connection's writer: it waits on the outbox, writes the pending events and the
//! newest state in the order the room produced them, and flushes once per batch. It also
//! sends a WebSocket ping every [`ServerConfig::ping_interval`] and closes a client that
//! stops reading: a write stalled for the slow-reader timeout, or no pong for the idle
//! timeout plus a ping interval (4003). At shutdown a pending write gets only the close
//! timeout.

use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::codec::Codec;
use crate::config::ServerConfig;
use crate::limits::LimitReason;
use crate::metrics::WireCounters;
use crate::outbox::{Batch, Outbox, StateFrame};
use crate::protocol::{ServerMsg, close_code};

/// How one write ended.
enum Wrote {
    Done,
    Failed(tungstenite::Error),
    /// Not finished within the slow-reader timeout: the client is not reading.
    Stalled,
    /// Not finished within the close timeout after shutdown began.
    ShutDown,
}

/// Writes what the outbox holds, flushing once per batch, and pings on schedule. Cancels
/// `done` when it stops, so the reader stops too. Gives the sink back at the end.
pub(super) async fn write_loop<S>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    outbox: Arc<Outbox>,
    ctx: Arc<Context>,
    done: CancellationToken,
    wire: Arc<WireCounters>,
) -> SplitSink<WebSocketStream<S>, Message>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _done = done.drop_guard();
    let mut tally = CloseTally { wire, code: None };
    write_until_closed(&mut sink, &outbox, &ctx, &mut tally).await;
    sink
}

async fn write_until_closed<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    outbox: &Outbox,
    ctx: &Context,
    tally: &mut CloseTally,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config: &ServerConfig = &ctx.config;
    let limits = &config.limits;
    let stall_limit = config.write_timeout.min(limits.slow_reader_timeout);
    let mut batch = Batch::default();
    let mut scratch = BytesMut::with_capacity(512);
    let mut ping =
        tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    // A client that answers no ping for this long is not reading, even while the kernel
    // still takes our writes (its buffers absorb a slow stream for a long time). Longer
    // than the idle timeout, so a client that is wholly silent is closed as idle first.
    let pong_deadline = config.idle_timeout + config.ping_interval;
    let mut last_pong = Instant::now();
    loop {
        let wake = tokio::select! {
            _ = outbox.next_batch(&mut batch) => Wake::Batch,
            _ = ping.tick() => Wake::Ping,
        };
        if let Wake::Ping = wake {
            if outbox.take_pong() {
                last_pong = Instant::now();
            } else if last_pong.elapsed() > pong_deadline {
                tracing::info!("closing a client that answers no pings (4003)");
                ctx.counters().hit(LimitReason::NoPong);
                tally.code = Some(close_code::TOO_SLOW);
                let close = CloseFrame {
                    code: close_code::TOO_SLOW.into(),
                    reason: "client too slow: it answers no pings".into(),
                };
                let send = sink.send(Message::Close(Some(close)));
                let _ = timeout(limits.close_timeout, send).await;
                return;
            }
        }
        let write = async {
            match wake {
                Wake::Batch => {
                    let codec = outbox.codec();
                    write_batch(sink, &mut batch, codec, &mut scratch, &tally.wire).await
                }
                Wake::Ping => sink.send(Message::Ping(Bytes::new())).await,
            }
        };
        // At shutdown, a write still pending gets only the close timeout.
        let shutting_down = async {
            ctx.shutdown.cancelled().await;
            tokio::time::sleep(limits.close_timeout).await;
        };
        // Biased, the write first: it usually completes at once, and the shutdown branch
        // (the server-wide token's lock) is then never polled.
        let wrote = tokio::select! {
            biased;
            wrote = timeout(stall_limit, write) => match wrote {
                Ok(Ok(())) => Wrote::Done,
                Ok(Err(error)) => Wrote::Failed(error),
                Err(_) => Wrote::Stalled,
            },
            () = shutting_down => Wrote::ShutDown,
        };
        match wrote {
            Wrote::Done => {}
            Wrote::Failed(error) => {
                tracing::debug!(%error, "connection write failed");
                return;
            }
            Wrote::Stalled => {
                tracing::info!("closing a client that stopped reading (4003)");
                ctx.counters().hit(LimitReason::SlowReader);
                tally.code = Some(close_code::TOO_SLOW);
                let close = CloseFrame {
                    code: close_code::TOO_SLOW.into(),
                    reason: "client too slow: its state went unsent".into(),
                };
                let send = sink.send(Message::Close(Some(close)));
                let _ = timeout(limits.close_timeout, send).await;
                return;
            }
            Wrote::ShutDown => return,
        }
        if let Some(close) = batch.close.take() {
            tally.code = Some(close.code);
            let frame = CloseFrame {
                code: close.code.into(),
                reason: close.reason.into(),
            };
            let send = sink.send(Message::Close(Some(frame)));
            let _ = timeout(stall_limit.min(limits.close_timeout), send).await;
            return;
        }
    }
}

/// Counts the connection's end in the metrics, however the writer stops: by the close code
/// the server chose, or as having none (the socket failed or stalled first).
struct CloseTally {
    wire: Arc<WireCounters>,
    code: Option<u16>,
}

impl Drop for CloseTally {
    fn drop(&mut self) {
        self.wire.closed(self.code);
    }
}

/// Why the writer woke up.
enum Wake {
    Batch,
    Ping,
}

/// Feeds a batch's frames (events before the state, the state, events after it) and flushes
/// once. A close request in the batch is left for the caller.
async fn write_batch<S>(
    sink: &mut SplitSink<WebSocketStream<S>, Message>,
    batch: &mut Batch,
    codec: Codec,
    scratch: &mut BytesMut,
    wire: &WireCounters,
) -> Result<(), tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let state = batch.state.take();
    let split = batch.state_position.min(batch.events.len());
    for frame in batch.events.drain(..split) {
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    if let Some(state) = state {
        let frame = encode_snapshot(codec, state, scratch);
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    for frame in batch.events.drain(..) {
        wire.sent(codec, &frame);
        sink.feed(Message::Binary(frame)).await?;
    }
    sink.flush().await
}

/// Wraps a shared view in this client's `Snapshot` envelope. The scratch buffer's memory is
/// reused once the previous frame has been written, so steady state allocates nothing.
fn encode_snapshot(codec: Codec, state: StateFrame, scratch: &mut BytesMut) -> Bytes {
    let msg = match state.base_tick {
        None => ServerMsg::Snapshot {
            tick: state.tick,
            input_seq: state.input_seq,
            state: state.body,
        },
        Some(base_tick) => ServerMsg::Delta {
            tick: state.tick,
            base_tick,
            input_seq: state.input_seq,
            delta: state.body,
        },
    };
    scratch.clear();
    if let Err(error) = codec.encode_into(&msg, scratch) {
        tracing::error!(%error, "failed to encode a snapshot");
    }
    scratch.split().freeze()
}
