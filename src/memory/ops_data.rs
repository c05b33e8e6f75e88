//! The data plane of the embedded service: puts, iterators and reads.

use super::shard_log::{AppendError, NewRecord};
use super::token::IteratorToken;
use super::topology::Shard;
use super::{MemoryStream, StreamHandle};
use crate::api::*;
use crate::model::{ITERATOR_TTL_MS, MAX_GET_RECORDS_BYTES, MAX_PUT_RECORDS_BYTES};
use crate::sequencer::SequencerError;
use crate::types::{
    ACCOUNT_ID, HashKey, KinesisError, PartitionKey, SequenceNumber, ShardId, ShardIteratorType,
    StreamName,
};
use crate::validate;
use bytes::Bytes;

/// How often a put re-reads the shard map after racing a reshard before giving up.
const MAX_ROUTING_ATTEMPTS: usize = 10_000;

struct Routed {
    key: HashKey,
    record: NewRecord,
}

impl MemoryStream {
    fn resolve_keys(
        entries: Vec<(PartitionKey, Option<&str>, Bytes)>,
    ) -> Result<Vec<Routed>, KinesisError> {
        entries
            .into_iter()
            .map(|(pk, ehk, data)| {
                let key = match ehk {
                    Some(raw) => HashKey::parse_explicit(raw, "explicitHashKey")?,
                    None => pk.hash_key(),
                };
                Ok(Routed {
                    key,
                    record: NewRecord {
                        partition_key: pk.shared(),
                        data,
                    },
                })
            })
            .collect()
    }

    /// Appends one record to the open shard owning its key, re-routing if a reshard closed
    /// the shard in between.
    fn append_routed(
        &self,
        stream: &StreamHandle,
        routed: Routed,
        snfo: Option<&SequenceNumber>,
    ) -> Result<PutRecordResponse, KinesisError> {
        for _ in 0..MAX_ROUTING_ATTEMPTS {
            let topology = stream.topology.load();
            let stale = self.config.faults.writes_on_closed_shards;
            let shard = if stale {
                topology
                    .shards
                    .iter()
                    .find(|s| s.range.contains(routed.key))
            } else {
                topology.route(routed.key)
            };
            let Some(shard) = shard else {
                return Err(KinesisError::internal(format!(
                    "no open shard owns hash key {}",
                    routed.key
                )));
            };
            let mut seq = None;
            match shard.log.append(
                &*self.clock,
                self.config.faults,
                snfo,
                [routed.record.clone()],
                |s| seq = Some(s),
            ) {
                Ok(()) => {
                    let sequence_number =
                        seq.ok_or_else(|| KinesisError::internal("append assigned no number"))?;
                    return Ok(PutRecordResponse {
                        shard_id: shard.id,
                        sequence_number,
                    });
                }
                Err(AppendError::Closed) => std::thread::yield_now(),
                Err(AppendError::Sequencer(SequencerError::UndecodableOrderingNumber(n))) => {
                    return Err(KinesisError::invalid_argument(format!(
                        "ExclusiveMinimumSequenceNumber {n} used in PutRecord on stream {} under account {ACCOUNT_ID} is invalid.",
                        stream.name
                    )));
                }
                Err(AppendError::Sequencer(SequencerError::Exhausted)) => {
                    return Err(KinesisError::internal(
                        "the shard's sequence counter is exhausted",
                    ));
                }
            }
        }
        Err(KinesisError::internal(
            "the shard map kept changing during the put",
        ))
    }

    pub(super) fn put_record_impl(
        &self,
        req: &PutRecordRequest,
    ) -> Result<PutRecordResponse, KinesisError> {
        StreamName::parse(&req.stream_name)?;
        let ehk = req.explicit_hash_key.as_deref();
        let key = validate::record_shape(&req.partition_key, req.data.len(), ehk, "")?;
        let snfo = match &req.sequence_number_for_ordering {
            Some(raw) => Some(SequenceNumber::parse(raw, "sequenceNumberForOrdering")?),
            None => None,
        };
        let streams = self.streams.load();
        let stream = Self::borrow_stream(&streams, &req.stream_name)?;
        let routed = Self::resolve_keys(vec![(key, ehk, req.data.clone())])?
            .pop()
            .ok_or_else(|| KinesisError::internal("no entry"))?;
        self.append_routed(stream, routed, snfo.as_ref())
    }

    pub(super) fn put_records_impl(
        &self,
        req: &PutRecordsRequest,
    ) -> Result<PutRecordsResponse, KinesisError> {
        StreamName::parse(&req.stream_name)?;
        validate::batch_size(req.records.len())?;
        let mut entries = Vec::with_capacity(req.records.len());
        let mut total = 0usize;
        for (i, r) in req.records.iter().enumerate() {
            let path = format!("records.{}.member.", i + 1);
            let key = validate::record_shape(
                &r.partition_key,
                r.data.len(),
                r.explicit_hash_key.as_deref(),
                &path,
            )?;
            total += r.data.len() + r.partition_key.len();
            entries.push((key, r.explicit_hash_key.as_deref(), r.data.clone()));
        }
        let streams = self.streams.load();
        let stream = Self::borrow_stream(&streams, &req.stream_name)?;
        let routed = Self::resolve_keys(entries)?;
        if total > MAX_PUT_RECORDS_BYTES {
            return Err(KinesisError::invalid_argument(format!(
                "Records size exceeds 5 MB limit: {total} bytes in one PutRecords request."
            )));
        }
        let mut records = Vec::with_capacity(routed.len());
        for r in routed {
            records.push(Ok(self.append_routed(stream, r, None)?));
        }
        Ok(PutRecordsResponse {
            failed_record_count: 0,
            records,
        })
    }

    pub(super) fn get_shard_iterator_impl(
        &self,
        req: &GetShardIteratorRequest,
    ) -> Result<String, KinesisError> {
        StreamName::parse(&req.stream_name)?;
        let id = ShardId::parse(&req.shard_id, "shardId", &req.stream_name);
        if let Err(e) = &id {
            if e.kind == crate::types::ErrorKind::ValidationException {
                return Err(e.clone());
            }
        }
        let starting = match &req.starting_sequence_number {
            Some(raw) => Some(SequenceNumber::parse(raw, "startingSequenceNumber")?),
            None => None,
        };
        let kind = req.shard_iterator_type;
        if kind.needs_sequence_number() != starting.is_some() {
            return Err(KinesisError::invalid_argument(format!(
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and {}.",
                if starting.is_some() {
                    "also a StartingSequenceNumber"
                } else {
                    "no StartingSequenceNumber"
                }
            )));
        }
        let now = self.clock.now_ms();
        if kind == ShardIteratorType::AT_TIMESTAMP {
            match req.timestamp_ms {
                None => {
                    return Err(KinesisError::invalid_argument(
                        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                    ));
                }
                Some(t) if t > now => {
                    return Err(KinesisError::invalid_argument(format!(
                        "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {t}, currentTimestampInMillis: {now}"
                    )));
                }
                Some(_) => {}
            }
        }
        let stream = self.stream(&req.stream_name)?;
        let id = id?;
        let topology = stream.topology.load();
        let shard = topology
            .shard(id)
            .filter(|s| !is_expired(s, stream.trim_horizon_ms(now)))
            .ok_or_else(|| shard_not_found(&stream.name, id))?;
        let from = match (kind, starting) {
            (ShardIteratorType::AT_SEQUENCE_NUMBER, Some(n))
            | (ShardIteratorType::AFTER_SEQUENCE_NUMBER, Some(n)) => {
                self.check_owned(&stream, shard, &n)?;
                if kind == ShardIteratorType::AT_SEQUENCE_NUMBER {
                    n
                } else {
                    n.successor()
                }
            }
            (ShardIteratorType::LATEST, _) => shard.log.latest_position(),
            (ShardIteratorType::AT_TIMESTAMP, _) => {
                shard.log.position_at_time(req.timestamp_ms.unwrap_or(0))
            }
            _ => shard.start,
        };
        Ok(IteratorToken {
            stream: stream.name.clone(),
            incarnation: stream.incarnation,
            shard: id.index(),
            from,
            issued_ms: now,
        }
        .encode(self.secret))
    }

    /// Refuses a starting number that encodes another shard or no shard at all.
    fn check_owned(
        &self,
        stream: &StreamHandle,
        shard: &Shard,
        n: &SequenceNumber,
    ) -> Result<(), KinesisError> {
        if shard.log.owns(n) || *n == shard.start || shard.log.ending_sequence_number() == Some(*n)
        {
            return Ok(());
        }
        match self.config.seq_format.decode(n) {
            Some(f) => Err(KinesisError::invalid_argument(format!(
                "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a shard with {}",
                ShardId::new(f.shard_index.min(crate::types::MAX_SHARD_INDEX)),
                shard.id
            ))),
            None => Err(KinesisError::invalid_argument(format!(
                "StartingSequenceNumber {n} used in GetShardIterator on shard {} in stream {} under account {ACCOUNT_ID} is invalid.",
                shard.id, stream.name
            ))),
        }
    }

    pub(super) fn get_records_impl(
        &self,
        req: &GetRecordsRequest,
    ) -> Result<GetRecordsResponse, KinesisError> {
        let limit = validate::get_records_limit(req.limit)?;
        validate::iterator_shape(&req.shard_iterator)?;
        let token = IteratorToken::decode(self.secret, &req.shard_iterator)
            .ok_or_else(|| KinesisError::invalid_argument("Invalid ShardIterator."))?;
        let now = self.clock.now_ms();
        let lifetime = self
            .config
            .faults
            .iterator_lifetime_ms
            .unwrap_or(ITERATOR_TTL_MS);
        if now.saturating_sub(token.issued_ms) > lifetime
            && !self.config.faults.accept_expired_iterators
        {
            return Err(KinesisError::expired_iterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {now} which is further in the future than the tolerated delay of 300000 milliseconds.",
                token.issued_ms
            )));
        }
        let id = ShardId::new(token.shard.min(crate::types::MAX_SHARD_INDEX));
        let streams = self.streams.load();
        let stream = streams
            .get(&token.stream)
            .filter(|s| s.incarnation == token.incarnation)
            .ok_or_else(|| shard_not_found(&token.stream, id))?;
        let topology = stream.topology.load();
        let shard = topology
            .shard(id)
            .ok_or_else(|| shard_not_found(&stream.name, id))?;
        let page = shard.log.read(
            &token.from,
            stream.trim_horizon_ms(now),
            limit,
            MAX_GET_RECORDS_BYTES,
        );
        let millis_behind_latest = page.next_arrival_ms.map_or(0, |a| now.saturating_sub(a));
        if page.at_end && !self.config.faults.closed_shards_never_end {
            let child_shards = topology
                .children_of(id)
                .map(|c| ChildShard {
                    shard_id: c.id,
                    parent_shards: c.parent.into_iter().chain(c.adjacent_parent).collect(),
                    hash_key_range: c.range,
                })
                .collect();
            return Ok(GetRecordsResponse {
                records: page.records,
                next_shard_iterator: None,
                millis_behind_latest,
                child_shards,
            });
        }
        let from = page
            .records
            .last()
            .map_or(token.from, |r| r.sequence_number.successor());
        let next = IteratorToken {
            from,
            issued_ms: now,
            ..token
        }
        .encode(self.secret);
        Ok(GetRecordsResponse {
            records: page.records,
            next_shard_iterator: Some(next),
            millis_behind_latest,
            child_shards: Vec::new(),
        })
    }
}

/// A closed shard whose records have all passed the retention horizon.
pub(super) fn is_expired(shard: &Shard, horizon_ms: u64) -> bool {
    shard.closed_ms.get().is_some_and(|c| *c < horizon_ms)
        && shard.log.last_arrival_ms().is_none_or(|a| a < horizon_ms)
}

/// `Shard <id> in stream <s> under account <a> does not exist`
pub(super) fn shard_not_found(stream: &str, id: ShardId) -> KinesisError {
    KinesisError::not_found(format!(
        "Shard {id} in stream {stream} under account {ACCOUNT_ID} does not exist"
    ))
}
