//! Writing typed requests and outcomes as JSON 1.1 bodies (kinesis-semantics §9.1): blobs as
//! base64, timestamps as fractional epoch seconds, hash keys and sequence numbers as strings,
//! absent members left out (never `null`).

use super::members::encode_base64;
use super::{CONTENT_TYPE, target};
use crate::api::*;
use crate::types::{ErrorKind, HashKeyRange, KinesisError};
use serde_json::{Map, Value, json};

/// The target and body a client sends for `request`; `None` for a [`Request::Raw`], which is
/// already on the wire.
pub fn encode_request(request: &Request) -> Option<(String, Value)> {
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    match request {
        Request::CreateStream(r) => {
            put("StreamName", json!(r.stream_name));
            put("ShardCount", json!(r.shard_count));
        }
        Request::DeleteStream(r) | Request::DescribeStreamSummary(r) => {
            put("StreamName", json!(r.stream_name));
        }
        Request::ListShards(r) => {
            optional(&mut put, "StreamName", r.stream_name.as_ref());
            optional(&mut put, "NextToken", r.next_token.as_ref());
            optional(
                &mut put,
                "ExclusiveStartShardId",
                r.exclusive_start_shard_id.as_ref(),
            );
            optional(&mut put, "MaxResults", r.max_results.as_ref());
        }
        Request::PutRecord(r) => {
            put("StreamName", json!(r.stream_name));
            put("PartitionKey", json!(r.partition_key));
            put("Data", json!(encode_base64(&r.data)));
            optional(&mut put, "ExplicitHashKey", r.explicit_hash_key.as_ref());
            optional(
                &mut put,
                "SequenceNumberForOrdering",
                r.sequence_number_for_ordering.as_ref(),
            );
        }
        Request::PutRecords(r) => {
            put("StreamName", json!(r.stream_name));
            let entries: Vec<Value> = r
                .records
                .iter()
                .map(|e| {
                    let mut entry = json!({
                        "PartitionKey": e.partition_key,
                        "Data": encode_base64(&e.data),
                    });
                    if let Some(k) = &e.explicit_hash_key {
                        entry["ExplicitHashKey"] = json!(k);
                    }
                    entry
                })
                .collect();
            put("Records", Value::Array(entries));
        }
        Request::GetShardIterator(r) => {
            put("StreamName", json!(r.stream_name));
            put("ShardId", json!(r.shard_id));
            put("ShardIteratorType", json!(r.shard_iterator_type.name()));
            optional(
                &mut put,
                "StartingSequenceNumber",
                r.starting_sequence_number.as_ref(),
            );
            if let Some(ms) = r.timestamp_ms {
                put("Timestamp", epoch_seconds(ms));
            }
        }
        Request::GetRecords(r) => {
            put("ShardIterator", json!(r.shard_iterator));
            optional(&mut put, "Limit", r.limit.as_ref());
        }
        Request::SplitShard(r) => {
            put("StreamName", json!(r.stream_name));
            put("ShardToSplit", json!(r.shard_to_split));
            put("NewStartingHashKey", json!(r.new_starting_hash_key));
        }
        Request::MergeShards(r) => {
            put("StreamName", json!(r.stream_name));
            put("ShardToMerge", json!(r.shard_to_merge));
            put("AdjacentShardToMerge", json!(r.adjacent_shard_to_merge));
        }
        Request::UpdateShardCount(r) => {
            put("StreamName", json!(r.stream_name));
            put("TargetShardCount", json!(r.target_shard_count));
            put("ScalingType", json!("UNIFORM_SCALING"));
        }
        Request::IncreaseStreamRetentionPeriod(r) | Request::DecreaseStreamRetentionPeriod(r) => {
            put("StreamName", json!(r.stream_name));
            put("RetentionPeriodHours", json!(r.retention_period_hours));
        }
        Request::Raw(_) => return None,
    }
    Some((target(request.operation()), Value::Object(body)))
}

fn optional<T: serde::Serialize>(put: &mut impl FnMut(&str, Value), key: &str, v: Option<&T>) {
    if let Some(v) = v {
        put(key, json!(v));
    }
}

/// Milliseconds since the epoch as fractional epoch seconds.
fn epoch_seconds(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn range(r: &HashKeyRange) -> Value {
    json!({"StartingHashKey": r.start.to_string(), "EndingHashKey": r.end.to_string()})
}

/// The HTTP answer a service sends for `outcome`; `stream_arn` is the ARN a summary reports.
/// An unknown outcome (which no service answers with) is written as `InternalFailure`.
pub fn encode_outcome(outcome: &Outcome, stream_arn: impl Fn(&str) -> String) -> RawReply {
    let body = match outcome {
        Err(e) => return encode_error(e),
        Ok(Reply::Raw(raw)) => return raw.clone(),
        Ok(Reply::Done) => String::new(),
        Ok(Reply::Summary(s)) => json!({"StreamDescriptionSummary": {
            "StreamName": s.stream_name,
            "StreamARN": stream_arn(&s.stream_name),
            "StreamStatus": s.status.name(),
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "RetentionPeriodHours": s.retention_period_hours,
            "EnhancedMonitoring": [],
            "EncryptionType": "NONE",
            "OpenShardCount": s.open_shard_count,
            "ConsumerCount": 0,
        }})
        .to_string(),
        Ok(Reply::Shards(page)) => {
            let mut body = json!({"Shards": page.shards.iter().map(shard).collect::<Vec<_>>()});
            if let Some(t) = &page.next_token {
                body["NextToken"] = json!(t);
            }
            body.to_string()
        }
        Ok(Reply::Put(p)) => json!({
            "ShardId": p.shard_id.to_string(),
            "SequenceNumber": p.sequence_number.to_string(),
            "EncryptionType": "NONE",
        })
        .to_string(),
        Ok(Reply::PutBatch(b)) => json!({
            "FailedRecordCount": b.failed_record_count,
            "Records": b.records.iter().map(|r| match r {
                Ok(p) => json!({"ShardId": p.shard_id.to_string(), "SequenceNumber": p.sequence_number.to_string()}),
                Err(e) => json!({"ErrorCode": e.kind.name(), "ErrorMessage": e.message}),
            }).collect::<Vec<_>>(),
            "EncryptionType": "NONE",
        })
        .to_string(),
        Ok(Reply::Iterator(it)) => json!({"ShardIterator": it}).to_string(),
        Ok(Reply::Records(page)) => {
            let records: Vec<Value> = page
                .records
                .iter()
                .map(|r| {
                    json!({
                        "SequenceNumber": r.sequence_number.to_string(),
                        "ApproximateArrivalTimestamp": epoch_seconds(r.approximate_arrival_ms),
                        "Data": encode_base64(&r.data),
                        "PartitionKey": &*r.partition_key,
                    })
                })
                .collect();
            let mut body = json!({"Records": records, "MillisBehindLatest": page.millis_behind_latest});
            if let Some(next) = &page.next_shard_iterator {
                body["NextShardIterator"] = json!(next);
            }
            if !page.child_shards.is_empty() {
                body["ChildShards"] = Value::Array(
                    page.child_shards
                        .iter()
                        .map(|c| {
                            json!({
                                "ShardId": c.shard_id.to_string(),
                                "ParentShards": c.parent_shards.iter().map(ToString::to_string).collect::<Vec<_>>(),
                                "HashKeyRange": range(&c.hash_key_range),
                            })
                        })
                        .collect(),
                );
            }
            body.to_string()
        }
        Ok(Reply::ShardCount(c)) => json!({
            "CurrentShardCount": c.current_shard_count,
            "TargetShardCount": c.target_shard_count,
        })
        .to_string(),
    };
    RawReply {
        status: 200,
        content_type: Some(CONTENT_TYPE.to_owned()),
        error_type_header: None,
        body,
    }
}

fn shard(s: &ShardDescription) -> Value {
    let mut v = json!({
        "ShardId": s.shard_id.to_string(),
        "HashKeyRange": range(&s.hash_key_range),
        "SequenceNumberRange": {"StartingSequenceNumber": s.starting_sequence_number.to_string()},
    });
    if let Some(p) = s.parent_shard_id {
        v["ParentShardId"] = json!(p.to_string());
    }
    if let Some(p) = s.adjacent_parent_shard_id {
        v["AdjacentParentShardId"] = json!(p.to_string());
    }
    if let Some(end) = s.ending_sequence_number {
        v["SequenceNumberRange"]["EndingSequenceNumber"] = json!(end.to_string());
    }
    v
}

/// An error answer: HTTP 400 (500 for an internal failure) with `__type` and `message`.
fn encode_error(e: &KinesisError) -> RawReply {
    let kind = if e.kind.is_unknown_outcome() || e.kind == ErrorKind::MalformedResponse {
        ErrorKind::InternalFailure
    } else {
        e.kind
    };
    RawReply {
        status: kind.http_status(),
        content_type: Some(CONTENT_TYPE.to_owned()),
        error_type_header: None,
        body: json!({"__type": kind.name(), "message": e.message}).to_string(),
    }
}
