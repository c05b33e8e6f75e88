//! What every thread of a run shares: the bounds (deadline, call budget), the stop signal,
//! the tallies the summary reports, and the first fatal error.

use super::{DriverError, Progress, StopReason};
use crate::history::{EventType, Op};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The shared state of one run. Threads borrow it for the run's scope.
pub(crate) struct Control<'p> {
    max_ops: u64,
    started: Instant,
    deadline: Instant,
    ops: AtomicU64,
    stop: AtomicBool,
    reason: Mutex<Option<StopReason>>,
    failure: Mutex<Option<DriverError>>,
    counts: Mutex<HashMap<(Op, EventType), u64>>,
    faults: AtomicU64,
    acknowledged: AtomicU64,
    progress: &'p dyn Progress,
}

impl<'p> Control<'p> {
    /// A run allowed `max_ops` calls within `duration`.
    pub(crate) fn new(max_ops: u64, duration: Duration, progress: &'p dyn Progress) -> Self {
        let started = Instant::now();
        Control {
            max_ops,
            started,
            deadline: started + duration,
            ops: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            reason: Mutex::new(None),
            failure: Mutex::new(None),
            counts: Mutex::new(HashMap::new()),
            faults: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            progress,
        }
    }

    /// True once the workload must stop: a bound was reached, or the run failed.
    pub(crate) fn stopped(&self) -> bool {
        if self.stop.load(Ordering::Acquire) {
            return true;
        }
        if Instant::now() >= self.deadline {
            self.halt(StopReason::Duration);
            return true;
        }
        false
    }

    /// Stops the workload for `reason` (the first reason given is kept).
    pub(crate) fn halt(&self, reason: StopReason) {
        let mut r = self.reason.lock();
        if r.is_none() {
            *r = Some(reason);
        }
        self.stop.store(true, Ordering::Release);
    }

    /// Why the workload stopped, once it has.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        *self.reason.lock()
    }

    /// Takes one call from the budget: false (and the run stops) once it is spent, the
    /// deadline has passed or the run was stopped.
    pub(crate) fn take_op(&self) -> bool {
        if self.stopped() {
            return false;
        }
        let n = self.ops.fetch_add(1, Ordering::AcqRel);
        if n >= self.max_ops {
            self.ops.fetch_sub(1, Ordering::AcqRel);
            self.halt(StopReason::MaxOps);
            return false;
        }
        self.progress.ops(n + 1, self.max_ops);
        true
    }

    /// Counts a call outside the budget (healing, the final read).
    pub(crate) fn count_unbudgeted(&self) {
        self.ops.fetch_add(1, Ordering::AcqRel);
    }

    /// Calls made so far.
    pub(crate) fn ops(&self) -> u64 {
        self.ops.load(Ordering::Acquire)
    }

    /// Tallies one recorded event.
    pub(crate) fn count(&self, f: Op, kind: EventType) {
        *self.counts.lock().entry((f, kind)).or_insert(0) += 1;
    }

    /// The tallies so far.
    pub(crate) fn counts(&self) -> HashMap<(Op, EventType), u64> {
        self.counts.lock().clone()
    }

    /// Counts an injected fault and shows it.
    pub(crate) fn fault(&self, description: &str) {
        let n = self.faults.fetch_add(1, Ordering::AcqRel) + 1;
        self.progress.fault(n, description);
    }

    /// Counts `n` acknowledged records.
    pub(crate) fn acknowledged(&self, n: u64) {
        self.acknowledged.fetch_add(n, Ordering::AcqRel);
    }

    /// Records acknowledged so far.
    pub(crate) fn acknowledged_total(&self) -> u64 {
        self.acknowledged.load(Ordering::Acquire)
    }

    /// Keeps the first fatal error and stops the run.
    pub(crate) fn fail(&self, error: DriverError) {
        {
            let mut f = self.failure.lock();
            if f.is_none() {
                *f = Some(error);
            }
        }
        self.halt(StopReason::Failed);
    }

    /// The first fatal error, if any (taken out).
    pub(crate) fn take_failure(&self) -> Option<DriverError> {
        self.failure.lock().take()
    }

    /// Time since the run started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Sleeps `d`, waking early (and returning false) when the run stops.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
        }
    }
}
