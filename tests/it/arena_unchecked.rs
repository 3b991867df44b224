//! The arena bot with checks off (the capacity runs' light driver) against a scripted
//! server, where a real one cannot be made to send odd frames or go quiet on cue: what it
//! counts (states read by their envelope, and a state the envelope reader leaves to the
//! codec), what it acknowledges, its close, its silence watchdog and a garbage frame.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use ticksync::client::{
    ArenaBot, ArenaBotConfig, ArenaCounts, ArenaRecorder, ClientError, LiveWindow,
};
use ticksync::codec::Codec;
use ticksync::protocol::{
    ClientMsg, PROTOCOL_VERSION, RoomEvent, RoomId, RoomJoined, ServerMsg, SessionId,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_util::sync::CancellationToken;

use crate::support::{WAIT, as_sent};

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The scripted server's end of one bot's connection.
struct Script {
    ws: Ws,
    codec: Codec,
}

impl Script {
    /// Starts an unchecked bot of `codec` with `timeout` against a listener of its own,
    /// answers its `Hello` and `FindMatch` (seat 0 of an arena room) and returns the
    /// server's end, the bot's task, its recorder and its stop signal.
    async fn seat(
        codec: Codec,
        timeout: Duration,
    ) -> Result<(
        Script,
        JoinHandle<Result<ArenaCounts, ClientError>>,
        ArenaRecorder,
        CancellationToken,
    )> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let config = ArenaBotConfig {
            codec,
            timeout,
            seed: Some(7),
            checks: false,
            ..ArenaBotConfig::new(format!("ws://{}/", listener.local_addr()?))
        };
        let recorder = ArenaRecorder::new(Arc::new(LiveWindow::from(Instant::now())));
        let mut bot = ArenaBot::new(config, recorder.clone());
        let stop = CancellationToken::new();
        let bot_stop = stop.clone();
        let running = tokio::spawn(async move {
            bot.join().await?;
            bot.play(bot_stop).await
        });
        let (stream, _) = tokio::time::timeout(WAIT, listener.accept()).await??;
        // The error type is tungstenite's own, returned by value as its callback requires.
        #[allow(clippy::result_large_err)]
        let choose = move |_: &Request, mut response: Response| {
            response.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(codec.subprotocol()),
            );
            Ok(response)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, choose).await?;
        let mut script = Script { ws, codec };
        let hello = script.recv().await?;
        ensure!(matches!(hello, ClientMsg::Hello { .. }), "{hello:?}");
        script
            .send(&ServerMsg::Welcome {
                version: PROTOCOL_VERSION,
                session_id: SessionId::new(1),
                resume_token: "token".into(),
                resumed: false,
                tick_hz: 30,
            })
            .await?;
        let find = script.recv().await?;
        ensure!(matches!(find, ClientMsg::FindMatch { .. }), "{find:?}");
        script
            .send(&ServerMsg::MatchFound(RoomJoined {
                room_id: RoomId::new(3),
                code: "ABCD".into(),
                game: "arena".into(),
                seat: Some(0),
                seats: 8,
                bots: Vec::new(),
            }))
            .await?;
        Ok((script, running, recorder, stop))
    }

    /// Sends `msg` as the server would (its states by the writer's envelope).
    async fn send(&mut self, msg: &ServerMsg) -> Result<()> {
        self.send_raw(as_sent(self.codec, msg)).await
    }

    async fn send_raw(&mut self, bytes: Bytes) -> Result<()> {
        self.ws.send(Message::Binary(bytes)).await?;
        Ok(())
    }

    /// The client's next message.
    async fn recv(&mut self) -> Result<ClientMsg> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await? {
                Some(Ok(Message::Binary(bytes))) => return Ok(self.codec.decode(&bytes)?),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => bail!("expected a client message, got {other:?}"),
            }
        }
    }
}

fn snapshot(tick: u64) -> ServerMsg {
    ServerMsg::Snapshot {
        tick,
        input_seq: 0,
        state: Bytes::from_static(&[1, 2, 3]),
    }
}

fn delta(tick: u64, base_tick: u64) -> ServerMsg {
    ServerMsg::Delta {
        tick,
        base_tick,
        input_seq: 0,
        delta: Bytes::from_static(&[4, 5]),
    }
}

/// A state the envelope reader leaves to the codec, which still reads it: `Delta { tick,
/// base_tick: 14, input_seq: 0, delta: [4, 5] }` with `tick` written longer than it needs
/// (bincode: a 2-byte varint; MessagePack: `uint 16`).
fn long_form_delta(codec: Codec, tick: u8) -> Bytes {
    let bytes = match codec {
        Codec::Bincode => vec![11, 251, tick, 0, 14, 0, 2, 4, 5],
        Codec::MsgPack | Codec::MsgPackV1 => {
            let mut bytes = b"\x81\xa5Delta\x94\xcd\x00".to_vec();
            bytes.extend_from_slice(&[tick, 14, 0, 0xc4, 2, 4, 5]);
            bytes
        }
    };
    let bytes = Bytes::from(bytes);
    assert!(ticksync::client::read_state_envelope(codec, &bytes).is_none());
    assert_eq!(codec.decode_server(&bytes).unwrap(), delta(tick.into(), 14));
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchecked_bots_count_states_acknowledge_the_newest_tick_and_close_with_1000() -> Result<()>
{
    for codec in Codec::ALL {
        let (mut script, running, recorder, stop) = Script::seat(codec, WAIT).await?;
        script.send(&snapshot(10)).await?;
        script.send(&delta(11, 10)).await?;
        script.send(&delta(14, 11)).await?;
        script
            .send(&ServerMsg::Event {
                seq: 1,
                tick: 14,
                event: RoomEvent::PlayerJoined { seat: 1 },
            })
            .await?;
        script.send_raw(long_form_delta(codec, 15)).await?;
        // Inputs keep coming, 20 a second, numbered from 1, until one acknowledges tick 15.
        let mut expected_seq = 1;
        loop {
            match script.recv().await? {
                ClientMsg::Input { seq, ack_tick, .. } => {
                    ensure!(
                        seq == expected_seq,
                        "{codec:?}: input {seq} after {expected_seq}"
                    );
                    ensure!(ack_tick <= 15, "{codec:?}: acknowledged {ack_tick}");
                    expected_seq += 1;
                    if ack_tick == 15 {
                        break;
                    }
                }
                other => bail!("{codec:?}: expected an input, got {other:?}"),
            }
        }
        stop.cancel();
        // The bot closes with 1000 within an input period.
        let code = loop {
            match tokio::time::timeout(WAIT, script.ws.next()).await? {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                other => bail!("{codec:?}: expected a close, got {other:?}"),
            }
        };
        assert_eq!(code, Some(1000), "{codec:?}");
        // The reply was queued on reading the close; this sends it, and the drop closes the
        // socket, which the client waits for.
        script.ws.close(None).await.ok();
        drop(script);
        let counts = tokio::time::timeout(WAIT, running).await???;
        assert_eq!(
            (counts.updates, counts.fulls, counts.deltas),
            (4, 1, 3),
            "{codec:?}"
        );
        assert_eq!(counts.missed_ticks, 2, "{codec:?}: 12 and 13");
        assert_eq!(u64::from(expected_seq - 1), counts.inputs, "{codec:?}");
        assert_eq!(counts.prediction_checks, 0);
        assert!(counts.latency_us.is_empty());
        let tally = recorder.tally();
        assert_eq!(tally.errors, 0, "{codec:?}: {:?}", tally.error_samples);
        assert_eq!(recorder.updates_so_far(), 4, "{codec:?}: progress flushed");
        assert_eq!(tally.counts.updates, 4);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchecked_bot_gives_up_on_a_server_gone_quiet_after_its_timeout() -> Result<()> {
    let timeout = Duration::from_millis(400);
    let (mut script, running, recorder, _stop) = Script::seat(Codec::Bincode, timeout).await?;
    script.send(&snapshot(10)).await?;
    let last_message = Instant::now();
    // Quiet from here on; the server's end stays open and keeps reading.
    let reading = tokio::spawn(async move { while let Some(Ok(_)) = script.ws.next().await {} });
    let ended = tokio::time::timeout(WAIT, running).await??;
    assert!(
        matches!(ended, Err(ClientError::Timeout(t, _)) if t == timeout),
        "{ended:?}"
    );
    assert!(last_message.elapsed() >= timeout, "gave up too early");
    assert_eq!(recorder.tally().errors, 1);
    tokio::time::timeout(WAIT, reading).await?.ok();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_frame_ends_an_unchecked_bot_with_a_codec_error() -> Result<()> {
    for codec in Codec::ALL {
        let (mut script, running, recorder, _stop) = Script::seat(codec, WAIT).await?;
        script.send(&snapshot(10)).await?;
        // A state cut short, then bytes that are no message at all.
        let cut = as_sent(codec, &delta(11, 10));
        script.send_raw(cut.slice(..cut.len() - 1)).await?;
        let ended = tokio::time::timeout(WAIT, running).await??;
        assert!(
            matches!(ended, Err(ClientError::Codec(_))),
            "{codec:?}: {ended:?}"
        );
        assert_eq!(recorder.tally().errors, 1, "{codec:?}");
    }
    Ok(())
}
