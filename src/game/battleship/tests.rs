use rand::SeedableRng;

use super::*;
use crate::game::{CtxState, GameRng};
use crate::protocol::{ErrorCode, RoomSettings};

fn config(seed: u64) -> GameConfig {
    GameConfig {
        tick_hz: 10,
        settings: RoomSettings::default(),
        players: 2,
        seed,
    }
}

fn new_game(options: BattleshipOptions, state: &mut CtxState<BattleshipEvent>) -> Battleship {
    Battleship::new(&config(0), options, &mut state.at(0))
}

/// The first cell of `board` without a ship, and the first with one.
fn water_and_ship(game: &Battleship, board: Seat) -> (u8, u8) {
    let ships = game.ship_cells(board);
    let water = (0..game.size() * game.size())
        .find(|c| !ships.contains(c))
        .unwrap();
    (water, ships[0])
}

#[test]
fn placement_is_drawn_from_the_seed_and_is_a_legal_fleet() {
    for seed in 0..50 {
        for size in [MIN_SIZE, DEFAULT_SIZE, MAX_SIZE] {
            let options = BattleshipOptions {
                size: Some(size),
                ..Default::default()
            };
            let mut a = CtxState::new(seed);
            let mut b = CtxState::new(seed);
            let g = new_game(options, &mut a);
            let h = new_game(options, &mut b);
            for seat in 0..2 {
                assert_eq!(g.ship_cells(seat), h.ship_cells(seat), "seed {seed}");
                let board = &g.boards[usize::from(seat)];
                let mut cells = g.ship_cells(seat);
                assert_eq!(cells.len(), 17);
                cells.sort_unstable();
                cells.dedup();
                assert_eq!(cells.len(), 17, "ships overlap");
                for ship in &board.ships {
                    // Straight and unbroken: consecutive cells step by 1 in a row or
                    // by `size` in a column.
                    let step = ship.cells[1] - ship.cells[0];
                    assert!(step == 1 || step == size, "{ship:?}");
                    for w in ship.cells.windows(2) {
                        assert_eq!(w[1] - w[0], step);
                        if step == 1 {
                            assert_eq!(w[0] / size, w[1] / size, "wraps a row");
                        }
                    }
                    assert!(ship.cells.iter().all(|&c| c < size * size));
                }
            }
        }
    }
    let mut other = CtxState::new(1);
    let mut zero = CtxState::new(0);
    assert_ne!(
        new_game(BattleshipOptions::default(), &mut zero).ship_cells(0),
        new_game(BattleshipOptions::default(), &mut other).ship_cells(0),
        "another seed, another fleet"
    );
}

#[test]
fn shots_alternate_and_emit_miss_hit_and_sunk() {
    let mut state = CtxState::new(3);
    let mut g = new_game(BattleshipOptions::default(), &mut state);
    let (water, _) = water_and_ship(&g, 1);
    let shot = BattleshipShot { cell: water };
    assert_eq!(g.validate(1, &shot), Err(Rejection::not_your_turn()));
    assert!(g.apply(&mut state.at(5), 0, shot));
    assert_eq!(
        state.take_events(),
        [BattleshipEvent::Miss {
            by: 0,
            cell: water,
            auto: false
        }]
    );
    assert_eq!(g.view(Viewer::Spectator).to_move, Some(1));
    assert_eq!(g.view(Viewer::Spectator).turn_deadline, 5 + 200);
    // Seat 1 misses somewhere; seat 0 then sinks seat 1's ship 4 (two long).
    let (water0, _) = water_and_ship(&g, 0);
    let ship = g.boards[1].ships[4].cells.clone();
    assert!(g.apply(&mut state.at(6), 1, BattleshipShot { cell: water0 }));
    assert!(g.apply(&mut state.at(7), 0, BattleshipShot { cell: ship[0] }));
    assert!(g.apply(&mut state.at(8), 1, BattleshipShot { cell: water0 + 1 }));
    assert_eq!(
        g.view(Viewer::Player(0)).boards[1].cells[usize::from(ship[0])],
        cell::HIT
    );
    state.take_events();
    assert!(g.apply(&mut state.at(9), 0, BattleshipShot { cell: ship[1] }));
    assert_eq!(
        state.take_events(),
        [
            BattleshipEvent::Hit {
                by: 0,
                cell: ship[1],
                auto: false
            },
            BattleshipEvent::Sunk {
                by: 0,
                ship: 4,
                cells: ship.clone()
            },
        ]
    );
    let view = g.view(Viewer::Spectator);
    assert_eq!(view.boards[1].afloat, 4);
    assert!(
        ship.iter()
            .all(|&c| view.boards[1].cells[usize::from(c)] == cell::SUNK)
    );
}

#[test]
fn refused_shots_change_nothing() {
    let mut state = CtxState::new(0);
    let mut g = new_game(BattleshipOptions::default(), &mut state);
    let code = |r: Result<(), Rejection>| r.map_err(|r| r.code);
    assert_eq!(
        code(g.validate(0, &BattleshipShot { cell: 64 })),
        Err(ErrorCode::IllegalInput)
    );
    assert!(g.apply(&mut state.at(1), 0, BattleshipShot { cell: 10 }));
    assert!(g.apply(&mut state.at(2), 1, BattleshipShot { cell: 10 }));
    assert_eq!(
        code(g.validate(0, &BattleshipShot { cell: 10 })),
        Err(ErrorCode::IllegalInput),
        "already fired at"
    );
    let before = (g.view(Viewer::Player(0)), g.view(Viewer::Player(1)));
    state.take_events();
    assert!(!g.apply(&mut state.at(3), 0, BattleshipShot { cell: 10 }));
    assert!(!g.apply(&mut state.at(3), 1, BattleshipShot { cell: 11 }));
    assert!(!state.has_events());
    assert_eq!(
        (g.view(Viewer::Player(0)), g.view(Viewer::Player(1))),
        before
    );
}

#[test]
fn sinking_the_whole_fleet_wins() {
    let mut state = CtxState::new(9);
    let options = BattleshipOptions {
        fleet: Some(Fleet::Quick),
        ..Default::default()
    };
    let mut g = new_game(options, &mut state);
    let targets = g.ship_cells(1);
    let ships0 = g.ship_cells(0);
    let mut misses = (0..64u8).filter(|c| !ships0.contains(c));
    for (i, &cell) in targets.iter().enumerate() {
        let t = 2 * i as Tick;
        assert!(g.apply(&mut state.at(t), 0, BattleshipShot { cell }));
        if g.outcome().is_none() {
            let miss = misses.next().unwrap();
            assert!(g.apply(&mut state.at(t + 1), 1, BattleshipShot { cell: miss }));
        }
    }
    assert_eq!(
        g.outcome(),
        Some(Outcome {
            winner: Some(0),
            reason: EndReason::Win
        })
    );
    let view = g.view(Viewer::Player(1));
    assert!(view.over && view.to_move.is_none() && view.winner == Some(0));
    assert_eq!(view.boards[1].afloat, 0);
    assert_eq!(
        g.validate(1, &BattleshipShot { cell: 0 }),
        Err(Rejection::game_over())
    );
}

#[test]
fn views_hide_the_unhit_ships_of_others() {
    let mut state = CtxState::new(4);
    let mut g = new_game(BattleshipOptions::default(), &mut state);
    let (_, ship1) = water_and_ship(&g, 1);
    assert!(g.apply(&mut state.at(1), 0, BattleshipShot { cell: ship1 }));
    for viewer in [Viewer::Player(0), Viewer::Player(1), Viewer::Spectator] {
        let view = g.view(viewer);
        for board in 0..2u8 {
            let own = viewer == Viewer::Player(board);
            let cells = &view.boards[usize::from(board)].cells;
            assert_eq!(cells.len(), 64);
            for &c in &g.ship_cells(board) {
                let seen = cells[usize::from(c)];
                let shot = g.boards[usize::from(board)].shot[usize::from(c)];
                let expected = match (shot, own) {
                    (true, _) => cell::HIT,
                    (false, true) => cell::SHIP,
                    (false, false) => cell::UNKNOWN,
                };
                assert_eq!(seen, expected, "{viewer:?} board {board} cell {c}");
            }
            let ships = cells.iter().filter(|&&c| c == cell::SHIP).count();
            assert_eq!(ships, if own { 17 - usize::from(board == 1) } else { 0 });
        }
    }
    assert_eq!(g.view(Viewer::Player(1)).you, Some(1));
    assert_eq!(g.view(Viewer::Spectator).you, None);
}

#[test]
fn the_turn_timer_fires_at_random_then_forfeits() {
    let mut state = CtxState::new(5);
    let options = BattleshipOptions {
        turn_seconds: Some(2),
        ..Default::default()
    };
    let mut g = new_game(options, &mut state);
    // 2 s at 10 Hz: 20 ticks per turn. Seat 0 never fires; seat 1 misses each time.
    let mut now = 0;
    let water0: Vec<u8> = (0..64).filter(|c| !g.ship_cells(0).contains(c)).collect();
    for &miss in water0.iter().take(usize::from(MAX_AUTO_SHOTS)) {
        assert!(!g.tick(&mut state.at(now + 19)));
        now += 20;
        assert!(g.tick(&mut state.at(now)));
        let events = state.take_events();
        assert!(
            matches!(
                events[0],
                BattleshipEvent::Miss {
                    by: 0,
                    auto: true,
                    ..
                } | BattleshipEvent::Hit {
                    by: 0,
                    auto: true,
                    ..
                }
            ),
            "{events:?}"
        );
        assert_eq!(g.view(Viewer::Spectator).to_move, Some(1));
        assert!(g.apply(&mut state.at(now), 1, BattleshipShot { cell: miss }));
        state.take_events();
    }
    assert_eq!(g.outcome(), None);
    assert!(g.tick(&mut state.at(now + 20)));
    assert_eq!(
        g.outcome(),
        Some(Outcome {
            winner: Some(1),
            reason: EndReason::TurnTimeout
        })
    );
    assert!(!g.tick(&mut state.at(now + 40)), "over");
}

#[test]
fn a_real_shot_resets_the_auto_fire_count() {
    let mut state = CtxState::new(6);
    let options = BattleshipOptions {
        turn_seconds: Some(1),
        ..Default::default()
    };
    let mut g = new_game(options, &mut state);
    let water0: Vec<u8> = (0..64).filter(|c| !g.ship_cells(0).contains(c)).collect();
    let mut water0 = water0.into_iter();
    // 1 s at 10 Hz. Seat 0 lets MAX_AUTO_SHOTS turns run out, fires once by hand, lets
    // MAX_AUTO_SHOTS more run out; seat 1 misses every time.
    let mut now = 0;
    for by_hand in [false, false, false, true, false, false, false] {
        now += 10;
        if by_hand {
            let view = g.view(Viewer::Player(0));
            let cell = view.boards[1]
                .cells
                .iter()
                .position(|&c| c == cell::UNKNOWN);
            let shot = BattleshipShot {
                cell: cell.unwrap() as u8,
            };
            assert!(g.apply(&mut state.at(now), 0, shot));
        } else {
            assert!(g.tick(&mut state.at(now)));
        }
        assert_eq!(g.outcome(), None);
        let shot = BattleshipShot {
            cell: water0.next().unwrap(),
        };
        assert!(g.apply(&mut state.at(now), 1, shot));
    }
    assert!(g.tick(&mut state.at(now + 10)));
    assert_eq!(g.outcome().map(|o| o.reason), Some(EndReason::TurnTimeout));
}

#[test]
fn options_are_checked() {
    let check = Battleship::validate_options;
    assert_eq!(check(&BattleshipOptions::default()), Ok(()));
    for size in [MIN_SIZE, MAX_SIZE] {
        let options = BattleshipOptions {
            size: Some(size),
            ..Default::default()
        };
        assert_eq!(check(&options), Ok(()));
    }
    for size in [0, MIN_SIZE - 1, MAX_SIZE + 1, 255] {
        let options = BattleshipOptions {
            size: Some(size),
            ..Default::default()
        };
        assert!(check(&options).unwrap_err().contains("size"));
    }
    for seconds in [0, MAX_TURN_SECONDS + 1] {
        let options = BattleshipOptions {
            turn_seconds: Some(seconds),
            ..Default::default()
        };
        assert!(check(&options).unwrap_err().contains("turn_seconds"));
    }
    let mut state = CtxState::new(0);
    let options = BattleshipOptions {
        size: Some(10),
        fleet: Some(Fleet::Quick),
        turn_seconds: Some(3),
    };
    let g = new_game(options, &mut state);
    let view = g.view(Viewer::Player(0));
    assert_eq!(view.size, 10);
    assert_eq!(view.boards[0].cells.len(), 100);
    assert_eq!(view.boards[0].afloat, 3);
    assert_eq!(view.turn_deadline, 30);
}

#[test]
fn leaving_forfeits() {
    let mut state = CtxState::new(0);
    let mut g = new_game(BattleshipOptions::default(), &mut state);
    assert!(g.on_leave(&mut state.at(3), 1));
    assert_eq!(
        g.outcome(),
        Some(Outcome {
            winner: Some(0),
            reason: EndReason::Abandoned
        })
    );
    assert!(!g.on_leave(&mut state.at(4), 0));
}

/// One thing that may happen to a game, for the property test.
#[derive(Debug, Clone)]
enum Step {
    Shot(Seat, u8),
    Tick(Tick),
    Leave(Seat),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        8 => (0..3u8, any::<u8>()).prop_map(|(seat, cell)| Step::Shot(seat, cell)),
        4 => (1..40u64).prop_map(Step::Tick),
        1 => (0..3u8).prop_map(Step::Leave),
    ]
}

proptest::proptest! {
    /// Whatever the inputs (any seat, any cell byte), timeouts and leaves: no panic, a
    /// refused input changes nothing, and after every step each view shows its
    /// owner's fleet, no viewer another's unhit ship, and exactly the shots fired.
    #[test]
    fn views_keep_the_secrets_whatever_happens(
        seed in proptest::prelude::any::<u64>(),
        size in MIN_SIZE..=MAX_SIZE,
        steps in proptest::collection::vec(step(), 0..300),
    ) {
        let mut state = CtxState::new(seed);
        let options = BattleshipOptions {
            size: Some(size),
            fleet: None,
            turn_seconds: Some(1),
        };
        let mut g = Battleship::new(&config(seed), options, &mut state.at(0));
        let mut now = 0;
        for step in steps {
            match step {
                Step::Shot(seat, cell) => {
                    let shot = BattleshipShot { cell };
                    let valid = g.validate(seat, &shot).is_ok();
                    let before = g.view(Viewer::Spectator);
                    proptest::prop_assert_eq!(g.apply(&mut state.at(now), seat, shot), valid);
                    if !valid {
                        proptest::prop_assert_eq!(g.view(Viewer::Spectator), before);
                    }
                }
                Step::Tick(gap) => {
                    now += gap;
                    g.tick(&mut state.at(now));
                }
                Step::Leave(seat) => {
                    g.on_leave(&mut state.at(now), seat);
                }
            }
            for viewer in [Viewer::Player(0), Viewer::Player(1), Viewer::Spectator] {
                let view = g.view(viewer);
                for board in 0..2u8 {
                    let truth = &g.boards[usize::from(board)];
                    let seen = &view.boards[usize::from(board)];
                    proptest::prop_assert_eq!(seen.cells.len(), truth.shot.len());
                    proptest::prop_assert_eq!(seen.afloat, truth.afloat());
                    for (i, &c) in seen.cells.iter().enumerate() {
                        let ship = truth.ship_at[i].map(|s| &truth.ships[usize::from(s)]);
                        let expected = match (truth.shot[i], ship) {
                            (true, None) => cell::MISS,
                            (true, Some(ship)) if ship.sunk() => cell::SUNK,
                            (true, Some(_)) => cell::HIT,
                            (false, Some(_)) if viewer == Viewer::Player(board) => cell::SHIP,
                            (false, _) => cell::UNKNOWN,
                        };
                        proptest::prop_assert_eq!(c, expected, "{:?} board {} cell {}", viewer, board, i);
                    }
                }
            }
        }
    }
}

#[test]
fn hunt_target_bots_finish_every_game_with_legal_shots() {
    let mut rng = GameRng::seed_from_u64(7);
    for seed in 0..20 {
        let mut state = CtxState::new(seed);
        let mut g = new_game(BattleshipOptions::default(), &mut state);
        let mut shots = 0;
        while g.outcome().is_none() {
            let seat = g.view(Viewer::Spectator).to_move.unwrap();
            let view = g.view(Viewer::Player(seat));
            let cell = hunt_target(&view, seat, &mut rng).expect("an untried cell");
            assert_eq!(g.validate(seat, &BattleshipShot { cell }), Ok(()));
            assert!(g.apply(&mut state.at(shots), seat, BattleshipShot { cell }));
            shots += 1;
            assert!(shots <= 128);
        }
        assert_eq!(g.outcome().unwrap().reason, EndReason::Win);
        // Hunting and targeting beats random fire, which needs nearly every cell of
        // both boards.
        assert!(shots < 120, "seed {seed}: {shots} shots");
    }
}

#[test]
fn server_bots_of_both_strategies_play_legal_shots_to_the_end() {
    use crate::game::BotGame;
    for (x, o) in [
        ("perfect", "random"),
        ("random", "random"),
        ("perfect", "perfect"),
    ] {
        for seed in 0..10 {
            let mut state = CtxState::new(seed);
            let mut g = new_game(BattleshipOptions::default(), &mut state);
            let mut bots = [
                Battleship::bot(x, seed).unwrap(),
                Battleship::bot(o, seed + 1).unwrap(),
            ];
            let mut shots = 0;
            while g.outcome().is_none() {
                for seat in 0..2u8 {
                    let view = g.view(Viewer::Player(seat));
                    let chosen = bots[usize::from(seat)].choose(&view, seat);
                    if view.to_move != Some(seat) {
                        assert_eq!(chosen, None, "a bot waits for its turn");
                        continue;
                    }
                    let shot = chosen.expect("a shot on its turn");
                    assert_eq!(g.validate(seat, &shot), Ok(()));
                    assert!(g.apply(&mut state.at(shots), seat, shot));
                    shots += 1;
                    break;
                }
                assert!(shots <= 128, "{x} vs {o}, seed {seed}");
            }
            assert_eq!(g.outcome().unwrap().reason, EndReason::Win);
        }
    }
    assert!(Battleship::bot("clever", 0).is_none());
}
