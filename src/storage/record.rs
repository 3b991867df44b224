//! A finished game as it is stored: the engine's [`FinishedGame`] with its sessions
//! turned into players by the lobby.
//!
//! [`FinishedGame`]: crate::engine::FinishedGame

use bytes::Bytes;

use crate::protocol::{EndReason, MatchId, RoomSettings, Seat, SessionId};

/// One player of a finished game.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchPlayer {
    /// The seat played.
    pub seat: Seat,
    /// The player's key: [`player_key_user`], [`player_key_guest`], or [`player_key_bot`]
    /// for a server bot's seat.
    pub player_key: String,
    /// The session that held the seat.
    pub session: SessionId,
    /// The name shown for the player.
    pub display_name: String,
    /// A guest (no token); its record may be pruned.
    pub guest: bool,
}

/// A finished game to record.
#[derive(Debug, Clone)]
pub struct MatchRecord {
    /// The match id: the room's id, unique across restarts.
    pub id: MatchId,
    /// The game's registered name.
    pub game: String,
    /// The room's settings.
    pub settings: RoomSettings,
    /// Whether it moves ratings: quick-match rooms always, private rooms when their
    /// settings say `ranked`; never relay rooms, nor games with a server bot.
    pub ranked: bool,
    /// Whether the room came from quick match.
    pub public: bool,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// When it ended, in milliseconds since the Unix epoch.
    pub ended_at_ms: i64,
    /// Ticks played.
    pub ticks: u64,
    /// The server's tick rate.
    pub tick_hz: u16,
    /// The winning seat, `None` for a draw or an ending without a winner.
    pub winner: Option<Seat>,
    /// How it ended.
    pub reason: EndReason,
    /// The players, by seat.
    pub players: Vec<MatchPlayer>,
    /// The replay log, when one was recorded.
    pub replay: Option<Bytes>,
}

impl MatchRecord {
    /// Whether this game moves ratings: it is ranked, and it ended by the rules or by a
    /// player's forfeit (a shutdown, an operator's close, or a game every player left
    /// without a winner is nobody's result).
    pub fn rated(&self) -> bool {
        self.ranked
            && self.players.len() >= 2
            && match self.reason {
                EndReason::Win | EndReason::Draw | EndReason::TurnTimeout => true,
                EndReason::Abandoned => self.winner.is_some(),
                _ => false,
            }
    }
}

/// The key of an authenticated player: `user:` and the token's subject.
pub fn player_key_user(player_id: &str) -> String {
    ["user:", player_id].concat()
}

/// The key of the server bot of `game` (quick match's bot fill): `bot:<game>`. Games
/// with a bot are unranked, so no rating is ever stored under it.
pub fn player_key_bot(game: &str) -> String {
    ["bot:", game].concat()
}

/// The key of a guest: `guest:` and its session id (a guest is rated only for as long
/// as its session lives).
pub fn player_key_guest(session: SessionId) -> String {
    prefixed_number("guest:", session.get())
}

/// The display name of a guest: `guest ` and its session id.
pub fn display_name_guest(session: SessionId) -> String {
    prefixed_number("guest ", session.get())
}

/// `prefix` then `number` in decimal, in one allocation of the exact size. Every finished
/// game names its players this way (a guest's key and display name); `format!` grew its
/// string on the way and cost about four times as many instructions (callgrind, ttt load).
fn prefixed_number(prefix: &str, number: u64) -> String {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(number);
    let mut text = String::with_capacity(prefix.len() + digits.len());
    text.push_str(prefix);
    text.push_str(digits);
    text
}

/// `reason` as stored and shown (`GET /matches`).
pub(crate) fn reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Win => "win",
        EndReason::Draw => "draw",
        EndReason::TurnTimeout => "turn_timeout",
        EndReason::Abandoned => "abandoned",
        EndReason::ServerShutdown => "server_shutdown",
        EndReason::Closed => "closed",
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(reason: EndReason, winner: Option<Seat>) -> MatchRecord {
        let player = |seat: Seat| MatchPlayer {
            seat,
            player_key: player_key_guest(SessionId::new(u64::from(seat) + 1)),
            session: SessionId::new(u64::from(seat) + 1),
            display_name: String::new(),
            guest: true,
        };
        MatchRecord {
            id: MatchId::new(1),
            game: "arena".into(),
            settings: RoomSettings::default(),
            ranked: true,
            public: true,
            started_at_ms: 0,
            ended_at_ms: 0,
            ticks: 0,
            tick_hz: 30,
            winner,
            reason,
            players: vec![player(0), player(1)],
            replay: None,
        }
    }

    #[test]
    fn only_results_someone_earned_move_ratings() {
        assert!(record(EndReason::Win, Some(0)).rated());
        assert!(record(EndReason::Draw, None).rated());
        assert!(record(EndReason::Abandoned, Some(1)).rated(), "a forfeit");
        assert!(
            !record(EndReason::Abandoned, None).rated(),
            "everyone left: nobody's result"
        );
        assert!(!record(EndReason::ServerShutdown, None).rated());
        let mut unranked = record(EndReason::Win, Some(0));
        unranked.ranked = false;
        assert!(!unranked.rated());
    }
}
