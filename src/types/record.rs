//! Records as readers see them, iterator types and stream statuses.

use super::error::KinesisError;
use super::sequence_number::SequenceNumber;
use bytes::Bytes;
use std::fmt;
use std::sync::Arc;

/// A record as GetRecords returns it. Cloning is cheap (shared key and payload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The number the service assigned at put time.
    pub sequence_number: SequenceNumber,
    /// The partition key the record was put with.
    pub partition_key: Arc<str>,
    /// The payload, byte for byte.
    pub data: Bytes,
    /// When the service received the record, in milliseconds since the Unix epoch.
    pub approximate_arrival_ms: u64,
}

/// How a shard iterator's starting position is given (kinesis-semantics §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(non_camel_case_types)]
pub enum ShardIteratorType {
    /// At the record with the given number (inclusive).
    AT_SEQUENCE_NUMBER,
    /// Just after the given number (exclusive).
    AFTER_SEQUENCE_NUMBER,
    /// At the oldest untrimmed record.
    TRIM_HORIZON,
    /// Just after the newest record at the time the iterator is issued.
    LATEST,
    /// At the first record whose arrival time is at or after the given timestamp.
    AT_TIMESTAMP,
}

impl ShardIteratorType {
    /// All five types.
    pub const ALL: [ShardIteratorType; 5] = [
        ShardIteratorType::AT_SEQUENCE_NUMBER,
        ShardIteratorType::AFTER_SEQUENCE_NUMBER,
        ShardIteratorType::TRIM_HORIZON,
        ShardIteratorType::LATEST,
        ShardIteratorType::AT_TIMESTAMP,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            ShardIteratorType::AT_SEQUENCE_NUMBER => "AT_SEQUENCE_NUMBER",
            ShardIteratorType::AFTER_SEQUENCE_NUMBER => "AFTER_SEQUENCE_NUMBER",
            ShardIteratorType::TRIM_HORIZON => "TRIM_HORIZON",
            ShardIteratorType::LATEST => "LATEST",
            ShardIteratorType::AT_TIMESTAMP => "AT_TIMESTAMP",
        }
    }

    /// Parses the wire name; anything else is a `ValidationException`.
    pub fn parse(raw: &str) -> Result<Self, KinesisError> {
        ShardIteratorType::ALL
            .into_iter()
            .find(|t| t.name() == raw)
            .ok_or_else(|| {
                KinesisError::validation(
                    raw,
                    "shardIteratorType",
                    "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, TRIM_HORIZON, AT_SEQUENCE_NUMBER]",
                )
            })
    }

    /// True for the two types that take a `StartingSequenceNumber`.
    pub fn needs_sequence_number(self) -> bool {
        matches!(
            self,
            ShardIteratorType::AT_SEQUENCE_NUMBER | ShardIteratorType::AFTER_SEQUENCE_NUMBER
        )
    }
}

impl fmt::Display for ShardIteratorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lifecycle state of a stream (kinesis-semantics §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum StreamStatus {
    /// Being created; data operations answer `ResourceNotFoundException`.
    CREATING,
    /// Being deleted.
    DELETING,
    /// Ready for every operation.
    ACTIVE,
    /// A reshard or similar change is in progress; data operations still work.
    UPDATING,
}

impl StreamStatus {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            StreamStatus::CREATING => "CREATING",
            StreamStatus::DELETING => "DELETING",
            StreamStatus::ACTIVE => "ACTIVE",
            StreamStatus::UPDATING => "UPDATING",
        }
    }
}
