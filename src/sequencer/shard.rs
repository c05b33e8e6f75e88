//! The per-shard sequencer: pure state that mints strictly increasing numbers.

use super::layout::{MAX_COUNTER, SeqFields, SeqFormat};
use crate::types::SequenceNumber;

/// Why the sequencer refused to mint a number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SequencerError {
    /// The caller's `SequenceNumberForOrdering` is not a number this format could have minted.
    #[error("ExclusiveMinimumSequenceNumber {0} is not a sequence number this service could have issued")]
    UndecodableOrderingNumber(SequenceNumber),
    /// The shard's counter space is used up (2^63 - 1 numbers).
    #[error("the shard's sequence counter is exhausted")]
    Exhausted,
}

/// Mints the sequence numbers of one shard.
///
/// Guarantees: every number it returns is strictly greater than every number it returned
/// before, than the shard's starting number, and (when the ordering number belongs to this
/// shard) than the caller's `SequenceNumberForOrdering`; every number is below the shard's
/// ending number; numbers of two different shards never coincide. No I/O, no clock, no locks:
/// the caller passes the time and serialises access.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardSequencer {
    format: SeqFormat,
    epoch: u64,
    shard_index: u32,
    next_counter: u64,
}

impl ShardSequencer {
    /// A sequencer for shard `shard_index` created in epoch `epoch` (see [`SeqFormat::child_epoch`]).
    pub fn new(format: SeqFormat, epoch: u64, shard_index: u32) -> Self {
        ShardSequencer {
            format,
            epoch,
            shard_index,
            next_counter: 1,
        }
    }

    /// Resumes a sequencer whose next counter was persisted as `next_counter` (e.g. the end of
    /// a reserved block): it never reissues a counter below that.
    pub fn resume(format: SeqFormat, epoch: u64, shard_index: u32, next_counter: u64) -> Self {
        ShardSequencer {
            format,
            epoch,
            shard_index,
            next_counter: next_counter.max(1),
        }
    }

    /// The format numbers are minted in.
    pub fn format(&self) -> SeqFormat {
        self.format
    }

    /// The shard's creation epoch; children get a larger one.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The shard index this sequencer mints for.
    pub fn shard_index(&self) -> u32 {
        self.shard_index
    }

    /// The counter the next number will use (absent an ordering number that pushes it up).
    pub fn next_counter(&self) -> u64 {
        self.next_counter
    }

    /// The shard's `StartingSequenceNumber`: below every number the shard will mint.
    pub fn starting_sequence_number(&self) -> SequenceNumber {
        self.format.encode(self.fields(0, self.epoch))
    }

    /// The shard's `EndingSequenceNumber` once closed at `close_secs`: above every number the
    /// shard minted or could mint.
    pub fn ending_sequence_number(&self, close_secs: u64) -> SequenceNumber {
        self.format.encode(self.fields(MAX_COUNTER, close_secs))
    }

    /// True when `seq` decodes as a number of this very shard (same epoch and index).
    pub fn owns(&self, seq: &SequenceNumber) -> bool {
        self.format
            .decode(seq)
            .is_some_and(|f| f.epoch == self.epoch && f.shard_index == self.shard_index)
    }

    /// Mints the next number at `now_secs`, strictly above `exclusive_minimum` when that
    /// number belongs to this shard. An ordering number from another shard constrains nothing
    /// (kinesis-semantics §11.3); one that no shard could have minted is refused.
    pub fn next(
        &mut self,
        now_secs: u64,
        exclusive_minimum: Option<&SequenceNumber>,
    ) -> Result<SequenceNumber, SequencerError> {
        let mut counter = self.next_counter;
        if let Some(min) = exclusive_minimum {
            let decoded = self
                .format
                .decode(min)
                .ok_or(SequencerError::UndecodableOrderingNumber(*min))?;
            if decoded.epoch == self.epoch && decoded.shard_index == self.shard_index {
                counter = counter.max(decoded.counter.saturating_add(1));
            }
        }
        if counter >= MAX_COUNTER {
            return Err(SequencerError::Exhausted);
        }
        self.next_counter = counter + 1;
        let seq = self.format.encode(self.fields(counter, now_secs));
        debug_assert!(exclusive_minimum.is_none_or(|m| !self.owns(m) || seq > *m));
        Ok(seq)
    }

    fn fields(&self, counter: u64, record_secs: u64) -> SeqFields {
        SeqFields {
            epoch: self.epoch,
            shard_index: self.shard_index,
            counter,
            record_secs: record_secs.max(self.epoch) & super::layout::MAX_AWS_EPOCH,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    fn formats() -> [SeqFormat; 2] {
        [SeqFormat::Readable, SeqFormat::AwsV2]
    }

    quickcheck! {
        fn numbers_strictly_increase_and_stay_inside_the_shard_range(steps: Vec<(u16, Option<u8>)>) -> bool {
            formats().into_iter().all(|format| {
                let mut s = ShardSequencer::new(format, 1_700_000_000, 4);
                let start = s.starting_sequence_number();
                let mut issued: Vec<SequenceNumber> = Vec::new();
                let mut now = 1_700_000_000u64;
                for (dt, back) in &steps {
                    now += u64::from(*dt);
                    let min = back.and_then(|b| issued.iter().rev().nth(usize::from(b) % 4).copied());
                    let n = s.next(now, min.as_ref()).unwrap();
                    if issued.last().is_some_and(|l| *l >= n) || n <= start { return false; }
                    if min.is_some_and(|m| n <= m) { return false; }
                    issued.push(n);
                }
                let end = s.ending_sequence_number(now);
                issued.iter().all(|n| *n < end)
            })
        }

        fn a_fabricated_ordering_number_of_this_shard_pushes_the_counter(jump: u32) -> bool {
            formats().into_iter().all(|format| {
                let mut s = ShardSequencer::new(format, 9, 2);
                let probe = ShardSequencer::resume(format, 9, 2, u64::from(jump) + 5);
                let mut p = probe.clone();
                let far = p.next(9, None).unwrap();
                let n = s.next(9, Some(&far)).unwrap();
                n > far
            })
        }
    }

    #[test]
    fn ordering_numbers_from_elsewhere() {
        let mut s = ShardSequencer::new(SeqFormat::Readable, 1, 0);
        let foreign = ShardSequencer::new(SeqFormat::Readable, 5, 3).starting_sequence_number();
        let n = s.next(0, Some(&foreign)).unwrap();
        assert!(s.owns(&n));
        assert_eq!(
            s.next(0, Some(&SequenceNumber::from_u128(7))),
            Err(SequencerError::UndecodableOrderingNumber(SequenceNumber::from_u128(7)))
        );
    }

    #[test]
    fn exhaustion_is_an_error_not_a_wrap() {
        let mut s = ShardSequencer::resume(SeqFormat::Readable, 1, 0, MAX_COUNTER - 1);
        assert!(s.next(0, None).is_ok());
        assert_eq!(s.next(0, None), Err(SequencerError::Exhausted));
    }
}
