//! How `UpdateShardCount` is realised: a sequence of splits and merges that ends with the target
//! number of open shards with roughly equal ranges (kinesis-semantics §6.4, §11.21).

use crate::types::{HashKeyRange, ShardId};

/// One resharding step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReshardStep {
    /// Split `shard`; the upper child starts at `new_starting_hash_key`.
    Split {
        /// The shard to split.
        shard: ShardId,
        /// First hash key of the upper child.
        new_starting_hash_key: u128,
    },
    /// Merge `shard` (lower range) with `adjacent` (the range right above it).
    Merge {
        /// The lower shard; becomes the child's parent.
        shard: ShardId,
        /// The upper shard; becomes the child's adjacent parent.
        adjacent: ShardId,
    },
}

/// Plans uniform scaling from the `open` shards (any order) to `target` open shards. New shards
/// take indexes from `next_index` on, as the service assigns them. Splits halve the widest
/// shard; merges join the adjacent pair with the smallest union. Returns no steps when the
/// target is out of the reachable range (callers validate targets first).
pub fn uniform_scaling(
    open: &[(ShardId, HashKeyRange)],
    target: u32,
    next_index: u32,
) -> Vec<ReshardStep> {
    let mut open: Vec<(ShardId, HashKeyRange)> = open.to_vec();
    open.sort_by_key(|(_, r)| r.start);
    let mut next = next_index;
    let mut steps = Vec::new();
    let target = target as usize;
    while open.len() < target {
        let Some((i, _)) = open
            .iter()
            .enumerate()
            .filter(|(_, (_, r))| r.end - r.start >= 3)
            .max_by_key(|(_, (_, r))| r.end - r.start)
        else {
            break;
        };
        let (id, r) = open[i];
        let k = r.start + (r.end - r.start) / 2 + 1;
        steps.push(ReshardStep::Split {
            shard: id,
            new_starting_hash_key: k,
        });
        let lower = (
            ShardId::new(next),
            HashKeyRange {
                start: r.start,
                end: k - 1,
            },
        );
        let upper = (
            ShardId::new(next + 1),
            HashKeyRange {
                start: k,
                end: r.end,
            },
        );
        next += 2;
        open.splice(i..=i, [lower, upper]);
    }
    while open.len() > target && open.len() > 1 {
        let Some(i) = (0..open.len() - 1).min_by_key(|&i| open[i + 1].1.end - open[i].1.start)
        else {
            break;
        };
        let (a, ra) = open[i];
        let (b, rb) = open[i + 1];
        steps.push(ReshardStep::Merge {
            shard: a,
            adjacent: b,
        });
        let child = (
            ShardId::new(next),
            HashKeyRange {
                start: ra.start,
                end: rb.end,
            },
        );
        next += 1;
        open.splice(i..=i + 1, [child]);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulate(n: u32, target: u32) -> Vec<HashKeyRange> {
        let open: Vec<_> = HashKeyRange::initial_split(n)
            .into_iter()
            .enumerate()
            .map(|(i, r)| (ShardId::new(i as u32), r))
            .collect();
        let steps = uniform_scaling(&open, target, n);
        let mut shards = open;
        let mut next = n;
        for s in steps {
            match s {
                ReshardStep::Split {
                    shard,
                    new_starting_hash_key: k,
                } => {
                    let i = shards.iter().position(|(id, _)| *id == shard).unwrap();
                    let r = shards.remove(i).1;
                    shards.push((
                        ShardId::new(next),
                        HashKeyRange {
                            start: r.start,
                            end: k - 1,
                        },
                    ));
                    shards.push((
                        ShardId::new(next + 1),
                        HashKeyRange {
                            start: k,
                            end: r.end,
                        },
                    ));
                    next += 2;
                }
                ReshardStep::Merge { shard, adjacent } => {
                    let a = shards.iter().position(|(id, _)| *id == shard).unwrap();
                    let ra = shards.remove(a).1;
                    let b = shards.iter().position(|(id, _)| *id == adjacent).unwrap();
                    let rb = shards.remove(b).1;
                    assert_eq!(ra.end + 1, rb.start);
                    shards.push((
                        ShardId::new(next),
                        HashKeyRange {
                            start: ra.start,
                            end: rb.end,
                        },
                    ));
                    next += 1;
                }
            }
        }
        let mut ranges: Vec<_> = shards.into_iter().map(|(_, r)| r).collect();
        ranges.sort();
        ranges
    }

    #[test]
    fn reaches_every_target_between_half_and_double() {
        for n in 1..=8u32 {
            for t in n.div_ceil(2)..=2 * n {
                let ranges = simulate(n, t);
                assert_eq!(ranges.len() as u32, t, "{n} -> {t}");
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges.last().unwrap().end, u128::MAX);
                assert!(ranges.windows(2).all(|w| w[0].end + 1 == w[1].start));
            }
        }
    }
}
