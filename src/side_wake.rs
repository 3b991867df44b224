//! Futures a loop waits on beside its main one, polled only after one of them woke it.
//!
//! A connection's reader waits on its socket and, beside it, on the writer's end, the drain
//! or shutdown, and its idle timer; its writer waits on its outbox and its ping timer; the
//! arena bot on its socket and its input timer. The side futures are seldom ready, but a
//! `select!` polls every branch whenever the main one is pending, which is after every
//! frame: a cancellation future takes its token's lock to look (the drain's token is
//! shared by every connection), a timer looks at its entry again. [`SideWake`] gives the
//! side futures a waker of their own, which records that one of them fired and then wakes
//! the task; the loop polls them only after such a wake, or after it replaced or reset one
//! of them ([`SideWake::touch`]). A side future's wake is never lost: the task's waker is
//! registered before the flag is read, and a wake sets the flag before it wakes the task.
//!
//! The cost per look is one `AtomicWaker` registration (no clone while the task's waker is
//! the same) and one atomic swap, where polling three side futures cost about 400
//! instructions (callgrind, BENCHMARKS.md, issue 13).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// The side futures' waker and whether it fired since the loop last looked.
pub(crate) struct SideWake {
    inner: Arc<Inner>,
    waker: Waker,
}

struct Inner {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl SideWake {
    /// A new one, marked woken: the first look polls every side future, which registers
    /// them.
    pub(crate) fn new() -> SideWake {
        let inner = Arc::new(Inner {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(inner.clone());
        SideWake { inner, waker }
    }

    /// Marks the side futures for a poll at the next look: call it after replacing or
    /// resetting one, which must be polled again to register.
    pub(crate) fn touch(&self) {
        self.inner.woken.store(true, Ordering::Release);
    }

    /// Registers the task's waker (from `cx`) and, if a side future woke the task since the
    /// last look (or [`SideWake::touch`] was called), returns the context to poll them
    /// with; `None` when they need no poll.
    pub(crate) fn look(&self, cx: &Context<'_>) -> Option<Context<'_>> {
        self.inner.task.register(cx.waker());
        self.inner
            .woken
            .swap(false, Ordering::AcqRel)
            .then(|| Context::from_waker(&self.waker))
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::AtomicUsize;
    use std::task::Poll;

    use super::*;

    /// A task's waker that counts its wakes.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn side_futures_are_polled_first_then_only_after_they_woke_the_task_or_were_touched() {
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let task_waker = Waker::from(task.clone());
        let cx = Context::from_waker(&task_waker);
        let side = SideWake::new();
        // A side future that counts its polls and keeps the last waker it was given.
        let polls = AtomicUsize::new(0);
        let kept: std::sync::Mutex<Option<Waker>> = std::sync::Mutex::new(None);
        let mut side_future = pin!(std::future::poll_fn(|cx: &mut Context<'_>| {
            polls.fetch_add(1, Ordering::SeqCst);
            *kept.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        let mut look = |side: &SideWake| {
            if let Some(mut side_cx) = side.look(&cx) {
                assert!(side_future.as_mut().poll(&mut side_cx).is_pending());
            }
        };

        look(&side);
        assert_eq!(polls.load(Ordering::SeqCst), 1, "the first look polls");
        look(&side);
        look(&side);
        assert_eq!(
            polls.load(Ordering::SeqCst),
            1,
            "nothing woke it: not polled"
        );

        // The side future fires: the task is woken, and the next look polls it.
        kept.lock().unwrap().take().unwrap().wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "the task was woken");
        look(&side);
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        look(&side);
        assert_eq!(polls.load(Ordering::SeqCst), 2);

        side.touch();
        look(&side);
        assert_eq!(polls.load(Ordering::SeqCst), 3, "touched: polled again");
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "a touch wakes nothing");
    }

    #[test]
    fn a_wake_before_the_first_registration_is_not_lost() {
        let side = SideWake::new();
        let _ = side.look(&Context::from_waker(Waker::noop()));
        // Fired while the task had no waker registered with a real one yet.
        side.waker.wake_by_ref();
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let task_waker = Waker::from(task.clone());
        assert!(side.look(&Context::from_waker(&task_waker)).is_some());
        assert!(side.look(&Context::from_waker(&task_waker)).is_none());
    }
}
