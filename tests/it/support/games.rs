//! Tic-tac-toe helpers: matching two clients and playing moves.

use std::net::SocketAddr;

use anyhow::{Result, bail, ensure};
use ticksync::codec::Codec;
use ticksync::protocol::{EndReason, RoomEvent, Seat};

use super::Client;

/// Two clients quick-matched into a tic-tac-toe room, ordered so `.0` holds seat 0 (X).
pub async fn matched_pair(addr: SocketAddr, codecs: (Codec, Codec)) -> Result<(Client, Client)> {
    let mut a = Client::connect(addr, codecs.0).await?;
    let mut b = Client::connect(addr, codecs.1).await?;
    a.find_match().await?;
    b.find_match().await?;
    let joined_a = a.match_found().await?;
    let joined_b = b.match_found().await?;
    ensure!(
        joined_a.room_id == joined_b.room_id,
        "matched into different rooms"
    );
    seated(a, joined_a.seat, b, joined_b.seat)
}

/// Orders two seated clients so that `.0` holds seat 0.
pub fn seated(
    a: Client,
    seat_a: Option<Seat>,
    b: Client,
    seat_b: Option<Seat>,
) -> Result<(Client, Client)> {
    match (seat_a, seat_b) {
        (Some(0), Some(1)) => Ok((a, b)),
        (Some(1), Some(0)) => Ok((b, a)),
        other => bail!("unexpected seats {other:?}"),
    }
}

/// Plays `moves` alternately (X first), waiting after each for both players to see it.
pub async fn play(x: &mut Client, o: &mut Client, moves: &[u8]) -> Result<()> {
    play_from(x, o, 0, moves).await
}

/// Plays `moves` as the game's moves number `start`, `start + 1`, ... (even: X to move),
/// waiting after each for both players to see it.
pub async fn play_from(x: &mut Client, o: &mut Client, start: usize, moves: &[u8]) -> Result<()> {
    for (i, &cell) in (start..).zip(moves) {
        let mark = if i % 2 == 0 { 1 } else { 2 };
        let (mover, other) = if i % 2 == 0 {
            (&mut *x, &mut *o)
        } else {
            (&mut *o, &mut *x)
        };
        let seq = mover.send_move(cell).await?;
        let (_, acked, view) = mover
            .snapshot_where(|v| v.board[usize::from(cell)] != 0)
            .await?;
        ensure!(
            acked == seq,
            "the snapshot acknowledges seq {acked}, not {seq}"
        );
        ensure!(
            view.board[usize::from(cell)] == mark,
            "cell {cell} holds {}",
            view.board[usize::from(cell)]
        );
        other
            .snapshot_where(|v| v.board[usize::from(cell)] != 0)
            .await?;
    }
    Ok(())
}

/// After X's session moved to a new connection (a takeover) with moves 0 (X) and 3 (O)
/// played: X wins on the 2-4-6 diagonal, and O never saw X as disconnected.
pub async fn finish_unnoticed_takeover(x: &mut Client, o: &mut Client) -> Result<()> {
    play_from(x, o, 2, &[2, 8, 6]).await?;
    ensure!(x.game_over().await? == (Some(0), EndReason::Win), "X won");
    ensure!(
        o.game_over().await? == (Some(0), EndReason::Win),
        "O saw X win"
    );
    ensure!(
        !o.events.iter().any(|(_, _, e)| matches!(
            e,
            RoomEvent::PlayerDisconnected { .. } | RoomEvent::PlayerReconnected { .. }
        )),
        "O saw X come and go: {:?}",
        o.events
    );
    Ok(())
}
