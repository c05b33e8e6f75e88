//! The reference model: an executable, sequential specification of the Kinesis data plane.
//!
//! The model is explicit about where Kinesis is nondeterministic (which sequence numbers, how
//! many records a page holds, arrival times within the request window, transient statuses,
//! throttling). [`Model::observe`] decides whether an implementation's response is admissible
//! and then continues with the choice the implementation made; [`Model::answer`] resolves the
//! nondeterminism itself, which makes the model usable as an in-process fake service
//! ([`ModelService`]).

mod adopt;
mod checks;
mod lifecycle;
mod raw;
mod read;
mod reshard;
mod service;
mod state;
#[cfg(test)]
mod tests;
mod verdict;
mod write;

pub use adopt::{Adopted, Unrepresentable};
pub use checks::CheckCounts;
pub use service::ModelService;
pub use state::{HOUR_MS, LoggedRecord, ShardState, StreamState, Window};
pub use verdict::{ExpectedError, Property, Violation};

use crate::api::{Outcome, Reply, Request};
use crate::sequencer::SeqFormat;
use crate::types::{ErrorKind, KinesisError, SequenceNumber, ShardId};
use std::collections::{BTreeMap, HashMap};

/// How long an iterator stays valid (kinesis-semantics §3.3).
pub const ITERATOR_TTL_MS: u64 = 300_000;
/// The age from which a successful GetRecords counts as an Expiry judgement ("not before"):
/// the last minute of an iterator's lifetime, where an early expiry shows. Younger iterators
/// are still judged (an ExpiredIteratorException for any unexpired iterator is an Expiry
/// violation), but their successful uses are no evidence that P13 was exercised.
pub const LATE_ITERATOR_USE_MS: u64 = ITERATOR_TTL_MS - 60_000;
/// Largest `Data` blob (kinesis-semantics §5.1).
pub const MAX_DATA_BYTES: usize = 1_048_576;
/// Largest PutRecords request, keys included (kinesis-semantics §5.2).
pub const MAX_PUT_RECORDS_BYTES: usize = 5 * 1_048_576;
/// Most entries in one PutRecords request.
pub const MAX_PUT_RECORDS_ENTRIES: usize = 500;
/// Most bytes one GetRecords page may carry.
pub const MAX_GET_RECORDS_BYTES: usize = 10 * 1_048_576;
/// Largest GetRecords `Limit`.
pub const MAX_GET_RECORDS_LIMIT: i64 = 10_000;
/// A reader of a closed shard gets the null NextShardIterator (with its ChildShards) at the
/// latest on this many-th empty page at or past the shard's last record: after the page that
/// returned the last record, or from the first page of an iterator that starts past it (LATEST
/// or AFTER_SEQUENCE_NUMBER of the last record on a closed shard, or any position in a closed
/// shard without records).
///
/// kinesis-semantics §4.4 and §11.11 record exactly two admissible ends: the last non-empty
/// page carries the null iterator, or the null iterator comes on a later empty response. KCL
/// accepts an empty page with a non-null iterator as valid (§4.4, `isValidResult`), so the
/// second shape cannot be refused; but nothing records a longer run of empty pages at a
/// shard's end (the long runs of §4.3 and §11.14 walk trimmed records, which lie *before* the
/// end, and are not counted here). One is the smallest bound that admits both recorded
/// shapes, so that is the bound: the first empty page at the end is the end.
pub const SHARD_END_WITHIN_EMPTY_PAGES: u32 = 1;
/// Retention bounds in hours (kinesis-semantics §7).
pub const RETENTION_HOURS: std::ops::RangeInclusive<i64> = 24..=8760;

/// How strict the model is where Kinesis leaves room, and how it answers requests itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ModelConfig {
    /// Most open shards per account (Kinesis: a per-account quota).
    pub shard_quota: u32,
    /// The layout of numbers the model mints when it answers requests itself.
    pub seq_format: SeqFormat,
    /// Require every returned number to be a 56-digit AWS-layout number (P1 realism mode).
    pub require_aws_layout: bool,
    /// Admit throttling and internal failures on any request (real services may throttle).
    pub allow_transient_errors: bool,
    /// Require MillisBehindLatest = 0 when a page reaches the tip of an open shard (P23 is a
    /// model property only: Kinesis does not promise it).
    pub strict_millis_behind: bool,
    /// Slack for comparisons of wall-clock times against 300 s expiry and timestamps.
    pub clock_tolerance_ms: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            shard_quota: 500,
            seq_format: SeqFormat::Readable,
            require_aws_layout: false,
            allow_transient_errors: false,
            strict_millis_behind: true,
            clock_tolerance_ms: 0,
        }
    }
}

/// Where a number came from: which stream incarnation and shard answered with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Origin {
    incarnation: u64,
    shard: ShardId,
}

/// What an iterator token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IteratorState {
    stream: String,
    incarnation: u64,
    shard: ShardId,
    /// Inclusive lower bound of the next record to return.
    from: SequenceNumber,
    /// AT_TIMESTAMP with uncertain arrival times: the first record returned may lie anywhere
    /// in `[from, start_by]`.
    start_by: Option<SequenceNumber>,
    issued: Window,
    /// How many empty pages with a non-null NextShardIterator the chain this iterator belongs
    /// to has received at or past the last record of its closed shard (see
    /// [`SHARD_END_WITHIN_EMPTY_PAGES`]).
    empty_pages_at_end: u32,
}

impl IteratorState {
    /// Where the NextShardIterator of a page read through this iterator points: right after
    /// the page's last record, or (an empty page) where this one pointed, issued within `w`.
    /// The count of empty pages at the shard's end starts again after a page with records
    /// and is carried over an empty one (the caller counts the empty page itself).
    fn after_page(&self, records: &[crate::types::Record], w: Window) -> IteratorState {
        let (from, start_by, empty_pages_at_end) = match records.last() {
            Some(last) => (last.sequence_number.successor(), None, 0),
            None => (self.from, self.start_by, self.empty_pages_at_end),
        };
        IteratorState {
            from,
            start_by,
            issued: w,
            empty_pages_at_end,
            ..self.clone()
        }
    }
}

/// What a ListShards continuation token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ListingState {
    stream: String,
    incarnation: u64,
    /// Shards not yet listed.
    remaining: Vec<ShardId>,
    max_results: usize,
    /// The ExclusiveStartShardId as the first request spelt it, for messages.
    exclusive_start: Option<String>,
}

/// The reference model of one Kinesis account.
#[derive(Clone, Debug)]
pub struct Model {
    config: ModelConfig,
    streams: BTreeMap<String, StreamState>,
    iterators: HashMap<String, IteratorState>,
    listings: HashMap<String, ListingState>,
    origins: HashMap<SequenceNumber, Origin>,
    next_incarnation: u64,
    next_token: u64,
    /// The ARN each stream was seen to have (learned from raw `DescribeStreamSummary`
    /// answers; an ARN names the stream by name, so it outlives a re-creation).
    stream_arns: HashMap<String, String>,
    /// True while [`Model::observe_excusing_envelope`] runs.
    envelope_excused: bool,
    /// Judgements made on implementations' answers.
    checks: CheckCounts,
    /// True while [`Model::step`] judges an implementation's answer (false while the model
    /// answers itself): only then do checks count.
    judging: bool,
}

/// The response under check, or `None` when the model answers itself.
type Observed<'a, T> = Option<&'a Result<T, KinesisError>>;
/// The model's verdict: the admitted outcome, or the broken property.
type Verdict<T> = Result<Result<T, KinesisError>, Violation>;

impl Model {
    /// An account with no streams.
    pub fn new(config: ModelConfig) -> Self {
        Model {
            config,
            streams: BTreeMap::new(),
            iterators: HashMap::new(),
            listings: HashMap::new(),
            origins: HashMap::new(),
            next_incarnation: 1,
            next_token: 1,
            stream_arns: HashMap::new(),
            envelope_excused: false,
            checks: CheckCounts::default(),
            judging: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The stream named `name`, if the model believes it exists.
    pub fn stream(&self, name: &str) -> Option<&StreamState> {
        self.streams.get(name)
    }

    /// How many times each property was judged on an implementation's answer since this
    /// model was created (see [`CheckCounts`] for what counts). [`Model::answer`] and
    /// [`Model::adopt`] add nothing; a [`Model::observe`] that returns a violation has counted
    /// the failed check and those before it.
    pub fn checks(&self) -> &CheckCounts {
        &self.checks
    }

    /// Names of the streams the model believes exist.
    pub fn stream_names(&self) -> impl Iterator<Item = &str> {
        self.streams.keys().map(String::as_str)
    }

    /// Checks an implementation's `outcome` for `request`, issued within `window`; on success
    /// the model advances with the implementation's choices. Every check evaluated is counted
    /// in [`Model::checks`].
    ///
    /// On a violation the model is left as it was before the call, except for its check counts
    /// and two handlers that change state before a later check fails: PutRecord and PutRecords
    /// mark a CREATING stream ACTIVE before judging the answer, and PutRecords keeps the
    /// entries before the failing one appended; ListShards keeps what it learned from the
    /// shards listed before (and including) the failing one, and a complete listing consumes
    /// the pending UpdateShardCount target and the unconfirmed initial split before judging
    /// them. A driver that goes on after a violation restores a clone taken before the call
    /// (see [`Model::adopt`]).
    pub fn observe(
        &mut self,
        request: &Request,
        outcome: &Outcome,
        window: Window,
    ) -> Result<(), Violation> {
        self.step(request, Some(outcome), window).map(|_| ())
    }

    /// Answers `request` at time `now_ms` as a conforming service would, resolving every
    /// nondeterministic choice canonically (maximal pages, its own sequencer's numbers).
    pub fn answer(&mut self, request: &Request, now_ms: u64) -> Outcome {
        match self.step(request, None, Window::at(now_ms)) {
            Ok(outcome) => outcome,
            Err(violation) => Err(KinesisError::internal(format!(
                "reference model inconsistency: {violation}"
            ))),
        }
    }

    fn step(
        &mut self,
        request: &Request,
        observed: Option<&Outcome>,
        w: Window,
    ) -> Result<Outcome, Violation> {
        self.judging = observed.is_some();
        // Every answer is judged for shape: not malformed, and of the operation's reply type
        // (an unknown outcome is no answer).
        if !matches!(observed, Some(Err(e)) if e.kind.is_unknown_outcome()) {
            self.judged(Property::Format);
        }
        if let Some(Err(e)) = observed {
            if e.kind == ErrorKind::MalformedResponse {
                return Err(Violation::new(
                    Property::Format,
                    format!(
                        "{} answered with a malformed response: {}",
                        request.operation(),
                        e.message
                    ),
                ));
            }
        }
        macro_rules! route {
            ($handler:ident, $req:expr, $variant:ident) => {{
                let typed = match observed {
                    None => None,
                    Some(Err(e)) => Some(Err(e.clone())),
                    Some(Ok(Reply::$variant(r))) => Some(Ok(r.clone())),
                    Some(Ok(other)) => {
                        return Err(Violation::new(
                            Property::Format,
                            format!("{} answered with {other:?}", request.operation()),
                        ));
                    }
                };
                self.$handler($req, typed.as_ref(), w)
                    .map(|r| r.map(Reply::$variant))
            }};
        }
        macro_rules! route_unit {
            ($handler:ident, $req:expr) => {{
                let typed = match observed {
                    None => None,
                    Some(Err(e)) => Some(Err(e.clone())),
                    Some(Ok(_)) => Some(Ok(())),
                };
                self.$handler($req, typed.as_ref(), w)
                    .map(|r| r.map(|()| Reply::Done))
            }};
        }
        match request {
            Request::CreateStream(r) => route_unit!(create_stream, r),
            Request::DeleteStream(r) => route_unit!(delete_stream, r),
            Request::DescribeStreamSummary(r) => route!(describe_stream_summary, r, Summary),
            Request::ListShards(r) => route!(list_shards, r, Shards),
            Request::PutRecord(r) => route!(put_record, r, Put),
            Request::PutRecords(r) => route!(put_records, r, PutBatch),
            Request::GetShardIterator(r) => route!(get_shard_iterator, r, Iterator),
            Request::GetRecords(r) => route!(get_records, r, Records),
            Request::SplitShard(r) => route_unit!(split_shard, r),
            Request::MergeShards(r) => route_unit!(merge_shards, r),
            Request::UpdateShardCount(r) => route!(update_shard_count, r, ShardCount),
            Request::IncreaseStreamRetentionPeriod(r) => route_unit!(increase_retention, r),
            Request::DecreaseStreamRetentionPeriod(r) => route_unit!(decrease_retention, r),
            Request::Raw(r) => self.raw(r, observed, w),
        }
    }

    /// Judges an outcome when the model expects one of `expected`'s errors.
    fn expect_error<T>(
        &mut self,
        expected: ExpectedError,
        observed: Observed<T>,
        op: &str,
    ) -> Verdict<T> {
        if let Some(answer) = observed {
            // A tolerated error the model would not have admitted otherwise is not judged.
            if !matches!(answer, Err(e) if !expected.admissible.contains(&e.kind) && self.tolerated(e.kind))
            {
                self.judged(error_property(&expected));
            }
        }
        match observed {
            None => Ok(Err(expected.error)),
            Some(Err(e)) if expected.admissible.contains(&e.kind) || self.tolerated(e.kind) => {
                Ok(Err(e.clone()))
            }
            Some(Err(e)) => Err(Violation::new(
                error_property(&expected),
                format!(
                    "{op}: expected {} ({}), got {}: {}",
                    kinds(&expected.admissible),
                    expected.error.message,
                    e.kind,
                    e.message
                ),
            )),
            Some(Ok(_)) => Err(Violation::new(
                error_property(&expected),
                format!(
                    "{op}: expected {} ({}), but the request succeeded",
                    kinds(&expected.admissible),
                    expected.error.message
                ),
            )),
        }
    }

    /// Judges an error when the model expected success; `also` lists errors Kinesis may
    /// legitimately answer with here. `Ok(())` means "admitted, state unchanged".
    fn admit_error(
        &mut self,
        e: &KinesisError,
        also: &[ErrorKind],
        op: &str,
    ) -> Result<(), Violation> {
        if also.contains(&e.kind) || !self.tolerated(e.kind) {
            self.judged(Property::ErrorMapping);
        }
        if also.contains(&e.kind) || self.tolerated(e.kind) {
            Ok(())
        } else {
            Err(Violation::new(
                Property::ErrorMapping,
                format!("{op}: expected success, got {}: {}", e.kind, e.message),
            ))
        }
    }

    fn tolerated(&self, kind: ErrorKind) -> bool {
        kind.is_unknown_outcome()
            || (self.config.allow_transient_errors
                && matches!(
                    kind,
                    ErrorKind::ProvisionedThroughputExceededException | ErrorKind::InternalFailure
                ))
    }

    fn mint_token(&mut self, prefix: &str) -> String {
        let n = self.next_token;
        self.next_token += 1;
        format!("{prefix}-{n:08}")
    }

    /// Counts one judgement of `property` while an implementation's answer is being judged.
    fn judged(&mut self, property: Property) {
        if self.judging {
            self.checks.record(property);
        }
    }

    /// Checks P1's AWS layout, when required, for a number an implementation answered with.
    fn check_format(&mut self, seq: &SequenceNumber, context: &str) -> Result<(), Violation> {
        if !self.config.require_aws_layout {
            return Ok(());
        }
        self.judged(Property::Format);
        if crate::sequencer::SeqFormat::AwsV2.decode(seq).is_none() {
            return Err(Violation::new(
                Property::Format,
                format!("{context}: {seq} is not a 56-digit AWS-layout sequence number"),
            ));
        }
        Ok(())
    }

    fn stream_mut(&mut self, name: &str) -> Option<&mut StreamState> {
        self.streams.get_mut(name)
    }
}

/// The property a wrong answer to a request that must fail breaks.
fn error_property(expected: &ExpectedError) -> Property {
    match expected.admissible.as_slice() {
        [ErrorKind::ExpiredIteratorException] => Property::Expiry,
        [ErrorKind::ResourceInUseException] => Property::Status,
        _ => Property::ErrorMapping,
    }
}

fn kinds(list: &[ErrorKind]) -> String {
    list.iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(" or ")
}
