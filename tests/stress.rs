//! Real-thread stress of the embedded service through the `StreamService` trait.
//!
//! Producers hammer one stream with uniquely identified payloads while another thread splits
//! shards under them. Every acknowledged put is recorded; afterwards every shard is read from
//! TRIM_HORIZON following NextShardIterator, and the test checks that every acknowledged record
//! is present exactly once, in its shard, in number order, with its data, that nothing
//! unacknowledged appears, and that each producer's ordering chain increases. A consumer tails
//! the first shards during the run; what it saw must be a prefix of what is read at the end.

use bytes::Bytes;
use seqcheck::api::*;
use seqcheck::types::{Record, SequenceNumber, ShardId, ShardIteratorType};
use seqcheck::{MemoryStream, StreamService};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const STREAM: &str = "stress";
const PRODUCERS: usize = 4;
const PUTS_PER_PRODUCER: usize = 20_000;
/// Every this many operations a producer sends a PutRecords batch instead of a PutRecord.
const BATCH_EVERY: usize = 100;
const BATCH_LEN: usize = 4;
/// Wall-clock budget of the whole run (generous: two shared cores, unoptimised build).
const TIME_BUDGET: Duration = Duration::from_secs(120);

/// One acknowledged record: where it landed and what it holds.
#[derive(Clone, Debug)]
struct Ack {
    shard: ShardId,
    seq: SequenceNumber,
    payload: Bytes,
}

fn payload(producer: usize, op: usize, entry: usize) -> Bytes {
    // 100-byte records: a unique id, padded.
    let id = format!("p{producer}-o{op}-e{entry}-");
    let mut data = id.into_bytes();
    data.resize(100, b'.');
    Bytes::from(data)
}

/// Runs one producer; returns its acknowledgements and its PutRecord chain in issue order.
fn produce(
    service: &MemoryStream,
    producer: usize,
    progress: &AtomicUsize,
) -> (Vec<Ack>, Vec<SequenceNumber>) {
    let key = format!("producer-{producer}");
    let mut acks =
        Vec::with_capacity(PUTS_PER_PRODUCER + PUTS_PER_PRODUCER / BATCH_EVERY * BATCH_LEN);
    let mut chain: Vec<SequenceNumber> = Vec::with_capacity(PUTS_PER_PRODUCER);
    for op in 0..PUTS_PER_PRODUCER {
        if op % BATCH_EVERY == BATCH_EVERY - 1 {
            let records = (0..BATCH_LEN)
                .map(|e| PutRecordsEntry {
                    partition_key: key.clone(),
                    data: payload(producer, op, e),
                    explicit_hash_key: None,
                })
                .collect();
            let req = PutRecordsRequest {
                stream_name: STREAM.into(),
                records,
            };
            let resp = service
                .put_records(&req)
                .unwrap_or_else(|e| panic!("PutRecords failed: {e:?}"));
            assert_eq!(resp.failed_record_count, 0);
            let mut last: Option<(ShardId, SequenceNumber)> = None;
            for (e, entry) in resp.records.into_iter().enumerate() {
                let ok = entry.unwrap_or_else(|e| panic!("a PutRecords entry failed: {e:?}"));
                if let Some((shard, seq)) = last {
                    if shard == ok.shard_id {
                        assert!(
                            ok.sequence_number > seq,
                            "PutRecords entries of one shard out of request order"
                        );
                    }
                }
                last = Some((ok.shard_id, ok.sequence_number));
                acks.push(Ack {
                    shard: ok.shard_id,
                    seq: ok.sequence_number,
                    payload: payload(producer, op, e),
                });
            }
        } else {
            let data = payload(producer, op, 0);
            let req = PutRecordRequest {
                stream_name: STREAM.into(),
                partition_key: key.clone(),
                data: data.clone(),
                explicit_hash_key: None,
                sequence_number_for_ordering: chain.last().map(|s| s.to_string()),
            };
            let resp = service
                .put_record(&req)
                .unwrap_or_else(|e| panic!("PutRecord failed: {e:?}"));
            chain.push(resp.sequence_number);
            acks.push(Ack {
                shard: resp.shard_id,
                seq: resp.sequence_number,
                payload: data,
            });
        }
        progress.fetch_add(1, Ordering::Relaxed);
    }
    (acks, chain)
}

/// Every shard of the stream (open and closed).
fn all_shards(service: &MemoryStream) -> Vec<ShardDescription> {
    let mut shards = Vec::new();
    let mut req = ListShardsRequest {
        stream_name: Some(STREAM.into()),
        ..Default::default()
    };
    loop {
        let page = service
            .list_shards(&req)
            .unwrap_or_else(|e| panic!("ListShards failed: {e:?}"));
        shards.extend(page.shards);
        match page.next_token {
            Some(token) => {
                req = ListShardsRequest {
                    next_token: Some(token),
                    ..Default::default()
                }
            }
            None => return shards,
        }
    }
}

/// Splits the first open shard in the middle of its range.
fn split_first_open(service: &MemoryStream) {
    let shards = all_shards(service);
    let shard = shards
        .iter()
        .find(|s| s.ending_sequence_number.is_none())
        .expect("an open shard exists");
    let range = shard.hash_key_range;
    let middle = range.start + (range.end - range.start) / 2 + 1;
    let req = SplitShardRequest {
        stream_name: STREAM.into(),
        shard_to_split: shard.shard_id.to_string(),
        new_starting_hash_key: middle.to_string(),
    };
    service
        .split_shard(&req)
        .unwrap_or_else(|e| panic!("SplitShard failed: {e:?}"));
}

/// Tails the stream's first two shards while the producers run, following NextShardIterator
/// until a shard's end; returns what it read of each.
fn tail(service: &MemoryStream, producing: &AtomicBool) -> HashMap<ShardId, Vec<Record>> {
    let mut cursors: Vec<(ShardId, Option<String>, Vec<Record>)> = (0..2)
        .map(|i| {
            let id = ShardId::new(i);
            (id, Some(trim_horizon(service, id)), Vec::new())
        })
        .collect();
    while producing.load(Ordering::Relaxed) {
        for (_, cursor, seen) in cursors.iter_mut() {
            let Some(it) = cursor.take() else { continue };
            let page = service
                .get_records(&GetRecordsRequest {
                    shard_iterator: it,
                    limit: Some(1_000),
                })
                .unwrap_or_else(|e| panic!("GetRecords failed: {e:?}"));
            seen.extend(page.records);
            *cursor = page.next_shard_iterator;
        }
        std::thread::yield_now();
    }
    for (id, _, seen) in &cursors {
        for w in seen.windows(2) {
            assert!(
                w[0].sequence_number < w[1].sequence_number,
                "tailing {id} saw records out of order"
            );
        }
    }
    cursors
        .into_iter()
        .map(|(id, _, seen)| (id, seen))
        .collect()
}

fn trim_horizon(service: &MemoryStream, shard: ShardId) -> String {
    let req = GetShardIteratorRequest {
        stream_name: STREAM.into(),
        shard_id: shard.to_string(),
        shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
        starting_sequence_number: None,
        timestamp_ms: None,
    };
    service
        .get_shard_iterator(&req)
        .unwrap_or_else(|e| panic!("GetShardIterator failed: {e:?}"))
}

/// Reads a whole shard from TRIM_HORIZON, following NextShardIterator until the end of a
/// closed shard or an empty page at the tip of an open one.
fn read_shard(service: &MemoryStream, shard: ShardId) -> Vec<Record> {
    let mut iterator = Some(trim_horizon(service, shard));
    let mut out = Vec::new();
    while let Some(it) = iterator {
        let page = service
            .get_records(&GetRecordsRequest {
                shard_iterator: it,
                limit: Some(10_000),
            })
            .unwrap_or_else(|e| panic!("GetRecords failed: {e:?}"));
        let empty = page.records.is_empty();
        out.extend(page.records);
        iterator = if empty && page.millis_behind_latest == 0 {
            None
        } else {
            page.next_shard_iterator
        };
    }
    out
}

#[test]
fn producers_racing_splits_lose_and_reorder_nothing() {
    let service = MemoryStream::default();
    service
        .create_stream(&CreateStreamRequest {
            stream_name: STREAM.into(),
            shard_count: 2,
        })
        .unwrap_or_else(|e| panic!("CreateStream failed: {e:?}"));
    let progress = AtomicUsize::new(0);
    let started = Instant::now();
    let producing = AtomicBool::new(true);
    let (results, splits, tailed) = std::thread::scope(|scope| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                scope.spawn({
                    let (service, progress) = (&service, &progress);
                    move || produce(service, p, progress)
                })
            })
            .collect();
        let splitter = scope.spawn(|| {
            let total = PRODUCERS * PUTS_PER_PRODUCER;
            let mut at = Vec::new();
            for threshold in [total / 4, total / 2] {
                while progress.load(Ordering::Relaxed) < threshold
                    && started.elapsed() < TIME_BUDGET
                {
                    std::thread::yield_now();
                }
                split_first_open(&service);
                at.push(progress.load(Ordering::Relaxed));
            }
            at
        });
        let consumer = scope.spawn(|| tail(&service, &producing));
        let results: Vec<_> = producers
            .into_iter()
            .map(|h| h.join().expect("a producer panicked"))
            .collect();
        producing.store(false, Ordering::Relaxed);
        (
            results,
            splitter.join().expect("the splitter panicked"),
            consumer.join().expect("the consumer panicked"),
        )
    });
    let elapsed = started.elapsed();
    let total = PRODUCERS * PUTS_PER_PRODUCER;
    println!("stress: splits completed after {splits:?} of {total} operations");
    assert!(
        splits.iter().all(|&at| at < total),
        "a split did not race the producers"
    );
    let splits = splits.len();
    let tailed_total: usize = tailed.values().map(Vec::len).sum();
    println!(
        "stress: a consumer tailing the first two shards read {tailed_total} records during the run"
    );
    let acked: usize = results.iter().map(|(a, _)| a.len()).sum();
    println!(
        "stress: {PRODUCERS} producers, {acked} acknowledged records, {splits} concurrent splits in {:.2?} ({:.0} puts/s)",
        elapsed,
        acked as f64 / elapsed.as_secs_f64()
    );

    // Per-producer chains: each PutRecord ordered after the previous one got a larger number.
    for (producer, (_, chain)) in results.iter().enumerate() {
        for w in chain.windows(2) {
            assert!(w[0] < w[1], "producer {producer}: {} then {}", w[0], w[1]);
        }
    }

    // Read everything back and compare with the acknowledgements.
    let shards = all_shards(&service);
    assert_eq!(shards.len(), 2 + 2 * splits);
    let mut expected: HashMap<(ShardId, SequenceNumber), Bytes> = HashMap::with_capacity(acked);
    for ack in results.iter().flat_map(|(a, _)| a) {
        let previous = expected.insert((ack.shard, ack.seq), ack.payload.clone());
        assert!(
            previous.is_none(),
            "number {} acknowledged twice on {}",
            ack.seq,
            ack.shard
        );
    }
    let mut read = 0usize;
    for shard in &shards {
        let records = read_shard(&service, shard.shard_id);
        if let Some(seen) = tailed.get(&shard.shard_id) {
            assert!(
                seen.len() <= records.len() && seen[..] == records[..seen.len()],
                "a consumer tailing {} during the run saw records that are not a prefix of it",
                shard.shard_id
            );
        }
        for w in records.windows(2) {
            assert!(
                w[0].sequence_number < w[1].sequence_number,
                "{} returned records out of number order",
                shard.shard_id
            );
        }
        for r in &records {
            let data = expected
                .remove(&(shard.shard_id, r.sequence_number))
                .unwrap_or_else(|| {
                    panic!(
                        "{} holds {} which nobody was acknowledged for (or it was read twice)",
                        shard.shard_id, r.sequence_number
                    )
                });
            assert_eq!(
                data, r.data,
                "record {} holds the wrong data",
                r.sequence_number
            );
        }
        read += records.len();
    }
    assert!(
        expected.is_empty(),
        "{} acknowledged records were never read back",
        expected.len()
    );
    assert_eq!(read, acked);
}
