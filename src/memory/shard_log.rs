//! One shard's append-only log: the concurrent core where numbers are assigned and records
//! become visible to readers.

use super::Faults;
use crate::clock::Clock;
use crate::sequencer::{SequencerError, ShardSequencer};
use crate::types::{Record, SequenceNumber};
use parking_lot::Mutex;

/// Why an append was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The shard was closed by a reshard after the caller routed to it: route again.
    Closed,
    /// The sequencer refused (bad ordering number, exhausted counter).
    Sequencer(SequencerError),
}

/// A record to append: everything but the number and arrival time.
#[derive(Clone, Debug)]
pub struct NewRecord {
    /// Partition key.
    pub partition_key: std::sync::Arc<str>,
    /// Payload.
    pub data: bytes::Bytes,
}

/// A page read from a log.
#[derive(Clone, Debug, Default)]
pub struct LogPage {
    /// Records at or after the requested position, in order.
    pub records: Vec<Record>,
    /// Arrival time of the first record not returned, if any remains.
    pub next_arrival_ms: Option<u64>,
    /// True when the shard is closed and nothing remains after this page.
    pub at_end: bool,
}

struct Inner {
    sequencer: ShardSequencer,
    records: Vec<Record>,
    closed: Option<SequenceNumber>,
}

/// A shard's log. Guarantees: numbers strictly increase in log order; a record is visible to
/// readers exactly when its append returns; no append succeeds after [`ShardLog::close`].
pub struct ShardLog {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for ShardLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog").finish_non_exhaustive()
    }
}

impl ShardLog {
    /// An empty, open log whose numbers come from `sequencer`.
    pub fn new(sequencer: ShardSequencer) -> Self {
        ShardLog {
            inner: Mutex::new(Inner {
                sequencer,
                records: Vec::new(),
                closed: None,
            }),
        }
    }

    /// Appends `records` in order, stamped with `clock`'s time (all or nothing on a closed shard). The first
    /// record's number exceeds `exclusive_minimum` when that number belongs to this shard.
    pub fn append(
        &self,
        clock: &dyn Clock,
        faults: Faults,
        exclusive_minimum: Option<&SequenceNumber>,
        records: impl IntoIterator<Item = NewRecord>,
        mut on_appended: impl FnMut(SequenceNumber),
    ) -> Result<(), AppendError> {
        let mut inner = self.inner.lock();
        if inner.closed.is_some() && !faults.writes_on_closed_shards {
            return Err(AppendError::Closed);
        }
        // Read the clock under the lock, and never before the newest record: arrival times
        // are non-decreasing within a shard.
        let newest = inner.records.last().map_or(0, |r| r.approximate_arrival_ms);
        let now_ms = clock.now_ms().max(newest);
        let mut minimum = exclusive_minimum;
        for record in records {
            let mut seq = inner
                .sequencer
                .next(now_ms / 1000, minimum.take())
                .map_err(AppendError::Sequencer)?;
            if faults.reuse_sequence_numbers && inner.records.len() % 4 == 3 {
                seq = inner.records.last().map_or(seq, |r| r.sequence_number);
            }
            inner.records.push(Record {
                sequence_number: seq,
                partition_key: record.partition_key,
                data: record.data,
                approximate_arrival_ms: now_ms,
            });
            on_appended(seq);
        }
        Ok(())
    }

    /// Drops every record (only the `lose_parent_records_on_reshard` fault does this).
    pub fn clear(&self) {
        self.inner.lock().records.clear();
    }

    /// Closes the shard at `now_ms` and returns its ending number; idempotent.
    pub fn close(&self, now_ms: u64) -> SequenceNumber {
        let mut inner = self.inner.lock();
        if let Some(end) = inner.closed {
            return end;
        }
        let end = inner.sequencer.ending_sequence_number(now_ms / 1000);
        inner.closed = Some(end);
        end
    }

    /// The ending number, once closed.
    pub fn ending_sequence_number(&self) -> Option<SequenceNumber> {
        self.inner.lock().closed
    }

    /// True when the sequencer could have minted `seq` for this shard.
    pub fn owns(&self, seq: &SequenceNumber) -> bool {
        self.inner.lock().sequencer.owns(seq)
    }

    /// Number just after the newest record (the LATEST position), or the start number.
    pub fn latest_position(&self) -> SequenceNumber {
        let inner = self.inner.lock();
        inner
            .records
            .last()
            .map_or_else(|| inner.sequencer.starting_sequence_number(), |r| r.sequence_number.successor())
    }

    /// Position of the first record that arrived at or after `timestamp_ms` (else LATEST).
    pub fn position_at_time(&self, timestamp_ms: u64) -> SequenceNumber {
        let inner = self.inner.lock();
        let i = inner.records.partition_point(|r| r.approximate_arrival_ms < timestamp_ms);
        match inner.records.get(i) {
            Some(r) => r.sequence_number,
            None => inner
                .records
                .last()
                .map_or_else(|| inner.sequencer.starting_sequence_number(), |r| r.sequence_number.successor()),
        }
    }

    /// Up to `limit` records (and at most `max_bytes`) at or after `from`, skipping records
    /// that arrived before `horizon_ms`.
    pub fn read(&self, from: &SequenceNumber, horizon_ms: u64, limit: usize, max_bytes: usize) -> LogPage {
        let inner = self.inner.lock();
        let by_seq = inner.records.partition_point(|r| r.sequence_number < *from);
        let by_time = inner.records.partition_point(|r| r.approximate_arrival_ms < horizon_ms);
        let start = by_seq.max(by_time);
        let mut bytes = 0usize;
        let mut records = Vec::with_capacity(limit.min(inner.records.len() - start));
        for r in inner.records[start..].iter().take(limit) {
            bytes += r.data.len() + r.partition_key.len();
            if bytes > max_bytes {
                break;
            }
            records.push(r.clone());
        }
        let rest = inner.records.get(start + records.len());
        LogPage {
            next_arrival_ms: rest.map(|r| r.approximate_arrival_ms),
            at_end: rest.is_none() && inner.closed.is_some(),
            records,
        }
    }

    /// Arrival time of the newest record, if any.
    pub fn last_arrival_ms(&self) -> Option<u64> {
        self.inner.lock().records.last().map(|r| r.approximate_arrival_ms)
    }

    /// A copy of the sequencer (for minting children's epochs).
    pub fn sequencer(&self) -> ShardSequencer {
        self.inner.lock().sequencer.clone()
    }
}
