//! One line of a history: an event of a process, in the versioned JSONL format of
//! `docs/history.md`.
//!
//! The format is flat on purpose: every event is one JSON object with a few fixed fields
//! (`v`, `process`, `type`, `f`, `mono_ns`, `wall_us`) and the optional fields of its
//! operation. A producer or consumer written in any language can emit it with a JSON library
//! and nothing else, and the checker reads it without a schema per operation.

use serde::{Deserialize, Serialize};

/// The version of the format this crate writes and reads. A reader refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Where an event stands in its operation's life (Jepsen's convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// The process started the operation; its arguments are in this event.
    Invoke,
    /// The operation completed and took effect; its results are in this event.
    Ok,
    /// The operation completed and did not take effect (a definite error).
    Fail,
    /// The outcome is unknown: it may or may not have taken effect (timeout, reset, 5xx,
    /// or the process died while it was pending).
    Info,
}

/// The operation an event belongs to: every `StreamService` call, the consumer's own steps and
/// the nemesis's faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `CreateStream` (`shard_count`).
    CreateStream,
    /// `DeleteStream`.
    DeleteStream,
    /// `DescribeStreamSummary` (results: `status`, `open_shards`).
    DescribeStreamSummary,
    /// `ListShards` (results: `shards`).
    ListShards,
    /// `PutRecord` (`key`, `data`, optional `hash_key`, `snfo`; results: `shard`, `seq`).
    PutRecord,
    /// `PutRecords` (`entries`; results: `results`, one per entry in order).
    PutRecords,
    /// `GetShardIterator` (`shard`, `iterator_type`, optional `start_seq`, `timestamp_ms`;
    /// result: `iterator`).
    GetShardIterator,
    /// `GetRecords` (`shard`, `iterator`, optional `limit`; results: `records`,
    /// `next_iterator` (absent at a shard's end), `millis_behind`, `children`).
    GetRecords,
    /// `SplitShard` (`shard`, `new_start_hash`).
    SplitShard,
    /// `MergeShards` (`shard`, `adjacent`).
    MergeShards,
    /// `UpdateShardCount` (`target`).
    UpdateShardCount,
    /// `IncreaseStreamRetentionPeriod` (`hours`).
    IncreaseRetention,
    /// `DecreaseStreamRetentionPeriod` (`hours`).
    DecreaseRetention,
    /// A consumer takes the lease of `shard` (invoke), and holds it (ok).
    Lease,
    /// A consumer hands back the lease of `shard` (after its end, or when it stops).
    Release,
    /// A consumer processes one record (`shard`, `seq`, `key`, `data`): invoke when it starts,
    /// ok when its effects are done. A crash in between leaves it possibly processed.
    Process,
    /// A consumer writes its checkpoint for `shard` (`seq`, or `shard_end: true`) to its
    /// checkpoint store: ok once the store has it durably.
    Checkpoint,
    /// A consumer reads its checkpoint for `shard` back from the store after a start (result:
    /// `seq` or `shard_end`, both absent when there is none).
    ReadCheckpoint,
    /// The nemesis kills the service (`target`), e.g. `kill -9`.
    Kill,
    /// The nemesis restarts the service (`target`).
    Restart,
    /// The nemesis starts a network fault between clients and the service (`fault`).
    NetFault,
    /// The nemesis ends the network fault: the network is healthy again.
    NetHeal,
    /// The nemesis kills a consumer process (`target`: its process name).
    KillConsumer,
    /// The nemesis restarts a killed consumer (`target`).
    RestartConsumer,
}

impl Op {
    /// Whether the operation is a fault the nemesis injects rather than a client's call.
    pub fn is_nemesis(self) -> bool {
        matches!(
            self,
            Op::Kill
                | Op::Restart
                | Op::NetFault
                | Op::NetHeal
                | Op::KillConsumer
                | Op::RestartConsumer
        )
    }

    /// Whether the operation is a consumer's own step (not a service call).
    pub fn is_consumer_step(self) -> bool {
        matches!(
            self,
            Op::Lease | Op::Release | Op::Process | Op::Checkpoint | Op::ReadCheckpoint
        )
    }
}

/// A record as a read returned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRecord {
    /// Its sequence number (decimal).
    pub seq: String,
    /// Its partition key.
    pub key: String,
    /// Its data as text, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Its data in standard base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
    /// Its approximate arrival timestamp, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_ms: Option<u64>,
}

/// A record's data as a history carries it: as text when it is UTF-8 (field `data`), else as
/// base64 (field `data_b64`). Records are told apart by these bytes, so every put of a checked
/// history should carry a payload no other put carries (retries of one logical put share it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    /// UTF-8 data.
    Text(String),
    /// Other data, in standard base64 with padding.
    Base64(String),
}

impl Payload {
    /// The payload of `bytes`: text when they are UTF-8.
    pub fn of(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::Text(text.to_owned()),
            Err(_) => {
                use base64::Engine;
                Payload::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }

    /// The payload carried by a `data` / `data_b64` field pair (text wins when both are set).
    pub fn from_fields(data: &Option<String>, data_b64: &Option<String>) -> Option<Self> {
        match (data, data_b64) {
            (Some(t), _) => Some(Payload::Text(t.clone())),
            (None, Some(b)) => Some(Payload::Base64(b.clone())),
            (None, None) => None,
        }
    }

    /// The `data` / `data_b64` field pair that carries this payload.
    pub fn into_fields(self) -> (Option<String>, Option<String>) {
        match self {
            Payload::Text(t) => (Some(t), None),
            Payload::Base64(b) => (None, Some(b)),
        }
    }

    /// The bytes of the payload; `None` for base64 that does not decode.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Payload::Text(t) => Some(t.as_bytes().to_vec()),
            Payload::Base64(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b).ok()
            }
        }
    }
}

/// One entry of a `PutRecords` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutEntry {
    /// The partition key.
    pub key: String,
    /// The data as text, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The data in standard base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
    /// The explicit hash key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_key: Option<String>,
}

/// The result of one `PutRecords` entry: `shard` and `seq` on success, `error` otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryResult {
    /// The shard that stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Its sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<String>,
    /// The entry's error code (e.g. `ProvisionedThroughputExceededException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The entry's error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One shard as `ListShards` listed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedShard {
    /// The shard id.
    pub shard: String,
    /// Its parents: none, the split parent, or the two merged shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// First hash key it owns (decimal).
    pub hash_start: String,
    /// Last hash key it owns (decimal).
    pub hash_end: String,
    /// Its starting sequence number.
    pub start_seq: String,
    /// Its ending sequence number, once closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_seq: Option<String>,
}

/// One event of a history. Every field but the first six is optional; which ones an event
/// carries depends on `f` and `type` (see [`Op`] and `docs/history.md`).
///
/// Rules the checker relies on:
/// - a process runs one operation at a time: an `invoke` is followed by exactly one
///   `ok`/`fail`/`info` of the same process and `f` before its next `invoke` (a process that
///   died leaves its last operation pending, which reads as `info`);
/// - `mono_ns` never decreases within one `node`; `wall_us` orders events across nodes;
/// - process names are unique within a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The format version, [`FORMAT_VERSION`].
    pub v: u32,
    /// The process (client thread, consumer, nemesis) the event belongs to.
    pub process: String,
    /// Invoke, ok, fail or info.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The operation.
    pub f: Op,
    /// Monotonic time of the writing node, in ns since its start.
    pub mono_ns: u64,
    /// Wall-clock time, in µs since the Unix epoch.
    pub wall_us: u64,
    /// The machine that wrote the event, when histories of several machines are merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,

    /// The stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The shard an operation addresses, or the shard that stored a put (on `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// A sequence number: the put's (on `ok`), the processed or checkpointed record's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<String>,
    /// The partition key of a put or a processed record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The data of a put or a processed record, as text when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The data in standard base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_b64: Option<String>,
    /// The explicit hash key of a put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_key: Option<String>,
    /// `SequenceNumberForOrdering` of a put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snfo: Option<String>,
    /// Which attempt of one logical put this is (1 for the first). Retries of one logical put
    /// carry the same payload and increasing attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The entries of a `PutRecords`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<PutEntry>>,
    /// The per-entry results of a `PutRecords`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<EntryResult>>,
    /// The iterator type of `GetShardIterator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterator_type: Option<String>,
    /// The starting sequence number of `GetShardIterator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_seq: Option<String>,
    /// The timestamp of an `AT_TIMESTAMP` iterator, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_ms: Option<u64>,
    /// The iterator a `GetShardIterator` returned or a `GetRecords` used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterator: Option<String>,
    /// The `Limit` of a `GetRecords`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The records a `GetRecords` returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<ReadRecord>>,
    /// `NextShardIterator`; absent on a completed `GetRecords` at a closed shard's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_iterator: Option<String>,
    /// `MillisBehindLatest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub millis_behind: Option<u64>,
    /// `ChildShards` of a page at a shard's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<String>>,
    /// The shards a `ListShards` listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Vec<ListedShard>>,
    /// `ShardCount` of `CreateStream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_count: Option<u32>,
    /// The shard merged with `shard` (`MergeShards`' `AdjacentShardToMerge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjacent: Option<String>,
    /// `NewStartingHashKey` of `SplitShard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_start_hash: Option<String>,
    /// `TargetShardCount` of `UpdateShardCount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_count: Option<u32>,
    /// Retention hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// The stream status `DescribeStreamSummary` reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The open shard count `DescribeStreamSummary` reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_shards: Option<u32>,
    /// A checkpoint at a shard's end (`SHARD_END`) instead of a sequence number.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shard_end: bool,
    /// A nemesis event's target (`service`, or a consumer's process name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A network fault's description (e.g. `{"ResetAfterRequest":null}` rendered as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The exception name of a `fail`, or why the outcome is unknown for an `info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Event {
    /// An event with only the fixed fields set; the optional ones are filled by the caller.
    pub fn new(
        process: impl Into<String>,
        kind: EventType,
        f: Op,
        mono_ns: u64,
        wall_us: u64,
    ) -> Self {
        Event {
            v: FORMAT_VERSION,
            process: process.into(),
            kind,
            f,
            mono_ns,
            wall_us,
            node: None,
            stream: None,
            shard: None,
            seq: None,
            key: None,
            data: None,
            data_b64: None,
            hash_key: None,
            snfo: None,
            attempt: None,
            entries: None,
            results: None,
            iterator_type: None,
            start_seq: None,
            timestamp_ms: None,
            iterator: None,
            limit: None,
            records: None,
            next_iterator: None,
            millis_behind: None,
            children: None,
            shards: None,
            shard_count: None,
            adjacent: None,
            new_start_hash: None,
            target_count: None,
            hours: None,
            status: None,
            open_shards: None,
            shard_end: false,
            target: None,
            fault: None,
            error: None,
            message: None,
        }
    }

    /// The process name qualified by its node (`node/process`), unique across merged histories.
    pub fn qualified_process(&self) -> String {
        match &self.node {
            Some(node) => format!("{node}/{}", self.process),
            None => self.process.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_round_trips_through_one_flat_json_line() {
        let mut e = Event::new("producer-0", EventType::Invoke, Op::PutRecord, 5, 7);
        e.stream = Some("s".into());
        e.key = Some("k".into());
        e.data = Some("producer-0.1.abcd".into());
        e.attempt = Some(1);
        let line = serde_json::to_string(&e).expect("serialises");
        assert_eq!(
            line,
            r#"{"v":1,"process":"producer-0","type":"invoke","f":"put_record","mono_ns":5,"wall_us":7,"stream":"s","key":"k","data":"producer-0.1.abcd","attempt":1}"#
        );
        let back: Event = serde_json::from_str(&line).expect("parses");
        assert_eq!(back, e);
    }

    #[test]
    fn binary_data_travels_as_base64() {
        let p = Payload::of(&[0xff, 0x00]);
        assert_eq!(p, Payload::Base64("/wA=".into()));
        assert_eq!(p.bytes(), Some(vec![0xff, 0x00]));
        let (data, data_b64) = p.into_fields();
        let r = ReadRecord {
            seq: "1".into(),
            key: "k".into(),
            data,
            data_b64,
            arrival_ms: None,
        };
        let line = serde_json::to_string(&r).expect("serialises");
        assert_eq!(line, r#"{"seq":"1","key":"k","data_b64":"/wA="}"#);
        assert_eq!(
            serde_json::from_str::<ReadRecord>(&line).expect("parses"),
            r
        );
    }
}
