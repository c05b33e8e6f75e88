//! The model's check counts (`Model::checks`) and `Model::adopt`, through the public API.

use bytes::Bytes;
use seqcheck::api::*;
use seqcheck::clock::ManualClock;
use seqcheck::memory::MemoryConfig;
use seqcheck::model::*;
use seqcheck::types::*;
use seqcheck::{MemoryStream, StreamService, dispatch};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: u64 = 1_704_067_200_000;
const S: &str = "s";

fn seq(n: u128) -> SequenceNumber {
    SequenceNumber::from_u128(n)
}

fn put_req(key: &str, data: Bytes) -> Request {
    Request::PutRecord(PutRecordRequest {
        stream_name: S.into(),
        partition_key: key.into(),
        data,
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    })
}

fn put_ok(shard: u32, n: u128) -> Outcome {
    Ok(Reply::Put(PutRecordResponse {
        shard_id: ShardId::new(shard),
        sequence_number: seq(n),
    }))
}

fn iterator_req(shard: u32, kind: ShardIteratorType) -> Request {
    Request::GetShardIterator(GetShardIteratorRequest {
        stream_name: S.into(),
        shard_id: ShardId::new(shard).to_string(),
        shard_iterator_type: kind,
        starting_sequence_number: None,
        timestamp_ms: None,
    })
}

/// A PutRecords of one-byte entries with these partition keys.
fn batch_req(keys: &[&str]) -> Request {
    Request::PutRecords(PutRecordsRequest {
        stream_name: S.into(),
        records: keys
            .iter()
            .map(|k| PutRecordsEntry {
                partition_key: (*k).into(),
                data: Bytes::from_static(b"x"),
                explicit_hash_key: None,
            })
            .collect(),
    })
}

fn get_req(token: &str) -> Request {
    Request::GetRecords(GetRecordsRequest {
        shard_iterator: token.into(),
        limit: None,
    })
}

fn page(records: Vec<Record>, next: Option<&str>, behind: u64) -> Outcome {
    Ok(Reply::Records(GetRecordsResponse {
        records,
        next_shard_iterator: next.map(str::to_owned),
        millis_behind_latest: behind,
        child_shards: Vec::new(),
    }))
}

/// A one-shard stream whose every answer the test writes by hand, one millisecond apart.
struct Crafted {
    model: Model,
    t: u64,
    /// Every record the test had acknowledged, by number, as a page returns it.
    acked: BTreeMap<u128, Record>,
}

impl Crafted {
    fn new(config: ModelConfig) -> Self {
        let mut c = Crafted {
            model: Model::new(config),
            t: T0,
            acked: BTreeMap::new(),
        };
        let create = Request::CreateStream(CreateStreamRequest {
            stream_name: S.into(),
            shard_count: 1,
        });
        c.admit(&create, &Ok(Reply::Done));
        let describe = Request::DescribeStreamSummary(StreamRequest {
            stream_name: S.into(),
        });
        c.admit(
            &describe,
            &Ok(Reply::Summary(StreamSummary {
                stream_name: S.into(),
                status: StreamStatus::ACTIVE,
                retention_period_hours: 24,
                open_shard_count: 1,
            })),
        );
        let list = Request::ListShards(ListShardsRequest {
            stream_name: Some(S.into()),
            ..ListShardsRequest::default()
        });
        c.admit(
            &list,
            &Ok(Reply::Shards(ListShardsResponse {
                shards: vec![ShardDescription {
                    shard_id: ShardId::new(0),
                    parent_shard_id: None,
                    adjacent_parent_shard_id: None,
                    hash_key_range: HashKeyRange {
                        start: 0,
                        end: u128::MAX,
                    },
                    starting_sequence_number: seq(1000),
                    ending_sequence_number: None,
                }],
                next_token: None,
            })),
        );
        c
    }

    /// Records 1100 ("a") and 1200 ("b") put, and iterator "it-1" at TRIM_HORIZON.
    fn two_records_and_an_iterator() -> Self {
        let mut c = Crafted::new(ModelConfig::default());
        for (k, n) in [("a", 1100), ("b", 1200)] {
            let (r, o) = c.put(k, b"data", n);
            c.admit(&r, &o);
        }
        c.admit(
            &iterator_req(0, ShardIteratorType::TRIM_HORIZON),
            &Ok(Reply::Iterator("it-1".into())),
        );
        c
    }

    /// The window of the next request.
    fn window(&mut self) -> Window {
        self.t += 1;
        Window::at(self.t)
    }

    fn observe(&mut self, request: &Request, outcome: &Outcome) -> Result<(), Violation> {
        let w = self.window();
        self.model.observe(request, outcome, w)
    }

    fn admit(&mut self, request: &Request, outcome: &Outcome) {
        if let Err(v) = self.observe(request, outcome) {
            panic!("{} rejected: {v}", request.operation());
        }
    }

    /// Observes a rejected answer, then adopts it into the model as it was before.
    fn diverge(
        &mut self,
        request: &Request,
        outcome: &Outcome,
    ) -> (Violation, Result<Adopted, Unrepresentable>) {
        let before = self.model.clone();
        let w = self.window();
        let violation = match self.model.observe(request, outcome, w) {
            Err(v) => v,
            Ok(()) => panic!("{} was admitted", request.operation()),
        };
        self.model = before;
        (violation, self.model.adopt(request, outcome, w))
    }

    /// A put the implementation answers with shard 0 and number `n`.
    fn put(&mut self, key: &str, data: &[u8], n: u128) -> (Request, Outcome) {
        let data = Bytes::copy_from_slice(data);
        self.acked.insert(
            n,
            Record {
                sequence_number: seq(n),
                partition_key: Arc::from(key),
                data: data.clone(),
                approximate_arrival_ms: self.t + 1,
            },
        );
        (put_req(key, data), put_ok(0, n))
    }

    fn records(&self, numbers: &[u128]) -> Vec<Record> {
        numbers.iter().map(|n| self.acked[n].clone()).collect()
    }

    fn log(&self) -> Vec<SequenceNumber> {
        let stream = self.model.stream(S).expect("stream known");
        stream.shards[0].log.iter().map(|r| r.seq).collect()
    }
}

/// The counts that grew from `before` to `after`.
fn grown(before: &CheckCounts, after: &CheckCounts) -> BTreeMap<Property, u64> {
    let mut delta = after.clone();
    delta.subtract(before);
    delta.iter().filter(|(_, n)| *n > 0).collect()
}

#[test]
fn a_put_counts_routing_uniqueness_and_shard_order() {
    let mut c = Crafted::new(ModelConfig::default());
    let before = c.model.checks().clone();
    let (r, o) = c.put("a", b"one", 1100);
    c.admit(&r, &o);
    let first = grown(&before, c.model.checks());
    // The shard's start is known from the listing, so P5 is judged against it already.
    assert_eq!(
        first,
        BTreeMap::from([
            (Property::Format, 1),
            (Property::Uniqueness, 1),
            (Property::Routing, 1),
            (Property::HashPartition, 1),
            (Property::ShardOrder, 1),
        ])
    );
    let before = c.model.checks().clone();
    let (r, o) = c.put("b", b"two", 1200);
    c.admit(&r, &o);
    // Against the start and against the previous record.
    assert_eq!(
        grown(&before, c.model.checks()).get(&Property::ShardOrder),
        Some(&2)
    );
}

#[test]
fn a_rejected_put_counts_the_failed_check_and_not_the_later_ones() {
    let mut c = Crafted::new(ModelConfig::default());
    let (r, o) = c.put("a", b"one", 1100);
    c.admit(&r, &o);
    let before = c.model.checks().clone();
    let (r, o) = c.put("b", b"two", 1050);
    let v = c.observe(&r, &o).expect_err("a decreasing number");
    assert_eq!(v.property, Property::ShardOrder);
    let delta = grown(&before, c.model.checks());
    assert_eq!(delta.get(&Property::ShardOrder), Some(&1));
    assert_eq!(delta.get(&Property::Uniqueness), None, "not reached");
}

#[test]
fn a_batch_counts_its_shape_and_batch_order() {
    let mut c = Crafted::new(ModelConfig::default());
    let req = batch_req(&["a", "b", "c"]);
    let ok = |n| {
        Ok(PutRecordResponse {
            shard_id: ShardId::new(0),
            sequence_number: seq(n),
        })
    };
    let out = Ok(Reply::PutBatch(PutRecordsResponse {
        failed_record_count: 0,
        records: vec![ok(1100), ok(1200), ok(1300)],
    }));
    let before = c.model.checks().clone();
    c.admit(&req, &out);
    let delta = grown(&before, c.model.checks());
    assert_eq!(delta.get(&Property::PutRecordsShape), Some(&1));
    assert_eq!(
        delta.get(&Property::BatchOrder),
        Some(&2),
        "entries 2 and 3"
    );
    assert_eq!(delta.get(&Property::Routing), Some(&3));
    assert_eq!(delta.get(&Property::Uniqueness), Some(&3));
}

#[test]
fn an_iterator_request_counts_its_format_and_a_bad_one_its_error_mapping() {
    let mut c = Crafted::new(ModelConfig::default());
    let before = c.model.checks().clone();
    c.admit(
        &iterator_req(0, ShardIteratorType::TRIM_HORIZON),
        &Ok(Reply::Iterator("it-1".into())),
    );
    // The answer's shape and the token's length.
    assert_eq!(
        grown(&before, c.model.checks()),
        BTreeMap::from([(Property::Format, 2)])
    );
    let before = c.model.checks().clone();
    c.admit(
        &iterator_req(0, ShardIteratorType::LATEST),
        &Ok(Reply::Iterator("it-1".into())),
    );
    // A known string again: judged for Continuity (same place, so admitted).
    assert_eq!(
        grown(&before, c.model.checks()).get(&Property::Continuity),
        Some(&1)
    );
    let before = c.model.checks().clone();
    c.admit(
        &iterator_req(7, ShardIteratorType::TRIM_HORIZON),
        &Err(KinesisError::not_found("no such shard")),
    );
    assert_eq!(
        grown(&before, c.model.checks()),
        BTreeMap::from([(Property::Format, 1), (Property::ErrorMapping, 1)])
    );
}

#[test]
fn a_page_counts_position_continuity_records_arrival_shard_end_and_millis_behind() {
    let mut c = Crafted::two_records_and_an_iterator();
    let before = c.model.checks().clone();
    let records = c.records(&[1100, 1200]);
    c.admit(&get_req("it-1"), &page(records, Some("it-2"), 0));
    assert_eq!(
        grown(&before, c.model.checks()),
        BTreeMap::from([
            (Property::Format, 2),
            (Property::NoLoss, 2),
            (Property::IteratorPosition, 1),
            (Property::Continuity, 1),
            (Property::ShardEnd, 1),
            (Property::MillisBehind, 1),
            (Property::ArrivalTime, 2),
        ])
    );
    // An empty page at the tip judges no record, but still the shard end and P23.
    let before = c.model.checks().clone();
    c.admit(&get_req("it-2"), &page(Vec::new(), Some("it-3"), 0));
    assert_eq!(
        grown(&before, c.model.checks()),
        BTreeMap::from([
            (Property::Format, 2),
            (Property::ShardEnd, 1),
            (Property::MillisBehind, 1),
        ])
    );
}

#[test]
fn millis_behind_is_not_counted_when_not_strict() {
    let config = ModelConfig {
        strict_millis_behind: false,
        ..ModelConfig::default()
    };
    let mut c = Crafted::new(config);
    let (r, o) = c.put("a", b"data", 1100);
    c.admit(&r, &o);
    c.admit(
        &iterator_req(0, ShardIteratorType::TRIM_HORIZON),
        &Ok(Reply::Iterator("it-1".into())),
    );
    let records = c.records(&[1100]);
    // At the tip of an open shard, with a non-zero lag the strict model would reject.
    c.admit(&get_req("it-1"), &page(records, Some("it-2"), 1234));
    assert_eq!(c.model.checks().get(Property::MillisBehind), 0);
    assert!(c.model.checks().get(Property::ShardEnd) > 0);
}

#[test]
fn the_aws_layout_is_judged_only_when_required() {
    // Readable numbers, layout not required: Format counts only the answers' shape.
    let mut c = Crafted::new(ModelConfig::default());
    let before = c.model.checks().get(Property::Format);
    let (r, o) = c.put("a", b"data", 1100);
    c.admit(&r, &o);
    assert_eq!(c.model.checks().get(Property::Format), before + 1);
    // Layout required: the number is judged too (and fails, being readable).
    let mut strict = Model::new(ModelConfig {
        require_aws_layout: true,
        ..ModelConfig::default()
    });
    let create = Request::CreateStream(CreateStreamRequest {
        stream_name: S.into(),
        shard_count: 1,
    });
    strict
        .observe(&create, &Ok(Reply::Done), Window::at(T0))
        .expect("created");
    let before = strict.checks().get(Property::Format);
    let v = strict
        .observe(&r, &o, Window::at(T0 + 1))
        .expect_err("not an AWS-layout number");
    assert_eq!(v.property, Property::Format);
    assert_eq!(strict.checks().get(Property::Format), before + 2);
}

#[test]
fn nothing_is_counted_when_the_model_answers_itself() {
    let mut m = Model::new(ModelConfig::default());
    let t = T0;
    let answers = [
        Request::CreateStream(CreateStreamRequest {
            stream_name: S.into(),
            shard_count: 2,
        }),
        Request::ListShards(ListShardsRequest {
            stream_name: Some(S.into()),
            ..ListShardsRequest::default()
        }),
        put_req("a", Bytes::from_static(b"x")),
        put_req("", Bytes::from_static(b"x")),
        iterator_req(0, ShardIteratorType::TRIM_HORIZON),
        iterator_req(9, ShardIteratorType::TRIM_HORIZON),
    ];
    let mut token = None;
    for r in &answers {
        if let Ok(Reply::Iterator(it)) = m.answer(r, t) {
            token = Some(it);
        }
    }
    let token = token.expect("an iterator");
    let _ = m.answer(&get_req(&token), t);
    let _ = m.answer(&get_req("unknown"), t);
    assert_eq!(m.checks(), &CheckCounts::default());
    assert_eq!(m.checks().total(), 0);
}

#[test]
fn counts_serialise_as_a_map_of_every_property() {
    let mut counts = CheckCounts::default();
    counts.record(Property::NoLoss);
    counts.record(Property::NoLoss);
    let mut other = CheckCounts::default();
    other.record(Property::Routing);
    counts.add(&other);
    let json = serde_json::to_value(&counts).expect("serialises");
    let map = json.as_object().expect("a map");
    assert_eq!(map.len(), Property::ALL.len());
    assert_eq!(map["NoLoss"], 2);
    assert_eq!(map["Routing"], 1);
    assert_eq!(map["Format"], 0);
    let order: Vec<Property> = counts.iter().map(|(p, _)| p).collect();
    assert_eq!(order, Property::ALL);
}

/// Drives the embedded service and has the model judge every answer.
struct Driver {
    service: MemoryStream,
    model: Model,
}

impl Driver {
    fn send(&mut self, request: Request) -> Outcome {
        let lo = self.service.now_ms();
        let outcome = dispatch(&self.service, &request);
        let hi = self.service.now_ms();
        if let Err(v) = self.model.observe(&request, &outcome, Window { lo, hi }) {
            panic!("{} rejected: {v}", request.operation());
        }
        outcome
    }

    /// Sends a request whose answer only the model needs.
    fn call(&mut self, request: Request) {
        let _ = self.send(request);
    }

    fn list(&mut self) -> Vec<ShardDescription> {
        match self.send(Request::ListShards(ListShardsRequest {
            stream_name: Some(S.into()),
            ..ListShardsRequest::default()
        })) {
            Ok(Reply::Shards(page)) => page.shards,
            other => panic!("ListShards: {other:?}"),
        }
    }

    fn iterator(&mut self, shard: ShardId) -> String {
        match self.send(Request::GetShardIterator(GetShardIteratorRequest {
            stream_name: S.into(),
            shard_id: shard.to_string(),
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        })) {
            Ok(Reply::Iterator(it)) => it,
            other => panic!("GetShardIterator: {other:?}"),
        }
    }

    /// Follows `it` with pages of at most 2 records until the shard ends or a page is empty;
    /// the last iterator, if the shard did not end.
    fn read(&mut self, mut it: String) -> Option<String> {
        for _ in 0..20 {
            let request = Request::GetRecords(GetRecordsRequest {
                shard_iterator: it.clone(),
                limit: Some(2),
            });
            match self.send(request) {
                Ok(Reply::Records(p)) => match p.next_shard_iterator {
                    None => return None,
                    Some(next) if p.records.is_empty() => return Some(next),
                    Some(next) => it = next,
                },
                other => panic!("GetRecords: {other:?}"),
            }
        }
        Some(it)
    }

    fn put(&mut self, key: &str) {
        self.call(put_req(key, Bytes::from(format!("payload of {key}"))));
    }
}

/// Every property a create, listing, puts, reads and a split with reads to the parent's end
/// must have judged at least once.
const REALISTIC: [Property; 16] = [
    Property::Format,
    Property::Uniqueness,
    Property::Routing,
    Property::HashPartition,
    Property::ShardOrder,
    Property::NoLoss,
    Property::BatchOrder,
    Property::PutRecordsShape,
    Property::IteratorPosition,
    Property::Continuity,
    Property::ShardEnd,
    Property::Lineage,
    Property::CrossReshardOrder,
    Property::ArrivalTime,
    Property::Listing,
    Property::ErrorMapping,
];

fn realistic_counts() -> CheckCounts {
    let clock = ManualClock::default();
    let mut d = Driver {
        service: MemoryStream::with_manual_clock(MemoryConfig::default(), clock.clone()),
        model: Model::new(ModelConfig::default()),
    };
    d.call(Request::CreateStream(CreateStreamRequest {
        stream_name: S.into(),
        shard_count: 1,
    }));
    d.call(Request::DescribeStreamSummary(StreamRequest {
        stream_name: S.into(),
    }));
    let shards = d.list();
    assert_eq!(shards.len(), 1);
    for i in 0..4 {
        d.put(&format!("user-{i}"));
        clock.advance(5);
    }
    let batch: Vec<PutRecordsEntry> = (0..3)
        .map(|i| PutRecordsEntry {
            partition_key: format!("batch-{i}"),
            data: Bytes::from_static(b"b"),
            explicit_hash_key: None,
        })
        .collect();
    d.call(Request::PutRecords(PutRecordsRequest {
        stream_name: S.into(),
        records: batch,
    }));
    let parent = shards[0].shard_id;
    let it = d.iterator(parent);
    let tail = d.read(it).expect("an open shard does not end");
    d.call(Request::SplitShard(SplitShardRequest {
        stream_name: S.into(),
        shard_to_split: parent.to_string(),
        new_starting_hash_key: (1u128 << 127).to_string(),
    }));
    d.call(Request::DescribeStreamSummary(StreamRequest {
        stream_name: S.into(),
    }));
    let shards = d.list();
    assert_eq!(shards.len(), 3);
    for i in 0..6 {
        d.put(&format!("user-{i}"));
        clock.advance(5);
    }
    assert_eq!(d.read(tail), None, "the closed parent ends");
    for child in shards.iter().filter(|s| s.parent_shard_id == Some(parent)) {
        let it = d.iterator(child.shard_id);
        d.read(it);
    }
    // A request Kinesis refuses.
    d.call(iterator_req(99, ShardIteratorType::TRIM_HORIZON));
    d.model.checks().clone()
}

/// The properties of `required` that `counts` never judged.
fn unjudged(counts: &CheckCounts, required: &[Property]) -> Vec<Property> {
    required
        .iter()
        .copied()
        .filter(|p| counts.get(*p) == 0)
        .collect()
}

#[test]
fn a_realistic_sequence_judges_every_property_it_exercises() {
    let counts = realistic_counts();
    assert_eq!(unjudged(&counts, &REALISTIC), Vec::<Property>::new());
    // Nothing expires, no iterator ages, no UpdateShardCount: those stay unjudged.
    for p in [
        Property::Expiry,
        Property::ShardCount,
        Property::OrderingNumber,
    ] {
        assert_eq!(counts.get(p), 0, "{p} was not exercised");
    }
}

/// The counts a model would report that never records `forgotten` (recording has no other
/// effect, so this is exactly its output).
fn forgetting(counts: &CheckCounts, forgotten: Property) -> CheckCounts {
    let mut twin = CheckCounts::default();
    for (p, n) in counts.iter().filter(|(p, _)| *p != forgotten) {
        for _ in 0..n {
            twin.record(p);
        }
    }
    twin
}

#[test]
fn broken_twin_a_model_that_never_records_a_property_is_caught() {
    let counts = realistic_counts();
    for p in REALISTIC {
        assert_eq!(unjudged(&forgetting(&counts, p), &REALISTIC), vec![p]);
    }
}

#[test]
fn adopting_an_accepted_oversized_put_expects_the_record_back() {
    let mut c = Crafted::new(ModelConfig::default());
    let (r, o) = c.put("a", b"small", 1100);
    c.admit(&r, &o);
    let big = vec![b'x'; MAX_DATA_BYTES + 1];
    let (r, o) = c.put("a", &big, 1200);
    let (violation, adopted) = c.diverge(&r, &o);
    assert_eq!(violation.property, Property::ErrorMapping);
    let adopted = adopted.expect("representable");
    assert_eq!(adopted.records_appended, 1);
    assert_eq!(c.log(), [seq(1100), seq(1200)]);
    let stream = c.model.stream(S).expect("stream");
    assert_eq!(stream.shards[0].log[1].data.len(), MAX_DATA_BYTES + 1);
    let (r, o) = c.put("b", b"after", 1300);
    c.admit(&r, &o);
    c.admit(
        &iterator_req(0, ShardIteratorType::TRIM_HORIZON),
        &Ok(Reply::Iterator("it-1".into())),
    );
    // A read-back that omits the adopted record skips it.
    let without = c.records(&[1100, 1300]);
    let mut probe = c.model.clone();
    let v = probe
        .observe(
            &get_req("it-1"),
            &page(without, Some("it-2"), 0),
            c.window(),
        )
        .expect_err("the adopted record is expected");
    assert_eq!(v.property, Property::Continuity);
    assert!(v.detail.contains("skipped record 1200"), "{v}");
    // One that returns it is admitted.
    let with = c.records(&[1100, 1200, 1300]);
    c.admit(&get_req("it-1"), &page(with, Some("it-2"), 0));
}

#[test]
fn adopting_a_batch_appends_only_the_acknowledged_entries() {
    let mut c = Crafted::new(ModelConfig::default());
    // An empty key, which Kinesis refuses, accepted together with a throttled entry.
    let req = batch_req(&["", "b", "c"]);
    let out = Ok(Reply::PutBatch(PutRecordsResponse {
        failed_record_count: 1,
        records: vec![
            Ok(PutRecordResponse {
                shard_id: ShardId::new(0),
                sequence_number: seq(1100),
            }),
            Err(KinesisError::new(
                ErrorKind::ProvisionedThroughputExceededException,
                "slow down",
            )),
            Ok(PutRecordResponse {
                shard_id: ShardId::new(0),
                sequence_number: seq(1300),
            }),
        ],
    }));
    let (violation, adopted) = c.diverge(&req, &out);
    assert_eq!(violation.property, Property::ErrorMapping);
    assert_eq!(adopted.expect("representable").records_appended, 2);
    assert_eq!(c.log(), [seq(1100), seq(1300)]);
    let stream = c.model.stream(S).expect("stream");
    assert_eq!(&*stream.shards[0].log[0].partition_key, "");
}

#[test]
fn adopting_a_put_the_model_cannot_place_is_unrepresentable() {
    let mut c = Crafted::new(ModelConfig::default());
    let (r, o) = c.put("a", b"x", 1100);
    c.admit(&r, &o);
    let w = c.window();
    let big = Bytes::from(vec![b'x'; MAX_DATA_BYTES + 1]);
    let cases = [
        (put_ok(0, 1100), "not above the shard's last number 1100"),
        (put_ok(5, 1200), "does not know"),
    ];
    for (outcome, reason) in cases {
        let before = format!("{:?}", c.model.stream(S));
        let e = c
            .model
            .adopt(&put_req("a", big.clone()), &outcome, w)
            .expect_err("unrepresentable");
        assert!(e.reason.contains(reason), "{e}");
        assert_eq!(format!("{:?}", c.model.stream(S)), before, "unchanged");
    }
    let elsewhere = Request::PutRecord(PutRecordRequest {
        stream_name: "other".into(),
        partition_key: "a".into(),
        data: big.clone(),
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    });
    let e = c
        .model
        .adopt(&elsewhere, &put_ok(0, 1200), w)
        .expect_err("unknown stream");
    assert!(e.to_string().contains("knows no such stream"), "{e}");
    // After a split the parent is closed.
    let split = Request::SplitShard(SplitShardRequest {
        stream_name: S.into(),
        shard_to_split: ShardId::new(0).to_string(),
        new_starting_hash_key: (1u128 << 127).to_string(),
    });
    c.admit(&split, &Ok(Reply::Done));
    let w = c.window();
    let e = c
        .model
        .adopt(&put_req("a", big), &put_ok(0, 1200), w)
        .expect_err("closed shard");
    assert!(e.reason.contains("closed"), "{e}");
}

#[test]
fn adopting_a_page_makes_its_next_iterator_usable() {
    let mut c = Crafted::two_records_and_an_iterator();
    // At the tip of an open shard but claiming to lag: rejected (P23), then adopted.
    let records = c.records(&[1100, 1200]);
    let (violation, adopted) = c.diverge(&get_req("it-1"), &page(records, Some("it-2"), 5000));
    assert_eq!(violation.property, Property::MillisBehind);
    let adopted = adopted.expect("representable");
    assert!(adopted.next_iterator_known);
    assert_eq!(adopted.records_appended, 0);
    let (r, o) = c.put("c", b"data", 1300);
    c.admit(&r, &o);
    // The chain goes on being judged: repeating 1200 is caught, resuming at 1300 admitted.
    let repeat = c.records(&[1200, 1300]);
    let mut probe = c.model.clone();
    let v = probe
        .observe(&get_req("it-2"), &page(repeat, Some("it-3"), 0), c.window())
        .expect_err("it-2 resumes after 1200");
    assert_eq!(v.property, Property::IteratorPosition);
    let before = c.model.checks().clone();
    let next = c.records(&[1300]);
    c.admit(&get_req("it-2"), &page(next, Some("it-3"), 0));
    assert_eq!(
        grown(&before, c.model.checks()).get(&Property::IteratorPosition),
        Some(&1)
    );
}

#[test]
fn adopting_a_page_read_through_an_unknown_iterator_leaves_the_next_unknown() {
    let mut c = Crafted::new(ModelConfig::default());
    let w = c.window();
    let adopted = c
        .model
        .adopt(
            &get_req("never-issued"),
            &page(Vec::new(), Some("it-9"), 0),
            w,
        )
        .expect("a read changes nothing");
    assert!(!adopted.next_iterator_known);
    // So the model still does not know it-9.
    let v = c
        .observe(&get_req("it-9"), &page(Vec::new(), Some("it-10"), 0))
        .expect_err("unknown iterator");
    assert_eq!(v.property, Property::ErrorMapping);
}

#[test]
fn adopting_an_accepted_iterator_leaves_it_unknown() {
    let mut c = Crafted::new(ModelConfig::default());
    // AT_SEQUENCE_NUMBER without a number: Kinesis refuses it.
    let (violation, adopted) = c.diverge(
        &iterator_req(0, ShardIteratorType::AT_SEQUENCE_NUMBER),
        &Ok(Reply::Iterator("it-x".into())),
    );
    assert_eq!(violation.property, Property::ErrorMapping);
    assert!(!adopted.expect("a read changes nothing").next_iterator_known);
}

#[test]
fn adopting_an_error_changes_nothing() {
    let mut c = Crafted::new(ModelConfig::default());
    let (r, _) = c.put("a", b"x", 1100);
    let before = format!("{:?}", c.model.stream(S));
    let w = c.window();
    let adopted = c
        .model
        .adopt(&r, &Err(KinesisError::invalid_argument("no")), w)
        .expect("errors are atomic");
    assert_eq!(adopted.records_appended, 0);
    assert_eq!(format!("{:?}", c.model.stream(S)), before);
    // An unknown outcome of a put may or may not have stored the record.
    let e = c
        .model
        .adopt(
            &r,
            &Err(KinesisError::new(ErrorKind::Indeterminate, "timeout")),
            w,
        )
        .expect_err("unknown outcome");
    assert!(e.reason.contains("unknown outcome"), "{e}");
}

#[test]
fn adopting_an_accepted_split_follows_it_only_when_it_is_a_split() {
    let split_at = |k: &str| {
        Request::SplitShard(SplitShardRequest {
            stream_name: S.into(),
            shard_to_split: ShardId::new(0).to_string(),
            new_starting_hash_key: k.into(),
        })
    };
    // At StartingHashKey: Kinesis refuses, and the effect would be no split at all.
    let mut c = Crafted::new(ModelConfig::default());
    let before = format!("{:?}", c.model.stream(S));
    let (violation, adopted) = c.diverge(&split_at("0"), &Ok(Reply::Done));
    assert_eq!(violation.property, Property::ErrorMapping);
    let e = adopted.expect_err("the model cannot follow a split that splits nothing");
    assert_eq!(e.operation, "SplitShard");
    assert_eq!(
        e.to_string(),
        "SplitShard was accepted where Kinesis rejects it with InvalidArgumentException; \
         the model cannot follow the implementation's shard map"
    );
    assert_eq!(format!("{:?}", c.model.stream(S)), before);
    // At StartingHashKey + 1: Kinesis refuses (its bound is start + 1 < k), but the effect is a
    // split of an open shard into [0..0] and [1..max], which the model follows.
    let mut c = Crafted::new(ModelConfig::default());
    let (violation, adopted) = c.diverge(&split_at("1"), &Ok(Reply::Done));
    assert_eq!(violation.property, Property::ErrorMapping);
    adopted.expect("a split the model can draw");
    let stream = c.model.stream(S).expect("stream");
    let open: Vec<_> = stream
        .open_shards()
        .iter()
        .map(|s| (s.range.start, s.range.end))
        .collect();
    assert_eq!(open, [(0, 0), (1, u128::MAX)]);
}

#[test]
fn observe_leaves_the_stream_unchanged_when_it_rejects_a_page() {
    let mut c = Crafted::two_records_and_an_iterator();
    let before = format!("{:?}", c.model.stream(S));
    let skipping = c.records(&[1200]);
    let v = c
        .observe(&get_req("it-1"), &page(skipping, Some("it-2"), 0))
        .expect_err("skips 1100");
    assert_eq!(v.property, Property::Continuity);
    assert_eq!(format!("{:?}", c.model.stream(S)), before);
    // it-2 was not registered.
    let v = c
        .observe(&get_req("it-2"), &page(Vec::new(), Some("it-3"), 0))
        .expect_err("it-2 is unknown");
    assert_eq!(v.property, Property::ErrorMapping);
}

/// With real clocks the model only bounds where an AT_TIMESTAMP iterator starts. A service
/// whose iterator strings encode the position hands out the same string as for the exact
/// position inside that bound; that is the same place, not a skip. The broken twin: the same
/// string for a position outside the bound is still caught.
#[test]
fn an_at_timestamp_iterator_may_share_its_string_with_an_exact_position_inside_its_bound() {
    let at_timestamp = |t: u64| {
        Request::GetShardIterator(GetShardIteratorRequest {
            timestamp_ms: Some(t),
            ..match iterator_req(0, ShardIteratorType::AT_TIMESTAMP) {
                Request::GetShardIterator(r) => r,
                _ => unreachable!(),
            }
        })
    };
    let after = |n: u128| {
        Request::GetShardIterator(GetShardIteratorRequest {
            starting_sequence_number: Some(seq(n).to_string()),
            ..match iterator_req(0, ShardIteratorType::AFTER_SEQUENCE_NUMBER) {
                Request::GetShardIterator(r) => r,
                _ => unreachable!(),
            }
        })
    };
    let setup = || {
        let mut c = Crafted::new(ModelConfig::default());
        // Two puts whose arrival the model only knows within their request windows.
        for (key, n, lo) in [("a", 1100, T0 + 100), ("b", 1200, T0 + 200)] {
            let w = Window { lo, hi: lo + 50 };
            c.model
                .observe(&put_req(key, Bytes::from_static(b"x")), &put_ok(0, n), w)
                .expect("put admitted");
        }
        c
    };
    let w = Window::at(T0 + 1_000);
    // After 1100 is the start of 1200: exactly the place an AT_TIMESTAMP inside 1200's window
    // may start at (1100 may or may not have arrived by then).
    let mut c = setup();
    let token = Ok(Reply::Iterator("pos-1".into()));
    c.model
        .observe(&after(1100), &token, w)
        .expect("after 1100");
    c.model
        .observe(&at_timestamp(T0 + 120), &token, w)
        .expect("the same place: admitted");
    // The other order: the bounded one first, then the exact one.
    let mut c = setup();
    c.model
        .observe(&at_timestamp(T0 + 120), &token, w)
        .expect("bounded");
    c.model
        .observe(&after(1100), &token, w)
        .expect("the same place");
    // The broken twin: AFTER 1200 (the tip) is outside the bound of a timestamp before 1100.
    let mut c = setup();
    c.model
        .observe(&after(1200), &token, w)
        .expect("after 1200");
    let v = c
        .model
        .observe(&at_timestamp(T0), &token, w)
        .expect_err("two places, one string");
    assert_eq!(v.property, Property::Continuity, "{v}");
}

/// A shard's StartingSequenceNumber names that shard: used on another shard it is refused
/// (kinesis-semantics §3.2), like a record's number would be; on its own shard it is fine.
#[test]
fn another_shards_starting_number_is_foreign_to_a_shard() {
    let mut model = Model::new(ModelConfig::default());
    let mut t = T0;
    let mut observe = |m: &mut Model, r: Request, o: Outcome| {
        t += 1;
        m.observe(&r, &o, Window::at(t))
    };
    let half = u128::MAX / 2;
    let shard = |i: u32, start: u128, end: u128, first: u128| ShardDescription {
        shard_id: ShardId::new(i),
        parent_shard_id: None,
        adjacent_parent_shard_id: None,
        hash_key_range: HashKeyRange { start, end },
        starting_sequence_number: seq(first),
        ending_sequence_number: None,
    };
    let setup = [
        (
            Request::CreateStream(CreateStreamRequest {
                stream_name: S.into(),
                shard_count: 2,
            }),
            Ok(Reply::Done),
        ),
        (
            Request::DescribeStreamSummary(StreamRequest {
                stream_name: S.into(),
            }),
            Ok(Reply::Summary(StreamSummary {
                stream_name: S.into(),
                status: StreamStatus::ACTIVE,
                retention_period_hours: 24,
                open_shard_count: 2,
            })),
        ),
        (
            Request::ListShards(ListShardsRequest {
                stream_name: Some(S.into()),
                ..ListShardsRequest::default()
            }),
            Ok(Reply::Shards(ListShardsResponse {
                shards: vec![shard(0, 0, half, 1000), shard(1, half + 1, u128::MAX, 2000)],
                next_token: None,
            })),
        ),
    ];
    for (r, o) in setup {
        observe(&mut model, r, o).expect("set-up admitted");
    }
    let after = |on: u32, n: u128| {
        Request::GetShardIterator(GetShardIteratorRequest {
            stream_name: S.into(),
            shard_id: ShardId::new(on).to_string(),
            shard_iterator_type: ShardIteratorType::AFTER_SEQUENCE_NUMBER,
            starting_sequence_number: Some(seq(n).to_string()),
            timestamp_ms: None,
        })
    };
    let token = |s: &str| Ok(Reply::Iterator(s.into()));
    observe(&mut model, after(1, 2000), token("own")).expect("its own start is fine");
    let v = observe(&mut model, after(0, 2000), token("foreign")).expect_err("foreign");
    assert_eq!(v.property, Property::ErrorMapping);
    assert!(v.detail.contains("It encodes shardId-000000000001"), "{v}");
}

fn create_req(shards: i64) -> Request {
    Request::CreateStream(CreateStreamRequest {
        stream_name: S.into(),
        shard_count: shards,
    })
}

fn describe_req() -> Request {
    Request::DescribeStreamSummary(StreamRequest {
        stream_name: S.into(),
    })
}

fn list_req() -> Request {
    Request::ListShards(ListShardsRequest {
        stream_name: Some(S.into()),
        ..ListShardsRequest::default()
    })
}

/// `floor(2^128 / n)` by long division of `2^128 = 2 * 2^127`, for `n >= 2` (`2^128` itself
/// does not fit).
fn floor_2_pow_128_over(n: u128) -> u128 {
    let half = 1u128 << 127;
    2 * (half / n) + (2 * (half % n)) / n
}

/// The ranges kinesis-semantics §2.4 records for a new stream of `n` shards.
fn aws_split(n: u32) -> Vec<HashKeyRange> {
    if n == 1 {
        return vec![HashKeyRange {
            start: 0,
            end: u128::MAX,
        }];
    }
    let h = floor_2_pow_128_over(u128::from(n));
    (0..u128::from(n))
        .map(|i| HashKeyRange {
            start: h * i,
            end: if i + 1 == u128::from(n) {
                u128::MAX
            } else {
                h * (i + 1) - 1
            },
        })
        .collect()
}

fn listed_ranges(outcome: &Outcome) -> Vec<HashKeyRange> {
    match outcome {
        Ok(Reply::Shards(page)) => page.shards.iter().map(|s| s.hash_key_range).collect(),
        other => panic!("ListShards: {other:?}"),
    }
}

/// The embedded service and the model's own answers split a new stream exactly as AWS does,
/// and the model admits that split, for 1 to 8 shards.
#[test]
fn new_streams_are_split_at_floor_2_pow_128_over_n() {
    for n in 1..=8u32 {
        let mut d = Driver {
            service: MemoryStream::with_manual_clock(
                MemoryConfig::default(),
                ManualClock::default(),
            ),
            model: Model::new(ModelConfig::default()),
        };
        d.call(create_req(i64::from(n)));
        d.call(describe_req());
        let before = d.model.checks().clone();
        let listed: Vec<HashKeyRange> = d.list().iter().map(|s| s.hash_key_range).collect();
        assert_eq!(listed, aws_split(n), "embedded service, n={n}");
        // One check per shard the stream was created with, one of the complete listing.
        assert_eq!(
            grown(&before, d.model.checks()).get(&Property::HashPartition),
            Some(&(u64::from(n) + 1))
        );

        let own = ModelService::default();
        assert!(dispatch(&own, &create_req(i64::from(n))).is_ok());
        assert_eq!(
            listed_ranges(&dispatch(&own, &list_req())),
            aws_split(n),
            "ModelService, n={n}"
        );
    }
    assert_eq!(aws_split(2)[1].start, 1u128 << 127);
    assert_eq!(aws_split(3)[0].end, 113427455640312821154458202477256070484);
    assert_eq!(
        aws_split(3)[2].start,
        226854911280625642308916404954512140970
    );
}

/// A two-shard listing whose ranges partition the space at (2^128 - 1) / 2.
fn split_below_2_pow_127() -> Outcome {
    let boundary = u128::MAX / 2;
    let shard = |i: u32, start: u128, end: u128| ShardDescription {
        shard_id: ShardId::new(i),
        parent_shard_id: None,
        adjacent_parent_shard_id: None,
        hash_key_range: HashKeyRange { start, end },
        starting_sequence_number: seq(1000 * (u128::from(i) + 1)),
        ending_sequence_number: None,
    };
    Ok(Reply::Shards(ListShardsResponse {
        shards: vec![shard(0, 0, boundary - 1), shard(1, boundary, u128::MAX)],
        next_token: None,
    }))
}

fn active(open: u32) -> Outcome {
    Ok(Reply::Summary(StreamSummary {
        stream_name: S.into(),
        status: StreamStatus::ACTIVE,
        retention_period_hours: 24,
        open_shard_count: open,
    }))
}

/// A model that saw a two-shard stream created and reported ACTIVE, not yet listed.
fn active_two_shard_stream() -> Model {
    let mut model = Model::new(ModelConfig::default());
    model
        .observe(&create_req(2), &Ok(Reply::Done), Window::at(T0))
        .expect("create");
    model
        .observe(&describe_req(), &active(2), Window::at(T0 + 1))
        .expect("describe");
    model
}

#[test]
fn another_initial_split_breaks_hash_partition_and_names_the_expected_ranges() {
    let mut model = active_two_shard_stream();
    let before = model.clone();
    let v = model
        .observe(&list_req(), &split_below_2_pow_127(), Window::at(T0 + 2))
        .expect_err("the split differs from floor(2^128/2)");
    assert_eq!(v.property, Property::HashPartition, "{v}");
    assert!(
        v.detail.contains(
            "shardId-000000000000 [0, 170141183460469231731687303715884105727], \
             shardId-000000000001 [170141183460469231731687303715884105728, \
             340282366920938463463374607431768211455]"
        ),
        "{v}"
    );

    // Recorded as a divergence, the split is taken over and the case goes on with it.
    let mut model = before;
    let counted = model.checks().clone();
    model
        .adopt(&list_req(), &split_below_2_pow_127(), Window::at(T0 + 2))
        .expect("a partition of the space can be adopted");
    assert_eq!(model.checks(), &counted, "adopt counts nothing");
    let ranges: Vec<HashKeyRange> = model
        .stream(S)
        .expect("stream")
        .shards
        .iter()
        .map(|s| s.range)
        .collect();
    assert_eq!(ranges, listed_ranges(&split_below_2_pow_127()));
    let on_the_boundary = Request::PutRecord(PutRecordRequest {
        stream_name: S.into(),
        partition_key: "k".into(),
        data: Bytes::from_static(b"x"),
        explicit_hash_key: Some((u128::MAX / 2).to_string()),
        sequence_number_for_ordering: None,
    });
    model
        .observe(&on_the_boundary, &put_ok(1, 2100), Window::at(T0 + 3))
        .expect("routed by the adopted ranges");
    model
        .observe(&list_req(), &split_below_2_pow_127(), Window::at(T0 + 4))
        .expect("the adopted split is the stream's from now on");
}

#[test]
fn an_initial_split_that_does_not_partition_the_space_cannot_be_adopted() {
    let mut model = active_two_shard_stream();
    let mut gap = split_below_2_pow_127();
    if let Ok(Reply::Shards(page)) = &mut gap {
        page.shards[1].hash_key_range.start += 1;
    }
    let before = model.stream(S).expect("stream").shards.clone();
    let err = model
        .adopt(&list_req(), &gap, Window::at(T0 + 2))
        .expect_err("a gap in the hash space");
    assert!(err.reason.contains("do not partition"), "{err}");
    let after = &model.stream(S).expect("stream").shards;
    assert_eq!(
        before.iter().map(|s| s.range).collect::<Vec<_>>(),
        after.iter().map(|s| s.range).collect::<Vec<_>>(),
        "unchanged on Err"
    );
}

impl Driver {
    /// What the embedded service answers, without judging it.
    fn answer(&self, request: &Request) -> Outcome {
        dispatch(&self.service, request)
    }

    /// Has the model judge `outcome` for `request`, sent now.
    fn judge(&mut self, request: &Request, outcome: &Outcome) -> Result<(), Violation> {
        let now = self.service.now_ms();
        self.model.observe(request, outcome, Window::at(now))
    }

    fn iterator_of(&mut self, shard: ShardId, kind: ShardIteratorType) -> String {
        match self.send(Request::GetShardIterator(GetShardIteratorRequest {
            stream_name: S.into(),
            shard_id: shard.to_string(),
            shard_iterator_type: kind,
            starting_sequence_number: None,
            timestamp_ms: None,
        })) {
            Ok(Reply::Iterator(it)) => it,
            other => panic!("GetShardIterator: {other:?}"),
        }
    }
}

/// A one-shard stream with two records (arrived `age_ms` before the split), split in two:
/// shard 0 is closed.
fn split_after_two_records(age_ms: u64) -> (Driver, ManualClock) {
    let clock = ManualClock::default();
    let mut d = Driver {
        service: MemoryStream::with_manual_clock(MemoryConfig::default(), clock.clone()),
        model: Model::new(ModelConfig::default()),
    };
    d.call(create_req(1));
    d.call(describe_req());
    d.list();
    d.put("a");
    d.put("b");
    clock.advance(age_ms);
    d.call(Request::SplitShard(SplitShardRequest {
        stream_name: S.into(),
        shard_to_split: ShardId::new(0).to_string(),
        new_starting_hash_key: (1u128 << 127).to_string(),
    }));
    d.call(describe_req());
    assert_eq!(d.list().len(), 3);
    (d, clock)
}

/// `outcome`'s page with its NextShardIterator replaced by `next` and no ChildShards.
fn going_on(outcome: &Outcome, next: &str) -> Outcome {
    match outcome {
        Ok(Reply::Records(p)) => Ok(Reply::Records(GetRecordsResponse {
            next_shard_iterator: Some(next.into()),
            child_shards: Vec::new(),
            ..p.clone()
        })),
        other => panic!("GetRecords: {other:?}"),
    }
}

/// An empty page with `next` as its NextShardIterator.
fn empty_going_on(next: &str) -> Outcome {
    page(Vec::new(), Some(next), 0)
}

#[test]
fn a_closed_shard_ends_on_its_last_page_or_the_first_empty_page_after_it() {
    let (mut d, _clock) = split_after_two_records(10);
    let it = d.iterator_of(ShardId::new(0), ShardIteratorType::TRIM_HORIZON);
    let read = get_req(&it);
    let last_page = d.answer(&read);
    // The page with the last records may carry a non-null iterator (§4.4).
    d.judge(&read, &going_on(&last_page, "past-the-end"))
        .expect("the last non-empty page may go on");
    let past = get_req("past-the-end");
    // The end on the next, empty page is admitted: null with the children.
    let mut end = d.answer(&read);
    if let Ok(Reply::Records(p)) = &mut end {
        assert!(p.next_shard_iterator.is_none() && !p.child_shards.is_empty());
        p.records.clear();
    }
    let before_end = d.model.clone();
    let counted = d.model.checks().clone();
    d.judge(&past, &end)
        .expect("the end on the first empty page");
    assert_eq!(
        grown(&counted, d.model.checks()).get(&Property::ShardEnd),
        Some(&2),
        "the page's end and the bound"
    );
    // Another empty page that goes on is one too many.
    d.model = before_end;
    let v = d
        .judge(&past, &empty_going_on("still-going"))
        .expect_err("no end within the bound");
    assert_eq!(v.property, Property::ShardEnd, "{v}");
    assert!(
        v.detail
            .contains(&format!("within {SHARD_END_WITHIN_EMPTY_PAGES} empty page")),
        "{v}"
    );
}

#[test]
fn an_iterator_past_the_end_of_a_closed_shard_ends_on_its_first_page() {
    let (mut d, _clock) = split_after_two_records(10);
    let latest = d.iterator_of(ShardId::new(0), ShardIteratorType::LATEST);
    let v = d
        .judge(&get_req(&latest), &empty_going_on("latest-next"))
        .expect_err("LATEST on a closed shard is at its end");
    assert_eq!(v.property, Property::ShardEnd, "{v}");
    let real = d.answer(&get_req(&latest));
    d.judge(&get_req(&latest), &real)
        .expect("the embedded service ends at once");
}

/// Trimmed records lie before the end: an iterator walking them may get empty pages for
/// long (kinesis-semantics §11.14), and the bound does not apply there.
#[test]
fn empty_pages_over_trimmed_records_of_a_closed_shard_are_not_held_to_the_bound() {
    let (mut d, _clock) = split_after_two_records(25 * HOUR_MS);
    let it = d.iterator_of(ShardId::new(0), ShardIteratorType::TRIM_HORIZON);
    let counted = d.model.checks().clone();
    d.judge(&get_req(&it), &empty_going_on("walking-1"))
        .expect("an empty page over trimmed records");
    d.judge(&get_req("walking-1"), &empty_going_on("walking-2"))
        .expect("another one");
    assert_eq!(
        grown(&counted, d.model.checks()).get(&Property::ShardEnd),
        Some(&2),
        "one ShardEnd check per page, no bound check"
    );
}
