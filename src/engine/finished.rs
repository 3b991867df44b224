//! The record of one finished game, as the engine hands it to the layer above.
//!
//! A room reports each game exactly once, at the tick its outcome is known (by the rules,
//! by the operator closing the room, or by a shutdown drain), through
//! [`RoomObserver::game_finished`](super::RoomObserver::game_finished). The record names
//! players by session; the lobby turns sessions into player identities, and storage makes
//! the record durable. The engine itself keeps nothing once it has reported.

use bytes::Bytes;

use crate::game::Outcome;
use crate::protocol::{RoomId, RoomSettings, Seat, SessionId, Tick};

/// One player of a finished game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishedSeat {
    /// The seat played.
    pub seat: Seat,
    /// The session that held it (a player who left mid-game is still listed); 0 for a bot.
    pub session: SessionId,
    /// A server bot played this seat (quick match's bot fill), not a session.
    pub bot: bool,
}

/// A game that has ended.
#[derive(Debug, Clone)]
pub struct FinishedGame {
    /// The room it was played in.
    pub room: RoomId,
    /// The game's registered name.
    pub game: &'static str,
    /// The room's settings.
    pub settings: RoomSettings,
    /// Whether the room came from quick match (listed) rather than a private code.
    pub public: bool,
    /// Everyone who held a seat while the game ran, by seat.
    pub players: Vec<FinishedSeat>,
    /// The tick the game started at.
    pub started: Tick,
    /// The tick its outcome was decided at.
    pub ended: Tick,
    /// The server's tick rate, to turn ticks into time.
    pub tick_hz: u16,
    /// How it ended.
    pub outcome: Outcome,
    /// The game's replay log, when the engine records one.
    pub replay: Option<Bytes>,
}

impl FinishedGame {
    /// Ticks played.
    pub fn ticks(&self) -> Tick {
        self.ended.saturating_sub(self.started)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::room::TestAcks;

    use bytes::BytesMut;

    use super::FinishedGame;
    use crate::codec::Codec;
    use crate::engine::registry::GameEntry;
    use crate::engine::room::{Notice, Out, Room, RoomLimits, RoomOutput};
    use crate::engine::{Member, NewRoom};
    use crate::game::tictactoe::{TicTacToe, TicTacToeMove};
    use crate::outbox::Outbox;
    use crate::protocol::{EndReason, RoomId, RoomSettings, SessionId};
    use crate::replay::{self, ReplayConfig};

    fn room(out: &mut RoomOutput) -> Room {
        let members = [11, 22]
            .map(|session| Member {
                session: SessionId::new(session),
                outbox: Outbox::new(Codec::Bincode, 64),
            })
            .to_vec();
        let new = NewRoom {
            game: GameEntry::of::<TicTacToe>(),
            settings: RoomSettings::default(),
            code: "ABCDEFGH".into(),
            public: true,
            players: members,
            bots: Default::default(),
            start_now: false,
            reserved: Default::default(),
        };
        let limits = RoomLimits {
            grace_ticks: 30,
            tick_hz: 30,
            event_log_capacity: 64,
            recorder: replay::Recorder::new(ReplayConfig::default(), Default::default()),
            seed: 0,
        };
        Room::new(RoomId::new(7), new, 1, limits, out)
    }

    fn play(room: &mut Room, out: &mut RoomOutput, session: u64, seq: u32, cell: u8, now: u64) {
        let data = Codec::Bincode.encode(&TicTacToeMove { cell }).unwrap();
        room.queue_input(SessionId::new(session), seq, data);
        room.tick(now, &mut BytesMut::new(), &TestAcks::default(), out);
    }

    /// The finished games the room reported in `out`.
    fn finished(out: &mut RoomOutput) -> Vec<FinishedGame> {
        out.take()
            .into_iter()
            .filter_map(|o| match o {
                Out::Notice(Notice::GameFinished(game)) => Some(*game),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_won_game_is_reported_once_with_both_seats() {
        let mut out = RoomOutput::default();
        let mut room = room(&mut out);
        // X (session 11, seat 0) takes the top row.
        for (i, (session, cell)) in [(11, 0), (22, 3), (11, 1), (22, 4), (11, 2)]
            .into_iter()
            .enumerate()
        {
            play(
                &mut room,
                &mut out,
                session,
                i as u32 + 1,
                cell,
                2 + i as u64,
            );
        }
        for now in 7..12 {
            room.tick(now, &mut BytesMut::new(), &TestAcks::default(), &mut out);
        }
        let games = finished(&mut out);
        assert_eq!(games.len(), 1, "reported exactly once");
        let game = &games[0];
        assert_eq!((game.room, game.game), (RoomId::new(7), "tictactoe"));
        assert_eq!(game.outcome.winner, Some(0));
        assert_eq!(game.outcome.reason, EndReason::Win);
        let seats: Vec<_> = game.players.iter().map(|p| (p.seat, p.session)).collect();
        assert_eq!(seats, [(0, SessionId::new(11)), (1, SessionId::new(22))]);
        assert_eq!((game.started, game.ended), (1, 6));
        assert_eq!(game.ticks(), 5);
        let replay = game.replay.as_ref().expect("recording is on by default");
        let registry = crate::server::builtin_games();
        let verified = replay::verify(replay, &registry).expect("the replay verifies");
        assert_eq!(verified.outcome, game.outcome);
        assert_eq!((verified.header.start, verified.ended), (1, 6));
        assert_eq!((verified.inputs, verified.ticks), (5, 5));
    }

    #[test]
    fn a_player_who_leaves_mid_game_is_still_in_the_record() {
        let mut out = RoomOutput::default();
        let mut room = room(&mut out);
        play(&mut room, &mut out, 11, 1, 4, 2);
        room.leave(SessionId::new(22), 3, &mut out);
        room.tick(3, &mut BytesMut::new(), &TestAcks::default(), &mut out);
        let games = finished(&mut out);
        assert_eq!(games.len(), 1);
        assert_eq!(games[0].outcome.reason, EndReason::Abandoned);
        assert_eq!(games[0].outcome.winner, Some(0));
        assert_eq!(games[0].players.len(), 2);
    }
}
