//! What a bot is doing, for people watching it: [`BotStatus`].

use crate::client::GameResult;
use crate::protocol::{RoomId, Seat};

/// What a bot is doing or waiting for, for people watching it ([`Bot::status`](super::Bot::status)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotStatus {
    /// Opening a connection.
    Connecting,
    /// In the quick-match queue, waiting for an opponent.
    WaitingForOpponent {
        /// Players waiting for the game, this bot included.
        waiting: u32,
    },
    /// Seated in a room, playing.
    Playing {
        /// The room.
        room: RoomId,
        /// This bot's seat (0 plays X and moves first).
        seat: Seat,
    },
    /// A game ended; `result` from this bot's side (`None` if its ending was illegal).
    GameEnded {
        /// Games finished so far.
        games: u64,
        /// How it ended.
        result: Option<GameResult>,
    },
    /// Dropped its connection on purpose (chaos) and resuming.
    Reconnecting,
}

impl std::fmt::Display for BotStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BotStatus::Connecting => write!(f, "connecting"),
            BotStatus::WaitingForOpponent { waiting } if *waiting <= 1 => {
                write!(f, "waiting for an opponent (nobody else is queued yet)")
            }
            BotStatus::WaitingForOpponent { waiting } => {
                write!(f, "waiting for an opponent ({waiting} players queued)")
            }
            BotStatus::Playing { room, seat } => {
                let mark = if *seat == 0 {
                    "X, moving first"
                } else {
                    "O, moving second"
                };
                write!(f, "playing in room {room} as {mark}")
            }
            BotStatus::GameEnded { games, result } => {
                let result = match result {
                    Some(GameResult::Won) => "won",
                    Some(GameResult::Lost) => "lost",
                    Some(GameResult::Drew) => "a draw",
                    Some(GameResult::Forfeit) => "ended by a forfeit (time out or a player left)",
                    None => "ended illegally (see the errors)",
                };
                write!(f, "game {games}: {result}")
            }
            BotStatus::Reconnecting => write!(f, "dropped the connection on purpose; resuming"),
        }
    }
}
