//! The model's picture of streams and shards.

use crate::api::{ChildShard, ShardDescription};
use crate::sequencer::{ShardSequencer, StreamSequencer};
use crate::types::{
    ACCOUNT_ID, HashKey, HashKeyRange, KinesisError, SequenceNumber, ShardId, StreamStatus,
};
use bytes::Bytes;
use std::collections::HashSet;
use std::sync::Arc;

/// One hour in milliseconds.
pub const HOUR_MS: u64 = 3_600_000;

/// The time interval in which a request was in flight (`lo == hi` under a manual clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// Clock reading when the request was sent.
    pub lo: u64,
    /// Clock reading when the response arrived.
    pub hi: u64,
}

impl Window {
    /// A window of zero width.
    pub fn at(ms: u64) -> Self {
        Window { lo: ms, hi: ms }
    }

    /// The midpoint, the model's best single estimate of when the request took effect.
    pub fn mid(&self) -> u64 {
        self.lo + (self.hi - self.lo) / 2
    }
}

/// A record in a shard log, with what is known of its arrival time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRecord {
    /// The number the implementation assigned.
    pub seq: SequenceNumber,
    /// Partition key as put.
    pub partition_key: Arc<str>,
    /// Payload as put.
    pub data: Bytes,
    /// The put's window: the arrival timestamp must lie in it.
    pub arrival: Window,
}

impl LoggedRecord {
    /// Bytes this record counts against size budgets (data plus UTF-8 key).
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// A shard as the model knows it.
#[derive(Clone, Debug)]
pub struct ShardState {
    /// Its id.
    pub id: ShardId,
    /// Its immutable hash key range.
    pub range: HashKeyRange,
    /// Split parent or merge's `ShardToMerge`.
    pub parent: Option<ShardId>,
    /// Merge's `AdjacentShardToMerge`.
    pub adjacent_parent: Option<ShardId>,
    /// Mints the model's own numbers when it serves requests itself.
    pub sequencer: ShardSequencer,
    /// The starting number, once known (listed or self-minted).
    pub start: Option<SequenceNumber>,
    /// The ending number of a closed shard, once known.
    pub end: Option<SequenceNumber>,
    /// When the shard was closed, if it was.
    pub closed_ms: Option<u64>,
    /// Records in sequence-number order.
    pub log: Vec<LoggedRecord>,
}

impl ShardState {
    /// True while the shard accepts writes.
    pub fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }

    /// The largest number in the log.
    pub fn last_seq(&self) -> Option<SequenceNumber> {
        self.log.last().map(|r| r.seq)
    }

    /// Index of the first record with `seq >= from`.
    pub fn position_of(&self, from: &SequenceNumber) -> usize {
        self.log.partition_point(|r| r.seq < *from)
    }

    /// The shard as `ListShards` must describe it (numbers the model has not learned yet are
    /// left to the implementation).
    pub fn description(&self) -> Option<ShardDescription> {
        Some(ShardDescription {
            shard_id: self.id,
            parent_shard_id: self.parent,
            adjacent_parent_shard_id: self.adjacent_parent,
            hash_key_range: self.range,
            starting_sequence_number: self.start?,
            ending_sequence_number: self.end,
        })
    }
}

/// A stream as the model knows it.
#[derive(Clone, Debug)]
pub struct StreamState {
    /// Its name.
    pub name: String,
    /// Distinguishes a stream from an earlier one of the same name.
    pub incarnation: u64,
    /// The status the model last settled on.
    pub status: StreamStatus,
    /// True until the implementation has been seen to finish the last async change.
    pub transition_pending: bool,
    /// Retention in hours.
    pub retention_hours: u32,
    /// Records that arrived before this instant are gone even if retention grew later.
    pub trim_floor_ms: u64,
    /// Shards by index.
    pub shards: Vec<ShardState>,
    /// Hands out shard indexes and epochs for the model's own choices.
    pub sequencer: StreamSequencer,
    /// Set by UpdateShardCount until a complete listing shows the new shard map.
    pub reshape_target: Option<u32>,
    /// True until a complete listing has shown the ranges the stream was created with. Until
    /// then every listed shard the stream was created with must hold exactly its range of the
    /// split AWS was observed to make, `floor(2^128 / N)` (kinesis-semantics §2.4, §11.5;
    /// [`HashKeyRange::initial_split`]). [`super::Model::adopt`] can take a different split
    /// from a complete listing that diverged, as long as it partitions the space.
    pub initial_ranges_unconfirmed: bool,
    /// Times of recent UpdateShardCount calls (at most 10 per rolling 24 h).
    pub scaling_calls_ms: Vec<u64>,
    /// Every number any shard of this stream has answered with.
    pub issued: HashSet<SequenceNumber>,
}

impl StreamState {
    /// Open shards in hash order.
    pub fn open_shards(&self) -> Vec<&ShardState> {
        let mut open: Vec<&ShardState> = self.shards.iter().filter(|s| s.is_open()).collect();
        open.sort_by_key(|s| s.range.start);
        open
    }

    /// The open shard owning `key`.
    pub fn route(&self, key: HashKey) -> Option<usize> {
        self.shards
            .iter()
            .position(|s| s.is_open() && s.range.contains(key))
    }

    /// The shard with `id`, if it exists and is not expired.
    pub fn shard(&self, id: ShardId) -> Option<&ShardState> {
        self.shards.get(id.index() as usize)
    }

    /// Records arriving before this instant are trimmed at time `now`.
    pub fn trim_horizon_ms(&self, now: u64) -> u64 {
        self.trim_floor_ms
            .max(now.saturating_sub(u64::from(self.retention_hours) * HOUR_MS))
    }

    /// Children of shard `id` as `GetRecords` reports them at the shard's end.
    pub fn children_of(&self, id: ShardId) -> Vec<ChildShard> {
        self.shards
            .iter()
            .filter(|c| c.parent == Some(id) || c.adjacent_parent == Some(id))
            .map(|c| ChildShard {
                shard_id: c.id,
                parent_shards: c.parent.into_iter().chain(c.adjacent_parent).collect(),
                hash_key_range: c.range,
            })
            .collect()
    }

    /// Checks that open shards partition `[0, 2^128 - 1]`.
    pub fn open_ranges_partition_the_space(&self) -> Result<(), String> {
        let open = self.open_shards();
        let mut expected_start = 0u128;
        for (i, s) in open.iter().enumerate() {
            if s.range.start != expected_start {
                return Err(format!(
                    "open shard {} starts at {} but the previous open range ends at {}",
                    s.id,
                    s.range.start,
                    expected_start.wrapping_sub(1)
                ));
            }
            if s.range.end == u128::MAX {
                return if i + 1 == open.len() {
                    Ok(())
                } else {
                    Err(format!("open shards overlap after {}", s.id))
                };
            }
            expected_start = s.range.end + 1;
        }
        Err("open shards do not reach 2^128-1".into())
    }

    /// `Stream <name> under account <a> not found.`
    pub fn not_found(name: &str) -> KinesisError {
        KinesisError::not_found(format!(
            "Stream {name} under account {ACCOUNT_ID} not found."
        ))
    }

    /// `Shard <id> in stream <s> under account <a> does not exist`
    pub fn shard_not_found(&self, id: ShardId) -> KinesisError {
        KinesisError::not_found(format!(
            "Shard {id} in stream {} under account {ACCOUNT_ID} does not exist",
            self.name
        ))
    }
}
