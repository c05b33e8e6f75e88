//! Unit tests of the model's internals: check-count indexing, and what `observe` leaves behind
//! when it rejects an answer.

use super::*;
use crate::api::*;
use crate::types::{HashKeyRange, Record, ShardIteratorType, StreamStatus};
use bytes::Bytes;
use std::fmt::Write as _;
use std::sync::Arc;

const T0: u64 = 1_704_067_200_000;
const S: &str = "s";

#[test]
fn property_index_is_its_position_in_all() {
    for (i, p) in Property::ALL.iter().enumerate() {
        assert_eq!(*p as usize, i, "{p}");
        let mut c = CheckCounts::default();
        c.record(*p);
        assert_eq!(c.get(*p), 1);
        assert_eq!(c.total(), 1);
    }
}

#[test]
fn counts_add_and_subtract_saturating() {
    let mut a = CheckCounts::default();
    a.record(Property::Routing);
    let mut b = a.clone();
    b.add(&a);
    assert_eq!(b.get(Property::Routing), 2);
    b.subtract(&a);
    assert_eq!(b, a);
    let mut zero = CheckCounts::default();
    zero.subtract(&a);
    assert_eq!(zero, CheckCounts::default());
}

/// Everything the model knows except its check counts, hash containers in sorted order.
fn state(m: &Model) -> String {
    let mut out = format!(
        "{:?} incarnation={} token={}\n",
        m.config, m.next_incarnation, m.next_token
    );
    for (name, s) in &m.streams {
        let mut s = s.clone();
        let mut issued: Vec<_> = s.issued.drain().collect();
        issued.sort();
        let _ = writeln!(out, "{name}: {s:?} issued={issued:?}");
    }
    let mut rest: Vec<String> = m
        .iterators
        .iter()
        .map(|(k, v)| format!("iterator {k}={v:?}"))
        .chain(m.listings.iter().map(|(k, v)| format!("listing {k}={v:?}")))
        .chain(m.origins.iter().map(|(k, v)| format!("origin {k}={v:?}")))
        .collect();
    rest.sort();
    out + &rest.join("\n")
}

fn seq(n: u128) -> SequenceNumber {
    SequenceNumber::from_u128(n)
}

fn put_req(key: &str) -> Request {
    Request::PutRecord(PutRecordRequest {
        stream_name: S.into(),
        partition_key: key.into(),
        data: Bytes::from_static(b"data"),
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    })
}

fn landed(shard: u32, n: u128) -> PutRecordResponse {
    PutRecordResponse {
        shard_id: ShardId::new(shard),
        sequence_number: seq(n),
    }
}

fn iterator_req(kind: ShardIteratorType) -> Request {
    Request::GetShardIterator(GetShardIteratorRequest {
        stream_name: S.into(),
        shard_id: ShardId::new(0).to_string(),
        shard_iterator_type: kind,
        starting_sequence_number: None,
        timestamp_ms: None,
    })
}

fn get_req(token: &str) -> Request {
    Request::GetRecords(GetRecordsRequest {
        shard_iterator: token.into(),
        limit: None,
    })
}

/// Record `n` of the fixture (1100 put with key "a", 1200 with "b"), arriving `at`.
fn record(n: u128, at: u64) -> Record {
    Record {
        sequence_number: seq(n),
        partition_key: Arc::from(if n == 1100 { "a" } else { "b" }),
        data: Bytes::from_static(b"data"),
        approximate_arrival_ms: at,
    }
}

fn page(records: Vec<Record>, next: Option<&str>, behind: u64) -> Outcome {
    Ok(Reply::Records(GetRecordsResponse {
        records,
        next_shard_iterator: next.map(str::to_owned),
        millis_behind_latest: behind,
        child_shards: Vec::new(),
    }))
}

fn describe() -> Request {
    Request::DescribeStreamSummary(StreamRequest {
        stream_name: S.into(),
    })
}

fn summary(status: StreamStatus, hours: u32, open: u32) -> Outcome {
    Ok(Reply::Summary(StreamSummary {
        stream_name: S.into(),
        status,
        retention_period_hours: hours,
        open_shard_count: open,
    }))
}

fn list_req() -> Request {
    Request::ListShards(ListShardsRequest {
        stream_name: Some(S.into()),
        ..ListShardsRequest::default()
    })
}

fn shard0(start: u128, end: Option<u128>) -> ShardDescription {
    ShardDescription {
        shard_id: ShardId::new(0),
        parent_shard_id: None,
        adjacent_parent_shard_id: None,
        hash_key_range: HashKeyRange {
            start: 0,
            end: u128::MAX,
        },
        starting_sequence_number: seq(start),
        ending_sequence_number: end.map(seq),
    }
}

fn listed(shards: Vec<ShardDescription>) -> Outcome {
    Ok(Reply::Shards(ListShardsResponse {
        shards,
        next_token: None,
    }))
}

fn admit(m: &mut Model, r: &Request, o: &Outcome, t: u64) {
    if let Err(v) = m.observe(r, o, Window::at(t)) {
        panic!("{} rejected: {v}", r.operation());
    }
}

/// A freshly created one-shard stream, as the model knows it before any DescribeStreamSummary
/// or ListShards.
fn created() -> Model {
    let mut m = Model::new(ModelConfig::default());
    let create = Request::CreateStream(CreateStreamRequest {
        stream_name: S.into(),
        shard_count: 1,
    });
    admit(&mut m, &create, &Ok(Reply::Done), T0);
    m
}

/// An ACTIVE one-shard stream (start 1000) holding 1100 and 1200 (put at T0+3, T0+4), with a
/// TRIM_HORIZON iterator `it-1`.
fn fixture() -> Model {
    let mut m = created();
    admit(
        &mut m,
        &describe(),
        &summary(StreamStatus::ACTIVE, 24, 1),
        T0 + 1,
    );
    admit(
        &mut m,
        &list_req(),
        &listed(vec![shard0(1000, None)]),
        T0 + 2,
    );
    admit(
        &mut m,
        &put_req("a"),
        &Ok(Reply::Put(landed(0, 1100))),
        T0 + 3,
    );
    admit(
        &mut m,
        &put_req("b"),
        &Ok(Reply::Put(landed(0, 1200))),
        T0 + 4,
    );
    admit(
        &mut m,
        &iterator_req(ShardIteratorType::TRIM_HORIZON),
        &Ok(Reply::Iterator("it-1".into())),
        T0 + 5,
    );
    m
}

/// Observes `outcome` on a clone of `m`: the violation and whether the state changed.
fn rejected(m: &Model, request: &Request, outcome: &Outcome) -> (Property, bool) {
    let mut after = m.clone();
    match after.observe(request, outcome, Window::at(T0 + 10)) {
        Ok(()) => panic!("{} was admitted: {outcome:?}", request.operation()),
        Err(v) => (v.property, state(&after) != state(m)),
    }
}

#[test]
fn observe_leaves_the_model_unchanged_when_it_rejects_an_answer() {
    let m = fixture();
    let at = |n| record(n, T0 + 3 + (n as u64 - 1100) / 100);
    let put_batch = |records| {
        Request::PutRecords(PutRecordsRequest {
            stream_name: S.into(),
            records,
        })
    };
    let entry = |k: &str| PutRecordsEntry {
        partition_key: k.into(),
        data: Bytes::from_static(b"data"),
        explicit_hash_key: None,
    };
    let cases: Vec<(Request, Outcome, Property)> = vec![
        (
            describe(),
            Err(KinesisError::malformed_response("not JSON")),
            Property::Format,
        ),
        (put_req("c"), Ok(Reply::Done), Property::Format),
        (
            put_req("c"),
            Ok(Reply::Put(landed(0, 1150))),
            Property::ShardOrder,
        ),
        (
            put_req("c"),
            Ok(Reply::Put(landed(3, 1300))),
            Property::Routing,
        ),
        (
            put_req("c"),
            Err(KinesisError::in_use("busy")),
            Property::ErrorMapping,
        ),
        (
            put_req(""),
            Ok(Reply::Put(landed(0, 1300))),
            Property::ErrorMapping,
        ),
        (
            put_batch(vec![entry("c")]),
            Ok(Reply::PutBatch(PutRecordsResponse {
                failed_record_count: 0,
                records: vec![Ok(landed(0, 1300)), Ok(landed(0, 1400))],
            })),
            Property::PutRecordsShape,
        ),
        (
            iterator_req(ShardIteratorType::TRIM_HORIZON),
            Ok(Reply::Iterator("x".repeat(513))),
            Property::Format,
        ),
        (
            iterator_req(ShardIteratorType::LATEST),
            Ok(Reply::Iterator("it-1".into())),
            Property::Continuity,
        ),
        (
            get_req("it-1"),
            page(vec![at(1200)], Some("it-2"), 0),
            Property::Continuity,
        ),
        (
            get_req("it-1"),
            page(vec![at(1100), at(1200)], Some("it-2"), 7),
            Property::MillisBehind,
        ),
        (
            get_req("it-1"),
            page(vec![at(1100), at(1200)], None, 0),
            Property::ShardEnd,
        ),
        (
            get_req("it-1"),
            page(vec![record(1100, T0 + 9)], Some("it-2"), 0),
            Property::ArrivalTime,
        ),
        (
            get_req("it-1"),
            page(vec![record(1150, T0 + 3)], Some("it-2"), 0),
            Property::NoLoss,
        ),
        (
            describe(),
            summary(StreamStatus::ACTIVE, 48, 1),
            Property::Retention,
        ),
        (
            describe(),
            summary(StreamStatus::CREATING, 24, 1),
            Property::Status,
        ),
        (
            describe(),
            summary(StreamStatus::ACTIVE, 24, 2),
            Property::Listing,
        ),
        (
            Request::UpdateShardCount(UpdateShardCountRequest {
                stream_name: S.into(),
                target_shard_count: 2,
            }),
            Ok(Reply::ShardCount(UpdateShardCountResponse {
                current_shard_count: 1,
                target_shard_count: 3,
            })),
            Property::ShardCount,
        ),
        (
            Request::SplitShard(SplitShardRequest {
                stream_name: S.into(),
                shard_to_split: ShardId::new(0).to_string(),
                new_starting_hash_key: "1".into(),
            }),
            Ok(Reply::Done),
            Property::ErrorMapping,
        ),
        (
            Request::CreateStream(CreateStreamRequest {
                stream_name: S.into(),
                shard_count: 1,
            }),
            Ok(Reply::Done),
            Property::Status,
        ),
        (
            Request::ListShards(ListShardsRequest {
                stream_name: Some(S.into()),
                max_results: Some(1),
                ..ListShardsRequest::default()
            }),
            listed(vec![shard0(1000, None), shard0(1000, None)]),
            Property::Listing,
        ),
        (
            list_req(),
            listed(vec![shard0(999, None)]),
            Property::Lineage,
        ),
    ];
    for (request, outcome, property) in &cases {
        let (broken, changed) = rejected(&m, request, outcome);
        assert_eq!(broken, *property, "{request:?} -> {outcome:?}");
        assert!(!changed, "{request:?} -> {outcome:?} changed the model");
        // The failed check was counted.
        let mut after = m.clone();
        let _ = after.observe(request, outcome, Window::at(T0 + 10));
        assert!(
            after.checks().get(*property) > m.checks().get(*property),
            "{property} not counted for {request:?}"
        );
    }
}

#[test]
fn observe_changes_state_before_failing_only_in_the_documented_handlers() {
    // PutRecords: the entries before the failing one stay appended.
    let m = fixture();
    let entry = |k: &str| PutRecordsEntry {
        partition_key: k.into(),
        data: Bytes::from_static(b"data"),
        explicit_hash_key: None,
    };
    let batch = Request::PutRecords(PutRecordsRequest {
        stream_name: S.into(),
        records: vec![entry("c"), entry("d")],
    });
    let out = Ok(Reply::PutBatch(PutRecordsResponse {
        failed_record_count: 0,
        records: vec![Ok(landed(0, 1300)), Ok(landed(0, 1250))],
    }));
    let mut after = m.clone();
    let v = after
        .observe(&batch, &out, Window::at(T0 + 10))
        .expect_err("1250 is below 1300");
    assert_eq!(v.property, Property::ShardOrder);
    let log: Vec<SequenceNumber> = after.streams[S].shards[0]
        .log
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(log, [seq(1100), seq(1200), seq(1300)]);

    // PutRecord on a CREATING stream: marked ACTIVE before the answer is judged.
    let m = created();
    let mut after = m.clone();
    let v = after
        .observe(
            &put_req("a"),
            &Ok(Reply::Put(landed(4, 1100))),
            Window::at(T0 + 1),
        )
        .expect_err("shard 4 does not exist");
    assert_eq!(v.property, Property::Routing);
    assert_eq!(m.streams[S].status, StreamStatus::CREATING);
    assert_eq!(after.streams[S].status, StreamStatus::ACTIVE);

    // ListShards: what the failing shard's own description taught is kept (here its start).
    let m = created();
    let (broken, changed) = rejected(&m, &list_req(), &listed(vec![shard0(1000, Some(2000))]));
    assert_eq!(broken, Property::ShardEnd);
    assert!(changed);
    let mut after = m.clone();
    let _ = after.observe(
        &list_req(),
        &listed(vec![shard0(1000, Some(2000))]),
        Window::at(T0 + 1),
    );
    assert_eq!(after.streams[S].shards[0].start, Some(seq(1000)));
    assert_eq!(m.streams[S].shards[0].start, None);
}

#[test]
fn adopt_counts_nothing() {
    let mut m = fixture();
    let before = m.checks().clone();
    let big = Request::PutRecord(PutRecordRequest {
        stream_name: S.into(),
        partition_key: "a".into(),
        data: Bytes::from(vec![0u8; MAX_DATA_BYTES + 1]),
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    });
    let adopted = m
        .adopt(&big, &Ok(Reply::Put(landed(0, 1300))), Window::at(T0 + 10))
        .expect("representable");
    assert_eq!(adopted.records_appended, 1);
    assert_eq!(m.checks(), &before);
    assert_eq!(m.origins[&seq(1300)].shard, ShardId::new(0));
    assert!(m.streams[S].issued.contains(&seq(1300)));
}
