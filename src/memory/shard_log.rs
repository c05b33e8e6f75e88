//! One shard's append-only log: the concurrent core where numbers are assigned and records
//! become visible to readers.
//!
//! Writers serialise on one lock per shard (one uncontended lock per append); readers never
//! lock. A writer mints numbers, writes the records into [`Slots`], then publishes the new
//! length with a `Release` store; a reader `Acquire`-loads the length and reads only slots
//! below it. The core is generic over a [`SyncFacade`] so loom and shuttle can check this
//! very code; [`ShardLog`] is the production instance.

use super::Faults;
use super::slots::Slots;
use super::sync::{FacadeAtomicBool, FacadeAtomicUsize, FacadeMutex, StdSync, SyncFacade};
use crate::clock::Clock;
use crate::sequencer::{SequencerError, ShardSequencer};
use crate::types::{Record, SequenceNumber};
use std::sync::atomic::Ordering;

/// Why an append was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The shard was closed by a reshard after the caller routed to it: route again.
    #[error("the shard is closed: route the record again")]
    Closed,
    /// The sequencer refused (bad ordering number, exhausted counter).
    #[error(transparent)]
    Sequencer(SequencerError),
}

/// Why a log could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VariantError {
    /// Defective variants exist to be caught by a model checker and run on nothing else.
    #[error(
        "the defective variant {variant:?} runs only on a model-checked facade, not on {facade}"
    )]
    NotModelChecked {
        /// The variant asked for.
        variant: CoreVariant,
        /// The facade it was asked for on.
        facade: &'static str,
    },
}

/// Which implementation of the core to run. Every variant but [`CoreVariant::Correct`] is a
/// deliberately defective twin that the loom and shuttle checks must catch; they can only be
/// built on a facade whose [`SyncFacade::MODEL_CHECKED`] is true.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CoreVariant {
    /// The production algorithm.
    #[default]
    Correct,
    /// The sequencer state is read under the lock, the lock is dropped, and the advanced state
    /// is stored back under a second acquisition: a non-atomic load-then-store of the counter.
    SplitCounterUpdate,
    /// The new length is published before the record is written into its slot.
    PublishBeforeWrite,
    /// The length is published and observed with `Relaxed` instead of `Release`/`Acquire`.
    RelaxedPublication,
    /// The closed flag is checked before taking the lock and not again under it, so an
    /// append racing a split can land on the closed parent.
    ClosedCheckedOutsideLock,
}

impl CoreVariant {
    /// Every defective twin.
    pub const TWINS: [CoreVariant; 4] = [
        CoreVariant::SplitCounterUpdate,
        CoreVariant::PublishBeforeWrite,
        CoreVariant::RelaxedPublication,
        CoreVariant::ClosedCheckedOutsideLock,
    ];

    fn publish_order(self) -> Ordering {
        if self == CoreVariant::RelaxedPublication {
            Ordering::Relaxed
        } else {
            Ordering::Release
        }
    }

    fn observe_order(self) -> Ordering {
        if self == CoreVariant::RelaxedPublication {
            Ordering::Relaxed
        } else {
            Ordering::Acquire
        }
    }
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

/// State only the lock holder touches.
struct Writer {
    sequencer: ShardSequencer,
    /// Records written so far (published or about to be).
    len: usize,
    /// Arrival time of the newest record (arrival times never decrease within a shard).
    newest_arrival_ms: u64,
    /// The ending number, once closed.
    ending: Option<SequenceNumber>,
}

/// A shard's log, generic over its synchronization primitives.
///
/// Guarantees: numbers strictly increase in log order; the records of one append get
/// consecutive log positions and increasing numbers in argument order; a record is visible to
/// readers no later than when its append returns, and readers see a prefix of the log (never
/// a record without every record before it); a visible record never changes or disappears
/// (except through the `lose_parent_records_on_reshard` fault); no append succeeds after
/// [`ShardLogCore::close`] returns.
pub struct ShardLogCore<S: SyncFacade> {
    writer: S::Mutex<Writer>,
    slots: Slots<S, Record>,
    /// Records readers may see: slots below it are written.
    published: S::AtomicUsize,
    /// Set (under the lock, after the last append) when the shard closes.
    closed: S::AtomicBool,
    /// Records below this position were dropped by a fault.
    cleared_below: S::AtomicUsize,
    /// The sequencer as created: its identity (format, epoch, shard) never changes.
    identity: ShardSequencer,
    variant: CoreVariant,
}

/// The production shard log.
pub type ShardLog = ShardLogCore<StdSync>;

impl<S: SyncFacade> std::fmt::Debug for ShardLogCore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardLog")
            .field("facade", &S::NAME)
            .field("variant", &self.variant)
            .finish_non_exhaustive()
    }
}

impl<S: SyncFacade> ShardLogCore<S> {
    /// An empty, open log whose numbers come from `sequencer`.
    pub fn new(sequencer: ShardSequencer) -> Self {
        ShardLogCore {
            identity: sequencer.clone(),
            writer: S::Mutex::new(Writer {
                sequencer,
                len: 0,
                newest_arrival_ms: 0,
                ending: None,
            }),
            slots: Slots::new(),
            published: S::AtomicUsize::new(0),
            closed: S::AtomicBool::new(false),
            cleared_below: S::AtomicUsize::new(0),
            variant: CoreVariant::Correct,
        }
    }

    /// An empty log running `variant`; defective variants need a model-checked facade.
    pub fn with_variant(
        sequencer: ShardSequencer,
        variant: CoreVariant,
    ) -> Result<Self, VariantError> {
        if variant != CoreVariant::Correct && !S::MODEL_CHECKED {
            return Err(VariantError::NotModelChecked {
                variant,
                facade: S::NAME,
            });
        }
        Ok(ShardLogCore {
            variant,
            ..ShardLogCore::new(sequencer)
        })
    }

    /// The variant this log runs.
    pub fn variant(&self) -> CoreVariant {
        self.variant
    }

    /// Appends `records` in order, stamped with `clock`'s time, calling `on_appended` with each
    /// number as it is assigned. Nothing is appended on a closed shard. The first record's
    /// number exceeds `exclusive_minimum` when that number belongs to this shard. If the
    /// sequencer refuses a record, the records before it stay appended.
    pub fn append(
        &self,
        clock: &dyn Clock,
        faults: Faults,
        exclusive_minimum: Option<&SequenceNumber>,
        records: impl IntoIterator<Item = NewRecord>,
        mut on_appended: impl FnMut(SequenceNumber),
    ) -> Result<(), AppendError> {
        let variant = self.variant;
        let check_under_lock = variant != CoreVariant::ClosedCheckedOutsideLock;
        if !check_under_lock
            && self.closed.load(Ordering::Acquire)
            && !faults.writes_on_closed_shards
        {
            return Err(AppendError::Closed);
        }
        let split_counter = variant == CoreVariant::SplitCounterUpdate;
        // The defective split update mints from a copy taken under a first lock acquisition.
        let mut stale = split_counter.then(|| self.writer.with_lock(|w| w.sequencer.clone()));
        self.writer.with_lock(|w| {
            if check_under_lock && w.ending.is_some() && !faults.writes_on_closed_shards {
                return Err(AppendError::Closed);
            }
            // Read the clock under the lock, and never before the newest record: arrival
            // times are non-decreasing within a shard.
            let now_ms = clock.now_ms().max(w.newest_arrival_ms);
            let mut minimum = exclusive_minimum;
            let mut result = Ok(());
            for record in records {
                let minted = match stale.as_mut() {
                    Some(copy) => copy.next(now_ms / 1000, minimum.take()),
                    None => w.sequencer.next(now_ms / 1000, minimum.take()),
                };
                let mut seq = match minted {
                    Ok(seq) => seq,
                    Err(e) => {
                        result = Err(AppendError::Sequencer(e));
                        break;
                    }
                };
                if faults.reuse_sequence_numbers && w.len % 4 == 3 {
                    seq = self.with_record(w.len - 1, |r| r.sequence_number);
                }
                let record = Record {
                    sequence_number: seq,
                    partition_key: record.partition_key,
                    data: record.data,
                    approximate_arrival_ms: now_ms,
                };
                let index = w.len;
                w.len += 1;
                if variant == CoreVariant::PublishBeforeWrite {
                    self.published.store(w.len, Ordering::Release);
                }
                // SAFETY: we hold the writer lock and `index` is not yet published (except in
                // the defective variant above, which only model checkers run).
                unsafe { self.slots.write(index, record) };
                on_appended(seq);
            }
            if let Some(copy) = stale {
                w.sequencer = copy;
            }
            w.newest_arrival_ms = now_ms;
            self.published.store(w.len, variant.publish_order());
            result
        })
    }

    /// Drops every record (only the `lose_parent_records_on_reshard` fault does this).
    pub fn clear(&self) {
        self.writer
            .with_lock(|w| self.cleared_below.store(w.len, Ordering::Release));
    }

    /// Closes the shard at `now_ms` and returns its ending number; idempotent. Every append
    /// that succeeded did so before this returns, and none succeeds after.
    pub fn close(&self, now_ms: u64) -> SequenceNumber {
        self.close_counting(now_ms).0
    }

    /// [`ShardLogCore::close`], also returning how many records the shard holds for good.
    pub fn close_counting(&self, now_ms: u64) -> (SequenceNumber, usize) {
        self.writer.with_lock(|w| {
            if let Some(end) = w.ending {
                return (end, w.len);
            }
            let end = w.sequencer.ending_sequence_number(now_ms / 1000);
            w.ending = Some(end);
            self.closed.store(true, Ordering::Release);
            (end, w.len)
        })
    }

    /// The ending number, once closed.
    pub fn ending_sequence_number(&self) -> Option<SequenceNumber> {
        self.writer.with_lock(|w| w.ending)
    }

    /// True when the sequencer could have minted `seq` for this shard.
    pub fn owns(&self, seq: &SequenceNumber) -> bool {
        self.identity.owns(seq)
    }

    /// How many records readers can see now (a lower bound once it returns).
    pub fn published_len(&self) -> usize {
        self.published.load(self.variant.observe_order())
    }

    /// Every visible record, in log order (a consistent prefix of the log).
    pub fn snapshot(&self) -> Vec<Record> {
        let (lo, hi) = self.visible();
        (lo..hi)
            .map(|i| self.with_record(i, Record::clone))
            .collect()
    }

    /// Number just after the newest record (the LATEST position), or the start number.
    pub fn latest_position(&self) -> SequenceNumber {
        let (lo, hi) = self.visible();
        if hi > lo {
            self.with_record(hi - 1, |r| r.sequence_number.successor())
        } else {
            self.identity.starting_sequence_number()
        }
    }

    /// Position of the first record that arrived at or after `timestamp_ms` (else LATEST).
    pub fn position_at_time(&self, timestamp_ms: u64) -> SequenceNumber {
        let (lo, hi) = self.visible();
        let i = self.partition_point(lo, hi, |r| r.approximate_arrival_ms < timestamp_ms);
        if i < hi {
            self.with_record(i, |r| r.sequence_number)
        } else if hi > lo {
            self.with_record(hi - 1, |r| r.sequence_number.successor())
        } else {
            self.identity.starting_sequence_number()
        }
    }

    /// Up to `limit` records (and at most `max_bytes`) at or after `from`, skipping records
    /// that arrived before `horizon_ms`. Never blocks writers.
    pub fn read(
        &self,
        from: &SequenceNumber,
        horizon_ms: u64,
        limit: usize,
        max_bytes: usize,
    ) -> LogPage {
        // Observe `closed` before the length: once closed is seen, the length is final.
        let closed = self.closed.load(Ordering::Acquire);
        let (lo, hi) = self.visible();
        let by_seq = self.partition_point(lo, hi, |r| r.sequence_number < *from);
        let by_time = self.partition_point(lo, hi, |r| r.approximate_arrival_ms < horizon_ms);
        let start = by_seq.max(by_time);
        let mut bytes = 0usize;
        let mut records = Vec::with_capacity(limit.min(hi - start));
        for i in start..hi {
            if records.len() >= limit {
                break;
            }
            let record = self.with_record(i, Record::clone);
            bytes += record.data.len() + record.partition_key.len();
            if bytes > max_bytes {
                break;
            }
            records.push(record);
        }
        let rest = start + records.len();
        LogPage {
            next_arrival_ms: (rest < hi)
                .then(|| self.with_record(rest, |r| r.approximate_arrival_ms)),
            at_end: rest >= hi && closed,
            records,
        }
    }

    /// Arrival time of the newest record, if any.
    pub fn last_arrival_ms(&self) -> Option<u64> {
        let (lo, hi) = self.visible();
        (hi > lo).then(|| self.with_record(hi - 1, |r| r.approximate_arrival_ms))
    }

    /// A copy of the sequencer (for minting children's epochs).
    pub fn sequencer(&self) -> ShardSequencer {
        self.writer.with_lock(|w| w.sequencer.clone())
    }

    /// The visible index range `[lo, hi)`.
    fn visible(&self) -> (usize, usize) {
        let hi = self.published.load(self.variant.observe_order());
        let lo = self.cleared_below.load(Ordering::Acquire).min(hi);
        (lo, hi)
    }

    /// First index in `[lo, hi)` whose record fails `pred` (records satisfying it come first).
    fn partition_point(
        &self,
        mut lo: usize,
        mut hi: usize,
        pred: impl Fn(&Record) -> bool,
    ) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.with_record(mid, &pred) {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        lo
    }

    /// Runs `f` on the record at `index`, which must be below a length this thread observed
    /// (or be written by this thread under the lock).
    ///
    /// # Panics
    /// When the slot is empty: a published record was not written, which only the defective
    /// variants can cause; the model checkers rely on this assertion.
    fn with_record<R>(&self, index: usize, f: impl FnOnce(&Record) -> R) -> R {
        // SAFETY: every caller passes an index below an `Acquire`-observed publication, or is
        // the writer holding the lock; either way the slot's write happens-before this read.
        unsafe {
            self.slots.get(index, |slot| match slot {
                Some(record) => f(record),
                None => panic!("log position {index} is visible but was never written"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::sequencer::SeqFormat;

    fn log() -> ShardLog {
        ShardLog::new(ShardSequencer::new(SeqFormat::Readable, 1, 0))
    }

    fn put(
        log: &ShardLog,
        clock: &ManualClock,
        n: usize,
    ) -> Result<Vec<SequenceNumber>, AppendError> {
        let mut seqs = Vec::new();
        let records = (0..n).map(|i| NewRecord {
            partition_key: std::sync::Arc::from("k"),
            data: bytes::Bytes::from(vec![i as u8; 3]),
        });
        log.append(clock, Faults::default(), None, records, |s| seqs.push(s))?;
        Ok(seqs)
    }

    #[test]
    fn defective_variants_refuse_the_production_facade() {
        for twin in CoreVariant::TWINS {
            let built =
                ShardLog::with_variant(ShardSequencer::new(SeqFormat::Readable, 1, 0), twin);
            assert_eq!(
                built.err(),
                Some(VariantError::NotModelChecked {
                    variant: twin,
                    facade: "std"
                })
            );
        }
        assert!(
            ShardLog::with_variant(
                ShardSequencer::new(SeqFormat::Readable, 1, 0),
                CoreVariant::Correct
            )
            .is_ok()
        );
    }

    #[test]
    fn appends_span_chunks_and_read_back_in_pages() {
        let clock = ManualClock::default();
        let log = log();
        let start = log.latest_position();
        let mut acked = Vec::new();
        for batch in 1..=40 {
            acked.extend(put(&log, &clock, batch % 7 + 1).expect("open"));
            clock.advance(10);
        }
        assert_eq!(log.published_len(), acked.len());
        assert!(acked.windows(2).all(|w| w[0] < w[1]));
        let mut from = start;
        let mut seen = Vec::new();
        loop {
            let page = log.read(&from, 0, 9, usize::MAX);
            let Some(last) = page.records.last() else {
                break;
            };
            from = last.sequence_number.successor();
            seen.extend(page.records.iter().map(|r| r.sequence_number));
        }
        assert_eq!(seen, acked);
        assert_eq!(log.latest_position(), acked[acked.len() - 1].successor());
        let at = log.snapshot()[50].approximate_arrival_ms;
        let first_at = log
            .snapshot()
            .iter()
            .position(|r| r.approximate_arrival_ms == at)
            .expect("present");
        assert_eq!(log.position_at_time(at), acked[first_at]);
    }

    #[test]
    fn a_closed_log_refuses_appends_and_reports_its_end() {
        let clock = ManualClock::default();
        let log = log();
        let start = log.latest_position();
        put(&log, &clock, 2).expect("open");
        assert!(!log.read(&start, 0, 10, usize::MAX).at_end);
        let (end, kept) = log.close_counting(clock.now_ms());
        assert_eq!(kept, 2);
        assert_eq!(log.close(clock.now_ms() + 5_000), end);
        assert_eq!(put(&log, &clock, 1), Err(AppendError::Closed));
        let page = log.read(&start, 0, 10, usize::MAX);
        assert_eq!(page.records.len(), 2);
        assert!(page.at_end);
        assert!(page.records.iter().all(|r| r.sequence_number < end));
    }
}
