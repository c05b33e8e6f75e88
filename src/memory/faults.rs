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
    /// CreateStream splits the hash space at `(2^128 - 1) / N` instead of `floor(2^128 / N)`
    /// (see [`split_from_max_key`]).
    pub initial_split_from_max_key: bool,
    /// A closed shard never reports its end: after its last record GetRecords keeps answering
    /// empty pages with a non-null NextShardIterator and no ChildShards.
    pub closed_shards_never_end: bool,
}

/// The ranges of a new stream of `n` shards (`n >= 1`) split at `h = (2^128 - 1) / n`: shard
/// `i` owns `[h*i, h*(i+1) - 1]` and the last shard ends at `2^128 - 1`. They still partition
/// the space, but wherever `n` divides `2^128` (`n` = 2, 4, 8, ...) every boundary lies one
/// below AWS's `floor(2^128 / n)` (kinesis-semantics §2.4); for other `n` the two agree.
pub(crate) fn split_from_max_key(n: u32) -> Vec<crate::types::HashKeyRange> {
    let n = u128::from(n.max(1));
    let h = u128::MAX / n;
    (0..n)
        .map(|i| crate::types::HashKeyRange {
            start: h * i,
            end: if i + 1 == n {
                u128::MAX
            } else {
                h * (i + 1) - 1
            },
        })
        .collect()
}
