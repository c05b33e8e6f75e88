//! Randomized scheduling checks of the shard log core with shuttle (PCT scheduler).
//!
//! Shuttle runs far more threads and operations than loom can explore exhaustively: here 8
//! writers of 50 puts each race a split of their shard and a retention trim. It schedules
//! threads at every synchronization point but treats atomics as sequentially consistent, so it
//! cannot see a missing `Release`/`Acquire` (the loom checks cover that). A failing schedule is
//! written to a file and printed, and replays with `shuttle::replay_from_file`.

mod common;

use common::{Joiner, Runtime};
use seqcheck::memory::CoreVariant;
use seqcheck::memory::sync::{
    FacadeAtomicBool, FacadeAtomicUsize, FacadeCell, FacadeMutex, StdCell, SyncFacade,
};
use shuttle::scheduler::PctScheduler;
use shuttle::{Config, FailurePersistence, Runner};
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Writers in the big scenario.
const WRITERS: usize = 8;
/// Puts per writer in the big scenario.
const OPS: usize = 50;
/// PCT bug depth.
const DEPTH: usize = 3;

/// shuttle's primitives behind the facade.
struct ShuttleSync;

struct ShuttleMutex<T>(shuttle::sync::Mutex<T>);
struct ShuttleAtomicUsize(shuttle::sync::atomic::AtomicUsize);
struct ShuttleAtomicBool(shuttle::sync::atomic::AtomicBool);

impl SyncFacade for ShuttleSync {
    const NAME: &'static str = "shuttle";
    const MODEL_CHECKED: bool = true;
    type Mutex<T: Send> = ShuttleMutex<T>;
    type AtomicUsize = ShuttleAtomicUsize;
    type AtomicBool = ShuttleAtomicBool;
    type Cell<T> = ShuttleCell<T>;
}

/// Shuttle runs one thread at a time, so a plain cell never overlaps in real time; a write is
/// made a scheduling point so a reader can run between a publication and a late write.
struct ShuttleCell<T>(StdCell<T>);

impl<T> FacadeCell<T> for ShuttleCell<T> {
    fn new(value: T) -> Self {
        ShuttleCell(StdCell::new(value))
    }
    unsafe fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: forwarded contract.
        unsafe { self.0.with(f) }
    }
    unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        shuttle::thread::yield_now();
        // SAFETY: forwarded contract.
        unsafe { self.0.with_mut(f) }
    }
}

impl<T: Send> FacadeMutex<T> for ShuttleMutex<T> {
    fn new(value: T) -> Self {
        ShuttleMutex(shuttle::sync::Mutex::new(value))
    }
    fn with_lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

impl FacadeAtomicUsize for ShuttleAtomicUsize {
    fn new(value: usize) -> Self {
        ShuttleAtomicUsize(shuttle::sync::atomic::AtomicUsize::new(value))
    }
    fn load(&self, order: Ordering) -> usize {
        self.0.load(order)
    }
    fn store(&self, value: usize, order: Ordering) {
        self.0.store(value, order);
    }
}

impl FacadeAtomicBool for ShuttleAtomicBool {
    fn new(value: bool) -> Self {
        ShuttleAtomicBool(shuttle::sync::atomic::AtomicBool::new(value))
    }
    fn load(&self, order: Ordering) -> bool {
        self.0.load(order)
    }
    fn store(&self, value: bool, order: Ordering) {
        self.0.store(value, order);
    }
}

struct Shuttle;

impl Runtime for Shuttle {
    type Facade = ShuttleSync;
    fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Joiner<T> {
        let handle = shuttle::thread::spawn(f);
        Box::new(move || {
            handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
    fn yield_now() {
        shuttle::thread::yield_now();
    }
}

/// Where failing schedules are written. Shuttle's panic hook keeps the configuration of the
/// first run in the process, so every run shares one directory and runs are serialised.
fn schedule_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shuttle-schedules");
    std::fs::create_dir_all(&dir).expect("the schedule directory can be created");
    dir
}

/// Serialises shuttle runs so a saved schedule belongs to the run that just failed.
static RUNS: Mutex<()> = Mutex::new(());

fn saved_schedules(dir: &PathBuf) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// The result of one randomized run.
enum Outcome {
    /// Every iteration passed.
    Passed { iterations: usize },
    /// An iteration failed; its schedule was saved to `schedule`.
    Failed {
        iterations: usize,
        schedule: PathBuf,
    },
}

/// The seed of every PCT run (schedules are reproducible, not drawn from OS randomness).
const PCT_SEED: u64 = 0x5eec_5b0e;

/// Runs `body` for `iterations` PCT schedules; a failure's schedule is saved for replay.
fn run_pct(name: &str, iterations: usize, body: impl Fn() + Send + Sync + 'static) -> Outcome {
    let _serial = RUNS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = schedule_dir();
    let before = saved_schedules(&dir);
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let mut config = Config::new();
    config.failure_persistence = FailurePersistence::File(Some(dir.clone()));
    config.silence_warnings = true;
    // A fixed seed: the same schedules in every run, so a twin caught once is caught always
    // and a pass means the same thing each time.
    let runner = Runner::new(
        PctScheduler::new_from_seed(PCT_SEED, DEPTH, iterations),
        config,
    );
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runner.run(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            body();
        })
    }));
    let iterations = runs.load(Ordering::Relaxed);
    match outcome {
        Ok(_) => Outcome::Passed { iterations },
        Err(_) => {
            let schedule = saved_schedules(&dir)
                .difference(&before)
                .next()
                .cloned()
                .unwrap_or_else(|| panic!("shuttle saved no schedule for the failure of {name}"));
            Outcome::Failed {
                iterations,
                schedule,
            }
        }
    }
}

fn holds(name: &str, iterations: usize, body: impl Fn() + Send + Sync + 'static) {
    match run_pct(name, iterations, body) {
        Outcome::Passed { iterations } => {
            println!("shuttle {name}: {iterations} PCT iterations, all properties held");
        }
        Outcome::Failed {
            iterations,
            schedule,
        } => panic!(
            "shuttle {name} failed at iteration {iterations}; replay with shuttle::replay_from_file({})",
            schedule.display()
        ),
    }
}

/// Asserts that shuttle catches `twin` in `scenario` and that the saved schedule replays it.
fn caught(name: &str, iterations: usize, scenario: fn(CoreVariant), twin: CoreVariant) {
    match run_pct(name, iterations, move || scenario(twin)) {
        Outcome::Passed { iterations } => {
            panic!("shuttle ran {iterations} iterations of {name} and missed the defect {twin:?}")
        }
        Outcome::Failed {
            iterations,
            schedule,
        } => {
            let _serial = RUNS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let text = std::fs::read_to_string(&schedule).unwrap_or_default();
            println!(
                "shuttle {name} [{twin:?}]: caught at iteration {iterations}; replay with \
                 shuttle::replay(f, {:?}) or shuttle::replay_from_file(f, {:?})",
                text.trim(),
                schedule.display()
            );
            let replayed = catch_unwind(AssertUnwindSafe(|| {
                shuttle::replay_from_file(move || scenario(twin), &schedule);
            }));
            assert!(
                replayed.is_err(),
                "the saved schedule of {name} did not reproduce the failure"
            );
        }
    }
}

#[test]
fn many_writers_race_a_split_and_a_trim() {
    holds("many_writers", 500, || {
        common::many_writers_split_and_trim::<Shuttle>(CoreVariant::Correct, WRITERS, OPS)
    });
}

#[test]
fn small_scenarios_hold() {
    holds("one_shard", 500, || {
        common::one_shard::<Shuttle>(CoreVariant::Correct)
    });
    holds("ordering_chain", 500, || {
        common::ordering_chain::<Shuttle>(CoreVariant::Correct)
    });
    holds("split_races_append", 500, || {
        common::split_races_append::<Shuttle>(CoreVariant::Correct)
    });
}

fn small_many_writers(variant: CoreVariant) {
    common::many_writers_split_and_trim::<Shuttle>(variant, 4, 6);
}

#[test]
fn twin_split_counter_update_is_caught() {
    caught(
        "twin_split_counter",
        200,
        small_many_writers,
        CoreVariant::SplitCounterUpdate,
    );
}

#[test]
fn twin_publish_before_write_is_caught() {
    caught(
        "twin_publish_before_write",
        500,
        common::one_shard::<Shuttle>,
        CoreVariant::PublishBeforeWrite,
    );
}

#[test]
fn twin_closed_checked_outside_lock_is_caught() {
    caught(
        "twin_closed_outside_lock",
        500,
        common::split_races_append::<Shuttle>,
        CoreVariant::ClosedCheckedOutsideLock,
    );
}

/// Shuttle's atomics are sequentially consistent: the Relaxed twin is invisible to it (loom
/// catches it). This asserts the blind spot, so a change in either layer is noticed.
#[test]
fn twin_relaxed_publication_escapes_shuttle() {
    match run_pct("twin_relaxed", 300, || {
        common::one_shard::<Shuttle>(CoreVariant::RelaxedPublication)
    }) {
        Outcome::Passed { iterations } => {
            println!(
                "shuttle one_shard [RelaxedPublication]: {iterations} iterations passed, as expected"
            );
        }
        Outcome::Failed { schedule, .. } => {
            panic!(
                "shuttle unexpectedly caught the Relaxed twin ({}): update the layer table",
                schedule.display()
            )
        }
    }
}
