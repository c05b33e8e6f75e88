//! Deliberate defects the embedded service can be built with, so tests can prove the checkers
//! catch them (see `crate::mutants`). All are off by default; never enable them otherwise.

/// Switches for deliberate defects inside the embedded service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every fourth append to a shard reuses the previous record's number.
    pub reuse_sequence_numbers: bool,
    /// Puts route by the first shard (open or closed) whose range holds the key, and closed
    /// shards keep accepting writes: a stale routing table after a reshard.
    pub writes_on_closed_shards: bool,
    /// Reads ignore retention: trimmed records keep coming back.
    pub ignore_retention: bool,
    /// GetRecords never reports an expired iterator.
    pub accept_expired_iterators: bool,
    /// Iterators expire after this many ms instead of 300 s (`None`: the real lifetime).
    pub iterator_lifetime_ms: Option<u64>,
    /// A split or merge drops the parents' records.
    pub lose_parent_records_on_reshard: bool,
    /// Children get epoch 0, so their numbers sort below their parents'.
    pub children_numbered_below_parents: bool,
}
