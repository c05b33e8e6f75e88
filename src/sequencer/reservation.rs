//! Block reservation of sequence counters, so a sequencer that restarts never reissues one.
//!
//! A sequencer that wrote its counter to durable storage on every record would be slow; one
//! that never wrote it would restart at counter 1 and mint numbers it had already handed out.
//! The middle road: persist a *limit* ("every counter below this may already be in use") a block
//! at a time, mint freely below it, and after a restart resume at the persisted limit.

use super::layout::SeqFormat;
use super::shard::ShardSequencer;
use crate::types::SequenceNumber;

/// The in-memory half of a block reservation: the limit last made durable.
///
/// Guarantee (given the caller's side of the contract below): a sequencer resumed with
/// [`BlockReservation::recover`] from the last persisted limit never mints a counter that any
/// earlier incarnation minted. The caller's side: whenever [`BlockReservation::before_next`]
/// returns `Some(limit)`, persist `limit` durably *before* calling [`ShardSequencer::next`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockReservation {
    block: u64,
    limit: u64,
}

impl BlockReservation {
    /// A reservation that persists `block` counters at a time (at least one) and holds none yet.
    pub fn new(block: u64) -> Self {
        BlockReservation {
            block: block.max(1),
            limit: 0,
        }
    }

    /// Counters strictly below this value are covered by the durable limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// How many counters one reservation covers.
    pub fn block(&self) -> u64 {
        self.block
    }

    /// Call before `sequencer.next(_, exclusive_minimum)`. Returns the new limit to persist
    /// first when the counter that call will use is not yet covered, `None` when it is.
    /// An ordering number that pushes the counter up is taken into account.
    pub fn before_next(
        &mut self,
        sequencer: &ShardSequencer,
        exclusive_minimum: Option<&SequenceNumber>,
    ) -> Option<u64> {
        let counter = Self::counter_for(sequencer, exclusive_minimum);
        if counter < self.limit {
            return None;
        }
        self.limit = counter.saturating_add(self.block);
        Some(self.limit)
    }

    /// Restarts a shard's sequencer from the last durable limit: its first counter is that
    /// limit, and no block is held in memory until the next [`BlockReservation::before_next`].
    pub fn recover(
        format: SeqFormat,
        epoch: u64,
        shard_index: u32,
        persisted_limit: u64,
        block: u64,
    ) -> (ShardSequencer, BlockReservation) {
        (
            ShardSequencer::resume(format, epoch, shard_index, persisted_limit),
            BlockReservation::new(block),
        )
    }

    /// The counter `sequencer.next(_, exclusive_minimum)` would use (mirrors its rule: an
    /// ordering number of this very shard pushes the counter above its own).
    fn counter_for(sequencer: &ShardSequencer, exclusive_minimum: Option<&SequenceNumber>) -> u64 {
        let floor = exclusive_minimum
            .and_then(|m| sequencer.format().decode(m))
            .filter(|f| f.epoch == sequencer.epoch() && f.shard_index == sequencer.shard_index())
            .map_or(0, |f| f.counter.saturating_add(1));
        sequencer.next_counter().max(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_resumes_above_every_minted_counter() {
        let format = SeqFormat::Readable;
        let mut seq = ShardSequencer::new(format, 1, 0);
        let mut res = BlockReservation::new(3);
        let mut durable = 0;
        let mut minted = Vec::new();
        for _ in 0..5 {
            if let Some(limit) = res.before_next(&seq, None) {
                durable = limit;
            }
            minted.push(seq.next(0, None).unwrap());
        }
        let (mut again, _) = BlockReservation::recover(format, 1, 0, durable, 3);
        let n = again.next(0, None).unwrap();
        assert!(minted.iter().all(|m| *m < n));
    }

    #[test]
    fn an_ordering_number_beyond_the_block_forces_a_new_reservation() {
        let format = SeqFormat::Readable;
        let seq = ShardSequencer::new(format, 1, 0);
        let far = ShardSequencer::resume(format, 1, 0, 50).starting_sequence_number();
        let far = ShardSequencer::resume(format, 1, 0, 50)
            .next(0, Some(&far))
            .unwrap();
        let mut res = BlockReservation::new(4);
        assert_eq!(res.before_next(&seq, None), Some(5));
        assert_eq!(res.before_next(&seq, Some(&far)), Some(55));
    }
}
