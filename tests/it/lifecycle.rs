//! Lifecycles end cleanly: leaving forfeits, a polite close ends the session at once, and
//! hundreds of games with drops, resumes and leaves leave no connection, session, room or
//! queue entry behind.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::lobby::{Lobby, MatchConfig};
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, RoomEvent, RoomSettings, Seat, ServerMsg, close_code,
};
use ticksync::server::Stats;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::support::{
    Client, TICTACTOE, WAIT, matched_pair, play, play_from, seated, start, test_config,
    wait_for_stats, wait_until,
};

#[tokio::test]
async fn leaving_forfeits_and_a_polite_close_ends_the_session_at_once() -> Result<()> {
    // Sessions that merely dropped would outlive this test by far.
    let server = start(ServerConfig {
        reconnect_grace: Duration::from_secs(120),
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let room_id = x.room.as_ref().context("x has a room")?.room_id;
    play(&mut x, &mut o, &[4]).await?;

    x.send(&ClientMsg::LeaveRoom).await?;
    let left = x
        .recv_until(|m| match m {
            ServerMsg::RoomLeft { room_id } => Some(*room_id),
            _ => None,
        })
        .await?;
    assert_eq!(left, room_id);
    o.event(|e| (*e == RoomEvent::PlayerLeft { seat: 0 }).then_some(()))
        .await?;
    let (_, _, view) = o.snapshot_where(|v| v.over).await?;
    assert_eq!((view.winner, view.board[4]), (Some(1), 1));
    assert_eq!(o.game_over().await?, (Some(1), EndReason::Abandoned));
    o.recv_until(|m| (*m == ServerMsg::RoomLeft { room_id }).then_some(()))
        .await?;
    wait_until(&server, |s| s.rooms == 0).await?;

    // X is free to play again.
    x.refused(&ClientMsg::LeaveRoom, ErrorCode::NotInRoom)
        .await?;
    x.find_match().await?;
    x.recv_until(|m| matches!(m, ServerMsg::Queued { .. }).then_some(()))
        .await?;
    assert_eq!(server.stats().queued, 1);

    // Closing with 1000 ends each session now, not after the grace period.
    x.close().await?;
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_1001() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    let mut queued = Client::connect(addr, Codec::MsgPack).await?;
    queued.find_match().await?;
    // Connected, but no `Hello` yet.
    let mut anonymous = Client::connect_raw(addr, Codec::Bincode).await?;
    let stopping = tokio::spawn(server.shutdown());
    for client in [&mut x, &mut o, &mut queued, &mut anonymous] {
        assert_eq!(client.closed().await?, Some(close_code::GOING_AWAY));
    }
    tokio::time::timeout(WAIT, stopping)
        .await
        .context("shutdown did not finish")??;
    Ok(())
}

/// Client pairs playing at once.
const PAIRS: usize = 40;
/// Games each pair plays, one after another, on fresh connections.
const GAMES_PER_PAIR: usize = 5;

const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A random game of tic-tac-toe to its end, with its result worked out here, independently
/// of the server's rules.
#[derive(Debug)]
struct Script {
    moves: Vec<u8>,
    result: (Option<Seat>, EndReason),
}

fn random_script(rng: &mut StdRng) -> Script {
    let mut cells: Vec<u8> = (0..9).collect();
    cells.shuffle(rng);
    let mut board = [0u8; 9];
    for (i, &cell) in cells.iter().enumerate() {
        let mark = if i % 2 == 0 { 1 } else { 2 };
        board[usize::from(cell)] = mark;
        if LINES
            .iter()
            .any(|line| line.iter().all(|&c| board[c] == mark))
        {
            return Script {
                moves: cells[..=i].to_vec(),
                result: (Some(mark - 1), EndReason::Win),
            };
        }
    }
    Script {
        moves: cells,
        result: (None, EndReason::Draw),
    }
}

fn board_after(moves: &[u8]) -> [u8; 9] {
    let mut board = [0; 9];
    for (i, &cell) in moves.iter().enumerate() {
        board[usize::from(cell)] = if i % 2 == 0 { 1 } else { 2 };
    }
    board
}

/// How one game goes. `after` counts the moves played first; it is always fewer than the
/// script's, so the game is still running when the fate strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Both play to the end, then close politely.
    Finish,
    /// `seat` leaves mid-game (with `LeaveRoom` first, or just by closing with 1000).
    Leave {
        seat: Seat,
        after: usize,
        by_message: bool,
    },
    /// `seat`'s connection drops mid-game; it resumes and the game is played out.
    Resume { seat: Seat, after: usize },
    /// `seat`'s connection drops mid-game and it never comes back.
    Vanish { seat: Seat, after: usize },
}

fn random_codec(rng: &mut StdRng) -> Codec {
    if rng.random_bool(0.5) {
        Codec::Bincode
    } else {
        Codec::MsgPack
    }
}

/// Seats two fresh clients together, by quick match (each pair has its own rating band, so
/// pairs never mix) or in a private room. Returns them ordered by seat.
async fn seat_pair(
    addr: std::net::SocketAddr,
    lobby: &Lobby,
    rating: u16,
    rng: &mut StdRng,
) -> Result<(Client, Client)> {
    let mut a = Client::connect(addr, random_codec(rng)).await?;
    let mut b = Client::connect(addr, random_codec(rng)).await?;
    let (joined_a, joined_b) = if rng.random_bool(0.5) {
        ensure!(lobby.set_rating(a.session_id, rating));
        ensure!(lobby.set_rating(b.session_id, rating));
        a.find_match().await?;
        b.find_match().await?;
        (a.match_found().await?, b.match_found().await?)
    } else {
        a.send(&ClientMsg::CreateRoom {
            game: TICTACTOE.into(),
            settings: RoomSettings::default(),
        })
        .await?;
        let joined_a = a.room_joined().await?;
        b.send(&ClientMsg::JoinRoom {
            code: joined_a.code.clone(),
            spectate: false,
        })
        .await?;
        (joined_a, b.room_joined().await?)
    };
    ensure!(joined_a.room_id == joined_b.room_id, "seated apart");
    seated(a, joined_a.seat, b, joined_b.seat)
}

/// Splits (X, O) into (the client in `seat`, the other one).
fn by_seat(x: Client, o: Client, seat: Seat) -> (Client, Client) {
    if seat == 0 { (x, o) } else { (o, x) }
}

async fn play_game(
    addr: std::net::SocketAddr,
    lobby: &Lobby,
    rating: u16,
    rng: &mut StdRng,
    script: &Script,
    fate: Fate,
) -> Result<()> {
    let (mut x, mut o) = seat_pair(addr, lobby, rating, rng).await?;
    let moves = &script.moves;
    match fate {
        Fate::Finish => {
            play(&mut x, &mut o, moves).await?;
            for client in [&mut x, &mut o] {
                assert_eq!(client.game_over().await?, script.result);
            }
            x.close().await?;
            o.close().await?;
        }
        Fate::Leave {
            seat,
            after,
            by_message,
        } => {
            play(&mut x, &mut o, &moves[..after]).await?;
            let (mut leaver, mut stayer) = by_seat(x, o, seat);
            if by_message {
                leaver.send(&ClientMsg::LeaveRoom).await?;
                leaver
                    .recv_until(|m| matches!(m, ServerMsg::RoomLeft { .. }).then_some(()))
                    .await?;
            }
            leaver.close().await?;
            assert_eq!(
                stayer.game_over().await?,
                (Some(1 - seat), EndReason::Abandoned)
            );
            stayer.close().await?;
        }
        Fate::Resume { seat, after } => {
            play(&mut x, &mut o, &moves[..after]).await?;
            let (dropper, mut stayer) = by_seat(x, o, seat);
            let dropped = dropper.drop_connection();
            stayer
                .event(|e| {
                    matches!(e, RoomEvent::PlayerDisconnected { seat: s, .. } if *s == seat)
                        .then_some(())
                })
                .await?;
            let mut back = Client::resume(addr, &dropped).await?;
            assert_eq!(back.room_joined().await?.seat, Some(seat));
            let board = board_after(&moves[..after]);
            back.snapshot_where(|v| v.board == board).await?;
            stayer
                .event(|e| (*e == RoomEvent::PlayerReconnected { seat }).then_some(()))
                .await?;
            let (mut x, mut o) = if seat == 0 {
                (back, stayer)
            } else {
                (stayer, back)
            };
            play_from(&mut x, &mut o, after, &moves[after..]).await?;
            for client in [&mut x, &mut o] {
                assert_eq!(client.game_over().await?, script.result);
            }
            x.close().await?;
            o.close().await?;
        }
        Fate::Vanish { seat, after } => {
            play(&mut x, &mut o, &moves[..after]).await?;
            let (dropper, mut stayer) = by_seat(x, o, seat);
            dropper.drop_connection();
            assert_eq!(
                stayer.game_over().await?,
                (Some(1 - seat), EndReason::Abandoned)
            );
            stayer.close().await?;
        }
    }
    Ok(())
}

/// One pair's games, with fates drawn from a generator seeded by the pair's number. A pair
/// vanishes at most once, so no pair waits out the grace period more than once.
async fn run_pair(addr: std::net::SocketAddr, lobby: Lobby, pair: usize) -> Result<Vec<Fate>> {
    let mut rng = StdRng::seed_from_u64(pair as u64);
    let rating = 1000 + 100 * u16::try_from(pair)?;
    let mut vanished = false;
    let mut fates = Vec::with_capacity(GAMES_PER_PAIR);
    for game in 0..GAMES_PER_PAIR {
        let script = random_script(&mut rng);
        let seat = rng.random_range(0..2);
        let after = rng.random_range(0..script.moves.len());
        let fate = match rng.random_range(0..100) {
            0..50 => Fate::Finish,
            50..65 => Fate::Leave {
                seat,
                after,
                by_message: rng.random_bool(0.5),
            },
            65..85 => Fate::Resume { seat, after },
            _ if !vanished => {
                vanished = true;
                Fate::Vanish { seat, after }
            }
            _ => Fate::Resume { seat, after },
        };
        play_game(addr, &lobby, rating, &mut rng, &script, fate)
            .await
            .with_context(|| format!("pair {pair}, game {game}: {fate:?} in {script:?}"))?;
        fates.push(fate);
    }
    Ok(fates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_games_with_drops_resumes_and_leaves_leave_nothing_behind() -> Result<()> {
    let server = start(ServerConfig {
        // Long enough for a resume on a loaded machine, short enough to wait out.
        reconnect_grace: Duration::from_secs(2),
        // Ratings 100 apart never meet: each pair's quick matches stay within the pair.
        matching: MatchConfig {
            initial_window: 50,
            widen_per_second: 0,
            max_window: 50,
            retry_interval: Duration::from_millis(50),
            ..MatchConfig::default()
        },
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let started = Instant::now();
    let mut pairs = JoinSet::new();
    for pair in 0..PAIRS {
        pairs.spawn(run_pair(addr, server.lobby().clone(), pair));
    }
    let mut fates = Vec::with_capacity(PAIRS * GAMES_PER_PAIR);
    while let Some(finished) = pairs.join_next().await {
        fates.extend(finished??);
    }
    assert_eq!(fates.len(), PAIRS * GAMES_PER_PAIR);
    let count = |f: fn(&Fate) -> bool| fates.iter().filter(|fate| f(fate)).count();
    let counts = [
        count(|f| matches!(f, Fate::Finish)),
        count(|f| matches!(f, Fate::Leave { .. })),
        count(|f| matches!(f, Fate::Resume { .. })),
        count(|f| matches!(f, Fate::Vanish { .. })),
    ];
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
    println!(
        "{} games (finished, left, resumed, vanished: {counts:?}) in {:?}",
        fates.len(),
        started.elapsed()
    );
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
