//! PutRecord and PutRecords: routing, numbering, and appending to shard logs.

use super::state::{LoggedRecord, Window};
use super::{
    ExpectedError, MAX_DATA_BYTES, MAX_PUT_RECORDS_BYTES, MAX_PUT_RECORDS_ENTRIES, Model, Observed,
    Origin, Property, Verdict, Violation,
};
use crate::api::{
    ENTRY_ERROR_KINDS, PutRecordRequest, PutRecordResponse, PutRecordsRequest, PutRecordsResponse,
};
use crate::sequencer::SequencerError;
use crate::types::{
    ACCOUNT_ID, ErrorKind, HashKey, KinesisError, PartitionKey, SequenceNumber, ShardId,
    StreamName, StreamStatus, is_canonical_decimal,
};
use bytes::Bytes;
use std::collections::HashSet;

/// A validated record ready to be routed.
struct Entry {
    key: HashKey,
    partition_key: PartitionKey,
    data: Bytes,
}

/// Validated entries, the ordering number, and errors Kinesis may also answer with.
type PutPlan = (Vec<Entry>, Option<SequenceNumber>, Vec<ErrorKind>);

/// Raw fields of one record to put.
struct RawEntry<'a> {
    partition_key: &'a str,
    data: &'a Bytes,
    explicit_hash_key: Option<&'a str>,
    path: String,
}

impl Model {
    pub(super) fn put_record(
        &mut self,
        req: &PutRecordRequest,
        obs: Observed<PutRecordResponse>,
        w: Window,
    ) -> Verdict<PutRecordResponse> {
        let raw = RawEntry {
            partition_key: &req.partition_key,
            data: &req.data,
            explicit_hash_key: req.explicit_hash_key.as_deref(),
            path: String::new(),
        };
        let plan = self.plan_put(
            &req.stream_name,
            std::slice::from_ref(&raw),
            req.sequence_number_for_ordering.as_deref(),
        );
        let (mut entries, snfo, ambiguous) = match plan {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "PutRecord"),
        };
        let Some(entry) = entries.pop() else {
            return Ok(Err(KinesisError::internal("no entry")));
        };
        let observed = match obs {
            Some(Err(e)) => {
                self.admit_error(e, &ambiguous, "PutRecord")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(r)) => Some(*r),
            None => None,
        };
        self.append(
            &req.stream_name,
            entry,
            snfo.as_ref(),
            observed,
            w,
            "PutRecord",
            &mut HashSet::new(),
        )
    }

    pub(super) fn put_records(
        &mut self,
        req: &PutRecordsRequest,
        obs: Observed<PutRecordsResponse>,
        w: Window,
    ) -> Verdict<PutRecordsResponse> {
        let raws: Vec<RawEntry<'_>> = req
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| RawEntry {
                partition_key: &r.partition_key,
                data: &r.data,
                explicit_hash_key: r.explicit_hash_key.as_deref(),
                path: format!("records.{}.member.", i + 1),
            })
            .collect();
        let (entries, _, ambiguous) = match self.plan_batch(&req.stream_name, &raws) {
            Ok(p) => p,
            Err(e) => return self.expect_error(e, obs, "PutRecords"),
        };
        let observed = match obs {
            Some(Err(e)) => {
                self.admit_error(e, &ambiguous, "PutRecords")?;
                return Ok(Err(e.clone()));
            }
            Some(Ok(r)) => Some(r.clone()),
            None => None,
        };
        if let Some(resp) = &observed {
            self.judged(Property::PutRecordsShape);
            check_batch_shape(resp, entries.len(), self.config.allow_transient_errors)?;
        }
        let mut results = Vec::with_capacity(entries.len());
        let mut batch_shards = HashSet::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let chosen = match observed.as_ref().map(|r| &r.records[i]) {
                Some(Err(e)) => {
                    results.push(Err(e.clone()));
                    continue;
                }
                Some(Ok(r)) => Some(*r),
                None => None,
            };
            let context = format!("PutRecords entry {i}");
            match self.append(
                &req.stream_name,
                entry,
                None,
                chosen,
                w,
                &context,
                &mut batch_shards,
            )? {
                Ok(r) => results.push(Ok(r)),
                Err(e) => return Ok(Err(e)),
            }
        }
        let failed_record_count = results.iter().filter(|r| r.is_err()).count() as u32;
        Ok(Ok(PutRecordsResponse {
            failed_record_count,
            records: results,
        }))
    }

    fn plan_batch(&self, stream: &str, raws: &[RawEntry<'_>]) -> Result<PutPlan, ExpectedError> {
        if raws.is_empty() || raws.len() > MAX_PUT_RECORDS_ENTRIES {
            StreamName::parse(stream)?;
            let constraint = if raws.is_empty() {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 500"
            };
            return Err(KinesisError::validation(
                format!("[{} entries]", raws.len()),
                "records",
                constraint,
            )
            .into());
        }
        let total: usize = raws
            .iter()
            .map(|r| r.data.len() + r.partition_key.len())
            .sum();
        let plan = self.plan_put(stream, raws, None)?;
        if total > MAX_PUT_RECORDS_BYTES {
            // The 5 MiB request budget is not a shape constraint; which exception AWS answers
            // with is not recorded (kinesis-semantics §11.22).
            return Err(ExpectedError::any_of(
                // The model's own wording: AWS's message for this is not recorded.
                KinesisError::invalid_argument(format!(
                    "Records size exceeds 5 MB limit: {total} bytes in one PutRecords request."
                )),
                &[ErrorKind::ValidationException],
            ));
        }
        Ok(plan)
    }

    /// Validates entries in the service's order: shape first (ValidationException), then
    /// stream existence and explicit hash key range (either may be reported first).
    fn plan_put(
        &self,
        stream_name: &str,
        raws: &[RawEntry<'_>],
        snfo: Option<&str>,
    ) -> Result<PutPlan, ExpectedError> {
        StreamName::parse(stream_name)?;
        let mut entries = Vec::with_capacity(raws.len());
        let mut explicit = Vec::with_capacity(raws.len());
        let mut ambiguous = Vec::new();
        for raw in raws {
            let partition_key =
                PartitionKey::parse(raw.partition_key, &format!("{}partitionKey", raw.path))?;
            if raw.data.len() > MAX_DATA_BYTES {
                // Refused on a stream at the default MaxRecordSizeInKiB. The ValidationException
                // was recorded before the 2025 record-size change; since then the limit is the
                // stream's MaxRecordSizeInKiB, and which exception a default stream answers with
                // is not recorded (kinesis-semantics §5.2, §5.3, §11.17).
                return Err(ExpectedError::any_of(
                    KinesisError::validation(
                        format!(
                            "java.nio.HeapByteBuffer[pos=0 lim={} cap={}]",
                            raw.data.len(),
                            raw.data.len()
                        ),
                        &format!("{}data", raw.path),
                        "Member must have length less than or equal to 1048576",
                    ),
                    &[ErrorKind::InvalidArgumentException],
                ));
            }
            if raw.data.len() + raw.partition_key.len() > MAX_DATA_BYTES {
                // 1 MiB counts the key too in the docs but not in the shape (§11.22).
                ambiguous.extend([
                    ErrorKind::ValidationException,
                    ErrorKind::InvalidArgumentException,
                ]);
            }
            let mut ehk_value = raw.explicit_hash_key;
            if let Some(ehk) = raw.explicit_hash_key {
                if leading_zero_decimal(ehk) {
                    // The HashKey pattern is unanchored in the service model; whether Kinesis
                    // matches it against the whole string is an inference (§1.1), so a value
                    // with leading zeros may be refused or read as its numeric value.
                    ambiguous.push(ErrorKind::ValidationException);
                    ehk_value = Some(ehk.trim_start_matches('0'))
                        .map(|t| if t.is_empty() { "0" } else { t });
                } else if !is_canonical_decimal(ehk, 39) {
                    return Err(KinesisError::validation(
                        ehk,
                        &format!("{}explicitHashKey", raw.path),
                        "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                    )
                    .into());
                }
            }
            explicit.push(ehk_value);
            entries.push(Entry {
                key: partition_key.hash_key(),
                partition_key,
                data: raw.data.clone(),
            });
        }
        let ordering = match snfo {
            None => None,
            Some(s) if leading_zero_decimal(s) && s.len() <= SequenceNumber::MAX_DIGITS => {
                // Unanchored pattern (§1.1), as for explicit hash keys above.
                ambiguous.push(ErrorKind::ValidationException);
                let trimmed = s.trim_start_matches('0');
                Some(SequenceNumber::parse(
                    if trimmed.is_empty() { "0" } else { trimmed },
                    "sequenceNumberForOrdering",
                )?)
            }
            Some(s) => Some(SequenceNumber::parse(s, "sequenceNumberForOrdering")?),
        };
        // Second tier: semantic errors; when several apply, any of them may be reported.
        let mut semantic: Vec<KinesisError> = Vec::new();
        match self.streams.get(stream_name) {
            None => semantic.push(super::StreamState::not_found(stream_name)),
            Some(s) if s.status == StreamStatus::CREATING && !s.transition_pending => {
                semantic.push(super::StreamState::not_found(stream_name));
            }
            Some(s) if s.status == StreamStatus::CREATING || s.status == StreamStatus::DELETING => {
                ambiguous.push(ErrorKind::ResourceNotFoundException);
            }
            Some(_) => {}
        }
        for (entry, ehk) in entries.iter_mut().zip(explicit) {
            if let Some(ehk) = ehk {
                match HashKey::parse_explicit(ehk, "explicitHashKey") {
                    Ok(k) => entry.key = k,
                    Err(e) => semantic.push(e),
                }
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
        if let Some(n) = &ordering {
            if !self.origins.contains_key(n) {
                // Only numbers a service issued are sure to be accepted (§1.3, §11.3).
                ambiguous.push(ErrorKind::InvalidArgumentException);
            }
        }
        if self
            .streams
            .get(stream_name)
            .is_some_and(|s| s.reshape_target.is_some())
        {
            return Err(ExpectedError::exactly(KinesisError::internal(
                "the model needs a complete ListShards after UpdateShardCount before data operations",
            )));
        }
        Ok((entries, ordering, ambiguous))
    }

    /// Appends one routed record: with the implementation's answer when checking, with the
    /// model's own sequencer otherwise. `batch_shards` holds the shards earlier entries of the
    /// same PutRecords request were appended to (empty for PutRecord).
    #[allow(clippy::too_many_arguments)]
    fn append(
        &mut self,
        stream_name: &str,
        entry: Entry,
        snfo: Option<&SequenceNumber>,
        observed: Option<PutRecordResponse>,
        w: Window,
        context: &str,
        batch_shards: &mut HashSet<ShardId>,
    ) -> Verdict<PutRecordResponse> {
        let require_aws = self.config.require_aws_layout;
        let snfo_origin = snfo.and_then(|n| self.origins.get(n).copied());
        let judging = self.judging && observed.is_some();
        let checks = &mut self.checks;
        let mut judged = |p: Property| {
            if judging {
                checks.record(p);
            }
        };
        let Some(stream) = self.streams.get_mut(stream_name) else {
            return Ok(Err(super::StreamState::not_found(stream_name)));
        };
        if stream.status == StreamStatus::CREATING {
            stream.status = StreamStatus::ACTIVE;
            stream.transition_pending = false;
        }
        judged(Property::HashPartition);
        let Some(idx) = stream.route(entry.key) else {
            return Err(Violation::new(
                Property::HashPartition,
                format!("no open shard owns hash key {}", entry.key),
            ));
        };
        let parents_max = super::lifecycle::parents_last(stream, idx);
        let shard = &mut stream.shards[idx];
        let response = match observed {
            None => match shard.sequencer.next(w.mid() / 1000, snfo) {
                Ok(seq) => PutRecordResponse {
                    shard_id: shard.id,
                    sequence_number: seq,
                },
                Err(SequencerError::UndecodableOrderingNumber(n)) => {
                    return Ok(Err(KinesisError::invalid_argument(format!(
                        "ExclusiveMinimumSequenceNumber {n} used in PutRecord on stream {stream_name} under account {ACCOUNT_ID} is invalid."
                    ))));
                }
                Err(SequencerError::Exhausted) => {
                    return Ok(Err(KinesisError::internal(
                        "the shard's sequence counter is exhausted",
                    )));
                }
            },
            Some(r) => r,
        };
        let seq = response.sequence_number;
        judged(Property::Routing);
        if response.shard_id != shard.id {
            return Err(Violation::new(
                Property::Routing,
                format!(
                    "{context}: hash key {} belongs to {} but the record went to {}",
                    entry.key, shard.id, response.shard_id
                ),
            ));
        }
        if require_aws {
            judged(Property::Format);
            if crate::sequencer::SeqFormat::AwsV2.decode(&seq).is_none() {
                return Err(Violation::new(
                    Property::Format,
                    format!("{context}: {seq} is not a 56-digit AWS-layout number"),
                ));
            }
        }
        if let Some(last) = shard.last_seq() {
            judged(Property::ShardOrder);
            if batch_shards.contains(&shard.id) {
                // The previous record is an earlier entry of this request: the same comparison
                // judges P8 (a failure is reported as the stronger ShardOrder).
                judged(Property::BatchOrder);
            }
            if seq <= last {
                return Err(Violation::new(
                    Property::ShardOrder,
                    format!(
                        "{context}: {} got {seq}, not above its previous record {last}",
                        shard.id
                    ),
                ));
            }
        }
        if let Some(start) = shard.start {
            judged(Property::ShardOrder);
            if seq <= start {
                return Err(Violation::new(
                    Property::ShardOrder,
                    format!("{context}: {seq} is not above {}'s start {start}", shard.id),
                ));
            }
        }
        if let Some(p) = parents_max {
            judged(Property::CrossReshardOrder);
            if seq <= p {
                return Err(Violation::new(
                    Property::CrossReshardOrder,
                    format!(
                        "{context}: child {} got {seq}, not above its parents' number {p}",
                        shard.id
                    ),
                ));
            }
        }
        if let (Some(n), Some(origin)) = (snfo, snfo_origin) {
            // Judged only for an ordering number this shard issued (§1.3).
            if origin.incarnation == stream.incarnation && origin.shard == shard.id {
                judged(Property::OrderingNumber);
                if seq <= *n {
                    return Err(Violation::new(
                        Property::OrderingNumber,
                        format!(
                            "{context}: SequenceNumberForOrdering {n} but the record got {seq}"
                        ),
                    ));
                }
            }
        }
        judged(Property::Uniqueness);
        if !stream.issued.insert(seq) {
            return Err(Violation::new(
                Property::Uniqueness,
                format!("{context}: {seq} was already issued in stream {stream_name}"),
            ));
        }
        let shard = &mut stream.shards[idx];
        batch_shards.insert(shard.id);
        shard.log.push(LoggedRecord {
            seq,
            partition_key: entry.partition_key.shared(),
            data: entry.data,
            arrival: w,
        });
        self.origins.insert(
            seq,
            Origin {
                incarnation: stream.incarnation,
                shard: response.shard_id,
            },
        );
        Ok(Ok(response))
    }
}

fn check_batch_shape(
    resp: &PutRecordsResponse,
    expected: usize,
    transient_ok: bool,
) -> Result<(), Violation> {
    let shape = |d: String| Violation::new(Property::PutRecordsShape, d);
    if resp.records.len() != expected {
        return Err(shape(format!(
            "{} results for {expected} entries",
            resp.records.len()
        )));
    }
    let failed = resp.records.iter().filter(|r| r.is_err()).count();
    if failed != resp.failed_record_count as usize {
        return Err(shape(format!(
            "FailedRecordCount {} but {failed} entries failed",
            resp.failed_record_count
        )));
    }
    for (i, r) in resp.records.iter().enumerate() {
        if let Err(e) = r {
            if !ENTRY_ERROR_KINDS.contains(&e.kind) || !transient_ok {
                return Err(shape(format!(
                    "entry {i} failed with {}: {}",
                    e.kind, e.message
                )));
            }
        }
    }
    Ok(())
}

/// `0…0<digits>`: all digits with at least one superfluous leading zero.
pub(super) fn leading_zero_decimal(raw: &str) -> bool {
    raw.len() > 1 && raw.starts_with('0') && raw.bytes().all(|b| b.is_ascii_digit())
}
