//! Stream-wide sequencing: hands out shard indexes and epochs so that numbers stay unique in
//! the stream and children's numbers exceed their parents'.

use super::layout::SeqFormat;
use super::shard::ShardSequencer;
use crate::types::MAX_SHARD_INDEX;

/// Creates the sequencers of a stream's shards.
///
/// Guarantees: shard indexes start at 0, increase by one per new shard and are never reused;
/// a child's epoch exceeds every parent's epoch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamSequencer {
    format: SeqFormat,
    next_index: u32,
}

impl StreamSequencer {
    /// A stream with no shards yet.
    pub fn new(format: SeqFormat) -> Self {
        StreamSequencer {
            format,
            next_index: 0,
        }
    }

    /// The format of every number in this stream.
    pub fn format(&self) -> SeqFormat {
        self.format
    }

    /// The index the next shard will get.
    pub fn next_index(&self) -> u32 {
        self.next_index
    }

    /// Opens a shard created at `now_secs` with the given parents (none at stream creation).
    /// Returns `None` when the shard index space (`2^31`) is used up.
    pub fn open_shard(&mut self, now_secs: u64, parents: &[&ShardSequencer]) -> Option<ShardSequencer> {
        if self.next_index > MAX_SHARD_INDEX {
            return None;
        }
        let index = self.next_index;
        self.next_index += 1;
        let epoch = self
            .format
            .child_epoch(now_secs, parents.iter().map(|p| p.epoch()));
        Some(ShardSequencer::new(self.format, epoch, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_start_above_their_parents_end() {
        for format in [SeqFormat::Readable, SeqFormat::AwsV2] {
            let mut stream = StreamSequencer::new(format);
            let mut a = stream.open_shard(1000, &[]).unwrap();
            let mut b = stream.open_shard(1000, &[]).unwrap();
            assert_eq!((a.shard_index(), b.shard_index()), (0, 1));
            let last_a = (0..3).map(|_| a.next(1000, None).unwrap()).last().unwrap();
            b.next(1000, None).unwrap();
            let merged = stream.open_shard(1000, &[&a, &b]).unwrap();
            assert_eq!(merged.shard_index(), 2);
            assert!(merged.starting_sequence_number() > a.ending_sequence_number(1000));
            assert!(merged.starting_sequence_number() > b.ending_sequence_number(1000));
            assert!(merged.starting_sequence_number() > last_a);
        }
    }
}
