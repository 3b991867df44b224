//! Room chat: delivery to players and spectators, the length limit, the rate limit.

use anyhow::Result;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::{
    ClientMsg, ErrorCode, MAX_CHAT_CHARS, RoomEvent, RoomSettings, Seat, SessionId,
};

use crate::support::{Client, TICTACTOE, start, test_config};

fn chat(text: impl Into<String>) -> ClientMsg {
    ClientMsg::Chat { text: text.into() }
}

/// Waits for the next chat line; returns (from_session, seat, text).
async fn next_chat(client: &mut Client) -> Result<(SessionId, Option<Seat>, String)> {
    client
        .event(|e| match e {
            RoomEvent::Chat {
                from_session,
                seat,
                text,
            } => Some((*from_session, *seat, text.clone())),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn chat_reaches_everyone_in_the_room_within_its_limits() -> Result<()> {
    // A burst of 5, refilled so slowly that no token comes back during the test.
    let server = start(ServerConfig {
        chat_burst: 5,
        chat_per_second: 0.01,
        ..test_config()
    })
    .await;
    let addr = server.local_addr();
    let mut x = Client::connect(addr, Codec::Bincode).await?;
    let mut o = Client::connect(addr, Codec::MsgPack).await?;
    let mut watcher = Client::connect(addr, Codec::MsgPack).await?;
    let mut outsider = Client::connect(addr, Codec::Bincode).await?;

    outsider
        .refused(&chat("anyone?"), ErrorCode::NotInRoom)
        .await?;
    x.send(&ClientMsg::CreateRoom {
        game: TICTACTOE.into(),
        settings: RoomSettings {
            allow_spectators: true,
            relay: false,
            ranked: false,
            options: bytes::Bytes::new(),
        },
    })
    .await?;
    let code = x.room_joined().await?.code;
    for (client, spectate) in [(&mut o, false), (&mut watcher, true)] {
        client
            .send(&ClientMsg::JoinRoom {
                code: code.clone(),
                spectate,
            })
            .await?;
        client.room_joined().await?;
    }

    // A player's line and a spectator's line reach all three.
    let (x_id, watcher_id) = (x.session_id, watcher.session_id);
    x.send(&chat("good luck")).await?;
    for client in [&mut x, &mut o, &mut watcher] {
        assert_eq!(
            next_chat(client).await?,
            (x_id, Some(0), "good luck".to_string())
        );
    }
    watcher.send(&chat("go X!")).await?;
    for client in [&mut x, &mut o, &mut watcher] {
        assert_eq!(
            next_chat(client).await?,
            (watcher_id, None, "go X!".to_string())
        );
    }

    // The limit counts characters, not bytes; refusals cost no rate-limit token.
    x.refused(
        &chat("a".repeat(MAX_CHAT_CHARS + 1)),
        ErrorCode::ChatTooLong,
    )
    .await?;
    x.refused(&chat(""), ErrorCode::ChatTooLong).await?;
    let longest = "é".repeat(MAX_CHAT_CHARS);
    x.send(&chat(longest.clone())).await?;
    for client in [&mut x, &mut o, &mut watcher] {
        assert_eq!(next_chat(client).await?, (x_id, Some(0), longest.clone()));
    }

    // X has used 2 of its 5 tokens: 3 more lines go through, the next is refused.
    for text in ["one", "two", "three", "four"] {
        x.send(&chat(text)).await?;
    }
    assert_eq!(x.error().await?, (ErrorCode::RateLimited, None));
    // Others are not limited by X's budget. The refused line never reaches anyone: the
    // spectator's next line follows X's three directly.
    watcher.send(&chat("after")).await?;
    for client in [&mut o, &mut watcher] {
        let mut texts = Vec::new();
        while texts.last().map(String::as_str) != Some("after") {
            texts.push(next_chat(client).await?.2);
        }
        assert_eq!(texts, ["one", "two", "three", "after"]);
    }
    server.shutdown().await;
    Ok(())
}
