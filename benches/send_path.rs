//! The writer's per-client send path: one tick's state for K clients, each set in its
//! outbox (as the shard does), taken by its writer, framed (the client's envelope around
//! the shared body, the WebSocket header) and written to a sink that takes every byte
//! (`tokio::io::sink`: the kernel's `send` is not part of this). Expected: flat per client,
//! so frames per second per core is the same at 10 and 1,000 clients.
//!
//! Before the criterion groups it counts heap allocations on that path over 1,000 ticks of
//! 200 clients, after one warm-up tick, and **fails if there is any**: the guard that steady
//! state allocates nothing per client per tick.
//!
//! Run: `cargo bench --bench send_path` (CI: `cargo bench --bench send_path -- --test`).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use ticksync::codec::Codec;
use ticksync::metrics::WireCounters;
use ticksync::outbox::{Batch, Outbox, StateFrame};
use ticksync::transport::Frames;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One client's writer: its outbox, its batch and its frame buffer.
struct Client {
    outbox: std::sync::Arc<Outbox>,
    batch: Batch,
    frames: Frames,
}

fn clients(k: usize, codec: Codec) -> Vec<Client> {
    (0..k)
        .map(|_| Client {
            outbox: Outbox::new(codec, 64),
            batch: Batch::default(),
            frames: Frames::default(),
        })
        .collect()
}

/// A typical arena delta body (two changed players), shared by every client.
fn body() -> Bytes {
    Bytes::from_static(&[2, 3, 200, 1, 44, 2, 6, 5, 120, 3, 88, 1, 0])
}

/// One tick for every client: set the state, take it, frame it, write it.
fn tick(clients: &mut [Client], codec: Codec, tick: u64, body: &Bytes, wire: &WireCounters) {
    let mut sink = tokio::io::sink();
    for (seat, client) in clients.iter_mut().enumerate() {
        client.outbox.set_state(StateFrame {
            tick,
            base_tick: Some(tick - 2),
            input_seq: tick as u32 + seat as u32,
            body: body.clone(),
        });
        client.outbox.take(&mut client.batch);
        client.frames.batch(&mut client.batch, codec, wire);
        let written = client.frames.write_now(&mut sink);
        debug_assert!(matches!(written, Ok(true)));
    }
}

fn report_allocations() {
    const CLIENTS: usize = 200;
    const TICKS: u64 = 1000;
    let wire = WireCounters::default();
    let body = body();
    for codec in Codec::ALL {
        let mut all = clients(CLIENTS, codec);
        tick(&mut all, codec, 100, &body, &wire);
        let before = counting_alloc::allocations();
        for t in 0..TICKS {
            tick(&mut all, codec, 101 + t, &body, &wire);
        }
        let made = counting_alloc::allocations() - before;
        println!(
            "send_path/allocations/{codec:?}: {made} in {TICKS} ticks of {CLIENTS} clients = {} per client per tick",
            made as f64 / (TICKS as f64 * CLIENTS as f64)
        );
        assert_eq!(made, 0, "the send path allocated in steady state");
    }
}

fn send_path(c: &mut Criterion) {
    let wire = WireCounters::default();
    let body = body();
    let mut group = c.benchmark_group("send_path");
    for codec in Codec::ALL {
        for k in [10usize, 1000] {
            let mut all = clients(k, codec);
            let mut t = 100u64;
            group.throughput(Throughput::Elements(k as u64));
            group.bench_function(BenchmarkId::new(format!("{codec:?}"), k), |b| {
                b.iter(|| {
                    t += 1;
                    tick(&mut all, codec, t, &body, &wire);
                    black_box(&all);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, send_path);

fn main() {
    report_allocations();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
