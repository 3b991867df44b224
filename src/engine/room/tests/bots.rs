//! Server bots and seating: the room draws the bots' seats from its seed, seats players in
//! order, and tells the lobby first; a bot plays through the clients' input path.

use super::*;

/// A quick-match tic-tac-toe room of `players` (sessions 1, 2, ...; bincode) and perfect
/// server bots in the other seats.
fn bot_room(players: u64) -> NewRoom {
    use crate::engine::BotFill;
    use crate::game::tictactoe::TicTacToe;

    NewRoom {
        game: GameEntry::of::<TicTacToe>().with_bot::<TicTacToe>(),
        settings: RoomSettings::default(),
        code: "BOTS".into(),
        public: true,
        players: (1..=players).map(|s| member(s, Codec::Bincode)).collect(),
        bots: BotFill {
            count: 2 - players as u8,
            strategy: "perfect".into(),
        },
        start_now: true,
        reserved: Default::default(),
    }
}

/// The first engine seed whose room 7 draws seat 0 for its one bot.
fn seed_with_the_bot_in_seat_0() -> u64 {
    (0..)
        .find(|&seed| {
            crate::engine::room::bots::bot_seats(crate::engine::room::room_seed(seed, 7), 2, 1)
                == [0]
        })
        .unwrap()
}

/// A quick-match tic-tac-toe room: session 1 (bincode) in seat 1 and a perfect server bot
/// in seat 0 (`seed` must draw that), the human playing the first free cell whenever it is
/// to move. Returns the boards after each tick, the finished game's record, and what the
/// human was told.
fn play_against_a_bot(seed: u64) -> (Vec<[u8; 9]>, FinishedGame, Vec<ServerMsg>) {
    use crate::game::tictactoe::{TicTacToeMove, TicTacToeView};

    let mut rig = Rig::with(bot_room(1), limits(seed, 64));
    let mut said = Vec::new();
    let mut boards = Vec::new();
    let mut seq = 0;
    let mut moved_on = None;
    for now in 2..100 {
        let done = rig.tick(now);
        said.extend(rig.said(1));
        let mut buf = BytesMut::new();
        let game = rig.room.game.as_ref().expect("running");
        game.encode_view(Viewer::Player(1), Codec::Bincode, &mut buf)
            .unwrap();
        let view: TicTacToeView = Codec::Bincode.decode(&buf).unwrap();
        boards.push(view.board);
        // A finished room whose player is connected closes at once.
        assert_eq!(done, view.over, "the room closes when the game is over");
        if view.over {
            break;
        }
        if view.to_move == Some(1) && moved_on != Some(view.board) {
            let cell = (0u8..9).find(|&c| view.board[usize::from(c)] == 0).unwrap();
            seq += 1;
            let data = Codec::Bincode.encode(&TicTacToeMove { cell }).unwrap();
            rig.queue_input(1, seq, data);
            moved_on = Some(view.board);
        }
    }
    let finished = rig.finished().pop().expect("finished");
    (boards, finished, said)
}

#[test]
fn a_bot_seat_plays_through_the_input_path_is_deterministic_and_is_recorded() {
    use crate::game::tictactoe::TicTacToe;

    let seed = seed_with_the_bot_in_seat_0();
    let (boards, finished, msgs) = play_against_a_bot(seed);
    // The human learns of the bot in `MatchFound`, after the bot's `PlayerJoined`.
    let joined = msgs
        .iter()
        .find_map(|m| match m {
            ServerMsg::MatchFound(joined) => Some(joined.clone()),
            _ => None,
        })
        .expect("MatchFound");
    assert_eq!((joined.seat, joined.bots.clone()), (Some(1), vec![0]));
    assert!(msgs.iter().any(|m| matches!(
        m,
        ServerMsg::Event {
            event: RoomEvent::PlayerJoined { seat: 0 },
            ..
        }
    )));
    // The bot (X, seat 0) moved first, on the tick after the start, and never lost.
    assert_eq!(
        boards[0].iter().filter(|&&c| c == 0).count(),
        9,
        "{boards:?}"
    );
    assert_eq!(
        boards[1].iter().filter(|&&c| c == 1).count(),
        1,
        "{boards:?}"
    );
    assert_ne!(finished.outcome.winner, Some(1));
    let roster: Vec<(Seat, SessionId, bool)> = finished
        .players
        .iter()
        .map(|p| (p.seat, p.session, p.bot))
        .collect();
    assert_eq!(roster, [(0, sid(0), true), (1, sid(1), false)]);
    // Its inputs were recorded like the human's: the replay re-runs to the same outcome.
    let registry = GameRegistry::new([GameEntry::of::<TicTacToe>()]);
    let replay = finished.replay.as_ref().expect("recorded");
    let verified = crate::replay::verify(replay, &registry).expect("verifies");
    assert_eq!(verified.outcome, finished.outcome);
    let marks = boards.last().unwrap().iter().filter(|&&c| c != 0).count();
    assert_eq!(verified.inputs, u64::try_from(marks).unwrap());
    // Same seed, same game.
    assert_eq!(play_against_a_bot(seed).0, boards);
}

#[test]
fn the_room_alone_seats_bots_by_its_seed_and_players_in_order_and_tells_the_lobby_first() {
    let mut bot_seat_seen = [false; 2];
    for seed in 0..32 {
        let mut rig = Rig::with(bot_room(1), limits(seed, 64));
        let drawn = crate::engine::room::bots::bot_seats(rig.room.config.seed, 2, 1);
        assert_eq!(
            rig.room.bots.iter().map(|b| b.seat).collect::<Vec<_>>(),
            drawn
        );
        let human = 1 - drawn[0];
        bot_seat_seen[usize::from(drawn[0])] = true;
        let outs = rig.out.take();
        let seated = outs
            .iter()
            .position(|o| match o {
                Out::Notice(Notice::Seated {
                    room: ROOM,
                    session,
                    seat,
                }) => *session == sid(1) && *seat == human,
                _ => false,
            })
            .expect("the lobby hears the seat");
        let found = outs
            .iter()
            .position(
                |o| matches!(o, Out::Msg { msg, .. } if matches!(**msg, ServerMsg::MatchFound(_))),
            )
            .expect("MatchFound");
        assert!(seated < found, "the lobby before the player");
        match &outs[found] {
            Out::Msg { msg, .. } => match &**msg {
                ServerMsg::MatchFound(joined) => {
                    assert_eq!((joined.seat, joined.bots.clone()), (Some(human), drawn));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(bot_seat_seen, [true, true], "either seat, by the seed");

    // Players in order in the seats left; one too many is turned away, and the lobby told.
    let mut new = bot_room(2);
    new.players.push(member(3, Codec::Bincode));
    let mut rig = Rig::with(new, limits(0, 64));
    let notices = rig.out.take_notices();
    let seats: Vec<(SessionId, Seat)> = notices
        .iter()
        .filter_map(|n| match n {
            Notice::Seated { session, seat, .. } => Some((*session, *seat)),
            _ => None,
        })
        .collect();
    assert_eq!(seats, [(sid(1), 0), (sid(2), 1)]);
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::MemberLeft { session, .. } if session.get() == 3))
    );
    assert!(matches!(
        rig.said(3)[..],
        [ServerMsg::RoomLeft { room_id: ROOM }]
    ));
}
