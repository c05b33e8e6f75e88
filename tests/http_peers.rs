//! The HTTP adapter against local peers (when running) and against a scripted fake server.
//!
//! Peer tests run only when their endpoint variable is set, e.g. after
//! `scripts/peers/start.sh all`:
//!
//! ```sh
//! SEQCHECK_KINESALITE_URL=http://127.0.0.1:4567 \
//! SEQCHECK_KINESIS_MOCK_URL=http://127.0.0.1:4568 \
//! SEQCHECK_MOTO_URL=http://127.0.0.1:5000 cargo test --test http_peers
//! ```

use seqcheck::StreamService;
use seqcheck::api::*;
use seqcheck::http::{HttpOptions, HttpService, RawClient, WaitTarget};
use seqcheck::types::{ErrorKind, HashKeyRange, ShardId, ShardIteratorType};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// Peers
// ------------------------------------------------------------------------------------------

/// The endpoint in `var`, or `None` after saying why the test is skipped. With
/// `SEQCHECK_REQUIRE_PEERS` set (CI sets it), a missing endpoint fails the test instead: a run
/// that was meant to check the peers never reports a skip as a pass.
fn peer(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("SEQCHECK_REQUIRE_PEERS").is_some() => {
            panic!("{var} is not set but SEQCHECK_REQUIRE_PEERS is: nothing would be checked")
        }
        _ => {
            eprintln!("skipped: {var} is not set; start peers with scripts/peers/start.sh");
            None
        }
    }
}

/// A stream name no earlier run used.
fn fresh_stream(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("seqcheck-{tag}-{}-{nanos}", std::process::id())
}

fn stream_req(name: &str) -> StreamRequest {
    StreamRequest {
        stream_name: name.to_owned(),
    }
}

fn put(service: &HttpService, stream: &str, key: &str, data: &[u8]) -> PutRecordResponse {
    service
        .put_record(&PutRecordRequest {
            stream_name: stream.to_owned(),
            partition_key: key.to_owned(),
            data: bytes::Bytes::copy_from_slice(data),
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        })
        .unwrap_or_else(|e| panic!("PutRecord {key}: {e}"))
}

fn iterator(service: &HttpService, stream: &str, shard: ShardId) -> String {
    service
        .get_shard_iterator(&GetShardIteratorRequest {
            stream_name: stream.to_owned(),
            shard_id: shard.to_string(),
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        })
        .unwrap_or_else(|e| panic!("GetShardIterator {shard}: {e}"))
}

/// What reading a shard from TRIM_HORIZON produced.
struct ShardRead {
    records: Vec<seqcheck::types::Record>,
    last_page: GetRecordsResponse,
    /// The shard ended: `NextShardIterator` was absent.
    ended: bool,
}

/// Reads a shard from TRIM_HORIZON until `want` records arrived, the shard ended, or
/// `max_pages` pages were read.
fn read_shard(
    service: &HttpService,
    stream: &str,
    shard: ShardId,
    want: usize,
    max_pages: usize,
) -> ShardRead {
    let mut it = iterator(service, stream, shard);
    let mut records = Vec::new();
    let mut pages = 0;
    loop {
        let page = service
            .get_records(&GetRecordsRequest {
                shard_iterator: it.clone(),
                limit: None,
            })
            .unwrap_or_else(|e| panic!("GetRecords {shard}: {e}"));
        pages += 1;
        records.extend(page.records.iter().cloned());
        match &page.next_shard_iterator {
            Some(next) if records.len() < want && pages < max_pages => it = next.clone(),
            next => {
                let ended = next.is_none();
                return ShardRead {
                    records,
                    last_page: page,
                    ended,
                };
            }
        }
    }
}

fn list(service: &HttpService, stream: &str) -> Vec<ShardDescription> {
    service
        .list_shards(&ListShardsRequest {
            stream_name: Some(stream.to_owned()),
            ..ListShardsRequest::default()
        })
        .unwrap_or_else(|e| panic!("ListShards: {e}"))
        .shards
}

/// Create, put, read, split, read across the split, delete: every step through the SDK path.
fn basic_flow(peer_name: &str, url: &str) {
    let service = HttpService::new(url, None).expect("adapter");
    let stream = fresh_stream(peer_name);
    let opened = Instant::now();
    service
        .create_stream(&CreateStreamRequest {
            stream_name: stream.clone(),
            shard_count: 1,
        })
        .expect("CreateStream");
    let took = service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("stream becomes ACTIVE");
    eprintln!("{peer_name}: CreateStream → ACTIVE after {took:?}");

    let summary = service
        .describe_stream_summary(&stream_req(&stream))
        .expect("DescribeStreamSummary");
    assert_eq!(summary.open_shard_count, 1);
    assert_eq!(summary.stream_name, stream);

    // Three single puts and a batch of two, all to the only shard, in increasing order.
    let mut acked = Vec::new();
    for (key, data) in [("a", &b"one"[..]), ("b", b"two"), ("c", b"")] {
        acked.push(put(&service, &stream, key, data));
    }
    let batch = service
        .put_records(&PutRecordsRequest {
            stream_name: stream.clone(),
            records: ["d", "e"]
                .iter()
                .map(|k| PutRecordsEntry {
                    partition_key: (*k).to_owned(),
                    data: bytes::Bytes::from_static(b"batch"),
                    explicit_hash_key: None,
                })
                .collect(),
        })
        .expect("PutRecords");
    assert_eq!(batch.failed_record_count, 0);
    acked.extend(
        batch
            .records
            .into_iter()
            .map(|r| r.expect("entry accepted")),
    );
    assert!(acked.iter().all(|a| a.shard_id == ShardId::new(0)));
    assert!(
        acked
            .windows(2)
            .all(|w| w[0].sequence_number < w[1].sequence_number),
        "sequence numbers increase: {acked:?}"
    );

    // One adapter serves many threads at once.
    let concurrent: Vec<PutRecordResponse> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let (service, stream) = (&service, &stream);
                scope.spawn(move || {
                    (0..5)
                        .map(|i| put(service, stream, &format!("t{t}-{i}"), b"concurrent"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let mut numbers: Vec<_> = concurrent.iter().map(|a| a.sequence_number).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "distinct sequence numbers");
    assert!(numbers[0] > acked[acked.len() - 1].sequence_number);
    acked.extend(concurrent);
    acked.sort_by_key(|a| a.sequence_number);

    let shards = list(&service, &stream);
    assert_eq!(shards.len(), 1);
    assert_eq!(shards[0].hash_key_range, HashKeyRange::ALL);

    let records = read_shard(&service, &stream, ShardId::new(0), acked.len(), 50).records;
    let seqs: Vec<_> = records.iter().map(|r| r.sequence_number).collect();
    let expected: Vec<_> = acked.iter().map(|a| a.sequence_number).collect();
    assert_eq!(seqs, expected);
    assert_eq!(&*records[0].partition_key, "a");
    assert_eq!(&records[0].data[..], b"one");
    assert!(records[2].data.is_empty());
    assert_eq!(&records[acked.len() - 1].data[..], b"concurrent");

    // Split the only shard in the middle of the hash space.
    service
        .split_shard(&SplitShardRequest {
            stream_name: stream.clone(),
            shard_to_split: ShardId::new(0).to_string(),
            new_starting_hash_key: (1u128 << 127).to_string(),
        })
        .expect("SplitShard");
    let took = service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("ACTIVE after the split");
    eprintln!("{peer_name}: SplitShard → ACTIVE after {took:?}");
    let shards = list(&service, &stream);
    assert_eq!(shards.len(), 3, "parent and two children: {shards:?}");
    let parent = &shards[0];
    assert!(parent.ending_sequence_number.is_some(), "parent closed");
    for child in &shards[1..] {
        assert_eq!(child.parent_shard_id, Some(ShardId::new(0)));
        assert!(child.ending_sequence_number.is_none());
    }
    assert_eq!(shards[1].hash_key_range.end + 1, 1u128 << 127);
    assert_eq!(shards[2].hash_key_range.start, 1u128 << 127);

    // New records belong in a child; the parent reads to its end.
    let after = put(&service, &stream, "a", b"after split");
    if after.shard_id == ShardId::new(0) {
        eprintln!(
            "{peer_name}: peer deviation: a record put after the split went to the closed parent"
        );
    }
    let parent = read_shard(&service, &stream, ShardId::new(0), usize::MAX, 20);
    assert!(parent.records.len() >= acked.len());
    let last = &parent.last_page;
    if parent.ended {
        eprintln!(
            "{peer_name}: parent's last page: {} child shard(s), {} ms behind",
            last.child_shards.len(),
            last.millis_behind_latest
        );
        if last.child_shards.is_empty() {
            eprintln!(
                "{peer_name}: peer deviation: the end of a closed shard lists no ChildShards"
            );
        }
    } else {
        eprintln!(
            "{peer_name}: peer deviation: reading the closed parent never ended (NextShardIterator \
             still present after 20 pages)"
        );
    }
    let landed = read_shard(&service, &stream, after.shard_id, usize::MAX, 20);
    assert!(
        landed
            .records
            .iter()
            .any(|r| r.sequence_number == after.sequence_number && &r.data[..] == b"after split"),
        "the record put after the split is readable where it landed"
    );

    // A definite service error comes through with its type.
    let missing = service
        .describe_stream_summary(&stream_req(&fresh_stream("missing")))
        .expect_err("unknown stream");
    assert_eq!(
        missing.kind,
        ErrorKind::ResourceNotFoundException,
        "{missing}"
    );

    service
        .delete_stream(&stream_req(&stream))
        .expect("DeleteStream");
    let took = service
        .wait_for_status(&stream, WaitTarget::Gone, WAIT)
        .expect("stream goes away");
    eprintln!(
        "{peer_name}: DeleteStream → gone after {took:?}; whole flow {:?}",
        opened.elapsed()
    );
}

/// Merge, uniform rescaling and retention changes: the remaining control-plane calls.
fn reshard_flow(peer_name: &str, url: &str) {
    let service = HttpService::new(url, None).expect("adapter");
    let stream = fresh_stream(peer_name);
    service
        .create_stream(&CreateStreamRequest {
            stream_name: stream.clone(),
            shard_count: 2,
        })
        .expect("CreateStream");
    service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("ACTIVE");
    let shards = list(&service, &stream);
    assert_eq!(shards.len(), 2);
    assert_eq!(shards[0].hash_key_range.start, 0);
    assert_eq!(shards[1].hash_key_range.end, u128::MAX);
    assert_eq!(
        shards[0].hash_key_range.end + 1,
        shards[1].hash_key_range.start
    );

    service
        .merge_shards(&MergeShardsRequest {
            stream_name: stream.clone(),
            shard_to_merge: shards[0].shard_id.to_string(),
            adjacent_shard_to_merge: shards[1].shard_id.to_string(),
        })
        .expect("MergeShards");
    service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("ACTIVE after the merge");
    let merged = list(&service, &stream);
    let open: Vec<_> = merged
        .iter()
        .filter(|s| s.ending_sequence_number.is_none())
        .collect();
    assert_eq!(open.len(), 1, "{merged:?}");
    assert_eq!(open[0].hash_key_range, HashKeyRange::ALL);
    if open[0].parent_shard_id != Some(shards[0].shard_id)
        || open[0].adjacent_parent_shard_id != Some(shards[1].shard_id)
    {
        eprintln!(
            "{peer_name}: peer deviation: merged child's parents are {:?} / {:?}",
            open[0].parent_shard_id, open[0].adjacent_parent_shard_id
        );
    }

    let target = match service.update_shard_count(&UpdateShardCountRequest {
        stream_name: stream.clone(),
        target_shard_count: 2,
    }) {
        Ok(scaled) => {
            assert_eq!(scaled.target_shard_count, 2);
            if scaled.current_shard_count != 1 {
                eprintln!(
                    "{peer_name}: peer deviation: UpdateShardCount reports CurrentShardCount {} \
                     (1 open)",
                    scaled.current_shard_count
                );
            }
            2
        }
        Err(e) if e.kind == seqcheck::types::ErrorKind::UnknownOperationException => {
            eprintln!("{peer_name}: peer deviation: UpdateShardCount is not implemented ({e})");
            1
        }
        Err(e) => panic!("UpdateShardCount: {e}"),
    };
    service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("ACTIVE after rescaling");
    let summary = service
        .describe_stream_summary(&stream_req(&stream))
        .expect("DescribeStreamSummary");
    assert_eq!(summary.open_shard_count, target, "{summary:?}");
    assert_eq!(summary.retention_period_hours, 24);

    let retention = |hours: i64| RetentionRequest {
        stream_name: stream.clone(),
        retention_period_hours: hours,
    };
    service
        .increase_stream_retention_period(&retention(48))
        .expect("IncreaseStreamRetentionPeriod");
    let after = service
        .describe_stream_summary(&stream_req(&stream))
        .expect("DescribeStreamSummary");
    assert_eq!(after.retention_period_hours, 48);
    let too_short = service
        .decrease_stream_retention_period(&retention(12))
        .expect_err("below the 24-hour minimum");
    assert!(too_short.kind.is_definite(), "{too_short}");
    eprintln!("{peer_name}: retention 12 h → {too_short}");
    service
        .decrease_stream_retention_period(&retention(24))
        .expect("DecreaseStreamRetentionPeriod");

    service
        .delete_stream(&stream_req(&stream))
        .expect("DeleteStream");
    service
        .wait_for_status(&stream, WaitTarget::Gone, WAIT)
        .expect("stream goes away");
}

/// How a peer's answers to invalid requests are judged here.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Must answer as Kinesis does.
    Kinesis,
    /// Known to differ: differences are reported, not failed (judging peers is the
    /// conformance suite's job; these tests check that the raw path carries the answers).
    ReportDifferences,
}

/// Validation the SDK would not let through, sent on the raw path.
fn raw_validation(peer_name: &str, url: &str, expect: Expect) {
    let raw = RawClient::new(url).expect("raw client");
    let listed = raw
        .call("ListStreams", &serde_json::json!({}))
        .expect("ListStreams answered");
    assert_eq!(listed.status, 200, "{listed:?}");

    // An existing stream, so the answer is about the request's shape and nothing else.
    let stream = fresh_stream(peer_name);
    let created = raw
        .call(
            "CreateStream",
            &serde_json::json!({"StreamName": stream, "ShardCount": 1}),
        )
        .expect("CreateStream answered");
    assert_eq!(created.status, 200, "{created:?}");
    let service = HttpService::new(url, None).expect("adapter");
    service
        .wait_for_status(&stream, WaitTarget::Active, WAIT)
        .expect("stream becomes ACTIVE");

    let empty_key = |stream: &str| {
        raw.call(
            "PutRecord",
            &serde_json::json!({"StreamName": stream, "PartitionKey": "", "Data": "AAAA"}),
        )
        .expect("PutRecord answered")
    };
    let answer = empty_key(&stream);
    eprintln!(
        "{peer_name}: empty partition key → HTTP {} {:?}: {:?}",
        answer.status, answer.error_type, answer.message
    );
    let as_kinesis =
        answer.status == 400 && answer.error_kind() == Some(ErrorKind::ValidationException);
    match expect {
        Expect::Kinesis => assert!(as_kinesis, "{answer:?}"),
        Expect::ReportDifferences if !as_kinesis => eprintln!(
            "{peer_name}: peer deviation: empty partition key → HTTP {} {:?} (Kinesis: 400 \
             ValidationException)",
            answer.status, answer.error_type
        ),
        Expect::ReportDifferences => {}
    }

    // Kinesis validates the shape before looking the stream up; report peers that do not.
    let unknown = empty_key(&fresh_stream("missing"));
    if unknown.error_kind() != Some(ErrorKind::ValidationException) {
        eprintln!(
            "{peer_name}: peer deviation: empty partition key on an unknown stream → HTTP {} \
             {:?} (Kinesis: ValidationException)",
            unknown.status, unknown.error_type
        );
    }

    let garbage = raw.call_text("PutRecord", "{").expect("answered");
    eprintln!(
        "{peer_name}: unparseable body → HTTP {} {:?}: {:?}",
        garbage.status, garbage.error_type, garbage.message
    );
    assert!(!garbage.is_success(), "{garbage:?}");

    let deleted = raw
        .call("DeleteStream", &serde_json::json!({"StreamName": stream}))
        .expect("DeleteStream answered");
    assert_eq!(deleted.status, 200, "{deleted:?}");
}

#[test]
fn kinesalite_flow() {
    if let Some(url) = peer("SEQCHECK_KINESALITE_URL") {
        basic_flow("kinesalite", &url);
    }
}

#[test]
fn kinesalite_reshard_flow() {
    if let Some(url) = peer("SEQCHECK_KINESALITE_URL") {
        reshard_flow("kinesalite", &url);
    }
}

#[test]
fn kinesalite_raw_validation() {
    if let Some(url) = peer("SEQCHECK_KINESALITE_URL") {
        raw_validation("kinesalite", &url, Expect::Kinesis);
    }
}

#[test]
fn kinesis_mock_flow() {
    if let Some(url) = peer("SEQCHECK_KINESIS_MOCK_URL") {
        basic_flow("kinesis-mock", &url);
    }
}

#[test]
fn kinesis_mock_reshard_flow() {
    if let Some(url) = peer("SEQCHECK_KINESIS_MOCK_URL") {
        reshard_flow("kinesis-mock", &url);
    }
}

#[test]
fn kinesis_mock_raw_validation() {
    if let Some(url) = peer("SEQCHECK_KINESIS_MOCK_URL") {
        raw_validation("kinesis-mock", &url, Expect::ReportDifferences);
    }
}

#[test]
fn moto_flow() {
    if let Some(url) = peer("SEQCHECK_MOTO_URL") {
        basic_flow("moto", &url);
    }
}

#[test]
fn moto_reshard_flow() {
    if let Some(url) = peer("SEQCHECK_MOTO_URL") {
        reshard_flow("moto", &url);
    }
}

#[test]
fn moto_raw_validation() {
    if let Some(url) = peer("SEQCHECK_MOTO_URL") {
        raw_validation("moto", &url, Expect::ReportDifferences);
    }
}

// ------------------------------------------------------------------------------------------
// A scripted fake server on loopback: no peer needed.
// ------------------------------------------------------------------------------------------

/// What the fake server does with each request it receives.
#[derive(Clone, Copy)]
enum Script {
    /// Reads the request, then closes the connection without answering.
    CloseAfterRequest,
    /// Reads the request and keeps the connection open, silent, until the client leaves.
    NeverAnswer,
    /// Answers with this status and JSON body.
    Answer(u16, &'static str),
}

/// Serves connections on an ephemeral 127.0.0.1 port for at most `lifetime`.
struct FakeServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl FakeServer {
    fn start(script: Script, lifetime: Duration) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + lifetime;
            let mut served = 0;
            while Instant::now() < deadline && served < 8 && !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        served += 1;
                        serve(conn, script, deadline);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { url, stop, thread }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("fake server thread");
    }
}

/// Reads one request (headers and `Content-Length` body) from `conn`.
fn read_request(conn: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = conn.read(&mut chunk) else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}

fn serve(mut conn: TcpStream, script: Script, deadline: Instant) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    read_request(&mut conn);
    match script {
        Script::CloseAfterRequest => drop(conn),
        Script::NeverAnswer => {
            // Hold the connection until the client gives up (EOF) or the deadline.
            let mut sink = [0u8; 256];
            while Instant::now() < deadline {
                match conn.read(&mut sink) {
                    Ok(0) => return,
                    _ => continue,
                }
            }
        }
        Script::Answer(status, body) => {
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    }
}

fn short_timeouts() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_millis(500),
        operation_timeout: Duration::from_millis(800),
    }
}

fn put_one(service: &HttpService) -> Result<PutRecordResponse, seqcheck::types::KinesisError> {
    service.put_record(&PutRecordRequest {
        stream_name: "s".into(),
        partition_key: "k".into(),
        data: bytes::Bytes::from_static(b"x"),
        explicit_hash_key: None,
        sequence_number_for_ordering: None,
    })
}

#[test]
fn transient_faults_are_indeterminate_not_service_errors() {
    // The server reads the request, then closes the connection.
    let server = FakeServer::start(Script::CloseAfterRequest, Duration::from_secs(5));
    let service = HttpService::with_options(&server.url, None, short_timeouts()).expect("adapter");
    let err = put_one(&service).expect_err("closed connection");
    assert_eq!(err.kind, ErrorKind::Indeterminate, "{err}");
    assert!(!err.kind.is_definite());
    let raw_err: seqcheck::types::KinesisError = RawClient::new(&server.url)
        .expect("raw client")
        .call("ListStreams", &serde_json::json!({}))
        .expect_err("closed connection")
        .into();
    assert_eq!(raw_err.kind, ErrorKind::Indeterminate, "{raw_err}");
    drop(service);
    server.finish();

    // The server never answers: the operation timeout ends the call.
    let server = FakeServer::start(Script::NeverAnswer, Duration::from_secs(5));
    let service = HttpService::with_options(&server.url, None, short_timeouts()).expect("adapter");
    // The call returns at all only because the operation timeout ends it.
    let err = put_one(&service).expect_err("silent server");
    assert_eq!(err.kind, ErrorKind::Indeterminate, "{err}");
    drop(service);
    server.finish();

    // Nobody listens: still not a service error.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let service =
        HttpService::with_options(&format!("http://127.0.0.1:{port}"), None, short_timeouts())
            .expect("adapter");
    let err = put_one(&service).expect_err("connection refused");
    assert_eq!(err.kind, ErrorKind::Indeterminate, "{err}");
}

#[test]
fn answers_are_mapped_faithfully() {
    let cases: [(Script, ErrorKind, &str); 4] = [
        (
            Script::Answer(
                400,
                r#"{"__type":"ResourceNotFoundException","message":"Stream s not found."}"#,
            ),
            ErrorKind::ResourceNotFoundException,
            "Stream s not found.",
        ),
        (
            Script::Answer(
                400,
                r#"{"__type":"com.amazon.coral#AccessDeniedException:x","message":"no"}"#,
            ),
            ErrorKind::Other,
            "AccessDeniedException",
        ),
        (
            Script::Answer(200, r#"{"ShardId":"shard-7","SequenceNumber":"1"}"#),
            ErrorKind::MalformedResponse,
            "shard-7",
        ),
        (
            Script::Answer(
                200,
                r#"{"ShardId":"shardId-000000000000","SequenceNumber":"01"}"#,
            ),
            ErrorKind::MalformedResponse,
            "'01'",
        ),
    ];
    for (script, kind, quoted) in cases {
        let server = FakeServer::start(script, Duration::from_secs(3));
        let service =
            HttpService::with_options(&server.url, None, short_timeouts()).expect("adapter");
        let err = put_one(&service).expect_err("scripted error");
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.message.contains(quoted), "{err}");
        drop(service);
        server.finish();
    }
}

/// The Rust SDK checks no length constraints itself: an empty partition key reaches the
/// service through the SDK path too, and its answer comes back typed.
#[test]
fn kinesalite_sdk_path_forwards_constraint_violations() {
    let Some(url) = peer("SEQCHECK_KINESALITE_URL") else {
        return;
    };
    let service = HttpService::new(&url, None).expect("adapter");
    let err = service
        .put_record(&PutRecordRequest {
            stream_name: fresh_stream("absent"),
            partition_key: String::new(),
            data: bytes::Bytes::from_static(b"x"),
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        })
        .expect_err("empty partition key");
    assert_eq!(err.kind, ErrorKind::ValidationException, "{err}");
    assert!(err.message.contains("partitionKey"), "{err}");
}
