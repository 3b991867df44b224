//! Fuzz target bodies for the built-in games: input decode and apply through the registry.
//!
//! The bytes are a script. A header picks the codec and the game's configuration; then
//! each step is one of: an input from raw bytes (the hostile case), a well-formed input
//! (so the fuzzer reaches deep game states cheaply), a tick some time later, an abandon, a
//! recorded view, or a delta request. Every step goes through the [`DynGame`] the registry
//! builds, exactly as a shard drives it, and the view is decoded after every step and
//! checked against the rules: what the step may have changed, and what must always hold.

use bytes::BytesMut;

use super::script::Script;
use crate::codec::Codec;
use crate::engine::{DynGame, InputError};
use crate::game::arena::{self, Arena, ArenaDelta, ArenaInput, ArenaView};
use crate::game::tictactoe::{LINES, TicTacToeMove, TicTacToeOptions, TicTacToeView};
use crate::game::{DeltaGame, GameConfig, Rejection, Viewer};
use crate::protocol::{EndReason, RoomSettings, Seat, Tick};
use crate::server::builtin_games;

/// Most steps one script runs, so a long input cannot make one run slow.
const MAX_STEPS: usize = 512;
/// Most recorded views the arena script remembers as delta bases.
const MAX_BASES: usize = 256;

/// The registry's game `name` for `config`, started at `start`.
fn create(name: &str, config: &GameConfig, start: Tick) -> Box<dyn DynGame> {
    let entry = builtin_games()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is a built-in game"));
    (entry.create)(config, start)
}

/// The view for `viewer` as a client of `codec` decodes it.
fn decoded_view<V: serde::de::DeserializeOwned>(
    game: &dyn DynGame,
    viewer: Viewer,
    codec: Codec,
) -> V {
    let mut buf = BytesMut::new();
    game.encode_view(viewer, codec, &mut buf)
        .unwrap_or_else(|e| panic!("view does not encode in {codec:?}: {e}"));
    codec
        .decode(&buf)
        .unwrap_or_else(|e| panic!("view does not decode in {codec:?}: {e}"))
}

/// How far a tick step moves time: small steps, or large ones (bit 7) to reach deadlines.
fn time_step(script: &mut Script<'_>) -> Tick {
    let b = script.byte();
    if b & 0x80 == 0 {
        Tick::from(b)
    } else {
        Tick::from(b & 0x7F) * 1024
    }
}

/// The script's header: codec, tick rate and start tick.
fn header(script: &mut Script<'_>) -> (Codec, u16, Tick) {
    let codec = if script.byte() & 1 == 0 {
        Codec::Bincode
    } else {
        Codec::MsgPack
    };
    let tick_hz = u16::from(script.byte()).max(1);
    let start = Tick::from(script.u16());
    (codec, tick_hz, start)
}

/// Every view a client of either codec can ask for, decoded; all must agree.
fn check_views_agree<V>(game: &dyn DynGame, seats: u8, expected: &V)
where
    V: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    for codec in Codec::ALL {
        let viewers = (0..seats).map(Viewer::Player).chain([Viewer::Spectator]);
        for viewer in viewers {
            let view: V = decoded_view(game, viewer, codec);
            assert_eq!(&view, expected, "{viewer:?} in {codec:?}");
        }
    }
}

/// Runs a tic-tac-toe script (see the module doc).
///
/// # Panics
/// When the game breaks a rule of tic-tac-toe or the [`DynGame`] contract.
pub fn tictactoe(data: &[u8]) {
    let mut script = Script::new(data);
    let (codec, tick_hz, start) = header(&mut script);
    let turn_seconds = match script.byte() {
        0 => None,
        255 => Some(script.u32()),
        s => Some(u32::from(s)),
    };
    let options = TicTacToeOptions { turn_seconds };
    let config = GameConfig {
        tick_hz,
        settings: RoomSettings {
            options: Codec::Bincode.encode(&options).expect("options encode"),
            ..RoomSettings::default()
        },
        players: 2,
        seed: 0,
    };
    let mut game = create("tictactoe", &config, start);
    let mut now = start;
    let mut view: TicTacToeView = decoded_view(game.as_ref(), Viewer::Spectator, codec);
    assert_eq!(view.board, [0; 9]);
    assert_eq!(view.to_move, Some(0));
    assert!(view.turn_deadline > now, "the first turn has time");
    for _ in 0..MAX_STEPS {
        if script.is_empty() {
            break;
        }
        let op = script.byte();
        let seat = script.byte() % 4;
        let before = view.clone();
        match op % 6 {
            0 | 1 => {
                let bytes = if op % 6 == 1 {
                    let cell = script.byte() % 12;
                    codec
                        .encode(&TicTacToeMove { cell })
                        .expect("a move encodes")
                        .to_vec()
                } else {
                    script.short_bytes().to_vec()
                };
                let result = game.apply_input(now, seat, 0, codec, &bytes);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                check_ttt_input(&before, &view, seat, codec, &bytes, &result);
            }
            2 => {
                now += time_step(&mut script);
                let changed = game.tick(now);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                assert_eq!(changed, view != before, "tick reports its change");
                let timed_out = !before.over && now >= before.turn_deadline;
                if timed_out {
                    let loser = before.to_move.expect("a running game has a player to move");
                    assert!(view.over, "the turn ran out at {now}");
                    assert_eq!(view.winner, Some(1 - loser));
                    assert_eq!(outcome_reason(game.as_ref()), Some(EndReason::TurnTimeout));
                    assert_eq!(view.board, before.board);
                } else {
                    assert_eq!(view, before, "a tick before the deadline changes nothing");
                }
            }
            3 => {
                let changed = game.abandon(now, seat);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                assert_eq!(changed, view != before, "abandon reports its change");
                if !before.over && seat <= 1 {
                    assert!(view.over);
                    assert_eq!(view.winner, Some(1 - seat));
                    assert_eq!(outcome_reason(game.as_ref()), Some(EndReason::Abandoned));
                } else {
                    assert_eq!(view, before);
                }
            }
            4 => {
                // Tic-tac-toe sends whole views: no delta support, whatever is recorded.
                game.record_view(now);
                assert!(!game.has_base(now));
                let mut buf = BytesMut::new();
                assert!(!game.encode_delta(now, now, codec, &mut buf).unwrap());
                assert!(buf.is_empty());
            }
            _ => check_views_agree(game.as_ref(), 2, &view),
        }
        check_ttt_invariants(game.as_ref(), &view, now);
    }
}

fn outcome_reason(game: &dyn DynGame) -> Option<EndReason> {
    game.outcome().map(|o| o.reason)
}

/// What one input may do to a tic-tac-toe view.
fn check_ttt_input(
    before: &TicTacToeView,
    after: &TicTacToeView,
    seat: Seat,
    codec: Codec,
    bytes: &[u8],
    result: &Result<bool, InputError>,
) {
    let decoded = codec.decode::<TicTacToeMove>(bytes);
    match (result, decoded) {
        (Err(InputError::Malformed(_)), Err(_)) => assert_eq!(after, before),
        (_, Err(e)) => panic!("undecodable input {bytes:?} gave {result:?}, not Malformed ({e})"),
        (Err(InputError::Malformed(e)), Ok(mv)) => panic!("{mv:?} decoded here but not there: {e}"),
        (Ok(changed), Ok(mv)) => {
            assert!(*changed, "an accepted move changes the board");
            assert!(!before.over, "a move after the end was accepted");
            assert_eq!(
                before.to_move,
                Some(seat),
                "a move out of turn was accepted"
            );
            let cell = usize::from(mv.cell);
            assert_eq!(before.board.get(cell), Some(&0), "{mv:?} was not free");
            let mut board = before.board;
            board[cell] = seat + 1;
            assert_eq!(after.board, board, "exactly the chosen cell is marked");
        }
        (Err(InputError::Rejected(rejection)), Ok(mv)) => {
            assert_eq!(after, before, "a refused move changed the game");
            let expected = if before.over {
                Rejection::game_over()
            } else if before.to_move != Some(seat) {
                Rejection::not_your_turn()
            } else {
                assert!(
                    before.board.get(usize::from(mv.cell)) != Some(&0),
                    "a legal move {mv:?} was refused: {rejection}"
                );
                return;
            };
            assert_eq!(rejection, &expected);
        }
    }
}

/// What always holds in a tic-tac-toe view.
fn check_ttt_invariants(game: &dyn DynGame, view: &TicTacToeView, now: Tick) {
    let count = |mark| view.board.iter().filter(|&&c| c == mark).count();
    let (xs, os) = (count(1), count(2));
    assert_eq!(
        xs + os + count(0),
        9,
        "cells are 0, 1 or 2: {:?}",
        view.board
    );
    assert!(
        xs == os || xs == os + 1,
        "X moves first, then turns alternate"
    );
    let line = |mark: u8| {
        LINES
            .iter()
            .any(|l| l.iter().all(|&c| view.board[c] == mark))
    };
    let outcome = game.outcome();
    assert_eq!(view.over, outcome.is_some());
    assert_eq!(view.winner, outcome.and_then(|o| o.winner));
    match outcome {
        None => {
            assert_eq!(view.to_move, Some(if xs == os { 0 } else { 1 }));
            assert!(
                !line(1) && !line(2),
                "a completed line did not end the game"
            );
            assert!(xs + os < 9, "a full board did not end the game");
            assert!(
                view.turn_deadline > now,
                "past the deadline and still running"
            );
        }
        Some(o) => {
            assert_eq!(view.to_move, None);
            assert_eq!(view.turn_deadline, 0);
            match o.reason {
                EndReason::Win => {
                    let winner = o.winner.expect("a win has a winner");
                    assert!(line(winner + 1), "{winner} won without a line");
                }
                EndReason::Draw => {
                    assert_eq!(o.winner, None);
                    assert_eq!(xs + os, 9, "a draw before the board is full");
                    assert!(!line(1) && !line(2));
                }
                EndReason::TurnTimeout | EndReason::Abandoned => assert!(o.winner.is_some()),
                // The server's reasons, never the rules': a game cannot report them.
                EndReason::ServerShutdown | EndReason::Closed => {
                    panic!("the rules ended a game with {:?}", o.reason)
                }
            }
        }
    }
}

/// Runs an arena script (see the module doc).
///
/// # Panics
/// When the game breaks a rule of the arena, the [`DynGame`] contract, or the delta
/// contract of [`DeltaGame`].
pub fn arena(data: &[u8]) {
    let mut script = Script::new(data);
    let (codec, tick_hz, start) = header(&mut script);
    let players = script.byte() % (arena::SEATS + 2);
    let config = GameConfig {
        tick_hz,
        settings: RoomSettings::default(),
        players,
        seed: 0,
    };
    let mut game = create("arena", &config, start);
    let mut now = start;
    let mut view: ArenaView = decoded_view(game.as_ref(), Viewer::Spectator, codec);
    assert_eq!(view.players.len(), usize::from(players.min(arena::SEATS)));
    // Views recorded as delta bases, oldest first, as the game records them.
    let mut bases: Vec<(Tick, ArenaView)> = Vec::new();
    for _ in 0..MAX_STEPS {
        if script.is_empty() {
            break;
        }
        let op = script.byte();
        let seat = script.byte() % (arena::SEATS + 2);
        let before = view.clone();
        match op % 7 {
            0 | 1 => {
                let bytes = if op % 7 == 1 {
                    let mut component = || match script.byte() % 4 {
                        3 => script.byte() as i8,
                        c => c as i8 - 1,
                    };
                    let input = ArenaInput {
                        dx: component(),
                        dy: component(),
                    };
                    codec.encode(&input).expect("an input encodes").to_vec()
                } else {
                    script.short_bytes().to_vec()
                };
                let result = game.apply_input(now, seat, 0, codec, &bytes);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                check_arena_input(&before, &view, seat, codec, &bytes, &result);
            }
            2 => {
                // Time moves only here, so `step` is the time since the game's last tick.
                let step = time_step(&mut script);
                now += step;
                let changed = game.tick(now);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                assert_eq!(changed, view != before, "tick reports its change");
                let moved: Vec<_> = before.players.iter().map(|p| p.advanced(step)).collect();
                assert_eq!(view.players, moved, "everyone moves {step} ticks' worth");
            }
            3 => {
                let changed = game.abandon(now, seat);
                view = decoded_view(game.as_ref(), Viewer::Spectator, codec);
                let mut expected = before.clone();
                expected.players.retain(|p| p.seat != seat);
                assert_eq!(view, expected, "abandon removes exactly that seat");
                assert_eq!(changed, view != before, "abandon reports its change");
            }
            4 => {
                game.record_view(now);
                if bases.last().is_none_or(|(t, _)| *t < now) {
                    bases.push((now, view.clone()));
                    if bases.len() > MAX_BASES {
                        bases.remove(0);
                    }
                }
                assert!(game.has_base(now), "a view recorded at {now} is not a base");
            }
            5 => {
                let Some(index) = usize::from(script.byte()).checked_rem(bases.len()) else {
                    continue;
                };
                let (base_tick, base) = &bases[index];
                let mut buf = BytesMut::new();
                let encoded = game.encode_delta(*base_tick, now, codec, &mut buf).unwrap();
                assert_eq!(encoded, game.has_base(*base_tick));
                // The game keeps at least 64 views: the newest ones are always there.
                if bases.len() - index <= 64 {
                    assert!(encoded, "the base at {base_tick} was forgotten too soon");
                }
                if encoded {
                    let delta: ArenaDelta = codec.decode(&buf).expect("a delta decodes");
                    let rebuilt = Arena::apply_delta(base, *base_tick, &delta, now);
                    assert_eq!(rebuilt, view, "delta from {base_tick} to {now}");
                }
            }
            _ => check_views_agree(game.as_ref(), arena::SEATS, &view),
        }
        check_arena_invariants(game.as_ref(), &view, players);
    }
}

/// What one input may do to an arena view.
fn check_arena_input(
    before: &ArenaView,
    after: &ArenaView,
    seat: Seat,
    codec: Codec,
    bytes: &[u8],
    result: &Result<bool, InputError>,
) {
    let decoded = codec.decode::<ArenaInput>(bytes);
    let present = before.players.iter().any(|p| p.seat == seat);
    match (result, decoded) {
        (Err(InputError::Malformed(_)), Err(_)) => assert_eq!(after, before),
        (_, Err(e)) => panic!("undecodable input {bytes:?} gave {result:?}, not Malformed ({e})"),
        (Err(InputError::Malformed(e)), Ok(input)) => {
            panic!("{input:?} decoded here but not there: {e}")
        }
        (Ok(changed), Ok(input)) => {
            let valid = |d: i8| (-1..=1).contains(&d);
            assert!(valid(input.dx) && valid(input.dy), "{input:?} was accepted");
            assert!(present, "an input for absent seat {seat} was accepted");
            let mut expected = before.clone();
            for p in &mut expected.players {
                if p.seat == seat {
                    p.dir = arena::pack_dir(input.dx, input.dy);
                }
            }
            assert_eq!(after, &expected, "only the seat's direction changes");
            assert_eq!(*changed, after != before, "apply reports its change");
        }
        (Err(InputError::Rejected(rejection)), Ok(input)) => {
            assert_eq!(after, before, "a refused input changed the game");
            let valid = |d: i8| (-1..=1).contains(&d);
            let expected = if !(valid(input.dx) && valid(input.dy)) {
                Rejection::illegal("dx and dy must each be -1, 0 or 1")
            } else {
                assert!(!present, "{input:?} from present seat {seat} was refused");
                Rejection::game_over()
            };
            assert_eq!(rejection, &expected);
        }
    }
}

/// What always holds in an arena view.
fn check_arena_invariants(game: &dyn DynGame, view: &ArenaView, players: u8) {
    assert_eq!(game.outcome(), None, "the arena never ends");
    assert!(game.shared_view());
    assert!(
        view.players.windows(2).all(|w| w[0].seat < w[1].seat),
        "players in seat order, each once: {view:?}"
    );
    for p in &view.players {
        assert!(p.seat < players.min(arena::SEATS), "{p:?} was never seated");
        assert!(
            p.x <= arena::SIZE && p.y <= arena::SIZE,
            "{p:?} left the box"
        );
        assert!(p.dir <= 8, "{p:?} has no direction");
    }
}
