//! The arena bot's loop with checks off (the parent module's doc): the light driver of
//! capacity runs. States are counted by their envelope alone, inputs written by hand into a
//! kept buffer, and the input timer polled only when it fired.

use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rand::Rng;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{ArenaBot, HOLD_INPUTS, INPUT_PERIOD, turn};
use crate::client::{ClientError, Connection, put_input, read_state_envelope};
use crate::game::arena::ArenaInput;
use crate::protocol::{ServerMsg, Tick};
use crate::side_wake::SideWake;

/// What woke the lean loop: its input period, or a frame.
enum LeanWake {
    Period(tokio::time::Instant),
    Frame(Bytes),
}

/// What the bot knows while it plays with checks off.
#[derive(Debug)]
struct Lean {
    direction: Option<(i8, i8)>,
    held: u32,
    seq: u32,
    /// The newest state tick received, acknowledged by every input.
    last_tick: Option<Tick>,
    /// The current direction's `ArenaInput`, encoded once per direction.
    data: Bytes,
    /// Where inputs are encoded. Each is split off and sent; once the socket has taken it,
    /// the next encode reuses the same allocation.
    out: BytesMut,
    /// Input periods since the server's last message.
    quiet: u32,
    /// States not yet added to the recorder's progress counter.
    progress: u64,
}

impl ArenaBot {
    /// The loop with checks off (module doc): reads frames and sends inputs until `stop`
    /// is seen at an input period.
    pub(super) async fn play_unchecked(
        &mut self,
        conn: &mut Connection,
        stop: &CancellationToken,
    ) -> Result<(), ClientError> {
        let mut lean = Lean {
            direction: None,
            held: 0,
            seq: 0,
            last_tick: None,
            data: Bytes::new(),
            out: BytesMut::with_capacity(LEAN_OUT_BYTES),
            quiet: 0,
            progress: 0,
        };
        let result = self.lean_loop(conn, &mut lean, stop).await;
        self.recorder.progress(lean.progress);
        result
    }

    async fn lean_loop(
        &mut self,
        conn: &mut Connection,
        lean: &mut Lean,
        stop: &CancellationToken,
    ) -> Result<(), ClientError> {
        let patience = quiet_periods(self.config.timeout);
        let phase = INPUT_PERIOD.mul_f64(self.rng.random::<f64>());
        let mut inputs =
            tokio::time::interval_at(tokio::time::Instant::now() + phase, INPUT_PERIOD);
        inputs.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The input timer is polled only when it fired (`crate::side_wake`), so a frame
        // costs no look at it.
        let side = SideWake::new();
        loop {
            // The period first: after an input only one read is tried, not two.
            let woke = std::future::poll_fn(|cx| {
                if let Some(mut side_cx) = side.look(cx)
                    && let Poll::Ready(at) = inputs.poll_tick(&mut side_cx)
                {
                    return Poll::Ready(Ok(LeanWake::Period(at)));
                }
                conn.poll_payload(cx).map_ok(LeanWake::Frame)
            })
            .await?;
            match woke {
                LeanWake::Period(at) => {
                    // The timer moved to the next period: polled again to register it.
                    side.touch();
                    if stop.is_cancelled() {
                        return Ok(());
                    }
                    lean.quiet += 1;
                    if lean.quiet > patience {
                        return Err(ClientError::Timeout(
                            self.config.timeout,
                            "a server message",
                        ));
                    }
                    self.recorder.progress(std::mem::take(&mut lean.progress));
                    self.send_lean_input(conn, lean, at.into_std()).await?;
                }
                LeanWake::Frame(received) => {
                    lean.quiet = 0;
                    self.on_payload(lean, &received)?;
                }
            }
        }
    }

    /// A frame when checks are off: a state is counted by its envelope alone; anything
    /// else (or a state in a form the envelope reader leaves to the codec) is decoded.
    fn on_payload(&mut self, lean: &mut Lean, payload: &[u8]) -> Result<(), ClientError> {
        let in_window = self.recorder.window().contains(Instant::now());
        let size = payload.len();
        if in_window {
            self.counts.message(size);
        }
        let (tick, full) = match read_state_envelope(self.config.codec, payload) {
            Some(state) => (state.tick, state.is_full()),
            None => match self.config.codec.decode_server(payload)? {
                ServerMsg::Snapshot { tick, .. } => (tick, true),
                ServerMsg::Delta { tick, .. } => (tick, false),
                other => return self.on_other(other),
            },
        };
        lean.progress += 1;
        if in_window {
            let counts = &mut self.counts;
            counts.updates += 1;
            if full {
                counts.fulls += 1;
                counts.full_bytes += size as u64;
            } else {
                counts.deltas += 1;
                counts.delta_bytes += size as u64;
            }
            if let Some(previous) = lean.last_tick {
                counts.missed_ticks += tick.saturating_sub(previous.saturating_add(1));
            }
        }
        lean.last_tick = Some(lean.last_tick.map_or(tick, |t| t.max(tick)));
        Ok(())
    }

    /// The input of one period when checks are off, acknowledging the newest state tick;
    /// `at` is the period's instant.
    async fn send_lean_input(
        &mut self,
        conn: &mut Connection,
        lean: &mut Lean,
        at: Instant,
    ) -> Result<(), ClientError> {
        if lean.direction.is_none() || lean.held >= HOLD_INPUTS {
            let (dx, dy) = turn(&mut self.rng, lean.direction);
            lean.direction = Some((dx, dy));
            lean.held = 0;
            lean.data = self.config.codec.encode(&ArenaInput { dx, dy })?;
        }
        lean.held += 1;
        lean.seq = lean.seq.wrapping_add(1).max(1);
        let ack_tick = lean.last_tick.unwrap_or(0);
        put_input(
            self.config.codec,
            lean.seq,
            ack_tick,
            &lean.data,
            &mut lean.out,
        );
        conn.send_encoded(lean.out.split().freeze()).await?;
        if self.recorder.window().contains(at) {
            self.counts.inputs += 1;
        }
        Ok(())
    }
}

/// The capacity of the unchecked bot's input buffer: a few dozen inputs of 12 to 20 bytes,
/// then it is reclaimed (the sent ones are gone by then).
const LEAN_OUT_BYTES: usize = 512;

/// How many input periods without a server message exceed `timeout` (at least one).
fn quiet_periods(timeout: Duration) -> u32 {
    let periods = timeout.as_nanos().div_ceil(INPUT_PERIOD.as_nanos());
    u32::try_from(periods).unwrap_or(u32::MAX).max(1)
}
