use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::{Group, MatchConfig, Queues, Waiting};
use crate::engine::GameEntry;
use crate::game::arena::Arena;
use crate::game::tictactoe::TicTacToe;
use crate::protocol::SessionId;

fn tictactoe() -> GameEntry {
    GameEntry::of::<TicTacToe>().with_bot::<TicTacToe>()
}

fn arena() -> GameEntry {
    GameEntry::with_deltas::<Arena>()
}

fn config() -> MatchConfig {
    MatchConfig {
        initial_window: 100,
        widen_per_second: 100,
        max_window: 1000,
        fill_wait: Duration::from_secs(3),
        ..MatchConfig::default()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Queues player `id` with `rating` at `at`.
fn push(queues: &mut Queues<()>, game: GameEntry, id: u64, rating: u16, at: Instant) -> u32 {
    let waiting = Waiting {
        id: SessionId::new(id),
        rating,
        since: at,
        payload: (),
    };
    queues.push(game, Bytes::new(), waiting)
}

/// Each group's player ids (in queue order) and bot count.
fn ids(groups: &[Group<()>]) -> Vec<(Vec<u64>, u8)> {
    groups
        .iter()
        .map(|g| (g.players.iter().map(|w| w.id.get()).collect(), g.bots))
        .collect()
}

#[test]
fn players_pair_with_the_closest_rating_in_their_window() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    assert_eq!(push(&mut queues, tictactoe(), 1, 1000, t0), 1);
    assert_eq!(push(&mut queues, tictactoe(), 2, 1400, t0), 2);
    assert_eq!(push(&mut queues, tictactoe(), 3, 1090, t0), 3);
    assert_eq!(push(&mut queues, tictactoe(), 4, 1050, t0), 4);
    // 1 (the oldest) meets 4, the closest of the two within its window of 100.
    assert_eq!(ids(&queues.take_groups(t0)), [(vec![1, 4], 0)]);
    // 3 and 2 are 310 apart: no window reaches yet.
    assert!(queues.take_groups(t0).is_empty());
    assert_eq!(queues.queue_count(), 1);
}

#[test]
fn the_rating_window_widens_with_the_time_waited() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    push(&mut queues, tictactoe(), 1, 1000, t0);
    push(&mut queues, tictactoe(), 2, 1400, t0 + secs(1.0));
    // A gap of 400 needs a window of 100 + 100/s * 3 s: player 1's, at t0 + 3 s.
    assert!(queues.take_groups(t0 + secs(2.9)).is_empty());
    assert_eq!(ids(&queues.take_groups(t0 + secs(3.0))), [(vec![1, 2], 0)]);
    assert_eq!(queues.queue_count(), 0, "an empty queue goes");
}

#[test]
fn the_window_stops_widening_at_its_maximum() {
    let t0 = Instant::now();
    let mut queues = Queues::new(MatchConfig {
        max_window: 300,
        ..config()
    });
    push(&mut queues, tictactoe(), 1, 1000, t0);
    push(&mut queues, tictactoe(), 2, 1400, t0);
    assert!(queues.take_groups(t0 + secs(3600.0)).is_empty());
}

#[test]
fn games_with_fewer_minimum_players_start_short_after_the_fill_wait() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    push(&mut queues, arena(), 1, 1000, t0);
    push(&mut queues, arena(), 2, 1000, t0 + secs(1.0));
    assert!(
        queues.take_groups(t0 + secs(2.9)).is_empty(),
        "8 seats, 2 players"
    );
    let groups = queues.take_groups(t0 + secs(3.0));
    assert_eq!(ids(&groups), [(vec![1, 2], 0)], "the oldest waited 3 s");
    assert_eq!(groups[0].game.name, "arena");
    // Tic-tac-toe's minimum is its two seats: a lone player waits on.
    push(&mut queues, tictactoe(), 3, 1000, t0);
    assert!(queues.take_groups(t0 + secs(3600.0)).is_empty());
}

#[test]
fn cancelled_players_leave_their_queue() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    push(&mut queues, tictactoe(), 1, 1000, t0);
    assert_eq!(
        queues.remove(SessionId::new(1)).map(|w| w.id),
        Some(SessionId::new(1))
    );
    assert!(queues.remove(SessionId::new(1)).is_none(), "only once");
    assert_eq!(queues.queue_count(), 0);
    push(&mut queues, tictactoe(), 2, 1000, t0);
    assert!(queues.take_groups(t0).is_empty(), "1 is gone");
    push(&mut queues, tictactoe(), 3, 1000, t0);
    assert_eq!(ids(&queues.take_groups(t0)), [(vec![2, 3], 0)]);
}

#[test]
fn players_meet_only_players_who_asked_for_the_same_options() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    let waiting = |id| Waiting {
        id: SessionId::new(id),
        rating: 1000,
        since: t0,
        payload: (),
    };
    queues.push(tictactoe(), Bytes::new(), waiting(1));
    assert_eq!(
        queues.push(tictactoe(), Bytes::from_static(&[1, 5]), waiting(2)),
        1,
        "a queue of its own"
    );
    assert_eq!(queues.queue_count(), 2);
    assert!(queues.take_groups(t0 + secs(60.0)).is_empty());
    queues.push(tictactoe(), Bytes::from_static(&[1, 5]), waiting(3));
    let groups = queues.take_groups(t0);
    assert_eq!(ids(&groups), [(vec![2, 3], 0)]);
    assert_eq!(groups[0].options, Bytes::from_static(&[1, 5]));
    assert_eq!(queues.queue_count(), 1);
}

#[test]
fn bots_fill_the_room_of_a_player_who_waited_long_enough() {
    let t0 = Instant::now();
    let mut queues = Queues::new(MatchConfig {
        bot_fill_after: Some(secs(0.5)),
        ..config()
    });
    push(&mut queues, tictactoe(), 1, 1000, t0);
    assert!(queues.take_groups(t0 + secs(0.4)).is_empty());
    assert_eq!(ids(&queues.take_groups(t0 + secs(0.5))), [(vec![1], 1)]);
    // A compatible player who arrives in time is matched, not a bot.
    push(&mut queues, tictactoe(), 2, 1000, t0);
    push(&mut queues, tictactoe(), 3, 1050, t0 + secs(0.3));
    assert_eq!(ids(&queues.take_groups(t0 + secs(0.6))), [(vec![2, 3], 0)]);
}

#[test]
fn no_bots_when_off_or_when_the_game_has_none_of_the_strategy() {
    let t0 = Instant::now();
    let mut queues = Queues::new(config());
    push(&mut queues, tictactoe(), 1, 1000, t0);
    assert!(queues.take_groups(t0 + secs(3600.0)).is_empty(), "off");
    let mut queues = Queues::new(MatchConfig {
        bot_fill_after: Some(secs(0.5)),
        ..config()
    });
    push(&mut queues, GameEntry::of::<TicTacToe>(), 1, 1000, t0);
    assert!(queues.take_groups(t0 + secs(3600.0)).is_empty(), "no bot");
    let mut queues = Queues::new(MatchConfig {
        bot_fill_after: Some(secs(0.5)),
        bot_strategy: "clever".into(),
        ..config()
    });
    push(&mut queues, tictactoe(), 1, 1000, t0);
    assert!(
        queues.take_groups(t0 + secs(3600.0)).is_empty(),
        "no bot of that strategy"
    );
}
