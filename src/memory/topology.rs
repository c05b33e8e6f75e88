//! A stream's shard map: an immutable snapshot swapped atomically on every reshard.

use super::shard_log::ShardLog;
use crate::types::{HashKey, HashKeyRange, SequenceNumber, ShardId};
use std::sync::Arc;
use std::sync::OnceLock;

/// One shard of the embedded service.
#[derive(Debug)]
pub struct Shard {
    /// Its id.
    pub id: ShardId,
    /// Its immutable hash key range.
    pub range: HashKeyRange,
    /// Split parent or merge's `ShardToMerge`.
    pub parent: Option<ShardId>,
    /// Merge's `AdjacentShardToMerge`.
    pub adjacent_parent: Option<ShardId>,
    /// Below every number of the shard.
    pub start: SequenceNumber,
    /// When the shard was closed.
    pub closed_ms: OnceLock<u64>,
    /// The records.
    pub log: ShardLog,
}

impl Shard {
    /// True while the shard accepts writes.
    pub fn is_open(&self) -> bool {
        self.closed_ms.get().is_none()
    }
}

/// An immutable view of a stream's shards.
///
/// Invariants: `shards[i].id.index() == i`; `open` holds exactly the open shards sorted by
/// range start, and their ranges partition `[0, 2^128 - 1]`.
#[derive(Debug, Default)]
pub struct Topology {
    /// All shards by index.
    pub shards: Vec<Arc<Shard>>,
    /// Open shards by range start.
    pub open: Vec<Arc<Shard>>,
}

impl Topology {
    /// Builds the snapshot from all shards.
    pub fn new(shards: Vec<Arc<Shard>>) -> Self {
        let mut open: Vec<Arc<Shard>> = shards.iter().filter(|s| s.is_open()).cloned().collect();
        open.sort_by_key(|s| s.range.start);
        debug_assert!(
            open.windows(2)
                .all(|w| w[0].range.end.checked_add(1) == Some(w[1].range.start))
        );
        Topology { shards, open }
    }

    /// The open shard owning `key`.
    pub fn route(&self, key: HashKey) -> Option<&Arc<Shard>> {
        let i = self.open.partition_point(|s| s.range.end < key.0);
        self.open.get(i).filter(|s| s.range.contains(key))
    }

    /// The shard with `id`.
    pub fn shard(&self, id: ShardId) -> Option<&Arc<Shard>> {
        self.shards.get(id.index() as usize)
    }

    /// Children of `id` (split or merge).
    pub fn children_of(&self, id: ShardId) -> impl Iterator<Item = &Arc<Shard>> {
        self.shards
            .iter()
            .filter(move |c| c.parent == Some(id) || c.adjacent_parent == Some(id))
    }
}
