//! What the model concludes about one observed response: admissible, or which property broke.

use crate::types::{ErrorKind, KinesisError};
use std::fmt;

/// The properties of kinesis-semantics §10 (and a few harness-level ones) a response can break.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Property {
    /// P1: sequence numbers are canonical decimals (56 digits in the AWS layout).
    Format,
    /// P2: no two records of a stream share a sequence number.
    Uniqueness,
    /// P3: a record lands in the open shard whose range holds its hash key.
    Routing,
    /// P4: open shards partition the hash space; ranges never change.
    HashPartition,
    /// P5: a shard's numbers strictly increase and lie within its start/end numbers.
    ShardOrder,
    /// P6: every acknowledged, unexpired record is read back exactly once, unchanged.
    NoLoss,
    /// P7: a put with SequenceNumberForOrdering gets a larger number.
    OrderingNumber,
    /// P8: PutRecords entries of one shard get increasing numbers in request order.
    BatchOrder,
    /// P9: PutRecords answers one entry per request entry with a consistent failure count.
    PutRecordsShape,
    /// P10: iterators start where their type says.
    IteratorPosition,
    /// P11/P12: following NextShardIterator neither skips nor repeats records.
    Continuity,
    /// P13: iterators expire after exactly 300 s.
    Expiry,
    /// P14: a closed shard ends with a null iterator and its children.
    ShardEnd,
    /// P15/P17: resharding lineage, shard ids and ranges.
    Lineage,
    /// P16: a child shard's numbers exceed its parents'.
    CrossReshardOrder,
    /// P18: stream status and status gating.
    Status,
    /// P19: UpdateShardCount ends with the target number of open shards.
    ShardCount,
    /// P20: retention bounds and trimming.
    Retention,
    /// P21: every bad request gets the exception type Kinesis answers with.
    ErrorMapping,
    /// P22: answers follow the JSON 1.1 envelope (content type, status, `__type` and
    /// `message`, no `null` members, iterator lengths); judged on raw requests.
    Wire,
    /// P23: MillisBehindLatest is 0 at the tip of an open shard.
    MillisBehind,
    /// Arrival timestamps lie within the request's time window.
    ArrivalTime,
    /// ListShards/DescribeStreamSummary report the stream as it is.
    Listing,
}

impl Property {
    /// Every property, in the order of kinesis-semantics §10.
    pub const ALL: [Property; 23] = [
        Property::Format,
        Property::Uniqueness,
        Property::Routing,
        Property::HashPartition,
        Property::ShardOrder,
        Property::NoLoss,
        Property::OrderingNumber,
        Property::BatchOrder,
        Property::PutRecordsShape,
        Property::IteratorPosition,
        Property::Continuity,
        Property::Expiry,
        Property::ShardEnd,
        Property::Lineage,
        Property::CrossReshardOrder,
        Property::Status,
        Property::ShardCount,
        Property::Retention,
        Property::ErrorMapping,
        Property::Wire,
        Property::MillisBehind,
        Property::ArrivalTime,
        Property::Listing,
    ];

    /// The kinesis-semantics §10 numbers this property checks (empty for the two checks the
    /// model adds beyond §10: arrival timestamps and listings).
    pub fn codes(self) -> &'static str {
        match self {
            Property::Format => "P1",
            Property::Uniqueness => "P2",
            Property::Routing => "P3",
            Property::HashPartition => "P4",
            Property::ShardOrder => "P5",
            Property::NoLoss => "P6",
            Property::OrderingNumber => "P7",
            Property::BatchOrder => "P8",
            Property::PutRecordsShape => "P9",
            Property::IteratorPosition => "P10",
            Property::Continuity => "P11, P12",
            Property::Expiry => "P13",
            Property::ShardEnd => "P14",
            Property::Lineage => "P15, P17",
            Property::CrossReshardOrder => "P16",
            Property::Status => "P18",
            Property::ShardCount => "P19",
            Property::Retention => "P20",
            Property::ErrorMapping => "P21",
            Property::Wire => "P22",
            Property::MillisBehind => "P23",
            Property::ArrivalTime | Property::Listing => "",
        }
    }

    /// A plain-words statement of the property.
    pub fn statement(self) -> &'static str {
        match self {
            Property::Format => {
                "responses are well-formed: canonical numbers, ids and documented shapes"
            }
            Property::Uniqueness => "no two records of a stream share a sequence number",
            Property::Routing => "a record lands in the open shard owning its hash key",
            Property::HashPartition => "open shards partition the hash key space",
            Property::ShardOrder => "a shard's sequence numbers strictly increase",
            Property::NoLoss => "every acknowledged record is read back exactly once, unchanged",
            Property::OrderingNumber => "SequenceNumberForOrdering yields a larger number",
            Property::BatchOrder => "PutRecords entries of one shard are numbered in request order",
            Property::PutRecordsShape => "PutRecords answers every entry, in order",
            Property::IteratorPosition => "an iterator starts where its type says",
            Property::Continuity => "paging neither skips nor repeats records",
            Property::Expiry => "iterators expire after 300 s, not before",
            Property::ShardEnd => "a closed shard ends with a null iterator and its children",
            Property::Lineage => "resharding lineage, ids and ranges are as Kinesis defines",
            Property::CrossReshardOrder => "children's sequence numbers exceed their parents'",
            Property::Status => "stream status gates operations as Kinesis does",
            Property::ShardCount => "UpdateShardCount reaches the target shard count",
            Property::Retention => "retention bounds hold and expired records are never returned",
            Property::ErrorMapping => "every bad request gets the exception Kinesis answers with",
            Property::Wire => "answers follow the JSON 1.1 wire envelope",
            Property::MillisBehind => "MillisBehindLatest is 0 at the tip of an open shard",
            Property::ArrivalTime => "arrival timestamps lie within the request's window",
            Property::Listing => "listings describe the stream as it is",
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// An observed response the model cannot admit: which property broke and how.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{property} violated ({}): {detail}", property.statement())]
pub struct Violation {
    /// The property broken.
    pub property: Property,
    /// What was expected and what was seen.
    pub detail: String,
}

impl Violation {
    /// A violation of `property` with `detail`.
    pub fn new(property: Property, detail: impl Into<String>) -> Self {
        Violation {
            property,
            detail: detail.into(),
        }
    }
}

/// The errors a request may be answered with, in the model's judgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedError {
    /// The canonical error (what the model itself answers).
    pub error: KinesisError,
    /// Every kind a conforming service may answer with (includes `error.kind`).
    pub admissible: Vec<ErrorKind>,
}

impl ExpectedError {
    /// Exactly `error`'s kind is admissible.
    pub fn exactly(error: KinesisError) -> Self {
        ExpectedError {
            admissible: vec![error.kind],
            error,
        }
    }

    /// `error`'s kind or any of `others` (where Kinesis is ambiguous; cite §11 at the call).
    pub fn any_of(error: KinesisError, others: &[ErrorKind]) -> Self {
        let mut admissible = vec![error.kind];
        for k in others {
            if !admissible.contains(k) {
                admissible.push(*k);
            }
        }
        ExpectedError { error, admissible }
    }
}

impl From<KinesisError> for ExpectedError {
    fn from(error: KinesisError) -> Self {
        ExpectedError::exactly(error)
    }
}
