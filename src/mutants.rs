//! Broken twins: deliberately defective implementations, each with the area of the suite that
//! must catch it. They prove the checks have teeth; `tests/broken_twins.rs` asserts every one
//! is caught within the default case budget.

pub mod concurrent;
mod front_end;

use crate::api::*;
use crate::clock::ManualClock;
use crate::conformance::Area;
use crate::memory::{Faults, MemoryConfig, MemoryStream};
use crate::model::Property;
use crate::service::{Capabilities, StreamService};
use crate::types::{KinesisError, SequenceNumber, ShardId, ShardIteratorType};
use md5::{Digest, Md5};
use parking_lot::Mutex;
use std::collections::HashMap;

/// A deliberately defective implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum BrokenTwin {
    /// AFTER_SEQUENCE_NUMBER includes the named record (off by one).
    AfterSequenceNumberInclusive,
    /// LATEST starts at the newest record instead of after it.
    LatestIncludesLastRecord,
    /// Routes by the MD5 digest read little-endian.
    LittleEndianHashKey,
    /// Ignores ExplicitHashKey and routes by the partition key.
    ExplicitHashKeyIgnored,
    /// Every fourth record of a shard reuses the previous number.
    SequenceNumberReused,
    /// A full page (Limit reached) silently skips the next record.
    PageSkipsRecordAtLimit,
    /// Splitting or merging drops the parents' records.
    SplitParentRecordsLost,
    /// A stale routing table keeps writing to closed parents.
    WritesOnClosedShard,
    /// Retention is not enforced on reads.
    TrimmedRecordsReturned,
    /// Rejects 256-character partition keys (the limit is inclusive).
    Rejects256CharKey,
    /// PutRecords answers entries in reverse order.
    PutRecordsReordered,
    /// Iterators never expire.
    ExpiredIteratorAccepted,
    /// Iterators expire after 280 s instead of 300 s.
    IteratorExpiresEarly,
    /// Child shards are numbered below their parents.
    ChildNumberedBelowParent,
    /// MillisBehindLatest is 1 at the tip of a shard.
    MillisBehindAtTip,
    /// The end of a closed shard reports no children.
    ShardEndWithoutChildren,
    /// The JSON front end decodes `Data` that is not base64 leniently and stores the record.
    LenientBase64,
    /// The JSON front end refuses a malformed PutRecord with the right error but stores it.
    RefusedPutStillStored,
    /// The JSON front end writes an explicit `null` member into successful answers.
    NullMembersInAnswers,
    /// CreateStream splits the hash space at (2^128 - 1) / N instead of floor(2^128 / N): the
    /// ranges still partition the space, but for N = 2 the boundary is one below 2^127.
    InitialSplitFromMaxKey,
    /// A closed shard never ends: after its last record it answers empty pages with a
    /// non-null NextShardIterator forever.
    ClosedShardNeverEnds,
    /// AT_TIMESTAMP later than a shard's newest record starts at the shard's oldest record
    /// instead of at the tip (a lookup that falls back to the start when nothing matches).
    AtTimestampPastNewestRewinds,
}

impl BrokenTwin {
    /// Every twin.
    pub const ALL: [BrokenTwin; 22] = [
        BrokenTwin::AfterSequenceNumberInclusive,
        BrokenTwin::LatestIncludesLastRecord,
        BrokenTwin::LittleEndianHashKey,
        BrokenTwin::ExplicitHashKeyIgnored,
        BrokenTwin::SequenceNumberReused,
        BrokenTwin::PageSkipsRecordAtLimit,
        BrokenTwin::SplitParentRecordsLost,
        BrokenTwin::WritesOnClosedShard,
        BrokenTwin::TrimmedRecordsReturned,
        BrokenTwin::Rejects256CharKey,
        BrokenTwin::PutRecordsReordered,
        BrokenTwin::ExpiredIteratorAccepted,
        BrokenTwin::IteratorExpiresEarly,
        BrokenTwin::ChildNumberedBelowParent,
        BrokenTwin::MillisBehindAtTip,
        BrokenTwin::ShardEndWithoutChildren,
        BrokenTwin::LenientBase64,
        BrokenTwin::RefusedPutStillStored,
        BrokenTwin::NullMembersInAnswers,
        BrokenTwin::InitialSplitFromMaxKey,
        BrokenTwin::ClosedShardNeverEnds,
        BrokenTwin::AtTimestampPastNewestRewinds,
    ];

    /// The area whose generator must catch this twin.
    pub fn area(self) -> Area {
        match self {
            BrokenTwin::AfterSequenceNumberInclusive
            | BrokenTwin::LatestIncludesLastRecord
            | BrokenTwin::ExpiredIteratorAccepted
            | BrokenTwin::IteratorExpiresEarly
            | BrokenTwin::AtTimestampPastNewestRewinds => Area::Iterators,
            BrokenTwin::LittleEndianHashKey
            | BrokenTwin::ExplicitHashKeyIgnored
            | BrokenTwin::InitialSplitFromMaxKey => Area::Routing,
            BrokenTwin::SequenceNumberReused | BrokenTwin::PutRecordsReordered => Area::Sequencing,
            BrokenTwin::PageSkipsRecordAtLimit | BrokenTwin::MillisBehindAtTip => Area::Paging,
            BrokenTwin::SplitParentRecordsLost
            | BrokenTwin::WritesOnClosedShard
            | BrokenTwin::ChildNumberedBelowParent
            | BrokenTwin::ShardEndWithoutChildren
            | BrokenTwin::ClosedShardNeverEnds => Area::Resharding,
            BrokenTwin::TrimmedRecordsReturned => Area::Retention,
            BrokenTwin::Rejects256CharKey
            | BrokenTwin::LenientBase64
            | BrokenTwin::RefusedPutStillStored
            | BrokenTwin::NullMembersInAnswers => Area::Validation,
        }
    }

    /// The properties whose violation proves the suite caught this twin.
    pub fn caught_as(self) -> &'static [Property] {
        match self {
            BrokenTwin::AfterSequenceNumberInclusive
            | BrokenTwin::LatestIncludesLastRecord
            | BrokenTwin::AtTimestampPastNewestRewinds => {
                &[Property::IteratorPosition, Property::Continuity]
            }
            BrokenTwin::LittleEndianHashKey
            | BrokenTwin::ExplicitHashKeyIgnored
            | BrokenTwin::WritesOnClosedShard => &[Property::Routing],
            BrokenTwin::SequenceNumberReused => &[Property::ShardOrder, Property::Uniqueness],
            BrokenTwin::PageSkipsRecordAtLimit => &[
                Property::Continuity,
                Property::NoLoss,
                Property::IteratorPosition,
            ],
            BrokenTwin::SplitParentRecordsLost => &[Property::ShardEnd, Property::NoLoss],
            BrokenTwin::TrimmedRecordsReturned => &[Property::Retention],
            BrokenTwin::Rejects256CharKey => &[Property::ErrorMapping],
            BrokenTwin::PutRecordsReordered => &[
                Property::ShardOrder,
                Property::BatchOrder,
                Property::Routing,
            ],
            BrokenTwin::ExpiredIteratorAccepted | BrokenTwin::IteratorExpiresEarly => {
                &[Property::Expiry]
            }
            BrokenTwin::ChildNumberedBelowParent => &[Property::CrossReshardOrder],
            BrokenTwin::MillisBehindAtTip => &[Property::MillisBehind],
            BrokenTwin::ShardEndWithoutChildren | BrokenTwin::ClosedShardNeverEnds => {
                &[Property::ShardEnd]
            }
            BrokenTwin::InitialSplitFromMaxKey => &[Property::HashPartition],
            BrokenTwin::LenientBase64 => &[Property::ErrorMapping],
            BrokenTwin::RefusedPutStillStored => &[Property::NoLoss, Property::Continuity],
            BrokenTwin::NullMembersInAnswers => &[Property::Wire],
        }
    }

    /// Builds the twin: the embedded service (manual clock) with the defect.
    pub fn build(self) -> Box<dyn StreamService> {
        let mut faults = Faults::default();
        match self {
            BrokenTwin::SequenceNumberReused => faults.reuse_sequence_numbers = true,
            BrokenTwin::SplitParentRecordsLost => faults.lose_parent_records_on_reshard = true,
            BrokenTwin::WritesOnClosedShard => faults.writes_on_closed_shards = true,
            BrokenTwin::TrimmedRecordsReturned => faults.ignore_retention = true,
            BrokenTwin::ExpiredIteratorAccepted => faults.accept_expired_iterators = true,
            BrokenTwin::IteratorExpiresEarly => {
                faults.iterator_lifetime_ms = Some(EARLY_ITERATOR_LIFETIME_MS)
            }
            BrokenTwin::ChildNumberedBelowParent => faults.children_numbered_below_parents = true,
            BrokenTwin::InitialSplitFromMaxKey => faults.initial_split_from_max_key = true,
            BrokenTwin::ClosedShardNeverEnds => faults.closed_shards_never_end = true,
            _ => {}
        }
        let inner = MemoryStream::with_manual_clock(
            MemoryConfig {
                faults,
                ..MemoryConfig::default()
            },
            ManualClock::default(),
        );
        Box::new(Twin {
            twin: self,
            inner,
            last: Mutex::new(HashMap::new()),
        })
    }
}

/// How long [`BrokenTwin::IteratorExpiresEarly`]'s iterators live: 20 s short of Kinesis's
/// 300 s, so only a use late in an iterator's lifetime shows the defect.
pub const EARLY_ITERATOR_LIFETIME_MS: u64 = 280_000;

/// The embedded service behind a defect injected at the API boundary.
struct Twin {
    twin: BrokenTwin,
    inner: MemoryStream,
    /// Newest number per (stream, shard), for LATEST-style defects.
    last: Mutex<HashMap<(String, ShardId), SequenceNumber>>,
}

fn little_endian_md5(key: &str) -> String {
    let digest = Md5::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    u128::from_le_bytes(bytes).to_string()
}

impl Twin {
    /// AT_TIMESTAMP as the inner service answers it, except that a position at the tip (no
    /// record at or after the timestamp) becomes TRIM_HORIZON.
    fn at_timestamp_rewinding(
        &self,
        mut req: GetShardIteratorRequest,
    ) -> Result<String, KinesisError> {
        let iterator = self.inner.get_shard_iterator(&req)?;
        let at_tip = self
            .inner
            .get_records(&GetRecordsRequest {
                shard_iterator: iterator.clone(),
                limit: Some(1),
            })
            .is_ok_and(|page| page.records.is_empty());
        if !at_tip {
            return Ok(iterator);
        }
        req.shard_iterator_type = ShardIteratorType::TRIM_HORIZON;
        req.timestamp_ms = None;
        self.inner.get_shard_iterator(&req)
    }

    fn remember(&self, stream: &str, r: &PutRecordResponse) {
        self.last
            .lock()
            .insert((stream.to_owned(), r.shard_id), r.sequence_number);
    }
}

impl StreamService for Twin {
    fn name(&self) -> String {
        format!("broken twin `{self_twin:?}`", self_twin = self.twin)
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn create_stream(&self, req: &CreateStreamRequest) -> Result<(), KinesisError> {
        self.inner.create_stream(req)
    }
    fn delete_stream(&self, req: &StreamRequest) -> Result<(), KinesisError> {
        self.inner.delete_stream(req)
    }
    fn describe_stream_summary(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        self.inner.describe_stream_summary(req)
    }
    fn list_shards(&self, req: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        self.inner.list_shards(req)
    }
    fn put_record(&self, req: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        let mut req = req.clone();
        match self.twin {
            BrokenTwin::LittleEndianHashKey
                if req.explicit_hash_key.is_none() && !req.partition_key.is_empty() =>
            {
                req.explicit_hash_key = Some(little_endian_md5(&req.partition_key));
            }
            BrokenTwin::ExplicitHashKeyIgnored => req.explicit_hash_key = None,
            BrokenTwin::Rejects256CharKey if req.partition_key.chars().count() == 256 => {
                return Err(KinesisError::validation(
                    &req.partition_key,
                    "partitionKey",
                    "Member must have length less than 256",
                ));
            }
            _ => {}
        }
        let r = self.inner.put_record(&req)?;
        self.remember(&req.stream_name, &r);
        Ok(r)
    }
    fn put_records(&self, req: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        let mut req = req.clone();
        for e in &mut req.records {
            match self.twin {
                BrokenTwin::LittleEndianHashKey
                    if e.explicit_hash_key.is_none() && !e.partition_key.is_empty() =>
                {
                    e.explicit_hash_key = Some(little_endian_md5(&e.partition_key));
                }
                BrokenTwin::ExplicitHashKeyIgnored => e.explicit_hash_key = None,
                _ => {}
            }
        }
        let mut r = self.inner.put_records(&req)?;
        for entry in r.records.iter().flatten() {
            self.remember(&req.stream_name, entry);
        }
        if self.twin == BrokenTwin::PutRecordsReordered {
            r.records.reverse();
        }
        Ok(r)
    }
    fn get_shard_iterator(&self, req: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        let mut req = req.clone();
        match (self.twin, req.shard_iterator_type) {
            (
                BrokenTwin::AfterSequenceNumberInclusive,
                ShardIteratorType::AFTER_SEQUENCE_NUMBER,
            ) => {
                req.shard_iterator_type = ShardIteratorType::AT_SEQUENCE_NUMBER;
            }
            (BrokenTwin::LatestIncludesLastRecord, ShardIteratorType::LATEST)
                if req.starting_sequence_number.is_none() =>
            {
                let last = ShardId::parse(&req.shard_id, "shardId", &req.stream_name)
                    .ok()
                    .and_then(|id| {
                        self.last
                            .lock()
                            .get(&(req.stream_name.clone(), id))
                            .copied()
                    });
                if let Some(last) = last {
                    req.shard_iterator_type = ShardIteratorType::AT_SEQUENCE_NUMBER;
                    req.starting_sequence_number = Some(last.to_string());
                }
            }
            (BrokenTwin::AtTimestampPastNewestRewinds, ShardIteratorType::AT_TIMESTAMP) => {
                return self.at_timestamp_rewinding(req);
            }
            _ => {}
        }
        self.inner.get_shard_iterator(&req)
    }
    fn get_records(&self, req: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        let skip = self.twin == BrokenTwin::PageSkipsRecordAtLimit;
        let limit = match req.limit {
            Some(l) if skip && (1..10_000).contains(&l) => Some(l + 1),
            other => other,
        };
        let mut r = self.inner.get_records(&GetRecordsRequest {
            shard_iterator: req.shard_iterator.clone(),
            limit,
        })?;
        if let (true, Some(l)) = (skip, req.limit) {
            r.records.truncate(l.max(0) as usize);
        }
        match self.twin {
            BrokenTwin::MillisBehindAtTip if r.millis_behind_latest == 0 => {
                r.millis_behind_latest = 1
            }
            BrokenTwin::ShardEndWithoutChildren => r.child_shards.clear(),
            _ => {}
        }
        Ok(r)
    }
    fn split_shard(&self, req: &SplitShardRequest) -> Result<(), KinesisError> {
        self.inner.split_shard(req)
    }
    fn merge_shards(&self, req: &MergeShardsRequest) -> Result<(), KinesisError> {
        self.inner.merge_shards(req)
    }
    fn update_shard_count(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        self.inner.update_shard_count(req)
    }
    fn increase_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        self.inner.increase_stream_retention_period(req)
    }
    fn decrease_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        self.inner.decrease_stream_retention_period(req)
    }
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        self.inner.advance_clock(ms)
    }
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    fn call_raw(&self, request: &RawRequest) -> Result<RawReply, KinesisError> {
        Ok(front_end::answer_raw(self.twin, request, &|typed| {
            crate::service::dispatch(self, typed)
        }))
    }
}
