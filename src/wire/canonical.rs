//! Canonical values in answers: services must spell shard ids, sequence numbers and hash keys
//! exactly as Kinesis does. Anything else is [`ErrorKind::MalformedResponse`] quoting the
//! offending text, never silently repaired.

use crate::types::{ErrorKind, KinesisError, SequenceNumber, ShardId, is_canonical_decimal};

/// The most decimal digits of a 128-bit hash key.
const HASH_KEY_DIGITS: usize = 39;

/// A malformed-response error about `field`.
pub fn malformed(field: &str, detail: impl std::fmt::Display) -> KinesisError {
    KinesisError::new(ErrorKind::MalformedResponse, format!("{field}: {detail}"))
}

/// A shard id as services must spell it (`shardId-` and 12 digits).
pub fn shard_id(raw: &str, field: &str) -> Result<ShardId, KinesisError> {
    ShardId::parse_canonical(raw)
        .ok_or_else(|| malformed(field, format!("'{raw}' is not a canonical shard id")))
}

/// A sequence number (`0|[1-9]\d{0,128}`).
pub fn sequence_number(raw: &str, field: &str) -> Result<SequenceNumber, KinesisError> {
    SequenceNumber::parse(raw, field)
        .map_err(|_| malformed(field, format!("'{raw}' is not a valid sequence number")))
}

/// A 128-bit hash key in canonical decimal.
pub fn hash_key(raw: &str, field: &str) -> Result<u128, KinesisError> {
    if !is_canonical_decimal(raw, HASH_KEY_DIGITS) {
        return Err(malformed(
            field,
            format!("'{raw}' is not a decimal hash key"),
        ));
    }
    raw.parse::<u128>()
        .map_err(|_| malformed(field, format!("'{raw}' exceeds 2^128 - 1")))
}
