//! A Battleship bot: quick match, fire with [`hunt_target`], check the ending, queue again.
//!
//! One call of [`play_battleship`] is one player with one session. Per game:
//!
//! 1. send `FindMatch` for `"battleship"` with the configured options and wait for
//!    `MatchFound`;
//! 2. whenever a snapshot shows its turn and no shot of its own is in flight, choose a
//!    cell with [`hunt_target`] and send it (a shot is in flight until a snapshot echoes
//!    its `seq`, or the server refuses it because the turn timer fired first);
//! 3. collect the game's events (`GameEvent`: `Miss`, `Hit`, `Sunk`), note `GameOver`, and
//!    on `RoomLeft` check the ending against the last view and the events. A cluster's
//!    match called off before it started (`Error MatchCalledOff`, then `RoomLeft`) is no
//!    game: the server queued the bot again, so it waits for the next match.
//!
//! It keeps every view it was sent when asked to ([`BattleshipBotConfig::keep_views`]), so
//! tests can check what it was shown.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{ClientError, ClientTls, Connection};
use crate::codec::Codec;
use crate::game::Game;
use crate::game::battleship::{
    Battleship, BattleshipEvent, BattleshipOptions, BattleshipShot, BattleshipView, hunt_target,
};
use crate::protocol::{ClientMsg, EndReason, ErrorCode, RoomEvent, RoomId, Seat, ServerMsg, Tick};

/// How a Battleship bot plays.
#[derive(Debug, Clone)]
pub struct BattleshipBotConfig {
    /// Server URL, e.g. `ws://127.0.0.1:7878/`.
    pub url: String,
    /// Codec to speak.
    pub codec: Codec,
    /// Games to play before leaving.
    pub games: u64,
    /// The room options to ask quick match for (players are matched on equal options).
    pub options: BattleshipOptions,
    /// The longest wait for any one server message (and for connecting).
    pub timeout: Duration,
    /// Seed for the bot's choice of cells; `None` for a random one.
    pub seed: Option<u64>,
    /// Whether to keep every view received in [`BattleshipReport::views`].
    pub keep_views: bool,
    /// What to trust over `wss://` besides the webpki roots (e.g. a local CA: `--ca-file`);
    /// `None` for the webpki roots only.
    pub tls: Option<ClientTls>,
}

impl BattleshipBotConfig {
    /// A bot for `url`: one game, default options, bincode, 30 s waits.
    pub fn new(url: impl Into<String>) -> BattleshipBotConfig {
        BattleshipBotConfig {
            url: url.into(),
            codec: Codec::Bincode,
            games: 1,
            options: BattleshipOptions::default(),
            timeout: Duration::from_secs(30),
            seed: None,
            keep_views: false,
            tls: None,
        }
    }
}

/// One game a Battleship bot played, checked.
#[derive(Debug, Clone)]
pub struct BattleshipReport {
    /// The room it was played in.
    pub room_id: RoomId,
    /// The bot's seat.
    pub seat: Seat,
    /// The winner `GameOver` named.
    pub winner: Option<Seat>,
    /// Why the game ended.
    pub reason: EndReason,
    /// Shots the bot sent (and the server applied).
    pub shots: u32,
    /// The game's events, in order.
    pub events: Vec<BattleshipEvent>,
    /// The last view received.
    pub last_view: BattleshipView,
    /// Every view received, oldest first (empty unless
    /// [`BattleshipBotConfig::keep_views`]).
    pub views: Vec<BattleshipView>,
}

/// Connects, plays `config.games` games of Battleship through quick match, and returns
/// their reports.
///
/// # Errors
/// A [`ClientError`] for a socket or codec failure, a refused request or shot,
/// [`ClientError::IllegalOutcome`] for an ending that contradicts the last view or the
/// events, [`ClientError::Timeout`] when the server goes quiet.
pub async fn play_battleship(
    config: &BattleshipBotConfig,
) -> Result<Vec<BattleshipReport>, ClientError> {
    let mut conn = Connection::connect_with(
        &config.url,
        config.codec,
        config.timeout,
        config.tls.as_ref(),
    )
    .await?;
    conn.hello(None).await?;
    let mut rng = match config.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let options = if config.options == BattleshipOptions::default() {
        bytes::Bytes::new()
    } else {
        config.codec.encode(&config.options)?
    };
    let mut reports = Vec::new();
    // Whether the server queued the bot again by itself (a match called off).
    let mut requeued = false;
    while (reports.len() as u64) < config.games {
        if !std::mem::take(&mut requeued) {
            conn.send(&ClientMsg::FindMatch {
                game: Battleship::NAME.into(),
                options: options.clone(),
            })
            .await?;
        }
        let mut redirected = false;
        let joined = loop {
            match conn.recv().await? {
                ServerMsg::MatchFound(joined) => break joined,
                // A cluster placed the match on another node: go there with the ticket; the
                // reserved seat's `RoomJoined` stands for `MatchFound`.
                ServerMsg::Redirect { url, ticket } => {
                    let (there, _) = Connection::follow_redirect_with(
                        &url,
                        ticket,
                        config.codec,
                        config.timeout,
                        None,
                        config.tls.as_ref(),
                    )
                    .await?;
                    let _ = std::mem::replace(&mut conn, there).close().await;
                    redirected = true;
                }
                ServerMsg::RoomJoined(joined) if redirected => break joined,
                ServerMsg::Error { code, message, .. } => {
                    return Err(ClientError::Refused { code, message });
                }
                _ => {}
            }
        };
        let seat = joined.seat.ok_or_else(|| {
            ClientError::Unexpected(format!("quick match seated us as a spectator: {joined:?}"))
        })?;
        conn.reset_event_seq();
        match play_game(&mut conn, config, joined.room_id, seat, &mut rng).await? {
            Some(report) => {
                check(&report)?;
                reports.push(report);
            }
            None => requeued = true,
        }
    }
    conn.close().await?;
    Ok(reports)
}

/// Plays one game in `room` to its `RoomLeft`. `None` when a cluster's match was called
/// off before it started (`MatchCalledOff`: the server queued the bot again).
async fn play_game(
    conn: &mut Connection,
    config: &BattleshipBotConfig,
    room: RoomId,
    seat: Seat,
    rng: &mut StdRng,
) -> Result<Option<BattleshipReport>, ClientError> {
    let codec = config.codec;
    let (mut seq, mut pending, mut shots) = (0u32, None::<u32>, 0u32);
    let mut ack_tick: Tick = 0;
    let mut events = Vec::new();
    let mut views = Vec::new();
    let mut last_view: Option<BattleshipView> = None;
    let mut over: Option<(Option<Seat>, EndReason)> = None;
    let mut called_off = false;
    loop {
        match conn.recv().await? {
            ServerMsg::Snapshot {
                tick,
                input_seq,
                state,
            } => {
                let view: BattleshipView = codec.decode(&state)?;
                ack_tick = ack_tick.max(tick);
                if pending.is_some_and(|p| input_seq >= p) {
                    pending = None;
                    shots += 1;
                }
                if !view.over && view.to_move == Some(seat) && pending.is_none() {
                    let cell = hunt_target(&view, seat, rng).ok_or_else(|| {
                        ClientError::Unexpected(format!("no untried cell in {view:?}"))
                    })?;
                    seq += 1;
                    let data = codec.encode(&BattleshipShot { cell })?;
                    conn.send(&ClientMsg::Input {
                        seq,
                        ack_tick,
                        data,
                    })
                    .await?;
                    pending = Some(seq);
                }
                if config.keep_views {
                    views.push(view.clone());
                }
                last_view = Some(view);
            }
            ServerMsg::GameEvent { data, .. } => events.push(codec.decode(&data)?),
            ServerMsg::Event {
                event: RoomEvent::GameOver { winner, reason },
                ..
            } => over = Some((winner, reason)),
            ServerMsg::RoomLeft { room_id } if room_id == room && called_off => return Ok(None),
            ServerMsg::RoomLeft { room_id } if room_id == room => break,
            ServerMsg::Error {
                code: ErrorCode::MatchCalledOff,
                input_seq: None,
                ..
            } => called_off = true,
            // The turn timer fired for us while our shot was on its way.
            ServerMsg::Error {
                code: ErrorCode::NotYourTurn | ErrorCode::GameNotRunning,
                input_seq: Some(refused),
                ..
            } if pending == Some(refused) => pending = None,
            ServerMsg::Error { code, message, .. } => {
                return Err(ClientError::Refused { code, message });
            }
            _ => {}
        }
    }
    let (Some(last_view), Some((winner, reason))) = (last_view, over) else {
        return Err(ClientError::IllegalOutcome(format!(
            "room {room} closed without a view and a GameOver"
        )));
    };
    Ok(Some(BattleshipReport {
        room_id: room,
        seat,
        winner,
        reason,
        shots,
        events,
        last_view,
        views,
    }))
}

/// Whether a game's ending agrees with its last view and its events.
fn check(report: &BattleshipReport) -> Result<(), ClientError> {
    let view = &report.last_view;
    let illegal = |detail: String| {
        Err(ClientError::IllegalOutcome(format!(
            "room {}: {detail}",
            report.room_id
        )))
    };
    if !view.over || view.winner != report.winner {
        return illegal(format!(
            "GameOver {:?} {:?} but the last view is {view:?}",
            report.winner, report.reason
        ));
    }
    if report.reason == EndReason::Win {
        let Some(winner) = report.winner.filter(|&w| w < 2) else {
            return illegal("a win without a winner".into());
        };
        let loser = &view.boards[usize::from(1 - winner)];
        let sunk = report
            .events
            .iter()
            .filter(|e| matches!(e, BattleshipEvent::Sunk { by, .. } if *by == winner))
            .count();
        if loser.afloat != 0 || sunk == 0 {
            return illegal(format!(
                "seat {winner} won with {} ships afloat and {sunk} sunk",
                loser.afloat
            ));
        }
    }
    Ok(())
}
