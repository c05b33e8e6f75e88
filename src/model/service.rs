//! The reference model served as an in-process fake Kinesis: "the model is the mock".

use super::{Model, ModelConfig};
use crate::api::*;
use crate::clock::{Clock, ManualClock};
use crate::service::{Capabilities, StreamService};
use crate::types::KinesisError;
use std::sync::Mutex;

/// The reference model behind the [`StreamService`] trait, with a manual clock.
///
/// Every answer is the model's canonical resolution of Kinesis's nondeterminism, so it is
/// admissible by construction; calls are serialised by one lock.
#[derive(Debug)]
pub struct ModelService {
    model: Mutex<Model>,
    clock: ManualClock,
}

impl ModelService {
    /// A fresh account using `config`, reading time from `clock`.
    pub fn new(config: ModelConfig, clock: ManualClock) -> Self {
        ModelService {
            model: Mutex::new(Model::new(config)),
            clock,
        }
    }

    fn call(&self, request: Request) -> Outcome {
        let now = self.clock.now_ms();
        match self.model.lock() {
            Ok(mut model) => model.answer(&request, now),
            Err(_) => Err(KinesisError::internal("the model lock was poisoned")),
        }
    }
}

impl Default for ModelService {
    fn default() -> Self {
        ModelService::new(ModelConfig::default(), ManualClock::default())
    }
}

macro_rules! expect_reply {
    ($outcome:expr, $variant:ident) => {
        match $outcome? {
            Reply::$variant(r) => Ok(r),
            other => Err(KinesisError::internal(format!(
                "unexpected reply {other:?}"
            ))),
        }
    };
    ($outcome:expr) => {
        $outcome.map(|_| ())
    };
}

impl StreamService for ModelService {
    fn name(&self) -> String {
        "model".into()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }
    fn create_stream(&self, req: &CreateStreamRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::CreateStream(req.clone())))
    }
    fn delete_stream(&self, req: &StreamRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::DeleteStream(req.clone())))
    }
    fn describe_stream_summary(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        expect_reply!(
            self.call(Request::DescribeStreamSummary(req.clone())),
            Summary
        )
    }
    fn list_shards(&self, req: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        expect_reply!(self.call(Request::ListShards(req.clone())), Shards)
    }
    fn put_record(&self, req: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        expect_reply!(self.call(Request::PutRecord(req.clone())), Put)
    }
    fn put_records(&self, req: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        expect_reply!(self.call(Request::PutRecords(req.clone())), PutBatch)
    }
    fn get_shard_iterator(&self, req: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        expect_reply!(self.call(Request::GetShardIterator(req.clone())), Iterator)
    }
    fn get_records(&self, req: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        expect_reply!(self.call(Request::GetRecords(req.clone())), Records)
    }
    fn split_shard(&self, req: &SplitShardRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::SplitShard(req.clone())))
    }
    fn merge_shards(&self, req: &MergeShardsRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::MergeShards(req.clone())))
    }
    fn update_shard_count(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        expect_reply!(
            self.call(Request::UpdateShardCount(req.clone())),
            ShardCount
        )
    }
    fn increase_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::IncreaseStreamRetentionPeriod(req.clone())))
    }
    fn decrease_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        expect_reply!(self.call(Request::DecreaseStreamRetentionPeriod(req.clone())))
    }
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        self.clock.advance(ms);
        Ok(())
    }
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}
