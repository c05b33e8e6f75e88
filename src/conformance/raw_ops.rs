//! The raw-request family of the validation area: requests the typed SDK path cannot send
//! (members left out, members of the wrong JSON type, `Data` that is not base64, StreamARN
//! addressing, unknown targets, bodies that are not JSON objects), sent byte for byte over the
//! Kinesis JSON 1.1 protocol. Each is followed by a read-back of the shard it targeted, so a
//! request that corrupts stored state is caught as the data bug it is.
//!
//! Every variant is a plain value with no runtime references, so [`RawOp::covering`] can list
//! all of them and a run can report how often each was sent ([`RawOp::variant`]).

use proptest::prelude::*;

/// A required member left out of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MissingMember {
    /// `PutRecord` without `Data`.
    PutRecordData,
    /// `PutRecord` without `PartitionKey`.
    PutRecordPartitionKey,
    /// `PutRecord` with neither `StreamName` nor `StreamARN`.
    PutRecordStream,
    /// `PutRecords` without `Records`.
    PutRecordsRecords,
    /// `PutRecords` with an entry that has no `PartitionKey`.
    PutRecordsEntryPartitionKey,
    /// `GetShardIterator` without `ShardId`.
    GetShardIteratorShardId,
    /// `GetShardIterator` without `ShardIteratorType`.
    GetShardIteratorType,
    /// `GetRecords` without `ShardIterator`.
    GetRecordsIterator,
}

/// A member of the wrong JSON type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WrongType {
    /// `PutRecord.PartitionKey` as a number.
    PartitionKeyNumber,
    /// `PutRecord.Data` as a number.
    DataNumber,
    /// `PutRecord.ExplicitHashKey` as a number (hash keys are JSON strings).
    HashKeyNumber,
    /// `PutRecord.StreamName` as a list.
    StreamNameList,
    /// `PutRecords.Records` as an object.
    RecordsObject,
    /// A `PutRecords` entry as a string.
    EntryString,
    /// `GetRecords.Limit` as a string.
    LimitString,
    /// `GetShardIterator.ShardIteratorType` as a number.
    IteratorTypeNumber,
}

/// `Data` that is not valid base64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BadBase64 {
    /// A length that is not a multiple of 4 (`abc`).
    Length,
    /// A character outside the alphabet (`ab!d`).
    Character,
    /// Padding followed by data (`ab=c`).
    PadInside,
    /// Non-zero bits in the last character before the padding (`YR==`).
    LastCharacter,
}

/// A decimal member that is not a decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotDigits {
    /// Trailing letters (`12a`).
    Letters,
    /// A sign (`-1`).
    Negative,
    /// A plus sign (`+12`).
    Plus,
    /// A fraction (`1.5`).
    Fraction,
    /// Hexadecimal (`0x1F`).
    Hex,
    /// Leading white space (` 12`).
    Space,
    /// The empty string.
    Empty,
}

/// Which sequence-number member carries a [`NotDigits`] value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SequenceMember {
    /// `PutRecord.SequenceNumberForOrdering`.
    Ordering,
    /// `GetShardIterator.StartingSequenceNumber` (AT_SEQUENCE_NUMBER).
    Starting,
}

/// Addressing a stream by `StreamARN` (learned from `DescribeStreamSummary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArnAddressing {
    /// `PutRecord` by ARN only.
    PutRecord,
    /// `PutRecords` by ARN only.
    PutRecords,
    /// `GetShardIterator` by ARN only.
    GetShardIterator,
    /// `ListShards` by ARN only.
    ListShards,
    /// `DescribeStreamSummary` by ARN only.
    DescribeStreamSummary,
    /// `PutRecord` with both, naming the same stream.
    BothAgreeing,
    /// `PutRecord` with both, naming different streams.
    BothDisagreeing,
    /// `PutRecord` by a well-formed ARN of a stream that does not exist.
    UnknownStream,
    /// `PutRecord` by a string that is not a stream ARN.
    Malformed,
}

/// An `X-Amz-Target` that names no Kinesis operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnknownTarget {
    /// A misspelt operation (`Kinesis_20131202.PutRecordz`).
    Misspelt,
    /// Another API version (`Kinesis_20131201.PutRecord`).
    OtherVersion,
    /// The operation without the service prefix (`PutRecord`).
    NoPrefix,
}

/// A body that is not a JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MalformedBody {
    /// A JSON object cut short.
    Truncated,
    /// An object followed by more text.
    TrailingText,
    /// A JSON array.
    Array,
    /// JSON `null`.
    Null,
    /// No body at all.
    Empty,
}

/// One raw request of the validation area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RawOp {
    /// A required member left out.
    Missing(MissingMember),
    /// A member of the wrong JSON type.
    WrongType(WrongType),
    /// `PutRecord.Data` that is not base64.
    BadBase64(BadBase64),
    /// `PutRecord.ExplicitHashKey` that is not a decimal.
    HashKeyNotDigits(NotDigits),
    /// A sequence number that is not a decimal.
    SequenceNotDigits(SequenceMember, NotDigits),
    /// StreamARN instead of (or together with) StreamName.
    Arn(ArnAddressing),
    /// An unknown `X-Amz-Target` with a valid `PutRecord` body.
    UnknownTarget(UnknownTarget),
    /// A `PutRecord` body that is not a JSON object.
    MalformedBody(MalformedBody),
}

const MISSING: [MissingMember; 8] = [
    MissingMember::PutRecordData,
    MissingMember::PutRecordPartitionKey,
    MissingMember::PutRecordStream,
    MissingMember::PutRecordsRecords,
    MissingMember::PutRecordsEntryPartitionKey,
    MissingMember::GetShardIteratorShardId,
    MissingMember::GetShardIteratorType,
    MissingMember::GetRecordsIterator,
];
const WRONG_TYPES: [WrongType; 8] = [
    WrongType::PartitionKeyNumber,
    WrongType::DataNumber,
    WrongType::HashKeyNumber,
    WrongType::StreamNameList,
    WrongType::RecordsObject,
    WrongType::EntryString,
    WrongType::LimitString,
    WrongType::IteratorTypeNumber,
];
const BAD_BASE64: [BadBase64; 4] = [
    BadBase64::Length,
    BadBase64::Character,
    BadBase64::PadInside,
    BadBase64::LastCharacter,
];
const NOT_DIGITS: [NotDigits; 7] = [
    NotDigits::Letters,
    NotDigits::Negative,
    NotDigits::Plus,
    NotDigits::Fraction,
    NotDigits::Hex,
    NotDigits::Space,
    NotDigits::Empty,
];
const ARN: [ArnAddressing; 9] = [
    ArnAddressing::PutRecord,
    ArnAddressing::PutRecords,
    ArnAddressing::GetShardIterator,
    ArnAddressing::ListShards,
    ArnAddressing::DescribeStreamSummary,
    ArnAddressing::BothAgreeing,
    ArnAddressing::BothDisagreeing,
    ArnAddressing::UnknownStream,
    ArnAddressing::Malformed,
];
const TARGETS: [UnknownTarget; 3] = [
    UnknownTarget::Misspelt,
    UnknownTarget::OtherVersion,
    UnknownTarget::NoPrefix,
];
const BODIES: [MalformedBody; 5] = [
    MalformedBody::Truncated,
    MalformedBody::TrailingText,
    MalformedBody::Array,
    MalformedBody::Null,
    MalformedBody::Empty,
];

impl NotDigits {
    /// The string sent.
    pub fn text(self) -> &'static str {
        match self {
            NotDigits::Letters => "12a",
            NotDigits::Negative => "-1",
            NotDigits::Plus => "+12",
            NotDigits::Fraction => "1.5",
            NotDigits::Hex => "0x1F",
            NotDigits::Space => " 12",
            NotDigits::Empty => "",
        }
    }
}

impl BadBase64 {
    /// The string sent as `Data`.
    pub fn text(self) -> &'static str {
        match self {
            BadBase64::Length => "abc",
            BadBase64::Character => "ab!d",
            BadBase64::PadInside => "ab=c",
            BadBase64::LastCharacter => "YR==",
        }
    }
}

impl RawOp {
    /// Every raw request the generator can produce, once each: the covering set the validation
    /// area opens with.
    pub fn covering() -> Vec<RawOp> {
        let mut all = Vec::new();
        all.extend(MISSING.map(RawOp::Missing));
        all.extend(WRONG_TYPES.map(RawOp::WrongType));
        all.extend(BAD_BASE64.map(RawOp::BadBase64));
        all.extend(NOT_DIGITS.map(RawOp::HashKeyNotDigits));
        for member in [SequenceMember::Ordering, SequenceMember::Starting] {
            all.extend(NOT_DIGITS.map(|d| RawOp::SequenceNotDigits(member, d)));
        }
        all.extend(ARN.map(RawOp::Arn));
        all.extend(TARGETS.map(RawOp::UnknownTarget));
        all.extend(BODIES.map(RawOp::MalformedBody));
        all
    }

    /// A stable label for coverage tables, e.g. `raw/missing/PutRecordData`.
    pub fn variant(&self) -> String {
        match self {
            RawOp::Missing(m) => format!("raw/missing/{m:?}"),
            RawOp::WrongType(w) => format!("raw/wrong-type/{w:?}"),
            RawOp::BadBase64(b) => format!("raw/bad-base64/{b:?}"),
            RawOp::HashKeyNotDigits(d) => format!("raw/hash-key-not-digits/{d:?}"),
            RawOp::SequenceNotDigits(m, d) => format!("raw/sequence-not-digits/{m:?}/{d:?}"),
            RawOp::Arn(a) => format!("raw/arn/{a:?}"),
            RawOp::UnknownTarget(t) => format!("raw/unknown-target/{t:?}"),
            RawOp::MalformedBody(b) => format!("raw/malformed-body/{b:?}"),
        }
    }
}

/// Draws one raw request, every variant with equal weight.
pub fn raw_op() -> BoxedStrategy<RawOp> {
    proptest::sample::select(RawOp::covering()).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_covering_set_lists_each_variant_once() {
        let all = RawOp::covering();
        let labels: HashSet<String> = all.iter().map(RawOp::variant).collect();
        assert_eq!(labels.len(), all.len());
        assert_eq!(all.len(), 8 + 8 + 4 + 7 + 14 + 9 + 3 + 5);
    }
}
