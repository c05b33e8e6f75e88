//! Which reads covered a record's position, answered in `O(log chains)` per record.
//!
//! A chain of iterators on shard S **covers** an acknowledged record (S, s) when both hold:
//!
//! 1. it *started at or before* s: it began at `TRIM_HORIZON`, at `AT_SEQUENCE_NUMBER x` with
//!    x ≤ s, at `AFTER_SEQUENCE_NUMBER x` with x < s, at `AT_TIMESTAMP ts` with ts at or before
//!    the wall-clock invoke of the acknowledged attempt (the record cannot have arrived
//!    earlier), at `LATEST` obtained before that attempt was invoked, or it returned a record
//!    ≤ s as its first;
//! 2. it *went past* s: one of its pages returned a number > s, or it reached the shard's end
//!    (no `NextShardIterator`), or one of its pages invoked after the acknowledgement completed
//!    was at the tip (`millis_behind` 0, or an empty page when `millis_behind` is absent).
//!
//! Existence of such a chain is a prefix query: sort chains by where they start; the prefix of
//! those that started at or before s holds a covering chain exactly when the prefix maximum of
//! their reach exceeds s or the prefix maximum of their latest tip read follows the
//! acknowledgement.

use super::collect::{Ack, Chain, Start, T};
use super::seq::{Bound, Seq};

#[derive(Debug)]
struct Axis<K> {
    keys: Vec<K>,
    /// Prefix maxima of reach, with the chain that holds it.
    reach: Vec<(Seq, u32)>,
    /// Prefix maxima of the latest tip read, with the chain that holds it.
    tip: Vec<(T, u32)>,
}

impl<K> Default for Axis<K> {
    fn default() -> Self {
        Axis {
            keys: Vec::new(),
            reach: Vec::new(),
            tip: Vec::new(),
        }
    }
}

impl<K: Ord + Copy> Axis<K> {
    fn build(mut items: Vec<(K, Option<Seq>, Option<T>, u32)>) -> Self {
        items.sort_by_key(|x| x.0);
        let mut a = Axis {
            keys: Vec::with_capacity(items.len()),
            reach: Vec::with_capacity(items.len()),
            tip: Vec::with_capacity(items.len()),
        };
        let mut best_reach: Option<(Seq, u32)> = None;
        let mut best_tip: Option<(T, u32)> = None;
        for (k, reach, tip, id) in items {
            if let Some(r) = reach {
                if best_reach.is_none_or(|b| r > b.0) {
                    best_reach = Some((r, id));
                }
            }
            if let Some(t) = tip {
                if best_tip.is_none_or(|b| t > b.0) {
                    best_tip = Some((t, id));
                }
            }
            a.keys.push(k);
            a.reach.push(best_reach.unwrap_or((Seq::ZERO, u32::MAX)));
            a.tip
                .push(best_tip.map_or((0, u32::MAX), |x| (x.0 + 1, x.1)));
        }
        a
    }

    /// The chain among those with key ≤ `k` that goes past `s` or reads the tip after
    /// `after` (first by reach).
    fn query(&self, k: K, s: Seq, after: T) -> Option<u32> {
        let n = self.keys.partition_point(|x| *x <= k);
        if n == 0 {
            return None;
        }
        let (r, id) = self.reach[n - 1];
        if id != u32::MAX && r > s {
            return Some(id);
        }
        let (t1, id) = self.tip[n - 1];
        // `t1` is the tip read's position plus one (0 = none).
        if id != u32::MAX && t1 > after + 1 {
            return Some(id);
        }
        None
    }
}

/// The covering structure of one set of chains of one shard.
#[derive(Debug, Default)]
pub struct Cover {
    by_seq: Axis<Bound>,
    by_wall: Axis<u64>,
    by_latest: Axis<T>,
}

impl Cover {
    /// Builds the structure over `chains` (their indexes are what [`Cover::covering`] returns).
    pub fn new<'a>(chains: impl Iterator<Item = (u32, &'a Chain)>) -> Self {
        let (mut s, mut w, mut l) = (Vec::new(), Vec::new(), Vec::new());
        for (id, c) in chains {
            match c.start {
                Start::Seq(b) => s.push((b, c.reach, c.tip, id)),
                Start::Timestamp(ts) => w.push((ts, c.reach, c.tip, id)),
                Start::Latest(t) => l.push((t, c.reach, c.tip, id)),
            }
            if !matches!(c.start, Start::Seq(_)) {
                if let Some(f) = c.first {
                    s.push((Bound::at(f), c.reach, c.tip, id));
                }
            }
        }
        Cover {
            by_seq: Axis::build(s),
            by_wall: Axis::build(w),
            by_latest: Axis::build(l),
        }
    }

    /// A chain that covers the acknowledged record `ack` (definition in the module docs).
    pub fn covering(&self, ack: &Ack) -> Option<u32> {
        let after = ack.ok.t;
        self.by_seq
            .query(Bound::at(ack.seq), ack.seq, after)
            .or_else(|| self.by_wall.query(ack.inv.wall, ack.seq, after))
            .or_else(|| {
                // LATEST taken strictly before the attempt's invoke.
                if ack.inv.t == 0 {
                    None
                } else {
                    self.by_latest.query(ack.inv.t - 1, ack.seq, after)
                }
            })
    }
}

/// Maximum over a suffix of positions, with point updates (a Fenwick tree on reversed
/// indexes): the stale tip reads of the lag measurement.
#[derive(Debug)]
pub struct SuffixMax {
    tree: Vec<u128>,
}

impl SuffixMax {
    /// `n` positions, all 0.
    pub fn new(n: usize) -> Self {
        SuffixMax {
            tree: vec![0; n + 1],
        }
    }

    /// Raises position `i` to at least `v`.
    pub fn raise(&mut self, i: usize, v: u128) {
        let n = self.tree.len() - 1;
        let mut j = n - i;
        while j <= n {
            self.tree[j] = self.tree[j].max(v);
            j += j & j.wrapping_neg();
        }
    }

    /// The maximum over positions ≥ `i` (0 when `i` is past the end).
    pub fn max_from(&self, i: usize) -> u128 {
        let n = self.tree.len() - 1;
        if i >= n {
            return 0;
        }
        let mut j = n - i;
        let mut m = 0;
        while j > 0 {
            m = m.max(self.tree[j]);
            j -= j & j.wrapping_neg();
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_max_answers_suffixes() {
        let mut s = SuffixMax::new(10);
        s.raise(3, 7);
        s.raise(8, 2);
        assert_eq!(s.max_from(0), 7);
        assert_eq!(s.max_from(3), 7);
        assert_eq!(s.max_from(4), 2);
        assert_eq!(s.max_from(9), 0);
        assert_eq!(s.max_from(10), 0);
    }
}
