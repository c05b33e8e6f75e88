//! Concurrent append throughput of the shard log: one thread against two, on the same shard
//! and on different shards, with 100-byte records.
//!
//! Criterion measures each configuration (throughput in appends per second of wall time);
//! afterwards a fixed-duration run prints a table with the scaling factor of each two-thread
//! configuration over one thread. Two threads on different shards share nothing but the
//! allocator, so they should scale (target: at least 1.6x); two threads on one shard serialise
//! on its lock.

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

/// Appends `per_thread` records from each thread; returns the wall time.
fn run(setup: Setup, per_thread: u64) -> Duration {
    let logs = logs(setup);
    let start = std::sync::Barrier::new(setup.threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..setup.threads)
            .map(|t| {
                let log = logs[t % logs.len()].clone();
                let start = &start;
                scope.spawn(move || {
                    let record = record(t);
                    start.wait();
                    for _ in 0..per_thread {
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
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for w in workers {
            w.join().expect("a worker panicked");
        }
        t0.elapsed()
    })
}

fn criterion_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_100B");
    // Equal, large samples: thread start-up and join stay small next to the appends.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for setup in SETUPS {
        group.throughput(Throughput::Elements(setup.threads as u64));
        group.bench_function(setup.name, |b| b.iter_custom(|iters| run(setup, iters)));
    }
    group.finish();
}

/// Appends per second over a fixed number of rounds (best of `rounds`, to shed noise from
/// other work on the machine).
fn throughput(setup: Setup, per_thread: u64, rounds: usize) -> f64 {
    (0..rounds)
        .map(|_| (setup.threads as u64 * per_thread) as f64 / run(setup, per_thread).as_secs_f64())
        .fold(0.0, f64::max)
}

fn scaling_table() {
    let per_thread = 500_000;
    let rates: Vec<f64> = SETUPS
        .iter()
        .map(|s| throughput(*s, per_thread, 5))
        .collect();
    println!(
        "\nappend throughput, {RECORD_BYTES}-byte records, best of 5 rounds of {per_thread} appends per thread:"
    );
    for (setup, rate) in SETUPS.iter().zip(&rates) {
        println!(
            "  {:<30} {:>8.2} M appends/s  scaling {:.2}x",
            setup.name,
            rate / 1e6,
            rate / rates[0]
        );
    }
}

/// The same configurations through the whole `StreamService::put_record` path (validation,
/// MD5 routing, shard-map snapshot, append); shards are picked with explicit hash keys.
fn service_run(setup: Setup, per_thread: u64) -> Duration {
    let service = MemoryStream::default();
    service
        .create_stream(&CreateStreamRequest {
            stream_name: "bench".into(),
            shard_count: 2,
        })
        .expect("the stream can be created");
    let start = std::sync::Barrier::new(setup.threads + 1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..setup.threads)
            .map(|t| {
                let (service, start) = (&service, &start);
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
                scope.spawn(move || {
                    start.wait();
                    for _ in 0..per_thread {
                        service.put_record(&req).expect("the put succeeds");
                    }
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for w in workers {
            w.join().expect("a worker panicked");
        }
        t0.elapsed()
    })
}

fn service_table() {
    let per_thread = 200_000u64;
    let rates: Vec<f64> = SETUPS
        .iter()
        .map(|s| {
            (0..5)
                .map(|_| {
                    (s.threads as u64 * per_thread) as f64
                        / service_run(*s, per_thread).as_secs_f64()
                })
                .fold(0.0, f64::max)
        })
        .collect();
    println!(
        "\nPutRecord throughput through StreamService, best of 5 rounds of {per_thread} puts per thread:"
    );
    for (setup, rate) in SETUPS.iter().zip(&rates) {
        println!(
            "  {:<30} {:>8.2} M puts/s     scaling {:.2}x",
            setup.name,
            rate / 1e6,
            rate / rates[0]
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    criterion_benches(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each benchmark once only.
    if std::env::args().any(|a| a == "--bench") {
        scaling_table();
        service_table();
    }
}
