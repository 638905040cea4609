//! [`Runner::run_each`]: `jobs` workers that live for the whole run, fed
//! through a short queue.
//!
//! A task per case cost two cross-thread wake-ups per case on top of the
//! exchange's own (the spawn, and the join that woke the caller's thread,
//! which is not one of the runtime's workers); running `--jobs 1` cases in
//! the caller's task instead cost a wake-up of that thread per exchange.
//! Here a worker takes its next case from the queue without waking anyone,
//! on a runtime thread beside the connection's task, and wakes the caller
//! only when the queue is half empty: one wake-up per `2 × jobs` cases
//! (at least 8) while the run flows. The caller builds cases (from a lazy set, say) into the
//! queue, keeps the reorder window, and hands results on in input order.

use super::{Retention, Runner, REORDER_WINDOW};
use crate::case::Case;
use crate::result::{CaseResult, Failure, FailureKind, SentRequest, TransportError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::Notify;

/// What the caller and the workers share.
struct Shared {
    /// Cases sent and not yet taken by a worker.
    queued: AtomicUsize,
    /// Finished results not yet collected by the caller, with their index.
    done: Mutex<Vec<(usize, CaseResult)>>,
    /// Wakes the caller: results are waiting and the queue is low.
    wake: Notify,
    /// At or below this many queued cases, a worker wakes the caller.
    low: usize,
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
        // `4 × jobs` queued (at least 16): a worker finds its next case
        // ready while the caller, woken when half are taken, builds more.
        // Each wake-up of the caller's thread is a context switch, which on
        // a small VM costs as much CPU as a case's checks: with `jobs`
        // queued (woken every `jobs / 2` cases) the harness switched 0.45
        // times a case at `--jobs 8` and 1.5 at `--jobs 1`, against 0.15 and
        // 0.7 now (`cargo bench --bench throughput`). Queued cases start
        // whatever the window says by then, so beyond the window there are
        // at most `jobs` cases in flight and `queue` queued (requests not
        // yet sent: no reply is kept for them).
        let queue = (4 * jobs).max(16);
        let (tx, rx) = mpsc::channel::<(usize, Case)>(queue);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            done: Mutex::new(Vec::new()),
            wake: Notify::new(),
            low: queue / 2,
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
        let mut waiting: BTreeMap<usize, (CaseResult, usize)> = BTreeMap::new();
        // What the waiting results keep, in bytes. The oldest unfinished
        // case is always started, so a full window only pauses the start
        // of new cases until it is handed on.
        let mut waiting_bytes = 0usize;
        loop {
            let finished =
                std::mem::take(&mut *shared.done.lock().unwrap_or_else(PoisonError::into_inner));
            for (i, r) in finished {
                let bytes = r.kept_bytes();
                waiting_bytes += bytes;
                waiting.insert(i, (r, bytes));
            }
            while let Some((r, bytes)) = waiting.remove(&next) {
                waiting_bytes -= bytes;
                on_result(next, r);
                next += 1;
            }
            if let Some(sender) = &tx {
                while sender.capacity() > 0 {
                    let Some((i, _)) = cases.peek() else { break };
                    if *i >= next + REORDER_WINDOW || waiting_bytes > self.window_bytes {
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
    /// Leave case `i`'s result for the caller; wake it if the queue is low.
    fn finish(&self, i: usize, r: CaseResult) {
        self.done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((i, r));
        if self.queued.load(Ordering::Acquire) <= self.low {
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
