//! Snapshot costs: encoding the tic-tac-toe view and the per-client `Snapshot` envelope in
//! each codec (time and size), and fanning one encoded view out to K outboxes.
//!
//! Before the criterion groups it prints the encoded sizes.
//!
//! Run: `cargo bench --bench snapshot`.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use ticksync::codec::Codec;
use ticksync::game::tictactoe::TicTacToeView;
use ticksync::outbox::{Outbox, StateFrame};
use ticksync::transport::ws_frame::put_state_prefix;

/// A mid-game view: X O X / . O . / . . X, O to move.
fn view() -> TicTacToeView {
    TicTacToeView {
        board: [1, 2, 1, 0, 2, 0, 0, 0, 1],
        to_move: Some(1),
        turn_deadline: 123_456,
        winner: None,
        over: false,
    }
}

/// Encodes like the shard does: into a reused scratch buffer, split off as shared bytes.
fn encode_shared<T: serde::Serialize>(codec: Codec, value: &T, scratch: &mut BytesMut) -> Bytes {
    scratch.clear();
    codec
        .encode_into(value, scratch)
        .expect("protocol types encode");
    scratch.split().freeze()
}

/// One client's `Snapshot` of `body`, as its writer sees it.
fn state(body: Bytes) -> StateFrame {
    StateFrame {
        tick: 123_400,
        base_tick: None,
        input_seq: 42,
        body,
    }
}

/// The envelope's bytes in front of the shared body, as the writer writes them.
fn prefix(codec: Codec, state: &StateFrame, out: &mut BytesMut) {
    out.clear();
    put_state_prefix(codec, state, out);
}

fn print_sizes() {
    let mut out = BytesMut::new();
    for codec in Codec::ALL {
        let body = codec.encode(&view()).unwrap();
        prefix(codec, &state(body.clone()), &mut out);
        eprintln!(
            "snapshot/size: {codec:?}: view {} bytes, Snapshot envelope with the view {} bytes",
            body.len(),
            out.len() + body.len()
        );
    }
}

/// The view, encoded once per codec per tick by the room. Expected: constant time per
/// encode; bincode smaller and faster than MessagePack (which spells out field names).
fn view_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot/view_encode");
    let view = view();
    for codec in Codec::ALL {
        let size = codec.encode(&view).unwrap().len();
        let mut scratch = BytesMut::with_capacity(64 * 1024);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{codec:?}")), |b| {
            b.iter(|| encode_shared(codec, black_box(&view), &mut scratch));
        });
    }
    group.finish();
}

/// The per-client `Snapshot` envelope (tick, input seq, the length of the shared view
/// bytes), written by each connection's writer in front of the body, which it does not
/// copy (`put_state_prefix`). Expected: constant time, a few nanoseconds.
fn envelope_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot/envelope_encode");
    for codec in Codec::ALL {
        let state = state(codec.encode(&view()).unwrap());
        let mut out = BytesMut::with_capacity(64);
        prefix(codec, &state, &mut out);
        group.throughput(Throughput::Bytes((out.len() + state.body.len()) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("{codec:?}")), |b| {
            b.iter(|| prefix(codec, black_box(&state), &mut out));
        });
    }
    group.finish();
}

/// One encoded view handed to K recipients' outboxes (`Outbox::set_state` with a clone of
/// the shared `Bytes`: a reference count, a lock, a wake). Expected: linear in K, so the
/// recipients-per-second throughput is flat from 10 to 1000.
fn fan_out(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot/fan_out");
    let body = Codec::Bincode.encode(&view()).unwrap();
    for recipients in [1usize, 10, 100, 1000] {
        let outboxes: Vec<_> = (0..recipients)
            .map(|_| Outbox::new(Codec::Bincode, 1024))
            .collect();
        group.throughput(Throughput::Elements(recipients as u64));
        group.bench_function(BenchmarkId::from_parameter(recipients), |b| {
            let mut tick = 0;
            b.iter(|| {
                tick += 1;
                for outbox in &outboxes {
                    outbox.set_state(StateFrame {
                        tick,
                        base_tick: None,
                        input_seq: 7,
                        body: body.clone(),
                    });
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, view_encode, envelope_encode, fan_out);

fn main() {
    print_sizes();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
