//! The plug-in trait every implementation under test provides.

mod intercept;

pub use intercept::Intercepted;

use crate::api::*;
use crate::types::KinesisError;

/// What an implementation supports beyond the core data plane. The suite reports an area as
/// "unsupported" (never as passed) when a capability it needs is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// `SplitShard` and `MergeShards`.
    pub resharding: bool,
    /// `UpdateShardCount`.
    pub update_shard_count: bool,
    /// `Increase/DecreaseStreamRetentionPeriod`.
    pub retention: bool,
    /// [`StreamService::advance_clock`]: time can be moved forward on demand, which the
    /// expiry and trimming checks need.
    pub clock_control: bool,
    /// [`StreamService::call_raw`] puts requests on the wire byte for byte (the raw-request
    /// family of the validation area needs it; an endpoint that checks real signatures,
    /// such as AWS itself, cannot be sent unsigned raw requests).
    pub raw_requests: bool,
}

impl Capabilities {
    /// Everything supported.
    pub const ALL: Capabilities = Capabilities {
        resharding: true,
        update_shard_count: true,
        retention: true,
        clock_control: true,
        raw_requests: true,
    };
}

/// A Kinesis-compatible stream service: the operations of the data plane plus resharding and
/// retention. Implementations must be callable from many threads at once.
///
/// Every method either succeeds with the documented output or fails with the
/// [`KinesisError`] a Kinesis client would see; none may panic on any input.
pub trait StreamService: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> String;
    /// What this implementation supports.
    fn capabilities(&self) -> Capabilities;
    /// `CreateStream`.
    fn create_stream(&self, req: &CreateStreamRequest) -> Result<(), KinesisError>;
    /// `DeleteStream`.
    fn delete_stream(&self, req: &StreamRequest) -> Result<(), KinesisError>;
    /// `DescribeStreamSummary`.
    fn describe_stream_summary(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError>;
    /// `ListShards` (one page).
    fn list_shards(&self, req: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError>;
    /// `PutRecord`.
    fn put_record(&self, req: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError>;
    /// `PutRecords`.
    fn put_records(&self, req: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError>;
    /// `GetShardIterator`: returns the opaque iterator.
    fn get_shard_iterator(&self, req: &GetShardIteratorRequest) -> Result<String, KinesisError>;
    /// `GetRecords`.
    fn get_records(&self, req: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError>;
    /// `SplitShard`.
    fn split_shard(&self, req: &SplitShardRequest) -> Result<(), KinesisError>;
    /// `MergeShards`.
    fn merge_shards(&self, req: &MergeShardsRequest) -> Result<(), KinesisError>;
    /// `UpdateShardCount`.
    fn update_shard_count(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError>;
    /// `IncreaseStreamRetentionPeriod`.
    fn increase_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError>;
    /// `DecreaseStreamRetentionPeriod`.
    fn decrease_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError>;
    /// Moves the service's clock forward by `ms` (only with [`Capabilities::clock_control`]).
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        let _ = ms;
        Err(KinesisError::new(
            crate::types::ErrorKind::Other,
            "this implementation's clock cannot be controlled",
        ))
    }
    /// The service's current time in ms since the epoch, as it would stamp a record now.
    fn now_ms(&self) -> u64;
    /// Answers a request as it arrives over the Kinesis JSON 1.1 protocol, whatever its target
    /// and body, with the HTTP answer the service's front end gives. An `Err` means no answer
    /// arrived (the outcome is unknown); any HTTP answer, an error status included, is `Ok`.
    /// The default is the in-process front end of [`crate::wire::serve`] in front of this
    /// implementation's typed methods (account `000000000000`, region `us-east-1`); remote
    /// adapters send the bytes.
    fn call_raw(&self, request: &RawRequest) -> Result<RawReply, KinesisError> {
        Ok(crate::wire::serve(
            &crate::wire::Identity::local(),
            request,
            |typed| dispatch(self, typed),
        ))
    }
    /// Whether the service still answers at all, asked after a request went unanswered to
    /// tell a crash from a slow or hung request. Any answer counts, an error included; only a
    /// timeout, a refused or reset connection is "no". The default sends
    /// `DescribeStreamSummary` for a stream that does not exist; remote adapters override it
    /// with a short timeout.
    fn answers(&self) -> bool {
        let probe = StreamRequest {
            stream_name: "seqcheck-liveness-probe".into(),
        };
        match self.describe_stream_summary(&probe) {
            Ok(_) => true,
            Err(e) => {
                !e.kind.is_unknown_outcome()
                    || e.kind == crate::types::ErrorKind::UntypedServerError
            }
        }
    }
}

/// Sends `request` to `service` and wraps the answer.
pub fn dispatch<S: StreamService + ?Sized>(service: &S, request: &Request) -> Outcome {
    match request {
        Request::CreateStream(r) => service.create_stream(r).map(|()| Reply::Done),
        Request::DeleteStream(r) => service.delete_stream(r).map(|()| Reply::Done),
        Request::DescribeStreamSummary(r) => service.describe_stream_summary(r).map(Reply::Summary),
        Request::ListShards(r) => service.list_shards(r).map(Reply::Shards),
        Request::PutRecord(r) => service.put_record(r).map(Reply::Put),
        Request::PutRecords(r) => service.put_records(r).map(Reply::PutBatch),
        Request::GetShardIterator(r) => service.get_shard_iterator(r).map(Reply::Iterator),
        Request::GetRecords(r) => service.get_records(r).map(Reply::Records),
        Request::SplitShard(r) => service.split_shard(r).map(|()| Reply::Done),
        Request::MergeShards(r) => service.merge_shards(r).map(|()| Reply::Done),
        Request::UpdateShardCount(r) => service.update_shard_count(r).map(Reply::ShardCount),
        Request::IncreaseStreamRetentionPeriod(r) => service
            .increase_stream_retention_period(r)
            .map(|()| Reply::Done),
        Request::DecreaseStreamRetentionPeriod(r) => service
            .decrease_stream_retention_period(r)
            .map(|()| Reply::Done),
        Request::Raw(r) => service.call_raw(r).map(Reply::Raw),
    }
}
