//! `MemoryStream`: the embedded, concurrent, in-memory Kinesis data plane.
//!
//! Many threads may call it at once. Each shard's log has its own writer lock and lock-free
//! readers (see [`ShardLogCore`]); stream and shard maps are immutable snapshots swapped
//! atomically, so readers and writers of different shards never contend, and readers never
//! block writers. Sequence numbers come from the shared sequencer. The log's core is generic
//! over a [`SyncFacade`], so loom and shuttle check the code production runs.

mod faults;
mod ops_admin;
mod ops_data;
mod shard_log;
mod slots;
pub mod sync;
mod token;
mod topology;

pub use faults::Faults;
pub use shard_log::{
    AppendError, CoreVariant, LogPage, NewRecord, ShardLog, ShardLogCore, VariantError,
};
pub use sync::{StdSync, SyncFacade};
pub use token::{IteratorToken, ListToken};
pub use topology::{Shard, Topology};

use crate::clock::{Clock, ManualClock, SystemClock};
use crate::sequencer::{SeqFormat, StreamSequencer};
use crate::service::Capabilities;
use crate::types::{KinesisError, StreamName};
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Settings of an embedded service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryConfig {
    /// Layout of the numbers it mints.
    pub seq_format: SeqFormat,
    /// Most open shards across all streams.
    pub shard_quota: u32,
    /// Deliberate defects (all off by default).
    pub faults: Faults,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            seq_format: SeqFormat::Readable,
            shard_quota: 500,
            faults: Faults::default(),
        }
    }
}

/// Mutable stream settings, changed only under the stream's admin lock.
#[derive(Debug)]
struct Admin {
    sequencer: StreamSequencer,
    scaling_calls_ms: Vec<u64>,
}

/// A stream of the embedded service.
#[derive(Debug)]
pub struct StreamHandle {
    name: String,
    incarnation: u64,
    topology: ArcSwap<Topology>,
    admin: Mutex<Admin>,
    retention_hours: AtomicU64,
    trim_floor_ms: AtomicU64,
    ignore_retention: bool,
}

impl StreamHandle {
    /// Records that arrived before this instant are no longer readable at `now_ms`.
    fn trim_horizon_ms(&self, now_ms: u64) -> u64 {
        if self.ignore_retention {
            return 0;
        }
        let retention = self.retention_hours.load(Ordering::Acquire) * crate::model::HOUR_MS;
        self.trim_floor_ms
            .load(Ordering::Acquire)
            .max(now_ms.saturating_sub(retention))
    }
}

/// The embedded Kinesis service. Transitions (create, reshard, delete) complete at once, so
/// the stream is ACTIVE whenever a call returns.
pub struct MemoryStream {
    config: MemoryConfig,
    clock: Arc<dyn Clock>,
    manual_clock: Option<ManualClock>,
    streams: ArcSwap<HashMap<String, Arc<StreamHandle>>>,
    /// Serialises changes to the stream map (create/delete) and shard-quota accounting.
    catalog: Mutex<u64>,
    secret: u64,
}

impl std::fmt::Debug for MemoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStream")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStream {
    fn default() -> Self {
        MemoryStream::with_clock(MemoryConfig::default(), Arc::new(SystemClock))
    }
}

impl MemoryStream {
    /// A service reading time from `clock`.
    pub fn with_clock(config: MemoryConfig, clock: Arc<dyn Clock>) -> Self {
        let secret = clock.now_ms() ^ 0x5e9c_4ec0_u64.rotate_left(17);
        MemoryStream {
            config,
            clock,
            manual_clock: None,
            streams: ArcSwap::from_pointee(HashMap::new()),
            catalog: Mutex::new(1),
            secret,
        }
    }

    /// A service whose time moves only via [`crate::StreamService::advance_clock`].
    pub fn with_manual_clock(config: MemoryConfig, clock: ManualClock) -> Self {
        let mut s = MemoryStream::with_clock(config, Arc::new(clock.clone()));
        s.manual_clock = Some(clock);
        s
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            clock_control: self.manual_clock.is_some(),
            ..Capabilities::ALL
        }
    }

    fn stream(&self, raw: &str) -> Result<Arc<StreamHandle>, KinesisError> {
        StreamName::parse(raw)?;
        self.streams
            .load()
            .get(raw)
            .cloned()
            .ok_or_else(|| crate::model::StreamState::not_found(raw))
    }

    /// The stream named `raw` in a stream-map snapshot the caller holds. Hot paths borrow
    /// instead of cloning the handle, so concurrent puts share no reference count.
    fn borrow_stream<'a>(
        streams: &'a HashMap<String, Arc<StreamHandle>>,
        raw: &str,
    ) -> Result<&'a StreamHandle, KinesisError> {
        StreamName::parse(raw)?;
        streams
            .get(raw)
            .map(|s| &**s)
            .ok_or_else(|| crate::model::StreamState::not_found(raw))
    }

    fn open_shard_total(&self) -> usize {
        self.streams
            .load()
            .values()
            .map(|s| s.topology.load().open.len())
            .sum()
    }
}
