//! The concurrent workload runner: producers, KCL-like consumers, a resharder and a nemesis
//! drive one stream service at once, and every call, outcome, consumer step and fault goes
//! into a history (`docs/history.md`) for the checker.
//!
//! ```no_run
//! use seqcheck::driver::{self, DriverConfig, NoProgress, Target};
//! use seqcheck::history::HistoryWriter;
//! use std::sync::Arc;
//!
//! let config = DriverConfig::new("orders", "/tmp/run".into());
//! let history = HistoryWriter::create("/tmp/run/history.jsonl".as_ref(), None)?;
//! let target = Target::direct(Arc::new(seqcheck::MemoryStream::default()));
//! let summary = driver::run(&config, &target, &history, &NoProgress)?;
//! println!("{summary}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A run:
//! 1. creates the stream (process `setup`) and polls until it is `ACTIVE`;
//! 2. runs `producers` producer threads, `consumers` consumer threads, the resharder (when
//!    `reshard`) and the nemesis (when it has something to act on) until `duration` passes or
//!    `max_ops` calls were made;
//! 3. heals every fault and lets every thread finish;
//! 4. reads every shard to its end (process `final-read`), outside the call budget.
//!
//! Same seed, same choices: every thread draws from its own generator forked from `seed`
//! (thread timing still decides the interleaving).

mod backoff;
pub mod checkpoints;
mod commands;
mod consumer;
mod control;
mod final_read;
#[cfg(feature = "http")]
mod harness;
pub mod leases;
mod lifecycle;
mod nemesis;
pub mod payload;
mod producer;
mod record;
mod resharder;
mod rng;
mod topology;

pub use backoff::Backoff;
pub use checkpoints::{Checkpoint, CheckpointError, CheckpointStore};
pub use commands::{CommandError, ServiceCommands};
pub use final_read::FinalRead;
#[cfg(feature = "http")]
pub use harness::{CLIENT_OPTIONS, HarnessError, Proxied, loopback_addr};
pub use leases::LeaseTable;
pub use nemesis::{NetFaultKind, Network};
pub use rng::Rng;

use crate::api::CreateStreamRequest;
use crate::history::{EventType, HistoryWriter, Op};
use crate::service::StreamService;
use control::Control;
use record::Recorder;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Deliberately defective behaviours of the runner's own clients, **wrong on purpose**, so
/// tests can show that the checker catches what they do to a history. Off by default; never
/// enable them to judge a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DriverTwin {
    /// Consumers checkpoint a page *before* processing it: a consumer killed in between
    /// loses the page's unprocessed records (they are never processed by anyone).
    CheckpointBeforeProcess,
    /// Consumers lease a child shard without waiting for its parents' `SHARD_END`
    /// checkpoints: a key's records can be processed out of order across a reshard.
    ChildrenBeforeParentEnd,
    /// Producers retry without recording the retry: the history shows one attempt that was
    /// acknowledged, so a duplicate written by the hidden first attempt looks illegal.
    UnrecordedRetry,
}

/// What a run does. Every field has a documented default ([`DriverConfig::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverConfig {
    /// The stream to create and drive (it must not exist yet).
    pub stream: String,
    /// Its shard count at creation.
    pub shards: u32,
    /// Producer threads (`producer-0` …).
    pub producers: u32,
    /// Consumer threads (`consumer-0` …).
    pub consumers: u32,
    /// The workload stops after this long (the final read comes after it).
    pub duration: Duration,
    /// The workload stops after this many calls, all processes together (setup, healing and
    /// the final read are not counted).
    pub max_ops: u64,
    /// Seed of every choice.
    pub seed: u64,
    /// Where checkpoints (`checkpoints/`) and the consumers' output (`output/`) go.
    pub run_dir: PathBuf,
    /// Size of the partition key space (`key-0` …); small, so keys repeat.
    pub keys: u32,
    /// Most entries of one `PutRecords`.
    pub max_batch: u32,
    /// Most attempts of one logical put.
    pub max_attempts: u32,
    /// Retry pacing.
    pub backoff: Backoff,
    /// A producer's pause between logical puts.
    pub producer_pause: Duration,
    /// A consumer's pause between rounds over its leases.
    pub consumer_pause: Duration,
    /// `Limit` of the consumers' `GetRecords` (the final read asks ten times more).
    pub page_limit: u32,
    /// How often consumers list the shards.
    pub list_interval: Duration,
    /// Whether the resharder runs.
    pub reshard: bool,
    /// The mean pause between two reshards.
    pub reshard_interval: Duration,
    /// The resharder never makes more open shards than this.
    pub max_open_shards: u32,
    /// Whether the nemesis injects network faults (needs [`Target::network`]).
    pub net_faults: bool,
    /// Whether the nemesis kills and restarts consumers.
    pub kill_consumers: bool,
    /// Pause between faults, and how long each fault lasts.
    pub nemesis_interval: Duration,
    /// Bound on the final read.
    pub final_read_limit: Duration,
    /// A deliberately defective client behaviour (tests only).
    pub twin: Option<DriverTwin>,
}

impl DriverConfig {
    /// A configuration for `stream` with checkpoints under `run_dir`: 2 shards, 2 producers,
    /// 2 consumers, 10 s, 20 000 calls, seed 0, 8 keys, batches up to 10, 5 attempts,
    /// pages of 50, no resharding, no faults.
    pub fn new(stream: &str, run_dir: PathBuf) -> Self {
        DriverConfig {
            stream: stream.to_owned(),
            shards: 2,
            producers: 2,
            consumers: 2,
            duration: Duration::from_secs(10),
            max_ops: 20_000,
            seed: 0,
            run_dir,
            keys: 8,
            max_batch: 10,
            max_attempts: 5,
            backoff: Backoff::default(),
            producer_pause: Duration::from_millis(2),
            consumer_pause: Duration::from_millis(10),
            page_limit: 50,
            list_interval: Duration::from_millis(500),
            reshard: false,
            reshard_interval: Duration::from_millis(1000),
            max_open_shards: 8,
            net_faults: false,
            kill_consumers: false,
            nemesis_interval: Duration::from_millis(1000),
            final_read_limit: Duration::from_secs(120),
            twin: None,
        }
    }
}

/// The service a run drives, and the levers its nemesis may pull.
pub struct Target {
    /// What the clients call (for network faults, a client that goes through the proxy).
    pub service: Arc<dyn StreamService>,
    /// Network faults between those clients and the service.
    pub network: Option<Arc<dyn Network>>,
    /// Kill and restart commands of the service process.
    pub process: Option<ServiceCommands>,
}

impl Target {
    /// `service` called directly, no faults but consumer kills.
    pub fn direct(service: Arc<dyn StreamService>) -> Self {
        Target {
            service,
            network: None,
            process: None,
        }
    }
}

/// Shows a run's progress (the command line draws a bar). Every method may be called from
/// any thread; the defaults do nothing.
pub trait Progress: Sync {
    /// `done` of at most `max` calls were made.
    fn ops(&self, done: u64, max: u64) {
        let _ = (done, max);
    }
    /// The `count`-th fault was injected.
    fn fault(&self, count: u64, description: &str) {
        let _ = (count, description);
    }
    /// The run entered a phase (`workload`, `healing`, `final read`).
    fn phase(&self, phase: &str) {
        let _ = phase;
    }
}

/// Progress nobody watches.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Why the workload stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum StopReason {
    /// `duration` passed.
    Duration,
    /// `max_ops` calls were made.
    MaxOps,
    /// The run failed (see [`DriverError`]).
    Failed,
}

/// Events of one operation by type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutcomeCounts {
    /// Invocations.
    pub invoke: u64,
    /// Completed with effect.
    pub ok: u64,
    /// Completed without effect.
    pub fail: u64,
    /// Outcome unknown.
    pub info: u64,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunSummary {
    /// Why the workload stopped.
    pub stopped_by: StopReason,
    /// Wall time of the whole run, final read included.
    pub elapsed: Duration,
    /// Calls made, all processes and phases together.
    pub calls: u64,
    /// Events by operation and type.
    pub outcomes: BTreeMap<Op, OutcomeCounts>,
    /// Faults injected.
    pub faults: u64,
    /// Records acknowledged to producers (entries of `PutRecords` counted one by one).
    pub acknowledged: u64,
    /// What the final read saw.
    pub final_read: FinalRead,
}

impl RunSummary {
    /// Completed `process` steps (records the consumers processed).
    pub fn processed(&self) -> u64 {
        self.outcomes.get(&Op::Process).map_or(0, |c| c.ok)
    }

    /// Durable checkpoints written.
    pub fn checkpoints(&self) -> u64 {
        self.outcomes.get(&Op::Checkpoint).map_or(0, |c| c.ok)
    }

    /// Calls whose outcome is unknown (`info` completions).
    pub fn unknown_outcomes(&self) -> u64 {
        self.outcomes.values().map(|c| c.info).sum()
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "stopped by {:?} after {:.1} s: {} calls, {} faults, {} records acknowledged, {} processed, {} checkpoints",
            self.stopped_by,
            self.elapsed.as_secs_f64(),
            self.calls,
            self.faults,
            self.acknowledged,
            self.processed(),
            self.checkpoints()
        )?;
        writeln!(
            f,
            "{:<24} {:>8} {:>8} {:>8} {:>8}",
            "operation", "invoke", "ok", "fail", "info"
        )?;
        for (op, c) in &self.outcomes {
            let name = serde_json::to_value(op)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{op:?}"));
            writeln!(
                f,
                "{name:<24} {:>8} {:>8} {:>8} {:>8}",
                c.invoke, c.ok, c.fail, c.info
            )?;
        }
        let fr = &self.final_read;
        write!(
            f,
            "final read: {} of {} shards read to their end, {} records",
            fr.shards_read, fr.shards, fr.records
        )?;
        if let Some(why) = &fr.incomplete {
            write!(f, " (incomplete: {why})")?;
        }
        Ok(())
    }
}

/// Why a run could not be carried out (an unexpected answer of the service is never one:
/// it goes into the history).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The history could not be written.
    #[error("cannot write the history: {0}")]
    History(#[source] std::io::Error),
    /// The run directory could not be prepared or written.
    #[error("run directory {path}: {source}")]
    RunDir {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The checkpoint store failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The stream could not be created.
    #[error("cannot create stream {stream}: {source}")]
    CreateStream {
        /// The stream.
        stream: String,
        /// What the service answered.
        source: crate::types::KinesisError,
    },
    /// The stream did not become `ACTIVE` after its creation.
    #[error("stream {0} did not become ACTIVE")]
    NotActive(String),
    /// A thread of the run panicked.
    #[error("a {0} thread panicked")]
    Panicked(String),
}

/// How long setup waits for the new stream to be `ACTIVE`.
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// Runs the workload of `config` against `target`, recording into `history`.
///
/// Guarantees: every call is recorded as an `invoke` before it is made and exactly one
/// completion after it (a consumer killed by the nemesis is never killed with a call
/// pending); every logical put carries a payload no other carries
/// ([`payload::payload`]); every fault the nemesis injects is healed before the final read;
/// the history is flushed before this returns. An `Err` means the run could not be carried
/// out (the history may be partial); whatever the service answered is in the history, not
/// in the result.
pub fn run(
    config: &DriverConfig,
    target: &Target,
    history: &HistoryWriter,
    progress: &dyn Progress,
) -> Result<RunSummary, DriverError> {
    let checkpoint_dir = config.run_dir.join("checkpoints").join(&config.stream);
    let output_dir = config.run_dir.join("output").join(&config.stream);
    for dir in [&checkpoint_dir, &output_dir] {
        // A fresh stream has no progress: checkpoints of an earlier run of the same name go.
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|source| DriverError::RunDir {
                path: dir.clone(),
                source,
            })?;
        }
        std::fs::create_dir_all(dir).map_err(|source| DriverError::RunDir {
            path: dir.clone(),
            source,
        })?;
    }
    let store = CheckpointStore::open(&checkpoint_dir)?;
    let control = Control::new(config.max_ops, config.duration, progress);
    let service: &dyn StreamService = &*target.service;

    progress.phase("setup");
    let setup = Recorder::unbudgeted(history, &control, "setup");
    create_stream(config, service, &setup)?;

    progress.phase("workload");
    let leases = LeaseTable::new();
    let switches: Vec<lifecycle::Switch> = (0..config.consumers)
        .map(|_| lifecycle::Switch::default())
        .collect();
    let names: Vec<String> = (0..config.consumers)
        .map(|i| format!("consumer-{i}"))
        .collect();
    let shared = consumer::Shared {
        config,
        service,
        leases: &leases,
        store: &store,
        output_dir,
    };
    let levers = nemesis::Levers {
        network: if config.net_faults {
            target.network.as_deref()
        } else {
            None
        },
        service: target.process.as_ref(),
        consumers: if config.kill_consumers {
            names.iter().cloned().zip(switches.iter()).collect()
        } else {
            Vec::new()
        },
        leases: &leases,
    };
    let mut panicked: Option<String> = None;
    std::thread::scope(|scope| {
        let control = &control;
        let mut workers = Vec::new();
        for i in 0..config.producers {
            let rec = Recorder::new(history, control, &format!("producer-{i}"));
            workers.push((
                "producer",
                scope.spawn(move || producer::run(i, config, service, rec)),
            ));
        }
        for (name, switch) in names.iter().zip(&switches) {
            let rec = Recorder::new(history, control, name);
            let shared = &shared;
            workers.push((
                "consumer",
                scope.spawn(move || consumer::run(shared, switch, rec)),
            ));
        }
        if config.reshard {
            let rec = Recorder::new(history, control, "resharder");
            workers.push((
                "resharder",
                scope.spawn(move || resharder::run(config, service, rec)),
            ));
        }
        let levers = &levers;
        let rec = Recorder::unbudgeted(history, control, "nemesis");
        let nemesis = scope.spawn(move || nemesis::run(config, levers, rec));
        if nemesis.join().is_err() {
            control.fail(DriverError::Panicked("nemesis".into()));
            panicked.get_or_insert_with(|| "nemesis".into());
        }
        progress.phase("healing");
        // The nemesis has healed what it broke; no consumer waits for a restart any more.
        for s in &switches {
            s.abandon();
        }
        for (role, handle) in workers {
            if handle.join().is_err() {
                control.halt(StopReason::Failed);
                panicked.get_or_insert_with(|| role.to_owned());
            }
        }
    });
    if let Some(role) = panicked {
        return Err(DriverError::Panicked(role));
    }
    if let Some(e) = control.take_failure() {
        return Err(e);
    }

    progress.phase("final read");
    let reader = Recorder::unbudgeted(history, &control, "final-read");
    let final_read = final_read::run(config, service, &reader).map_err(|_| {
        control
            .take_failure()
            .unwrap_or(DriverError::Panicked("final read".into()))
    })?;
    history.flush().map_err(DriverError::History)?;
    if let Some(e) = control.take_failure() {
        return Err(e);
    }
    let mut outcomes: BTreeMap<Op, OutcomeCounts> = BTreeMap::new();
    for ((op, kind), n) in control.counts() {
        let c = outcomes.entry(op).or_default();
        match kind {
            EventType::Invoke => c.invoke += n,
            EventType::Ok => c.ok += n,
            EventType::Fail => c.fail += n,
            EventType::Info => c.info += n,
        }
    }
    let faults = outcomes
        .iter()
        .filter(|(op, _)| matches!(op, Op::NetFault | Op::Kill | Op::KillConsumer))
        .map(|(_, c)| c.ok)
        .sum();
    Ok(RunSummary {
        stopped_by: control.reason().unwrap_or(StopReason::Duration),
        elapsed: control.elapsed(),
        calls: control.ops(),
        outcomes,
        faults,
        acknowledged: control.acknowledged_total(),
        final_read,
    })
}

/// Creates the stream and waits for it to be `ACTIVE` (recorded as process `setup`).
fn create_stream(
    config: &DriverConfig,
    service: &dyn StreamService,
    rec: &Recorder<'_>,
) -> Result<(), DriverError> {
    let req = CreateStreamRequest {
        stream_name: config.stream.clone(),
        shard_count: i64::from(config.shards.max(1)),
    };
    let halted = |_| {
        rec.control()
            .take_failure()
            .unwrap_or_else(|| DriverError::NotActive(config.stream.clone()))
    };
    let mut last = None;
    for attempt in 1..=3u32 {
        let mut invoke = rec.event(EventType::Invoke, Op::CreateStream);
        record::create_stream_args(&mut invoke, &req);
        match rec
            .call(invoke, || service.create_stream(&req), record::nothing)
            .map_err(halted)?
        {
            Ok(()) => {
                last = None;
                break;
            }
            // A create whose answer was lost may have worked: the retry then finds it.
            Err(e) if record::outcome_unknown(&e) => last = Some(e),
            Err(e) if e.kind == crate::types::ErrorKind::ResourceInUseException && attempt > 1 => {
                last = None;
                break;
            }
            Err(e) => {
                return Err(DriverError::CreateStream {
                    stream: config.stream.clone(),
                    source: e,
                });
            }
        }
    }
    if let Some(source) = last {
        return Err(DriverError::CreateStream {
            stream: config.stream.clone(),
            source,
        });
    }
    if topology::wait_active(rec, service, &config.stream, SETUP_LIMIT).map_err(halted)? {
        Ok(())
    } else {
        Err(DriverError::NotActive(config.stream.clone()))
    }
}
