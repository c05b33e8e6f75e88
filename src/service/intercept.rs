//! [`Intercepted`]: any implementation with a hook in front of every request, for fault
//! injection and observation in tests (a flaky link, a crash on some input, a request counter)
//! without writing fifteen delegating methods each time.

use super::{Capabilities, StreamService, dispatch};
use crate::api::*;
use crate::types::{ErrorKind, KinesisError};

/// `inner` behind `hook`. Every request goes to `hook(request, forward)`; calling `forward()`
/// sends it to `inner` and returns its outcome, which the hook may pass on, alter or drop (and
/// it may answer without forwarding at all). Name, capabilities, clock and `advance_clock` are
/// `inner`'s.
///
/// If the hook answers with a reply of the wrong kind for the operation, the caller gets an
/// [`ErrorKind::MalformedResponse`] error saying so, as a client would from a broken service.
pub struct Intercepted<S, F> {
    inner: S,
    hook: F,
}

impl<S, F> Intercepted<S, F>
where
    S: StreamService,
    F: Fn(&Request, &dyn Fn() -> Outcome) -> Outcome + Send + Sync,
{
    /// Puts `hook` in front of `inner`.
    pub fn new(inner: S, hook: F) -> Self {
        Intercepted { inner, hook }
    }

    fn call(&self, request: Request) -> Outcome {
        (self.hook)(&request, &|| dispatch(&self.inner, &request))
    }
}

/// The error for a reply that does not belong to `operation`.
fn wrong_reply(operation: &str, reply: &Reply) -> KinesisError {
    KinesisError::new(
        ErrorKind::MalformedResponse,
        format!("{operation} was answered with a reply of another operation: {reply:?}"),
    )
}

macro_rules! unwrap_reply {
    ($outcome:expr, $operation:literal, $pattern:pat => $value:expr) => {
        match $outcome? {
            $pattern => Ok($value),
            other => Err(wrong_reply($operation, &other)),
        }
    };
}

impl<S, F> StreamService for Intercepted<S, F>
where
    S: StreamService,
    F: Fn(&Request, &dyn Fn() -> Outcome) -> Outcome + Send + Sync,
{
    fn name(&self) -> String {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn create_stream(&self, r: &CreateStreamRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::CreateStream(r.clone()));
        unwrap_reply!(outcome, "CreateStream", Reply::Done => ())
    }
    fn delete_stream(&self, r: &StreamRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::DeleteStream(r.clone()));
        unwrap_reply!(outcome, "DeleteStream", Reply::Done => ())
    }
    fn describe_stream_summary(&self, r: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        let outcome = self.call(Request::DescribeStreamSummary(r.clone()));
        unwrap_reply!(outcome, "DescribeStreamSummary", Reply::Summary(s) => s)
    }
    fn list_shards(&self, r: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        let outcome = self.call(Request::ListShards(r.clone()));
        unwrap_reply!(outcome, "ListShards", Reply::Shards(s) => s)
    }
    fn put_record(&self, r: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        let outcome = self.call(Request::PutRecord(r.clone()));
        unwrap_reply!(outcome, "PutRecord", Reply::Put(p) => p)
    }
    fn put_records(&self, r: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        let outcome = self.call(Request::PutRecords(r.clone()));
        unwrap_reply!(outcome, "PutRecords", Reply::PutBatch(b) => b)
    }
    fn get_shard_iterator(&self, r: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        let outcome = self.call(Request::GetShardIterator(r.clone()));
        unwrap_reply!(outcome, "GetShardIterator", Reply::Iterator(i) => i)
    }
    fn get_records(&self, r: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        let outcome = self.call(Request::GetRecords(r.clone()));
        unwrap_reply!(outcome, "GetRecords", Reply::Records(g) => g)
    }
    fn split_shard(&self, r: &SplitShardRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::SplitShard(r.clone()));
        unwrap_reply!(outcome, "SplitShard", Reply::Done => ())
    }
    fn merge_shards(&self, r: &MergeShardsRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::MergeShards(r.clone()));
        unwrap_reply!(outcome, "MergeShards", Reply::Done => ())
    }
    fn update_shard_count(
        &self,
        r: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        let outcome = self.call(Request::UpdateShardCount(r.clone()));
        unwrap_reply!(outcome, "UpdateShardCount", Reply::ShardCount(c) => c)
    }
    fn increase_stream_retention_period(&self, r: &RetentionRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::IncreaseStreamRetentionPeriod(r.clone()));
        unwrap_reply!(outcome, "IncreaseStreamRetentionPeriod", Reply::Done => ())
    }
    fn decrease_stream_retention_period(&self, r: &RetentionRequest) -> Result<(), KinesisError> {
        let outcome = self.call(Request::DecreaseStreamRetentionPeriod(r.clone()));
        unwrap_reply!(outcome, "DecreaseStreamRetentionPeriod", Reply::Done => ())
    }
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        self.inner.advance_clock(ms)
    }
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::in_process_memory;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_hook_sees_every_request_and_can_answer_instead() {
        let seen = AtomicUsize::new(0);
        let service = Intercepted::new(
            in_process_memory(),
            |request: &Request, forward: &dyn Fn() -> Outcome| {
                seen.fetch_add(1, Ordering::Relaxed);
                match request {
                    Request::DeleteStream(_) => Ok(Reply::Iterator("not a delete reply".into())),
                    _ => forward(),
                }
            },
        );
        let create = CreateStreamRequest {
            stream_name: "s".into(),
            shard_count: 1,
        };
        assert_eq!(service.create_stream(&create), Ok(()));
        let summary = service
            .describe_stream_summary(&StreamRequest {
                stream_name: "s".into(),
            })
            .expect("the inner service answers");
        assert_eq!(summary.open_shard_count, 1);
        let err = service
            .delete_stream(&StreamRequest {
                stream_name: "s".into(),
            })
            .expect_err("a reply of the wrong kind");
        assert_eq!(err.kind, ErrorKind::MalformedResponse);
        assert_eq!(seen.load(Ordering::Relaxed), 3);
    }
}
