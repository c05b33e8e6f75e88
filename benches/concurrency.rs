//! Concurrent append throughput of the shard log: one thread against two, on the same shard
//! and on different shards, with 100-byte records.
//!
//! Criterion measures each configuration (throughput in appends per second of wall time);
//! afterwards fixed-size runs print tables with the scaling factor of each two-thread
//! configuration over one thread, on the shard log and through `StreamService::put_record`,
//! both by wall clock and per on-CPU second (the latter survives other work on a shared
//! machine). Two threads on different shards share nothing but the allocator, so they should
//! scale (target: at least 1.6x); two threads on one shard serialise on its lock.

use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput};
use seqcheck::api::{CreateStreamRequest, PutRecordRequest};
use seqcheck::clock::SystemClock;
use seqcheck::memory::{Faults, NewRecord, ShardLog};
use seqcheck::sequencer::{SeqFormat, ShardSequencer};
use seqcheck::{MemoryStream, StreamService};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORD_BYTES: usize = 100;

/// A benchmark configuration.
#[derive(Clone, Copy)]
struct Setup {
    name: &'static str,
    threads: usize,
    same_shard: bool,
}

const SETUPS: [Setup; 3] = [
    Setup {
        name: "1 thread",
        threads: 1,
        same_shard: true,
    },
    Setup {
        name: "2 threads, same shard",
        threads: 2,
        same_shard: true,
    },
    Setup {
        name: "2 threads, different shards",
        threads: 2,
        same_shard: false,
    },
];

fn logs(setup: Setup) -> Vec<Arc<ShardLog>> {
    let shards = if setup.same_shard { 1 } else { setup.threads };
    (0..shards)
        .map(|i| {
            Arc::new(ShardLog::new(ShardSequencer::new(
                SeqFormat::Readable,
                1_700_000_000,
                i as u32,
            )))
        })
        .collect()
}

/// Each thread's own record (own key and payload, so no reference count is shared).
fn record(thread: usize) -> NewRecord {
    NewRecord {
        partition_key: Arc::from(format!("key-{thread}")),
        data: Bytes::from(vec![b'x'; RECORD_BYTES]),
    }
}

/// One measured run: wall time, and the on-CPU time of each worker thread.
struct Timing {
    wall: Duration,
    cpu: Vec<Duration>,
}

/// On-CPU time of the calling thread (Linux `schedstat`); `None` where unavailable.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs `threads` workers that each call `op` `per_thread` times after a common start.
fn measure<W: FnMut() + Send>(
    threads: usize,
    per_thread: u64,
    worker: impl Fn(usize) -> W,
) -> Timing {
    let start = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let mut op = worker(t);
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let cpu0 = thread_cpu();
                    for _ in 0..per_thread {
                        op();
                    }
                    cpu0.zip(thread_cpu())
                        .map_or(Duration::ZERO, |(a, b)| b.saturating_sub(a))
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let cpu = workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect();
        Timing {
            wall: t0.elapsed(),
            cpu,
        }
    })
}

/// Appends `per_thread` records from each thread straight into shard logs.
fn run(setup: Setup, per_thread: u64) -> Timing {
    let logs = logs(setup);
    measure(setup.threads, per_thread, |t| {
        let log = logs[t % logs.len()].clone();
        let record = record(t);
        move || {
            log.append(
                &SystemClock,
                Faults::default(),
                None,
                [record.clone()],
                |_| {},
            )
            .expect("the shard is open");
        }
    })
}

fn criterion_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_100B");
    // Equal, large samples: thread start-up and join stay small next to the appends.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for setup in SETUPS {
        group.throughput(Throughput::Elements(setup.threads as u64));
        group.bench_function(setup.name, |b| {
            b.iter_custom(|iters| run(setup, iters).wall)
        });
    }
    group.finish();
}

/// Best of `rounds`: (wall-clock rate, sum of each thread's rate per on-CPU second). The second
/// is what the threads would reach with a core each, so it stays meaningful while other work
/// shares the machine.
fn rates(
    setup: Setup,
    per_thread: u64,
    rounds: usize,
    run: impl Fn(Setup, u64) -> Timing,
) -> (f64, f64) {
    let mut best = (0.0f64, 0.0f64);
    for _ in 0..rounds {
        let timing = run(setup, per_thread);
        let wall = (setup.threads as u64 * per_thread) as f64 / timing.wall.as_secs_f64();
        let cpu: f64 = timing
            .cpu
            .iter()
            .map(|c| per_thread as f64 / c.as_secs_f64().max(1e-9))
            .sum();
        best = (best.0.max(wall), best.1.max(cpu));
    }
    best
}

/// Prints one table of rates and scaling factors over one thread.
fn table(title: &str, unit: &str, per_thread: u64, run: impl Fn(Setup, u64) -> Timing + Copy) {
    let measured: Vec<(f64, f64)> = SETUPS
        .iter()
        .map(|s| rates(*s, per_thread, 5, run))
        .collect();
    println!("\n{title}, best of 5 rounds of {per_thread} per thread:");
    println!(
        "  {:<30} {:>12} {:>8}   {:>12} {:>8}",
        "", "wall M/s", "scaling", "per-CPU M/s", "scaling"
    );
    for (setup, (wall, cpu)) in SETUPS.iter().zip(&measured) {
        println!(
            "  {:<30} {:>12.2} {:>7.2}x   {:>12.2} {:>7.2}x",
            setup.name,
            wall / 1e6,
            wall / measured[0].0,
            cpu / 1e6,
            cpu / measured[0].1
        );
    }
    println!(
        "  ({unit}; per-CPU = sum over threads of operations per on-CPU second: what the threads \
         reach with a core each when they never block, so it means nothing for the same-shard \
         row, where a thread parks on the lock)"
    );
}

/// The same configurations through the whole `StreamService::put_record` path (validation,
/// MD5 routing, shard-map snapshot, append); shards are picked with explicit hash keys.
fn service_run(setup: Setup, per_thread: u64) -> Timing {
    let service = MemoryStream::default();
    service
        .create_stream(&CreateStreamRequest {
            stream_name: "bench".into(),
            shard_count: 2,
        })
        .expect("the stream can be created");
    let service = &service;
    measure(setup.threads, per_thread, |t| {
        // Shard 0 owns the low half of the hash space, shard 1 the high half.
        let shard = if setup.same_shard { 0 } else { t % 2 };
        let key = if shard == 0 {
            "0".to_owned()
        } else {
            (u128::MAX - 1).to_string()
        };
        let req = PutRecordRequest {
            stream_name: "bench".into(),
            partition_key: format!("key-{t}"),
            data: Bytes::from(vec![b'x'; RECORD_BYTES]),
            explicit_hash_key: Some(key),
            sequence_number_for_ordering: None,
        };
        move || {
            service.put_record(&req).expect("the put succeeds");
        }
    })
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    criterion_benches(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once only.
    if std::env::args().any(|a| a == "--bench") {
        table(
            &format!("append throughput, {RECORD_BYTES}-byte records, shard log"),
            "appends",
            500_000,
            run,
        );
        table(
            "PutRecord throughput through StreamService",
            "puts",
            200_000,
            service_run,
        );
    }
}
