//! [`Runner::run_each`]: `jobs` workers that live for the whole run, fed
//! through a short queue.
//!
//! A task per case cost two cross-thread wake-ups per case on top of the
//! exchange's own (the spawn, and the join that woke the caller's thread,
//! which is not one of the runtime's workers); running `--jobs 1` cases in
//! the caller's task instead cost a wake-up of that thread per exchange.
//! Here a worker takes its next case from the queue without waking anyone,
//! on a runtime thread beside the connection's task, and wakes the caller
//! only when the queue is half empty (one wake-up per `8 × jobs` cases, at
//! most 512, while the run flows), when the reorder window is full, or when
//! the caller has not been woken for [`HAND_ON_AFTER`] (slow cases are
//! reported as they finish). The caller builds cases (from a lazy set,
//! say) into the queue, keeps the reorder window, and hands results on in
//! input order; a queued case waits for room in the window before it starts.

use super::{Retention, Runner, REORDER_WINDOW};
use crate::case::Case;
use crate::result::{CaseResult, Failure, FailureKind, SentRequest, TransportError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::Notify;

/// The longest a finished result waits for the caller, once the run is
/// slower than the queue's batching (a slow target): progress, failures and
/// reports stay current.
const HAND_ON_AFTER: Duration = Duration::from_millis(50);

/// What the caller and the workers share.
struct Shared {
    /// Cases sent and not yet taken by a worker.
    queued: AtomicUsize,
    /// Finished results not yet collected by the caller, with their index
    /// and the bytes they keep.
    done: Mutex<Vec<(usize, CaseResult, usize)>>,
    /// Wakes the caller: results are waiting and the queue is low or the
    /// window is full.
    wake: Notify,
    /// At or below this many queued cases, a worker wakes the caller.
    low: usize,
    /// The oldest case whose result is not handed on yet (the caller's
    /// count).
    next: AtomicUsize,
    /// The bytes that finished results not handed on yet keep
    /// ([`CaseResult::kept_bytes`]): a worker adds its result's, the caller
    /// takes them off as it hands results on.
    waiting_bytes: AtomicUsize,
    /// The window's byte limit ([`Runner::with_window_bytes`]).
    window_bytes: usize,
    /// Wakes the workers holding a case until the window has room.
    room: Notify,
    /// When the run started, and when a worker last woke the caller (ms
    /// since then).
    started: Instant,
    woken_ms: AtomicU64,
}

impl Runner {
    /// [`Runner::run_each`]'s work (`jobs` at least 1).
    pub(super) async fn run_pooled<I>(
        &self,
        cases: I,
        jobs: usize,
        mut on_result: impl FnMut(usize, CaseResult),
    ) where
        I: IntoIterator<Item = Case>,
    {
        // `16 × jobs` queued (at most 1024): a worker finds its next case
        // ready while the caller, woken when half are taken, builds more.
        // Each wake-up of the caller's thread is a context switch, which on
        // a small VM costs as much CPU as a case's checks: with `jobs`
        // queued (woken every `jobs / 2` cases) the harness switched 0.45
        // times a case at `--jobs 8` and 1.5 at `--jobs 1`; with `4 × jobs`
        // (at least 16) 0.15 and 0.7; now 0.06–0.10 at `--jobs 8` (`cargo
        // bench --bench throughput`). A queued case waits for room in the
        // window before it starts (`Shared::wait_for_room`): the queue holds
        // requests not yet sent, never replies.
        let queue = (16 * jobs).min(1024);
        let (tx, rx) = mpsc::channel::<(usize, Case)>(queue);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            done: Mutex::new(Vec::new()),
            wake: Notify::new(),
            low: queue / 2,
            next: AtomicUsize::new(0),
            waiting_bytes: AtomicUsize::new(0),
            window_bytes: self.window_bytes,
            room: Notify::new(),
            started: Instant::now(),
            woken_ms: AtomicU64::new(0),
        });
        // Dropped with this future: the workers are aborted with it.
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..jobs {
            let (runner, rx, shared) = (self.clone(), rx.clone(), shared.clone());
            workers.spawn(async move { runner.work(&rx, &shared).await });
        }
        let mut tx = Some(tx);
        let mut cases = cases.into_iter().enumerate().peekable();
        let mut started = 0usize;
        let mut next = 0usize;
        // Results waiting for a slower case before them, with the bytes
        // they keep. The oldest unfinished case is always started, so a
        // full window (`Shared::full`) only pauses the start of other cases
        // until it is handed on.
        let mut waiting: BTreeMap<usize, (CaseResult, usize)> = BTreeMap::new();
        loop {
            let finished =
                std::mem::take(&mut *shared.done.lock().unwrap_or_else(PoisonError::into_inner));
            for (i, r, bytes) in finished {
                waiting.insert(i, (r, bytes));
            }
            let before = next;
            while let Some((r, bytes)) = waiting.remove(&next) {
                shared.waiting_bytes.fetch_sub(bytes, Ordering::AcqRel);
                on_result(next, r);
                next += 1;
            }
            if next != before {
                // Room, and a new oldest case: workers holding a queued
                // case look again.
                shared.next.store(next, Ordering::Release);
                shared.room.notify_waiters();
            }
            if let Some(sender) = &tx {
                while sender.capacity() > 0 {
                    let Some((i, _)) = cases.peek() else { break };
                    if *i >= next + REORDER_WINDOW || shared.full() {
                        break;
                    }
                    let Some(item) = cases.next() else { break };
                    shared.queued.fetch_add(1, Ordering::AcqRel);
                    started += 1;
                    if let Err(e) = sender.try_send(item) {
                        // Neither full (room was just checked, and only this
                        // task sends) nor closed (this task holds the
                        // receiver): still, a case is never dropped.
                        let (TrySendError::Full((i, case)) | TrySendError::Closed((i, case))) = e;
                        shared.queued.fetch_sub(1, Ordering::AcqRel);
                        waiting.insert(i, (lost(&case), 0));
                        break;
                    }
                }
                if cases.peek().is_none() {
                    // No more cases: the workers stop once the queue is empty.
                    tx = None;
                }
            }
            if tx.is_none() && next == started {
                break;
            }
            if waiting.contains_key(&next) {
                continue;
            }
            // A result left after the look above, by a worker that saw the
            // window as it was before: collect it rather than sleep (the
            // worker woke no one, and others may wait for room behind it).
            if !shared
                .done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
            {
                continue;
            }
            tokio::select! {
                () = shared.wake.notified() => {}
                Some(Err(_)) = workers.join_next(), if !workers.is_empty() => {
                    // A worker died outside a case's own panic guard (its
                    // case was handed on as an error by `InFlight`): one
                    // takes its place, so the queue still drains.
                    let (runner, rx, shared) = (self.clone(), rx.clone(), shared.clone());
                    workers.spawn(async move { runner.work(&rx, &shared).await });
                }
            }
        }
    }

    /// One worker: take the next queued case, run it, leave its result,
    /// wake the caller when the queue runs low; stop when the queue closes.
    async fn work(&self, rx: &tokio::sync::Mutex<mpsc::Receiver<(usize, Case)>>, shared: &Shared) {
        loop {
            let Some((i, case)) = rx.lock().await.recv().await else {
                return;
            };
            shared.queued.fetch_sub(1, Ordering::AcqRel);
            let mut held = InFlight {
                shared,
                i,
                case: Some(case),
            };
            shared.wait_for_room(i).await;
            let case = held.case.as_ref().expect("just set");
            let run = std::panic::AssertUnwindSafe(self.run_case(case));
            let mut r = match CatchUnwind(Box::pin(run)).await {
                Some(r) => r,
                None => lost(case),
            };
            if self.retention == Retention::Failures {
                r.keep_failures_only();
            }
            held.case = None;
            shared.finish(i, r);
        }
    }
}

impl Shared {
    /// Whether the window is full: results waiting behind the oldest
    /// unfinished case keep more than the window's bytes.
    fn full(&self) -> bool {
        self.waiting_bytes.load(Ordering::Acquire) > self.window_bytes
    }

    /// Hold queued case `i` until the window has room, unless it is the
    /// oldest unfinished case, which always starts (its result is what
    /// frees the window). A queued case is a request not yet sent: the
    /// queue is deep to spare the caller wake-ups, not to bypass the window.
    async fn wait_for_room(&self, i: usize) {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            // Registered before the check: no wake-up falls between.
            room.as_mut().enable();
            if i == self.next.load(Ordering::Acquire) || !self.full() {
                return;
            }
            room.await;
        }
    }

    /// Leave case `i`'s result for the caller; wake it if the queue is low,
    /// if it has not been woken for [`HAND_ON_AFTER`], or if the window is
    /// full: workers may be holding cases until the caller hands on what it
    /// can (the oldest unfinished case's result may have been left before
    /// the window filled, waking no one).
    fn finish(&self, i: usize, r: CaseResult) {
        let bytes = r.kept_bytes();
        // Counted before the caller can see it, so never taken off first.
        self.waiting_bytes.fetch_add(bytes, Ordering::AcqRel);
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((i, r, bytes));
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let stale = now.saturating_sub(self.woken_ms.load(Ordering::Relaxed))
            >= HAND_ON_AFTER.as_millis() as u64;
        if self.queued.load(Ordering::Acquire) <= self.low || self.full() || stale {
            self.woken_ms.store(now, Ordering::Relaxed);
            self.wake.notify_one();
        }
    }
}

/// A case a worker holds: if the worker stops before the case's result is
/// left (its task dies, or is aborted), the case is handed on as an error.
struct InFlight<'s> {
    shared: &'s Shared,
    i: usize,
    case: Option<Case>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(case) = self.case.take() {
            self.shared.finish(self.i, lost(&case));
        }
    }
}

/// A future that turns a panic while polling it into `None`, so that a
/// case that panics is handed on as an error and its worker lives on.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future + std::panic::UnwindSafe> std::future::Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let fut = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Some(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(None),
        }
    }
}

/// A result for a case whose task died: counted as an error, never dropped.
fn lost(case: &Case) -> CaseResult {
    CaseResult {
        id: case.id(),
        description: case.description.clone(),
        source: case.source.clone(),
        request: SentRequest::default(),
        response: None,
        failures: vec![Failure {
            kind: FailureKind::Transport(TransportError::Request),
            pointer: None,
            message: "internal error: the case's task did not complete (please report this)".into(),
            expected: None,
            actual: None,
            source: case.source.clone(),
            rule: None,
        }],
        warnings: vec![],
        duration: Duration::ZERO,
        retries: 0,
        skipped: None,
        exchanges: vec![],
        attempts: 0,
    }
}
