//! Stream lifecycle: create, delete, describe, list shards, retention.

use super::state::{HOUR_MS, ShardState, StreamState, Window};
use super::{
    CheckCounts, ExpectedError, ListingState, Model, Observed, Property, RETENTION_HOURS, Verdict,
    Violation,
};
use crate::api::{
    CreateStreamRequest, ListShardsRequest, ListShardsResponse, RetentionRequest, ShardDescription,
    StreamRequest, StreamSummary,
};
use crate::sequencer::StreamSequencer;
use crate::types::{
    ACCOUNT_ID, ErrorKind, HashKeyRange, KinesisError, ShardId, StreamName, StreamStatus,
};
use std::collections::HashSet;

impl Model {
    /// Validates a stream name and finds the stream.
    pub(super) fn lookup(&self, raw: &str) -> Result<&StreamState, ExpectedError> {
        StreamName::parse(raw)?;
        self.streams
            .get(raw)
            .ok_or_else(|| StreamState::not_found(raw).into())
    }

    pub(super) fn create_stream(
        &mut self,
        req: &CreateStreamRequest,
        obs: Observed<()>,
        w: Window,
    ) -> Verdict<()> {
        if let Err(e) = self.plan_create(req) {
            return self.expect_error(e, obs, "CreateStream");
        }
        if let Some(Err(e)) = obs {
            self.admit_error(e, &[], "CreateStream")?;
            return Ok(Err(e.clone()));
        }
        let count = req.shard_count as u32;
        let mut sequencer = StreamSequencer::new(self.config.seq_format);
        let now_secs = w.mid() / 1000;
        let mut shards = Vec::with_capacity(count as usize);
        for range in HashKeyRange::initial_split(count) {
            let Some(seq) = sequencer.open_shard(now_secs, &[]) else {
                return Ok(Err(KinesisError::limit_exceeded(
                    "shard index space exhausted",
                )));
            };
            shards.push(ShardState {
                id: ShardId::new(seq.shard_index()),
                range,
                parent: None,
                adjacent_parent: None,
                start: obs.is_none().then(|| seq.starting_sequence_number()),
                sequencer: seq,
                end: None,
                closed_ms: None,
                log: Vec::new(),
            });
        }
        let incarnation = self.next_incarnation;
        self.next_incarnation += 1;
        let (status, pending) = match obs {
            None => (StreamStatus::ACTIVE, false),
            Some(_) => (StreamStatus::CREATING, true),
        };
        self.streams.insert(
            req.stream_name.clone(),
            StreamState {
                name: req.stream_name.clone(),
                incarnation,
                status,
                transition_pending: pending,
                retention_hours: 24,
                trim_floor_ms: 0,
                shards,
                sequencer,
                reshape_target: None,
                initial_ranges_unconfirmed: obs.is_some(),
                scaling_calls_ms: Vec::new(),
                issued: HashSet::new(),
            },
        );
        Ok(Ok(()))
    }

    fn plan_create(&self, req: &CreateStreamRequest) -> Result<(), ExpectedError> {
        crate::validate::create_stream_shape(&req.stream_name, req.shard_count)?;
        if self.streams.contains_key(&req.stream_name) {
            return Err(KinesisError::in_use(format!(
                "Stream {} under account {ACCOUNT_ID} already exists.",
                req.stream_name
            ))
            .into());
        }
        let open: usize = self.streams.values().map(|s| s.open_shards().len()).sum();
        if open as i64 + req.shard_count > i64::from(self.config.shard_quota) {
            return Err(KinesisError::limit_exceeded(format!(
                "This request would exceed the shard limit for the account {ACCOUNT_ID} in us-east-1. Current shard count for the account: {open}. Limit: {}. Number of additional shards that would have resulted from this request: {}.",
                self.config.shard_quota, req.shard_count
            ))
            .into());
        }
        Ok(())
    }

    pub(super) fn delete_stream(
        &mut self,
        req: &StreamRequest,
        obs: Observed<()>,
        _w: Window,
    ) -> Verdict<()> {
        if let Err(e) = self.lookup(&req.stream_name) {
            return self.expect_error(e, obs, "DeleteStream");
        }
        match obs {
            Some(Err(e)) => {
                self.admit_error(e, &[], "DeleteStream")?;
                Ok(Err(e.clone()))
            }
            None => {
                self.forget_stream(&req.stream_name);
                Ok(Ok(()))
            }
            Some(Ok(())) => {
                if let Some(s) = self.stream_mut(&req.stream_name) {
                    s.status = StreamStatus::DELETING;
                    s.transition_pending = true;
                }
                Ok(Ok(()))
            }
        }
    }

    fn forget_stream(&mut self, name: &str) {
        self.streams.remove(name);
        self.iterators.retain(|_, it| it.stream != name);
        self.listings.retain(|_, l| l.stream != name);
    }

    /// A DELETING stream may vanish at any moment: an observed "not found" completes it.
    pub(super) fn settle_deletion(&mut self, name: &str, obs_kind: Option<ErrorKind>) -> bool {
        let deleting = self
            .streams
            .get(name)
            .is_some_and(|s| s.status == StreamStatus::DELETING);
        if deleting && obs_kind == Some(ErrorKind::ResourceNotFoundException) {
            self.forget_stream(name);
            return true;
        }
        false
    }

    pub(super) fn describe_stream_summary(
        &mut self,
        req: &StreamRequest,
        obs: Observed<StreamSummary>,
        _w: Window,
    ) -> Verdict<StreamSummary> {
        if self.settle_deletion(
            &req.stream_name,
            obs.and_then(|o| o.as_ref().err()).map(|e| e.kind),
        ) {
            return Ok(Err(StreamState::not_found(&req.stream_name)));
        }
        let stream = match self.lookup(&req.stream_name) {
            Ok(s) => s.clone(),
            Err(e) => return self.expect_error(e, obs, "DescribeStreamSummary"),
        };
        let open_now = stream.open_shards().len() as u32;
        let summary = |status| StreamSummary {
            stream_name: stream.name.clone(),
            status,
            retention_period_hours: stream.retention_hours,
            open_shard_count: stream.reshape_target.unwrap_or(open_now),
        };
        let observed = match obs {
            None => {
                if stream.status == StreamStatus::DELETING {
                    self.forget_stream(&req.stream_name);
                    return Ok(Err(StreamState::not_found(&req.stream_name)));
                }
                return Ok(Ok(summary(StreamStatus::ACTIVE)));
            }
            Some(Err(e)) => {
                self.admit_error(e, &[], "DescribeStreamSummary")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(s)) => s.clone(),
        };
        let admissible: &[StreamStatus] = match (stream.status, stream.transition_pending) {
            (StreamStatus::CREATING, true) => &[StreamStatus::CREATING, StreamStatus::ACTIVE],
            (StreamStatus::UPDATING, true) => &[StreamStatus::UPDATING, StreamStatus::ACTIVE],
            (StreamStatus::DELETING, _) => &[StreamStatus::DELETING],
            (status, _) => std::slice::from_ref(match status {
                StreamStatus::CREATING => &StreamStatus::CREATING,
                StreamStatus::UPDATING => &StreamStatus::UPDATING,
                _ => &StreamStatus::ACTIVE,
            }),
        };
        self.judged(Property::Status);
        if !admissible.contains(&observed.status) {
            return Err(Violation::new(
                Property::Status,
                format!(
                    "stream {} reported {} but the model allows {:?}",
                    stream.name,
                    observed.status.name(),
                    admissible
                ),
            ));
        }
        self.judged(Property::Retention);
        if observed.retention_period_hours != stream.retention_hours {
            return Err(Violation::new(
                Property::Retention,
                format!(
                    "stream {} reports retention {} h, model has {} h",
                    stream.name, observed.retention_period_hours, stream.retention_hours
                ),
            ));
        }
        if observed.status == StreamStatus::ACTIVE {
            self.judged(Property::Listing);
            let expected = stream.reshape_target.unwrap_or(open_now);
            if observed.open_shard_count != expected {
                return Err(Violation::new(
                    Property::Listing,
                    format!(
                        "stream {} reports {} open shards, model has {expected}",
                        stream.name, observed.open_shard_count
                    ),
                ));
            }
            if let Some(s) = self.stream_mut(&req.stream_name) {
                s.status = StreamStatus::ACTIVE;
                s.transition_pending = false;
            }
        }
        Ok(Ok(observed))
    }

    pub(super) fn list_shards(
        &mut self,
        req: &ListShardsRequest,
        obs: Observed<ListShardsResponse>,
        w: Window,
    ) -> Verdict<ListShardsResponse> {
        let listing = match self.plan_listing(req, w) {
            Ok(l) => l,
            Err(e) => return self.expect_error(e, obs, "ListShards"),
        };
        let observed = match obs {
            None => return Ok(Ok(self.own_listing_page(listing))),
            Some(Err(e)) => {
                self.admit_error(e, &[], "ListShards")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(page)) => page.clone(),
        };
        self.check_listing_page(listing, &observed, w)?;
        Ok(Ok(observed))
    }

    fn plan_listing(
        &self,
        req: &ListShardsRequest,
        w: Window,
    ) -> Result<ListingState, ExpectedError> {
        let max_results = crate::validate::list_shards_page(req.max_results)?;
        match (&req.stream_name, &req.next_token) {
            (Some(_), Some(_)) => Err(KinesisError::invalid_argument(
                "NextToken and StreamName cannot be provided together.",
            )
            .into()),
            (None, None) => Err(KinesisError::invalid_argument(
                "Either NextToken or StreamName should be provided.",
            )
            .into()),
            (None, Some(token)) => {
                let state = self.listings.get(token).cloned().ok_or_else(|| {
                    ExpectedError::any_of(
                        KinesisError::invalid_argument(format!("Invalid NextToken {token}.")),
                        &[ErrorKind::Other],
                    )
                })?;
                if self
                    .streams
                    .get(&state.stream)
                    .is_none_or(|s| s.incarnation != state.incarnation)
                {
                    return Err(StreamState::not_found(&state.stream).into());
                }
                Ok(ListingState {
                    max_results,
                    ..state
                })
            }
            (Some(name), None) => {
                let stream = self.lookup(name)?;
                let after = match &req.exclusive_start_shard_id {
                    None => None,
                    Some(raw) => Some(ShardId::parse(raw, "exclusiveStartShardId", name)?),
                };
                let horizon = stream.trim_horizon_ms(w.mid());
                let remaining = stream
                    .shards
                    .iter()
                    .filter(|s| after.is_none_or(|a| s.id > a))
                    .filter(|s| !is_expired(s, horizon))
                    .map(|s| s.id)
                    .collect();
                Ok(ListingState {
                    stream: name.clone(),
                    incarnation: stream.incarnation,
                    remaining,
                    max_results,
                    exclusive_start: req.exclusive_start_shard_id.clone(),
                })
            }
        }
    }

    fn own_listing_page(&mut self, mut listing: ListingState) -> ListShardsResponse {
        let take = listing.remaining.len().min(listing.max_results);
        let page: Vec<ShardId> = listing.remaining.drain(..take).collect();
        let stream = &self.streams[&listing.stream];
        let shards = page
            .iter()
            .filter_map(|id| stream.shard(*id).and_then(ShardState::description))
            .collect();
        let next_token = (!listing.remaining.is_empty()).then(|| {
            let token = self.mint_token("model-list");
            self.listings.insert(token.clone(), listing);
            token
        });
        ListShardsResponse { shards, next_token }
    }

    fn check_listing_page(
        &mut self,
        mut listing: ListingState,
        page: &ListShardsResponse,
        w: Window,
    ) -> Result<(), Violation> {
        let lineage = |d: String| Violation::new(Property::Lineage, d);
        self.judged(Property::Listing);
        if page.shards.len() > listing.max_results {
            return Err(Violation::new(
                Property::Listing,
                format!(
                    "page of {} shards exceeds MaxResults {}",
                    page.shards.len(),
                    listing.max_results
                ),
            ));
        }
        let name = listing.stream.clone();
        let scope = listing
            .exclusive_start
            .as_ref()
            .map_or_else(String::new, |after| format!(" (listing after '{after}')"));
        let require_aws = self.config.require_aws_layout;
        for listed in &page.shards {
            if require_aws {
                self.check_format(
                    &listed.starting_sequence_number,
                    "ListShards StartingSequenceNumber",
                )?;
            }
            // Listings are only judged on an implementation's answer: every check counts.
            let checks = &mut self.checks;
            let stream = self
                .streams
                .get_mut(&name)
                .ok_or_else(|| lineage("stream vanished".into()))?;
            let known = stream.shard(listed.shard_id).is_some();
            if !known {
                adopt_new_shard(stream, listed, w, checks)?;
            } else {
                check_known_shard(stream, listed, w, checks)?;
            }
            checks.record(Property::Listing);
            if let Some(pos) = listing
                .remaining
                .iter()
                .position(|id| *id == listed.shard_id)
            {
                listing.remaining.remove(pos);
            } else if known
                && !is_expired(
                    &stream.shards[listed.shard_id.index() as usize],
                    stream.trim_horizon_ms(w.mid()),
                )
            {
                return Err(Violation::new(
                    Property::Listing,
                    format!(
                        "{} listed twice or outside the requested range{scope}",
                        listed.shard_id
                    ),
                ));
            }
        }
        match &page.next_token {
            Some(token) => {
                self.listings.insert(token.clone(), listing);
            }
            None => {
                self.checks.record(Property::Listing);
                if let Some(missing) = listing.remaining.first() {
                    return Err(Violation::new(
                        Property::Listing,
                        format!("listing of {name} ended without {missing}{scope}"),
                    ));
                }
                let stream = self
                    .streams
                    .get_mut(&name)
                    .ok_or_else(|| lineage("stream vanished".into()))?;
                if let Some(target) = stream.reshape_target.take() {
                    finish_reshape(stream, target, &mut self.checks)?;
                }
                if std::mem::take(&mut stream.initial_ranges_unconfirmed) {
                    self.checks.record(Property::HashPartition);
                    stream
                        .open_ranges_partition_the_space()
                        .map_err(|d| Violation::new(Property::HashPartition, d))?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn increase_retention(
        &mut self,
        req: &RetentionRequest,
        obs: Observed<()>,
        w: Window,
    ) -> Verdict<()> {
        self.change_retention(req, obs, w, true)
    }

    pub(super) fn decrease_retention(
        &mut self,
        req: &RetentionRequest,
        obs: Observed<()>,
        w: Window,
    ) -> Verdict<()> {
        self.change_retention(req, obs, w, false)
    }

    fn change_retention(
        &mut self,
        req: &RetentionRequest,
        obs: Observed<()>,
        w: Window,
        increase: bool,
    ) -> Verdict<()> {
        let op = if increase {
            "IncreaseStreamRetentionPeriod"
        } else {
            "DecreaseStreamRetentionPeriod"
        };
        let plan = self.plan_retention(req, increase);
        let equal_is_ambiguous = match plan {
            Ok(ambiguous) => ambiguous,
            Err(e) => return self.expect_error(e, obs, op),
        };
        if let Some(Err(e)) = obs {
            let also: &[ErrorKind] = if equal_is_ambiguous {
                &[ErrorKind::InvalidArgumentException]
            } else {
                &[]
            };
            self.admit_error(e, also, op)?;
            return Ok(Err(e.clone()));
        }
        let Some(stream) = self.stream_mut(&req.stream_name) else {
            return Ok(Ok(()));
        };
        let now = w.mid();
        // An increase never resurrects what already expired (kinesis-semantics §7).
        stream.trim_floor_ms = stream.trim_horizon_ms(now);
        stream.retention_hours = req.retention_period_hours as u32;
        Ok(Ok(()))
    }

    /// `Ok(true)` when the request asks for the current value, which Kinesis may accept or
    /// refuse (kinesis-semantics §11.13).
    fn plan_retention(
        &self,
        req: &RetentionRequest,
        increase: bool,
    ) -> Result<bool, ExpectedError> {
        let stream = self.lookup(&req.stream_name)?;
        let hours = req.retention_period_hours;
        if hours < *RETENTION_HOURS.start() {
            let error = KinesisError::invalid_argument(format!(
                "Minimum allowed retention period is 24 hours. Requested retention period ({hours} hours) is too short."
            ));
            // Below 1 hour, responses recorded from AWS were ValidationException (§11.13).
            let also: &[ErrorKind] = if hours < 1 {
                &[ErrorKind::ValidationException]
            } else {
                &[]
            };
            return Err(ExpectedError::any_of(error, also));
        }
        if hours > *RETENTION_HOURS.end() {
            return Err(ExpectedError::any_of(
                KinesisError::invalid_argument(format!(
                    "Maximum allowed retention period is 8760 hours. Requested retention period ({hours} hours) is too long."
                )),
                &[ErrorKind::ValidationException],
            ));
        }
        if stream.status != StreamStatus::ACTIVE && !stream.transition_pending {
            return Err(not_active(stream).into());
        }
        let current = i64::from(stream.retention_hours);
        if increase && hours < current {
            return Err(KinesisError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API.",
                stream.name
            ))
            .into());
        }
        if !increase && hours > current {
            return Err(KinesisError::invalid_argument(format!(
                "Requested retention period ({hours} hours) for stream {} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API.",
                stream.name
            ))
            .into());
        }
        Ok(hours == current)
    }
}

/// `Stream <s> under account <a> not ACTIVE, instead in state <S>`
pub(super) fn not_active(stream: &StreamState) -> KinesisError {
    KinesisError::in_use(format!(
        "Stream {} under account {ACCOUNT_ID} not ACTIVE, instead in state {}",
        stream.name,
        stream.status.name()
    ))
}

/// A closed shard whose every record (and its closing) lies beyond retention.
pub(super) fn is_expired(shard: &ShardState, horizon_ms: u64) -> bool {
    shard.closed_ms.is_some_and(|c| c < horizon_ms)
        && shard.log.last().is_none_or(|r| r.arrival.hi < horizon_ms)
}

/// Judges a listed shard the model knows; every check evaluated is counted in `checks`.
fn check_known_shard(
    stream: &mut StreamState,
    listed: &ShardDescription,
    w: Window,
    checks: &mut CheckCounts,
) -> Result<(), Violation> {
    let reshaping = stream.reshape_target.is_some();
    let idx = listed.shard_id.index() as usize;
    let parents_max = parents_last(stream, idx);
    if stream.initial_ranges_unconfirmed {
        check_initial_range(stream, idx, listed, checks)?;
    }
    let shard = &mut stream.shards[idx];
    let lineage = |d: String| Violation::new(Property::Lineage, d);
    checks.record(Property::Lineage);
    if listed.hash_key_range != shard.range
        || listed.parent_shard_id != shard.parent
        || listed.adjacent_parent_shard_id != shard.adjacent_parent
    {
        return Err(lineage(format!(
            "{} listed with range {:?}, parent {:?}, adjacent parent {:?}; the model has {:?}, {:?}, {:?}",
            shard.id,
            listed.hash_key_range,
            listed.parent_shard_id,
            listed.adjacent_parent_shard_id,
            shard.range,
            shard.parent,
            shard.adjacent_parent
        )));
    }
    if shard.start.is_some() {
        checks.record(Property::Lineage);
    }
    match shard.start {
        Some(start) if start != listed.starting_sequence_number => {
            return Err(lineage(format!(
                "{} changed its StartingSequenceNumber from {start} to {}",
                shard.id, listed.starting_sequence_number
            )));
        }
        Some(_) => {}
        None => {
            let start = listed.starting_sequence_number;
            if let Some(first) = shard.log.first() {
                checks.record(Property::ShardOrder);
                if first.seq <= start {
                    return Err(Violation::new(
                        Property::ShardOrder,
                        format!(
                            "{} starts at {start} but already holds record {}",
                            shard.id, first.seq
                        ),
                    ));
                }
            }
            if let Some(p) = parents_max {
                checks.record(Property::CrossReshardOrder);
                if start <= p {
                    return Err(Violation::new(
                        Property::CrossReshardOrder,
                        format!(
                            "child {} starts at {start}, not above its parents' number {p}",
                            shard.id
                        ),
                    ));
                }
            }
            shard.start = Some(start);
        }
    }
    // An open shard is listed without an end, a closed one with it (the one exception: an
    // UpdateShardCount in progress may close shards the model has not seen closed yet).
    if !(shard.is_open() && reshaping && listed.ending_sequence_number.is_some()) {
        checks.record(Property::ShardEnd);
    }
    match (shard.is_open(), listed.ending_sequence_number) {
        (true, None) => {}
        (true, Some(end)) if reshaping => {
            shard.closed_ms = Some(w.mid());
            shard.end = Some(end);
        }
        (true, Some(end)) => {
            return Err(Violation::new(
                Property::ShardEnd,
                format!(
                    "open shard {} listed with EndingSequenceNumber {end}",
                    shard.id
                ),
            ));
        }
        (false, None) => {
            return Err(Violation::new(
                Property::ShardEnd,
                format!(
                    "closed shard {} listed without EndingSequenceNumber",
                    shard.id
                ),
            ));
        }
        (false, Some(end)) => match shard.end {
            Some(known) if known != end => {
                checks.record(Property::Lineage);
                return Err(lineage(format!(
                    "{} changed its EndingSequenceNumber from {known} to {end}",
                    shard.id
                )));
            }
            Some(_) => checks.record(Property::Lineage),
            None => shard.end = Some(end),
        },
    }
    if let (Some(end), Some(last)) = (shard.end, shard.last_seq()) {
        checks.record(Property::ShardOrder);
        if end < last {
            return Err(Violation::new(
                Property::ShardOrder,
                format!("{} ends at {end} below its record {last}", shard.id),
            ));
        }
    }
    Ok(())
}

/// Judges the range a shard the stream was created with is listed with, before the first
/// complete listing: CreateStream with N shards splits the space at `h = floor(2^128 / N)`,
/// shard `i` owning `[h*i, h*(i+1) - 1]` and the last ending at `2^128 - 1`, as observed on AWS
/// (kinesis-semantics §2.4, §11.5). Counts one HashPartition check for such a shard; children
/// of reshards are judged by their lineage instead.
fn check_initial_range(
    stream: &StreamState,
    idx: usize,
    listed: &ShardDescription,
    checks: &mut CheckCounts,
) -> Result<(), Violation> {
    let shard = &stream.shards[idx];
    let created_with_stream = shard.parent.is_none() && shard.adjacent_parent.is_none();
    if !created_with_stream {
        return Ok(());
    }
    checks.record(Property::HashPartition);
    if listed.hash_key_range == shard.range {
        return Ok(());
    }
    let initial: Vec<&ShardState> = stream
        .shards
        .iter()
        .filter(|s| s.parent.is_none() && s.adjacent_parent.is_none())
        .collect();
    let expected = initial
        .iter()
        .map(|s| format!("{} [{}, {}]", s.id, s.range.start, s.range.end))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Violation::new(
        Property::HashPartition,
        format!(
            "{} listed with range [{}, {}]; a stream created with {} shards splits the hash key \
             space at floor(2^128/{}) (kinesis-semantics §2.4), expected {expected}",
            listed.shard_id,
            listed.hash_key_range.start,
            listed.hash_key_range.end,
            initial.len(),
            initial.len()
        ),
    ))
}

/// The largest number any parent of shard `idx` holds or ends at.
pub(super) fn parents_last(
    stream: &StreamState,
    idx: usize,
) -> Option<crate::types::SequenceNumber> {
    let shard = &stream.shards[idx];
    shard
        .parent
        .into_iter()
        .chain(shard.adjacent_parent)
        .filter_map(|p| stream.shard(p))
        .flat_map(|p| p.last_seq().into_iter().chain(p.end))
        .max()
}

/// Takes a shard the model has not seen into `stream` and judges it; every check evaluated is
/// counted in `checks`.
fn adopt_new_shard(
    stream: &mut StreamState,
    listed: &ShardDescription,
    w: Window,
    checks: &mut CheckCounts,
) -> Result<(), Violation> {
    let lineage = |d: String| Violation::new(Property::Lineage, d);
    checks.record(Property::Lineage);
    if stream.reshape_target.is_none() {
        return Err(lineage(format!(
            "{} appeared without any reshard",
            listed.shard_id
        )));
    }
    if listed.shard_id.index() as usize != stream.shards.len() {
        return Err(lineage(format!(
            "new shard {} does not take the next unused index {}",
            listed.shard_id,
            stream.shards.len()
        )));
    }
    let now_secs = w.mid() / 1000;
    let Some(seq) = stream.sequencer.open_shard(now_secs, &[]) else {
        return Err(lineage("shard index space exhausted".into()));
    };
    stream.shards.push(ShardState {
        id: listed.shard_id,
        range: listed.hash_key_range,
        parent: listed.parent_shard_id,
        adjacent_parent: listed.adjacent_parent_shard_id,
        sequencer: seq,
        start: None,
        end: None,
        closed_ms: None,
        log: Vec::new(),
    });
    check_known_shard(stream, listed, w, checks)
}

/// After UpdateShardCount: the complete listing must show `target` open shards partitioning
/// the space, each new shard a split or merge child of shards that are now closed.
fn finish_reshape(
    stream: &StreamState,
    target: u32,
    checks: &mut CheckCounts,
) -> Result<(), Violation> {
    let open = stream.open_shards().len() as u32;
    checks.record(Property::ShardCount);
    if open != target {
        return Err(Violation::new(
            Property::ShardCount,
            format!("UpdateShardCount to {target} left {open} open shards"),
        ));
    }
    checks.record(Property::HashPartition);
    stream
        .open_ranges_partition_the_space()
        .map_err(|d| Violation::new(Property::HashPartition, d))?;
    checks.record(Property::Lineage);
    for shard in &stream.shards {
        let parents: Vec<&ShardState> = shard
            .parent
            .into_iter()
            .chain(shard.adjacent_parent)
            .filter_map(|p| stream.shard(p))
            .collect();
        if parents.iter().any(|p| p.is_open() || p.id >= shard.id) {
            return Err(Violation::new(
                Property::Lineage,
                format!("{} has a parent that is open or younger than it", shard.id),
            ));
        }
        let fits = match parents.as_slice() {
            [] => true,
            [p] => p.range.start <= shard.range.start && shard.range.end <= p.range.end,
            [a, b] => {
                let (lo, hi) = if a.range.start < b.range.start {
                    (a, b)
                } else {
                    (b, a)
                };
                lo.range.end.checked_add(1) == Some(hi.range.start)
                    && shard.range
                        == HashKeyRange {
                            start: lo.range.start,
                            end: hi.range.end,
                        }
            }
            _ => false,
        };
        if !fits {
            return Err(Violation::new(
                Property::Lineage,
                format!(
                    "{} range {:?} does not derive from its parents",
                    shard.id, shard.range
                ),
            ));
        }
    }
    Ok(())
}

/// Milliseconds in a rolling day, for the UpdateShardCount call limit.
pub(super) const DAY_MS: u64 = 24 * HOUR_MS;
