//! The consumers' lease table: one lease per shard, shared by every consumer of the run.
//!
//! Like the KCL's DynamoDB table, it says who processes which shard, which shards are
//! finished (their `SHARD_END` checkpoint is durable) and which shard descends from which.
//! It lives in the runner's memory: it survives a consumer's death (the nemesis kills and
//! restarts consumers inside the runner) but not the runner itself, and it is not a
//! distributed lease (no expiry clock, no conditional writes): a killed consumer's leases
//! are freed at once, as if its lease duration had passed.
//!
//! Guarantees: a shard has at most one owner at a time; a finished shard is never leased
//! again; unless told otherwise, a shard is leasable only when every parent is finished
//! (parents before children, as the KCL's `BlockOnParentShardTask`).

use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
struct Lease {
    parents: Vec<String>,
    owner: Option<String>,
    finished: bool,
}

#[derive(Debug, Default)]
struct Table {
    leases: BTreeMap<String, Lease>,
    live: BTreeSet<String>,
}

/// The lease table of one run.
#[derive(Debug, Default)]
pub struct LeaseTable {
    inner: Mutex<Table>,
}

impl LeaseTable {
    /// An empty table.
    pub fn new() -> Self {
        LeaseTable::default()
    }

    /// Adds `shard` (with its `parents`) if it is new; `finished` says whether its checkpoint
    /// is already `SHARD_END`. Known shards keep their state (their parents are completed if
    /// they were not known yet).
    pub fn register(&self, shard: &str, parents: &[String], finished: bool) {
        let mut t = self.inner.lock();
        let lease = t.leases.entry(shard.to_owned()).or_default();
        if lease.parents.is_empty() {
            lease.parents = parents.to_vec();
        }
        lease.finished |= finished;
    }

    /// Marks `shard` finished (after its `SHARD_END` checkpoint is durable) and frees it.
    pub fn finish(&self, shard: &str) {
        let mut t = self.inner.lock();
        let lease = t.leases.entry(shard.to_owned()).or_default();
        lease.finished = true;
        lease.owner = None;
    }

    /// Unowned, unfinished shards `owner` may take: those whose parents are all finished, or
    /// all of them when `respect_parents` is false. A parent the table does not know counts
    /// as unfinished.
    pub fn candidates(&self, respect_parents: bool) -> Vec<String> {
        let t = self.inner.lock();
        t.leases
            .iter()
            .filter(|(_, l)| l.owner.is_none() && !l.finished)
            .filter(|(_, l)| {
                !respect_parents
                    || l.parents
                        .iter()
                        .all(|p| t.leases.get(p).is_some_and(|pl| pl.finished))
            })
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Takes `shard` for `owner`: false when someone holds it, it is finished or unknown.
    pub fn try_take(&self, shard: &str, owner: &str) -> bool {
        let mut t = self.inner.lock();
        match t.leases.get_mut(shard) {
            Some(l) if l.owner.is_none() && !l.finished => {
                l.owner = Some(owner.to_owned());
                true
            }
            _ => false,
        }
    }

    /// Hands `shard` back if `owner` holds it.
    pub fn release(&self, shard: &str, owner: &str) {
        let mut t = self.inner.lock();
        if let Some(l) = t.leases.get_mut(shard) {
            if l.owner.as_deref() == Some(owner) {
                l.owner = None;
            }
        }
    }

    /// Frees every lease of `owner` (it died) and returns them.
    pub fn expire(&self, owner: &str) -> Vec<String> {
        let mut t = self.inner.lock();
        let mut freed = Vec::new();
        for (shard, l) in &mut t.leases {
            if l.owner.as_deref() == Some(owner) {
                l.owner = None;
                freed.push(shard.clone());
            }
        }
        freed
    }

    /// Whether the table has `shard`.
    pub fn knows(&self, shard: &str) -> bool {
        self.inner.lock().leases.contains_key(shard)
    }

    /// Whether `shard` is finished.
    pub fn is_finished(&self, shard: &str) -> bool {
        self.inner
            .lock()
            .leases
            .get(shard)
            .is_some_and(|l| l.finished)
    }

    /// Marks `owner` as a running consumer (true) or a dead or stopped one (false).
    pub fn set_live(&self, owner: &str, live: bool) {
        let mut t = self.inner.lock();
        if live {
            t.live.insert(owner.to_owned());
        } else {
            t.live.remove(owner);
        }
    }

    /// How many leases one running consumer should hold: the unfinished shards spread over the
    /// running consumers, rounded up (at least 1).
    pub fn fair_share(&self) -> usize {
        let t = self.inner.lock();
        let unfinished = t.leases.values().filter(|l| !l.finished).count();
        unfinished.div_ceil(t.live.len().max(1)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_wait_for_every_parent_to_finish() {
        let t = LeaseTable::new();
        t.register("a", &[], false);
        t.register("b", &[], false);
        t.register("c", &["a".into(), "b".into()], false);
        assert_eq!(t.candidates(true), vec!["a", "b"]);
        assert_eq!(t.candidates(false), vec!["a", "b", "c"]);
        t.finish("a");
        assert_eq!(t.candidates(true), vec!["b"]);
        t.finish("b");
        assert_eq!(t.candidates(true), vec!["c"]);
    }

    #[test]
    fn a_lease_has_one_owner_until_released_or_expired() {
        let t = LeaseTable::new();
        t.register("a", &[], false);
        t.register("b", &[], false);
        assert!(t.try_take("a", "c0"));
        assert!(!t.try_take("a", "c1"));
        t.release("a", "c1");
        assert!(!t.try_take("a", "c1"));
        assert!(t.try_take("b", "c0"));
        assert_eq!(t.expire("c0"), vec!["a", "b"]);
        assert!(t.try_take("a", "c1"));
        t.finish("a");
        assert!(!t.try_take("a", "c0"));
        assert!(t.is_finished("a"));
    }

    #[test]
    fn the_fair_share_spreads_unfinished_shards_over_live_consumers() {
        let t = LeaseTable::new();
        for s in ["a", "b", "c"] {
            t.register(s, &[], false);
        }
        t.set_live("c0", true);
        t.set_live("c1", true);
        assert_eq!(t.fair_share(), 2);
        t.set_live("c1", false);
        assert_eq!(t.fair_share(), 3);
    }
}
