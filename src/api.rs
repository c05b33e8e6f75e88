//! Requests and responses of the operations a [`crate::StreamService`] serves.
//!
//! Request fields are raw (strings, signed integers) so that invalid input can be expressed and
//! each implementation must answer it with the right error; responses are typed.

use crate::types::{
    ErrorKind, HashKeyRange, KinesisError, Record, SequenceNumber, ShardId, ShardIteratorType,
    StreamStatus,
};
use bytes::Bytes;

/// `CreateStream`: a provisioned stream with `shard_count` shards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateStreamRequest {
    /// Name of the new stream.
    pub stream_name: String,
    /// Number of shards (1..=quota).
    pub shard_count: i64,
}

/// A request naming only a stream (`DeleteStream`, `DescribeStreamSummary`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRequest {
    /// The stream.
    pub stream_name: String,
}

/// What `DescribeStreamSummary` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSummary {
    /// The stream's name.
    pub stream_name: String,
    /// Lifecycle state.
    pub status: StreamStatus,
    /// Retention in hours.
    pub retention_period_hours: u32,
    /// Number of open shards.
    pub open_shard_count: u32,
}

/// `ListShards`: one page of the stream's shards.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ListShardsRequest {
    /// The stream (exclusive with `next_token`).
    pub stream_name: Option<String>,
    /// Token of a previous page (exclusive with `stream_name`).
    pub next_token: Option<String>,
    /// List only shards whose id sorts after this one.
    pub exclusive_start_shard_id: Option<String>,
    /// Page size, 1..=10000.
    pub max_results: Option<i64>,
}

/// One shard as listed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ShardDescription {
    /// The shard id.
    pub shard_id: ShardId,
    /// The shard it was split from, or the `ShardToMerge` of its merge.
    pub parent_shard_id: Option<ShardId>,
    /// The `AdjacentShardToMerge` of its merge.
    pub adjacent_parent_shard_id: Option<ShardId>,
    /// Hash keys the shard owns.
    pub hash_key_range: HashKeyRange,
    /// Below every number of the shard.
    pub starting_sequence_number: SequenceNumber,
    /// Present once the shard is closed; at or above every number of the shard.
    pub ending_sequence_number: Option<SequenceNumber>,
}

/// A page of `ListShards`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListShardsResponse {
    /// The shards of this page.
    pub shards: Vec<ShardDescription>,
    /// Token for the next page, if any.
    pub next_token: Option<String>,
}

/// `PutRecord`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRecordRequest {
    /// Target stream.
    pub stream_name: String,
    /// Partition key (1..=256 characters).
    pub partition_key: String,
    /// Payload (0..=1 MiB).
    pub data: Bytes,
    /// Decimal hash key that overrides MD5 routing.
    pub explicit_hash_key: Option<String>,
    /// The new number must exceed this one (when it belongs to the same shard).
    pub sequence_number_for_ordering: Option<String>,
}

/// Where a put record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PutRecordResponse {
    /// The shard that received the record.
    pub shard_id: ShardId,
    /// The number the record was given.
    pub sequence_number: SequenceNumber,
}

/// One entry of `PutRecords`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRecordsEntry {
    /// Partition key.
    pub partition_key: String,
    /// Payload.
    pub data: Bytes,
    /// Decimal hash key that overrides MD5 routing.
    pub explicit_hash_key: Option<String>,
}

/// `PutRecords`: 1..=500 entries, at most 5 MiB in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRecordsRequest {
    /// Target stream.
    pub stream_name: String,
    /// The entries, in request order.
    pub records: Vec<PutRecordsEntry>,
}

/// The answer to `PutRecords`: one result per entry, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRecordsResponse {
    /// Number of failed entries.
    pub failed_record_count: u32,
    /// Entry `i` answers request entry `i`: where it landed, or why it failed (throttling or
    /// internal failure only; nothing was appended for a failed entry).
    pub records: Vec<Result<PutRecordResponse, KinesisError>>,
}

/// `GetShardIterator`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetShardIteratorRequest {
    /// The stream.
    pub stream_name: String,
    /// The shard (lenient syntax, like Kinesis).
    pub shard_id: String,
    /// Where to start.
    pub shard_iterator_type: ShardIteratorType,
    /// Required for `AT_`/`AFTER_SEQUENCE_NUMBER`, forbidden otherwise.
    pub starting_sequence_number: Option<String>,
    /// Required for `AT_TIMESTAMP`: milliseconds since the Unix epoch.
    pub timestamp_ms: Option<u64>,
}

/// `GetRecords`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRecordsRequest {
    /// An iterator from `GetShardIterator` or a previous `GetRecords`.
    pub shard_iterator: String,
    /// Maximum records, 1..=10000 (default 10000).
    pub limit: Option<i64>,
}

/// A child of a shard whose end was reached.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChildShard {
    /// The child.
    pub shard_id: ShardId,
    /// Its parents (one for a split, two for a merge).
    pub parent_shards: Vec<ShardId>,
    /// Its hash key range.
    pub hash_key_range: HashKeyRange,
}

/// A page of records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRecordsResponse {
    /// Records in increasing sequence-number order.
    pub records: Vec<Record>,
    /// Where to continue; `None` only at the end of a closed shard.
    pub next_shard_iterator: Option<String>,
    /// How far behind the tip this page is.
    pub millis_behind_latest: u64,
    /// Present (non-empty) only when the end of a closed shard was reached.
    pub child_shards: Vec<ChildShard>,
}

/// `SplitShard`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitShardRequest {
    /// The stream.
    pub stream_name: String,
    /// The open shard to split.
    pub shard_to_split: String,
    /// First hash key of the upper child (decimal).
    pub new_starting_hash_key: String,
}

/// `MergeShards`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeShardsRequest {
    /// The stream.
    pub stream_name: String,
    /// Becomes the child's `ParentShardId`.
    pub shard_to_merge: String,
    /// Becomes the child's `AdjacentParentShardId`.
    pub adjacent_shard_to_merge: String,
}

/// `UpdateShardCount` with `UNIFORM_SCALING`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateShardCountRequest {
    /// The stream.
    pub stream_name: String,
    /// Desired number of open shards.
    pub target_shard_count: i64,
}

/// What `UpdateShardCount` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateShardCountResponse {
    /// Open shards before the change.
    pub current_shard_count: u32,
    /// Open shards after it completes.
    pub target_shard_count: u32,
}

/// `IncreaseStreamRetentionPeriod` / `DecreaseStreamRetentionPeriod`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionRequest {
    /// The stream.
    pub stream_name: String,
    /// New retention, hours (24..=8760).
    pub retention_period_hours: i64,
}

/// Every operation of the trait as one value, so drivers can record, replay and print them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// See [`CreateStreamRequest`].
    CreateStream(CreateStreamRequest),
    /// Deletes the stream.
    DeleteStream(StreamRequest),
    /// Summarises the stream.
    DescribeStreamSummary(StreamRequest),
    /// See [`ListShardsRequest`].
    ListShards(ListShardsRequest),
    /// See [`PutRecordRequest`].
    PutRecord(PutRecordRequest),
    /// See [`PutRecordsRequest`].
    PutRecords(PutRecordsRequest),
    /// See [`GetShardIteratorRequest`].
    GetShardIterator(GetShardIteratorRequest),
    /// See [`GetRecordsRequest`].
    GetRecords(GetRecordsRequest),
    /// See [`SplitShardRequest`].
    SplitShard(SplitShardRequest),
    /// See [`MergeShardsRequest`].
    MergeShards(MergeShardsRequest),
    /// See [`UpdateShardCountRequest`].
    UpdateShardCount(UpdateShardCountRequest),
    /// Raises retention.
    IncreaseStreamRetentionPeriod(RetentionRequest),
    /// Lowers retention.
    DecreaseStreamRetentionPeriod(RetentionRequest),
    /// A request sent byte for byte over the Kinesis JSON protocol (see [`RawRequest`]).
    Raw(RawRequest),
}

/// A request as it travels over the Kinesis JSON 1.1 protocol: any `X-Amz-Target` and any
/// body, valid or not. Implementations answer it as their HTTP front end would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRequest {
    /// The whole `X-Amz-Target` header (`Kinesis_20131202.PutRecord`).
    pub target: String,
    /// The body, byte for byte (need not be JSON).
    pub body: String,
}

impl RawRequest {
    /// The operation part of the target (after the last `.`), or the whole target.
    pub fn operation(&self) -> &str {
        self.target
            .rsplit_once('.')
            .map_or(&self.target, |(_, op)| op)
    }
}

/// An HTTP answer to a [`RawRequest`], as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawReply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `X-Amzn-Errortype` header, if any (verbatim).
    pub error_type_header: Option<String>,
    /// The body (lossily decoded as UTF-8).
    pub body: String,
}

impl Request {
    /// The API operation name.
    pub fn operation(&self) -> &'static str {
        match self {
            Request::CreateStream(_) => "CreateStream",
            Request::DeleteStream(_) => "DeleteStream",
            Request::DescribeStreamSummary(_) => "DescribeStreamSummary",
            Request::ListShards(_) => "ListShards",
            Request::PutRecord(_) => "PutRecord",
            Request::PutRecords(_) => "PutRecords",
            Request::GetShardIterator(_) => "GetShardIterator",
            Request::GetRecords(_) => "GetRecords",
            Request::SplitShard(_) => "SplitShard",
            Request::MergeShards(_) => "MergeShards",
            Request::UpdateShardCount(_) => "UpdateShardCount",
            Request::IncreaseStreamRetentionPeriod(_) => "IncreaseStreamRetentionPeriod",
            Request::DecreaseStreamRetentionPeriod(_) => "DecreaseStreamRetentionPeriod",
            Request::Raw(_) => "Raw",
        }
    }

    /// True for operations that never change a stream's state (reads and listings), whatever
    /// their answer.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Request::DescribeStreamSummary(_)
                | Request::ListShards(_)
                | Request::GetShardIterator(_)
                | Request::GetRecords(_)
        ) || matches!(self, Request::Raw(r) if matches!(
            r.operation(),
            "DescribeStreamSummary" | "ListShards" | "GetShardIterator" | "GetRecords"
        ))
    }
}

/// A successful answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Operations with no output.
    Done,
    /// `DescribeStreamSummary`.
    Summary(StreamSummary),
    /// `ListShards`.
    Shards(ListShardsResponse),
    /// `PutRecord`.
    Put(PutRecordResponse),
    /// `PutRecords`.
    PutBatch(PutRecordsResponse),
    /// `GetShardIterator`.
    Iterator(String),
    /// `GetRecords`.
    Records(GetRecordsResponse),
    /// `UpdateShardCount`.
    ShardCount(UpdateShardCountResponse),
    /// An HTTP answer to a [`Request::Raw`], whatever its status.
    Raw(RawReply),
}

/// The outcome of one request.
pub type Outcome = Result<Reply, KinesisError>;

/// The error kinds a `PutRecords` entry may fail with.
pub const ENTRY_ERROR_KINDS: [ErrorKind; 2] = [
    ErrorKind::ProvisionedThroughputExceededException,
    ErrorKind::InternalFailure,
];
