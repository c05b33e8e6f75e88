//! GetShardIterator and GetRecords: positions, paging, shard ends, expiry and trimming.

use super::lifecycle::is_expired;
use super::state::{LoggedRecord, ShardState, StreamState, Window};
use super::{
    ExpectedError, ITERATOR_TTL_MS, IteratorState, LATE_ITERATOR_USE_MS, MAX_GET_RECORDS_BYTES,
    MAX_GET_RECORDS_LIMIT, Model, Observed, Property, SHARD_END_WITHIN_EMPTY_PAGES, Verdict,
    Violation,
};
use crate::api::{GetRecordsRequest, GetRecordsResponse, GetShardIteratorRequest};
use crate::types::{
    ACCOUNT_ID, ErrorKind, KinesisError, Record, SequenceNumber, ShardId, ShardIteratorType,
    StreamName, StreamStatus,
};

/// A GetRecords call resolved against the model: the iterator and the records it may return.
struct Page {
    iterator: IteratorState,
    limit: usize,
    /// Untrimmed records at or after the iterator position, in order.
    available: Vec<LoggedRecord>,
    /// How many leading `available` records the implementation may skip (AT_TIMESTAMP with
    /// arrival times known only to a window).
    may_skip: usize,
    /// True when a record at or after the iterator position has expired (only then can a page
    /// return an expired record).
    trimmed: bool,
    shard_open: bool,
    /// True when the shard is closed, no record at all (trimmed or not) lies at or after the
    /// iterator position, and no reshard of the stream is still pending: an empty page here is
    /// at the shard's end and counts against [`SHARD_END_WITHIN_EMPTY_PAGES`].
    at_settled_end: bool,
    /// True when the iterator's age may lie on either side of its lifetime (within the clock
    /// tolerance): expired and unexpired answers are both admissible.
    expiry_ambiguous: bool,
    /// The least the iterator's age can be at this request (ms).
    age_min: u64,
    /// The most the iterator's age can be at this request (ms).
    age_max: u64,
}

impl Model {
    pub(super) fn get_shard_iterator(
        &mut self,
        req: &GetShardIteratorRequest,
        obs: Observed<String>,
        w: Window,
    ) -> Verdict<String> {
        let (iterator, ambiguous) = match self.plan_iterator(req, w) {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "GetShardIterator"),
        };
        let token = match obs {
            Some(Err(e)) => {
                self.admit_error(e, &ambiguous, "GetShardIterator")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(token)) => token.clone(),
            None => self.mint_token("model-iterator"),
        };
        self.remember_iterator(&token, iterator)?;
        Ok(Ok(token))
    }

    fn remember_iterator(&mut self, token: &str, iterator: IteratorState) -> Result<(), Violation> {
        self.judged(Property::Format);
        if token.is_empty() || token.len() > 512 {
            return Err(Violation::new(
                Property::Format,
                format!("iterator of length {} (must be 1..=512)", token.len()),
            ));
        }
        if self.iterators.contains_key(token) {
            self.judged(Property::Continuity);
        }
        let mut iterator = iterator;
        if let Some(known) = self.iterators.get(token) {
            let shard = self
                .streams
                .get(&known.stream)
                .and_then(|s| s.shard(known.shard));
            let position = |n: &SequenceNumber| shard.map(|sh| sh.position_of(n));
            // Deterministic tokens may encode a different but equivalent bound.
            let same_place = |a: &IteratorState, b: &IteratorState| {
                shard.is_some() && position(&a.from) == position(&b.from)
            };
            // An AT_TIMESTAMP position the model could only bound (arrival times it cannot
            // see exactly) may be the other iterator's exact position.
            let may_be = |uncertain: &IteratorState, exact: &IteratorState| {
                uncertain.start_by.is_some_and(|by| {
                    let p = position(&exact.from);
                    shard.is_some() && position(&uncertain.from) <= p && p <= position(&by)
                })
            };
            let same_shard =
                known.shard == iterator.shard && known.incarnation == iterator.incarnation;
            if same_shard && !same_place(known, &iterator) && may_be(&iterator, known) {
                // The same string names the same place: the new one is where the known one is.
                iterator = known.clone();
            } else if same_shard && !same_place(known, &iterator) && may_be(known, &iterator) {
                // The known one is resolved to the new exact position below.
            } else if !same_shard || !same_place(known, &iterator) {
                return Err(Violation::new(
                    Property::Continuity,
                    format!(
                        "the implementation handed out the same iterator string for two different positions: \
                         earlier it had to resume {} at {}, now it has to resume {} at {}; one of the two \
                         skips or repeats records",
                        known.shard, known.from, iterator.shard, iterator.from
                    ),
                ));
            }
        }
        self.iterators.insert(token.to_owned(), iterator);
        Ok(())
    }

    fn plan_iterator(
        &self,
        req: &GetShardIteratorRequest,
        w: Window,
    ) -> Result<(IteratorState, Vec<ErrorKind>), ExpectedError> {
        StreamName::parse(&req.stream_name)?;
        let shard_parse = ShardId::parse(&req.shard_id, "shardId", &req.stream_name);
        if let Err(e) = &shard_parse {
            if e.kind == ErrorKind::ValidationException {
                return Err(e.clone().into());
            }
        }
        let mut leading_zero = false;
        let starting = match &req.starting_sequence_number {
            None => None,
            Some(raw)
                if super::write::leading_zero_decimal(raw)
                    && raw.len() <= SequenceNumber::MAX_DIGITS =>
            {
                // Unanchored pattern (§1.1): the value may be refused or read numerically.
                leading_zero = true;
                let trimmed = raw.trim_start_matches('0');
                Some(SequenceNumber::parse(
                    if trimmed.is_empty() { "0" } else { trimmed },
                    "startingSequenceNumber",
                )?)
            }
            Some(raw) => Some(SequenceNumber::parse(raw, "startingSequenceNumber")?),
        };
        let kind = req.shard_iterator_type;
        let mut semantic: Vec<KinesisError> = Vec::new();
        let mut ambiguous = Vec::new();
        if leading_zero {
            ambiguous.push(ErrorKind::ValidationException);
        }
        match (kind.needs_sequence_number(), starting.is_some()) {
            (true, false) | (false, true) => semantic.push(KinesisError::invalid_argument(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {}.",
                if starting.is_some() { "also a StartingSequenceNumber" } else { "no StartingSequenceNumber" }
            ))),
            _ => {}
        }
        if kind == ShardIteratorType::AT_TIMESTAMP {
            match req.timestamp_ms {
                None => semantic.push(KinesisError::invalid_argument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                )),
                Some(t) if t > w.hi + self.config.clock_tolerance_ms => semantic.push(KinesisError::invalid_argument(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {t}, currentTimestampInMillis: {}",
                    w.hi
                ))),
                Some(t) if t > w.lo.saturating_sub(self.config.clock_tolerance_ms) => {
                    ambiguous.push(ErrorKind::InvalidArgumentException);
                }
                Some(_) => {}
            }
        }
        let stream = match self.streams.get(&req.stream_name) {
            Some(s) if s.status != StreamStatus::CREATING || s.transition_pending => Some(s),
            _ => {
                semantic.push(StreamState::not_found(&req.stream_name));
                None
            }
        };
        let mut shard: Option<&ShardState> = None;
        match (&shard_parse, stream) {
            (Err(e), _) => semantic.push(e.clone()),
            (Ok(id), Some(s)) => match s.shard(*id) {
                Some(sh) => {
                    // An expired shard may or may not still be known to the service (§6.5).
                    if is_expired(sh, s.trim_horizon_ms(w.mid())) {
                        ambiguous.push(ErrorKind::ResourceNotFoundException);
                    }
                    shard = Some(sh);
                }
                None => semantic.push(s.shard_not_found(*id)),
            },
            (Ok(_), None) => {}
        }
        if let (Some(n), Some(s), Some(sh)) = (&starting, stream, shard) {
            // A start or end number the model learned for another shard names that shard,
            // just as a record's number does (§3.2).
            let other_shard = s
                .shards
                .iter()
                .find(|o| o.id != sh.id && (o.start == Some(*n) || o.end == Some(*n)))
                .map(|o| o.id);
            match self.origins.get(n) {
                Some(o) if o.incarnation == s.incarnation && o.shard == sh.id => {}
                Some(o) => semantic.push(KinesisError::invalid_argument(format!(
                    "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                    o.shard, sh.id
                ))),
                None if sh.start == Some(*n) || sh.end == Some(*n) => {}
                None if other_shard.is_some() => {
                    semantic.push(KinesisError::invalid_argument(format!(
                        "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                        other_shard.map_or_else(String::new, |o| o.to_string()),
                        sh.id
                    )))
                }
                None => ambiguous.extend([ErrorKind::InvalidArgumentException, ErrorKind::InternalFailure]),
            }
        }
        if let Some(first) = semantic.first() {
            let others: Vec<ErrorKind> = semantic
                .iter()
                .map(|e| e.kind)
                .chain(ambiguous.iter().copied())
                .collect();
            return Err(ExpectedError::any_of(first.clone(), &others));
        }
        let (Some(stream), Some(shard)) = (stream, shard) else {
            return Err(KinesisError::internal("unreachable: stream and shard resolved").into());
        };
        let zero = SequenceNumber::default();
        let after_last = shard.last_seq().map_or(zero, |l| l.successor());
        let (from, start_by) = match (kind, starting, req.timestamp_ms) {
            (ShardIteratorType::AT_SEQUENCE_NUMBER, Some(n), _) => (n, None),
            (ShardIteratorType::AFTER_SEQUENCE_NUMBER, Some(n), _) => (n.successor(), None),
            (ShardIteratorType::AT_TIMESTAMP, _, Some(t)) => {
                let maybe = shard.log.iter().find(|r| r.arrival.hi >= t).map(|r| r.seq);
                let surely = shard.log.iter().find(|r| r.arrival.lo >= t).map(|r| r.seq);
                match maybe {
                    None => (after_last, None),
                    Some(m) => (m, Some(surely.unwrap_or(after_last)).filter(|s| *s != m)),
                }
            }
            (ShardIteratorType::LATEST, _, _) => (after_last, None),
            _ => (zero, None),
        };
        Ok((
            IteratorState {
                stream: stream.name.clone(),
                incarnation: stream.incarnation,
                shard: shard.id,
                from,
                start_by,
                issued: w,
                empty_pages_at_end: 0,
            },
            ambiguous,
        ))
    }

    pub(super) fn get_records(
        &mut self,
        req: &GetRecordsRequest,
        obs: Observed<GetRecordsResponse>,
        w: Window,
    ) -> Verdict<GetRecordsResponse> {
        let page = match self.plan_page(req, w) {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "GetRecords"),
        };
        let observed = match obs {
            Some(Err(e))
                if e.kind == ErrorKind::ExpiredIteratorException && !page.expiry_ambiguous =>
            {
                self.judged(Property::Expiry);
                return Err(Violation::new(
                    Property::Expiry,
                    format!(
                        "GetRecords: ExpiredIteratorException for an iterator issued {} to {} ms \
                         earlier; an iterator stays valid for {ITERATOR_TTL_MS} ms: {}",
                        page.age_min, page.age_max, e.message
                    ),
                ));
            }
            Some(Err(e)) => {
                let also: &[ErrorKind] = if page.expiry_ambiguous {
                    &[ErrorKind::ExpiredIteratorException]
                } else {
                    &[]
                };
                self.admit_error(e, also, "GetRecords")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(r)) => {
                // Not expired: evidence for P13 only late in the iterator's lifetime.
                if !page.expiry_ambiguous && page.age_min >= LATE_ITERATOR_USE_MS {
                    self.judged(Property::Expiry);
                }
                r.clone()
            }
            None => self.own_page(&page, w),
        };
        self.check_page(&page, &observed, w)?;
        Ok(Ok(observed))
    }

    fn plan_page(&self, req: &GetRecordsRequest, w: Window) -> Result<Page, ExpectedError> {
        let limit = match req.limit {
            None => MAX_GET_RECORDS_LIMIT as usize,
            Some(l) if (1..=MAX_GET_RECORDS_LIMIT).contains(&l) => l as usize,
            Some(l) => {
                let constraint = if l < 1 {
                    "Member must have value greater than or equal to 1"
                } else {
                    "Member must have value less than or equal to 10000"
                };
                // Docs say InvalidArgumentException, AWS answered ValidationException (§11.10).
                return Err(ExpectedError::any_of(
                    KinesisError::validation(l, "limit", constraint),
                    &[ErrorKind::InvalidArgumentException],
                ));
            }
        };
        if req.shard_iterator.is_empty() || req.shard_iterator.len() > 512 {
            return Err(KinesisError::validation(
                &req.shard_iterator,
                "shardIterator",
                "Member must have length between 1 and 512",
            )
            .into());
        }
        let Some(iterator) = self.iterators.get(&req.shard_iterator).cloned() else {
            return Err(KinesisError::invalid_argument("Invalid ShardIterator.").into());
        };
        let stream = match self.streams.get(&iterator.stream) {
            Some(s) if s.incarnation == iterator.incarnation => s,
            _ => {
                return Err(ExpectedError::any_of(
                    KinesisError::not_found(format!(
                        "Shard {} in stream {} under account {ACCOUNT_ID} does not exist",
                        iterator.shard, iterator.stream
                    )),
                    &[
                        ErrorKind::InvalidArgumentException,
                        ErrorKind::ExpiredIteratorException,
                    ],
                ));
            }
        };
        let tol = self.config.clock_tolerance_ms;
        let age_max = w.hi.saturating_sub(iterator.issued.lo);
        let age_min = w.lo.saturating_sub(iterator.issued.hi);
        if age_min > ITERATOR_TTL_MS + tol {
            return Err(KinesisError::expired_iterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of 300000 milliseconds.",
                iterator.issued.hi, w.lo
            ))
            .into());
        }
        let expiry_ambiguous = age_max + tol > ITERATOR_TTL_MS;
        let Some(shard) = stream.shard(iterator.shard) else {
            return Err(stream.shard_not_found(iterator.shard).into());
        };
        let horizon = stream.trim_horizon_ms(w.mid());
        let from_position = &shard.log[shard.position_of(&iterator.from)..];
        let available: Vec<LoggedRecord> = from_position
            .iter()
            .filter(|r| r.arrival.mid() >= horizon)
            .cloned()
            .collect();
        let trimmed = available.len() < from_position.len();
        let may_skip = match iterator.start_by {
            None => 0,
            Some(by) => available.iter().take_while(|r| r.seq < by).count(),
        };
        // While a reshard is pending the implementation may not have closed the shard yet
        // (kinesis-semantics §6.1).
        let at_settled_end =
            !shard.is_open() && from_position.is_empty() && !stream.transition_pending;
        Ok(Page {
            iterator,
            limit,
            available,
            may_skip,
            trimmed,
            shard_open: shard.is_open(),
            at_settled_end,
            expiry_ambiguous,
            age_min,
            age_max,
        })
    }

    fn own_page(&mut self, page: &Page, w: Window) -> GetRecordsResponse {
        let mut bytes = 0;
        let records: Vec<Record> = page
            .available
            .iter()
            .take(page.limit)
            .take_while(|r| {
                bytes += r.size();
                bytes <= MAX_GET_RECORDS_BYTES
            })
            .map(to_record)
            .collect();
        let rest = page.available.get(records.len());
        let stream = &self.streams[&page.iterator.stream];
        let (next_shard_iterator, child_shards) = if rest.is_none() && !page.shard_open {
            (None, stream.children_of(page.iterator.shard))
        } else {
            (Some(self.mint_token("model-iterator")), Vec::new())
        };
        let millis_behind_latest = rest.map_or(0, |r| w.mid().saturating_sub(r.arrival.mid()));
        GetRecordsResponse {
            records,
            next_shard_iterator,
            millis_behind_latest,
            child_shards,
        }
    }

    fn check_page(
        &mut self,
        page: &Page,
        resp: &GetRecordsResponse,
        w: Window,
    ) -> Result<(), Violation> {
        let it = &page.iterator;
        let tol = self.config.clock_tolerance_ms;
        if !resp.records.is_empty() {
            // The page starts at the iterator's position, its records follow each other within
            // Limit and 10 MiB, none has expired, and the first one was acknowledged.
            self.judged(Property::IteratorPosition);
            self.judged(Property::Continuity);
            if page.trimmed {
                self.judged(Property::Retention);
            }
            self.judged(Property::NoLoss);
        }
        let offset = match resp.records.first() {
            None => 0,
            Some(first) => match page
                .available
                .iter()
                .take(page.may_skip + 1)
                .position(|r| r.seq == first.sequence_number)
            {
                Some(k) => k,
                None => return Err(self.explain_mismatch(page, 0, first)),
            },
        };
        if resp.records.len() > page.limit {
            return Err(Violation::new(
                Property::Continuity,
                format!(
                    "{} records returned for Limit {}",
                    resp.records.len(),
                    page.limit
                ),
            ));
        }
        let mut bytes = 0usize;
        for (i, got) in resp.records.iter().enumerate() {
            if i > 0 {
                self.judged(Property::NoLoss);
            }
            let Some(want) = page.available.get(offset + i) else {
                return Err(self.explain_mismatch(page, offset + i, got));
            };
            if got.sequence_number != want.seq {
                return Err(self.explain_mismatch(page, offset + i, got));
            }
            if *got.partition_key != *want.partition_key || got.data != want.data {
                return Err(Violation::new(
                    Property::NoLoss,
                    format!(
                        "record {} came back with key {:?} and {} data bytes; it was put with key {:?} and {} bytes",
                        want.seq,
                        got.partition_key,
                        got.data.len(),
                        want.partition_key,
                        want.data.len()
                    ),
                ));
            }
            let t = got.approximate_arrival_ms;
            self.judged(Property::ArrivalTime);
            if t + tol < want.arrival.lo || t > want.arrival.hi + tol {
                return Err(Violation::new(
                    Property::ArrivalTime,
                    format!(
                        "record {} arrived at {t}, outside its put's window {}..={}",
                        want.seq, want.arrival.lo, want.arrival.hi
                    ),
                ));
            }
            bytes += want.size();
        }
        if bytes > MAX_GET_RECORDS_BYTES {
            return Err(Violation::new(
                Property::Continuity,
                format!("page of {bytes} bytes exceeds 10 MiB"),
            ));
        }
        let consumed = if resp.records.is_empty() {
            0
        } else {
            offset + resp.records.len()
        };
        let remaining = page.available.len() - consumed;
        // A null iterator only at the end of a closed shard, with its children; children only
        // with a null iterator.
        self.judged(Property::ShardEnd);
        // An empty page at the end of a closed shard is judged against the bound, too.
        let empty_at_end = resp.records.is_empty() && page.at_settled_end;
        if empty_at_end {
            self.judged(Property::ShardEnd);
        }
        let strict_tip = self.config.strict_millis_behind && page.shard_open && remaining == 0;
        let stream = &self.streams[&it.stream];
        match &resp.next_shard_iterator {
            None => {
                if page.shard_open {
                    return Err(Violation::new(
                        Property::ShardEnd,
                        format!("null NextShardIterator on open shard {}", it.shard),
                    ));
                }
                // An empty last page of an AT_TIMESTAMP iterator may have skipped the records
                // that may have arrived before its timestamp, as a non-empty page may.
                let skippable = if resp.records.is_empty() {
                    page.may_skip
                } else {
                    0
                };
                if remaining > skippable {
                    return Err(Violation::new(
                        Property::ShardEnd,
                        format!(
                            "null NextShardIterator on {} while record {} remains unread",
                            it.shard,
                            page.available[consumed + skippable].seq
                        ),
                    ));
                }
                let mut want = stream.children_of(it.shard);
                let mut got = resp.child_shards.clone();
                want.sort_by_key(|c| c.shard_id);
                got.sort_by_key(|c| c.shard_id);
                for c in &mut got {
                    c.parent_shards.sort();
                }
                for c in &mut want {
                    c.parent_shards.sort();
                }
                if want != got {
                    return Err(Violation::new(
                        Property::ShardEnd,
                        format!(
                            "end of {} reported children {got:?}; the model has {want:?}",
                            it.shard
                        ),
                    ));
                }
            }
            Some(token) => {
                if !resp.child_shards.is_empty() {
                    return Err(Violation::new(
                        Property::ShardEnd,
                        format!(
                            "ChildShards {:?} returned with a non-null NextShardIterator",
                            resp.child_shards
                        ),
                    ));
                }
                if strict_tip {
                    self.judged(Property::MillisBehind);
                }
                if strict_tip && resp.millis_behind_latest != 0 {
                    return Err(Violation::new(
                        Property::MillisBehind,
                        format!(
                            "MillisBehindLatest {} at the tip of open shard {}",
                            resp.millis_behind_latest, it.shard
                        ),
                    ));
                }
                let mut next = it.after_page(&resp.records, w);
                if empty_at_end {
                    next.empty_pages_at_end = end_within_bound(it)?;
                }
                self.remember_iterator(token, next)?;
            }
        }
        // Arrival times are now known exactly: narrow the windows.
        if let Some(stream) = self.streams.get_mut(&it.stream) {
            if let Some(shard) = stream.shards.get_mut(it.shard.index() as usize) {
                for got in &resp.records {
                    let i = shard.position_of(&got.sequence_number);
                    if let Some(r) = shard.log.get_mut(i) {
                        r.arrival = Window::at(
                            got.approximate_arrival_ms.clamp(r.arrival.lo, r.arrival.hi),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Names the property a wrong record at page index `at` breaks.
    fn explain_mismatch(&self, page: &Page, at: usize, got: &Record) -> Violation {
        let it = &page.iterator;
        let seq = got.sequence_number;
        let expected = page.available.get(at).map(|r| r.seq);
        let stream = &self.streams[&it.stream];
        let in_log = stream
            .shard(it.shard)
            .and_then(|s| s.log.get(s.position_of(&seq)).filter(|r| r.seq == seq));
        let want = expected.map_or("no record".to_owned(), |e| format!("record {e}"));
        match in_log {
            None => Violation::new(
                Property::NoLoss,
                format!(
                    "GetRecords on {} returned {seq}, which was never acknowledged in that shard (expected {want})",
                    it.shard
                ),
            ),
            Some(_) if seq < it.from => Violation::new(
                Property::IteratorPosition,
                format!(
                    "iterator positioned at or after {} returned earlier record {seq} (expected {want})",
                    it.from
                ),
            ),
            Some(_) if !page.available.iter().any(|r| r.seq == seq) => Violation::new(
                Property::Retention,
                format!(
                    "GetRecords returned {seq}, which is older than the retention period (expected {want})"
                ),
            ),
            Some(_) => match expected {
                Some(e) if e < seq => Violation::new(
                    Property::Continuity,
                    format!("GetRecords skipped record {e}: returned {seq} in its place"),
                ),
                _ => Violation::new(
                    Property::Continuity,
                    format!("GetRecords returned {seq} out of order (expected {want})"),
                ),
            },
        }
    }
}

fn to_record(r: &LoggedRecord) -> Record {
    Record {
        sequence_number: r.seq,
        partition_key: r.partition_key.clone(),
        data: r.data.clone(),
        approximate_arrival_ms: r.arrival.mid(),
    }
}

/// Judges an empty page with a non-null NextShardIterator read through `it` at the end of its
/// closed shard: admissible only while the chain has had fewer than
/// [`SHARD_END_WITHIN_EMPTY_PAGES`] empty pages there, this one included. Returns that count.
fn end_within_bound(it: &IteratorState) -> Result<u32, Violation> {
    let empty_pages = it.empty_pages_at_end.saturating_add(1);
    if empty_pages >= SHARD_END_WITHIN_EMPTY_PAGES {
        return Err(Violation::new(
            Property::ShardEnd,
            format!(
                "closed shard {} answered empty page {empty_pages} at or past its last \
                     record with a non-null NextShardIterator and no ChildShards; the end (a \
                     null NextShardIterator with ChildShards) must come on the last page with \
                     records or within {SHARD_END_WITHIN_EMPTY_PAGES} empty page(s) after it \
                     (kinesis-semantics §4.4, §11.11)",
                it.shard
            ),
        ));
    }
    Ok(empty_pages)
}
