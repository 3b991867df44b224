//! Counters written on the hot path: one relaxed atomic add per message, no lock.
//!
//! Incoming messages are counted by [`ClientKind`] once decoded. Outgoing frames are
//! counted as the writer writes them, by the kind read from the frame's first bytes
//! ([`server_kind`]): events are encoded once per room and shared, so the frame is all the
//! writer has, and its first bytes name the variant in both codecs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{MetricSource, Rows};
use crate::codec::Codec;
use crate::codec::envelope::{MSGPACK_DELTA, MSGPACK_SNAPSHOT};
use crate::protocol::ClientMsg;

/// What kind of client message a frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum ClientKind {
    /// `Hello`.
    Hello,
    /// `Ping`.
    Ping,
    /// `FindMatch`.
    FindMatch,
    /// `CancelMatch`.
    CancelMatch,
    /// `CreateRoom`.
    CreateRoom,
    /// `JoinRoom`.
    JoinRoom,
    /// `LeaveRoom`.
    LeaveRoom,
    /// `Input`.
    Input,
    /// `Chat`.
    Chat,
    /// `ListRooms`.
    ListRooms,
    /// `Ack`.
    Ack,
    /// `ListRoomsAfter`.
    ListRoomsAfter,
    /// `Leaderboard`.
    Leaderboard,
    /// A binary frame that did not decode as a message.
    Undecodable,
    /// A message kind added after this table.
    Other,
}

const CLIENT_KINDS: [&str; 15] = [
    "Hello",
    "Ping",
    "FindMatch",
    "CancelMatch",
    "CreateRoom",
    "JoinRoom",
    "LeaveRoom",
    "Input",
    "Chat",
    "ListRooms",
    "Ack",
    "ListRoomsAfter",
    "Leaderboard",
    "undecodable",
    "other",
];

impl ClientKind {
    /// The kind of a decoded message.
    pub fn of(msg: &ClientMsg) -> ClientKind {
        #[allow(unreachable_patterns)]
        match msg {
            ClientMsg::Hello { .. } => ClientKind::Hello,
            ClientMsg::Ping { .. } => ClientKind::Ping,
            ClientMsg::FindMatch { .. } => ClientKind::FindMatch,
            ClientMsg::CancelMatch => ClientKind::CancelMatch,
            ClientMsg::CreateRoom { .. } => ClientKind::CreateRoom,
            ClientMsg::JoinRoom { .. } => ClientKind::JoinRoom,
            ClientMsg::LeaveRoom => ClientKind::LeaveRoom,
            ClientMsg::Input { .. } => ClientKind::Input,
            ClientMsg::Chat { .. } => ClientKind::Chat,
            ClientMsg::ListRooms => ClientKind::ListRooms,
            ClientMsg::Ack { .. } => ClientKind::Ack,
            ClientMsg::ListRoomsAfter { .. } => ClientKind::ListRoomsAfter,
            ClientMsg::Leaderboard { .. } => ClientKind::Leaderboard,
            _ => ClientKind::Other,
        }
    }
}

/// `ServerMsg` variant names in declaration order (the bincode variant index), then the
/// label for frames that match none of them.
const SERVER_KINDS: [&str; 17] = [
    "Welcome",
    "Pong",
    "Queued",
    "MatchFound",
    "RoomJoined",
    "RoomLeft",
    "Snapshot",
    "Event",
    "Error",
    "RoomList",
    "MatchCancelled",
    "Delta",
    "ServerShutdown",
    "RatingChanged",
    "Leaderboard",
    "GameEvent",
    "other",
];
const SERVER_OTHER: usize = SERVER_KINDS.len() - 1;
const SERVER_ERROR: usize = 8;

/// The `ServerMsg` variant index of an encoded frame, read from its first bytes: the
/// bincode variant index (one byte below 251), or the MessagePack one-entry map's key
/// (a fixstr), or, for a state message in `ticksync.msgpack.v2`'s short form, the index
/// that leads its array. Frames it cannot place give the "other" index.
pub fn server_kind(codec: Codec, frame: &[u8]) -> usize {
    match codec {
        Codec::Bincode => match frame.first() {
            Some(&index) if usize::from(index) < SERVER_OTHER => usize::from(index),
            _ => SERVER_OTHER,
        },
        Codec::MsgPack | Codec::MsgPackV1 => {
            if codec == Codec::MsgPack
                && let [0x94, index @ MSGPACK_SNAPSHOT, ..] | [0x95, index @ MSGPACK_DELTA, ..] =
                    frame
            {
                return usize::from(*index);
            }
            let [0x81, tag, rest @ ..] = frame else {
                return SERVER_OTHER;
            };
            if tag & 0xe0 != 0xa0 {
                return SERVER_OTHER;
            }
            let len = usize::from(tag & 0x1f);
            let Some(name) = rest.get(..len) else {
                return SERVER_OTHER;
            };
            SERVER_KINDS[..SERVER_OTHER]
                .iter()
                .position(|kind| kind.as_bytes() == name)
                .unwrap_or(SERVER_OTHER)
        }
    }
}

/// The code of an encoded `ServerMsg::Error`, read from its first bytes as the server
/// writes them: bincode `08` then the code as a varint; MessagePack
/// `{"Error": {"code": N, ...}}` with `code` the first key. `None` for any other shape.
pub(super) fn error_code(codec: Codec, frame: &[u8]) -> Option<u16> {
    match codec {
        Codec::Bincode => match frame {
            [8, small, ..] if *small < 251 => Some(u16::from(*small)),
            [8, 0xfb, lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
            _ => None,
        },
        Codec::MsgPack | Codec::MsgPackV1 => {
            let rest = frame.strip_prefix(b"\x81\xa5Error")?;
            let rest = rest.get(1..)?.strip_prefix(b"\xa4code")?;
            match rest {
                [small, ..] if *small < 0x80 => Some(u16::from(*small)),
                [0xcc, n, ..] => Some(u16::from(*n)),
                [0xcd, hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
                _ => None,
            }
        }
    }
}

/// Error codes are below this; others are counted under code 0.
const ERROR_CODES: usize = 128;

/// Why an HTTP request was refused before a WebSocket upgrade.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub enum HttpRefusal {
    /// `--max-connections` reached (503).
    Full,
    /// The server is draining (503).
    ShuttingDown,
    /// The upgrade request was malformed (400, 426).
    BadHandshake,
}

const HTTP_REFUSALS: [&str; 3] = ["full", "shutting_down", "bad_handshake"];

fn counters<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

/// The server's hot-path counters. Shared by every connection as one `Arc`.
#[derive(Debug)]
pub struct WireCounters {
    in_msgs: [AtomicU64; CLIENT_KINDS.len()],
    in_bytes: [AtomicU64; CLIENT_KINDS.len()],
    out_msgs: [AtomicU64; SERVER_KINDS.len()],
    out_bytes: [AtomicU64; SERVER_KINDS.len()],
    errors: [AtomicU64; ERROR_CODES],
    opened: AtomicU64,
    /// Connections closed, by the code of the close frame the server sent. Touched once
    /// per connection, so a mutex is fine here.
    closed: Mutex<BTreeMap<u16, u64>>,
    closed_without_frame: AtomicU64,
    resumes: AtomicU64,
    resumes_refused: AtomicU64,
    http_refused: [AtomicU64; HTTP_REFUSALS.len()],
}

impl Default for WireCounters {
    fn default() -> Self {
        WireCounters {
            in_msgs: counters(),
            in_bytes: counters(),
            out_msgs: counters(),
            out_bytes: counters(),
            errors: counters(),
            opened: AtomicU64::new(0),
            closed: Mutex::new(BTreeMap::new()),
            closed_without_frame: AtomicU64::new(0),
            resumes: AtomicU64::new(0),
            resumes_refused: AtomicU64::new(0),
            http_refused: counters(),
        }
    }
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl WireCounters {
    /// One message of `kind` and `bytes` bytes received.
    pub fn received(&self, kind: ClientKind, bytes: usize) {
        let i = kind as usize;
        add(&self.in_msgs[i], 1);
        add(&self.in_bytes[i], bytes as u64);
    }

    /// One frame written. An `Error` frame's code is read from its first bytes (no decode,
    /// no allocation: a client can make the server send one per message).
    pub fn sent(&self, codec: Codec, frame: &[u8]) {
        let kind = server_kind(codec, frame);
        self.sent_kind(kind, frame.len());
        if kind == SERVER_ERROR {
            let code = error_code(codec, frame).map_or(0, usize::from);
            add(&self.errors[if code < ERROR_CODES { code } else { 0 }], 1);
        }
    }

    /// One frame of `len` bytes written whose first bytes are `head` (at least its variant
    /// tag): a state message whose shared body is written from elsewhere.
    pub fn sent_head(&self, codec: Codec, head: &[u8], len: usize) {
        self.sent_kind(server_kind(codec, head), len);
    }

    /// One frame of the `ServerMsg` variant index `kind` written.
    pub fn sent_kind(&self, kind: usize, bytes: usize) {
        let i = kind.min(SERVER_OTHER);
        add(&self.out_msgs[i], 1);
        add(&self.out_bytes[i], bytes as u64);
    }

    /// A WebSocket connection was established.
    pub fn opened(&self) {
        add(&self.opened, 1);
    }

    /// A connection ended; `code` is the close code the server sent, `None` if it sent no
    /// close frame (the socket failed or stalled first).
    pub fn closed(&self, code: Option<u16>) {
        match code {
            Some(code) => {
                *self
                    .closed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(code)
                    .or_default() += 1;
            }
            None => add(&self.closed_without_frame, 1),
        }
    }

    /// A `Hello` with a resume token was answered: resumed, or refused.
    pub fn resume(&self, accepted: bool) {
        add(
            if accepted {
                &self.resumes
            } else {
                &self.resumes_refused
            },
            1,
        );
    }

    /// An HTTP request was refused before the upgrade.
    pub fn http_refused(&self, why: HttpRefusal) {
        add(&self.http_refused[why as usize], 1);
    }

    /// Connections the server closed with `code` so far.
    pub fn closed_with(&self, code: u16) -> u64 {
        let closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        closed.get(&code).copied().unwrap_or(0)
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl MetricSource for WireCounters {
    fn collect(&self, out: &mut Rows) {
        out.counter(
            "ticksync_connections_opened",
            "WebSocket connections established.",
            &[],
            load(&self.opened),
        );
        let closed: Vec<(u16, u64)> = self
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        let help = "WebSocket connections ended, by the close code the server sent \
                    (\"none\": no close frame could be sent).";
        for (code, n) in &closed {
            out.counter(
                "ticksync_connections_closed",
                help,
                &[("code", &code.to_string())],
                *n,
            );
        }
        out.counter(
            "ticksync_connections_closed",
            help,
            &[("code", "none")],
            load(&self.closed_without_frame),
        );
        for (i, kind) in CLIENT_KINDS.iter().enumerate() {
            let labels = [("kind", *kind)];
            let help = "Client messages received, by kind.";
            out.counter(
                "ticksync_messages_in",
                help,
                &labels,
                load(&self.in_msgs[i]),
            );
            let help = "Bytes of client messages received, by kind (WebSocket payloads).";
            out.counter("ticksync_bytes_in", help, &labels, load(&self.in_bytes[i]));
        }
        for (i, kind) in SERVER_KINDS.iter().enumerate() {
            let labels = [("kind", *kind)];
            let help = "Server messages written, by kind.";
            out.counter(
                "ticksync_messages_out",
                help,
                &labels,
                load(&self.out_msgs[i]),
            );
            let help = "Bytes of server messages written, by kind (WebSocket payloads).";
            out.counter(
                "ticksync_bytes_out",
                help,
                &labels,
                load(&self.out_bytes[i]),
            );
        }
        for (code, counter) in self.errors.iter().enumerate() {
            let n = load(counter);
            if n > 0 {
                out.counter(
                    "ticksync_rejections",
                    "Error messages sent, by ErrorCode (PROTOCOL.md); code 0: codes over 127.",
                    &[("code", &code.to_string())],
                    n,
                );
            }
        }
        for (i, reason) in HTTP_REFUSALS.iter().enumerate() {
            out.counter(
                "ticksync_http_refusals",
                "HTTP requests refused before a WebSocket upgrade, by reason.",
                &[("reason", reason)],
                load(&self.http_refused[i]),
            );
        }
        out.counter(
            "ticksync_resumes",
            "Sessions resumed with a resume token.",
            &[],
            load(&self.resumes),
        );
        out.counter(
            "ticksync_resumes_refused",
            "Resume tokens refused (unknown, expired or rotated).",
            &[],
            load(&self.resumes_refused),
        );
        out.counter(
            "ticksync_session_takeovers",
            "Connections closed because another connection resumed their session (4002).",
            &[],
            closed
                .iter()
                .find(|(code, _)| *code == crate::protocol::close_code::SESSION_TAKEN_OVER)
                .map_or(0, |(_, n)| *n),
        );
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn error_codes_are_read_from_the_frames_the_server_writes() {
        let codes = [
            ErrorCode::BadMessage,
            ErrorCode::NotYourTurn,
            ErrorCode::RateLimited,
            ErrorCode::TooManyCodeGuesses,
            ErrorCode::TokenMalformed,
            ErrorCode::ShuttingDown,
            ErrorCode::Kicked,
        ];
        for codec in Codec::ALL {
            for code in codes {
                for input_seq in [None, Some(70_000)] {
                    let msg = ServerMsg::Error {
                        code,
                        message: "a reason".repeat(40),
                        input_seq,
                    };
                    let frame = codec.encode(&msg).expect("encodes");
                    assert_eq!(error_code(codec, &frame), Some(code as u16), "{codec:?}");
                }
            }
            let pong = codec
                .encode(&ServerMsg::Pong { nonce: 8 })
                .expect("encodes");
            assert_eq!(error_code(codec, &pong), None);
        }
    }
    use crate::protocol::{ErrorCode, RoomId, RoomJoined, ServerMsg, SessionId};

    fn samples() -> Vec<ServerMsg> {
        let joined = RoomJoined {
            room_id: RoomId::new(1),
            code: "ABCDEF".into(),
            game: "tictactoe".into(),
            seat: Some(0),
            seats: 2,
            bots: Vec::new(),
        };
        vec![
            ServerMsg::Welcome {
                version: 2,
                session_id: SessionId::new(1),
                resume_token: "t".into(),
                resumed: false,
                tick_hz: 30,
            },
            ServerMsg::Pong { nonce: 1 },
            ServerMsg::Queued {
                game: "g".into(),
                position: 1,
                queue_size: 1,
            },
            ServerMsg::MatchFound(joined.clone()),
            ServerMsg::RoomJoined(joined),
            ServerMsg::RoomLeft {
                room_id: RoomId::new(1),
            },
            ServerMsg::Snapshot {
                tick: 1,
                input_seq: 0,
                state: Bytes::from_static(b"\x01"),
            },
            ServerMsg::Event {
                seq: 1,
                tick: 1,
                event: crate::protocol::RoomEvent::GameStarted,
            },
            ServerMsg::Error {
                code: ErrorCode::NotYourTurn,
                message: "no".into(),
                input_seq: None,
            },
            ServerMsg::RoomList { rooms: vec![] },
            ServerMsg::MatchCancelled { game: "g".into() },
            ServerMsg::Delta {
                tick: 2,
                base_tick: 1,
                input_seq: 0,
                delta: Bytes::new(),
            },
            ServerMsg::ServerShutdown {
                retry_after_ms: 5000,
                drain_ms: 10_000,
            },
        ]
    }

    #[test]
    fn every_server_message_kind_is_read_from_its_first_bytes() {
        for codec in Codec::ALL {
            for (index, msg) in samples().iter().enumerate() {
                let frame = crate::transport::ws_frame::server_frame(codec, msg).unwrap();
                assert_eq!(server_kind(codec, &frame), index, "{codec:?} {msg:?}");
            }
            assert_eq!(server_kind(codec, &[]), SERVER_OTHER);
            assert_eq!(server_kind(codec, &[0xff, 0xa1]), SERVER_OTHER);
        }
    }

    #[test]
    fn error_frames_are_counted_by_code() {
        let wire = WireCounters::default();
        for codec in Codec::ALL {
            let frame = codec.encode(&samples()[SERVER_ERROR]).unwrap();
            wire.sent(codec, &frame);
        }
        assert_eq!(load(&wire.errors[ErrorCode::NotYourTurn as usize]), 3);
        assert_eq!(load(&wire.out_msgs[SERVER_ERROR]), 3);
    }
}
