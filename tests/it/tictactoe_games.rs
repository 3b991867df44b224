//! Whole tic-tac-toe games over real WebSocket connections, in both codecs.

use anyhow::Result;
use ticksync::codec::Codec;
use ticksync::game::tictactoe::TicTacToeOptions;
use ticksync::protocol::{EndReason, ErrorCode, RoomSettings};
use ticksync::server::Stats;

use crate::support::{Client, matched_pair, play, play_from, start, test_config, wait_for_stats};

const CODEC_PAIRS: [(Codec, Codec); 3] = [
    (Codec::Bincode, Codec::Bincode),
    (Codec::MsgPack, Codec::MsgPack),
    (Codec::Bincode, Codec::MsgPack),
];

#[tokio::test]
async fn x_wins_in_every_codec_pairing() -> Result<()> {
    let server = start(test_config()).await;
    for codecs in CODEC_PAIRS {
        let (mut x, mut o) = matched_pair(server.local_addr(), codecs).await?;
        play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
        assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
        assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
        x.close().await?;
        o.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_full_board_is_a_draw() -> Result<()> {
    let server = start(test_config()).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::MsgPack, Codec::Bincode)).await?;
    // X O X / X O O / O X X
    play(&mut x, &mut o, &[0, 1, 2, 4, 3, 5, 7, 6, 8]).await?;
    assert_eq!(x.game_over().await?, (None, EndReason::Draw));
    assert_eq!(o.game_over().await?, (None, EndReason::Draw));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn illegal_moves_are_refused_with_their_seq_and_the_game_goes_on() -> Result<()> {
    let server = start(test_config()).await;
    for codecs in CODEC_PAIRS {
        let (mut x, mut o) = matched_pair(server.local_addr(), codecs).await?;
        // O moves first: not its turn.
        let seq = o.send_move(4).await?;
        assert_eq!(o.error().await?, (ErrorCode::NotYourTurn, Some(seq)));
        // Out of range.
        let seq = x.send_move(9).await?;
        assert_eq!(x.error().await?, (ErrorCode::IllegalInput, Some(seq)));
        play(&mut x, &mut o, &[4]).await?;
        // Occupied.
        let seq = o.send_move(4).await?;
        assert_eq!(o.error().await?, (ErrorCode::IllegalInput, Some(seq)));
        // Malformed game input inside a well-formed message.
        let seq = o
            .send_input_bytes(bytes::Bytes::from_static(&[0xC1, 0xC1]))
            .await?;
        assert_eq!(o.error().await?, (ErrorCode::BadMessage, Some(seq)));
        // The game is intact: play on to X's 2-4-6 diagonal.
        play_from(&mut x, &mut o, 1, &[0, 2, 1, 6]).await?;
        assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
        assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_move_after_the_game_is_over_is_refused() -> Result<()> {
    let server = start(test_config()).await;
    let (mut x, mut o) =
        matched_pair(server.local_addr(), (Codec::Bincode, Codec::MsgPack)).await?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    o.game_over().await?;
    let seq = o.send_move(8).await?;
    let (code, answered) = o.error().await?;
    assert_eq!(answered, Some(seq));
    assert!(
        matches!(code, ErrorCode::GameNotRunning | ErrorCode::NotInRoom),
        "{code:?}"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn running_out_of_turn_time_forfeits() -> Result<()> {
    let server = start(test_config()).await;
    let mut x = Client::connect(server.local_addr(), Codec::MsgPack).await?;
    let mut o = Client::connect(server.local_addr(), Codec::Bincode).await?;
    x.send(&ticksync::protocol::ClientMsg::CreateRoom {
        game: "tictactoe".into(),
        settings: RoomSettings {
            allow_spectators: false,
            relay: false,
            ranked: false,
            options: Codec::MsgPack
                .encode(&TicTacToeOptions {
                    turn_seconds: Some(1),
                })
                .expect("options encode"),
        },
    })
    .await?;
    let code = x.room_joined().await?.code;
    o.send(&ticksync::protocol::ClientMsg::JoinRoom {
        code,
        spectate: false,
    })
    .await?;
    assert_eq!(o.room_joined().await?.seat, Some(1));
    // X never moves: after one second of ticks, X forfeits and O wins.
    assert_eq!(o.game_over().await?, (Some(1), EndReason::TurnTimeout));
    assert_eq!(x.game_over().await?, (Some(1), EndReason::TurnTimeout));
    server.shutdown().await;
    Ok(())
}
