//! Exhaustive interleaving checks of the shard log core with loom (bounded preemptions).
//!
//! Every scenario of `common` runs on loom's primitives; loom explores every schedule with at
//! most [`PREEMPTIONS`] preemptions and every outcome the C11 memory model allows for the
//! atomics, and flags any access to a cell that is not ordered after its last write. The
//! defective twins of the core must each make at least one scenario fail.

mod common;

use common::{Joiner, Runtime};
use seqcheck::memory::CoreVariant;
use seqcheck::memory::sync::{
    FacadeAtomicBool, FacadeAtomicUsize, FacadeCell, FacadeMutex, SyncFacade,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Preemption bound: enough for every twin below, small enough for two cores.
const PREEMPTIONS: usize = 4;

/// loom's primitives behind the facade.
struct LoomSync;

struct LoomMutex<T>(loom::sync::Mutex<T>);
struct LoomAtomicUsize(loom::sync::atomic::AtomicUsize);
struct LoomAtomicBool(loom::sync::atomic::AtomicBool);
struct LoomCell<T>(loom::cell::UnsafeCell<T>);

impl SyncFacade for LoomSync {
    const NAME: &'static str = "loom";
    const MODEL_CHECKED: bool = true;
    type Mutex<T: Send> = LoomMutex<T>;
    type AtomicUsize = LoomAtomicUsize;
    type AtomicBool = LoomAtomicBool;
    type Cell<T> = LoomCell<T>;
}

impl<T: Send> FacadeMutex<T> for LoomMutex<T> {
    fn new(value: T) -> Self {
        LoomMutex(loom::sync::Mutex::new(value))
    }
    fn with_lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

impl FacadeAtomicUsize for LoomAtomicUsize {
    fn new(value: usize) -> Self {
        LoomAtomicUsize(loom::sync::atomic::AtomicUsize::new(value))
    }
    fn load(&self, order: Ordering) -> usize {
        self.0.load(order)
    }
    fn store(&self, value: usize, order: Ordering) {
        self.0.store(value, order);
    }
}

impl FacadeAtomicBool for LoomAtomicBool {
    fn new(value: bool) -> Self {
        LoomAtomicBool(loom::sync::atomic::AtomicBool::new(value))
    }
    fn load(&self, order: Ordering) -> bool {
        self.0.load(order)
    }
    fn store(&self, value: bool, order: Ordering) {
        self.0.store(value, order);
    }
}

impl<T> FacadeCell<T> for LoomCell<T> {
    fn new(value: T) -> Self {
        LoomCell(loom::cell::UnsafeCell::new(value))
    }
    unsafe fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: forwarded contract; loom checks it on every access.
        self.0.with(|p| f(unsafe { &*p }))
    }
    unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: forwarded contract; loom checks it on every access.
        self.0.with_mut(|p| f(unsafe { &mut *p }))
    }
}

struct Loom;

impl Runtime for Loom {
    type Facade = LoomSync;
    fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Joiner<T> {
        let handle = loom::thread::spawn(f);
        Box::new(move || {
            handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
    fn yield_now() {
        loom::thread::yield_now();
    }
}

/// Runs `scenario` under loom; returns the number of executions explored, or the failure.
fn explore(name: &str, scenario: fn(CoreVariant), variant: CoreVariant) -> Result<usize, String> {
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            scenario(variant);
        })
    }));
    let n = executions.load(Ordering::Relaxed);
    match outcome {
        Ok(()) => {
            println!("loom {name} [{variant:?}]: {n} executions explored, all properties held");
            Ok(n)
        }
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "non-string panic".to_owned());
            println!("loom {name} [{variant:?}]: failed after {n} executions: {why}");
            Err(why)
        }
    }
}

/// Fewest executions a scenario must explore: fewer means it lost its concurrency.
const MIN_EXECUTIONS: usize = 50;

fn holds(name: &str, scenario: fn(CoreVariant)) {
    match explore(name, scenario, CoreVariant::Correct) {
        Ok(n) => assert!(n >= MIN_EXECUTIONS, "{name} explored only {n} executions"),
        Err(why) => panic!("loom found a violation in {name}: {why}"),
    }
}

fn caught(name: &str, scenario: fn(CoreVariant), twin: CoreVariant) {
    if let Ok(n) = explore(name, scenario, twin) {
        panic!("loom explored {n} executions of {name} and missed the defect {twin:?}");
    }
}

#[test]
fn one_shard_two_writers_and_a_reader() {
    holds("one_shard", common::one_shard::<Loom>);
}

#[test]
fn two_shards_with_a_reader() {
    holds("two_shards", common::two_shards::<Loom>);
}

#[test]
fn ordering_number_chain() {
    holds("ordering_chain", common::ordering_chain::<Loom>);
}

#[test]
fn split_racing_an_append() {
    holds("split_races_append", common::split_races_append::<Loom>);
}

#[test]
fn twin_split_counter_update_is_caught() {
    caught(
        "one_shard",
        common::one_shard::<Loom>,
        CoreVariant::SplitCounterUpdate,
    );
}

#[test]
fn twin_publish_before_write_is_caught() {
    caught(
        "one_shard",
        common::one_shard::<Loom>,
        CoreVariant::PublishBeforeWrite,
    );
}

#[test]
fn twin_relaxed_publication_is_caught() {
    caught(
        "one_shard",
        common::one_shard::<Loom>,
        CoreVariant::RelaxedPublication,
    );
}

#[test]
fn twin_closed_checked_outside_lock_is_caught() {
    caught(
        "split_races_append",
        common::split_races_append::<Loom>,
        CoreVariant::ClosedCheckedOutsideLock,
    );
}
