//! Games whose code panics, driven on a shard by hand: in a command's hook (`on_leave`,
//! also while the server drains), as a room's game is made (`new`, as a quick-match room
//! is made or as a joiner fills a room), as the game ends (its last views, hashed for the
//! replay), and as it is dropped (also as a room being made unwinds). Each time only that room ends, its players are told,
//! the lobby hears of it, and the result recorded is `Closed`; a panic in `Drop` leaves
//! the room to close as it would have.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::super::{Shard, ShardCmd};
use crate::codec::Codec;
use crate::engine::registry::DynBot;
use crate::engine::room::GAME_FAILED;
use crate::engine::{
    BotFill, EngineConfig, FinishedGame, GameEntry, Member, NewRoom, RoomObserver,
};
use crate::game::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::outbox::{Batch, Outbox};
use crate::protocol::{
    EndReason, ErrorCode, RoomEvent, RoomId, RoomSettings, RoomSummary, Seat, ServerMsg, SessionId,
};

/// Where a [`Faulty`] game's code panics: a bug in the embedder's `on_leave`, in its
/// `new`, in its view once the game is won (its last view, hashed into the replay as the
/// game ends), or in its `Drop`.
const ON_LEAVE: u8 = 0;
const IN_NEW: u8 = 1;
const VIEW_AFTER_WIN: u8 = 2;
const IN_DROP: u8 = 3;

/// Won by the first input, which it reports as no change (so the first view after the
/// win is the replay's, as the game ends, not a state's); panics where `FAULT` says.
#[derive(Debug)]
struct Faulty<const FAULT: u8> {
    winner: Option<Seat>,
}

impl<const FAULT: u8> Game for Faulty<FAULT> {
    const NAME: &'static str = match FAULT {
        ON_LEAVE => "on-leave",
        IN_NEW => "in-new",
        VIEW_AFTER_WIN => "view-after-win",
        _ => "in-drop",
    };
    const SEATS: u8 = 2;
    type Options = ();
    type Input = u8;
    type View = u8;
    type Event = ();

    fn validate_options(_options: &()) -> Result<(), String> {
        Ok(())
    }
    fn new(_config: &GameConfig, _options: (), _ctx: &mut Ctx<'_, ()>) -> Self {
        assert_ne!(FAULT, IN_NEW, "the embedder's constructor");
        Faulty { winner: None }
    }
    fn validate(&self, _seat: Seat, _input: &u8) -> Result<(), Rejection> {
        Ok(())
    }
    fn apply(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat, _input: u8) -> bool {
        self.winner = Some(seat);
        false
    }
    fn tick(&mut self, _ctx: &mut Ctx<'_, ()>) -> bool {
        false
    }
    fn on_leave(&mut self, _ctx: &mut Ctx<'_, ()>, seat: Seat) -> bool {
        assert_ne!(
            FAULT, ON_LEAVE,
            "seat {seat} left and the game did not expect it"
        );
        false
    }
    fn view(&self, _viewer: Viewer) -> u8 {
        let won = self.winner.is_some();
        assert!(
            !(FAULT == VIEW_AFTER_WIN && won),
            "the embedder's view after the end"
        );
        0
    }
    fn outcome(&self) -> Option<Outcome> {
        self.winner.map(|seat| Outcome {
            winner: Some(seat),
            reason: EndReason::Win,
        })
    }
}

impl<const FAULT: u8> Drop for Faulty<FAULT> {
    fn drop(&mut self) {
        // Not while unwinding from another panic, which would abort the test.
        if FAULT == IN_DROP && !std::thread::panicking() {
            panic!("the embedder's drop");
        }
    }
}

/// The lobby's side, recorded: rooms closed (with their members) and games finished.
#[derive(Default)]
struct Seen {
    closed: Mutex<Vec<(RoomId, Vec<SessionId>)>>,
    finished: Mutex<Vec<(RoomId, EndReason)>>,
}

impl RoomObserver for Seen {
    fn room_changed(&self, _summary: RoomSummary) {}
    fn member_left(&self, _room: RoomId, _session: SessionId) {}
    fn room_closed(&self, room: RoomId, members: &[SessionId]) {
        self.closed.lock().unwrap().push((room, members.to_vec()));
    }
    fn game_finished(&self, game: FinishedGame) {
        let reason = game.outcome.reason;
        self.finished.lock().unwrap().push((game.room, reason));
    }
}

/// A shard of its own, its room count and what its lobby saw.
fn shard() -> (Shard, Arc<AtomicUsize>, Arc<Seen>) {
    let config = EngineConfig {
        tick_hz: 30,
        shards: 1,
        inbox_capacity: 8,
        event_log_capacity: 16,
        reconnect_grace: Duration::from_secs(1),
        replay: crate::replay::ReplayConfig::default(),
        on_game_finished: None,
        first_room_id: RoomId::new(1),
    };
    let (_tx, rx) = mpsc::channel(1);
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Seen::default());
    let shard = Shard::new(0, &config, rx, seen.clone(), count.clone(), Arc::default());
    (shard, count, seen)
}

/// Makes room `id` of `game` with `players`, started at once (as quick match does),
/// counted as the engine's placement counts it.
fn create(shard: &mut Shard, count: &AtomicUsize, id: u64, game: GameEntry, players: &[Member]) {
    create_as(shard, count, id, game, players, true, 0);
}

/// [`create`], started at once or (`start_now` false) when its seats are full, with
/// `bots` server bots in seats of their own.
fn create_as(
    shard: &mut Shard,
    count: &AtomicUsize,
    id: u64,
    game: GameEntry,
    players: &[Member],
    start_now: bool,
    bots: u8,
) {
    count.fetch_add(1, Ordering::Relaxed);
    shard.apply(ShardCmd::Create {
        id: RoomId::new(id),
        room: Box::new(NewRoom {
            game,
            settings: RoomSettings::default(),
            code: format!("R{id}"),
            public: true,
            players: players.to_vec(),
            bots: BotFill {
                count: bots,
                strategy: String::new(),
            },
            start_now,
            reserved: Default::default(),
        }),
    });
}

/// Whether `told` has `Error RoomClosed` (the failed game's message), then `RoomLeft` for
/// `room`.
fn turned_away(told: &[ServerMsg], room: u64) -> bool {
    let closed = told.iter().position(|m| {
        matches!(m, ServerMsg::Error { code: ErrorCode::RoomClosed, message, .. }
            if message == GAME_FAILED)
    });
    let left = told.iter().position(
        |m| matches!(m, ServerMsg::RoomLeft { room_id } if *room_id == RoomId::new(room)),
    );
    matches!((closed, left), (Some(c), Some(l)) if c < l)
}

/// The `GameOver` reasons in `told`.
fn game_overs(told: &[ServerMsg]) -> Vec<EndReason> {
    told.iter()
        .filter_map(|m| match m {
            ServerMsg::Event {
                event: RoomEvent::GameOver { reason, .. },
                ..
            } => Some(*reason),
            _ => None,
        })
        .collect()
}

/// Session 1's input to room `room`, which wins a [`Faulty`] game at the next tick.
fn win(shard: &mut Shard, room: u64) {
    shard.apply(ShardCmd::Input {
        room: RoomId::new(room),
        session: SessionId::new(1),
        seq: 1,
        data: Codec::Bincode.encode(&5u8).unwrap().into(),
        share: crate::limits::InboxShare::untracked(),
    });
}

fn member(session: u64) -> Member {
    Member {
        session: SessionId::new(session),
        outbox: Outbox::new(Codec::Bincode, 64),
    }
}

/// Every message (not state) queued on `outbox` since the last look.
fn said(outbox: &Outbox) -> Vec<ServerMsg> {
    said_and_closed(outbox).0
}

/// [`said`], and the close code the connection is to be closed with, if any.
fn said_and_closed(outbox: &Outbox) -> (Vec<ServerMsg>, Option<u16>) {
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    let said = batch
        .events
        .iter()
        .map(|frame| Codec::Bincode.decode::<ServerMsg>(frame).expect("decodes"))
        .collect();
    (said, batch.close.map(|close| close.code))
}

/// Whether `told` has `RoomLeft` for `room`.
fn left(told: &[ServerMsg], room: u64) -> bool {
    told.iter()
        .any(|m| matches!(m, ServerMsg::RoomLeft { room_id } if *room_id == RoomId::new(room)))
}

#[test]
fn a_panic_in_a_commands_hook_fails_only_that_room() {
    let (mut shard, count, seen) = shard();
    let players = [member(1), member(2), member(3), member(4)];
    create(
        &mut shard,
        &count,
        1,
        GameEntry::of::<Faulty<ON_LEAVE>>(),
        &players[..2],
    );
    create(
        &mut shard,
        &count,
        2,
        GameEntry::of::<Faulty<ON_LEAVE>>(),
        &players[2..],
    );
    shard.tick(1);
    for player in &players {
        said(&player.outbox);
    }

    shard.apply(ShardCmd::Leave {
        room: RoomId::new(1),
        session: SessionId::new(1),
    });

    let told = said(&players[1].outbox);
    assert_eq!(game_overs(&told), [EndReason::Closed], "{told:?}");
    assert!(turned_away(&told, 1), "{told:?}");
    assert!(
        shard.room(RoomId::new(1)).is_none(),
        "the failed room is gone"
    );
    assert_eq!(count.load(Ordering::Relaxed), 1);
    assert_eq!(shard.stats.room_panics, 1);
    assert_eq!(
        *seen.finished.lock().unwrap(),
        [(RoomId::new(1), EndReason::Closed)],
        "recorded, ended Closed"
    );
    assert_eq!(
        shard.stats.games_finished,
        [("on-leave", EndReason::Closed, 1)],
        "and counted"
    );
    assert_eq!(seen.closed.lock().unwrap().len(), 1);

    // The other room is as it was: still there, nothing said to its players.
    assert!(shard.room(RoomId::new(2)).is_some());
    assert!(said(&players[2].outbox).is_empty());
    shard.tick(2);
    assert_eq!(shard.stats.room_panics, 1, "nothing else panicked");
}

#[test]
fn a_panic_as_a_quick_match_room_is_made_turns_its_players_away() {
    let (mut shard, count, seen) = shard();
    let players = [member(1), member(2)];
    create(
        &mut shard,
        &count,
        7,
        GameEntry::of::<Faulty<IN_NEW>>(),
        &players,
    );
    assert!(shard.room(RoomId::new(7)).is_none(), "no room was made");
    assert_eq!(
        count.load(Ordering::Relaxed),
        0,
        "its placement is given back"
    );
    assert_eq!(shard.stats.room_panics, 1);
    for player in &players {
        let told = said(&player.outbox);
        assert!(turned_away(&told, 7), "{told:?}");
    }
    assert_eq!(
        *seen.closed.lock().unwrap(),
        [(RoomId::new(7), vec![SessionId::new(1), SessionId::new(2)])],
        "the lobby takes its players out of it"
    );
    shard.tick(1);
}

#[test]
fn a_game_that_panics_as_it_ends_is_recorded_closed_and_nobody_hears_its_result() {
    let (mut shard, count, seen) = shard();
    let players = [member(1), member(2)];
    create(
        &mut shard,
        &count,
        3,
        GameEntry::of::<Faulty<VIEW_AFTER_WIN>>(),
        &players,
    );
    shard.tick(1);
    for player in &players {
        said(&player.outbox);
    }
    win(&mut shard, 3);
    shard.tick(2);
    for player in &players {
        let told = said(&player.outbox);
        assert_eq!(game_overs(&told), [EndReason::Closed], "no Win: {told:?}");
        assert!(turned_away(&told, 3), "{told:?}");
    }
    assert_eq!(
        *seen.finished.lock().unwrap(),
        [(RoomId::new(3), EndReason::Closed)]
    );
    assert_eq!(shard.stats.room_panics, 1);
    assert_eq!(count.load(Ordering::Relaxed), 0);
    assert!(shard.room(RoomId::new(3)).is_none());
}

/// A server bot that always waits, and panics as it is dropped (even while another panic
/// unwinds, which would abort the process).
struct DropPanickingBot;

impl DynBot for DropPanickingBot {
    fn choose(&mut self, _view: &[u8], _seat: Seat) -> Option<bytes::Bytes> {
        None
    }
}

impl Drop for DropPanickingBot {
    fn drop(&mut self) {
        panic!("the embedder's bot's drop");
    }
}

fn drop_panicking_bot(_strategy: &str, _seed: u64) -> Option<Box<dyn DynBot>> {
    Some(Box::new(DropPanickingBot))
}

#[test]
fn panics_as_closing_rooms_games_and_bots_are_dropped_leave_the_shard_and_its_other_rooms() {
    let (mut shard, count, seen) = shard();
    let players = [member(1), member(2), member(3), member(4), member(5)];
    let game = GameEntry::of::<Faulty<IN_DROP>>;
    create(&mut shard, &count, 1, game(), &players[..2]);
    create(&mut shard, &count, 2, game(), &players[2..4]);
    // Room 3: a player and a server bot, whose `Drop` panics too.
    let mut with_bot = game();
    with_bot.bot = Some(drop_panicking_bot);
    create_as(&mut shard, &count, 3, with_bot, &players[4..], true, 1);
    shard.tick(1);
    for player in &players {
        said(&player.outbox);
    }
    // Room 1 is won with both players in it: it closes at that tick. Room 3's player
    // leaves: it closes too, its game and its bot panicking as they are dropped.
    win(&mut shard, 1);
    shard.apply(ShardCmd::Leave {
        room: RoomId::new(3),
        session: SessionId::new(5),
    });
    shard.tick(2);

    for player in &players[..2] {
        let told = said(&player.outbox);
        assert_eq!(game_overs(&told), [EndReason::Win], "{told:?}");
        assert!(left(&told, 1), "closed as it would have: {told:?}");
    }
    assert!(shard.room(RoomId::new(1)).is_none());
    assert!(shard.room(RoomId::new(3)).is_none());
    assert_eq!(count.load(Ordering::Relaxed), 1);
    assert_eq!(shard.stats.room_panics, 2, "one per room");
    assert_eq!(seen.closed.lock().unwrap().len(), 2, "the lobby heard");
    assert_eq!(
        *seen.finished.lock().unwrap(),
        [
            (RoomId::new(1), EndReason::Win),
            (RoomId::new(3), EndReason::Abandoned)
        ],
        "recorded as they ended"
    );
    // The other room goes on.
    assert!(shard.room(RoomId::new(2)).is_some());
    shard.tick(3);
    assert!(said(&players[2].outbox).is_empty());
    // A shard that stops with the room still open drops its game contained too.
    drop(shard);
}

#[test]
fn a_panic_as_a_joiner_fills_the_room_tells_the_joiner_with_the_others() {
    let (mut shard, count, seen) = shard();
    let players = [member(1), member(2)];
    let game = GameEntry::of::<Faulty<IN_NEW>>();
    create_as(&mut shard, &count, 4, game, &players[..1], false, 0);
    assert!(
        shard.room(RoomId::new(4)).is_some(),
        "waiting for a second player"
    );
    said(&players[0].outbox);

    // The second player fills it: the game is made, and panics.
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    shard.apply(ShardCmd::Join {
        room: RoomId::new(4),
        member: players[1].clone(),
        spectate: false,
        reply,
    });

    assert_eq!(
        answer.try_recv(),
        Ok(Ok(None)),
        "joined, then closed: nothing more to answer"
    );
    for player in &players {
        let told = said(&player.outbox);
        assert!(turned_away(&told, 4), "{told:?}");
        let errors = told
            .iter()
            .filter(|m| matches!(m, ServerMsg::Error { .. }))
            .count();
        assert_eq!(errors, 1, "told once: {told:?}");
    }
    assert!(shard.room(RoomId::new(4)).is_none());
    assert_eq!(count.load(Ordering::Relaxed), 0);
    assert_eq!(shard.stats.room_panics, 1);
    assert_eq!(
        *seen.closed.lock().unwrap(),
        [(RoomId::new(4), vec![SessionId::new(1), SessionId::new(2)])]
    );
}

#[test]
fn a_panic_as_a_player_leaves_during_a_drain_still_closes_the_leaver() {
    let (mut shard, count, _seen) = shard();
    let players = [member(1), member(2)];
    create(
        &mut shard,
        &count,
        5,
        GameEntry::of::<Faulty<ON_LEAVE>>(),
        &players,
    );
    shard.tick(1);
    // The game ends by its own rules, so it goes on through the drain.
    shard.apply(ShardCmd::Drain);
    assert!(shard.room(RoomId::new(5)).is_some());
    for player in &players {
        said(&player.outbox);
    }

    shard.apply(ShardCmd::Leave {
        room: RoomId::new(5),
        session: SessionId::new(1),
    });

    let (told, closed) = said_and_closed(&players[0].outbox);
    assert!(left(&told, 5), "{told:?}");
    assert_eq!(
        closed,
        Some(1001),
        "the leaver is closed after its RoomLeft"
    );
    let (told, closed) = said_and_closed(&players[1].outbox);
    assert_eq!(game_overs(&told), [EndReason::Closed], "{told:?}");
    assert!(turned_away(&told, 5), "{told:?}");
    assert_eq!(
        closed,
        Some(1001),
        "and the other player as its room closes"
    );
    assert!(shard.room(RoomId::new(5)).is_none());
    assert_eq!(shard.stats.room_panics, 1);
    assert_eq!(
        shard.stats.games_finished,
        [("on-leave", EndReason::Closed, 1)]
    );
}

#[test]
fn a_bot_that_panics_as_it_is_dropped_after_the_game_panicked_as_its_room_was_made() {
    let (mut shard, count, _seen) = shard();
    let players = [member(1)];
    // The bot is made first, then the game, whose `new` panics: the bot is dropped as
    // that panic unwinds, and panics too.
    let mut game = GameEntry::of::<Faulty<IN_NEW>>();
    game.bot = Some(drop_panicking_bot);
    create_as(&mut shard, &count, 8, game, &players, true, 1);

    assert!(shard.room(RoomId::new(8)).is_none(), "no room was made");
    assert_eq!(count.load(Ordering::Relaxed), 0);
    assert_eq!(shard.stats.room_panics, 1);
    let told = said(&players[0].outbox);
    assert!(turned_away(&told, 8), "{told:?}");
    shard.tick(1);
}
