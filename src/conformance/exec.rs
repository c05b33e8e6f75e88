//! Executes a generated case against an implementation, checking every response with the
//! reference model and recording the transcript a counterexample is made of.

mod raw;

use super::Area;
use super::expectations::{Expectations, Hazard};
use super::ops::*;
use crate::api::*;
use crate::model::{CheckCounts, Model, ModelConfig, Property, Violation, Window};
use crate::service::{StreamService, dispatch};
use crate::types::{ErrorKind, KinesisError, SequenceNumber, ShardIteratorType, StreamStatus};
use crate::types::{HashKeyRange, ShardId};
use bytes::Bytes;
use std::collections::BTreeMap;

/// Most polls while waiting for a stream to settle; reaching it makes the case indeterminate.
pub const MAX_SETTLE_POLLS: usize = 400;
/// Most ListShards pages followed in one listing; reaching it makes the case indeterminate.
pub const MAX_LIST_PAGES: usize = 100;
/// Most GetRecords pages in one drain or final read-back of a shard; reaching it before the
/// shard's end, its tip or its last acknowledged record makes the case indeterminate.
pub const MAX_DRAIN_PAGES: usize = 200;

/// Longest sleep between two reports of a real-time hold to its observer.
const HOLD_SLICE: std::time::Duration = std::time::Duration::from_secs(1);
/// `2^128`: one more than the largest hash key.
const TWO_POW_128: &str = "340282366920938463463374607431768211456";

/// `text` with every run of whitespace (line breaks included) turned into one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the harness did in one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A request and the implementation's outcome.
    Call(Request, Outcome),
    /// The implementation's clock was moved forward.
    AdvanceClock(u64),
    /// The harness waited this many ms in real time (an implementation without clock control),
    /// then sent one unjudged DescribeStreamSummary of a stream that does not exist, so that
    /// connections the service closed while idle are dropped before the case goes on.
    Slept(u64),
    /// A request withheld because the implementation cannot survive it (the hazard's id).
    NotSent(Request, String),
}

/// One numbered step of a transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based position in the transcript.
    pub number: usize,
    /// What happened.
    pub action: Action,
}

/// Why a case stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A response the model does not admit (and no recorded divergence explains).
    Violation(Violation),
    /// A request whose outcome is unknown (timeout, reset), or a bounded loop that reached its
    /// bound: not a violation by itself.
    Indeterminate(String),
    /// A recorded divergence took the implementation to a state the model cannot represent,
    /// so nothing after it could be judged.
    Departed {
        /// The step (1-based) of the divergent response.
        step: usize,
        /// The recorded divergence's id.
        divergence: String,
        /// What the model could not follow.
        reason: String,
    },
}

impl Stop {
    /// A one-line reason, grouped in reports ("ended early because …").
    pub fn reason(&self) -> String {
        match self {
            Stop::Violation(v) => format!("unrecorded {} violation", v.property),
            Stop::Indeterminate(why) => format!("indeterminate: {}", first_clause(why)),
            Stop::Departed { divergence, .. } => format!(
                "the implementation's state left the model's at recorded divergence `{divergence}`"
            ),
        }
    }
}

/// The part of `why` before its first colon: the kind of trouble without run-specific detail.
fn first_clause(why: &str) -> String {
    let head = why.split(':').next().unwrap_or(why);
    head.split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A response that matched a recorded divergence; the case went on past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DivergenceHit {
    /// The recorded divergence's id.
    pub id: String,
    /// The step (1-based) of the divergent response.
    pub step: usize,
}

/// A request whose outcome was unknown, with what Kinesis would have answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownOutcome {
    /// The step (1-based) it ended the case at.
    pub step: usize,
    /// The operation.
    pub operation: &'static str,
    /// The request, rendered on one line as in transcripts.
    pub request: String,
    /// True when an answer arrived (an untyped HTTP 5xx), false when none did (timeout, reset).
    pub answered: bool,
    /// What the adapter reported.
    pub answer: String,
    /// The reference model's answer to the same request in the same state.
    pub kinesis_answer: String,
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseRun {
    /// Every step taken.
    pub steps: Vec<Step>,
    /// `None` when every response was admissible.
    pub stop: Option<Stop>,
    /// Operations skipped because the implementation lacks a capability.
    pub skipped: usize,
    /// The request with an unknown outcome that made the case indeterminate, if one did.
    pub unknown_outcome: Option<UnknownOutcome>,
    /// Responses that matched recorded divergences, in order.
    pub divergences: Vec<DivergenceHit>,
    /// How many times each property was judged in this case.
    pub checks: CheckCounts,
    /// True when the service stopped answering at the request with an unknown outcome (set
    /// by the runner, which asks the service after every unanswered request).
    pub crashed: bool,
    /// How many operations of each variant ([`Op::variant`]) reached the implementation:
    /// withheld, skipped and unresolvable operations are not counted.
    pub sent: BTreeMap<String, u64>,
}

impl CaseRun {
    /// A case that was not run at all, for `why` (e.g. the service is down).
    pub fn not_run(why: String) -> Self {
        CaseRun {
            steps: Vec::new(),
            stop: Some(Stop::Indeterminate(why)),
            skipped: 0,
            unknown_outcome: None,
            divergences: Vec::new(),
            checks: CheckCounts::default(),
            crashed: false,
            sent: BTreeMap::new(),
        }
    }

    /// True when the case ran to its last step, final read-back included.
    pub fn completed(&self) -> bool {
        self.stop.is_none()
    }

    /// True when the case ended with a violation no recorded divergence explains.
    pub fn unrecorded_violation(&self) -> Option<&Violation> {
        match &self.stop {
            Some(Stop::Violation(v)) => Some(v),
            _ => None,
        }
    }
}

/// Executes cases against one implementation.
pub struct Executor<'a> {
    service: &'a dyn StreamService,
    model: Model,
    steps: Vec<Step>,
    names: [String; 2],
    seqs: Vec<(SequenceNumber, u64)>,
    iterators: Vec<String>,
    shards: [Vec<ShardDescription>; 2],
    case_start_ms: u64,
    payloads: u64,
    skipped: usize,
    unknown_outcome: Option<UnknownOutcome>,
    hazards: Vec<(String, regex::Regex)>,
    recorded: Option<(&'a Expectations, Area)>,
    hits: Vec<DivergenceHit>,
    own_checks: CheckCounts,
    server_error_runs: usize,
    poll_sleep: std::time::Duration,
    on_hold: Option<&'a dyn Fn(u64)>,
    sent: BTreeMap<String, u64>,
}

impl<'a> Executor<'a> {
    /// Prepares a case whose stream names start with `prefix` (unique per execution on a
    /// shared service).
    pub fn new(service: &'a dyn StreamService, config: ModelConfig, prefix: &str) -> Self {
        let real_clock = !service.capabilities().clock_control;
        Executor {
            service,
            model: Model::new(config),
            steps: Vec::new(),
            names: [format!("{prefix}-a"), format!("{prefix}-b")],
            seqs: Vec::new(),
            iterators: Vec::new(),
            shards: [Vec::new(), Vec::new()],
            case_start_ms: service.now_ms(),
            payloads: 0,
            skipped: 0,
            unknown_outcome: None,
            hazards: Vec::new(),
            recorded: None,
            hits: Vec::new(),
            own_checks: CheckCounts::default(),
            server_error_runs: 0,
            on_hold: None,
            poll_sleep: if real_clock {
                std::time::Duration::from_millis(20)
            } else {
                std::time::Duration::ZERO
            },
            sent: BTreeMap::new(),
        }
    }

    /// Withholds every request matching one of `hazards` (see [`Hazard`]): it is recorded in
    /// the transcript as not sent, the model does not see it, and the case goes on.
    pub fn avoiding(mut self, hazards: &[Hazard]) -> Self {
        self.hazards = hazards
            .iter()
            .filter_map(|h| Some((h.id.clone(), regex::Regex::new(&h.request_pattern).ok()?)))
            .collect();
        self
    }

    /// Goes on past every response that matches one of `expectations`' recorded divergences
    /// in `area`, and withholds its hazards (see [`Executor::avoiding`]). A divergence that
    /// leaves the implementation in a state the model can represent (an error, a read, an
    /// accepted put) lets the case continue; any other ends it as [`Stop::Departed`].
    pub fn recognising(mut self, expectations: &'a Expectations, area: Area) -> Self {
        self = self.avoiding(&expectations.hazards);
        self.recorded = Some((expectations, area));
        self
    }

    /// Recognises an untyped server error as a recorded divergence when the runner, replaying
    /// each case `runs` times in all, would judge it as one (see
    /// [`RunConfig::fault_replays`](super::RunConfig::fault_replays)): the recorded entry is
    /// the evidence that the error is deterministic. A read answered that way changed nothing
    /// and the case goes on; after a write the state is unknown and the case ends as
    /// [`Stop::Departed`]. 0 (the default) never does this.
    pub fn replaying_server_errors(mut self, runs: usize) -> Self {
        self.server_error_runs = runs;
        self
    }

    /// Calls `observer` with the milliseconds that passed, as they pass, during every
    /// [`Op::Hold`] (at least once a second while sleeping in real time), e.g. for a progress
    /// bar.
    pub fn reporting_holds(mut self, observer: &'a dyn Fn(u64)) -> Self {
        self.on_hold = Some(observer);
        self
    }

    /// Runs the case: create a stream with `shards` shards, apply `ops`, audit every shard,
    /// delete the streams.
    pub fn run(mut self, shards: i64, ops: &[Op]) -> CaseRun {
        let stop = self.run_inner(shards, ops).err();
        // Best effort even after an unknown outcome: a shared service must not fill up with
        // streams of earlier cases (their shards count against the account quota).
        self.teardown();
        let mut checks = self.model.checks().clone();
        checks.add(&self.own_checks);
        CaseRun {
            steps: self.steps,
            stop,
            skipped: self.skipped,
            unknown_outcome: self.unknown_outcome,
            divergences: self.hits,
            checks,
            crashed: false,
            sent: self.sent,
        }
    }

    fn run_inner(&mut self, shards: i64, ops: &[Op]) -> Result<(), Stop> {
        self.create(0, shards)?;
        for op in ops {
            self.apply_counted(op)?;
        }
        self.audit()
    }

    fn teardown(&mut self) {
        for slot in 0..2 {
            let name = self.names[slot].clone();
            if self.model.stream(&name).is_some() {
                let _ = dispatch(
                    self.service,
                    &Request::DeleteStream(StreamRequest { stream_name: name }),
                );
            }
        }
    }

    /// Sends one request, records it and has the model judge the outcome.
    fn send(&mut self, request: Request) -> Result<Outcome, Stop> {
        if !self.hazards.is_empty() {
            let line = one_line(&super::report::request_in_full(&request));
            if let Some((id, _)) = self.hazards.iter().find(|(_, re)| re.is_match(&line)) {
                let id = id.clone();
                self.skipped += 1;
                self.steps.push(Step {
                    number: self.steps.len() + 1,
                    action: Action::NotSent(request, id.clone()),
                });
                return Ok(Err(KinesisError::new(
                    ErrorKind::Other,
                    format!("not sent (hazard `{id}`)"),
                )));
            }
        }
        let lo = self.service.now_ms();
        let outcome = dispatch(self.service, &request);
        let hi = self.service.now_ms().max(lo);
        self.steps.push(Step {
            number: self.steps.len() + 1,
            action: Action::Call(request.clone(), outcome.clone()),
        });
        if let Err(e) = &outcome {
            if e.kind.is_unknown_outcome() {
                let kinesis_answer = match self.model.clone().answer(&request, lo) {
                    Ok(_) => "success".to_owned(),
                    Err(k) => format!("{}: {}", k.kind, k.message),
                };
                let unknown = UnknownOutcome {
                    step: self.steps.len(),
                    operation: request.operation(),
                    request: one_line(&super::report::request(&request)),
                    answered: e.kind == ErrorKind::UntypedServerError,
                    answer: e.message.clone(),
                    kinesis_answer,
                };
                if let Some(id) = self.recorded_server_error(&unknown) {
                    let step = self.steps.len();
                    self.hits.push(DivergenceHit {
                        id: id.clone(),
                        step,
                    });
                    if request.is_read_only() {
                        return Ok(outcome);
                    }
                    return Err(Stop::Departed {
                        step,
                        divergence: id,
                        reason: format!(
                            "{} answered with an untyped server error: whether it took effect \
                             is unknown",
                            request.operation()
                        ),
                    });
                }
                self.unknown_outcome = Some(unknown);
                return Err(Stop::Indeterminate(format!(
                    "{} had an unknown outcome: {}",
                    request.operation(),
                    e.message
                )));
            }
        }
        let window = Window { lo, hi };
        let Some((expectations, area)) = self.recorded else {
            self.model
                .observe(&request, &outcome, window)
                .map_err(Stop::Violation)?;
            self.harvest(&outcome, lo, true);
            return Ok(outcome);
        };
        let before = self.model.clone();
        let Err(violation) = self.model.observe(&request, &outcome, window) else {
            self.harvest(&outcome, lo, true);
            return Ok(outcome);
        };
        let Some(known) = expectations.find(area, &violation) else {
            return Err(Stop::Violation(violation));
        };
        let mut known = known;
        self.recognised(&known.id, before.clone());
        if violation.property == Property::Wire && matches!(request, Request::Raw(_)) {
            // The envelope diverged as recorded; what the answer says is still judged, so a
            // known envelope defect does not hide a wrong answer behind it.
            let Err(second) = self
                .model
                .observe_excusing_envelope(&request, &outcome, window)
            else {
                self.harvest(&outcome, lo, true);
                return Ok(outcome);
            };
            let Some(also) = expectations.find(area, &second) else {
                return Err(Stop::Violation(second));
            };
            known = also;
            self.recognised(&known.id, before);
        }
        match self.model.adopt(&request, &outcome, window) {
            Ok(adopted) => {
                self.harvest(&outcome, lo, adopted.next_iterator_known);
                Ok(outcome)
            }
            Err(unrepresentable) => Err(Stop::Departed {
                step: self.steps.len(),
                divergence: known.id.clone(),
                reason: unrepresentable.to_string(),
            }),
        }
    }

    /// Records a hit of recorded divergence `id` at the current step and puts the model back
    /// to `before` (keeping the checks it made while judging).
    fn recognised(&mut self, id: &str, before: Model) {
        let mut judged = self.model.checks().clone();
        self.model = before;
        judged.subtract(self.model.checks());
        self.own_checks.add(&judged);
        self.hits.push(DivergenceHit {
            id: id.to_owned(),
            step: self.steps.len(),
        });
    }

    /// Sends a request whose outcome only the model needs.
    fn call(&mut self, request: Request) -> Result<(), Stop> {
        self.send(request).map(drop)
    }

    /// Remembers numbers and iterators so later operations can refer to them; iterators only
    /// when the model knows where they point (`iterators_known`).
    fn harvest(&mut self, outcome: &Outcome, at: u64, iterators_known: bool) {
        match outcome {
            Ok(Reply::Put(r)) => self.seqs.push((r.sequence_number, at)),
            Ok(Reply::PutBatch(b)) => self
                .seqs
                .extend(b.records.iter().flatten().map(|r| (r.sequence_number, at))),
            Ok(Reply::Iterator(it)) if iterators_known => self.iterators.push(it.clone()),
            Ok(Reply::Records(r)) if iterators_known => {
                self.iterators.extend(r.next_shard_iterator.clone())
            }
            _ => {}
        }
    }

    /// Counts an operation the implementation cannot be sent.
    pub(super) fn skip_unsupported(&mut self) {
        self.skipped += 1;
    }

    /// True when the last response matched a recorded divergence.
    fn last_response_diverged(&self) -> bool {
        self.hits.last().is_some_and(|h| h.step == self.steps.len())
    }

    /// True when `iterator` was handed out in a response the model admitted or followed.
    fn known_iterator(&self, iterator: &str) -> bool {
        self.iterators.iter().any(|i| i == iterator)
    }

    fn name(&self, n: &NameRef) -> String {
        match n {
            NameRef::Slot(s) => self.names[usize::from(*s) % 2].clone(),
            NameRef::Unknown => format!("{}-missing", self.names[0]),
            NameRef::Empty => String::new(),
            NameRef::TooLong => "s".repeat(129),
            NameRef::BadChar => "bad name!".into(),
        }
    }

    fn slot_of(n: &NameRef) -> usize {
        match n {
            NameRef::Slot(s) => usize::from(*s) % 2,
            _ => 0,
        }
    }

    fn key(k: &KeyGen) -> String {
        match k {
            KeyGen::Pool(i) => format!("user-{i}"),
            KeyGen::Length(n) => "k".repeat(*n),
            KeyGen::Unicode(n) => "é".repeat(*n),
        }
    }

    fn data(&mut self, d: &DataGen, key: &str) -> Bytes {
        self.payloads += 1;
        let id = self.payloads;
        match d {
            DataGen::Small(len) => {
                let mut v = format!("payload-{id}-").into_bytes();
                v.resize(usize::from(*len).max(v.len()), b'.');
                Bytes::from(v)
            }
            DataGen::Size(n) => {
                let mut v = vec![b'x'; *n];
                let tag = id.to_le_bytes();
                let k = tag.len().min(*n);
                v[..k].copy_from_slice(&tag[..k]);
                Bytes::from(v)
            }
            DataGen::Click { event } => {
                super::workload::click_event(key, *event, id, self.service.now_ms())
            }
        }
    }

    fn ehk(&self, slot: usize, h: &HashKeyGen) -> String {
        let shards = &self.shards[slot];
        let pick = |i: usize| {
            shards
                .get(i % shards.len().max(1))
                .map(|s| s.hash_key_range)
        };
        match h {
            HashKeyGen::RangeStart(i) => pick(*i).map_or(0, |r| r.start).to_string(),
            HashKeyGen::RangeEnd(i) => pick(*i).map_or(u128::MAX, |r| r.end).to_string(),
            HashKeyGen::Max => u128::MAX.to_string(),
            HashKeyGen::MaxPlusOne => TWO_POW_128.into(),
            HashKeyGen::ThirtyNineNines => "9".repeat(39),
            HashKeyGen::Malformed(m) => m.text(),
            HashKeyGen::Value(v) => v.to_string(),
        }
    }

    fn seq(&self, slot: usize, s: &SeqRef) -> String {
        match s {
            SeqRef::Returned(i) if !self.seqs.is_empty() => {
                self.seqs[i % self.seqs.len()].0.to_string()
            }
            SeqRef::Returned(_) | SeqRef::ShardStart(_) => {
                let i = if let SeqRef::ShardStart(i) = s { *i } else { 0 };
                let shards = &self.shards[slot];
                shards
                    .get(i % shards.len().max(1))
                    .map_or_else(|| "1".into(), |d| d.starting_sequence_number.to_string())
            }
            SeqRef::Literal(l) => (*l).to_owned(),
        }
    }

    /// The closed shards of `slot`, by hash range.
    fn closed_shards(&self, slot: usize) -> Vec<&ShardDescription> {
        let mut closed: Vec<_> = self.shards[slot]
            .iter()
            .filter(|s| s.ending_sequence_number.is_some())
            .collect();
        closed.sort_by_key(|s| (s.hash_key_range.start, s.shard_id));
        closed
    }

    fn open_shards(&self, slot: usize) -> Vec<&ShardDescription> {
        let mut open: Vec<_> = self.shards[slot]
            .iter()
            .filter(|s| s.ending_sequence_number.is_none())
            .collect();
        open.sort_by_key(|s| s.hash_key_range.start);
        open
    }

    fn shard(&self, slot: usize, r: &ShardRef) -> Option<ShardDescription> {
        let known = &self.shards[slot];
        match r {
            ShardRef::Known(i) | ShardRef::ShortForm(i) | ShardRef::Bare(i) => {
                known.get(i % known.len().max(1)).cloned()
            }
            ShardRef::Open(i) => {
                let open = self.open_shards(slot);
                open.get(i % open.len().max(1)).map(|s| (*s).clone())
            }
            ShardRef::Missing | ShardRef::Malformed => None,
        }
    }

    fn shard_name(&self, slot: usize, r: &ShardRef) -> String {
        match r {
            ShardRef::Missing => "shardId-000000009999".into(),
            ShardRef::Malformed => "shard id!".into(),
            ShardRef::ShortForm(_) => self
                .shard(slot, r)
                .map_or_else(|| "shardId-0".into(), |s| spell(s.shard_id, IdForm::Short)),
            ShardRef::Bare(_) => self
                .shard(slot, r)
                .map_or_else(|| "0".into(), |s| spell(s.shard_id, IdForm::Bare)),
            _ => self
                .shard(slot, r)
                .map_or_else(|| "shardId-000000000000".into(), |s| s.shard_id.to_string()),
        }
    }

    /// The iterator string `r` refers to; `None` for a returned iterator before any was
    /// issued (such a read is not sent: only the validation area sends bad iterators, and it
    /// asks for them explicitly).
    fn iterator(&self, r: &IterRef) -> Option<String> {
        Some(match r {
            IterRef::Returned(_) if self.iterators.is_empty() => return None,
            IterRef::Returned(i) => {
                self.iterators[self.iterators.len() - 1 - i % self.iterators.len()].clone()
            }
            IterRef::Garbage => "AAAAAAAAAAEAAAAAAAAAAQnot-an-iterator".into(),
            IterRef::Empty => String::new(),
            IterRef::TooLong => "A".repeat(513),
        })
    }

    /// Applies `op` and counts its variant as sent when its first step reached the
    /// implementation (not withheld as a hazard, not skipped, not left out for want of an
    /// earlier response), even when the case stops at it.
    fn apply_counted(&mut self, op: &Op) -> Result<(), Stop> {
        let before = self.steps.len();
        let result = self.apply(op);
        let sent = self
            .steps
            .get(before)
            .is_some_and(|s| !matches!(s.action, Action::NotSent(..)));
        if sent {
            *self.sent.entry(op.variant()).or_insert(0) += 1;
        }
        result
    }

    fn apply(&mut self, op: &Op) -> Result<(), Stop> {
        match op {
            Op::Put {
                stream,
                key,
                data,
                ehk,
                ordering,
            } => {
                let slot = Self::slot_of(stream);
                let partition_key = Self::key(key);
                let request = PutRecordRequest {
                    stream_name: self.name(stream),
                    data: self.data(data, &partition_key),
                    partition_key,
                    explicit_hash_key: ehk.as_ref().map(|h| self.ehk(slot, h)),
                    sequence_number_for_ordering: ordering.as_ref().map(|s| self.seq(slot, s)),
                };
                self.call(Request::PutRecord(request))?;
            }
            Op::PutBatch {
                stream,
                entries,
                pad_to,
            } => {
                let slot = Self::slot_of(stream);
                let mut records = Vec::with_capacity(pad_to.unwrap_or(entries.len()));
                let total = pad_to.unwrap_or(entries.len());
                for i in 0..total {
                    let Some((k, d, h)) = entries.get(i % entries.len().max(1)) else {
                        break;
                    };
                    let partition_key = Self::key(k);
                    records.push(PutRecordsEntry {
                        data: self.data(d, &partition_key),
                        partition_key,
                        explicit_hash_key: h.as_ref().map(|h| self.ehk(slot, h)),
                    });
                }
                self.call(Request::PutRecords(PutRecordsRequest {
                    stream_name: self.name(stream),
                    records,
                }))?;
            }
            Op::Iterator {
                stream,
                shard,
                position,
            } => {
                let slot = Self::slot_of(stream);
                let request = self.iterator_request(
                    self.name(stream),
                    self.shard_name(slot, shard),
                    slot,
                    position,
                );
                self.call(Request::GetShardIterator(request))?;
            }
            Op::Read { iterator, limit } => {
                let Some(shard_iterator) = self.iterator(iterator) else {
                    return Ok(());
                };
                self.call(Request::GetRecords(GetRecordsRequest {
                    shard_iterator,
                    limit: *limit,
                }))?;
            }
            Op::Drain {
                stream,
                shard,
                limit,
            } => {
                let slot = usize::from(*stream) % 2;
                if let Some(s) = self.shard(slot, shard) {
                    self.drain(slot, &s.shard_id.to_string(), *limit, None)?;
                }
            }
            Op::Split { stream, shard, at } => self.split(stream, shard, at)?,
            Op::Merge {
                stream,
                shard,
                swap,
                pair,
                ids,
            } => self.merge(
                usize::from(*stream) % 2,
                MergeOp {
                    shard,
                    swap: *swap,
                    pair: *pair,
                    ids: *ids,
                },
            )?,
            Op::Scale { stream, quarters } => {
                let slot = usize::from(*stream) % 2;
                if !self.service.capabilities().update_shard_count {
                    self.skipped += 1;
                    return Ok(());
                }
                let open = self.open_shards(slot).len() as i64;
                let request = UpdateShardCountRequest {
                    stream_name: self.names[slot].clone(),
                    target_shard_count: open * i64::from(*quarters) / 4,
                };
                if self.send(Request::UpdateShardCount(request))?.is_ok() {
                    self.settle(slot)?;
                }
            }
            Op::Wait { ms } => {
                if self.service.advance_clock(*ms).is_ok() {
                    self.steps.push(Step {
                        number: self.steps.len() + 1,
                        action: Action::AdvanceClock(*ms),
                    });
                } else {
                    self.skipped += 1;
                }
            }
            Op::Hold { ms } => self.hold(*ms)?,
            Op::Retention {
                stream,
                increase,
                hours,
            } => {
                if !self.service.capabilities().retention {
                    self.skipped += 1;
                    return Ok(());
                }
                let r = RetentionRequest {
                    stream_name: self.name(stream),
                    retention_period_hours: *hours,
                };
                let request = if *increase {
                    Request::IncreaseStreamRetentionPeriod(r)
                } else {
                    Request::DecreaseStreamRetentionPeriod(r)
                };
                self.call(request)?;
            }
            Op::Create { stream, shards } => {
                let slot = Self::slot_of(stream);
                let ok = self
                    .send(Request::CreateStream(CreateStreamRequest {
                        stream_name: self.name(stream),
                        shard_count: *shards,
                    }))?
                    .is_ok();
                if ok {
                    self.settle(slot)?;
                }
            }
            Op::Delete { stream } => {
                let name = self.name(stream);
                if self
                    .send(Request::DeleteStream(StreamRequest {
                        stream_name: name.clone(),
                    }))?
                    .is_ok()
                {
                    self.await_gone(&name)?;
                }
            }
            Op::List {
                stream,
                max_results,
                token,
                after,
            } => {
                let name = self.name(stream);
                let slot = Self::slot_of(stream);
                let request = match token {
                    None => ListShardsRequest {
                        stream_name: Some(name),
                        max_results: *max_results,
                        exclusive_start_shard_id: after.as_ref().map(|a| self.shard_name(slot, a)),
                        ..Default::default()
                    },
                    Some(true) => ListShardsRequest {
                        stream_name: Some(name),
                        next_token: Some("bm90LWEtdG9rZW4".into()),
                        ..Default::default()
                    },
                    Some(false) => ListShardsRequest {
                        next_token: Some("bm90LWEtdG9rZW4".into()),
                        max_results: *max_results,
                        ..Default::default()
                    },
                };
                if token.is_none()
                    && self
                        .model
                        .stream(&self.names[Self::slot_of(stream)])
                        .is_some()
                {
                    self.list_all(Self::slot_of(stream), request)?;
                } else {
                    self.call(Request::ListShards(request))?;
                }
            }
            Op::Raw(raw) => self.raw(raw)?,
            Op::Describe { stream } => {
                self.call(Request::DescribeStreamSummary(StreamRequest {
                    stream_name: self.name(stream),
                }))?;
            }
        }
        Ok(())
    }

    /// Lets `ms` of the implementation's time pass: advances its clock when it has clock
    /// control (a clock that refuses makes the case indeterminate), else sleeps in real time,
    /// in slices of at most [`HOLD_SLICE`], then wakes the connection (see [`Action::Slept`]).
    /// Takes at most `ms` plus one slice and one request of real time.
    fn hold(&mut self, ms: u64) -> Result<(), Stop> {
        let action = if self.service.capabilities().clock_control {
            self.service.advance_clock(ms).map_err(|e| {
                Stop::Indeterminate(format!(
                    "the clock could not be advanced by {ms} ms: {}",
                    e.message
                ))
            })?;
            if let Some(observe) = self.on_hold {
                observe(ms);
            }
            Action::AdvanceClock(ms)
        } else {
            let start = std::time::Instant::now();
            let total = std::time::Duration::from_millis(ms);
            let mut reported = 0u64;
            while let Some(left) = total.checked_sub(start.elapsed()).filter(|d| !d.is_zero()) {
                std::thread::sleep(left.min(HOLD_SLICE));
                let passed = u64::try_from(start.elapsed().as_millis())
                    .unwrap_or(u64::MAX)
                    .min(ms);
                if let Some(observe) = self.on_hold {
                    observe(passed - reported);
                }
                reported = passed;
            }
            // A client's idle connection may have been closed by the service meanwhile, and
            // the client only notices when it next uses it: let this request absorb that, not
            // the case's next one. Its answer says nothing about the implementation.
            let _ = self.service.describe_stream_summary(&StreamRequest {
                stream_name: format!("{}-wake", self.names[0]),
            });
            Action::Slept(ms)
        };
        self.steps.push(Step {
            number: self.steps.len() + 1,
            action,
        });
        Ok(())
    }

    fn iterator_request(
        &self,
        stream_name: String,
        shard_id: String,
        slot: usize,
        position: &Position,
    ) -> GetShardIteratorRequest {
        let mut req = GetShardIteratorRequest {
            stream_name,
            shard_id,
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        };
        match position {
            Position::At(s) => {
                req.shard_iterator_type = ShardIteratorType::AT_SEQUENCE_NUMBER;
                req.starting_sequence_number = Some(self.seq(slot, s));
            }
            Position::After(s) => {
                req.shard_iterator_type = ShardIteratorType::AFTER_SEQUENCE_NUMBER;
                req.starting_sequence_number = Some(self.seq(slot, s));
            }
            Position::TrimHorizon => {}
            Position::Latest => req.shard_iterator_type = ShardIteratorType::LATEST,
            Position::AtTimestamp { record, offset_ms } => {
                req.shard_iterator_type = ShardIteratorType::AT_TIMESTAMP;
                let base = match record {
                    Some(i) if !self.seqs.is_empty() => self.seqs[i % self.seqs.len()].1,
                    _ => self.case_start_ms,
                };
                req.timestamp_ms = Some(base.saturating_add_signed(*offset_ms));
            }
            Position::AtTimestampMissing => {
                req.shard_iterator_type = ShardIteratorType::AT_TIMESTAMP
            }
            Position::LatestWithNumber(s) => {
                req.shard_iterator_type = ShardIteratorType::LATEST;
                req.starting_sequence_number = Some(self.seq(slot, s));
            }
            Position::AtWithoutNumber => {
                req.shard_iterator_type = ShardIteratorType::AT_SEQUENCE_NUMBER
            }
        }
        req
    }

    fn split(&mut self, stream: &NameRef, shard: &ShardRef, at: &SplitAt) -> Result<(), Stop> {
        if !self.service.capabilities().resharding {
            self.skipped += 1;
            return Ok(());
        }
        let slot = Self::slot_of(stream);
        let range = self
            .shard(slot, shard)
            .map_or(crate::types::HashKeyRange::ALL, |s| s.hash_key_range);
        let request = SplitShardRequest {
            stream_name: self.name(stream),
            shard_to_split: self.shard_name(slot, shard),
            new_starting_hash_key: split_key(range, at),
        };
        if self.send(Request::SplitShard(request))?.is_ok() {
            self.settle(slot)?;
        }
        Ok(())
    }

    fn merge(&mut self, slot: usize, op: MergeOp) -> Result<(), Stop> {
        if !self.service.capabilities().resharding {
            self.skipped += 1;
            return Ok(());
        }
        let Some((a, b)) = self.merge_pair(slot, op.shard, op.pair) else {
            return Ok(());
        };
        let (mut a, mut b) = (spell(a, op.ids), spell(b, op.ids));
        if op.swap {
            std::mem::swap(&mut a, &mut b);
        }
        let request = MergeShardsRequest {
            stream_name: self.names[slot].clone(),
            shard_to_merge: a,
            adjacent_shard_to_merge: b,
        };
        if self.send(Request::MergeShards(request))?.is_ok() {
            self.settle(slot)?;
        }
        Ok(())
    }

    /// The two shards a merge names, lower one first; `None` when the stream has no such
    /// pair (too few open or closed shards), and then nothing is sent.
    fn merge_pair(
        &self,
        slot: usize,
        shard: &ShardRef,
        pair: MergePair,
    ) -> Option<(ShardId, ShardId)> {
        let open = self.open_shards(slot);
        let closed = self.closed_shards(slot);
        let n = match shard {
            ShardRef::Open(i) | ShardRef::Known(i) => *i,
            _ => 0,
        };
        match pair {
            MergePair::Adjacent | MergePair::Gap => {
                if open.len() < 2 {
                    return None;
                }
                let i = n % (open.len() - 1);
                let partner = if pair == MergePair::Gap {
                    (i + 2) % open.len()
                } else {
                    i + 1
                };
                Some((open[i].shard_id, open[partner].shard_id))
            }
            MergePair::OpenWithClosed => {
                let o = open.get(n % open.len().max(1))?;
                let c = closed.get(n % closed.len().max(1))?;
                Some((o.shard_id, c.shard_id))
            }
            MergePair::BothClosed => {
                if closed.len() < 2 {
                    return None;
                }
                let i = n % (closed.len() - 1);
                Some((closed[i].shard_id, closed[i + 1].shard_id))
            }
        }
    }

    fn create(&mut self, slot: usize, shards: i64) -> Result<(), Stop> {
        let request = CreateStreamRequest {
            stream_name: self.names[slot].clone(),
            shard_count: shards,
        };
        if self.send(Request::CreateStream(request))?.is_ok() {
            self.settle(slot)?;
        }
        Ok(())
    }

    /// Polls until the stream is ACTIVE, then lists all its shards.
    fn settle(&mut self, slot: usize) -> Result<(), Stop> {
        let stream_name = self.names[slot].clone();
        for _ in 0..MAX_SETTLE_POLLS {
            let outcome = self.send(Request::DescribeStreamSummary(StreamRequest {
                stream_name: stream_name.clone(),
            }))?;
            if matches!(outcome, Ok(Reply::Summary(ref s)) if s.status == StreamStatus::ACTIVE) {
                let request = ListShardsRequest {
                    stream_name: Some(stream_name),
                    ..Default::default()
                };
                return self.list_all(slot, request);
            }
            std::thread::sleep(self.poll_sleep);
        }
        Err(Stop::Indeterminate(format!(
            "stream {stream_name} did not become ACTIVE after {MAX_SETTLE_POLLS} polls"
        )))
    }

    fn await_gone(&mut self, name: &str) -> Result<(), Stop> {
        for _ in 0..MAX_SETTLE_POLLS {
            let outcome = self.send(Request::DescribeStreamSummary(StreamRequest {
                stream_name: name.to_owned(),
            }))?;
            if matches!(&outcome, Err(e) if e.kind == ErrorKind::ResourceNotFoundException) {
                return Ok(());
            }
            std::thread::sleep(self.poll_sleep);
        }
        Err(Stop::Indeterminate(format!(
            "stream {name} was not gone after {MAX_SETTLE_POLLS} polls"
        )))
    }

    /// Follows ListShards pages; on a complete listing, remembers the shards.
    fn list_all(&mut self, slot: usize, first: ListShardsRequest) -> Result<(), Stop> {
        let partial = first.exclusive_start_shard_id.is_some();
        let mut request = first;
        let mut listed = Vec::new();
        for _ in 0..MAX_LIST_PAGES {
            match self.send(Request::ListShards(request))? {
                Ok(Reply::Shards(page)) => {
                    listed.extend(page.shards);
                    match page.next_token {
                        // A token from a divergent page is unknown to the model: following it
                        // would only judge the model's ignorance.
                        Some(_) if self.last_response_diverged() => return Ok(()),
                        Some(token) => {
                            request = ListShardsRequest {
                                next_token: Some(token),
                                ..Default::default()
                            }
                        }
                        None => {
                            // A listing after a shard is complete only from there on.
                            if partial {
                                return Ok(());
                            }
                            self.shards[slot] = listed;
                            return Ok(());
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
        Err(Stop::Indeterminate(format!(
            "the listing of {} did not end within {MAX_LIST_PAGES} ListShards pages (bound reached)",
            self.names[slot]
        )))
    }

    /// Reads `shard` from TRIM_HORIZON, following NextShardIterator, until the shard's end (a
    /// null iterator), its tip (an empty page at MillisBehindLatest 0), or a record at or past
    /// `through`; returns the numbers read. Reaching [`MAX_DRAIN_PAGES`] first makes the case
    /// indeterminate, never a verdict.
    fn drain(
        &mut self,
        slot: usize,
        shard: &str,
        limit: Option<i64>,
        through: Option<SequenceNumber>,
    ) -> Result<Drained, Stop> {
        let request = GetShardIteratorRequest {
            stream_name: self.names[slot].clone(),
            shard_id: shard.to_owned(),
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        };
        let mut read = Vec::new();
        let cut_short = |read, why: &str| Drained {
            read,
            cut_short: Some(why.to_owned()),
        };
        let Ok(Reply::Iterator(mut it)) = self.send(Request::GetShardIterator(request))? else {
            return Ok(cut_short(
                read,
                "GetShardIterator(TRIM_HORIZON) gave no iterator",
            ));
        };
        for _ in 0..MAX_DRAIN_PAGES {
            if !self.known_iterator(&it) {
                // Handed out in a divergent response the model could not place: nothing read
                // through it could be judged.
                return Ok(cut_short(
                    read,
                    "an iterator came from a divergent response the model could not place",
                ));
            }
            let Ok(Reply::Records(page)) = self.send(Request::GetRecords(GetRecordsRequest {
                shard_iterator: it,
                limit,
            }))?
            else {
                return Ok(cut_short(read, "GetRecords answered with an error"));
            };
            read.extend(page.records.iter().map(|r| r.sequence_number));
            let past_target = through.is_some_and(|t| read.iter().any(|s| *s >= t));
            let at_tip = page.records.is_empty() && page.millis_behind_latest == 0;
            match page.next_shard_iterator {
                Some(next) if !past_target && !at_tip => it = next,
                _ => {
                    return Ok(Drained {
                        read,
                        cut_short: None,
                    });
                }
            }
        }
        Err(Stop::Indeterminate(format!(
            "reading {shard} of {} did not reach its end, its tip or its last acknowledged \
             record within {MAX_DRAIN_PAGES} GetRecords pages (bound reached)",
            self.names[slot]
        )))
    }

    /// P6: every acknowledged, unexpired record is read back from TRIM_HORIZON.
    fn audit(&mut self) -> Result<(), Stop> {
        for slot in 0..2 {
            let name = self.names[slot].clone();
            let Some(stream) = self.model.stream(&name) else {
                continue;
            };
            let now = self.service.now_ms();
            let horizon = stream.trim_horizon_ms(now);
            let expected: Vec<(String, Vec<SequenceNumber>)> = stream
                .shards
                .iter()
                .map(|s| {
                    (
                        s.id.to_string(),
                        s.log
                            .iter()
                            .filter(|r| r.arrival.mid() >= horizon)
                            .map(|r| r.seq)
                            .collect(),
                    )
                })
                .collect();
            for (shard, want) in expected {
                if want.is_empty() {
                    continue;
                }
                let through = want.iter().max().copied();
                let drained = self.drain(slot, &shard, None, through)?;
                if let Some(why) = drained.cut_short {
                    return Err(Stop::Indeterminate(format!(
                        "the final read-back of {shard} could not be completed: {why}"
                    )));
                }
                for _ in &want {
                    self.own_checks.record(Property::NoLoss);
                }
                if let Some(missing) = want.iter().find(|s| !drained.read.contains(s)) {
                    self.judge_own(Violation::new(
                        Property::NoLoss,
                        format!(
                            "acknowledged record {missing} of {shard} was never returned when reading from TRIM_HORIZON"
                        ),
                    ))?;
                }
            }
        }
        Ok(())
    }

    /// The recorded divergence an untyped server error is, if any (see
    /// [`Executor::replaying_server_errors`]).
    fn recorded_server_error(&self, unknown: &UnknownOutcome) -> Option<String> {
        let (expectations, area) = self.recorded?;
        if !unknown.answered || self.server_error_runs == 0 {
            return None;
        }
        let violation = recurring_server_error(unknown, self.server_error_runs);
        expectations.find(area, &violation).map(|k| k.id.clone())
    }

    /// A violation the executor found itself (not through the model): recorded divergences
    /// are counted and let the case go on, anything else stops it.
    fn judge_own(&mut self, violation: Violation) -> Result<(), Stop> {
        let known = self
            .recorded
            .and_then(|(expectations, area)| expectations.find(area, &violation));
        match known {
            Some(known) => {
                self.hits.push(DivergenceHit {
                    id: known.id.clone(),
                    step: self.steps.len(),
                });
                Ok(())
            }
            None => Err(Stop::Violation(violation)),
        }
    }
}

/// What one read of a shard from TRIM_HORIZON returned.
struct Drained {
    /// The numbers read, in order.
    read: Vec<SequenceNumber>,
    /// Why the read stopped before the shard's end, tip or target, if it did.
    cut_short: Option<String>,
}

/// The violation for an untyped server error that recurred on each of `runs` runs of a case.
pub(super) fn recurring_server_error(outcome: &UnknownOutcome, runs: usize) -> Violation {
    Violation::new(
        Property::ErrorMapping,
        format!(
            "{}: the same untyped server error on each of {runs} runs of this case, at the same \
             step, so not a transient fault (a Kinesis error carries a documented type): {}; \
             Kinesis answers {}; request: {}",
            outcome.operation, outcome.answer, outcome.kinesis_answer, outcome.request
        ),
    )
}

/// The arguments of one `MergeShards` operation.
struct MergeOp<'o> {
    shard: &'o ShardRef,
    swap: bool,
    pair: MergePair,
    ids: IdForm,
}

/// `id` spelt as `form` says (kinesis-semantics §2.6).
fn spell(id: ShardId, form: IdForm) -> String {
    match form {
        IdForm::Canonical => id.to_string(),
        IdForm::Short => format!("shardId-{}", id.index()),
        IdForm::Bare => id.index().to_string(),
    }
}

/// The NewStartingHashKey for splitting `range` at `at`, in decimal (`end + 1` of the last
/// shard is `2^128`, beyond every hash key).
fn split_key(range: HashKeyRange, at: &SplitAt) -> String {
    let (lo, hi) = (range.start, range.end);
    let k = match at {
        SplitAt::Middle => lo + (hi - lo) / 2 + 1,
        SplitAt::Start => lo,
        SplitAt::StartPlusOne => lo.saturating_add(1),
        SplitAt::StartPlusTwo => lo.saturating_add(2),
        SplitAt::End => hi,
        SplitAt::EndMinusOne => hi.saturating_sub(1),
        SplitAt::BeyondEnd => match hi.checked_add(1) {
            Some(k) => k,
            None => return TWO_POW_128.into(),
        },
    };
    k.to_string()
}
