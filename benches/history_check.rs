//! The history checker's throughput on a synthetic history (default 10^7 events; set
//! `HISTORY_BENCH_EVENTS` to change): parse and check a JSONL file, and check alone (events
//! already parsed into the checker's compact form). Criterion reports the time per history;
//! events/s is printed as throughput ("elements").

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use seqcheck::history::check::hash::Names;
use seqcheck::history::check::lower::parse_line;
use seqcheck::history::synth::{SynthConfig, stream};
use seqcheck::history::{CheckOptions, Checker, EventRef, check_files};
use std::io::{BufRead, Write};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let events: u64 = std::env::var("HISTORY_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let path = std::env::temp_dir().join(format!("seqcheck-bench-{events}.jsonl"));
    let cfg = SynthConfig {
        seed: 42,
        events,
        producers: 8,
        shards: 8,
        consumers: 4,
        keys: 256,
        splits: 4,
        crashes: 2,
        consumer_kills: 2,
        inject: None,
    };
    {
        let file = std::fs::File::create(&path).expect("temporary file");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        stream(&cfg, &mut |e| {
            serde_json::to_writer(&mut out, &e).expect("serialises");
            out.write_all(b"\n").expect("writes");
        });
        out.flush().expect("writes");
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let opts = CheckOptions::default();
    let first = check_files(std::slice::from_ref(&path), &opts).expect("readable");
    let n = first.coverage.events;
    println!(
        "history: {n} events, {bytes} bytes, verdict {:?}, {} threads",
        first.verdict, opts.threads
    );

    let mut g = c.benchmark_group("history_check");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n));
    g.bench_function("parse_and_check", |b| {
        b.iter(|| check_files(std::slice::from_ref(&path), &opts).expect("readable"));
    });
    // Pre-parse once; every iteration checks a fresh copy.
    let mut names = Names::default();
    let mut lowered = Vec::with_capacity(n as usize);
    let reader = std::io::BufReader::new(std::fs::File::open(&path).expect("readable"));
    for (i, line) in reader.lines().enumerate() {
        let line = line.expect("readable");
        if let Some(ev) = parse_line(line.as_bytes(), &mut names) {
            lowered.push((
                EventRef {
                    file: 0,
                    line: i as u64 + 1,
                },
                ev,
            ));
        }
    }
    g.bench_function("check_alone", |b| {
        b.iter_batched(
            || lowered.clone(),
            |events| {
                let mut checker = Checker::new(opts.clone());
                let mut names_copy = Names::default();
                names_copy.absorb_clone(&names);
                checker.absorb_names(names_copy);
                for (at, ev) in events {
                    checker.push_lowered(at, ev);
                }
                checker.finish(Vec::new())
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
