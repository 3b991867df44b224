//! The hostile-input table: malformed and abusive inputs at every layer (WebSocket framing,
//! message encoding, protocol state, rooms, floods), each with the close code or error it
//! must get, while an unrelated game is played beside them; afterwards the server still
//! serves everyone. Frame-level violations are written over raw TCP, since tungstenite's
//! client refuses to send them. (Forged auth tokens are the auth layer's table.)

use anyhow::{Context, Result, bail, ensure};
use ticksync::codec::{Codec, MAX_DECODE_BYTES};
use ticksync::protocol::{
    ClientMsg, EndReason, ErrorCode, PROTOCOL_VERSION, RoomSettings, ServerMsg, close_code,
};
use ticksync::server::Stats;

use crate::support::{
    Client, Frame, RawWs, length_claim, matched_pair, opcode, play, play_from, start, test_config,
    wait_for_stats,
};

/// Where the hostile connection stands before its row runs.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// Handshake done, no `Hello`.
    Fresh,
    /// `Welcome` received.
    Hello,
    /// Seat 1 (O) of a running private tic-tac-toe game, X to move.
    Player,
    /// Watching a private tic-tac-toe room.
    Spectator,
}

/// What the hostile connection sends.
#[derive(Debug, Clone)]
enum Out {
    /// Frames, written in one go.
    Frames(Vec<Frame>),
    /// Bytes as they are.
    Bytes(Vec<u8>),
    /// A message in the row's codec, as one binary frame.
    Msg(ClientMsg),
    /// Any payload as one binary frame.
    Payload(Vec<u8>),
}

/// What the server must answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A close frame with this code (any messages before it are skipped).
    Close(u16),
    /// The next `Error` has this code; the connection stays usable.
    Error(ErrorCode),
    /// An `Error` with this code arrives (other errors may come first).
    ErrorAmong(ErrorCode),
    /// `Pong` with this nonce; the connection stays usable.
    Pong(u64),
}

struct Row {
    name: &'static str,
    codec: Codec,
    setup: Setup,
    send: Vec<Out>,
    expect: Expect,
}

fn row(name: &'static str, setup: Setup, send: Vec<Out>, expect: Expect) -> Row {
    Row {
        name,
        codec: Codec::Bincode,
        setup,
        send,
        expect,
    }
}

fn msgpack(mut row: Row) -> Row {
    row.codec = Codec::MsgPack;
    row
}

fn frame(opcode: u8, payload: &[u8]) -> Frame {
    Frame::new(opcode, payload.to_vec())
}

fn bincode(msg: &ClientMsg) -> Vec<u8> {
    Codec::Bincode.encode(msg).expect("encodes").to_vec()
}

/// A bincode `Input` outside any room, exactly `size` bytes long.
fn input_of_size(size: usize) -> Vec<u8> {
    let mut data_len = size;
    loop {
        let bytes = bincode(&ClientMsg::Input {
            seq: 1,
            ack_tick: 0,
            data: vec![0xAB; data_len].into(),
        });
        match bytes.len().cmp(&size) {
            std::cmp::Ordering::Equal => return bytes,
            std::cmp::Ordering::Greater => data_len -= bytes.len() - size,
            std::cmp::Ordering::Less => data_len += size - bytes.len(),
        }
    }
}

/// A MessagePack `Ping { nonce }` padded with an unknown `pad` key to exactly `size` bytes.
fn padded_ping(nonce: u8, size: usize) -> Vec<u8> {
    let mut bytes = vec![0x81, 0xA4];
    bytes.extend_from_slice(b"Ping");
    bytes.extend_from_slice(&[0x82, 0xA5]);
    bytes.extend_from_slice(b"nonce");
    bytes.push(nonce);
    bytes.push(0xA3);
    bytes.extend_from_slice(b"pad");
    let pad = size - bytes.len() - 3;
    bytes.push(0xC5);
    bytes.extend_from_slice(&u16::try_from(pad).expect("fits").to_be_bytes());
    bytes.resize(size, 0);
    bytes
}

/// `{"FindMatch": {"game": "t", "x": [[[...200 deep...]]]}}`.
fn deep_nesting() -> Vec<u8> {
    let mut bytes = vec![0x81, 0xA9];
    bytes.extend_from_slice(b"FindMatch");
    bytes.extend_from_slice(&[0x82, 0xA4]);
    bytes.extend_from_slice(b"game");
    bytes.extend_from_slice(&[0xA1, b't', 0xA1, b'x']);
    bytes.extend(std::iter::repeat_n(0x91, 200));
    bytes.push(0xC0);
    bytes
}

/// `{"Ping": {"nonce": 1.5}}`: a float where an integer belongs.
fn float_nonce() -> Vec<u8> {
    let mut bytes = vec![0x81, 0xA4];
    bytes.extend_from_slice(b"Ping");
    bytes.extend_from_slice(&[0x81, 0xA5]);
    bytes.extend_from_slice(b"nonce");
    bytes.push(0xCB);
    bytes.extend_from_slice(&1.5f64.to_be_bytes());
    bytes
}

/// A bincode `Ping { nonce: 9 }` in 1,000 frames: a byte in each of the first two, then
/// empty continuations.
fn thousand_fragments() -> Vec<Frame> {
    let message = bincode(&ClientMsg::Ping { nonce: 9 });
    let mut frames = Vec::with_capacity(1000);
    for i in 0..1000 {
        let payload = message.get(i..=i).map(<[u8]>::to_vec).unwrap_or_default();
        frames.push(Frame {
            fin: i == 999,
            rsv: 0,
            opcode: if i == 0 {
                opcode::BINARY
            } else {
                opcode::CONTINUATION
            },
            masked: true,
            payload,
        });
    }
    frames
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

fn rows() -> Vec<Row> {
    use Expect::{Close, Error, ErrorAmong, Pong};
    use Out::{Bytes, Frames, Msg, Payload};
    use Setup::{Fresh, Hello, Player, Spectator};
    let ping = |nonce| bincode(&ClientMsg::Ping { nonce });
    let unmasked = Frame {
        masked: false,
        ..frame(opcode::BINARY, &ping(1))
    };
    let with_rsv = |rsv| Frame {
        rsv,
        ..frame(opcode::BINARY, &ping(1))
    };
    let unfinished = |opcode| Frame {
        fin: false,
        ..frame(opcode, &[1])
    };
    let ack = bincode(&ClientMsg::Ack { tick: 1 });
    let forged_token = ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        resume_token: Some("00000000000000000000000000000000".into()),
        last_event_seq: 0,
        auth_token: None,
        ticket: None,
    };
    vec![
        // WebSocket framing (RFC 6455): 1002, 1007, 1009.
        row(
            "continuation without a start",
            Hello,
            vec![Frames(vec![frame(opcode::CONTINUATION, &[1])])],
            Close(1002),
        ),
        row(
            "reserved data opcode 3",
            Hello,
            vec![Frames(vec![frame(0x3, &[1])])],
            Close(1002),
        ),
        row(
            "reserved control opcode 0xB",
            Hello,
            vec![Frames(vec![frame(0xB, &[])])],
            Close(1002),
        ),
        row(
            "RSV1 set",
            Hello,
            vec![Frames(vec![with_rsv(4)])],
            Close(1002),
        ),
        row(
            "RSV2 and RSV3 set",
            Hello,
            vec![Frames(vec![with_rsv(3)])],
            Close(1002),
        ),
        row(
            "unmasked client frame",
            Hello,
            vec![Frames(vec![unmasked])],
            Close(1002),
        ),
        row(
            "fragmented ping",
            Hello,
            vec![Frames(vec![unfinished(opcode::PING)])],
            Close(1002),
        ),
        row(
            "ping over 125 bytes",
            Hello,
            vec![Frames(vec![frame(opcode::PING, &[0; 126])])],
            Close(1002),
        ),
        row(
            "new message inside a fragmented one",
            Hello,
            vec![Frames(vec![
                unfinished(opcode::BINARY),
                frame(opcode::BINARY, &[1]),
            ])],
            Close(1002),
        ),
        row(
            "HTTP request after the handshake",
            Hello,
            vec![Bytes(b"GET / HTTP/1.1\r\n\r\n".to_vec())],
            Close(1002),
        ),
        row(
            "close code 999",
            Hello,
            vec![Frames(vec![frame(opcode::CLOSE, &close_payload(999, b""))])],
            Close(1002),
        ),
        row(
            "invalid UTF-8 in a text message",
            Hello,
            vec![Frames(vec![frame(opcode::TEXT, &[0x68, 0xFF, 0xFE])])],
            Close(1007),
        ),
        row(
            "invalid UTF-8 across text fragments",
            Hello,
            vec![Frames(vec![
                Frame {
                    fin: false,
                    ..frame(opcode::TEXT, &[0xE2, 0x82])
                },
                frame(opcode::CONTINUATION, &[0x28]),
            ])],
            Close(1007),
        ),
        row(
            "valid text message",
            Hello,
            vec![Frames(vec![frame(opcode::TEXT, b"{}")])],
            Close(1003),
        ),
        row(
            "frame one byte over the cap",
            Hello,
            vec![Payload(vec![0; MAX_DECODE_BYTES + 1])],
            Close(1009),
        ),
        row(
            "4 GB frame length claim",
            Hello,
            vec![Bytes(length_claim(opcode::BINARY, 1 << 32))],
            Close(1009),
        ),
        row(
            "2^63 frame length claim",
            Hello,
            vec![Bytes(length_claim(opcode::BINARY, 1 << 63))],
            Close(1009),
        ),
        row(
            "fragments adding up over the cap",
            Hello,
            vec![Frames(vec![
                Frame {
                    fin: false,
                    ..frame(opcode::BINARY, &[0; 9000])
                },
                frame(opcode::CONTINUATION, &[0; 9000]),
            ])],
            Close(1009),
        ),
        row(
            "1,000 tiny fragments of a valid message",
            Hello,
            vec![Frames(thousand_fragments())],
            Pong(9),
        ),
        row(
            "message of exactly 16,384 bytes",
            Hello,
            vec![Payload(input_of_size(MAX_DECODE_BYTES))],
            Error(ErrorCode::NotInRoom),
        ),
        msgpack(row(
            "MessagePack message of exactly 16,384 bytes",
            Hello,
            vec![Payload(padded_ping(7, MAX_DECODE_BYTES))],
            Pong(7),
        )),
        // Encoding: BadMessage, and the connection stays.
        row(
            "empty message",
            Hello,
            vec![Payload(vec![])],
            Error(ErrorCode::BadMessage),
        ),
        row(
            "unknown bincode variant",
            Hello,
            vec![Payload(vec![200])],
            Error(ErrorCode::BadMessage),
        ),
        msgpack(row(
            "unknown MessagePack variant",
            Hello,
            vec![Payload(b"\xA4Nope".to_vec())],
            Error(ErrorCode::BadMessage),
        )),
        row(
            "truncated message",
            Hello,
            vec![Payload(vec![7, 1])],
            Error(ErrorCode::BadMessage),
        ),
        row(
            "trailing bytes",
            Hello,
            vec![Payload([ping(1), vec![0]].concat())],
            Error(ErrorCode::BadMessage),
        ),
        row(
            "4 GB string length claim",
            Hello,
            vec![Payload(vec![2, 252, 0xFF, 0xFF, 0xFF, 0xFF])],
            Error(ErrorCode::BadMessage),
        ),
        msgpack(row(
            "4 GB bin length claim",
            Hello,
            vec![Payload(
                [
                    &[0x81, 0xA5][..],
                    b"Input",
                    &[0x83, 0xA3],
                    b"seq",
                    &[1, 0xA8],
                    b"ack_tick",
                    &[0, 0xA4],
                    b"data",
                    &[0xC6, 0xFF, 0xFF, 0xFF, 0xFF],
                ]
                .concat(),
            )],
            Error(ErrorCode::BadMessage),
        )),
        msgpack(row(
            "200-deep nesting",
            Hello,
            vec![Payload(deep_nesting())],
            Error(ErrorCode::BadMessage),
        )),
        msgpack(row(
            "float for an integer",
            Hello,
            vec![Payload(float_nonce())],
            Error(ErrorCode::BadMessage),
        )),
        // Protocol state.
        row(
            "message before Hello",
            Fresh,
            vec![Msg(ClientMsg::Ping { nonce: 1 })],
            Close(close_code::HELLO_REQUIRED),
        ),
        row(
            "input before Hello",
            Fresh,
            vec![Msg(ClientMsg::Input {
                seq: 1,
                ack_tick: 0,
                data: vec![4].into(),
            })],
            Close(close_code::HELLO_REQUIRED),
        ),
        row(
            "Hello with another version",
            Fresh,
            vec![Msg(ClientMsg::Hello {
                version: 9,
                resume_token: None,
                last_event_seq: 0,
                auth_token: None,
                ticket: None,
            })],
            Close(close_code::UNSUPPORTED_VERSION),
        ),
        row(
            "forged resume token",
            Fresh,
            vec![Msg(forged_token)],
            Close(close_code::INVALID_RESUME_TOKEN),
        ),
        row(
            "second Hello",
            Hello,
            vec![Msg(ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                resume_token: None,
                last_event_seq: 0,
                auth_token: None,
                ticket: None,
            })],
            Error(ErrorCode::HelloRequired),
        ),
        row(
            "CancelMatch while not queued",
            Hello,
            vec![Msg(ClientMsg::CancelMatch)],
            Error(ErrorCode::NotQueued),
        ),
        row(
            "LeaveRoom while in no room",
            Hello,
            vec![Msg(ClientMsg::LeaveRoom)],
            Error(ErrorCode::NotInRoom),
        ),
        row(
            "Input while in no room",
            Hello,
            vec![Msg(ClientMsg::Input {
                seq: 1,
                ack_tick: 0,
                data: vec![4].into(),
            })],
            Error(ErrorCode::NotInRoom),
        ),
        row(
            "Chat while in no room",
            Hello,
            vec![Msg(ClientMsg::Chat { text: "hi".into() })],
            Error(ErrorCode::NotInRoom),
        ),
        row(
            "Chat of 201 characters",
            Hello,
            vec![Msg(ClientMsg::Chat {
                text: "é".repeat(201),
            })],
            Error(ErrorCode::ChatTooLong),
        ),
        row(
            "FindMatch for an unknown game",
            Hello,
            vec![Msg(ClientMsg::FindMatch {
                game: "chess".into(),
                options: bytes::Bytes::new(),
            })],
            Error(ErrorCode::UnknownGame),
        ),
        row(
            "CreateRoom for an unknown game",
            Hello,
            vec![Msg(ClientMsg::CreateRoom {
                game: "x".repeat(5000),
                settings: RoomSettings::default(),
            })],
            Error(ErrorCode::UnknownGame),
        ),
        row(
            "JoinRoom with a wrong code",
            Hello,
            vec![Msg(ClientMsg::JoinRoom {
                code: "ZZZZZZZZ".into(),
                spectate: false,
            })],
            Error(ErrorCode::UnknownRoomCode),
        ),
        // Rooms: inputs out of turn (for the other seat's turn), from a spectator.
        row(
            "input on the other seat's turn",
            Player,
            vec![Msg(ClientMsg::Input {
                seq: 1,
                ack_tick: 0,
                data: vec![4].into(),
            })],
            Error(ErrorCode::NotYourTurn),
        ),
        // The reader's other path for inputs: one the fast reader does not take (its seq
        // written in three bytes, which the decoder accepts) still reaches the game with
        // its bytes, decoded and refused there for the turn.
        row(
            "input with its seq written long",
            Player,
            vec![Payload(vec![7, 251, 1, 0, 0, 1, 4])],
            Error(ErrorCode::NotYourTurn),
        ),
        // An input longer than the 24 bytes held inline reaches the game, which finds it
        // malformed (tic-tac-toe's input is one cell).
        row(
            "input of 40 bytes",
            Player,
            vec![Msg(ClientMsg::Input {
                seq: 1,
                ack_tick: 0,
                data: vec![4; 40].into(),
            })],
            Error(ErrorCode::BadMessage),
        ),
        row(
            "CreateRoom while seated",
            Player,
            vec![Msg(ClientMsg::CreateRoom {
                game: "tictactoe".into(),
                settings: RoomSettings::default(),
            })],
            Error(ErrorCode::AlreadyInRoom),
        ),
        row(
            "FindMatch while seated",
            Player,
            vec![Msg(ClientMsg::FindMatch {
                game: "tictactoe".into(),
                options: bytes::Bytes::new(),
            })],
            Error(ErrorCode::AlreadyInRoom),
        ),
        row(
            "spectator input",
            Spectator,
            vec![Msg(ClientMsg::Input {
                seq: 1,
                ack_tick: 0,
                data: vec![4].into(),
            })],
            Error(ErrorCode::NotAPlayer),
        ),
        // Floods, written as fast as the socket takes them.
        row(
            "5,000 WebSocket pings",
            Hello,
            vec![Frames(vec![frame(opcode::PING, &[]); 5000])],
            Close(close_code::POLICY_VIOLATION),
        ),
        row(
            "5,000 Acks",
            Hello,
            vec![Frames(vec![frame(opcode::BINARY, &ack); 5000])],
            Close(close_code::POLICY_VIOLATION),
        ),
        row(
            "5,000 Inputs in a room",
            Player,
            vec![Frames(
                (1..=5000u32)
                    .map(|seq| {
                        frame(
                            opcode::BINARY,
                            &bincode(&ClientMsg::Input {
                                seq,
                                ack_tick: 0,
                                data: vec![4].into(),
                            }),
                        )
                    })
                    .collect(),
            )],
            Close(close_code::POLICY_VIOLATION),
        ),
        row(
            "8 MB in 500 messages of 16 KiB",
            Hello,
            vec![Frames(vec![
                frame(
                    opcode::BINARY,
                    &input_of_size(MAX_DECODE_BYTES)
                );
                500
            ])],
            Close(close_code::POLICY_VIOLATION),
        ),
        row(
            "20 undecodable messages",
            Hello,
            vec![Frames(vec![frame(opcode::BINARY, &[200]); 20])],
            Close(close_code::POLICY_VIOLATION),
        ),
        row(
            "30 wrong room codes",
            Hello,
            vec![Frames(
                (0..30)
                    .map(|i| {
                        frame(
                            opcode::BINARY,
                            &bincode(&ClientMsg::JoinRoom {
                                code: format!("ZZZZZZ{i:02}"),
                                spectate: false,
                            }),
                        )
                    })
                    .collect(),
            )],
            ErrorAmong(ErrorCode::RateLimited),
        ),
        row(
            "20 ListRooms",
            Hello,
            vec![Frames(vec![frame(opcode::BINARY, &[9]); 20])],
            ErrorAmong(ErrorCode::RateLimited),
        ),
    ]
}

/// The other side of a room row: a client that created a private tic-tac-toe room.
async fn host(addr: std::net::SocketAddr) -> Result<(Client, String)> {
    let mut host = Client::connect(addr, Codec::MsgPack).await?;
    host.send(&ClientMsg::CreateRoom {
        game: "tictactoe".into(),
        settings: RoomSettings {
            allow_spectators: true,
            relay: false,
            ranked: false,
            options: bytes::Bytes::new(),
        },
    })
    .await?;
    let code = host.room_joined().await?.code;
    Ok((host, code))
}

async fn run_row(addr: std::net::SocketAddr, row: &Row) -> Result<()> {
    let mut host_client = None;
    let mut raw = match row.setup {
        Setup::Fresh => RawWs::connect(addr, row.codec).await?,
        Setup::Hello => RawWs::connect_hello(addr, row.codec).await?,
        Setup::Player | Setup::Spectator => {
            let (host, code) = host(addr).await?;
            host_client = Some(host);
            let mut raw = RawWs::connect_hello(addr, row.codec).await?;
            let spectate = matches!(row.setup, Setup::Spectator);
            raw.send_msg(&ClientMsg::JoinRoom { code, spectate })
                .await?;
            loop {
                match raw.recv().await? {
                    ServerMsg::RoomJoined(joined) => {
                        ensure!(joined.seat.is_some() != spectate, "joined as {joined:?}");
                        break;
                    }
                    ServerMsg::Error { code, .. } => bail!("join refused: {code:?}"),
                    _ => {}
                }
            }
            raw
        }
    };
    for send in &row.send {
        match send {
            Out::Frames(frames) => raw.send_frames(frames).await?,
            Out::Bytes(bytes) => raw.send_bytes(bytes).await?,
            Out::Msg(msg) => raw.send_msg(msg).await?,
            Out::Payload(payload) => {
                raw.send_frames(&[Frame::new(opcode::BINARY, payload.clone())])
                    .await?;
            }
        }
    }
    match row.expect {
        Expect::Close(code) => {
            let got = raw.close_code().await?;
            ensure!(got == Some(code), "closed with {got:?}, expected {code}");
        }
        Expect::Error(code) | Expect::ErrorAmong(code) => {
            let strict = matches!(row.expect, Expect::Error(_));
            loop {
                match raw.recv().await? {
                    ServerMsg::Error { code: got, .. } if got == code => break,
                    ServerMsg::Error { code: got, .. } if strict => {
                        bail!("got Error {got:?}, expected {code:?}")
                    }
                    _ => {}
                }
            }
        }
        Expect::Pong(nonce) => loop {
            match raw.recv().await? {
                ServerMsg::Pong { nonce: got } if got == nonce => break,
                ServerMsg::Error { code, .. } => bail!("got Error {code:?}, expected Pong"),
                _ => {}
            }
        },
    }
    if !matches!(row.expect, Expect::Close(_)) {
        // Still usable: a ping is answered.
        raw.send_msg(&ClientMsg::Ping { nonce: 77 }).await?;
        loop {
            if let ServerMsg::Pong { nonce: 77 } = raw.recv().await? {
                break;
            }
        }
    }
    drop(raw);
    if let Some(host) = host_client {
        host.close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_input_gets_its_documented_answer_and_a_game_beside_them_goes_on()
-> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    // An unrelated game, played a little before and after the table.
    let (mut x, mut o) = matched_pair(addr, (Codec::Bincode, Codec::MsgPack)).await?;
    play(&mut x, &mut o, &[0, 3]).await?;
    let rows = rows();
    assert!(rows.len() >= 30, "{} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        if let Err(error) = run_row(addr, row).await.with_context(|| row.name) {
            failures.push(format!("{error:#}"));
        }
        x.ping(1).await.context("the game's X stopped answering")?;
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    play_from(&mut x, &mut o, 2, &[1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    x.close().await?;
    o.close().await?;
    let mut fresh = Client::connect(addr, Codec::MsgPack).await?;
    fresh.ping(5).await?;
    fresh.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
