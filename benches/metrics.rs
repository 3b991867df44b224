//! The cost the metrics add to each message: counting one received message
//! (`WireCounters::received`: two relaxed atomic adds) and one written frame
//! (`WireCounters::sent`: reading the kind from the frame's first bytes, two relaxed adds),
//! next to what the same message already costs (encoding a `Snapshot` envelope), and the
//! counting again with two threads hammering the same counters (the contended case).
//!
//! Expected: a few nanoseconds per count, flat; well under the envelope encode; contended
//! adds slower than uncontended but still far below a message's other costs.
//!
//! Run: `cargo bench --bench metrics`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use ticksync::codec::Codec;
use ticksync::metrics::{ClientKind, WireCounters};
use ticksync::protocol::ServerMsg;
use ticksync::transport::ws_frame::server_frame;

fn snapshot() -> ServerMsg {
    ServerMsg::Snapshot {
        tick: 123_400,
        input_seq: 42,
        state: Bytes::from_static(&[1, 2, 1, 0, 2, 0, 0, 0, 1, 1, 0, 0, 0]),
    }
}

/// One count per iteration, one thread. Expected: constant, a few ns.
fn per_message(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/per_message");
    group.throughput(Throughput::Elements(1));
    let wire = WireCounters::default();
    group.bench_function("received", |b| {
        b.iter(|| wire.received(black_box(ClientKind::Input), black_box(24)));
    });
    for codec in Codec::ALL {
        let frame = server_frame(codec, &snapshot()).unwrap();
        group.bench_function(format!("sent/{codec:?}"), |b| {
            b.iter(|| wire.sent(codec, black_box(&frame)));
        });
    }
    // The reference: what encoding the same message through serde costs without any
    // metrics (the form serde writes: bincode's, and MessagePack version 1's).
    for codec in [Codec::Bincode, Codec::MsgPackV1] {
        let msg = snapshot();
        group.bench_function(format!("envelope_encode/{codec:?}"), |b| {
            b.iter(|| codec.encode(black_box(&msg)).unwrap());
        });
    }
    group.finish();
}

/// Two threads counting into the same counters at once (every connection on every worker
/// thread shares them). Expected: slower than one thread (the cache line moves between
/// cores), still tens of ns at most.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics/contended");
    group.throughput(Throughput::Elements(1));
    let wire = WireCounters::default();
    let frame = Codec::Bincode.encode(&snapshot()).unwrap();
    group.bench_function("received+sent/2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..iters {
                            wire.received(ClientKind::Input, 24);
                            wire.sent(Codec::Bincode, black_box(&frame));
                        }
                    });
                }
            });
            // Per count pair on one thread: both threads ran `iters` pairs in this time.
            start.elapsed().max(Duration::from_nanos(1))
        });
    });
    group.finish();
}

criterion_group!(benches, per_message, contended);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
