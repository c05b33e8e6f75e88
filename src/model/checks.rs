//! How many times each property was judged on an implementation's answers.
//!
//! A verification tool must never report "pass" for a property it did not judge, so the model
//! counts every check it really evaluates against something an implementation answered
//! ([`super::Model::observe`]). The rules the model follows:
//!
//! - One count is one evaluation of one check, passed or failed. A check inside a loop over
//!   the records of a page or the shards of a listing counts once per record or shard.
//! - A check that could not apply is not counted: ShardOrder against a start number the model
//!   has not learned yet, CrossReshardOrder for a shard without parents, OrderingNumber when the
//!   ordering number belongs to another shard, Retention on a page whose range holds no expired
//!   record, Continuity for an iterator string seen for the first time.
//! - Expiry is counted when an iterator is used past its lifetime (the answer must be
//!   ExpiredIteratorException), when an unexpired one is answered ExpiredIteratorException (a
//!   failed check), and when a successful read uses an iterator held at least
//!   [`super::LATE_ITERATOR_USE_MS`]: a read through a young iterator is no evidence about
//!   expiry, so it is not counted. Nothing is counted within the clock tolerance of the
//!   boundary, where both answers are admissible.
//! - A check switched off by configuration is not counted: MillisBehind without
//!   [`super::ModelConfig::strict_millis_behind`], the AWS-layout part of Format without
//!   [`super::ModelConfig::require_aws_layout`].
//! - An error outcome the model tolerates without judging it (an unknown outcome; throttling or
//!   an internal failure under [`super::ModelConfig::allow_transient_errors`]) counts nothing.
//! - When the model answers itself ([`super::Model::answer`]) nothing is counted.
//!
//! - ShardEnd counts once per page (a null iterator only at a closed shard's end, children
//!   only with it) and once more for an empty page at or past the last record of a closed
//!   shard, judged against [`super::SHARD_END_WITHIN_EMPTY_PAGES`]. HashPartition counts once
//!   per shard a new stream was created with while its first complete listing is judged
//!   against the split of kinesis-semantics §2.4, and once for that listing's partition of the
//!   space.
//! - BatchOrder is judged by the ShardOrder comparison of a PutRecords entry with an earlier
//!   entry of the same request in the same shard (a failure there is reported as ShardOrder,
//!   which implies it).
//!
//! When checking stops at the first violation, the checks after it were not evaluated and are
//! not counted.

use super::Property;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Per-[`Property`] counts of judgements (all 22 of [`Property::ALL`]), in that order.
///
/// Serialises as a map from property name (as [`Property`] serialises, e.g. `"NoLoss"`) to
/// count, with every property present, zeros included, in the order of [`Property::ALL`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    counts: [u64; Property::ALL.len()],
}

impl CheckCounts {
    /// No property judged yet (the same as [`Default`]).
    pub fn new() -> Self {
        CheckCounts::default()
    }

    /// How many times `property` was judged.
    pub fn get(&self, property: Property) -> u64 {
        self.counts[index(property)]
    }

    /// Counts one judgement of `property` (saturating at `u64::MAX`).
    pub fn record(&mut self, property: Property) {
        let c = &mut self.counts[index(property)];
        *c = c.saturating_add(1);
    }

    /// Adds every count of `other` to this one (saturating): the judgements of both.
    pub fn add(&mut self, other: &CheckCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
    }

    /// Takes every count of `other` from this one, stopping at zero: the judgements made
    /// since `other` was a snapshot of these counts.
    pub fn subtract(&mut self, other: &CheckCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_sub(theirs);
        }
    }

    /// Every property with its count, in the order of [`Property::ALL`] (zeros included).
    pub fn iter(&self) -> impl Iterator<Item = (Property, u64)> + '_ {
        Property::ALL.iter().map(|p| (*p, self.get(*p)))
    }

    /// All judgements of all properties (saturating).
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, c| a.saturating_add(*c))
    }
}

/// `Property::ALL[index(p)] == p` (asserted in the unit tests).
fn index(property: Property) -> usize {
    property as usize
}

impl Serialize for CheckCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.counts.len()))?;
        for (p, n) in self.iter() {
            map.serialize_entry(&p, &n)?;
        }
        map.end()
    }
}
