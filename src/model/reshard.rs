//! SplitShard, MergeShards and UpdateShardCount.

use super::lifecycle::{DAY_MS, not_active};
use super::state::{ShardState, StreamState, Window};
use super::{ExpectedError, Model, Observed, Property, Verdict, Violation};
use crate::api::{
    MergeShardsRequest, SplitShardRequest, UpdateShardCountRequest, UpdateShardCountResponse,
};
use crate::scaling::{ReshardStep, uniform_scaling};
use crate::types::{
    ACCOUNT_ID, ErrorKind, HashKey, HashKeyRange, KinesisError, ShardId, StreamStatus,
};

/// Most shards a stream may have after UpdateShardCount.
const MAX_TARGET_SHARDS: i64 = 10_000;
/// UpdateShardCount calls allowed per rolling 24 hours.
const SCALING_CALLS_PER_DAY: usize = 10;

impl Model {
    /// Finds an open shard of an ACTIVE stream for a resharding request.
    fn reshard_target(
        &self,
        stream: &StreamState,
        raw: &str,
        field: &str,
    ) -> Result<usize, ExpectedError> {
        let id = ShardId::parse(raw, field, &stream.name)?;
        let shard = stream.shard(id).ok_or_else(|| stream.shard_not_found(id))?;
        if !shard.is_open() {
            // Resharding a closed shard is undocumented (kinesis-semantics §6.2, §6.3).
            return Err(ExpectedError::any_of(
                KinesisError::invalid_argument(format!(
                    "Shard {id} in stream {} under account {ACCOUNT_ID} is not open",
                    stream.name
                )),
                &[
                    ErrorKind::ResourceInUseException,
                    ErrorKind::ResourceNotFoundException,
                ],
            ));
        }
        Ok(id.index() as usize)
    }

    fn reshard_stream(&self, name: &str) -> Result<&StreamState, ExpectedError> {
        let stream = self.lookup(name)?;
        if stream.status != StreamStatus::ACTIVE {
            return Err(not_active(stream).into());
        }
        Ok(stream)
    }

    fn check_quota(&self, extra: usize) -> Result<(), ExpectedError> {
        let open: usize = self.streams.values().map(|s| s.open_shards().len()).sum();
        if open + extra > self.config.shard_quota as usize {
            return Err(KinesisError::limit_exceeded(format!(
                "This request would exceed the shard limit for the account {ACCOUNT_ID} in us-east-1. Current shard count for the account: {open}. Limit: {}.",
                self.config.shard_quota
            ))
            .into());
        }
        Ok(())
    }

    pub(super) fn split_shard(
        &mut self,
        req: &SplitShardRequest,
        obs: Observed<()>,
        w: Window,
    ) -> Verdict<()> {
        let plan = (|| {
            let stream = self.reshard_stream(&req.stream_name)?;
            if !crate::types::is_canonical_decimal(&req.new_starting_hash_key, 39) {
                return Err(KinesisError::validation(
                    &req.new_starting_hash_key,
                    "newStartingHashKey",
                    "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                )
                .into());
            }
            let idx = self.reshard_target(stream, &req.shard_to_split, "shardToSplit")?;
            let k = HashKey::parse_explicit(&req.new_starting_hash_key, "newStartingHashKey")?.0;
            let shard = &stream.shards[idx];
            let HashKeyRange { start: lo, end: hi } = shard.range;
            if k <= lo.saturating_add(1) || k >= hi {
                return Err(KinesisError::invalid_argument(format!(
                    "NewStartingHashKey {k} used in SplitShard() on shard {} in stream {} under account {ACCOUNT_ID} is not both greater than one plus the shard's StartingHashKey {lo} and less than the shard's EndingHashKey {hi}.",
                    shard.id, stream.name
                ))
                .into());
            }
            self.check_quota(1)?;
            Ok((idx, k))
        })();
        let (idx, k) = match plan {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "SplitShard"),
        };
        if let Some(Err(e)) = obs {
            self.admit_error(e, &[], "SplitShard")?;
            return Ok(Err(e.clone()));
        }
        let own = obs.is_none();
        if let Some(stream) = self.stream_mut(&req.stream_name) {
            apply_split(stream, idx, k, w, own);
        }
        Ok(Ok(()))
    }

    pub(super) fn merge_shards(
        &mut self,
        req: &MergeShardsRequest,
        obs: Observed<()>,
        w: Window,
    ) -> Verdict<()> {
        let plan = (|| {
            let stream = self.reshard_stream(&req.stream_name)?;
            let a = self.reshard_target(stream, &req.shard_to_merge, "shardToMerge")?;
            let b =
                self.reshard_target(stream, &req.adjacent_shard_to_merge, "adjacentShardToMerge")?;
            let (ra, rb) = (stream.shards[a].range, stream.shards[b].range);
            let not_adjacent = || {
                KinesisError::invalid_argument(format!(
                    "Shards {} and {} in stream {} under account {ACCOUNT_ID} are not an adjacent pair of shards eligible for merging",
                    stream.shards[a].id, stream.shards[b].id, stream.name
                ))
            };
            let ambiguous = if a != b && ra.end.checked_add(1) == Some(rb.start) {
                false
            } else if a != b && rb.end.checked_add(1) == Some(ra.start) {
                // Whether ShardToMerge must hold the lower range is undocumented (§11.7).
                true
            } else {
                return Err(not_adjacent().into());
            };
            Ok((a, b, ambiguous))
        })();
        let (a, b, reversed) = match plan {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "MergeShards"),
        };
        if let Some(Err(e)) = obs {
            let also: &[ErrorKind] = if reversed {
                &[ErrorKind::InvalidArgumentException]
            } else {
                &[]
            };
            self.admit_error(e, also, "MergeShards")?;
            return Ok(Err(e.clone()));
        }
        let own = obs.is_none();
        if let Some(stream) = self.stream_mut(&req.stream_name) {
            apply_merge(stream, a, b, w, own);
        }
        Ok(Ok(()))
    }

    pub(super) fn update_shard_count(
        &mut self,
        req: &UpdateShardCountRequest,
        obs: Observed<UpdateShardCountResponse>,
        w: Window,
    ) -> Verdict<UpdateShardCountResponse> {
        let plan = (|| {
            let stream = self.lookup(&req.stream_name)?;
            let t = req.target_shard_count;
            if t < 1 {
                return Err(KinesisError::validation(
                    t,
                    "targetShardCount",
                    "Member must have value greater than or equal to 1",
                )
                .into());
            }
            if stream.status != StreamStatus::ACTIVE {
                return Err(not_active(stream).into());
            }
            let open = stream.open_shards().len() as i64;
            let limits = [
                ErrorKind::InvalidArgumentException,
                ErrorKind::LimitExceededException,
            ];
            if t > 2 * open || 2 * t < open || t > MAX_TARGET_SHARDS {
                // Which of the two exception types each bound uses is not pinned down (P19).
                return Err(ExpectedError::any_of(
                    KinesisError::invalid_argument(format!(
                        "UpdateShardCount from {open} to {t} shards: the target must lie between half and double the open shard count, and at most {MAX_TARGET_SHARDS}"
                    )),
                    &limits,
                ));
            }
            let day_ago = w.mid().saturating_sub(DAY_MS);
            if stream
                .scaling_calls_ms
                .iter()
                .filter(|t| **t > day_ago)
                .count()
                >= SCALING_CALLS_PER_DAY
            {
                return Err(KinesisError::limit_exceeded(format!(
                    "Stream {} under account {ACCOUNT_ID} has already been scaled {SCALING_CALLS_PER_DAY} times in the last 24 hours",
                    stream.name
                ))
                .into());
            }
            self.check_quota((t - open).max(0) as usize)?;
            Ok((open as u32, t as u32))
        })();
        let (current, target) = match plan {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "UpdateShardCount"),
        };
        let response = UpdateShardCountResponse {
            current_shard_count: current,
            target_shard_count: target,
        };
        match obs {
            Some(Err(e)) => {
                let also: &[ErrorKind] = if current == target {
                    &[ErrorKind::InvalidArgumentException]
                } else {
                    &[]
                };
                self.admit_error(e, also, "UpdateShardCount")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(r)) => {
                self.judged(Property::ShardCount);
                if *r != response {
                    return Err(Violation::new(
                        Property::ShardCount,
                        format!("UpdateShardCount answered {r:?}, expected {response:?}"),
                    ));
                }
            }
            None => {}
        }
        let own = obs.is_none();
        let Some(stream) = self.stream_mut(&req.stream_name) else {
            return Ok(Ok(response));
        };
        stream.scaling_calls_ms.push(w.mid());
        if !own {
            stream.reshape_target = Some(target);
            stream.status = StreamStatus::UPDATING;
            stream.transition_pending = true;
            return Ok(Ok(response));
        }
        let open: Vec<(ShardId, HashKeyRange)> = stream
            .open_shards()
            .iter()
            .map(|s| (s.id, s.range))
            .collect();
        for step in uniform_scaling(&open, target, stream.sequencer.next_index()) {
            match step {
                ReshardStep::Split {
                    shard,
                    new_starting_hash_key,
                } => {
                    apply_split(
                        stream,
                        shard.index() as usize,
                        new_starting_hash_key,
                        w,
                        true,
                    );
                }
                ReshardStep::Merge { shard, adjacent } => {
                    apply_merge(
                        stream,
                        shard.index() as usize,
                        adjacent.index() as usize,
                        w,
                        true,
                    );
                }
            }
        }
        Ok(Ok(response))
    }
}

fn close(stream: &mut StreamState, idx: usize, w: Window, own: bool) {
    let shard = &mut stream.shards[idx];
    shard.closed_ms = Some(w.mid());
    if own {
        shard.end = Some(shard.sequencer.ending_sequence_number(w.mid() / 1000));
    }
}

fn open_child(
    stream: &mut StreamState,
    parents: &[usize],
    range: HashKeyRange,
    w: Window,
    own: bool,
) {
    let parent_seqs: Vec<_> = parents
        .iter()
        .map(|&p| stream.shards[p].sequencer.clone())
        .collect();
    let refs: Vec<_> = parent_seqs.iter().collect();
    let Some(seq) = stream.sequencer.open_shard(w.mid() / 1000, &refs) else {
        return;
    };
    stream.shards.push(ShardState {
        id: ShardId::new(seq.shard_index()),
        range,
        parent: parents.first().map(|&p| stream.shards[p].id),
        adjacent_parent: parents.get(1).map(|&p| stream.shards[p].id),
        start: own.then(|| seq.starting_sequence_number()),
        sequencer: seq,
        end: None,
        closed_ms: None,
        log: Vec::new(),
    });
}

fn mark_updating(stream: &mut StreamState, own: bool) {
    if !own {
        stream.status = StreamStatus::UPDATING;
        stream.transition_pending = true;
    }
}

/// Closes shard `idx` and opens its two children `[lo, k-1]` (lower id) and `[k, hi]`.
pub(super) fn apply_split(stream: &mut StreamState, idx: usize, k: u128, w: Window, own: bool) {
    let range = stream.shards[idx].range;
    close(stream, idx, w, own);
    open_child(
        stream,
        &[idx],
        HashKeyRange {
            start: range.start,
            end: k - 1,
        },
        w,
        own,
    );
    open_child(
        stream,
        &[idx],
        HashKeyRange {
            start: k,
            end: range.end,
        },
        w,
        own,
    );
    mark_updating(stream, own);
}

/// Closes shards `a` and `b` and opens their child covering both ranges.
fn apply_merge(stream: &mut StreamState, a: usize, b: usize, w: Window, own: bool) {
    let (ra, rb) = (stream.shards[a].range, stream.shards[b].range);
    close(stream, a, w, own);
    close(stream, b, w, own);
    let range = HashKeyRange {
        start: ra.start.min(rb.start),
        end: ra.end.max(rb.end),
    };
    open_child(stream, &[a, b], range, w, own);
    mark_updating(stream, own);
}
