//! Unit tests of `outbox` (kept apart so that the module stays short).

use super::*;

fn frame(tick: Tick) -> StateFrame {
    StateFrame {
        tick,
        base_tick: None,
        input_seq: 0,
        body: Bytes::new(),
    }
}

#[test]
fn state_is_latest_wins() {
    let outbox = Outbox::new(Codec::Bincode, 4);
    assert!(!outbox.set_state(frame(1)), "nothing pending to supersede");
    assert!(outbox.set_state(frame(2)), "tick 1's state was never taken");
    let mut batch = Batch::default();
    assert!(outbox.take(&mut batch));
    assert_eq!(batch.state.map(|s| s.tick), Some(2));
    assert!(!outbox.take(&mut Batch::default()));
    assert!(!outbox.set_state(frame(3)), "tick 2's state was taken");
    // The newest tick ever put here, whoever put it: a lower one does not lower it.
    outbox.set_state(frame(1));
    assert_eq!(outbox.newest_state_tick(), 3);
}

#[test]
fn an_empty_queues_memory_is_given_back_and_a_waiting_frame_kept() {
    let outbox = Outbox::new(Codec::Bincode, 64);
    let mut batch = Batch::default();
    // A room's start: ten events at once.
    for _ in 0..10 {
        outbox.push_event(Bytes::from_static(b"e"));
    }
    outbox.take(&mut batch);
    assert_eq!(batch.events.len(), 10);
    assert_eq!(outbox.lock().events.capacity(), 0, "a burst's queue");
    // A game's start, under the limit: its queue is kept for the next one.
    for _ in 0..6 {
        outbox.push_event(Bytes::from_static(b"e"));
    }
    outbox.take(&mut batch);
    assert!(outbox.lock().events.capacity() >= 6);
    outbox.release_buffers();
    assert_eq!(outbox.lock().events.capacity(), 0, "released at the ping");
    // A frame that waits is not lost, and its queue is kept.
    outbox.push_event(Bytes::from_static(b"f"));
    outbox.release_buffers();
    outbox.take(&mut batch);
    assert_eq!(batch.events, vec![Bytes::from_static(b"f")]);
}

#[test]
fn events_keep_order_and_overflow_closes() {
    let outbox = Outbox::new(Codec::Bincode, 2);
    assert!(outbox.push_event(Bytes::from_static(b"a")));
    assert!(outbox.push_event(Bytes::from_static(b"b")));
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    assert_eq!(
        batch.events,
        vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]
    );
    assert!(outbox.push_event(Bytes::from_static(b"c")));
    assert!(outbox.push_event(Bytes::from_static(b"d")));
    assert!(!outbox.push_event(Bytes::from_static(b"e")));
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    assert!(batch.events.is_empty());
    assert_eq!(batch.close.map(|c| c.code), Some(close_code::TOO_SLOW));
}

#[test]
fn replayed_frames_do_not_count_towards_the_capacity() {
    let outbox = Outbox::new(Codec::Bincode, 2);
    for _ in 0..10 {
        assert!(outbox.push_replayed(Bytes::from_static(b"r")));
    }
    // The whole capacity is still there for live events, and no more.
    assert!(outbox.push_event(Bytes::from_static(b"a")));
    assert!(outbox.push_event(Bytes::from_static(b"b")));
    assert!(!outbox.push_event(Bytes::from_static(b"c")));
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    assert_eq!(batch.close.map(|c| c.code), Some(close_code::TOO_SLOW));

    // Taking a batch forgets the replayed frames it took.
    let outbox = Outbox::new(Codec::Bincode, 2);
    outbox.push_replayed(Bytes::from_static(b"r"));
    outbox.take(&mut batch);
    assert_eq!(batch.events.len(), 1);
    assert!(outbox.push_event(Bytes::from_static(b"a")));
    assert!(outbox.push_event(Bytes::from_static(b"b")));
    assert!(
        !outbox.push_event(Bytes::from_static(b"c")),
        "capacity 2, live"
    );
}

/// Counts a writer's wake-ups.
struct Count(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether the writer was woken since the last look, then registered again, as a writer
/// registers at every poll.
fn woken(outbox: &Outbox, count: &Arc<Count>) -> bool {
    let wakes = count.0.swap(0, std::sync::atomic::Ordering::SeqCst);
    outbox
        .wake
        .writer
        .register(&std::task::Waker::from(count.clone()));
    wakes > 0
}

fn writer_count() -> Arc<Count> {
    Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)))
}

#[test]
fn deferred_wakes_fire_once_after_the_batch() {
    let outbox = Outbox::new(Codec::Bincode, 8);
    let count = writer_count();
    assert!(!woken(&outbox, &count), "registered");
    with_deferred_wakes(|| {
        outbox.push_event(Bytes::from_static(b"a"));
        outbox.set_state(frame(1));
        assert!(!woken(&outbox, &count), "no wake-up inside the batch");
    });
    assert!(woken(&outbox, &count));
    assert!(!woken(&outbox, &count), "exactly one wake-up");
    // Outside a batch, pushes wake at once.
    outbox.push_event(Bytes::from_static(b"b"));
    assert!(woken(&outbox, &count));
}

#[test]
fn unhurried_events_wait_for_the_next_write_or_a_hurry() {
    let count = writer_count();
    let outbox = Outbox::new(Codec::Bincode, 2);
    assert!(!woken(&outbox, &count), "registered");
    let woken = |outbox: &Outbox| woken(outbox, &count);
    assert!(outbox.push_unhurried(Bytes::from_static(b"u")));
    assert!(
        !woken(&outbox),
        "an unhurried push does not wake the writer"
    );
    // The next frame that wakes the writer takes it along, in order.
    outbox.set_state(frame(1));
    assert!(woken(&outbox));
    let mut batch = Batch::default();
    outbox.take(&mut batch);
    assert_eq!(batch.events, vec![Bytes::from_static(b"u")]);
    assert_eq!(batch.state_position, 1, "the event came before the state");
    assert!(!outbox.hurry(), "nothing left to hurry");
    assert!(!woken(&outbox));

    // Nothing else to write: a hurry wakes the writer, once.
    assert!(outbox.push_unhurried(Bytes::from_static(b"v")));
    assert!(outbox.hurry());
    assert!(woken(&outbox));
    assert!(!outbox.hurry());

    // Unhurried events count towards the capacity like the rest.
    let outbox = Outbox::new(Codec::Bincode, 1);
    assert!(outbox.push_unhurried(Bytes::from_static(b"a")));
    assert!(!outbox.push_unhurried(Bytes::from_static(b"b")));
    assert!(outbox.is_closed());
}

#[tokio::test]
async fn next_batch_wakes_on_push() {
    let outbox = Outbox::new(Codec::MsgPack, 4);
    let waiter = {
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let mut batch = Batch::default();
            outbox.next_batch(&mut batch).await;
            batch.events.len()
        })
    };
    outbox.push_event(Bytes::from_static(b"x"));
    assert_eq!(waiter.await.unwrap(), 1);
}
