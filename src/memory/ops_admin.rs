//! The control plane of the embedded service: streams, listings, resharding and retention.

use super::ops_data::{is_expired, shard_not_found};
use super::shard_log::ShardLog;
use super::token::ListToken;
use super::topology::{Shard, Topology};
use super::{Admin, Faults, MemoryStream, StreamHandle};
use crate::api::*;
use crate::model::{HOUR_MS, RETENTION_HOURS};
use crate::scaling::{ReshardStep, uniform_scaling};
use crate::sequencer::StreamSequencer;
use crate::types::{
    ACCOUNT_ID, HashKey, HashKeyRange, KinesisError, ShardId, StreamName, StreamStatus,
};
use crate::validate;
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Most shards after UpdateShardCount.
const MAX_TARGET_SHARDS: i64 = 10_000;
/// UpdateShardCount calls per rolling day.
const SCALING_CALLS_PER_DAY: usize = 10;

fn new_shard(
    sequencer: &mut StreamSequencer,
    now_ms: u64,
    range: HashKeyRange,
    parents: &[&Arc<Shard>],
    faults: Faults,
) -> Result<Arc<Shard>, KinesisError> {
    let parent_seqs: Vec<_> = parents.iter().map(|p| p.log.sequencer()).collect();
    let refs: Vec<_> = parent_seqs.iter().collect();
    let mut seq = sequencer.open_shard(now_ms / 1000, &refs).ok_or_else(|| {
        KinesisError::limit_exceeded("the stream's shard index space is exhausted")
    })?;
    if faults.children_numbered_below_parents && !parents.is_empty() {
        seq = crate::sequencer::ShardSequencer::new(seq.format(), 0, seq.shard_index());
    }
    Ok(Arc::new(Shard {
        id: ShardId::new(seq.shard_index()),
        range,
        parent: parents.first().map(|p| p.id),
        adjacent_parent: parents.get(1).map(|p| p.id),
        start: seq.starting_sequence_number(),
        closed_ms: OnceLock::new(),
        log: ShardLog::new(seq),
    }))
}

impl MemoryStream {
    fn quota_error(&self, open: usize) -> KinesisError {
        KinesisError::limit_exceeded(format!(
            "This request would exceed the shard limit for the account {ACCOUNT_ID} in us-east-1. Current shard count for the account: {open}. Limit: {}.",
            self.config.shard_quota
        ))
    }

    pub(super) fn create_stream_impl(&self, req: &CreateStreamRequest) -> Result<(), KinesisError> {
        validate::create_stream_shape(&req.stream_name, req.shard_count)?;
        let mut next_incarnation = self.catalog.lock();
        let current = self.streams.load();
        if current.contains_key(&req.stream_name) {
            return Err(KinesisError::in_use(format!(
                "Stream {} under account {ACCOUNT_ID} already exists.",
                req.stream_name
            )));
        }
        let open = self.open_shard_total();
        if open as i64 + req.shard_count > i64::from(self.config.shard_quota) {
            return Err(self.quota_error(open));
        }
        let now = self.clock.now_ms();
        let mut sequencer = StreamSequencer::new(self.config.seq_format);
        let ranges = if self.config.faults.initial_split_from_max_key {
            super::faults::split_from_max_key(req.shard_count as u32)
        } else {
            HashKeyRange::initial_split(req.shard_count as u32)
        };
        let shards = ranges
            .into_iter()
            .map(|range| new_shard(&mut sequencer, now, range, &[], self.config.faults))
            .collect::<Result<Vec<_>, _>>()?;
        let handle = Arc::new(StreamHandle {
            name: req.stream_name.clone(),
            incarnation: *next_incarnation,
            topology: ArcSwap::from_pointee(Topology::new(shards)),
            admin: Mutex::new(Admin {
                sequencer,
                scaling_calls_ms: Vec::new(),
            }),
            retention_hours: AtomicU64::new(24),
            trim_floor_ms: AtomicU64::new(0),
            ignore_retention: self.config.faults.ignore_retention,
        });
        *next_incarnation += 1;
        let mut map = (**current).clone();
        map.insert(req.stream_name.clone(), handle);
        self.streams.store(Arc::new(map));
        Ok(())
    }

    pub(super) fn delete_stream_impl(&self, req: &StreamRequest) -> Result<(), KinesisError> {
        self.stream(&req.stream_name)?;
        let _guard = self.catalog.lock();
        let mut map = (**self.streams.load()).clone();
        if map.remove(&req.stream_name).is_none() {
            return Err(crate::model::StreamState::not_found(&req.stream_name));
        }
        self.streams.store(Arc::new(map));
        Ok(())
    }

    pub(super) fn describe_impl(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        let stream = self.stream(&req.stream_name)?;
        Ok(StreamSummary {
            stream_name: stream.name.clone(),
            status: StreamStatus::ACTIVE,
            retention_period_hours: stream.retention_hours.load(Ordering::Acquire) as u32,
            open_shard_count: stream.topology.load().open.len() as u32,
        })
    }

    pub(super) fn list_shards_impl(
        &self,
        req: &ListShardsRequest,
    ) -> Result<ListShardsResponse, KinesisError> {
        let page = crate::validate::list_shards_page(req.max_results)?;
        let (stream, after) = match (&req.stream_name, &req.next_token) {
            (Some(_), Some(_)) => {
                return Err(KinesisError::invalid_argument(
                    "NextToken and StreamName cannot be provided together.",
                ));
            }
            (None, None) => {
                return Err(KinesisError::invalid_argument(
                    "Either NextToken or StreamName should be provided.",
                ));
            }
            (None, Some(token)) => {
                let t = ListToken::decode(self.secret, token).ok_or_else(|| {
                    KinesisError::invalid_argument(format!("Invalid NextToken {token}."))
                })?;
                let stream = self
                    .streams
                    .load()
                    .get(&t.stream)
                    .filter(|s| s.incarnation == t.incarnation)
                    .cloned()
                    .ok_or_else(|| crate::model::StreamState::not_found(&t.stream))?;
                (stream, Some(t.after_shard))
            }
            (Some(name), None) => {
                let stream = self.stream(name)?;
                let after = match &req.exclusive_start_shard_id {
                    Some(raw) => Some(ShardId::parse(raw, "exclusiveStartShardId", name)?.index()),
                    None => None,
                };
                (stream, after)
            }
        };
        let now = self.clock.now_ms();
        let horizon = stream.trim_horizon_ms(now);
        let topology = stream.topology.load();
        let mut listed = topology
            .shards
            .iter()
            .filter(|s| after.is_none_or(|a| s.id.index() > a))
            .filter(|s| !is_expired(s, horizon));
        let shards: Vec<ShardDescription> = listed
            .by_ref()
            .take(page)
            .map(|s| ShardDescription {
                shard_id: s.id,
                parent_shard_id: s.parent,
                adjacent_parent_shard_id: s.adjacent_parent,
                hash_key_range: s.range,
                starting_sequence_number: s.start,
                ending_sequence_number: s.log.ending_sequence_number(),
            })
            .collect();
        let next_token = match (listed.next(), shards.last()) {
            (Some(_), Some(last)) => Some(
                ListToken {
                    stream: stream.name.clone(),
                    incarnation: stream.incarnation,
                    after_shard: last.shard_id.index(),
                    issued_ms: now,
                }
                .encode(self.secret),
            ),
            _ => None,
        };
        Ok(ListShardsResponse { shards, next_token })
    }

    /// Resolves an open shard of `stream` named by a resharding request.
    fn open_shard(
        stream: &StreamHandle,
        topology: &Topology,
        raw: &str,
        field: &str,
    ) -> Result<Arc<Shard>, KinesisError> {
        let id = ShardId::parse(raw, field, &stream.name)?;
        let shard = topology
            .shard(id)
            .ok_or_else(|| shard_not_found(&stream.name, id))?;
        if !shard.is_open() {
            return Err(KinesisError::invalid_argument(format!(
                "Shard {id} in stream {} under account {ACCOUNT_ID} is not open",
                stream.name
            )));
        }
        Ok(Arc::clone(shard))
    }

    /// Closes `parents` and publishes `children` in one new snapshot. The parents' logs are
    /// closed before the snapshot is swapped, so a put racing the reshard either lands before
    /// the close or is re-routed to a child.
    fn replace(
        &self,
        stream: &StreamHandle,
        topology: &Topology,
        parents: &[&Arc<Shard>],
        children: Vec<Arc<Shard>>,
        now: u64,
    ) {
        for p in parents {
            p.log.close(now);
            if self.config.faults.lose_parent_records_on_reshard {
                p.log.clear();
            }
            let _ = p.closed_ms.set(now);
        }
        let mut shards = topology.shards.clone();
        shards.extend(children);
        stream.topology.store(Arc::new(Topology::new(shards)));
    }

    fn split(
        &self,
        stream: &StreamHandle,
        admin: &mut Admin,
        shard: &Arc<Shard>,
        k: u128,
    ) -> Result<(), KinesisError> {
        let now = self.clock.now_ms();
        let topology = stream.topology.load();
        let lower = new_shard(
            &mut admin.sequencer,
            now,
            HashKeyRange {
                start: shard.range.start,
                end: k - 1,
            },
            &[shard],
            self.config.faults,
        )?;
        let upper = new_shard(
            &mut admin.sequencer,
            now,
            HashKeyRange {
                start: k,
                end: shard.range.end,
            },
            &[shard],
            self.config.faults,
        )?;
        self.replace(stream, &topology, &[shard], vec![lower, upper], now);
        Ok(())
    }

    fn merge(
        &self,
        stream: &StreamHandle,
        admin: &mut Admin,
        a: &Arc<Shard>,
        b: &Arc<Shard>,
    ) -> Result<(), KinesisError> {
        let now = self.clock.now_ms();
        let topology = stream.topology.load();
        let range = HashKeyRange {
            start: a.range.start.min(b.range.start),
            end: a.range.end.max(b.range.end),
        };
        let child = new_shard(
            &mut admin.sequencer,
            now,
            range,
            &[a, b],
            self.config.faults,
        )?;
        self.replace(stream, &topology, &[a, b], vec![child], now);
        Ok(())
    }

    pub(super) fn split_shard_impl(&self, req: &SplitShardRequest) -> Result<(), KinesisError> {
        StreamName::parse(&req.stream_name)?;
        validate::hash_key_shape(&req.new_starting_hash_key, "newStartingHashKey")?;
        let stream = self.stream(&req.stream_name)?;
        let mut admin = stream.admin.lock();
        let topology = stream.topology.load();
        let shard = Self::open_shard(&stream, &topology, &req.shard_to_split, "shardToSplit")?;
        let k = HashKey::parse_explicit(&req.new_starting_hash_key, "newStartingHashKey")?.0;
        let HashKeyRange { start: lo, end: hi } = shard.range;
        if k <= lo.saturating_add(1) || k >= hi {
            return Err(KinesisError::invalid_argument(format!(
                "NewStartingHashKey {k} used in SplitShard() on shard {} in stream {} under account {ACCOUNT_ID} is not both greater than one plus the shard's StartingHashKey {lo} and less than the shard's EndingHashKey {hi}.",
                shard.id, stream.name
            )));
        }
        let _catalog = self.catalog.lock();
        let open = self.open_shard_total();
        if open + 1 > self.config.shard_quota as usize {
            return Err(self.quota_error(open));
        }
        self.split(&stream, &mut admin, &shard, k)
    }

    pub(super) fn merge_shards_impl(&self, req: &MergeShardsRequest) -> Result<(), KinesisError> {
        let stream = self.stream(&req.stream_name)?;
        let mut admin = stream.admin.lock();
        let topology = stream.topology.load();
        let a = Self::open_shard(&stream, &topology, &req.shard_to_merge, "shardToMerge")?;
        let b = Self::open_shard(
            &stream,
            &topology,
            &req.adjacent_shard_to_merge,
            "adjacentShardToMerge",
        )?;
        let adjacent = a.id != b.id
            && (a.range.end.checked_add(1) == Some(b.range.start)
                || b.range.end.checked_add(1) == Some(a.range.start));
        if !adjacent {
            return Err(KinesisError::invalid_argument(format!(
                "Shards {} and {} in stream {} under account {ACCOUNT_ID} are not an adjacent pair of shards eligible for merging",
                a.id, b.id, stream.name
            )));
        }
        self.merge(&stream, &mut admin, &a, &b)
    }

    pub(super) fn update_shard_count_impl(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        StreamName::parse(&req.stream_name)?;
        let t = req.target_shard_count;
        if t < 1 {
            return Err(KinesisError::validation(
                t,
                "targetShardCount",
                "Member must have value greater than or equal to 1",
            ));
        }
        let stream = self.stream(&req.stream_name)?;
        let mut admin = stream.admin.lock();
        let topology = stream.topology.load();
        let open = topology.open.len() as i64;
        if t > 2 * open || 2 * t < open || t > MAX_TARGET_SHARDS {
            return Err(KinesisError::invalid_argument(format!(
                "UpdateShardCount from {open} to {t} shards: the target must lie between half and double the open shard count, and at most {MAX_TARGET_SHARDS}"
            )));
        }
        let now = self.clock.now_ms();
        let day_ago = now.saturating_sub(24 * HOUR_MS);
        admin.scaling_calls_ms.retain(|c| *c > day_ago);
        if admin.scaling_calls_ms.len() >= SCALING_CALLS_PER_DAY {
            return Err(KinesisError::limit_exceeded(format!(
                "Stream {} under account {ACCOUNT_ID} has already been scaled {SCALING_CALLS_PER_DAY} times in the last 24 hours",
                stream.name
            )));
        }
        let _catalog = self.catalog.lock();
        let total = self.open_shard_total();
        if total as i64 + (t - open).max(0) > i64::from(self.config.shard_quota) {
            return Err(self.quota_error(total));
        }
        admin.scaling_calls_ms.push(now);
        let open_ranges: Vec<(ShardId, HashKeyRange)> =
            topology.open.iter().map(|s| (s.id, s.range)).collect();
        for step in uniform_scaling(&open_ranges, t as u32, admin.sequencer.next_index()) {
            let current = stream.topology.load();
            let find = |id: ShardId| {
                current
                    .shard(id)
                    .cloned()
                    .ok_or_else(|| KinesisError::internal("planned shard missing"))
            };
            match step {
                ReshardStep::Split {
                    shard,
                    new_starting_hash_key,
                } => self.split(&stream, &mut admin, &find(shard)?, new_starting_hash_key)?,
                ReshardStep::Merge { shard, adjacent } => {
                    self.merge(&stream, &mut admin, &find(shard)?, &find(adjacent)?)?
                }
            }
        }
        Ok(UpdateShardCountResponse {
            current_shard_count: open as u32,
            target_shard_count: t as u32,
        })
    }

    pub(super) fn change_retention_impl(
        &self,
        req: &RetentionRequest,
        increase: bool,
    ) -> Result<(), KinesisError> {
        let stream = self.stream(&req.stream_name)?;
        let hours = req.retention_period_hours;
        if hours < *RETENTION_HOURS.start() {
            return Err(KinesisError::invalid_argument(format!(
                "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
            )));
        }
        if hours > *RETENTION_HOURS.end() {
            return Err(KinesisError::invalid_argument(format!(
                "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
            )));
        }
        let _admin = stream.admin.lock();
        let current = stream.retention_hours.load(Ordering::Acquire) as i64;
        if increase && hours < current {
            return Err(KinesisError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API.",
                stream.name
            )));
        }
        if !increase && hours > current {
            return Err(KinesisError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API.",
                stream.name
            )));
        }
        // Whatever has expired stays expired: an increase never resurrects records.
        let now = self.clock.now_ms();
        stream
            .trim_floor_ms
            .store(stream.trim_horizon_ms(now), Ordering::Release);
        stream
            .retention_hours
            .store(hours as u64, Ordering::Release);
        Ok(())
    }
}

impl crate::service::StreamService for MemoryStream {
    fn name(&self) -> String {
        "embedded".into()
    }
    fn capabilities(&self) -> crate::service::Capabilities {
        MemoryStream::capabilities(self)
    }
    fn create_stream(&self, req: &CreateStreamRequest) -> Result<(), KinesisError> {
        self.create_stream_impl(req)
    }
    fn delete_stream(&self, req: &StreamRequest) -> Result<(), KinesisError> {
        self.delete_stream_impl(req)
    }
    fn describe_stream_summary(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        self.describe_impl(req)
    }
    fn list_shards(&self, req: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        self.list_shards_impl(req)
    }
    fn put_record(&self, req: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        self.put_record_impl(req)
    }
    fn put_records(&self, req: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        self.put_records_impl(req)
    }
    fn get_shard_iterator(&self, req: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        self.get_shard_iterator_impl(req)
    }
    fn get_records(&self, req: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        self.get_records_impl(req)
    }
    fn split_shard(&self, req: &SplitShardRequest) -> Result<(), KinesisError> {
        self.split_shard_impl(req)
    }
    fn merge_shards(&self, req: &MergeShardsRequest) -> Result<(), KinesisError> {
        self.merge_shards_impl(req)
    }
    fn update_shard_count(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        self.update_shard_count_impl(req)
    }
    fn increase_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        self.change_retention_impl(req, true)
    }
    fn decrease_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        self.change_retention_impl(req, false)
    }
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        match &self.manual_clock {
            Some(c) => {
                c.advance(ms);
                Ok(())
            }
            None => Err(KinesisError::new(
                crate::types::ErrorKind::Other,
                "this service reads the system clock",
            )),
        }
    }
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}
