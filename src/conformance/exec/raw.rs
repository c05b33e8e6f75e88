//! How the executor sends the raw-request family ([`RawOp`]) and reads back the shard each
//! request targeted: a request the front end must refuse may still have corrupted what is
//! stored, and the read-back catches that as the data bug it is.

use super::{Executor, Stop};
use crate::api::*;
use crate::conformance::ops::DataGen;
use crate::conformance::raw_ops::*;
use crate::types::{HashKey, ShardIteratorType};
use crate::wire::{encode_request, target};
use serde_json::{Value, json};

/// The partition key every raw body uses, so the shard it targets is known.
const RAW_KEY: &str = "user-0";

impl Executor<'_> {
    /// Sends `op` byte for byte and reads back the shard it targeted.
    pub(in crate::conformance) fn raw(&mut self, op: &RawOp) -> Result<(), Stop> {
        if !self.service.capabilities().raw_requests {
            self.skip_unsupported();
            return Ok(());
        }
        let Some((target, body, shard)) = self.raw_request(op)? else {
            return Ok(());
        };
        self.call(Request::Raw(RawRequest { target, body }))?;
        if let Some(shard) = shard {
            self.drain(0, &shard, None, None)?;
        }
        Ok(())
    }

    /// The target, body and targeted shard of `op`; `None` when a runtime value it needs
    /// (an iterator, the stream's ARN) could not be had.
    fn raw_request(
        &mut self,
        op: &RawOp,
    ) -> Result<Option<(String, String, Option<String>)>, Stop> {
        let put_target = target("PutRecord");
        let routed = self.routed_shard();
        let first = self
            .shard(0, &crate::conformance::ops::ShardRef::Known(0))
            .map(|s| s.shard_id.to_string());
        let mut put = self.put_body();
        let (target, body, shard) = match *op {
            RawOp::Missing(m) => match m {
                MissingMember::PutRecordData => (put_target, without(put, "Data"), routed),
                MissingMember::PutRecordPartitionKey => {
                    (put_target, without(put, "PartitionKey"), routed)
                }
                MissingMember::PutRecordStream => (put_target, without(put, "StreamName"), routed),
                MissingMember::PutRecordsRecords => (
                    target("PutRecords"),
                    json!({"StreamName": self.names[0]}),
                    routed,
                ),
                MissingMember::PutRecordsEntryPartitionKey => {
                    let mut batch = self.batch_body();
                    batch["Records"][1]
                        .as_object_mut()
                        .map(|e| e.remove("PartitionKey"));
                    (target("PutRecords"), batch, routed)
                }
                MissingMember::GetShardIteratorShardId => (
                    target("GetShardIterator"),
                    without(self.iterator_body(), "ShardId"),
                    first,
                ),
                MissingMember::GetShardIteratorType => (
                    target("GetShardIterator"),
                    without(self.iterator_body(), "ShardIteratorType"),
                    first,
                ),
                MissingMember::GetRecordsIterator => {
                    (target("GetRecords"), json!({"Limit": 1}), first)
                }
            },
            RawOp::WrongType(w) => match w {
                WrongType::PartitionKeyNumber => {
                    put["PartitionKey"] = json!(5);
                    (put_target, put, routed)
                }
                WrongType::DataNumber => {
                    put["Data"] = json!(12);
                    (put_target, put, routed)
                }
                WrongType::HashKeyNumber => {
                    put["ExplicitHashKey"] = json!(5);
                    (put_target, put, routed)
                }
                WrongType::StreamNameList => {
                    put["StreamName"] = json!([self.names[0]]);
                    (put_target, put, routed)
                }
                WrongType::RecordsObject => {
                    let mut batch = self.batch_body();
                    batch["Records"] = json!({});
                    (target("PutRecords"), batch, routed)
                }
                WrongType::EntryString => {
                    let mut batch = self.batch_body();
                    batch["Records"][1] = json!("entry");
                    (target("PutRecords"), batch, routed)
                }
                WrongType::LimitString => {
                    let Some(iterator) = self.fresh_iterator()? else {
                        return Ok(None);
                    };
                    (
                        target("GetRecords"),
                        json!({"ShardIterator": iterator, "Limit": "3"}),
                        first,
                    )
                }
                WrongType::IteratorTypeNumber => {
                    let mut body = self.iterator_body();
                    body["ShardIteratorType"] = json!(1);
                    (target("GetShardIterator"), body, first)
                }
            },
            RawOp::BadBase64(b) => {
                put["Data"] = json!(b.text());
                (put_target, put, routed)
            }
            RawOp::HashKeyNotDigits(d) => {
                put["ExplicitHashKey"] = json!(d.text());
                (put_target, put, routed)
            }
            RawOp::SequenceNotDigits(SequenceMember::Ordering, d) => {
                put["SequenceNumberForOrdering"] = json!(d.text());
                (put_target, put, routed)
            }
            RawOp::SequenceNotDigits(SequenceMember::Starting, d) => {
                let mut body = self.iterator_body();
                body["ShardIteratorType"] = json!(ShardIteratorType::AT_SEQUENCE_NUMBER.name());
                body["StartingSequenceNumber"] = json!(d.text());
                (target("GetShardIterator"), body, first)
            }
            RawOp::Arn(a) => {
                let Some(arn) = self.stream_arn()? else {
                    return Ok(None);
                };
                let missing_arn = arn.replace(
                    &format!("stream/{}", self.names[0]),
                    &format!("stream/{}-missing", self.names[0]),
                );
                let by_arn = |mut body: Value, arn: &str| {
                    body.as_object_mut().map(|o| o.remove("StreamName"));
                    body["StreamARN"] = json!(arn);
                    body
                };
                match a {
                    ArnAddressing::PutRecord => (put_target, by_arn(put, &arn), routed),
                    ArnAddressing::PutRecords => (
                        target("PutRecords"),
                        by_arn(self.batch_body(), &arn),
                        routed,
                    ),
                    ArnAddressing::GetShardIterator => (
                        target("GetShardIterator"),
                        by_arn(self.iterator_body(), &arn),
                        first,
                    ),
                    ArnAddressing::ListShards => {
                        (target("ListShards"), json!({"StreamARN": arn}), None)
                    }
                    ArnAddressing::DescribeStreamSummary => (
                        target("DescribeStreamSummary"),
                        json!({"StreamARN": arn}),
                        None,
                    ),
                    ArnAddressing::BothAgreeing => {
                        put["StreamARN"] = json!(arn);
                        (put_target, put, routed)
                    }
                    ArnAddressing::BothDisagreeing => {
                        put["StreamARN"] = json!(missing_arn);
                        (put_target, put, routed)
                    }
                    ArnAddressing::UnknownStream => (put_target, by_arn(put, &missing_arn), routed),
                    ArnAddressing::Malformed => (
                        put_target,
                        by_arn(put, "arn:aws:kinesis:no-account"),
                        routed,
                    ),
                }
            }
            RawOp::UnknownTarget(t) => {
                let target = match t {
                    UnknownTarget::Misspelt => target("PutRecordz"),
                    UnknownTarget::OtherVersion => "Kinesis_20131201.PutRecord".to_owned(),
                    UnknownTarget::NoPrefix => "PutRecord".to_owned(),
                };
                (target, put, routed)
            }
            RawOp::MalformedBody(m) => {
                let text = put.to_string();
                let body = match m {
                    MalformedBody::Truncated => text[..text.len() - 1].to_owned(),
                    MalformedBody::TrailingText => format!("{text} {text}"),
                    MalformedBody::Array => format!("[{text}]"),
                    MalformedBody::Null => "null".to_owned(),
                    MalformedBody::Empty => String::new(),
                };
                return Ok(Some((put_target, body, routed)));
            }
        };
        Ok(Some((target, body.to_string(), shard)))
    }

    /// A valid `PutRecord` body for slot 0 with [`RAW_KEY`] and a fresh payload.
    fn put_body(&mut self) -> Value {
        let data = self.data(&DataGen::Small(3), RAW_KEY);
        body_of(&Request::PutRecord(PutRecordRequest {
            stream_name: self.names[0].clone(),
            partition_key: RAW_KEY.into(),
            data,
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        }))
    }

    /// A valid two-entry `PutRecords` body for slot 0.
    fn batch_body(&mut self) -> Value {
        let records = (0..2)
            .map(|_| PutRecordsEntry {
                partition_key: RAW_KEY.into(),
                data: self.data(&DataGen::Small(3), RAW_KEY),
                explicit_hash_key: None,
            })
            .collect();
        body_of(&Request::PutRecords(PutRecordsRequest {
            stream_name: self.names[0].clone(),
            records,
        }))
    }

    /// A valid `GetShardIterator` (TRIM_HORIZON) body for the first known shard of slot 0.
    fn iterator_body(&self) -> Value {
        body_of(&Request::GetShardIterator(self.trim_horizon_request()))
    }

    fn trim_horizon_request(&self) -> GetShardIteratorRequest {
        GetShardIteratorRequest {
            stream_name: self.names[0].clone(),
            shard_id: self.shard_name(0, &crate::conformance::ops::ShardRef::Known(0)),
            shard_iterator_type: ShardIteratorType::TRIM_HORIZON,
            starting_sequence_number: None,
            timestamp_ms: None,
        }
    }

    /// An iterator the model can place: the latest one handed out, else a new TRIM_HORIZON
    /// iterator of the first shard.
    fn fresh_iterator(&mut self) -> Result<Option<String>, Stop> {
        if let Some(it) = self.iterators.last() {
            return Ok(Some(it.clone()));
        }
        let request = Request::GetShardIterator(self.trim_horizon_request());
        Ok(match self.send(request)? {
            Ok(Reply::Iterator(it)) if self.known_iterator(&it) => Some(it),
            _ => None,
        })
    }

    /// The ARN of slot 0's stream as the model learned it, asking the service (a raw
    /// `DescribeStreamSummary` by name) when it has not been seen yet.
    fn stream_arn(&mut self) -> Result<Option<String>, Stop> {
        let name = self.names[0].clone();
        if self.model.stream_arn(&name).is_none() {
            let body = json!({ "StreamName": name }).to_string();
            self.call(Request::Raw(RawRequest {
                target: target("DescribeStreamSummary"),
                body,
            }))?;
        }
        Ok(self.model.stream_arn(&name).map(str::to_owned))
    }

    /// The open shard of slot 0 that [`RAW_KEY`] routes to.
    fn routed_shard(&self) -> Option<String> {
        let key = HashKey::of_partition_key(RAW_KEY).0;
        self.open_shards(0)
            .into_iter()
            .find(|s| s.hash_key_range.start <= key && key <= s.hash_key_range.end)
            .map(|s| s.shard_id.to_string())
    }
}

/// The JSON body of a typed request.
fn body_of(request: &Request) -> Value {
    encode_request(request).map_or(Value::Null, |(_, body)| body)
}

/// `body` without member `name`.
fn without(mut body: Value, name: &str) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove(name);
    }
    body
}
