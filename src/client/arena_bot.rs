//! An arena player, exactly as the `arena` workload of WORKLOADS.md moves: used by the
//! `arena_bot` example, the loadgen's `arena` workload and the load tests.
//!
//! One [`ArenaBot`] is one player on one connection:
//!
//! 1. [`ArenaBot::join`]: connect, `Hello`, `FindMatch { game: "arena" }`, wait for
//!    `MatchFound` (rooms of 8 fill from the queue, or start with fewer after the fill
//!    wait).
//! 2. [`ArenaBot::play`] until told to stop, then close with 1000:
//!    - **inputs** at 20 Hz ([`INPUT_PERIOD`]), from a random phase of its own; it keeps a
//!      direction for [`HOLD_INPUTS`] inputs (500 ms), then switches to a different one of
//!      the 8 non-zero directions, chosen at random. Every `Input` carries `ack_tick`, the
//!      newest state applied, so no separate `Ack` is ever needed while playing;
//!    - **states**: every `Snapshot` and `Delta` is applied to an [`ArenaMirror`] (a delta
//!      whose base is not held is an error), then the client's own player is checked
//!      against its [`Predictor`] (contradictions are errors; timing misses are counted as
//!      prediction corrections);
//!    - **input latency**: from sending the first input of a new direction to receiving the
//!      first state in which the client's own player has that direction. The direction
//!      always changes to a *different* one, so the first state showing it is unambiguous,
//!      and the state that applies an input already shows the movement along it.
//!
//! With [`ArenaBotConfig::checks`] off (capacity runs), the bot plays a lighter loop that
//! does the same on the wire (the same inputs, each acknowledging the newest state tick
//! received, and the close) and counts the same states, bytes and missed ticks, but costs
//! its machine about what a bare WebSocket client does, so that the search measures the
//! server:
//!
//! - a state is counted by its envelope ([`read_state_envelope`]: tick, full or delta),
//!   never decoded; any other frame is decoded in full, as before;
//! - no timer per message: the wait for the server is bounded by counting input periods
//!   without a message (a silence longer than [`ArenaBotConfig::timeout`] is
//!   [`ClientError::Timeout`]), and the stop signal is looked at once per input period
//!   (50 ms), not raced against every read;
//! - an input is written by hand ([`put_input`]: the codec's bytes, without serde) into a
//!   buffer the bot keeps, its game payload encoded once per direction; the read buffer is
//!   256 bytes ([`Connection::connect_light`]); and the shared progress counter is added
//!   to once per input period, not per state.
//!
//! Counts go into the bot's own [`ArenaCounts`], merged into the [`ArenaRecorder`] when it
//! stops; errors go to the recorder at once. Never panics on what the server sends.

mod lean;

use crate::game::arena::DIRECTIONS;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::arena_stats::{ArenaCounts, ArenaRecorder};
use super::mirror::{ArenaMirror, MirrorError, StateKind};
use super::predict::{Check, Predictor, TickClock};
use super::{ClientError, ClientTls, Connection};
use crate::codec::Codec;
use crate::game::arena::{ArenaInput, pack_dir};
use crate::protocol::{ClientMsg, RoomJoined, Seat, ServerMsg, Tick};

/// The game arena bots play.
pub const ARENA: &str = "arena";

/// Time between two inputs: 20 Hz.
pub const INPUT_PERIOD: Duration = Duration::from_millis(50);

/// Inputs sent with one direction before switching (500 ms at 20 Hz).
pub const HOLD_INPUTS: u32 = 10;

/// How an arena bot connects and plays.
#[derive(Debug, Clone)]
pub struct ArenaBotConfig {
    /// Server URL, e.g. `ws://127.0.0.1:7878/`.
    pub url: String,
    /// Codec to speak.
    pub codec: Codec,
    /// The longest wait for any one server message (and for connecting).
    pub timeout: Duration,
    /// Seed for the phase and the directions; `None` for a random one.
    pub seed: Option<u64>,
    /// Apply every state to the mirror and check it against the prediction (the default).
    /// Off, the bot only counts states and acknowledges the newest tick it received,
    /// reading each state's envelope and nothing else, in a loop without a timer per
    /// message (module doc): about as light as a bare WebSocket client, for capacity runs
    /// that measure the server. No input latency is measured then.
    pub checks: bool,
    /// What to trust over `wss://` besides the webpki roots (e.g. a local CA: `--ca-file`);
    /// `None` for the webpki roots only.
    pub tls: Option<ClientTls>,
}

impl ArenaBotConfig {
    /// A bot for `url` speaking bincode, with a 30 s timeout and a random seed.
    pub fn new(url: impl Into<String>) -> ArenaBotConfig {
        ArenaBotConfig {
            url: url.into(),
            codec: Codec::Bincode,
            timeout: Duration::from_secs(30),
            seed: None,
            checks: true,
            tls: None,
        }
    }
}

/// The first input of a direction, waiting to show in a state.
#[derive(Debug, Clone, Copy)]
struct PendingTurn {
    dir: u8,
    sent: Instant,
}

/// What the bot knows while it plays.
#[derive(Debug)]
struct Play {
    mirror: ArenaMirror,
    predictor: Predictor,
    clock: TickClock,
    direction: Option<(i8, i8)>,
    held: u32,
    seq: u32,
    pending: Option<PendingTurn>,
    last_tick: Option<Tick>,
}

/// One arena player on one connection.
#[derive(Debug)]
pub struct ArenaBot {
    config: ArenaBotConfig,
    recorder: ArenaRecorder,
    rng: StdRng,
    conn: Option<Connection>,
    tick_hz: u16,
    joined: Option<RoomJoined>,
    counts: ArenaCounts,
}

impl ArenaBot {
    /// A bot that records into `recorder` (and counts inside its window).
    pub fn new(config: ArenaBotConfig, recorder: ArenaRecorder) -> ArenaBot {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        ArenaBot {
            config,
            recorder,
            rng,
            conn: None,
            tick_hz: 30,
            joined: None,
            counts: ArenaCounts::default(),
        }
    }

    /// The room joined, once [`ArenaBot::join`] succeeded.
    pub fn joined(&self) -> Option<&RoomJoined> {
        self.joined.as_ref()
    }

    /// Connects, says `Hello`, queues for the arena and waits for `MatchFound`.
    ///
    /// # Errors
    /// Any [`ClientError`] on the way, or [`ClientError::Unexpected`] when the match is
    /// for another game or without a seat; it is also recorded.
    pub async fn join(&mut self) -> Result<RoomJoined, ClientError> {
        let result = self.join_inner().await;
        if let Err(error) = &result {
            self.recorder.error(format!("join: {error}"));
        }
        result
    }

    async fn join_inner(&mut self) -> Result<RoomJoined, ClientError> {
        let (url, codec, timeout) = (&self.config.url, self.config.codec, self.config.timeout);
        let tls = self.config.tls.as_ref();
        let mut conn = if self.config.checks {
            Connection::connect_with(url, codec, timeout, tls).await?
        } else {
            Connection::connect_light(url, codec, timeout, tls).await?
        };
        let welcome = conn.hello(None).await?;
        self.tick_hz = welcome.tick_hz;
        self.recorder.tick_hz(welcome.tick_hz);
        conn.send(&ClientMsg::FindMatch {
            game: ARENA.into(),
            options: bytes::Bytes::new(),
        })
        .await?;
        let mut redirected = false;
        loop {
            match conn.recv().await? {
                ServerMsg::Queued { .. } | ServerMsg::Pong { .. } => {}
                // A cluster placed the match on another node: go there with the ticket; the
                // reserved seat's `RoomJoined` stands for `MatchFound`.
                ServerMsg::Redirect { url, ticket } => {
                    let (there, _) = Connection::follow_redirect_with(
                        &url,
                        ticket,
                        self.config.codec,
                        self.config.timeout,
                        None,
                        self.config.tls.as_ref(),
                    )
                    .await?;
                    let _ = std::mem::replace(&mut conn, there).close().await;
                    self.config.url = url;
                    redirected = true;
                }
                ServerMsg::RoomJoined(joined)
                    if redirected && joined.game == ARENA && joined.seat.is_some() =>
                {
                    self.conn = Some(conn);
                    self.joined = Some(joined.clone());
                    return Ok(joined);
                }
                ServerMsg::MatchFound(joined) if joined.game == ARENA && joined.seat.is_some() => {
                    self.conn = Some(conn);
                    self.joined = Some(joined.clone());
                    return Ok(joined);
                }
                ServerMsg::Error { code, message, .. } => {
                    return Err(ClientError::Refused { code, message });
                }
                other => {
                    return Err(ClientError::Unexpected(format!(
                        "while queued for the arena: {other:?}"
                    )));
                }
            }
        }
    }

    /// Plays until `stop` is cancelled, then closes with 1000. Merges the bot's counts into
    /// the recorder and returns them.
    ///
    /// # Errors
    /// The error that ended the bot early ([`ClientError::NotConnected`] without a
    /// successful [`ArenaBot::join`]); it is also recorded. Errors that do not end the game
    /// (a server `Error`, a delta without its base, a state contradicting the inputs) are
    /// recorded and play goes on.
    pub async fn play(mut self, stop: CancellationToken) -> Result<ArenaCounts, ClientError> {
        let result = match (self.conn.take(), self.joined.as_ref().and_then(|j| j.seat)) {
            (Some(mut conn), Some(seat)) => {
                let played = if self.config.checks {
                    self.play_on(&mut conn, seat, &stop).await
                } else {
                    self.play_unchecked(&mut conn, &stop).await
                };
                match played {
                    Ok(()) => conn.close().await.map_err(|error| {
                        self.recorder.error(format!("close: {error}"));
                        error
                    }),
                    Err(error) => {
                        self.recorder.error(format!("play: {error}"));
                        conn.abort();
                        Err(error)
                    }
                }
            }
            _ => {
                self.recorder.error("play before a successful join");
                Err(ClientError::NotConnected)
            }
        };
        self.recorder.merge(&self.counts);
        result.map(|()| self.counts)
    }

    async fn play_on(
        &mut self,
        conn: &mut Connection,
        seat: Seat,
        stop: &CancellationToken,
    ) -> Result<(), ClientError> {
        let now = Instant::now();
        let mut play = Play {
            mirror: ArenaMirror::default(),
            predictor: Predictor::new(seat),
            clock: TickClock::new(self.tick_hz, now),
            direction: None,
            held: 0,
            seq: 0,
            pending: None,
            last_tick: None,
        };
        let phase = INPUT_PERIOD.mul_f64(self.rng.random::<f64>());
        let mut inputs =
            tokio::time::interval_at(tokio::time::Instant::from_std(now + phase), INPUT_PERIOD);
        inputs.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => return Ok(()),
                received = conn.recv_sized() => {
                    let (msg, size) = received?;
                    self.on_message(&mut play, msg, size, Instant::now())?;
                }
                _ = inputs.tick() => self.send_input(conn, &mut play).await?,
            }
        }
    }

    fn on_message(
        &mut self,
        play: &mut Play,
        msg: ServerMsg,
        size: usize,
        at: Instant,
    ) -> Result<(), ClientError> {
        let in_window = self.recorder.window().contains(at);
        if in_window {
            self.counts.message(size);
        }
        let applied = match play.mirror.apply(self.config.codec, &msg) {
            Ok(Some(applied)) => applied,
            Ok(None) => return self.on_other(msg),
            Err(error @ MirrorError::MissingBase { .. }) => {
                self.recorder.missing_base(error);
                return Ok(());
            }
            Err(error) => {
                self.recorder.error(error);
                return Ok(());
            }
        };
        self.recorder.progress(1);
        play.clock.observe(applied.tick, at);
        if in_window {
            let counts = &mut self.counts;
            counts.updates += 1;
            match applied.kind {
                StateKind::Full => {
                    counts.fulls += 1;
                    counts.full_bytes += size as u64;
                }
                StateKind::Delta { .. } => {
                    counts.deltas += 1;
                    counts.delta_bytes += size as u64;
                }
            }
            if let Some(previous) = play.last_tick {
                counts.missed_ticks += applied.tick.saturating_sub(previous.saturating_add(1));
            }
        }
        play.last_tick = Some(applied.tick);
        let Some((_, view)) = play.mirror.latest() else {
            return Ok(());
        };
        match play
            .predictor
            .observe(applied.tick, applied.input_seq, view)
        {
            Ok(check) if in_window => match check {
                Check::Skipped => {}
                Check::Matched => self.counts.prediction_checks += 1,
                Check::Corrected { units } => {
                    self.counts.prediction_checks += 1;
                    self.counts.prediction_corrections += 1;
                    self.counts.max_correction_units = self.counts.max_correction_units.max(units);
                }
            },
            Ok(_) => {}
            Err(error) => self.recorder.error(format!("prediction: {error}")),
        }
        let seat = play.predictor.seat();
        if let Some(turn) = play.pending
            && view
                .players
                .iter()
                .any(|p| p.seat == seat && p.dir == turn.dir)
        {
            play.pending = None;
            if in_window {
                let us = at.saturating_duration_since(turn.sent).as_micros();
                self.counts
                    .latency_us
                    .push(u64::try_from(us).unwrap_or(u64::MAX));
            }
        }
        Ok(())
    }

    /// Anything but a state. Room events need nothing; leaving the room ends the bot.
    fn on_other(&mut self, msg: ServerMsg) -> Result<(), ClientError> {
        match msg {
            ServerMsg::Event { .. } | ServerMsg::Pong { .. } | ServerMsg::RatingChanged { .. } => {
                Ok(())
            }
            ServerMsg::Error {
                code,
                message,
                input_seq,
            } => {
                self.recorder.error(format!(
                    "server error {code:?}: {message} (input {input_seq:?})"
                ));
                Ok(())
            }
            ServerMsg::RoomLeft { room_id } => Err(ClientError::Unexpected(format!(
                "removed from arena room {room_id}"
            ))),
            other => {
                self.recorder
                    .error(format!("unexpected in an arena room: {other:?}"));
                Ok(())
            }
        }
    }

    async fn send_input(
        &mut self,
        conn: &mut Connection,
        play: &mut Play,
    ) -> Result<(), ClientError> {
        let turning = play.direction.is_none() || play.held >= HOLD_INPUTS;
        if turning {
            play.direction = Some(turn(&mut self.rng, play.direction));
            play.held = 0;
        }
        let Some((dx, dy)) = play.direction else {
            return Ok(());
        };
        play.held += 1;
        play.seq = play.seq.wrapping_add(1).max(1);
        let ack_tick = play.mirror.ack_tick();
        let data = self.config.codec.encode(&ArenaInput { dx, dy })?;
        let sent = Instant::now();
        // The server applies it at its next tick; never before the next state's tick.
        let expected = play
            .clock
            .tick_at(sent)
            .map_or(0, |t| t.saturating_add(1))
            .max(ack_tick.saturating_add(1));
        conn.send(&ClientMsg::Input {
            seq: play.seq,
            ack_tick,
            data,
        })
        .await?;
        let in_window = self.recorder.window().contains(sent);
        if in_window {
            self.counts.inputs += 1;
        }
        play.predictor.sent(play.seq, dx, dy, expected);
        if turning {
            if play.pending.is_some() && in_window {
                self.counts.latency_unresolved += 1;
            }
            play.pending = Some(PendingTurn {
                dir: pack_dir(dx, dy),
                sent,
            });
        }
        Ok(())
    }
}

/// A direction other than `current`, drawn at random among the other non-zero ones.
fn turn(rng: &mut StdRng, current: Option<(i8, i8)>) -> (i8, i8) {
    let others = || DIRECTIONS.iter().copied().filter(|d| Some(*d) != current);
    let pick = rng.random_range(0..others().count());
    others().nth(pick).unwrap_or(DIRECTIONS[0])
}
