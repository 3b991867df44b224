//! A tic-tac-toe bot: quick match, play, check the result, queue again.
//!
//! One [`Bot`] is one player with one session. Its loop, per game:
//!
//! 1. send `FindMatch` and wait for `MatchFound` (cancelling with `CancelMatch` if told to
//!    stop while still queued; a cancel answered `NotQueued` is waited out once, for a
//!    `MatchFound` that crossed it or a late `Queued`, then the bot ends);
//! 2. whenever a snapshot shows its turn, choose a move with its
//!    [`Strategy`](crate::game::tictactoe_ai::Strategy) and send it;
//!    the first snapshot with that cell set completes the move's latency sample;
//! 3. on `GameOver` note the result; on `RoomLeft` check the result against the final board
//!    ([`check_outcome`]) and record it. A cluster's match called off before it started
//!    (`Error MatchCalledOff`, then `RoomLeft`: a player never took their seat) is no game:
//!    the server has queued the bot again, so it waits for the next `MatchFound` without
//!    sending `FindMatch`.
//!
//! With chaos, on each turn the bot drops its connection with the given probability before
//! moving, then resumes its session with exponential backoff; the server replays what it
//! missed. Dropping before (never after) sending a move means no input is ever in flight
//! across a reconnect, so no refusal can come from the chaos itself.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::outcome::check_outcome;
use super::{ClientError, Connection, GameResult, Recorder, Resume, Welcome};
use crate::game::tictactoe::{TicTacToeMove, TicTacToeView};
use crate::protocol::{
    ClientMsg, EndReason, ErrorCode, MatchId, RoomEvent, RoomId, RoomJoined, Seat, ServerMsg,
};

mod config;
mod queue;
mod status;

pub use config::BotConfig;
pub use status::BotStatus;

/// The game bots play.
pub const GAME: &str = "tictactoe";

/// A move sent and not yet seen on the board.
#[derive(Debug, Clone, Copy)]
struct Pending {
    cell: u8,
    seq: u32,
    sent: Instant,
}

/// One player with one session.
#[derive(Debug)]
pub struct Bot {
    config: BotConfig,
    recorder: Recorder,
    stop: CancellationToken,
    rng: StdRng,
    conn: Option<Connection>,
    token: String,
    next_seq: u32,
    played: u64,
    /// A `CancelMatch` is unanswered: a `NotQueued` refusal may still come, even in a room.
    cancel_unanswered: bool,
    /// Followed a `Redirect` (received then): the reserved seat's `RoomJoined` is this
    /// game's start.
    redirected: Option<Instant>,
    status: watch::Sender<BotStatus>,
}

impl Bot {
    /// A bot that records into `recorder` and stops queueing once `stop` is cancelled (a
    /// game in progress is played to its end first).
    pub fn new(config: BotConfig, recorder: Recorder, stop: CancellationToken) -> Bot {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Bot {
            config,
            recorder,
            stop,
            rng,
            conn: None,
            token: String::new(),
            next_seq: 0,
            played: 0,
            cancel_unanswered: false,
            redirected: None,
            status: watch::Sender::new(BotStatus::Connecting),
        }
    }

    /// Follows what the bot is doing (take it before [`Bot::run`], which consumes the bot).
    pub fn status(&self) -> watch::Receiver<BotStatus> {
        self.status.subscribe()
    }

    /// Games finished so far.
    pub fn played(&self) -> u64 {
        self.played
    }

    /// Connects and starts a new session. [`Bot::run`] does this itself if needed; call it
    /// first to control when connections open (e.g. to bound joins in flight).
    ///
    /// # Errors
    /// Any [`ClientError`] from connecting or the `Hello`; it is also recorded.
    pub async fn connect(&mut self) -> Result<Welcome, ClientError> {
        let result = self.open(None).await;
        if let Err(error) = &result {
            self.recorder.error(format!("connect: {error}"));
        }
        result
    }

    /// Plays games until the configured number is reached or `stop` is cancelled, then
    /// closes with 1000. Returns the number of games finished.
    ///
    /// # Errors
    /// The first error that ended the bot early; it is also recorded. Server `Error`
    /// messages that do not stop the game are recorded and play goes on.
    pub async fn run(mut self) -> Result<u64, ClientError> {
        match self.play_all().await {
            Ok(()) => {
                if let Some(conn) = self.conn.take()
                    && let Err(error) = conn.close().await
                {
                    self.recorder.error(format!("close: {error}"));
                    return Err(error);
                }
                Ok(self.played)
            }
            Err(error) => {
                self.recorder.error(&error);
                if let Some(conn) = self.conn.take() {
                    conn.abort();
                }
                Err(error)
            }
        }
    }

    async fn play_all(&mut self) -> Result<(), ClientError> {
        if self.conn.is_none() {
            self.open(None).await?;
        }
        // Whether the server queued the bot again by itself (a match called off).
        let mut requeued = false;
        loop {
            let enough = self.config.games.is_some_and(|games| self.played >= games);
            if enough || (self.stop.is_cancelled() && !requeued) {
                return Ok(());
            }
            match self.find_match(!requeued).await? {
                Some(joined) => requeued = !self.play_game(joined).await?,
                None => return Ok(()),
            }
        }
    }

    /// Connects to the configured URL and sends `Hello`; a resume that node redirects
    /// (the session lives on another node of a cluster) follows it, and later reconnects
    /// go to that node.
    async fn open(&mut self, resume: Option<Resume>) -> Result<Welcome, ClientError> {
        let (conn, welcome) = match resume {
            Some(resume) => {
                let (conn, welcome, url) = Connection::resume_at_with(
                    &self.config.url,
                    resume,
                    self.config.codec,
                    self.config.timeout,
                    None,
                    self.config.tls.as_ref(),
                )
                .await?;
                self.config.url = url;
                (conn, welcome)
            }
            None => {
                let mut conn = Connection::connect_with(
                    &self.config.url,
                    self.config.codec,
                    self.config.timeout,
                    self.config.tls.as_ref(),
                )
                .await?;
                let welcome = conn.hello(None).await?;
                (conn, welcome)
            }
        };
        self.recorder.tick_hz(welcome.tick_hz);
        self.token.clone_from(&welcome.resume_token);
        self.conn = Some(conn);
        Ok(welcome)
    }

    /// Notes a result the server confirmed durable.
    fn confirmed(&self, match_id: MatchId) {
        if let Some(confirmed) = &self.config.confirmed {
            confirmed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(match_id);
        }
    }

    fn conn(&mut self) -> Result<&mut Connection, ClientError> {
        self.conn.as_mut().ok_or(ClientError::NotConnected)
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        self.conn()?.send(msg).await
    }

    async fn recv(&mut self) -> Result<ServerMsg, ClientError> {
        self.conn()?.recv().await
    }

    /// Plays one game to its end and records the result. `false` when the match was called
    /// off before it started (`MatchCalledOff`: a player did not arrive; the server queued
    /// this bot again).
    async fn play_game(&mut self, joined: RoomJoined) -> Result<bool, ClientError> {
        let room = joined.room_id;
        let seat = joined.seat.ok_or_else(|| {
            ClientError::Unexpected(format!("quick match seated us as a spectator: {joined:?}"))
        })?;
        self.conn()?.reset_event_seq();
        let codec = self.config.codec;
        let mut view: Option<TicTacToeView> = None;
        let mut pending: Option<Pending> = None;
        let mut over: Option<(Option<Seat>, EndReason)> = None;
        let mut called_off = false;
        loop {
            match self.recv().await? {
                ServerMsg::Snapshot { state, .. } => {
                    let seen: TicTacToeView = codec.decode(&state)?;
                    if let Some(p) = pending
                        && seen.board.get(usize::from(p.cell)).is_some_and(|&c| c != 0)
                    {
                        self.recorder.move_accepted(p.sent, Instant::now());
                        pending = None;
                    }
                    let my_turn = !seen.over && seen.to_move == Some(seat) && pending.is_none();
                    let board = seen.board;
                    view = Some(seen);
                    if my_turn {
                        if self.chaos_strikes() {
                            self.drop_and_resume().await?;
                            continue;
                        }
                        pending = Some(self.send_move(&board, seat).await?);
                    }
                }
                ServerMsg::Event {
                    event: RoomEvent::GameOver { winner, reason },
                    ..
                } => over = Some((winner, reason)),
                ServerMsg::Event { .. } | ServerMsg::RoomJoined(_) | ServerMsg::Pong { .. } => {}
                ServerMsg::RatingChanged { match_id, .. } => self.confirmed(match_id),
                ServerMsg::RoomLeft { room_id } if room_id == room && called_off => {
                    self.status
                        .send_replace(BotStatus::WaitingForOpponent { waiting: 1 });
                    return Ok(false);
                }
                ServerMsg::RoomLeft { room_id } if room_id == room => break,
                ServerMsg::Error {
                    code: ErrorCode::MatchCalledOff,
                    input_seq: None,
                    ..
                } => called_off = true,
                // The answer to a `CancelMatch` that crossed this room's `MatchFound`.
                ServerMsg::Error {
                    code: ErrorCode::NotQueued,
                    input_seq: None,
                    ..
                } if self.cancel_unanswered => self.cancel_unanswered = false,
                ServerMsg::Error {
                    code,
                    message,
                    input_seq,
                } => {
                    let input = input_seq.map_or_else(String::new, |seq| format!(", input {seq}"));
                    self.recorder.error(format!(
                        "room {room}: {}: {message}{input}",
                        super::words::error_code(code)
                    ));
                    if pending.is_some_and(|p| Some(p.seq) == input_seq) {
                        pending = None;
                    }
                }
                other => self
                    .recorder
                    .error(format!("room {room}: unexpected {other:?}")),
            }
        }
        self.played += 1;
        let result = self.record_result(room, seat, view, over);
        let games = self.played;
        self.status
            .send_replace(BotStatus::GameEnded { games, result });
        Ok(true)
    }

    /// Checks and records how the game ended; the result, unless the ending was illegal.
    fn record_result(
        &self,
        room: RoomId,
        seat: Seat,
        view: Option<TicTacToeView>,
        over: Option<(Option<Seat>, EndReason)>,
    ) -> Option<GameResult> {
        let ended = Instant::now();
        let (view, (winner, reason)) = match (view, over) {
            (Some(view), Some(over)) if view.over => (view, over),
            (view, over) => {
                let detail = format!(
                    "room closed with GameOver {over:?} and final view {view:?} (not over)"
                );
                self.recorder.illegal_outcome(room, &detail);
                return None;
            }
        };
        if view.winner != winner {
            let detail = format!(
                "GameOver winner {winner:?} but the final view says {:?}",
                view.winner
            );
            self.recorder.illegal_outcome(room, &detail);
            return None;
        }
        match check_outcome(&view.board, winner, reason) {
            Ok(verdict) => {
                let result = verdict.result_for(seat);
                self.recorder.game_over(room, result, ended);
                Some(result)
            }
            Err(detail) => {
                self.recorder.illegal_outcome(room, &detail);
                None
            }
        }
    }

    fn chaos_strikes(&mut self) -> bool {
        // Written so that a NaN or out-of-range probability never panics.
        let p = self.config.chaos;
        p > 0.0 && self.rng.random::<f64>() < p
    }

    async fn send_move(&mut self, board: &[u8; 9], seat: Seat) -> Result<Pending, ClientError> {
        let cell = self
            .config
            .strategy
            .choose(board, seat, &mut self.rng)
            .ok_or_else(|| {
                ClientError::Unexpected(format!("our turn on a full board {board:?}"))
            })?;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let seq = self.next_seq;
        let data = self.config.codec.encode(&TicTacToeMove { cell })?;
        let sent = Instant::now();
        self.send(&ClientMsg::Input {
            seq,
            ack_tick: 0,
            data,
        })
        .await?;
        Ok(Pending { cell, seq, sent })
    }

    /// Drops the connection without a close handshake and resumes the session on a new one.
    async fn drop_and_resume(&mut self) -> Result<(), ClientError> {
        let conn = self.conn.take().ok_or(ClientError::NotConnected)?;
        let last_event_seq = conn.last_event_seq();
        conn.abort();
        self.recorder.reconnected();
        let playing = self.status.send_replace(BotStatus::Reconnecting);
        let backoff = self.config.backoff;
        let mut attempt = 0;
        loop {
            tokio::time::sleep(backoff.delay(attempt, &mut self.rng)).await;
            let resume = Resume {
                token: self.token.clone(),
                last_event_seq,
            };
            match self.open(Some(resume)).await {
                Ok(welcome) if welcome.resumed => {
                    self.status.send_replace(playing);
                    return Ok(());
                }
                Ok(_) => {
                    return Err(ClientError::Unexpected(
                        "the server started a new session instead of resuming".into(),
                    ));
                }
                Err(error @ ClientError::Refused { .. }) => return Err(error),
                Err(error) if attempt + 1 >= backoff.attempts => return Err(error),
                Err(_) => attempt += 1,
            }
        }
    }
}
