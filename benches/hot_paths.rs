//! Hot paths: minting a number, PutRecord into the embedded service (1 and 2 threads),
//! GetRecords paging, and conformance operations per second (model + embedded).

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use seqcheck::MemoryStream;
use seqcheck::api::{
    CreateStreamRequest, GetRecordsRequest, GetShardIteratorRequest, PutRecordRequest,
};
use seqcheck::conformance::{Area, RunConfig, in_process_memory, run_area};
use seqcheck::sequencer::{SeqFormat, ShardSequencer};
use seqcheck::service::StreamService;
use seqcheck::types::{HashKeyRange, ShardIteratorType};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn sequencer(c: &mut Criterion) {
    let mut g = c.benchmark_group("sequencer_next");
    g.throughput(Throughput::Elements(1));
    for format in [SeqFormat::Readable, SeqFormat::AwsV2] {
        let mut s = ShardSequencer::new(format, 1_700_000_000, 3);
        g.bench_function(BenchmarkId::from_parameter(format!("{format:?}")), |b| {
            b.iter(|| black_box(s.next(1_700_000_001, None)))
        });
    }
    g.finish();
}

/// Keys that route to the lower (`true`) or upper half of a 2-shard stream.
fn keys(lower: bool, n: usize) -> Vec<String> {
    let half = HashKeyRange::initial_split(2)[0];
    (0..)
        .map(|i| format!("user-{i}"))
        .filter(|k| half.contains(seqcheck::types::HashKey::of_partition_key(k)) == lower)
        .take(n)
        .collect()
}

fn stream(shards: i64) -> MemoryStream {
    let s = MemoryStream::default();
    s.create_stream(&CreateStreamRequest {
        stream_name: "bench".into(),
        shard_count: shards,
    })
    .expect("create");
    s
}

fn put_n(s: &MemoryStream, keys: &[String], data: &Bytes, n: u64) {
    let mut req = PutRecordRequest {
        stream_name: "bench".into(),
        partition_key: String::new(),
        data: data.clone(),
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    };
    for i in 0..n {
        req.partition_key.clone_from(&keys[i as usize % keys.len()]);
        black_box(s.put_record(&req).expect("put"));
    }
}

fn put_record(c: &mut Criterion) {
    let data = Bytes::from(vec![b'x'; 100]);
    let mut g = c.benchmark_group("put_record_100b");
    g.throughput(Throughput::Elements(1));
    g.bench_function("1_thread", |b| {
        let s = stream(2);
        let k = keys(true, 1024);
        b.iter_custom(|iters| {
            let start = Instant::now();
            put_n(&s, &k, &data, iters);
            start.elapsed()
        })
    });
    for (label, same) in [
        ("2_threads_different_shards", false),
        ("2_threads_same_shard", true),
    ] {
        g.bench_function(label, |b| {
            let s = Arc::new(stream(2));
            let (k0, k1) = (Arc::new(keys(true, 1024)), Arc::new(keys(same, 1024)));
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(2);
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for k in [&k0, &k1] {
                        let (s, k, data) = (Arc::clone(&s), Arc::clone(k), data.clone());
                        scope.spawn(move || put_n(&s, &k, &data, per_thread));
                    }
                });
                start.elapsed()
            })
        });
    }
    g.finish();
}

fn get_records(c: &mut Criterion) {
    const RECORDS: u64 = 100_000;
    let s = stream(1);
    put_n(&s, &keys(true, 64), &Bytes::from(vec![b'x'; 100]), RECORDS);
    let mut g = c.benchmark_group("get_records");
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("read_100k_in_pages_of_10k", |b| {
        b.iter(|| {
            let mut it = s
                .get_shard_iterator(&GetShardIteratorRequest {
                    stream_name: "bench".into(),
                    shard_id: "shardId-000000000000".into(),
                    shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
                    starting_sequence_number: None,
                    timestamp_ms: None,
                })
                .expect("iterator");
            let mut read = 0u64;
            while read < RECORDS {
                let page = s
                    .get_records(&GetRecordsRequest {
                        shard_iterator: it,
                        limit: Some(10_000),
                    })
                    .expect("page");
                read += page.records.len() as u64;
                it = page.next_shard_iterator.expect("open shard");
            }
            black_box(read)
        })
    });
    g.finish();
}

fn conformance(c: &mut Criterion) {
    let make = || Arc::new(in_process_memory()) as Arc<dyn StreamService>;
    let cfg = RunConfig {
        cases: 64,
        ..RunConfig::default()
    };
    let mut g = c.benchmark_group("conformance_ops");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for area in [Area::Sequencing, Area::Paging, Area::Resharding] {
        let ops = run_area(&make, area, &cfg, &|| {}).ops;
        g.throughput(Throughput::Elements(ops));
        g.bench_function(BenchmarkId::from_parameter(area.name()), |b| {
            b.iter(|| black_box(run_area(&make, area, &cfg, &|| {})))
        });
    }
    g.finish();
}

criterion_group!(benches, sequencer, put_record, get_records, conformance);
criterion_main!(benches);
