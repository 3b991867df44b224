//! The values behind PROTOCOL.md's vectors ([`NAMES`], [`value`]), for
//! `protocol_vectors`.

use anyhow::Result;
use bytes::Bytes;
use ticksync::codec::Codec;
use ticksync::game::DeltaGame;
use ticksync::game::arena::{Arena, ArenaDelta, ArenaInput, ArenaPlayer, ArenaView, pack_dir};
use ticksync::game::battleship::{
    BattleshipEvent, BattleshipOptions, BattleshipShot, BattleshipView, BoardView, Fleet, cell,
};
use ticksync::game::relay::{FrameInput, InputFrame};
use ticksync::game::tictactoe::{TicTacToeMove, TicTacToeOptions, TicTacToeView};
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, LeaderboardRow, MatchId, PROTOCOL_VERSION, RoomEvent, RoomId,
    RoomJoined, RoomSettings, RoomStatus, RoomSummary, ServerMsg, SessionId,
};

/// Every vector PROTOCOL.md must carry, for both codecs, in document order.
pub(super) const NAMES: &[&str] = &[
    "hello_new",
    "hello_resume",
    "hello_auth",
    "hello_ticket",
    "ping",
    "find_match",
    "cancel_match",
    "create_room",
    "create_room_defaults",
    "create_room_relay",
    "join_room",
    "leave_room",
    "input_move",
    "input_arena",
    "chat",
    "list_rooms",
    "ack",
    "list_rooms_after",
    "leaderboard",
    "welcome",
    "pong",
    "queued",
    "match_found",
    "match_found_with_bot",
    "room_joined_spectator",
    "room_left",
    "snapshot",
    "event_game_started",
    "event_player_disconnected",
    "event_chat",
    "event_game_over",
    "event_game_over_closed",
    "game_event_input_frame",
    "error_input",
    "error_text_frame",
    "error_token_expired",
    "error_kicked",
    "room_list",
    "match_cancelled",
    "delta",
    "server_shutdown",
    "event_game_over_shutdown",
    "error_shutting_down",
    "rating_changed",
    "leaderboard_rows",
    "error_no_records",
    "error_invalid_options",
    "redirect",
    "error_ticket_used",
    "error_node_lost",
    "error_match_called_off",
    "ttt_move",
    "ttt_view",
    "ttt_view_over",
    "arena_input",
    "arena_view",
    "arena_delta",
    "bs_options",
    "bs_shot",
    "bs_view",
    "bs_view_spectator",
    "bs_event_miss",
    "bs_event_sunk",
    "ping_nonce_127",
    "ping_nonce_128",
    "ping_nonce_250",
    "ping_nonce_251",
    "ping_nonce_65535",
    "ping_nonce_65536",
    "ping_nonce_4294967295",
    "ping_nonce_4294967296",
    "ping_nonce_max",
];

/// The value behind a vector: one of the types a vector may hold.
#[derive(Debug)]
pub(super) enum Value {
    Client(ClientMsg),
    Server(ServerMsg),
    Move(TicTacToeMove),
    View(TicTacToeView),
    ArenaInput(ArenaInput),
    ArenaView(ArenaView),
    ArenaDelta(ArenaDelta),
    BsOptions(BattleshipOptions),
    BsShot(BattleshipShot),
    BsView(BattleshipView),
    BsEvent(BattleshipEvent),
}

const TOKEN: &str = "q7Xk2mP9vL4sT8wZ";
/// Stands for a JWT (a real one is a few hundred bytes; the encoding is the same).
const JWT: &str = "h.p.s";
/// A seat ticket's stand-in (a real one is `BASE64URL(payload).BASE64URL(tag)`, ~250 bytes).
const TICKET: &str = "p.t";
const CODE: &str = "K7QX2M";
const SESSION_ID: SessionId = SessionId::new(0x0123_4567_89ab_cdef);
const PING_NONCE: u64 = 1_718_000_000_123;

fn running_view() -> TicTacToeView {
    TicTacToeView {
        board: [1, 0, 0, 0, 2, 0, 0, 0, 1],
        to_move: Some(1),
        turn_deadline: 2100,
        winner: None,
        over: false,
    }
}

fn finished_view() -> TicTacToeView {
    TicTacToeView {
        board: [1, 1, 1, 2, 2, 0, 0, 0, 0],
        to_move: None,
        turn_deadline: 0,
        winner: Some(0),
        over: true,
    }
}

fn arena_player(seat: u8, x: u16, y: u16, dir: u8) -> ArenaPlayer {
    ArenaPlayer { seat, x, y, dir }
}

/// The arena input of the `input_arena` vector: direction (-1, 1), packed as 2.
const ARENA_INPUT: ArenaInput = ArenaInput { dx: -1, dy: 1 };

/// An arena at tick 1199: seat 0 standing still, seat 2 moving along (1, 0), seat 5 moving
/// along (1, -1) but held in a corner by the walls.
fn arena_view() -> ArenaView {
    ArenaView {
        players: vec![
            arena_player(0, 125, 250, 4),
            arena_player(2, 630, 735, 7),
            arena_player(5, 1000, 0, 6),
        ],
    }
}

/// The state at tick 1201 as a delta from [`arena_view`] at tick 1199: seat 2 turned to
/// (-1, 1) at tick 1200 (`ARENA_INPUT`) and seat 5 left. Seat 0 is where prediction puts it.
fn arena_delta() -> ArenaDelta {
    ArenaDelta {
        changed: vec![arena_player(2, 620, 745, 2)],
        removed: vec![5],
    }
}

/// A 6 × 6 Battleship board of the quick fleet: the given cells marked, the rest unknown.
fn bs_board(marks: &[(usize, u8)], afloat: u8) -> BoardView {
    let mut cells = vec![cell::UNKNOWN; 36];
    for &(i, c) in marks {
        cells[i] = c;
    }
    BoardView { cells, afloat }
}

/// The Battleship story of PROTOCOL.md: seat 0's ships are on cells 1-3, 14 and 20, 33-34;
/// seat 0 missed cell 0 and sank seat 1's ship 1 on cells 21-22; seat 1 hit cell 2 and
/// missed cell 35. Seat 1 is to fire. `you` is the viewer.
fn bs_view(you: Option<u8>) -> BattleshipView {
    let own = you == Some(0);
    let mut board0 = vec![(2, cell::HIT), (35, cell::MISS)];
    if own {
        board0.extend([1, 3, 14, 20, 33, 34].map(|i| (i, cell::SHIP)));
    }
    BattleshipView {
        size: 6,
        you,
        boards: [
            bs_board(&board0, 3),
            bs_board(&[(0, cell::MISS), (21, cell::SUNK), (22, cell::SUNK)], 2),
        ],
        to_move: Some(1),
        turn_deadline: 2400,
        winner: None,
        over: false,
    }
}

fn room_joined(seat: Option<u8>) -> RoomJoined {
    RoomJoined {
        room_id: RoomId::new(7),
        code: CODE.into(),
        game: "tictactoe".into(),
        seat,
        seats: 2,
        bots: Vec::new(),
    }
}

fn ping(nonce: u64) -> Value {
    Value::Client(ClientMsg::Ping { nonce })
}

fn event(seq: u64, tick: u64, event: RoomEvent) -> Value {
    Value::Server(ServerMsg::Event { seq, tick, event })
}

/// The value a vector name stands for. Nested payloads are encoded with `codec`, as on the
/// wire. `None` for an unknown name.
pub(super) fn value(name: &str, codec: Codec) -> Result<Option<Value>> {
    use Value::{Client, Server};
    let v = match name {
        "hello_new" => Client(ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: None,
            ticket: None,
        }),
        "hello_auth" => Client(ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: Some(JWT.into()),
            ticket: None,
        }),
        "hello_ticket" => Client(ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: None,
            ticket: Some(TICKET.into()),
        }),
        "hello_resume" => Client(ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: Some(TOKEN.into()),
            last_event_seq: 42,
            auth_token: None,
            ticket: None,
        }),
        "ping" => ping(PING_NONCE),
        "find_match" => Client(ClientMsg::FindMatch {
            game: "tictactoe".into(),
            options: bytes::Bytes::new(),
        }),
        "cancel_match" => Client(ClientMsg::CancelMatch),
        "create_room" => Client(ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings {
                relay: false,
                ranked: true,
                allow_spectators: true,
                options: codec.encode(&TicTacToeOptions {
                    turn_seconds: Some(20),
                })?,
            },
        }),
        "create_room_defaults" => Client(ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings::default(),
        }),
        "create_room_relay" => Client(ClientMsg::CreateRoom {
            game: "tictactoe".into(),
            settings: RoomSettings {
                allow_spectators: false,
                relay: true,
                ranked: false,
                options: bytes::Bytes::new(),
            },
        }),
        "join_room" => Client(ClientMsg::JoinRoom {
            code: CODE.into(),
            spectate: false,
        }),
        "leave_room" => Client(ClientMsg::LeaveRoom),
        "input_move" => Client(ClientMsg::Input {
            seq: 3,
            ack_tick: 1024,
            data: codec.encode(&TicTacToeMove { cell: 4 })?,
        }),
        "input_arena" => Client(ClientMsg::Input {
            seq: 17,
            ack_tick: 1199,
            data: codec.encode(&ARENA_INPUT)?,
        }),
        "chat" => Client(ClientMsg::Chat {
            text: "gl hf ✓".into(),
        }),
        "list_rooms" => Client(ClientMsg::ListRooms),
        "ack" => Client(ClientMsg::Ack { tick: 1200 }),
        "list_rooms_after" => Client(ClientMsg::ListRoomsAfter {
            after: RoomId::new(7),
            limit: 50,
        }),
        "welcome" => Server(ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            session_id: SESSION_ID,
            resume_token: TOKEN.into(),
            resumed: false,
            tick_hz: 20,
        }),
        "pong" => Server(ServerMsg::Pong { nonce: PING_NONCE }),
        "queued" => Server(ServerMsg::Queued {
            game: "tictactoe".into(),
            position: 1,
            queue_size: 1,
        }),
        "match_found" => Server(ServerMsg::MatchFound(room_joined(Some(1)))),
        "match_found_with_bot" => Server(ServerMsg::MatchFound(RoomJoined {
            bots: vec![0],
            ..room_joined(Some(1))
        })),
        "room_joined_spectator" => Server(ServerMsg::RoomJoined(room_joined(None))),
        "room_left" => Server(ServerMsg::RoomLeft {
            room_id: RoomId::new(7),
        }),
        "snapshot" => Server(ServerMsg::Snapshot {
            tick: 1500,
            input_seq: 2,
            state: codec.encode(&running_view())?,
        }),
        "event_game_started" => event(3, 1200, RoomEvent::GameStarted),
        "event_player_disconnected" => event(
            5,
            1600,
            RoomEvent::PlayerDisconnected {
                seat: 1,
                deadline_tick: 2200,
                grace_ms: 30_000,
            },
        ),
        "event_chat" => event(
            6,
            1650,
            RoomEvent::Chat {
                from_session: SESSION_ID,
                seat: None,
                text: "nice".into(),
            },
        ),
        "event_game_over" => event(
            9,
            1742,
            RoomEvent::GameOver {
                winner: Some(0),
                reason: EndReason::Win,
            },
        ),
        "event_game_over_closed" => event(
            10,
            1800,
            RoomEvent::GameOver {
                winner: None,
                reason: EndReason::Closed,
            },
        ),
        "error_kicked" => Server(ServerMsg::Error {
            code: ErrorCode::Kicked,
            message: "abusive chat".into(),
            input_seq: None,
        }),
        "game_event_input_frame" => Server(ServerMsg::GameEvent {
            seq: 12,
            tick: 1300,
            data: codec.encode(&InputFrame {
                frame: 1300,
                inputs: vec![
                    FrameInput {
                        seat: 1,
                        seq: 38,
                        data: Bytes::from_static(&[0x01, 0x02]),
                    },
                    FrameInput {
                        seat: 0,
                        seq: 41,
                        data: Bytes::from_static(&[0x07]),
                    },
                ],
            })?,
        }),
        "redirect" => Server(ServerMsg::Redirect {
            url: "ws://b.example/".into(),
            ticket: TICKET.into(),
        }),
        "error_ticket_used" => Server(ServerMsg::Error {
            code: ErrorCode::TicketUsed,
            message: "the seat ticket was already used".into(),
            input_seq: None,
        }),
        "error_node_lost" => Server(ServerMsg::Error {
            code: ErrorCode::NodeLost,
            message: "node b left the cluster".into(),
            input_seq: None,
        }),
        "error_match_called_off" => Server(ServerMsg::Error {
            code: ErrorCode::MatchCalledOff,
            message: "a player did not take their seat".into(),
            input_seq: None,
        }),
        "error_invalid_options" => Server(ServerMsg::Error {
            code: ErrorCode::InvalidOptions,
            message: "invalid options: turn_seconds must be 1 to 86400, not 0".into(),
            input_seq: None,
        }),
        "error_input" => Server(ServerMsg::Error {
            code: ErrorCode::NotYourTurn,
            message: "not your turn".into(),
            input_seq: Some(3),
        }),
        "error_token_expired" => Server(ServerMsg::Error {
            code: ErrorCode::TokenExpired,
            message: "the token has expired".into(),
            input_seq: None,
        }),
        "error_text_frame" => Server(ServerMsg::Error {
            code: ErrorCode::TextFrame,
            message: "binary frames only".into(),
            input_seq: None,
        }),
        "room_list" => Server(ServerMsg::RoomList {
            rooms: vec![RoomSummary {
                room_id: RoomId::new(7),
                game: "tictactoe".into(),
                status: RoomStatus::Running,
                players: 2,
                seats: 2,
                spectators: 1,
                public: true,
                code: Some(CODE.into()),
                node: Some("node-a".into()),
            }],
        }),
        "match_cancelled" => Server(ServerMsg::MatchCancelled {
            game: "tictactoe".into(),
        }),
        "delta" => Server(ServerMsg::Delta {
            tick: 1201,
            base_tick: 1199,
            input_seq: 17,
            delta: codec.encode(&arena_delta())?,
        }),
        "leaderboard" => Client(ClientMsg::Leaderboard {
            game: "tictactoe".into(),
            limit: 10,
        }),
        "rating_changed" => Server(ServerMsg::RatingChanged {
            match_id: MatchId::new(4_294_967_301),
            game: "tictactoe".into(),
            previous: 1500,
            rating: 1662,
        }),
        "leaderboard_rows" => Server(ServerMsg::Leaderboard {
            game: "tictactoe".into(),
            rows: vec![LeaderboardRow {
                rank: 1,
                player: "user:alice".into(),
                name: "Alice".into(),
                rating: 1662,
                games: 3,
                wins: 2,
            }],
        }),
        "error_no_records" => Server(ServerMsg::Error {
            code: ErrorCode::NoRecords,
            message: "no records".into(),
            input_seq: None,
        }),
        "server_shutdown" => Server(ServerMsg::ServerShutdown {
            retry_after_ms: 5000,
            drain_ms: 10_000,
        }),
        "event_game_over_shutdown" => event(
            6,
            2000,
            RoomEvent::GameOver {
                winner: None,
                reason: EndReason::ServerShutdown,
            },
        ),
        "error_shutting_down" => Server(ServerMsg::Error {
            code: ErrorCode::ShuttingDown,
            message: "shutting down".into(),
            input_seq: None,
        }),
        "ttt_move" => Value::Move(TicTacToeMove { cell: 4 }),
        "ttt_view" => Value::View(running_view()),
        "ttt_view_over" => Value::View(finished_view()),
        "arena_input" => Value::ArenaInput(ARENA_INPUT),
        "arena_view" => Value::ArenaView(arena_view()),
        "arena_delta" => Value::ArenaDelta(arena_delta()),
        "bs_options" => Value::BsOptions(BattleshipOptions {
            size: Some(6),
            fleet: Some(Fleet::Quick),
            turn_seconds: Some(30),
        }),
        "bs_shot" => Value::BsShot(BattleshipShot { cell: 22 }),
        "bs_view" => Value::BsView(bs_view(Some(0))),
        "bs_view_spectator" => Value::BsView(bs_view(None)),
        "bs_event_miss" => Value::BsEvent(BattleshipEvent::Miss {
            by: 1,
            cell: 35,
            auto: false,
        }),
        "bs_event_sunk" => Value::BsEvent(BattleshipEvent::Sunk {
            by: 0,
            ship: 1,
            cells: vec![21, 22],
        }),
        "ping_nonce_127" => ping(127),
        "ping_nonce_128" => ping(128),
        "ping_nonce_250" => ping(250),
        "ping_nonce_251" => ping(251),
        "ping_nonce_65535" => ping(65_535),
        "ping_nonce_65536" => ping(65_536),
        "ping_nonce_4294967295" => ping(u64::from(u32::MAX)),
        "ping_nonce_4294967296" => ping(u64::from(u32::MAX) + 1),
        "ping_nonce_max" => ping(u64::MAX),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// The arena vectors are one story, as PROTOCOL.md tells it: `arena_delta` is what the
/// server sends for tick 1201 to a client that acknowledged `arena_view` at tick 1199, and
/// applying it as the document describes gives the state at 1201.
#[test]
fn arena_delta_vector_is_the_diff_of_its_story() {
    let at_1201 = ArenaView {
        players: vec![arena_player(0, 125, 250, 4), arena_player(2, 620, 745, 2)],
    };
    assert_eq!(
        Arena::diff(&arena_view(), 1199, &at_1201, 1201),
        arena_delta()
    );
    assert_eq!(
        Arena::apply_delta(&arena_view(), 1199, &arena_delta(), 1201),
        at_1201
    );
    assert_eq!(pack_dir(ARENA_INPUT.dx, ARENA_INPUT.dy), 2);
}
