//! The resharder: splits, merges and `UpdateShardCount` while traffic runs, on a seeded
//! schedule, each followed by polling `DescribeStreamSummary` until the stream is `ACTIVE`
//! again before the next one.
//!
//! A split cuts an open shard's hash range in the middle; a merge joins two adjacent open
//! shards; `UpdateShardCount` aims at a count within uniform scaling's limits (half to double
//! the open shards). The open shard count stays within `1..=max_open_shards`.

use super::record::{self, Halted, Recorder};
use super::rng::Rng;
use super::{DriverConfig, topology};
use crate::api::{
    MergeShardsRequest, ShardDescription, SplitShardRequest, UpdateShardCountRequest,
};
use crate::history::{EventType, Op};
use crate::service::StreamService;
use std::time::Duration;

/// How long the resharder waits for `ACTIVE` after an operation.
const ACTIVE_LIMIT: Duration = Duration::from_secs(30);

/// One resharding operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reshard {
    Split(SplitShardRequest),
    Merge(MergeShardsRequest),
    Count(UpdateShardCountRequest),
}

/// The operation to apply to a stream whose open shards are `open` (sorted by hash range),
/// or `None` when no operation fits.
pub(crate) fn choose(
    rng: &mut Rng,
    stream: &str,
    open: &[&ShardDescription],
    max_open: u32,
    can_update_count: bool,
) -> Option<Reshard> {
    let n = u32::try_from(open.len()).unwrap_or(u32::MAX);
    let splittable: Vec<&ShardDescription> = open
        .iter()
        .copied()
        .filter(|s| s.hash_key_range.end > s.hash_key_range.start)
        .collect();
    let adjacent: Vec<usize> = (0..open.len().saturating_sub(1))
        .filter(|&j| {
            open[j].hash_key_range.end.checked_add(1) == Some(open[j + 1].hash_key_range.start)
        })
        .collect();
    let mut options = Vec::new();
    if n < max_open && !splittable.is_empty() {
        options.push(0);
    }
    if !adjacent.is_empty() {
        options.push(1);
    }
    let targets: Vec<u32> = (n.div_ceil(2).max(1)..=n.saturating_mul(2).min(max_open))
        .filter(|&t| t != n)
        .collect();
    if can_update_count && !targets.is_empty() {
        options.push(2);
    }
    if options.is_empty() {
        return None;
    }
    Some(match options[rng.index(options.len())] {
        0 => {
            let s = splittable[rng.index(splittable.len())];
            let r = s.hash_key_range;
            let middle = r.start + (r.end - r.start) / 2 + 1;
            Reshard::Split(SplitShardRequest {
                stream_name: stream.to_owned(),
                shard_to_split: s.shard_id.to_string(),
                new_starting_hash_key: middle.to_string(),
            })
        }
        1 => {
            let j = adjacent[rng.index(adjacent.len())];
            Reshard::Merge(MergeShardsRequest {
                stream_name: stream.to_owned(),
                shard_to_merge: open[j].shard_id.to_string(),
                adjacent_shard_to_merge: open[j + 1].shard_id.to_string(),
            })
        }
        _ => Reshard::Count(UpdateShardCountRequest {
            stream_name: stream.to_owned(),
            target_shard_count: i64::from(targets[rng.index(targets.len())]),
        }),
    })
}

/// Runs the resharder until the run stops.
pub(crate) fn run(config: &DriverConfig, service: &dyn StreamService, rec: Recorder<'_>) {
    let _ = reshard_loop(config, service, &rec);
}

fn reshard_loop(
    config: &DriverConfig,
    service: &dyn StreamService,
    rec: &Recorder<'_>,
) -> Result<(), Halted> {
    let mut rng = Rng::fork(config.seed, rec.process());
    let caps = service.capabilities();
    if !caps.resharding {
        return Ok(());
    }
    loop {
        let pause = Duration::from_millis(rng.range(
            config.reshard_interval.as_millis() as u64 / 2,
            config.reshard_interval.as_millis() as u64,
        ));
        if !rec.control().sleep(pause) {
            return Ok(());
        }
        let Ok(shards) = topology::list_all(rec, service, &config.stream)? else {
            continue;
        };
        let open = topology::open_shards(&shards);
        let Some(op) = choose(
            &mut rng,
            &config.stream,
            &open,
            config.max_open_shards,
            caps.update_shard_count,
        ) else {
            continue;
        };
        let accepted = match &op {
            Reshard::Split(req) => {
                let mut e = rec.event(EventType::Invoke, Op::SplitShard);
                record::split_args(&mut e, req);
                rec.call(e, || service.split_shard(req), record::nothing)?
                    .is_ok()
            }
            Reshard::Merge(req) => {
                let mut e = rec.event(EventType::Invoke, Op::MergeShards);
                record::merge_args(&mut e, req);
                rec.call(e, || service.merge_shards(req), record::nothing)?
                    .is_ok()
            }
            Reshard::Count(req) => {
                let mut e = rec.event(EventType::Invoke, Op::UpdateShardCount);
                record::update_shard_count_args(&mut e, req);
                rec.call(e, || service.update_shard_count(req), record::nothing)?
                    .is_ok()
            }
        };
        // Even a refused or unknown operation may have left the stream UPDATING.
        let _ = accepted;
        topology::wait_active(rec, service, &config.stream, ACTIVE_LIMIT)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{HashKeyRange, SequenceNumber, ShardId};

    fn shard(i: u32, range: HashKeyRange) -> ShardDescription {
        ShardDescription {
            shard_id: ShardId::new(i),
            parent_shard_id: None,
            adjacent_parent_shard_id: None,
            hash_key_range: range,
            starting_sequence_number: SequenceNumber::from_u128(0),
            ending_sequence_number: None,
        }
    }

    #[test]
    fn splits_cut_in_the_middle_and_merges_join_neighbours() {
        let ranges = HashKeyRange::initial_split(2);
        let shards: Vec<ShardDescription> = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| shard(i as u32, *r))
            .collect();
        let open: Vec<&ShardDescription> = shards.iter().collect();
        let mut rng = Rng::new(5);
        let (mut splits, mut merges) = (0, 0);
        for _ in 0..50 {
            match choose(&mut rng, "s", &open, 8, false) {
                Some(Reshard::Split(r)) => {
                    splits += 1;
                    let s = shards
                        .iter()
                        .find(|s| s.shard_id.to_string() == r.shard_to_split)
                        .expect("an open shard");
                    let mid: u128 = r.new_starting_hash_key.parse().expect("decimal");
                    assert!(mid > s.hash_key_range.start && mid <= s.hash_key_range.end);
                }
                Some(Reshard::Merge(r)) => {
                    merges += 1;
                    assert_eq!(r.shard_to_merge, shards[0].shard_id.to_string());
                    assert_eq!(r.adjacent_shard_to_merge, shards[1].shard_id.to_string());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(splits > 0 && merges > 0);
        // At the bound no split is chosen, and a lone shard has no neighbour.
        let one = [&shards[0]];
        assert_eq!(choose(&mut rng, "s", &one, 1, false), None);
    }

    #[test]
    fn shard_count_targets_stay_within_uniform_scaling() {
        let ranges = HashKeyRange::initial_split(3);
        let shards: Vec<ShardDescription> = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| shard(i as u32, *r))
            .collect();
        let open: Vec<&ShardDescription> = shards.iter().collect();
        let mut rng = Rng::new(9);
        for _ in 0..100 {
            if let Some(Reshard::Count(r)) = choose(&mut rng, "s", &open, 5, true) {
                assert!((2..=5).contains(&r.target_shard_count) && r.target_shard_count != 3);
            }
        }
    }
}
