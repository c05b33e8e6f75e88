//! Reading an HTTP answer back into a typed outcome, for the operation that was asked.
//! Values must be canonical (see [`super::canonical`]); a shape that does not fit the
//! operation's output is [`ErrorKind::MalformedResponse`].

use super::canonical::{hash_key, malformed, sequence_number, shard_id};
use super::members::decode_base64;
use crate::api::*;
use crate::types::{ErrorKind, HashKeyRange, KinesisError, Record, StreamStatus};
use serde_json::Value;
use std::sync::Arc;

/// The typed outcome of `reply`, an answer to `request` (a typed request; the operation
/// decides the output shape).
pub fn decode_reply(request: &Request, reply: &RawReply) -> Outcome {
    if !(200..300).contains(&reply.status) {
        return Err(decode_error(reply));
    }
    let op = request.operation();
    let json: Value = if reply.body.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(&reply.body)
            .map_err(|e| malformed(op, format!("body is not JSON: {e}")))?
    };
    let v = Field {
        value: &json,
        path: op.to_owned(),
    };
    Ok(match request {
        Request::DescribeStreamSummary(r) => {
            let s = v.member("StreamDescriptionSummary")?;
            Reply::Summary(StreamSummary {
                stream_name: r.stream_name.clone(),
                status: status(&s.member("StreamStatus")?.string()?, &s.path)?,
                retention_period_hours: s.member("RetentionPeriodHours")?.count()?,
                open_shard_count: s.member("OpenShardCount")?.count()?,
            })
        }
        Request::ListShards(_) => Reply::Shards(ListShardsResponse {
            shards: v
                .member("Shards")?
                .list()?
                .iter()
                .map(shard)
                .collect::<Result<_, _>>()?,
            next_token: v.optional("NextToken").map(|t| t.string()).transpose()?,
        }),
        Request::PutRecord(_) => Reply::Put(location(&v)?),
        Request::PutRecords(_) => {
            let records = v
                .member("Records")?
                .list()?
                .iter()
                .map(entry)
                .collect::<Result<Vec<_>, _>>()?;
            Reply::PutBatch(PutRecordsResponse {
                failed_record_count: v.member("FailedRecordCount")?.count()?,
                records,
            })
        }
        Request::GetShardIterator(_) => Reply::Iterator(v.member("ShardIterator")?.string()?),
        Request::GetRecords(_) => Reply::Records(GetRecordsResponse {
            records: v
                .member("Records")?
                .list()?
                .iter()
                .map(record)
                .collect::<Result<_, _>>()?,
            next_shard_iterator: v
                .optional("NextShardIterator")
                .map(|t| t.string())
                .transpose()?,
            millis_behind_latest: v
                .optional("MillisBehindLatest")
                .map(|m| m.integer())
                .transpose()?
                .unwrap_or(0),
            child_shards: match v.optional("ChildShards") {
                Some(c) => c.list()?.iter().map(child).collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
        }),
        Request::UpdateShardCount(_) => Reply::ShardCount(UpdateShardCountResponse {
            current_shard_count: v.member("CurrentShardCount")?.count()?,
            target_shard_count: v.member("TargetShardCount")?.count()?,
        }),
        Request::Raw(_) => Reply::Raw(reply.clone()),
        _ => Reply::Done,
    })
}

/// The error type and message an answer carries: the type from `X-Amzn-Errortype`, else the
/// body's `code`, else its `__type` (sanitised as the Smithy protocols prescribe; `None` when
/// absent or empty); the message from the body's `message` or `Message`.
pub fn error_parts(
    error_type_header: Option<&str>,
    body: &str,
) -> (Option<String>, Option<String>) {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let name = error_type_header
        .map(str::to_owned)
        .or_else(|| field("code"))
        .or_else(|| field("__type"))
        .map(|t| sanitize_error_type(&t).to_owned())
        .filter(|t| !t.is_empty());
    (name, field("message").or_else(|| field("Message")))
}

/// The error an error answer carries (see [`error_parts`]); an answer without a type is an
/// untyped server error (5xx) or an error of kind `Other` naming the status.
pub fn decode_error(reply: &RawReply) -> KinesisError {
    let (name, message) = error_parts(reply.error_type_header.as_deref(), &reply.body);
    let message = message.unwrap_or_default();
    match name {
        None if reply.status >= 500 => KinesisError::new(
            ErrorKind::UntypedServerError,
            format!(
                "HTTP {} without an error type: {}",
                reply.status, reply.body
            ),
        ),
        None => KinesisError::new(
            ErrorKind::Other,
            format!(
                "HTTP {} without an error type: {}",
                reply.status, reply.body
            ),
        ),
        Some(name) => {
            let kind = ErrorKind::from_wire_name(&name);
            let message = match kind {
                ErrorKind::Other => format!("{name}: {message}"),
                _ => message,
            };
            KinesisError::new(kind, message)
        }
    }
}

/// Strips what precedes the first `#` and what follows the first `:` of a wire error type
/// (`aws.protocoltests#FooError:http://…` → `FooError`), as the Smithy protocols prescribe.
pub fn sanitize_error_type(raw: &str) -> &str {
    let name = raw.split_once('#').map_or(raw, |(_, rest)| rest);
    name.split_once(':').map_or(name, |(head, _)| head).trim()
}

/// A JSON value with the path it was found at, for messages.
struct Field<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Field<'a> {
    fn optional(&self, name: &str) -> Option<Field<'a>> {
        self.value
            .get(name)
            .filter(|v| !v.is_null())
            .map(|value| Field {
                value,
                path: format!("{}.{name}", self.path),
            })
    }

    fn member(&self, name: &str) -> Result<Field<'a>, KinesisError> {
        self.optional(name)
            .ok_or_else(|| malformed(&format!("{}.{name}", self.path), "missing"))
    }

    fn string(&self) -> Result<String, KinesisError> {
        self.value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed(&self.path, format!("expected a string, got {}", self.value)))
    }

    fn integer(&self) -> Result<u64, KinesisError> {
        self.value
            .as_u64()
            .ok_or_else(|| malformed(&self.path, format!("expected a count, got {}", self.value)))
    }

    fn count(&self) -> Result<u32, KinesisError> {
        u32::try_from(self.integer()?)
            .map_err(|_| malformed(&self.path, format!("{} is too large", self.value)))
    }

    fn list(&self) -> Result<&'a Vec<Value>, KinesisError> {
        self.value
            .as_array()
            .ok_or_else(|| malformed(&self.path, format!("expected a list, got {}", self.value)))
    }

    fn at(value: &'a Value, path: &str) -> Field<'a> {
        Field {
            value,
            path: path.to_owned(),
        }
    }
}

fn status(raw: &str, path: &str) -> Result<StreamStatus, KinesisError> {
    match raw {
        "ACTIVE" => Ok(StreamStatus::ACTIVE),
        "CREATING" => Ok(StreamStatus::CREATING),
        "DELETING" => Ok(StreamStatus::DELETING),
        "UPDATING" => Ok(StreamStatus::UPDATING),
        other => Err(malformed(path, format!("unknown status '{other}'"))),
    }
}

fn range(v: &Field<'_>) -> Result<HashKeyRange, KinesisError> {
    let start = hash_key(&v.member("StartingHashKey")?.string()?, &v.path)?;
    let end = hash_key(&v.member("EndingHashKey")?.string()?, &v.path)?;
    if start > end {
        return Err(malformed(
            &v.path,
            format!("start {start} is above end {end}"),
        ));
    }
    Ok(HashKeyRange { start, end })
}

fn shard(value: &Value) -> Result<ShardDescription, KinesisError> {
    let v = Field::at(value, "Shard");
    let seqs = v.member("SequenceNumberRange")?;
    let id = |name: &str| -> Result<_, KinesisError> {
        v.optional(name)
            .map(|p| p.string().and_then(|s| shard_id(&s, &p.path)))
            .transpose()
    };
    Ok(ShardDescription {
        shard_id: shard_id(&v.member("ShardId")?.string()?, "Shard.ShardId")?,
        parent_shard_id: id("ParentShardId")?,
        adjacent_parent_shard_id: id("AdjacentParentShardId")?,
        hash_key_range: range(&v.member("HashKeyRange")?)?,
        starting_sequence_number: sequence_number(
            &seqs.member("StartingSequenceNumber")?.string()?,
            "Shard.SequenceNumberRange.StartingSequenceNumber",
        )?,
        ending_sequence_number: seqs
            .optional("EndingSequenceNumber")
            .map(|e| e.string().and_then(|s| sequence_number(&s, &e.path)))
            .transpose()?,
    })
}

fn location(v: &Field<'_>) -> Result<PutRecordResponse, KinesisError> {
    let shard = v.member("ShardId")?;
    let seq = v.member("SequenceNumber")?;
    Ok(PutRecordResponse {
        shard_id: shard_id(&shard.string()?, &shard.path)?,
        sequence_number: sequence_number(&seq.string()?, &seq.path)?,
    })
}

fn entry(value: &Value) -> Result<Result<PutRecordResponse, KinesisError>, KinesisError> {
    let v = Field::at(value, "PutRecords.Records[]");
    if let Some(code) = v.optional("ErrorCode") {
        let code = code.string()?;
        let message = v.optional("ErrorMessage").map(|m| m.string()).transpose()?;
        let kind = ErrorKind::from_wire_name(&code);
        let message = message.unwrap_or_default();
        let message = match kind {
            ErrorKind::Other => format!("{code}: {message}"),
            _ => message,
        };
        return Ok(Err(KinesisError::new(kind, message)));
    }
    location(&v).map(Ok)
}

fn record(value: &Value) -> Result<Record, KinesisError> {
    let v = Field::at(value, "Record");
    let seq = v.member("SequenceNumber")?;
    let data = v.member("Data")?;
    let arrival = v.member("ApproximateArrivalTimestamp")?;
    let secs = arrival
        .value
        .as_f64()
        .filter(|s| *s >= 0.0)
        .ok_or_else(|| {
            malformed(
                &arrival.path,
                format!("not epoch seconds: {}", arrival.value),
            )
        })?;
    Ok(Record {
        sequence_number: sequence_number(&seq.string()?, &seq.path)?,
        partition_key: Arc::from(v.member("PartitionKey")?.string()?.as_str()),
        data: decode_base64(&data.string()?).map_err(|why| malformed(&data.path, why))?,
        approximate_arrival_ms: (secs * 1000.0).round() as u64,
    })
}

fn child(value: &Value) -> Result<ChildShard, KinesisError> {
    let v = Field::at(value, "ChildShard");
    let id = v.member("ShardId")?;
    Ok(ChildShard {
        shard_id: shard_id(&id.string()?, &id.path)?,
        parent_shards: v
            .member("ParentShards")?
            .list()?
            .iter()
            .map(|p| {
                Field::at(p, "ChildShard.ParentShards")
                    .string()
                    .and_then(|s| shard_id(&s, "ChildShard.ParentShards"))
            })
            .collect::<Result<_, _>>()?,
        hash_key_range: range(&v.member("HashKeyRange")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{encode_outcome, encode_request};

    #[test]
    fn error_types_are_sanitised() {
        assert_eq!(
            sanitize_error_type("aws.protocoltests.restjson#FooError:http://internal.amazon.com/"),
            "FooError"
        );
        assert_eq!(
            sanitize_error_type("ValidationException"),
            "ValidationException"
        );
    }

    #[test]
    fn errors_take_the_header_before_the_body() {
        let reply = RawReply {
            status: 400,
            content_type: None,
            error_type_header: Some("ResourceNotFoundException:x".into()),
            body: r#"{"__type":"Other","Message":"m"}"#.into(),
        };
        let e = decode_error(&reply);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::ResourceNotFoundException, "m")
        );
        let untyped = RawReply {
            status: 502,
            error_type_header: None,
            body: "bad gateway".into(),
            ..reply
        };
        assert_eq!(decode_error(&untyped).kind, ErrorKind::UntypedServerError);
    }

    #[test]
    fn encoded_outcomes_read_back_unchanged() {
        use crate::types::{SequenceNumber, ShardId};
        let put = Request::PutRecord(PutRecordRequest {
            stream_name: "s".into(),
            partition_key: "k".into(),
            data: bytes::Bytes::from_static(b"x"),
            explicit_hash_key: None,
            sequence_number_for_ordering: None,
        });
        assert!(encode_request(&put).is_some());
        let outcome: Outcome = Ok(Reply::Put(PutRecordResponse {
            shard_id: ShardId::new(3),
            sequence_number: SequenceNumber::from_u128(42),
        }));
        let reply = encode_outcome(&outcome, |n| {
            format!("arn:aws:kinesis:r:000000000000:stream/{n}")
        });
        assert_eq!(decode_reply(&put, &reply), outcome);
        let err: Outcome = Err(KinesisError::invalid_argument("no"));
        assert_eq!(
            decode_reply(&put, &encode_outcome(&err, |_| String::new())),
            err
        );
    }
}
