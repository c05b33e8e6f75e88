//! Stream names and shard ids: validated on construction, so an invalid one cannot exist.

use super::error::KinesisError;
use std::fmt;

/// The account id used in messages of in-process implementations.
pub const ACCOUNT_ID: &str = "000000000000";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A stream name: 1..=128 characters from `[a-zA-Z0-9_.-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct StreamName(String);

impl StreamName {
    /// Validates `raw`; violations are the `ValidationException` the service answers with.
    pub fn parse(raw: &str) -> Result<Self, KinesisError> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(KinesisError::validation(
                raw,
                "streamName",
                "Member must have length greater than or equal to 1",
            ));
        }
        if len > 128 {
            return Err(KinesisError::validation(
                raw,
                "streamName",
                "Member must have length less than or equal to 128",
            ));
        }
        if !raw.chars().all(is_name_char) {
            return Err(KinesisError::validation(
                raw,
                "streamName",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            ));
        }
        Ok(StreamName(raw.to_owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The largest shard index a shard id can carry (`2^31 - 1`).
pub const MAX_SHARD_INDEX: u32 = i32::MAX as u32;

/// A shard id, canonically `shardId-` followed by the 12-digit zero-padded shard index.
///
/// Parsing is as lenient as Kinesis (kinesis-semantics §2.6): the index is the integer after the
/// last `-`; a non-numeric id is a `ResourceNotFoundException`, a shape violation a
/// `ValidationException`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(u32);

impl ShardId {
    /// The shard id with `index`. Indexes above [`MAX_SHARD_INDEX`] are clamped by callers.
    pub fn new(index: u32) -> Self {
        debug_assert!(index <= MAX_SHARD_INDEX);
        ShardId(index)
    }

    /// The shard's index in creation order.
    pub fn index(self) -> u32 {
        self.0
    }

    /// Parses a shard id argument in the named request field (for messages).
    pub fn parse(raw: &str, field: &str, stream: &str) -> Result<Self, KinesisError> {
        let len = raw.chars().count();
        if len == 0 || len > 128 {
            return Err(KinesisError::validation(
                raw,
                field,
                "Member must have length between 1 and 128",
            ));
        }
        if !raw.chars().all(is_name_char) {
            return Err(KinesisError::validation(
                raw,
                field,
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            ));
        }
        let digits = raw.rsplit('-').next().unwrap_or(raw);
        let not_found = || {
            KinesisError::not_found(format!(
                "Could not find shard {raw} in stream {stream} under account {ACCOUNT_ID}."
            ))
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_found());
        }
        match digits.parse::<u64>() {
            Ok(n) if n <= u64::from(MAX_SHARD_INDEX) => Ok(ShardId(n as u32)),
            _ => Err(not_found()),
        }
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shardId-{:012}", self.0)
    }
}

impl serde::Serialize for ShardId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ShardId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        ShardId::parse_canonical(&raw).ok_or_else(|| serde::de::Error::custom("bad shard id"))
    }
}

impl ShardId {
    /// Parses only the canonical form `shardId-` + 12 digits (what services must answer with).
    pub fn parse_canonical(raw: &str) -> Option<Self> {
        let digits = raw.strip_prefix("shardId-")?;
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = digits.parse().ok()?;
        (n <= u64::from(MAX_SHARD_INDEX)).then_some(ShardId(n as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn stream_name_limits() {
        assert!(StreamName::parse("a").is_ok());
        assert!(StreamName::parse(&"a".repeat(128)).is_ok());
        let too_long = StreamName::parse(&"a".repeat(129)).unwrap_err();
        assert_eq!(too_long.kind, ErrorKind::ValidationException);
        assert_eq!(
            StreamName::parse("").unwrap_err().kind,
            ErrorKind::ValidationException
        );
        assert_eq!(
            StreamName::parse("a b").unwrap_err().kind,
            ErrorKind::ValidationException
        );
    }

    #[test]
    fn shard_id_is_lenient_like_kinesis() {
        assert_eq!(ShardId::parse("shardId-5", "shardId", "s").unwrap(), ShardId(5));
        assert_eq!(ShardId::parse("7", "shardId", "s").unwrap(), ShardId(7));
        assert_eq!(ShardId(5).to_string(), "shardId-000000000005");
        assert_eq!(
            ShardId::parse("shardId-x", "shardId", "s").unwrap_err().kind,
            ErrorKind::ResourceNotFoundException
        );
        assert_eq!(
            ShardId::parse("shardId-2147483648", "shardId", "s")
                .unwrap_err()
                .kind,
            ErrorKind::ResourceNotFoundException
        );
        assert_eq!(
            ShardId::parse_canonical("shardId-000000000003"),
            Some(ShardId(3))
        );
        assert_eq!(ShardId::parse_canonical("shardId-3"), None);
    }
}
