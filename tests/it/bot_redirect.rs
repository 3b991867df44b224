//! The Rust bot against scripted fake nodes (no real cluster), where a real cluster cannot
//! be made to misbehave on cue: a `Redirect` whose ticket is refused as expired, or whose
//! node cannot be reached while the ticket lasts, and a redirected seat that is gone
//! (`ReservationExpired`). In each the match is lost to the bot and it queues again,
//! instead of failing (PROTOCOL.md, "Clusters"). And a bot stopped while the server owes it
//! a queueing again (a called-off match): its cancel answered `NotQueued`, or crossed by
//! `ClusterUnavailable`, it ends without an error and without cancelling again and again.

use std::time::Duration;

use anyhow::{Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use ticksync::client::{Bot, BotConfig, ClientError, Recorder};
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, SessionId};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_util::sync::CancellationToken;

use crate::support::WAIT;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Accepts one WebSocket connection on `listener`, choosing the bincode subprotocol.
async fn accept(listener: &TcpListener) -> Result<Ws> {
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept()).await??;
    Ok(tokio_tungstenite::accept_hdr_async(stream, choose_bincode).await?)
}

/// The handshake's answer: the bincode subprotocol chosen. (The error type is tungstenite's
/// own, returned by value as its callback requires.)
#[allow(clippy::result_large_err)]
fn choose_bincode(_: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    response.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(Codec::Bincode.subprotocol()),
    );
    Ok(response)
}

async fn send(ws: &mut Ws, msg: &ServerMsg) -> Result<()> {
    ws.send(Message::Binary(Codec::Bincode.encode(msg)?))
        .await?;
    Ok(())
}

/// The client's next message.
async fn recv(ws: &mut Ws) -> Result<ClientMsg> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await? {
            Some(Ok(Message::Binary(bytes))) => return Ok(Codec::Bincode.decode(&bytes)?),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => bail!("expected a client message, got {other:?}"),
        }
    }
}

fn welcome(session: u64, resumed: bool) -> ServerMsg {
    ServerMsg::Welcome {
        version: PROTOCOL_VERSION,
        session_id: SessionId::new(session),
        resume_token: format!("token-{session}"),
        resumed,
        tick_hz: 30,
    }
}

fn error(code: ErrorCode) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: format!("{code:?}"),
        input_seq: None,
    }
}

/// Answers a `FindMatch` with `Queued`.
async fn queued(ws: &mut Ws) -> Result<()> {
    let msg = recv(ws).await?;
    ensure!(
        matches!(msg, ClientMsg::FindMatch { .. }),
        "expected FindMatch, got {msg:?}"
    );
    send(
        ws,
        &ServerMsg::Queued {
            game: "tictactoe".into(),
            position: 1,
            queue_size: 1,
        },
    )
    .await
}

/// A bot on the fake node `home`, welcomed, queued, then sent to `there` with a ticket.
async fn redirected_bot(
    home: &TcpListener,
    there: &str,
    stop: &CancellationToken,
) -> Result<(Ws, JoinHandle<Result<u64, ClientError>>)> {
    let (mut ws, running) = queued_bot(home, stop).await?;
    let redirect = ServerMsg::Redirect {
        url: there.to_string(),
        ticket: "a.ticket".into(),
    };
    send(&mut ws, &redirect).await?;
    Ok((ws, running))
}

/// A bot on the fake node `home`, welcomed and queued.
async fn queued_bot(
    home: &TcpListener,
    stop: &CancellationToken,
) -> Result<(Ws, JoinHandle<Result<u64, ClientError>>)> {
    let config = BotConfig {
        seed: Some(1),
        timeout: WAIT,
        ..BotConfig::new(format!("ws://{}/", home.local_addr()?))
    };
    let bot = Bot::new(config, Recorder::default(), stop.clone());
    let running = tokio::spawn(bot.run());
    let mut ws = accept(home).await?;
    let hello = recv(&mut ws).await?;
    ensure!(matches!(hello, ClientMsg::Hello { .. }), "{hello:?}");
    send(&mut ws, &welcome(1, false)).await?;
    queued(&mut ws).await?;
    Ok((ws, running))
}

/// Answers the client's close handshake on `ws` and drops the connection, as a server does.
async fn answer_close(mut ws: Ws) -> Result<()> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await? {
            Some(Ok(Message::Close(_))) => {
                // The reply was queued on reading the close; this sends it.
                ws.close(None).await.ok();
                return Ok(());
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Ok(()),
        }
    }
}

/// The bot queued again on `ws`: it is stopped there (`CancelMatch`, `MatchCancelled`),
/// closes with 1000 and ends without an error.
async fn stops_cleanly(
    mut ws: Ws,
    stop: &CancellationToken,
    running: JoinHandle<Result<u64, ClientError>>,
) -> Result<()> {
    queued(&mut ws).await?;
    stop.cancel();
    let cancel = recv(&mut ws).await?;
    ensure!(matches!(cancel, ClientMsg::CancelMatch), "{cancel:?}");
    send(
        &mut ws,
        &ServerMsg::MatchCancelled {
            game: "tictactoe".into(),
        },
    )
    .await?;
    answer_close(ws).await?;
    let played = tokio::time::timeout(WAIT, running).await???;
    assert_eq!(played, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_ticket_sends_the_bot_back_to_the_queue_where_it_is() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    let there = TcpListener::bind("127.0.0.1:0").await?;
    let stop = CancellationToken::new();
    let url = format!("ws://{}/", there.local_addr()?);
    let (ws, running) = redirected_bot(&home, &url, &stop).await?;
    // The ticket is refused there as expired...
    let mut refused = accept(&there).await?;
    match recv(&mut refused).await? {
        ClientMsg::Hello { ticket, .. } => assert_eq!(ticket.as_deref(), Some("a.ticket")),
        other => bail!("expected Hello, got {other:?}"),
    }
    send(&mut refused, &error(ErrorCode::TicketExpired)).await?;
    refused.close(None).await.ok();
    // ...so it queues again on its own node, on the connection it still has.
    stops_cleanly(ws, &stop, running).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_whose_node_cannot_be_reached_lapses_and_the_bot_queues_again() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    // A port nobody listens on.
    let gone = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let stop = CancellationToken::new();
    let (ws, running) = redirected_bot(&home, &format!("ws://{gone}/"), &stop).await?;
    // Tried with backoff while the ticket lasts (10 s at most), then queued again here.
    stops_cleanly(ws, &stop, running).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirected_seat_that_is_gone_sends_the_bot_back_to_the_queue_there() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    let there = TcpListener::bind("127.0.0.1:0").await?;
    let stop = CancellationToken::new();
    let url = format!("ws://{}/", there.local_addr()?);
    let (ws, running) = redirected_bot(&home, &url, &stop).await?;
    // The ticket is good but its seat is gone: a new session there, then ReservationExpired.
    let mut new_home = accept(&there).await?;
    let hello = recv(&mut new_home).await?;
    ensure!(matches!(hello, ClientMsg::Hello { .. }), "{hello:?}");
    send(&mut new_home, &welcome(2, false)).await?;
    send(&mut new_home, &error(ErrorCode::ReservationExpired)).await?;
    // The bot leaves its old node for this one (a close handshake, answered here)...
    answer_close(ws).await?;
    // ...and queues again here.
    stops_cleanly(new_home, &stop, running).await
}

/// Stops a queued bot: its `CancelMatch` is answered `NotQueued`, as when the server has
/// not queued it again yet after a called-off match.
async fn stopped_and_told_not_queued(
    home: &TcpListener,
    stop: &CancellationToken,
) -> Result<(Ws, JoinHandle<Result<u64, ClientError>>)> {
    let (mut ws, running) = queued_bot(home, stop).await?;
    stop.cancel();
    let cancel = recv(&mut ws).await?;
    ensure!(matches!(cancel, ClientMsg::CancelMatch), "{cancel:?}");
    send(&mut ws, &error(ErrorCode::NotQueued)).await?;
    Ok((ws, running))
}

/// The bot's next frame on `ws` is its close (no other message first); answered, and the
/// connection dropped, as a server does (the bot's close waits for that).
async fn closes_next(mut ws: Ws) -> Result<()> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await? {
            Some(Ok(Message::Close(_))) => {
                ws.close(None).await.ok();
                return Ok(());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Binary(bytes))) => {
                let msg: ClientMsg = Codec::Bincode.decode(&bytes)?;
                bail!("expected the close, got {msg:?}");
            }
            other => bail!("expected the close, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bot_told_not_queued_waits_once_and_ends_when_nothing_comes() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    let stop = CancellationToken::new();
    let (ws, running) = stopped_and_told_not_queued(&home, &stop).await?;
    // No `CancelMatch` again and again: it waits for a `MatchFound` or `Queued`, hears
    // none, and leaves.
    closes_next(ws).await?;
    let played = tokio::time::timeout(WAIT, running).await???;
    assert_eq!(played, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bot_queued_again_after_not_queued_cancels_again() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    let stop = CancellationToken::new();
    let (mut ws, running) = stopped_and_told_not_queued(&home, &stop).await?;
    // It waits: nothing for a second (it used to send `CancelMatch` again at once)...
    if let Ok(next) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
        bail!("expected nothing while the bot waits, got {next:?}");
    }
    // ...and the server queues it again late (a called-off match): it cancels that too.
    let queued = ServerMsg::Queued {
        game: "tictactoe".into(),
        position: 1,
        queue_size: 1,
    };
    send(&mut ws, &queued).await?;
    let cancel = recv(&mut ws).await?;
    ensure!(matches!(cancel, ClientMsg::CancelMatch), "{cancel:?}");
    let cancelled = ServerMsg::MatchCancelled {
        game: "tictactoe".into(),
    };
    send(&mut ws, &cancelled).await?;
    closes_next(ws).await?;
    let played = tokio::time::timeout(WAIT, running).await???;
    assert_eq!(played, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_bot_that_could_not_be_queued_again_ends_without_an_error() -> Result<()> {
    let home = TcpListener::bind("127.0.0.1:0").await?;
    let stop = CancellationToken::new();
    let (mut ws, running) = queued_bot(&home, &stop).await?;
    stop.cancel();
    let cancel = recv(&mut ws).await?;
    ensure!(matches!(cancel, ClientMsg::CancelMatch), "{cancel:?}");
    // A called-off match's queueing again failed (Redis away), crossing the cancel: not
    // queued, and stopped, so it leaves (the cancel's answer does not matter now).
    send(&mut ws, &error(ErrorCode::ClusterUnavailable)).await?;
    closes_next(ws).await?;
    let played = tokio::time::timeout(WAIT, running).await???;
    assert_eq!(played, 0);
    Ok(())
}
