//! Reading a raw request as the Kinesis front end does (kinesis-semantics §9.1): body, then
//! target, then member types, then required members; what passes becomes a typed
//! [`Request`].

use super::TARGET_PREFIX;
use super::members::{Members, entry_object, serialization};
use crate::api::*;
use crate::types::{ErrorKind, KinesisError, ShardIteratorType};
use serde_json::{Map, Value};

/// Every operation the front end knows.
const OPERATIONS: [&str; 13] = [
    "CreateStream",
    "DeleteStream",
    "DescribeStreamSummary",
    "ListShards",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "SplitShard",
    "MergeShards",
    "UpdateShardCount",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
];

/// How a request named its stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addressing {
    /// `StreamName`, as sent.
    pub stream_name: Option<String>,
    /// `StreamARN`, as sent (already checked to be a well-formed stream ARN).
    pub stream_arn: Option<String>,
}

/// A request the front end accepted: the typed request (its stream named by `StreamName`, or
/// by the name inside `StreamARN`) and how it was addressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The request, as the typed API carries it.
    pub request: Request,
    /// How the stream was named.
    pub addressing: Addressing,
}

/// A request the front end refuses: the error it answers with, and other error types Kinesis
/// may answer with instead where its documentation leaves the choice open (each such case
/// is listed in `docs/raw-requests.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The answer.
    pub error: KinesisError,
    /// Other admissible error types.
    pub also: Vec<ErrorKind>,
}

impl From<KinesisError> for Rejection {
    fn from(error: KinesisError) -> Self {
        Rejection {
            error,
            also: Vec::new(),
        }
    }
}

/// Reads `body` sent with `X-Amz-Target: target`.
pub fn decode_request(target: &str, body: &str) -> Result<Decoded, Rejection> {
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|op| OPERATIONS.contains(op));
    let unknown = || {
        KinesisError::new(
            ErrorKind::UnknownOperationException,
            format!("'{target}' is not an operation of {TARGET_PREFIX}"),
        )
    };
    if body.is_empty() {
        return Err(match operation {
            Some(_) => serialization("the request has no body"),
            None => unknown(),
        }
        .into());
    }
    let value: Value = serde_json::from_str(body)
        .map_err(|e| serialization(format!("the body is not JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(serialization("the body is not a JSON object").into());
    };
    let operation = operation.ok_or_else(unknown)?;
    decode_operation(operation, &object)
}

fn decode_operation(operation: &str, o: &Map<String, Value>) -> Result<Decoded, Rejection> {
    let mut m = Members::new(o, "");
    let name = m.string("StreamName")?;
    let arn = m.string("StreamARN")?;
    let addressing = Addressing {
        stream_name: name,
        stream_arn: arn,
    };
    let request = match operation {
        "CreateStream" => {
            let shards = m.integer("ShardCount")?;
            let name = m.required("StreamName", addressing.stream_name.clone());
            let shards = m.required("ShardCount", shards);
            finish(&m)?;
            Request::CreateStream(CreateStreamRequest {
                stream_name: name.unwrap_or_default(),
                shard_count: shards.unwrap_or_default(),
            })
        }
        "DeleteStream" => {
            finish(&m)?;
            Request::DeleteStream(StreamRequest {
                stream_name: stream(&addressing)?,
            })
        }
        "DescribeStreamSummary" => {
            finish(&m)?;
            Request::DescribeStreamSummary(StreamRequest {
                stream_name: stream(&addressing)?,
            })
        }
        "ListShards" => {
            let next_token = m.string("NextToken")?;
            let exclusive_start_shard_id = m.string("ExclusiveStartShardId")?;
            let max_results = m.integer("MaxResults")?;
            finish(&m)?;
            let stream_name = match (&addressing.stream_name, &addressing.stream_arn) {
                (None, None) => None,
                _ => Some(stream(&addressing)?),
            };
            Request::ListShards(ListShardsRequest {
                stream_name,
                next_token,
                exclusive_start_shard_id,
                max_results,
            })
        }
        "PutRecord" => {
            let data = m.blob("Data")?;
            let key = m.string("PartitionKey")?;
            let explicit_hash_key = m.string("ExplicitHashKey")?;
            let sequence_number_for_ordering = m.string("SequenceNumberForOrdering")?;
            let data = m.required("Data", data);
            let key = m.required("PartitionKey", key);
            finish(&m)?;
            Request::PutRecord(PutRecordRequest {
                stream_name: stream(&addressing)?,
                partition_key: key.unwrap_or_default(),
                data: data.unwrap_or_default(),
                explicit_hash_key,
                sequence_number_for_ordering,
            })
        }
        "PutRecords" => {
            let entries = m.list("Records")?;
            let mut records = Vec::new();
            for (i, entry) in entries.into_iter().flatten().enumerate() {
                let path = format!("records.{}.member", i + 1);
                let object = entry_object(entry, &path)?;
                let mut e = Members::new(object, path);
                let data = e.blob("Data")?;
                let key = e.string("PartitionKey")?;
                let explicit_hash_key = e.string("ExplicitHashKey")?;
                let data = e.required("Data", data);
                let key = e.required("PartitionKey", key);
                m.absorb(e);
                records.push(PutRecordsEntry {
                    partition_key: key.unwrap_or_default(),
                    data: data.unwrap_or_default(),
                    explicit_hash_key,
                });
            }
            m.required("Records", entries);
            finish(&m)?;
            Request::PutRecords(PutRecordsRequest {
                stream_name: stream(&addressing)?,
                records,
            })
        }
        "GetShardIterator" => {
            let shard = m.string("ShardId")?;
            let kind = m.string("ShardIteratorType")?;
            let starting_sequence_number = m.string("StartingSequenceNumber")?;
            let timestamp_ms = m.timestamp_ms("Timestamp")?;
            let shard = m.required("ShardId", shard);
            let kind = m.required("ShardIteratorType", kind);
            finish(&m)?;
            let shard_iterator_type = ShardIteratorType::parse(&kind.unwrap_or_default())?;
            Request::GetShardIterator(GetShardIteratorRequest {
                stream_name: stream(&addressing)?,
                shard_id: shard.unwrap_or_default(),
                shard_iterator_type,
                starting_sequence_number,
                timestamp_ms,
            })
        }
        "GetRecords" => {
            let iterator = m.string("ShardIterator")?;
            let limit = m.integer("Limit")?;
            let iterator = m.required("ShardIterator", iterator);
            finish(&m)?;
            Request::GetRecords(GetRecordsRequest {
                shard_iterator: iterator.unwrap_or_default(),
                limit,
            })
        }
        "SplitShard" => {
            let shard = m.string("ShardToSplit")?;
            let key = m.string("NewStartingHashKey")?;
            let shard = m.required("ShardToSplit", shard);
            let key = m.required("NewStartingHashKey", key);
            finish(&m)?;
            Request::SplitShard(SplitShardRequest {
                stream_name: stream(&addressing)?,
                shard_to_split: shard.unwrap_or_default(),
                new_starting_hash_key: key.unwrap_or_default(),
            })
        }
        "MergeShards" => {
            let a = m.string("ShardToMerge")?;
            let b = m.string("AdjacentShardToMerge")?;
            let a = m.required("ShardToMerge", a);
            let b = m.required("AdjacentShardToMerge", b);
            finish(&m)?;
            Request::MergeShards(MergeShardsRequest {
                stream_name: stream(&addressing)?,
                shard_to_merge: a.unwrap_or_default(),
                adjacent_shard_to_merge: b.unwrap_or_default(),
            })
        }
        "UpdateShardCount" => {
            let target = m.integer("TargetShardCount")?;
            let scaling = m.string("ScalingType")?;
            let target = m.required("TargetShardCount", target);
            let scaling = m.required("ScalingType", scaling);
            finish(&m)?;
            if let Some(s) = scaling.filter(|s| s != "UNIFORM_SCALING") {
                return Err(KinesisError::validation(
                    s,
                    "scalingType",
                    "Member must satisfy enum value set: [UNIFORM_SCALING]",
                )
                .into());
            }
            Request::UpdateShardCount(UpdateShardCountRequest {
                stream_name: stream(&addressing)?,
                target_shard_count: target.unwrap_or_default(),
            })
        }
        retention => {
            let hours = m.integer("RetentionPeriodHours")?;
            let hours = m.required("RetentionPeriodHours", hours);
            finish(&m)?;
            let req = RetentionRequest {
                stream_name: stream(&addressing)?,
                retention_period_hours: hours.unwrap_or_default(),
            };
            if retention == "IncreaseStreamRetentionPeriod" {
                Request::IncreaseStreamRetentionPeriod(req)
            } else {
                Request::DecreaseStreamRetentionPeriod(req)
            }
        }
    };
    Ok(Decoded {
        request,
        addressing,
    })
}

/// The `ValidationException` for missing required members, if any.
fn finish(m: &Members<'_>) -> Result<(), KinesisError> {
    m.missing_error().map_or(Ok(()), Err)
}

/// The stream a request names. Neither member given: `ValidationException` (Kinesis may
/// answer `InvalidArgumentException`; its documentation only says one of them is required).
/// Both given and naming different streams: `InvalidArgumentException` (or
/// `ResourceNotFoundException`: the documentation allows both members but does not say
/// which wins).
fn stream(a: &Addressing) -> Result<String, Rejection> {
    let from_arn = a.stream_arn.as_deref().map(parse_stream_arn).transpose()?;
    match (&a.stream_name, from_arn) {
        (None, None) => Err(Rejection {
            error: KinesisError::new(
                ErrorKind::ValidationException,
                "Either StreamName or StreamARN must be given",
            ),
            also: vec![ErrorKind::InvalidArgumentException],
        }),
        (Some(name), None) => Ok(name.clone()),
        (None, Some(name)) => Ok(name),
        (Some(name), Some(other)) if *name == other => Ok(other),
        (Some(name), Some(other)) => Err(Rejection {
            error: KinesisError::invalid_argument(format!(
                "StreamName '{name}' and StreamARN (stream '{other}') name different streams"
            )),
            also: vec![ErrorKind::ResourceNotFoundException],
        }),
    }
}

/// The stream name inside a stream ARN (`arn:aws…:kinesis:<region>:<12 digits>:stream/<name>`,
/// kinesis-semantics §5.1); anything else is a `ValidationException`.
pub fn parse_stream_arn(arn: &str) -> Result<String, KinesisError> {
    let invalid = || {
        KinesisError::validation(
            arn,
            "streamARN",
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        )
    };
    if arn.is_empty() || arn.len() > 2048 {
        return Err(invalid());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, _region, account, resource] = parts[..] else {
        return Err(invalid());
    };
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let name = resource.strip_prefix("stream/").unwrap_or_default();
    if scheme != "arn"
        || !partition.starts_with("aws")
        || service != "kinesis"
        || !account_ok
        || name.is_empty()
        || name.chars().any(char::is_whitespace)
    {
        return Err(invalid());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(target: &str, body: &str) -> Option<ErrorKind> {
        decode_request(target, body).err().map(|r| r.error.kind)
    }

    const PUT: &str = "Kinesis_20131202.PutRecord";

    #[test]
    fn the_front_end_checks_body_then_target_then_types_then_members() {
        assert_eq!(kind(PUT, ""), Some(ErrorKind::SerializationException));
        assert_eq!(
            kind("Kinesis_20131202.Nope", ""),
            Some(ErrorKind::UnknownOperationException)
        );
        assert_eq!(
            kind("Kinesis_20131202.Nope", "{"),
            Some(ErrorKind::SerializationException)
        );
        assert_eq!(
            kind("Kinesis_20131202.Nope", "{}"),
            Some(ErrorKind::UnknownOperationException)
        );
        for body in ["[]", "null", "{} x", "{\"StreamName\":"] {
            assert_eq!(
                kind(PUT, body),
                Some(ErrorKind::SerializationException),
                "{body}"
            );
        }
        assert_eq!(
            kind(PUT, r#"{"StreamName":"s","PartitionKey":5}"#),
            Some(ErrorKind::SerializationException)
        );
        assert_eq!(
            kind(PUT, r#"{"StreamName":"s","PartitionKey":"k"}"#),
            Some(ErrorKind::ValidationException)
        );
    }

    #[test]
    fn a_valid_body_becomes_the_typed_request() {
        let d = decode_request(
            PUT,
            r#"{"StreamName":"s","PartitionKey":"k","Data":"YQ==","Unknown":1,"ExplicitHashKey":null}"#,
        )
        .expect("valid");
        let Request::PutRecord(p) = d.request else {
            panic!("not a put");
        };
        assert_eq!((p.stream_name.as_str(), &p.data[..]), ("s", &b"a"[..]));
        assert_eq!(p.explicit_hash_key, None);
    }

    #[test]
    fn streams_may_be_named_by_arn() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
        let body = format!(r#"{{"StreamARN":"{arn}","PartitionKey":"k","Data":""}}"#);
        let d = decode_request(PUT, &body).expect("by arn");
        assert!(matches!(d.request, Request::PutRecord(ref p) if p.stream_name == "s"));
        assert_eq!(d.addressing.stream_arn.as_deref(), Some(arn));
        let both =
            format!(r#"{{"StreamName":"t","StreamARN":"{arn}","PartitionKey":"k","Data":""}}"#);
        assert_eq!(kind(PUT, &both), Some(ErrorKind::InvalidArgumentException));
        for bad in [
            "arn:aws:kinesis:r:123:stream/s",
            "arn:aws:sqs:r:000000000000:stream/s",
            "s",
        ] {
            assert!(parse_stream_arn(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::wire::{Identity, encode_request, serve};
    use proptest::prelude::*;

    /// Any JSON value, a few levels deep, with the member names requests use.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            let names = prop_oneof![
                Just("StreamName".to_owned()),
                Just("StreamARN".to_owned()),
                Just("Data".to_owned()),
                Just("PartitionKey".to_owned()),
                Just("Records".to_owned()),
                Just("ShardId".to_owned()),
                Just("ShardIteratorType".to_owned()),
                Just("Limit".to_owned()),
                "[A-Za-z]{1,8}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(names, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// No target and no body, JSON or not, makes the front end panic, and every answer
        /// it gives follows the envelope rules.
        #[test]
        fn the_front_end_answers_any_bytes(
            op in prop_oneof![Just("PutRecord"), Just("PutRecords"), Just("GetShardIterator"), Just("GetRecords"), Just("ListShards"), Just("Nope")],
            body in prop_oneof![json_value().prop_map(|v| v.to_string()), ".{0,40}"],
        ) {
            let target = crate::wire::target(op);
            let _ = decode_request(&target, &body);
            let reply = serve(&Identity::local(), &RawRequest { target, body }, |_| Ok(Reply::Done));
            prop_assert!(crate::wire::envelope_violations(&reply).is_empty(), "{reply:?}");
        }

        /// A typed request written by `encode_request` decodes to itself.
        #[test]
        fn encoded_puts_decode_to_themselves(key in ".{1,20}", data in proptest::collection::vec(any::<u8>(), 0..64), ehk in proptest::option::of(any::<u128>())) {
            let request = Request::PutRecord(PutRecordRequest {
                stream_name: "s".into(),
                partition_key: key,
                data: data.into(),
                explicit_hash_key: ehk.map(|k| k.to_string()),
                sequence_number_for_ordering: None,
            });
            let (target, body) = encode_request(&request).expect("typed");
            let decoded = decode_request(&target, &body.to_string()).expect("valid");
            prop_assert_eq!(decoded.request, request);
        }
    }
}
