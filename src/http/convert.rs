//! Turning SDK output shapes into the crate's typed responses.
//!
//! The services must answer with canonical values (shard ids `shardId-` + 12 digits, decimal
//! sequence numbers and hash keys, non-negative counts). Anything else is reported as
//! [`ErrorKind::MalformedResponse`](crate::types::ErrorKind::MalformedResponse) quoting the
//! offending text, never silently repaired.

use crate::api::{ChildShard, PutRecordResponse, ShardDescription, StreamSummary};
use crate::types::{ErrorKind, HashKeyRange, KinesisError, Record, StreamStatus};
pub(crate) use crate::wire::{hash_key, malformed, sequence_number, shard_id};
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types as sdk;
use std::sync::Arc;

/// A required hash key range with `start <= end`.
fn hash_key_range(
    range: Option<&sdk::HashKeyRange>,
    field: &str,
) -> Result<HashKeyRange, KinesisError> {
    let range = range.ok_or_else(|| malformed(field, "missing"))?;
    let start = hash_key(
        &range.starting_hash_key,
        &format!("{field}.StartingHashKey"),
    )?;
    let end = hash_key(&range.ending_hash_key, &format!("{field}.EndingHashKey"))?;
    if start > end {
        return Err(malformed(
            field,
            format!("start {start} is above end {end}"),
        ));
    }
    Ok(HashKeyRange { start, end })
}

/// A count that must fit in `u32`.
pub(crate) fn count(value: i32, field: &str) -> Result<u32, KinesisError> {
    u32::try_from(value).map_err(|_| malformed(field, format!("negative count {value}")))
}

/// Milliseconds since the epoch of a timestamp at or after the epoch, rounded to the nearest
/// millisecond. JSON carries fractional epoch seconds with millisecond precision, which the SDK
/// parses through an `f64`: `1796174223.224` can arrive as `…223.2239999`, and truncating it
/// would put the record 1 ms before the time the service stamped (rounding gives it back).
fn epoch_ms(time: &DateTime, field: &str) -> Result<u64, KinesisError> {
    let bad = || malformed(field, format!("timestamp {time} is not a time after 1970"));
    let secs = u64::try_from(time.secs()).map_err(|_| bad())?;
    let ms = (u64::from(time.subsec_nanos()) + 500_000) / 1_000_000;
    secs.checked_mul(1000)
        .and_then(|s| s.checked_add(ms))
        .ok_or_else(bad)
}

/// The stream status; unknown values are malformed.
fn status(status: &sdk::StreamStatus) -> Result<StreamStatus, KinesisError> {
    match status {
        sdk::StreamStatus::Active => Ok(StreamStatus::ACTIVE),
        sdk::StreamStatus::Creating => Ok(StreamStatus::CREATING),
        sdk::StreamStatus::Deleting => Ok(StreamStatus::DELETING),
        sdk::StreamStatus::Updating => Ok(StreamStatus::UPDATING),
        other => Err(malformed(
            "StreamStatus",
            format!("unknown status '{}'", other.as_str()),
        )),
    }
}

/// `DescribeStreamSummary` output; `stream_name` is reported as the caller named it.
pub(crate) fn summary(
    desc: &sdk::StreamDescriptionSummary,
    stream_name: &str,
) -> Result<StreamSummary, KinesisError> {
    Ok(StreamSummary {
        stream_name: stream_name.to_owned(),
        status: status(&desc.stream_status)?,
        retention_period_hours: count(desc.retention_period_hours, "RetentionPeriodHours")?,
        open_shard_count: count(desc.open_shard_count, "OpenShardCount")?,
    })
}

/// One shard of `ListShards`.
pub(crate) fn shard(s: &sdk::Shard) -> Result<ShardDescription, KinesisError> {
    let range = s
        .sequence_number_range
        .as_ref()
        .ok_or_else(|| malformed("Shard.SequenceNumberRange", "missing"))?;
    Ok(ShardDescription {
        shard_id: shard_id(&s.shard_id, "Shard.ShardId")?,
        parent_shard_id: s
            .parent_shard_id
            .as_deref()
            .map(|p| shard_id(p, "Shard.ParentShardId"))
            .transpose()?,
        adjacent_parent_shard_id: s
            .adjacent_parent_shard_id
            .as_deref()
            .map(|p| shard_id(p, "Shard.AdjacentParentShardId"))
            .transpose()?,
        hash_key_range: hash_key_range(s.hash_key_range.as_ref(), "Shard.HashKeyRange")?,
        starting_sequence_number: sequence_number(
            &range.starting_sequence_number,
            "Shard.SequenceNumberRange.StartingSequenceNumber",
        )?,
        ending_sequence_number: range
            .ending_sequence_number
            .as_deref()
            .map(|e| sequence_number(e, "Shard.SequenceNumberRange.EndingSequenceNumber"))
            .transpose()?,
    })
}

/// One record of `GetRecords`.
pub(crate) fn record(r: &sdk::Record) -> Result<Record, KinesisError> {
    let arrival = r
        .approximate_arrival_timestamp
        .as_ref()
        .ok_or_else(|| malformed("Record.ApproximateArrivalTimestamp", "missing"))?;
    Ok(Record {
        sequence_number: sequence_number(&r.sequence_number, "Record.SequenceNumber")?,
        partition_key: Arc::from(r.partition_key.as_str()),
        data: bytes::Bytes::copy_from_slice(r.data.as_ref()),
        approximate_arrival_ms: epoch_ms(arrival, "Record.ApproximateArrivalTimestamp")?,
    })
}

/// One child shard of `GetRecords`.
pub(crate) fn child_shard(c: &sdk::ChildShard) -> Result<ChildShard, KinesisError> {
    Ok(ChildShard {
        shard_id: shard_id(&c.shard_id, "ChildShard.ShardId")?,
        parent_shards: c
            .parent_shards
            .iter()
            .map(|p| shard_id(p, "ChildShard.ParentShards"))
            .collect::<Result<_, _>>()?,
        hash_key_range: hash_key_range(c.hash_key_range.as_ref(), "ChildShard.HashKeyRange")?,
    })
}

/// Where a put record landed.
pub(crate) fn put_location(
    shard: &str,
    sequence: &str,
    field: &str,
) -> Result<PutRecordResponse, KinesisError> {
    Ok(PutRecordResponse {
        shard_id: shard_id(shard, &format!("{field}.ShardId"))?,
        sequence_number: sequence_number(sequence, &format!("{field}.SequenceNumber"))?,
    })
}

/// One entry of `PutRecords`: where it landed, or the error it failed with. The outer error
/// means the entry itself is malformed (neither a location nor an error code).
pub(crate) fn put_records_entry(
    e: &sdk::PutRecordsResultEntry,
) -> Result<Result<PutRecordResponse, KinesisError>, KinesisError> {
    if let Some(code) = e.error_code.as_deref() {
        let kind = ErrorKind::from_wire_name(code);
        let message = e.error_message.clone().unwrap_or_default();
        let message = match kind {
            ErrorKind::Other => format!("{code}: {message}"),
            _ => message,
        };
        return Ok(Err(KinesisError::new(kind, message)));
    }
    match (e.shard_id.as_deref(), e.sequence_number.as_deref()) {
        (Some(shard), Some(seq)) => put_location(shard, seq, "Records[]").map(Ok),
        _ => Err(malformed(
            "PutRecords.Records[]",
            "entry has neither ErrorCode nor both ShardId and SequenceNumber",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ShardId;

    #[test]
    fn fractional_seconds_round_to_the_millisecond_the_service_stamped() {
        // Every millisecond of one second, as the SDK parses JSON's fractional seconds.
        for ms in 0..1000u64 {
            let wire = 1_796_174_223.0 + ms as f64 / 1000.0;
            let time = DateTime::from_secs_f64(wire);
            assert_eq!(
                epoch_ms(&time, "t").ok(),
                Some(1_796_174_223_000 + ms),
                "{wire}"
            );
        }
        assert!(epoch_ms(&DateTime::from_secs(-1), "t").is_err());
    }

    #[test]
    fn malformed_values_quote_the_offending_text() {
        let e = shard_id("shard-7", "ShardId").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
        assert!(e.message.contains("'shard-7'"), "{e}");
        let e = sequence_number("0123", "SequenceNumber").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
        assert!(e.message.contains("'0123'"), "{e}");
        assert!(hash_key("340282366920938463463374607431768211456", "k").is_err());
        assert_eq!(
            hash_key("340282366920938463463374607431768211455", "k").unwrap(),
            u128::MAX
        );
        assert!(count(-1, "n").is_err());
    }

    #[test]
    fn entries_carry_either_a_location_or_an_error() {
        let ok = sdk::PutRecordsResultEntry::builder()
            .shard_id("shardId-000000000001")
            .sequence_number("49")
            .build();
        assert_eq!(
            put_records_entry(&ok).unwrap().unwrap().shard_id,
            ShardId::new(1)
        );
        let failed = sdk::PutRecordsResultEntry::builder()
            .error_code("ProvisionedThroughputExceededException")
            .error_message("Rate exceeded")
            .build();
        assert_eq!(
            put_records_entry(&failed).unwrap().unwrap_err().kind,
            ErrorKind::ProvisionedThroughputExceededException
        );
        let empty = sdk::PutRecordsResultEntry::builder().build();
        assert_eq!(
            put_records_entry(&empty).unwrap_err().kind,
            ErrorKind::MalformedResponse
        );
    }
}
