//! Unit tests of `writer` (kept apart so that the module stays short).

use super::*;
use crate::protocol::ServerMsg;
use std::io::Cursor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocket};

/// A sink that takes at most `chunk` bytes per write, to exercise partial writes, and
/// `left` bytes in all, then waits (a socket whose buffer is full).
struct Trickle {
    written: Vec<u8>,
    chunk: usize,
    vectored: bool,
    left: usize,
}

impl Trickle {
    fn new(chunk: usize, vectored: bool) -> Trickle {
        Trickle {
            written: Vec::new(),
            chunk,
            vectored,
            left: usize::MAX,
        }
    }

    /// Takes what one write may of `bufs`, in order; `Pending` when it may take nothing.
    fn take(&mut self, bufs: &[&[u8]]) -> Poll<io::Result<usize>> {
        let mut may = self.chunk.min(self.left);
        if may == 0 {
            return Poll::Pending;
        }
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(may);
            self.written.extend_from_slice(&buf[..take]);
            may -= take;
            n += take;
        }
        self.left -= n;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.take(&[buf])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs: Vec<&[u8]> = bufs.iter().map(|buf| &buf[..]).collect();
        self.take(&bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn batches_read_back_in_order_through_tungstenite_with_partial_writes() {
    let wire = WireCounters::default();
    for codec in Codec::ALL {
        for (chunk, vectored) in [(1, false), (7, true), (100_000, true), (3, true)] {
            let big = Bytes::from(vec![7u8; 3 * VECTOR_MIN]);
            let state = StateFrame {
                tick: 42,
                base_tick: Some(40),
                input_seq: 9,
                body: big.clone(),
            };
            let mut batch = Batch {
                events: vec![
                    Bytes::from_static(b"first"),
                    big.clone(),
                    Bytes::from_static(b"last"),
                ],
                state: Some(state.clone()),
                state_position: 2,
                close: None,
                control: Bytes::new(),
            };
            let mut frames = Frames::default();
            frames.ping();
            frames.batch(&mut batch, codec, &wire);
            frames.close(1000, "bye");
            let mut sink = Trickle::new(chunk, vectored);
            let waker = futures_util::task::noop_waker();
            let mut cx = TaskContext::from_waker(&waker);
            match frames.poll_write_all(Pin::new(&mut sink), &mut cx) {
                Poll::Ready(Ok(())) => {}
                other => panic!("write did not finish: {other:?}"),
            }
            assert!(frames.is_empty());
            let mut ws = WebSocket::from_raw_socket(Cursor::new(sink.written), Role::Client, None);
            let mut read = Vec::new();
            while let Ok(message) = ws.read() {
                read.push(message);
            }
            let delta = ServerMsg::Delta {
                tick: 42,
                base_tick: 40,
                input_seq: 9,
                delta: big.clone(),
            };
            assert_eq!(read.len(), 6, "{codec:?} chunk {chunk}");
            assert_eq!(read[0], Message::Ping(Bytes::new()));
            assert_eq!(read[1], Message::Binary(Bytes::from_static(b"first")));
            assert_eq!(read[2], Message::Binary(big.clone()));
            let Message::Binary(state) = &read[3] else {
                panic!("{:?}", read[3]);
            };
            assert_eq!(codec.decode_server(state).unwrap(), delta);
            assert_eq!(read[4], Message::Binary(Bytes::from_static(b"last")));
            assert!(matches!(&read[5], Message::Close(Some(f)) if f.reason.as_str() == "bye"));
        }
    }
}

#[test]
fn a_frame_buffer_grown_for_a_burst_is_given_back() {
    let mut frames = Frames::default();
    let mut sink = Trickle::new(usize::MAX, true);
    let waker = futures_util::task::noop_waker();
    let mut cx = TaskContext::from_waker(&waker);
    // A room's start: a dozen events of a hundred bytes.
    for _ in 0..12 {
        frames.binary(Bytes::from_static(&[7; 100]));
    }
    assert!(
        frames
            .poll_write_all(Pin::new(&mut sink), &mut cx)
            .is_ready()
    );
    frames.release_if_large();
    assert_eq!(sink.written.len(), 12 * 102);
    assert_eq!(frames.small.capacity(), 0, "a burst's buffer");
    // Smaller: kept until the ping.
    for _ in 0..3 {
        frames.binary(Bytes::from_static(&[7; 100]));
    }
    assert!(
        frames
            .poll_write_all(Pin::new(&mut sink), &mut cx)
            .is_ready()
    );
    frames.release_if_large();
    assert!(frames.small.capacity() > 0, "kept between batches");
    frames.release_buffers();
    assert_eq!(frames.small.capacity(), 0);
    assert_eq!(frames.parts.capacity(), 0);
    // The ping after it: one small buffer again.
    frames.ping();
    assert!((1..=FRAME_BUFFER).contains(&frames.small.capacity()));
    // Nothing written yet is never dropped.
    frames.release_buffers();
    assert!(!frames.is_empty());
}

#[test]
fn the_frame_buffer_is_reused_once_written() {
    let wire = WireCounters::default();
    let mut frames = Frames::default();
    let mut sink = Trickle::new(usize::MAX, true);
    let waker = futures_util::task::noop_waker();
    let mut cx = TaskContext::from_waker(&waker);
    let state = StateFrame {
        tick: 1,
        base_tick: None,
        input_seq: 0,
        body: Bytes::from_static(&[1; 12]),
    };
    let mut base = None;
    for tick in 0..1000 {
        frames.state(
            Codec::Bincode,
            &StateFrame {
                tick,
                ..state.clone()
            },
            &wire,
        );
        assert!(
            frames.parts.is_empty(),
            "small frames are written from `small`"
        );
        let at = frames.small.as_ptr() as usize;
        // Every frame lands in the one allocation made for the first.
        let base = *base.get_or_insert(at);
        assert!(
            (base..base + FRAME_BUFFER).contains(&at),
            "tick {tick}: a new allocation"
        );
        assert!(
            frames
                .poll_write_all(Pin::new(&mut sink), &mut cx)
                .is_ready()
        );
        frames.release_if_large();
    }
}

#[test]
fn a_large_frame_buffer_left_half_written_keeps_its_frames() {
    let mut frames = Frames::default();
    for i in 0..12u8 {
        frames.binary(Bytes::from(vec![i; 100]));
    }
    let mut sink = Trickle {
        left: 300,
        ..Trickle::new(usize::MAX, false)
    };
    // The socket takes 300 bytes, then waits: the rest stays, and is written later.
    assert!(!frames.write_now(&mut sink).unwrap());
    assert!(!frames.is_empty());
    sink.left = usize::MAX;
    assert!(frames.write_now(&mut sink).unwrap());
    assert!(frames.is_empty());
    let mut ws = WebSocket::from_raw_socket(Cursor::new(sink.written), Role::Client, None);
    for i in 0..12u8 {
        assert_eq!(
            ws.read().unwrap(),
            Message::Binary(Bytes::from(vec![i; 100]))
        );
    }
}
