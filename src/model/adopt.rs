//! Following an implementation past an answer the model rejected (a recorded divergence).

use super::state::{LoggedRecord, Window};
use super::{Model, Origin};
use crate::api::{
    GetRecordsRequest, GetRecordsResponse, ListShardsRequest, Outcome, PutRecordResponse, Reply,
    Request, SplitShardRequest,
};
use crate::types::{ErrorKind, SequenceNumber, ShardId, StreamStatus};
use bytes::Bytes;
use std::collections::HashMap;

/// What [`Model::adopt`] took over from the implementation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adopted {
    /// `false` when the outcome hands out an iterator the model cannot place: the iterator of
    /// an accepted GetShardIterator, or the NextShardIterator of a page read through an
    /// iterator the model does not know. Nothing read through such an iterator could be
    /// judged, so a driver must not use it again. `true` otherwise, including outcomes that
    /// carry no iterator.
    pub next_iterator_known: bool,
    /// How many acknowledged records were appended to the model's shard logs (accepted puts
    /// only); the model now expects each of them back.
    pub records_appended: usize,
}

impl Adopted {
    /// Nothing changed and no unknown iterator was handed out.
    pub(super) fn unchanged() -> Self {
        Adopted {
            next_iterator_known: true,
            records_appended: 0,
        }
    }

    /// Nothing changed, but the outcome's iterator is unknown to the model.
    fn unknown_iterator() -> Self {
        Adopted {
            next_iterator_known: false,
            records_appended: 0,
        }
    }
}

/// The implementation reached a state the model cannot represent: judging the rest of the case
/// against the model would be meaningless. The message says what the implementation did.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{reason}")]
pub struct Unrepresentable {
    /// The operation whose outcome could not be followed.
    pub operation: &'static str,
    /// What the implementation did that the model cannot follow, in a sentence.
    pub reason: String,
}

impl Model {
    /// Brings the model to the state the implementation observably reached by answering
    /// `request` (sent within `window`) with `outcome`, where the model can represent it.
    ///
    /// Meant for an outcome [`Model::observe`] rejected, applied to the model as it was
    /// before that call (a clone taken before it). Nothing is judged and no check is counted.
    /// Guarantees:
    ///
    /// - A definite error changes nothing (Kinesis errors are atomic): `Ok`, state unchanged.
    ///   An unknown outcome (no answer, an untyped 5xx, an unparsable answer) of a mutating
    ///   operation is [`Unrepresentable`]; of a read, `Ok` with nothing changed.
    /// - DescribeStreamSummary and ListShards answered `Ok`: state unchanged. A ListShards
    ///   NextToken stays unknown to the model. Two exceptions, where the model learns the shard
    ///   map from a listing: a listing during an UpdateShardCount is [`Unrepresentable`]; the
    ///   first complete listing of a new stream whose shards hold ranges other than the split
    ///   the model requires (kinesis-semantics §2.4) is taken over when it is one page from
    ///   the start, lists exactly the shards the stream was created with, none of them holds a
    ///   record yet, their ranges partition the space, and the listing is admissible in every
    ///   other respect with those ranges; otherwise it is [`Unrepresentable`] (an error
    ///   answer changes nothing, as everywhere).
    /// - GetShardIterator answered `Ok`: state unchanged, and the iterator stays unknown
    ///   ([`Adopted::next_iterator_known`] is `false`).
    /// - GetRecords answered with a page: when the request's iterator is known, the page's
    ///   NextShardIterator (if any) is registered on the same shard, right after the page's
    ///   last record (at the request iterator's position for an empty page), so following
    ///   the chain keeps being judged; otherwise it stays unknown. Logs are unchanged.
    /// - PutRecord / PutRecords answered `Ok`: every acknowledged record is appended to the
    ///   shard the implementation named, with its number, the request's key and data and
    ///   arrival window `window`, exactly as an admitted put records it (so a final read-back
    ///   expects it); entries answered with an error are skipped. All or nothing: the whole
    ///   answer is [`Unrepresentable`] when the stream or a named shard is unknown to the
    ///   model, a named shard is closed, a number does not exceed the shard's last number, a
    ///   number was already issued in the stream, or the entry count differs from the request.
    /// - Any other operation answered `Ok` (CreateStream, DeleteStream, SplitShard,
    ///   MergeShards, UpdateShardCount, retention changes): [`Unrepresentable`], saying what the
    ///   implementation did; the model is unchanged.
    ///
    /// On `Err` the model is unchanged.
    pub fn adopt(
        &mut self,
        request: &Request,
        outcome: &Outcome,
        window: Window,
    ) -> Result<Adopted, Unrepresentable> {
        self.judging = false;
        if let Request::Raw(raw) = request {
            return self.adopt_raw(raw, outcome, window);
        }
        let op = request.operation();
        let read_only = matches!(
            request,
            Request::DescribeStreamSummary(_)
                | Request::ListShards(_)
                | Request::GetShardIterator(_)
                | Request::GetRecords(_)
        );
        if let Request::ListShards(req) = request {
            // The model learns the outcome of UpdateShardCount from a complete listing, and
            // confirms the initial hash split there; a divergent one (an error included)
            // teaches it nothing, except a different initial split it can take over.
            let stream = req.stream_name.as_deref().and_then(|n| self.streams.get(n));
            if stream.is_some_and(|s| s.reshape_target.is_none() && s.initial_ranges_unconfirmed) {
                return self.adopt_initial_split(req, outcome, window);
            }
            if stream.is_some_and(|s| s.reshape_target.is_some()) {
                return Err(Unrepresentable {
                    operation: op,
                    reason: "the model learns the stream's shard map from this listing, which \
                             diverged"
                        .into(),
                });
            }
        }
        let reply = match outcome {
            Err(e) if !read_only && outcome_unknown(e.kind) => {
                return Err(Unrepresentable {
                    operation: op,
                    reason: format!(
                        "{op} had an unknown outcome ({}: {}); the implementation may or may not have applied it",
                        e.kind, e.message
                    ),
                });
            }
            Err(_) => return Ok(Adopted::unchanged()),
            Ok(reply) => reply,
        };
        match (request, reply) {
            (Request::DescribeStreamSummary(req), Reply::Summary(summary)) => {
                // A divergent count or retention does not hide that a pending transition
                // completed: the model follows an admissible move to ACTIVE, as observe does.
                if let Some(stream) = self.streams.get_mut(&req.stream_name) {
                    let may_settle = stream.transition_pending
                        && matches!(
                            stream.status,
                            StreamStatus::CREATING | StreamStatus::UPDATING
                        );
                    if summary.status == StreamStatus::ACTIVE && may_settle {
                        stream.status = StreamStatus::ACTIVE;
                        stream.transition_pending = false;
                    }
                }
                Ok(Adopted::unchanged())
            }
            (Request::DescribeStreamSummary(_), _) => Ok(Adopted::unchanged()),
            (Request::ListShards(_), _) => Ok(Adopted::unchanged()),
            (Request::GetShardIterator(_), _) => Ok(Adopted::unknown_iterator()),
            (Request::GetRecords(req), Reply::Records(page)) => {
                Ok(self.adopt_page(req, page, window))
            }
            (Request::GetRecords(_), _) => Ok(Adopted::unchanged()),
            (Request::PutRecord(req), Reply::Put(r)) => self.adopt_records(
                op,
                &req.stream_name,
                vec![(req.partition_key.as_str(), &req.data, *r)],
                window,
            ),
            (Request::PutRecords(req), Reply::PutBatch(batch)) => {
                if batch.records.len() != req.records.len() {
                    return Err(Unrepresentable {
                        operation: op,
                        reason: format!(
                            "PutRecords answered {} results for {} entries; the model cannot tell which entries the implementation stored",
                            batch.records.len(),
                            req.records.len()
                        ),
                    });
                }
                let acked = req
                    .records
                    .iter()
                    .zip(&batch.records)
                    .filter_map(|(entry, result)| {
                        let r = result.as_ref().ok()?;
                        Some((entry.partition_key.as_str(), &entry.data, *r))
                    })
                    .collect();
                self.adopt_records(op, &req.stream_name, acked, window)
            }
            (Request::PutRecord(_) | Request::PutRecords(_), other) => Err(Unrepresentable {
                operation: op,
                reason: format!(
                    "{op} answered with {other:?}; the model cannot tell which records the implementation stored"
                ),
            }),
            (Request::SplitShard(req), _) => match self.adopt_split(req, window) {
                Some(()) => Ok(Adopted::unchanged()),
                None => Err(self.cannot_follow(request, window)),
            },
            _ => Err(self.cannot_follow(request, window)),
        }
    }

    /// Takes over the initial split a divergent first listing of a new stream shows (see
    /// [`Model::adopt`]); on `Err` the model is unchanged.
    fn adopt_initial_split(
        &mut self,
        req: &ListShardsRequest,
        outcome: &Outcome,
        w: Window,
    ) -> Result<Adopted, Unrepresentable> {
        let fail = |reason: String| Unrepresentable {
            operation: "ListShards",
            reason,
        };
        let page = match outcome {
            Err(_) => return Ok(Adopted::unchanged()),
            Ok(Reply::Shards(page)) => page,
            Ok(other) => return Err(fail(format!("ListShards answered with {other:?}"))),
        };
        let from_the_start = req.next_token.is_none() && req.exclusive_start_shard_id.is_none();
        if !from_the_start || page.next_token.is_some() {
            return Err(fail(
                "the model confirms the stream's initial hash split from a complete listing, \
                 and this divergent listing is only part of one"
                    .into(),
            ));
        }
        let name = req.stream_name.as_deref().unwrap_or_default();
        let mut trial = self.clone();
        let Some(stream) = trial.streams.get_mut(name) else {
            return Err(fail(format!("the model knows no stream {name}")));
        };
        let created_with_stream =
            |s: &super::ShardState| s.parent.is_none() && s.adjacent_parent.is_none();
        let initial = stream
            .shards
            .iter()
            .filter(|s| created_with_stream(s))
            .count();
        if page.shards.len() != initial {
            return Err(fail(format!(
                "the stream was created with {initial} shards, the divergent listing shows {}",
                page.shards.len()
            )));
        }
        for listed in &page.shards {
            let shard = stream
                .shards
                .get_mut(listed.shard_id.index() as usize)
                .filter(|s| created_with_stream(s) && s.log.is_empty())
                .ok_or_else(|| {
                    fail(format!(
                        "{} is not a shard the stream was created with and that holds no record yet",
                        listed.shard_id
                    ))
                })?;
            shard.range = listed.hash_key_range;
        }
        stream.open_ranges_partition_the_space().map_err(|d| {
            fail(format!(
                "the listed initial ranges do not partition the hash key space: {d}"
            ))
        })?;
        stream.initial_ranges_unconfirmed = false;
        let checks = trial.checks.clone();
        let judged = trial.step(&Request::ListShards(req.clone()), Some(outcome), w);
        trial.checks = checks;
        trial.judging = false;
        if let Err(v) = judged {
            return Err(fail(format!(
                "the listing diverged in more than its initial hash split: {v}"
            )));
        }
        *self = trial;
        Ok(Adopted::unchanged())
    }

    /// Registers the NextShardIterator of a page read through a known iterator.
    fn adopt_page(
        &mut self,
        req: &GetRecordsRequest,
        page: &GetRecordsResponse,
        w: Window,
    ) -> Adopted {
        let Some(next) = &page.next_shard_iterator else {
            return Adopted::unchanged();
        };
        let Some(it) = self.iterators.get(&req.shard_iterator) else {
            return Adopted::unknown_iterator();
        };
        let state = it.after_page(&page.records, w);
        self.iterators.insert(next.clone(), state);
        Adopted::unchanged()
    }

    /// Appends acknowledged records (key, data, where they landed) to `stream_name`'s logs,
    /// all or none.
    fn adopt_records(
        &mut self,
        op: &'static str,
        stream_name: &str,
        acked: Vec<(&str, &Bytes, PutRecordResponse)>,
        w: Window,
    ) -> Result<Adopted, Unrepresentable> {
        let fail = |reason: String| Unrepresentable {
            operation: op,
            reason,
        };
        let Some(stream) = self.streams.get(stream_name) else {
            return Err(fail(format!(
                "{op} to stream {stream_name} was accepted, but the model knows no such stream; it cannot follow the implementation's set of streams"
            )));
        };
        let mut last: HashMap<usize, SequenceNumber> = HashMap::new();
        let mut planned = Vec::with_capacity(acked.len());
        for (key, data, r) in acked {
            let (id, seq) = (r.shard_id, r.sequence_number);
            let idx = id.index() as usize;
            let Some(shard) = stream.shard(id) else {
                return Err(fail(format!(
                    "{op} put record {seq} into {id}, a shard of {stream_name} the model does not know; it cannot follow the implementation's shard map"
                )));
            };
            if !shard.is_open() {
                return Err(fail(format!(
                    "{op} put record {seq} into {id}, which is closed in the model; it cannot append to a closed shard"
                )));
            }
            if let Some(prev) = last.get(&idx).copied().or_else(|| shard.last_seq()) {
                if seq <= prev {
                    return Err(fail(format!(
                        "{op} put record {seq} into {id}, not above the shard's last number {prev}; the model keeps each shard's log in number order"
                    )));
                }
            }
            // Two entries of one request in different shards may share a number (a
            // divergence in itself): each shard's log stays in order, which is all the model
            // needs; the shared number names no single shard any more (see below).
            last.insert(idx, seq);
            planned.push((
                idx,
                LoggedRecord {
                    seq,
                    partition_key: key.into(),
                    data: data.clone(),
                    arrival: w,
                },
            ));
        }
        let records_appended = planned.len();
        let Some(stream) = self.streams.get_mut(stream_name) else {
            return Err(fail(format!("{op}: stream {stream_name} vanished")));
        };
        if records_appended > 0 && stream.status == StreamStatus::CREATING {
            // As an admitted put does: a stream that accepts writes is active.
            stream.status = StreamStatus::ACTIVE;
            stream.transition_pending = false;
        }
        for (idx, record) in planned {
            let seq = record.seq;
            let shard = &mut stream.shards[idx];
            shard.log.push(record);
            if stream.issued.insert(seq) {
                self.origins.insert(
                    seq,
                    Origin {
                        incarnation: stream.incarnation,
                        shard: stream.shards[idx].id,
                    },
                );
            } else {
                // The implementation gave this number to records of two shards: it no longer
                // names one shard, so the model stops holding AT/AFTER_SEQUENCE_NUMBER requests
                // with it to a single origin.
                self.origins.remove(&seq);
            }
        }
        Ok(Adopted {
            next_iterator_known: true,
            records_appended,
        })
    }

    /// Follows a split Kinesis would refuse but whose effect is still a split of an open
    /// shard (e.g. at StartingHashKey + 1, below Kinesis's bound): the shard closes and its two
    /// children open, as for an admitted split. `None` when the effect is not a split the model
    /// can draw (an unknown or closed shard, a key outside the shard's range).
    fn adopt_split(&mut self, req: &SplitShardRequest, w: Window) -> Option<()> {
        let id = ShardId::parse(&req.shard_to_split, "shardToSplit", &req.stream_name).ok()?;
        let k: u128 = req.new_starting_hash_key.parse().ok()?;
        let stream = self.streams.get_mut(&req.stream_name)?;
        let idx = stream.shards.iter().position(|s| s.id == id)?;
        let shard = &stream.shards[idx];
        if !shard.is_open() || k <= shard.range.start || k > shard.range.end {
            return None;
        }
        super::reshard::apply_split(stream, idx, k, w, false);
        Some(())
    }

    /// Why an accepted lifecycle or resharding request cannot be followed.
    fn cannot_follow(&self, request: &Request, w: Window) -> Unrepresentable {
        let op = request.operation();
        let what = match request {
            Request::CreateStream(_) | Request::DeleteStream(_) => "set of streams",
            Request::IncreaseStreamRetentionPeriod(_)
            | Request::DecreaseStreamRetentionPeriod(_) => "retention and trimming",
            _ => "shard map",
        };
        let kinesis = match self.clone().answer(request, w.lo) {
            Err(e) => format!("was accepted where Kinesis rejects it with {}", e.kind),
            Ok(_) => "was answered differently from Kinesis".to_owned(),
        };
        Unrepresentable {
            operation: op,
            reason: format!("{op} {kinesis}; the model cannot follow the implementation's {what}"),
        }
    }
}

/// The request may or may not have taken effect.
fn outcome_unknown(kind: ErrorKind) -> bool {
    kind.is_unknown_outcome() || kind == ErrorKind::MalformedResponse
}
