//! Symbolic operations and their generators, biased to the edges Kinesis defines.
//!
//! Operations refer to runtime values (sequence numbers, iterators, shards) by index into what
//! earlier responses returned, so a generated case stays meaningful for any implementation's
//! choices and while proptest shrinks it.

use super::Area;
pub use super::raw_ops::RawOp;
use proptest::prelude::*;

/// A stream slot of the case (two streams at most).
pub type Slot = u8;

/// A partition key to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyGen {
    /// One of a few colliding keys (`user-0` … `user-7`).
    Pool(u8),
    /// `n` copies of `k` (boundary lengths 0, 1, 256, 257).
    Length(usize),
    /// `n` copies of `é` (2 UTF-8 bytes each: characters, not bytes, are limited).
    Unicode(usize),
}

/// A payload to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataGen {
    /// A small payload (`len` bytes) tagged with a unique id at run time.
    Small(u8),
    /// Exactly `n` bytes (edges around 1 MiB).
    Size(usize),
    /// A clickstream event (JSON with userId, eventType, timestamp).
    Click {
        /// Event type index.
        event: u8,
    },
}

/// An explicit hash key to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashKeyGen {
    /// The first key of a known shard's range.
    RangeStart(usize),
    /// The last key of a known shard's range.
    RangeEnd(usize),
    /// `2^128 - 1`.
    Max,
    /// `2^128` (out of range: InvalidArgumentException).
    MaxPlusOne,
    /// `10^39 - 1`: 39 digits, so well-formed, but above `2^128 - 1` (InvalidArgumentException).
    ThirtyNineNines,
    /// A value that does not match `0|([1-9]\d{0,38})` (ValidationException; a leading zero
    /// may also be read numerically, kinesis-semantics §1.1).
    Malformed(BadHashKey),
    /// Any value.
    Value(u128),
}

/// The shapes of malformed explicit hash keys, sent as strings through the typed path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BadHashKey {
    /// `0123`.
    LeadingZero,
    /// `12a`.
    Letters,
    /// `-1`.
    Negative,
    /// `+12`.
    Plus,
    /// `1.5`.
    Fraction,
    /// `0x1F`.
    Hex,
    /// ` 12`.
    LeadingSpace,
    /// `12 `.
    TrailingSpace,
    /// The empty string.
    Empty,
    /// 40 digits (`1` and 39 zeros): one digit more than the pattern allows.
    FortyDigits,
}

impl BadHashKey {
    /// Every shape, once.
    pub const ALL: [BadHashKey; 10] = [
        BadHashKey::LeadingZero,
        BadHashKey::Letters,
        BadHashKey::Negative,
        BadHashKey::Plus,
        BadHashKey::Fraction,
        BadHashKey::Hex,
        BadHashKey::LeadingSpace,
        BadHashKey::TrailingSpace,
        BadHashKey::Empty,
        BadHashKey::FortyDigits,
    ];

    /// The string sent as `ExplicitHashKey`.
    pub fn text(self) -> String {
        match self {
            BadHashKey::LeadingZero => "0123".into(),
            BadHashKey::Letters => "12a".into(),
            BadHashKey::Negative => "-1".into(),
            BadHashKey::Plus => "+12".into(),
            BadHashKey::Fraction => "1.5".into(),
            BadHashKey::Hex => "0x1F".into(),
            BadHashKey::LeadingSpace => " 12".into(),
            BadHashKey::TrailingSpace => "12 ".into(),
            BadHashKey::Empty => String::new(),
            BadHashKey::FortyDigits => format!("1{}", "0".repeat(39)),
        }
    }

    /// A stable label (`letters`, `leading-space`, …).
    pub fn label(self) -> &'static str {
        match self {
            BadHashKey::LeadingZero => "leading-zero",
            BadHashKey::Letters => "letters",
            BadHashKey::Negative => "negative",
            BadHashKey::Plus => "plus",
            BadHashKey::Fraction => "fraction",
            BadHashKey::Hex => "hex",
            BadHashKey::LeadingSpace => "leading-space",
            BadHashKey::TrailingSpace => "trailing-space",
            BadHashKey::Empty => "empty",
            BadHashKey::FortyDigits => "40-digits",
        }
    }
}

/// A sequence number to use as an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqRef {
    /// The n-th number returned by a put in this case (modulo how many there are).
    Returned(usize),
    /// The starting number of a known shard.
    ShardStart(usize),
    /// A literal string (possibly malformed).
    Literal(&'static str),
}

/// A shard iterator to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IterRef {
    /// The n-th most recent iterator an earlier response returned (0: the latest; modulo how
    /// many there are), so cases keep their meaning while earlier steps are shrunk away.
    Returned(usize),
    /// A string no service issued.
    Garbage,
    /// The empty string.
    Empty,
    /// 513 characters.
    TooLong,
}

/// An iterator type with its argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// `AT_SEQUENCE_NUMBER`.
    At(SeqRef),
    /// `AFTER_SEQUENCE_NUMBER`.
    After(SeqRef),
    /// `TRIM_HORIZON`.
    TrimHorizon,
    /// `LATEST`.
    Latest,
    /// `AT_TIMESTAMP` at the arrival time of a returned record, shifted by `offset_ms`.
    AtTimestamp {
        /// Which returned number's record time to use (`None`: the case start).
        record: Option<usize>,
        /// Shift in ms (positive values may land in the future).
        offset_ms: i64,
    },
    /// `AT_TIMESTAMP` without a timestamp (InvalidArgumentException).
    AtTimestampMissing,
    /// `LATEST` with a starting number (InvalidArgumentException).
    LatestWithNumber(SeqRef),
    /// `AT_SEQUENCE_NUMBER` without a number (InvalidArgumentException).
    AtWithoutNumber,
}

/// A shard to name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardRef {
    /// The n-th shard known in the stream (modulo), open or closed.
    Known(usize),
    /// The n-th open shard (modulo).
    Open(usize),
    /// A shard index that does not exist.
    Missing,
    /// A malformed id (`shard id!`: ValidationException).
    Malformed,
    /// The lenient short form `shardId-<n>` of a known shard (kinesis-semantics §2.6).
    ShortForm(usize),
    /// The bare index `<n>` of a known shard (kinesis-semantics §2.6, §11.20).
    Bare(usize),
}

/// How a request spells the shard ids it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdForm {
    /// `shardId-` and 12 digits, as services answer.
    Canonical,
    /// `shardId-<n>`.
    Short,
    /// `<n>`.
    Bare,
}

/// Which pair of shards a `MergeShards` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MergePair {
    /// An open shard and its upper neighbour.
    Adjacent,
    /// An open shard and a non-adjacent open one (InvalidArgumentException).
    Gap,
    /// An open shard and a closed one (undocumented, kinesis-semantics §6.3, §11.7: an error).
    OpenWithClosed,
    /// Two closed shards (an error, as above).
    BothClosed,
}

/// Where to split a shard (kinesis-semantics §6.2: accepted only for `start + 1 < k < end`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitAt {
    /// The middle of the range.
    Middle,
    /// `start`, the shard's StartingHashKey (rejected).
    Start,
    /// `start + 1` (rejected: must exceed start + 1).
    StartPlusOne,
    /// `start + 2` (the smallest accepted key).
    StartPlusTwo,
    /// `end` (rejected: must be below end).
    End,
    /// `end - 1` (the largest accepted key).
    EndMinusOne,
    /// `end + 1`, past the shard's EndingHashKey (rejected; `2^128` on the last shard, which
    /// is out of the hash key range altogether).
    BeyondEnd,
}

/// A stream name to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRef {
    /// A stream slot of the case.
    Slot(Slot),
    /// A valid name of a stream that does not exist.
    Unknown,
    /// The empty name.
    Empty,
    /// 129 characters.
    TooLong,
    /// A name with a forbidden character.
    BadChar,
}

/// One step of a generated case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `PutRecord`.
    Put {
        /// Target.
        stream: NameRef,
        /// Partition key.
        key: KeyGen,
        /// Payload.
        data: DataGen,
        /// Explicit hash key.
        ehk: Option<HashKeyGen>,
        /// SequenceNumberForOrdering.
        ordering: Option<SeqRef>,
    },
    /// `PutRecords` with these entries (`count` repeats of the first entry when set, for the
    /// 500-entry edge).
    PutBatch {
        /// Target.
        stream: NameRef,
        /// Entries.
        entries: Vec<(KeyGen, DataGen, Option<HashKeyGen>)>,
        /// Repeat the entries until there are this many.
        pad_to: Option<usize>,
    },
    /// `GetShardIterator`.
    Iterator {
        /// Stream.
        stream: NameRef,
        /// Shard.
        shard: ShardRef,
        /// Type and argument.
        position: Position,
    },
    /// `GetRecords`.
    Read {
        /// Iterator.
        iterator: IterRef,
        /// Limit.
        limit: Option<i64>,
    },
    /// Read a shard from TRIM_HORIZON to its tip (or end), page by page with `limit`.
    Drain {
        /// Stream slot.
        stream: Slot,
        /// Shard.
        shard: ShardRef,
        /// Page size.
        limit: Option<i64>,
    },
    /// `SplitShard`.
    Split {
        /// Stream.
        stream: NameRef,
        /// Shard.
        shard: ShardRef,
        /// Where.
        at: SplitAt,
    },
    /// `MergeShards` of an open shard with a partner chosen by `pair` (`swap`: arguments
    /// reversed), both ids spelt as `ids` says.
    Merge {
        /// Stream slot.
        stream: Slot,
        /// The lower shard.
        shard: ShardRef,
        /// Name the upper shard first.
        swap: bool,
        /// Which partner.
        pair: MergePair,
        /// How the ids are spelt.
        ids: IdForm,
    },
    /// `UpdateShardCount` to `open * num / 4` (num 1..=9 spans invalid and valid targets).
    Scale {
        /// Stream slot.
        stream: Slot,
        /// Quarter steps of the open count.
        quarters: u8,
    },
    /// Advance the implementation's clock (skipped when it has no clock control).
    Wait {
        /// Milliseconds.
        ms: u64,
    },
    /// Let `ms` of the implementation's time pass whatever its clock: advance it when it has
    /// clock control, else wait in real time. No generator emits it (a generated case never
    /// sleeps); the slow checks (`super::slow`) build their cases with it.
    Hold {
        /// Milliseconds.
        ms: u64,
    },
    /// Increase or decrease retention.
    Retention {
        /// Stream.
        stream: NameRef,
        /// Increase (else decrease).
        increase: bool,
        /// New value in hours.
        hours: i64,
    },
    /// `CreateStream` in a slot.
    Create {
        /// Name.
        stream: NameRef,
        /// Shards.
        shards: i64,
    },
    /// `DeleteStream`.
    Delete {
        /// Stream.
        stream: NameRef,
    },
    /// `ListShards` by stream (with page size, optionally after a shard), or with a bad
    /// token/combination.
    List {
        /// Stream.
        stream: NameRef,
        /// Page size.
        max_results: Option<i64>,
        /// Also send a NextToken (invalid combination) or only a garbage token.
        token: Option<bool>,
        /// `ExclusiveStartShardId`: list only shards after this one.
        after: Option<ShardRef>,
    },
    /// `DescribeStreamSummary`.
    Describe {
        /// Stream.
        stream: NameRef,
    },
    /// A request sent byte for byte over the JSON protocol (see [`RawOp`]), followed by a
    /// read-back of the shard it targeted.
    Raw(RawOp),
}

/// Partition keys of ordinary puts (beyond the colliding pool).
pub const KEY_EDGES: [KeyGen; 3] = [KeyGen::Length(1), KeyGen::Length(256), KeyGen::Unicode(256)];
/// Partition keys Kinesis refuses (ValidationException).
pub const BAD_KEYS: [KeyGen; 3] = [KeyGen::Length(0), KeyGen::Length(257), KeyGen::Unicode(257)];
/// Payload sizes at the edges of the 1 MiB record limit.
pub const DATA_SIZES: [usize; 3] = [0, 1_048_576 - 256, 1_048_576];
/// Well-formed literal sequence numbers Kinesis cannot decode or refuses.
pub const BAD_SEQS: [&str; 4] = ["", "01", "12a", TOO_MANY_DIGITS];
/// Stream names that name no usable stream.
pub const BAD_NAMES: [NameRef; 4] = [
    NameRef::Unknown,
    NameRef::Empty,
    NameRef::TooLong,
    NameRef::BadChar,
];
/// Valid split points (resharding).
pub const SPLITS_ACCEPTED: [SplitAt; 3] =
    [SplitAt::Middle, SplitAt::StartPlusTwo, SplitAt::EndMinusOne];
/// Split points Kinesis refuses (validation).
pub const SPLITS_REFUSED: [SplitAt; 4] = [
    SplitAt::Start,
    SplitAt::StartPlusOne,
    SplitAt::End,
    SplitAt::BeyondEnd,
];
/// Retention values Kinesis accepts in one direction or the other.
pub const RETENTION_HOURS: [i64; 5] = [24, 25, 48, 168, 8760];
/// Retention values outside 24..=8760.
pub const BAD_RETENTION_HOURS: [i64; 4] = [0, 23, 8761, 100_000];
/// UpdateShardCount quarter steps of the open count that resharding sends.
pub const SCALE_QUARTERS: std::ops::RangeInclusive<u8> = 2..=8;
/// UpdateShardCount quarter steps that validation sends (0, below half, above double; 9/4
/// is valid and closes shards).
pub const BAD_SCALE_QUARTERS: [u8; 4] = [0, 1, 9, 12];
/// GetRecords limits Kinesis refuses.
pub const BAD_LIMITS: [i64; 3] = [0, 10_001, -1];
/// Iterators no service issued.
pub const BAD_ITERATORS: [IterRef; 3] = [IterRef::Garbage, IterRef::Empty, IterRef::TooLong];
/// Shard references GetShardIterator takes besides known and open shards.
pub const ODD_SHARDS: [ShardRef; 4] = [
    ShardRef::Missing,
    ShardRef::Malformed,
    ShardRef::ShortForm(0),
    ShardRef::Bare(0),
];

fn key_gen() -> impl Strategy<Value = KeyGen> {
    prop_oneof![
        8 => (0u8..8).prop_map(KeyGen::Pool),
        2 => proptest::sample::select(KEY_EDGES.to_vec()),
    ]
}

fn bad_key_gen() -> impl Strategy<Value = KeyGen> {
    proptest::sample::select(BAD_KEYS.to_vec())
}

fn data_gen() -> impl Strategy<Value = DataGen> {
    prop_oneof![
        12 => (0u8..100).prop_map(DataGen::Small),
        4 => (0u8..5).prop_map(|event| DataGen::Click { event }),
        1 => proptest::sample::select(DATA_SIZES.to_vec()).prop_map(DataGen::Size),
    ]
}

fn ehk_gen() -> impl Strategy<Value = Option<HashKeyGen>> {
    prop_oneof![
        6 => Just(None),
        1 => (0usize..8).prop_map(|i| Some(HashKeyGen::RangeStart(i))),
        1 => (0usize..8).prop_map(|i| Some(HashKeyGen::RangeEnd(i))),
        1 => Just(Some(HashKeyGen::Max)),
        1 => any::<u128>().prop_map(|v| Some(HashKeyGen::Value(v))),
    ]
}

/// Explicit hash keys Kinesis refuses: out of range, or malformed in every shape.
fn bad_ehk() -> impl Strategy<Value = HashKeyGen> {
    prop_oneof![
        Just(HashKeyGen::MaxPlusOne),
        Just(HashKeyGen::ThirtyNineNines),
        proptest::sample::select(BadHashKey::ALL.to_vec()).prop_map(HashKeyGen::Malformed),
    ]
}

fn seq_ref() -> impl Strategy<Value = SeqRef> {
    prop_oneof![
        6 => (0usize..64).prop_map(SeqRef::Returned),
        1 => (0usize..8).prop_map(SeqRef::ShardStart),
    ]
}

fn bad_seq_ref() -> impl Strategy<Value = SeqRef> {
    proptest::sample::select(BAD_SEQS.to_vec()).prop_map(SeqRef::Literal)
}

/// 130 digits: one more than a sequence number may have.
pub const TOO_MANY_DIGITS: &str = "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
/// 129 nines: the largest well-formed sequence number.
pub const MOST_DIGITS: &str = "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999";

fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        3 => seq_ref().prop_map(Position::At),
        3 => seq_ref().prop_map(Position::After),
        3 => Just(Position::TrimHorizon),
        3 => Just(Position::Latest),
        2 => (proptest::option::of(0usize..64), prop_oneof![Just(0i64), Just(-1), Just(1)])
            .prop_map(|(record, offset_ms)| Position::AtTimestamp { record, offset_ms }),
    ]
}

fn shard_ref() -> impl Strategy<Value = ShardRef> {
    prop_oneof![
        3 => (0usize..8).prop_map(ShardRef::Known),
        3 => (0usize..8).prop_map(ShardRef::Open),
    ]
}

/// A known shard named by one of the lenient spellings Kinesis resolves (§2.6).
fn short_shard_ref() -> impl Strategy<Value = ShardRef> {
    prop_oneof![
        (0usize..8).prop_map(ShardRef::ShortForm),
        (0usize..8).prop_map(ShardRef::Bare),
    ]
}

fn limit() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![2 => Just(None), 3 => (1i64..4).prop_map(Some), 1 => Just(Some(10_000))]
}

fn put() -> impl Strategy<Value = Op> {
    (
        key_gen(),
        data_gen(),
        ehk_gen(),
        proptest::option::weighted(0.3, seq_ref()),
    )
        .prop_map(|(key, data, ehk, ordering)| Op::Put {
            stream: NameRef::Slot(0),
            key,
            data,
            ehk,
            ordering,
        })
}

fn batch() -> impl Strategy<Value = Op> {
    proptest::collection::vec(
        (key_gen(), (0u8..50).prop_map(DataGen::Small), ehk_gen()),
        1..8,
    )
    .prop_map(|entries| Op::PutBatch {
        stream: NameRef::Slot(0),
        entries,
        pad_to: None,
    })
}

fn iterator() -> impl Strategy<Value = Op> {
    (shard_ref(), position()).prop_map(|(shard, position)| Op::Iterator {
        stream: NameRef::Slot(0),
        shard,
        position,
    })
}

fn read() -> impl Strategy<Value = Op> {
    (
        prop_oneof![3 => Just(0usize), 1 => 0usize..16].prop_map(IterRef::Returned),
        limit(),
    )
        .prop_map(|(iterator, limit)| Op::Read { iterator, limit })
}

fn drain() -> impl Strategy<Value = Op> {
    (shard_ref(), limit()).prop_map(|(shard, limit)| Op::Drain {
        stream: 0,
        shard,
        limit,
    })
}

fn wait(clock_ms: &'static [u64]) -> impl Strategy<Value = Op> {
    proptest::sample::select(clock_ms).prop_map(|ms| Op::Wait { ms })
}

/// ListShards as the routing and resharding areas send it: whole listings, small pages, and
/// listings after a shard named in any spelling Kinesis resolves.
fn list() -> impl Strategy<Value = Op> {
    let after = prop_oneof![
        3 => Just(None),
        1 => (0usize..8).prop_map(|i| Some(ShardRef::Known(i))),
        1 => short_shard_ref().prop_map(Some),
    ];
    (proptest::option::of(1i64..3), after).prop_map(|(max_results, after)| Op::List {
        stream: NameRef::Slot(0),
        max_results,
        token: None,
        after,
    })
}

fn split_at_accepted() -> impl Strategy<Value = SplitAt> {
    prop_oneof![
        4 => Just(SplitAt::Middle),
        1 => Just(SplitAt::StartPlusTwo),
        1 => Just(SplitAt::EndMinusOne),
    ]
}

fn reshard() -> impl Strategy<Value = Op> {
    let ids = prop_oneof![4 => Just(IdForm::Canonical), 1 => Just(IdForm::Short), 1 => Just(IdForm::Bare)];
    prop_oneof![
        3 => (prop_oneof![4 => shard_ref(), 1 => short_shard_ref()], split_at_accepted())
            .prop_map(|(shard, at)| Op::Split { stream: NameRef::Slot(0), shard, at }),
        2 => (0usize..8, any::<bool>(), ids).prop_map(|(i, swap, ids)| Op::Merge {
            stream: 0,
            shard: ShardRef::Open(i),
            swap,
            pair: MergePair::Adjacent,
            ids,
        }),
        1 => SCALE_QUARTERS.prop_map(|quarters| Op::Scale { stream: 0, quarters }),
    ]
}

fn retention() -> impl Strategy<Value = Op> {
    (
        any::<bool>(),
        proptest::sample::select(RETENTION_HOURS.to_vec()),
    )
        .prop_map(|(increase, hours)| Op::Retention {
            stream: NameRef::Slot(0),
            increase,
            hours,
        })
}

/// A PutRecord of a small payload with one field set to an edge.
fn put_with(stream: NameRef, key: KeyGen, ehk: Option<HashKeyGen>, ordering: Option<SeqRef>) -> Op {
    Op::Put {
        stream,
        key,
        data: DataGen::Small(3),
        ehk,
        ordering,
    }
}

/// A PutRecords of one ordinary entry followed by `entry`.
fn batch_with(entry: (KeyGen, DataGen, Option<HashKeyGen>)) -> Op {
    Op::PutBatch {
        stream: NameRef::Slot(0),
        entries: vec![(KeyGen::Pool(3), DataGen::Small(2), None), entry],
        pad_to: None,
    }
}

/// One ordinary entry repeated `n` times.
fn padded_batch(data: DataGen, n: usize) -> Op {
    Op::PutBatch {
        stream: NameRef::Slot(0),
        entries: vec![(KeyGen::Pool(2), data, None)],
        pad_to: Some(n),
    }
}

fn invalid_puts() -> BoxedStrategy<Op> {
    let bad_name = proptest::sample::select(BAD_NAMES.to_vec());
    prop_oneof![
        (bad_name, key_gen()).prop_map(|(stream, key)| put_with(stream, key, None, None)),
        bad_key_gen().prop_map(|key| put_with(NameRef::Slot(0), key, None, None)),
        Just(Op::Put {
            stream: NameRef::Slot(0),
            key: KeyGen::Pool(0),
            data: DataGen::Size(1_048_577),
            ehk: None,
            ordering: None
        }),
        bad_ehk().prop_map(|h| put_with(NameRef::Slot(0), KeyGen::Pool(1), Some(h), None)),
        bad_seq_ref().prop_map(|s| put_with(NameRef::Slot(0), KeyGen::Pool(1), None, Some(s))),
    ]
    .boxed()
}

fn invalid_batches() -> BoxedStrategy<Op> {
    prop_oneof![
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            entries: vec![],
            pad_to: None
        }),
        Just(padded_batch(DataGen::Small(1), 501)),
        Just(padded_batch(DataGen::Small(1), 500)),
        // Five 1 MiB entries exceed the 5 MiB budget only through their keys (§5.2), and
        // the request body stays below the 7 MiB some services cap bodies at.
        Just(padded_batch(DataGen::Size(1_048_576), 5)),
        bad_key_gen().prop_map(|k| batch_with((k, DataGen::Small(1), None))),
        bad_ehk().prop_map(|h| batch_with((KeyGen::Pool(1), DataGen::Small(1), Some(h)))),
    ]
    .boxed()
}

fn invalid_iterators() -> BoxedStrategy<Op> {
    let bad_position = prop_oneof![
        bad_seq_ref().prop_map(Position::At),
        Just(Position::At(SeqRef::Literal(MOST_DIGITS))),
        Just(Position::AtTimestampMissing),
        Just(Position::AtTimestamp {
            record: None,
            offset_ms: 3_600_000
        }),
        seq_ref().prop_map(Position::LatestWithNumber),
        Just(Position::AtWithoutNumber),
    ];
    prop_oneof![
        (shard_ref(), bad_position).prop_map(|(shard, position)| Op::Iterator {
            stream: NameRef::Slot(0),
            shard,
            position
        }),
        prop_oneof![
            Just(ShardRef::Missing),
            Just(ShardRef::Malformed),
            short_shard_ref(),
        ]
        .prop_map(|shard| Op::Iterator {
            stream: NameRef::Slot(0),
            shard,
            position: Position::TrimHorizon
        }),
        proptest::sample::select(BAD_NAMES.to_vec()).prop_map(|stream| Op::Iterator {
            stream,
            shard: ShardRef::Known(0),
            position: Position::Latest
        }),
        (
            prop_oneof![
                proptest::sample::select(BAD_ITERATORS.to_vec()),
                (0usize..8).prop_map(IterRef::Returned)
            ],
            prop_oneof![
                Just(None),
                proptest::sample::select(BAD_LIMITS.to_vec()).prop_map(Some)
            ]
        )
            .prop_map(|(iterator, limit)| Op::Read { iterator, limit }),
    ]
    .boxed()
}

fn invalid_reshards() -> BoxedStrategy<Op> {
    prop_oneof![
        (
            shard_ref(),
            proptest::sample::select(SPLITS_REFUSED.to_vec())
        )
            .prop_map(|(shard, at)| {
                Op::Split {
                    stream: NameRef::Slot(0),
                    shard,
                    at,
                }
            }),
        Just(Op::Split {
            stream: NameRef::Unknown,
            shard: ShardRef::Known(0),
            at: SplitAt::Middle
        }),
        (
            0usize..8,
            prop_oneof![
                Just(MergePair::Gap),
                Just(MergePair::OpenWithClosed),
                Just(MergePair::BothClosed)
            ]
        )
            .prop_map(|(i, pair)| Op::Merge {
                stream: 0,
                shard: ShardRef::Open(i),
                swap: false,
                pair,
                ids: IdForm::Canonical,
            }),
        proptest::sample::select(BAD_SCALE_QUARTERS.to_vec()).prop_map(|quarters| Op::Scale {
            stream: 0,
            quarters
        }),
    ]
    .boxed()
}

fn invalid_admin() -> BoxedStrategy<Op> {
    prop_oneof![
        (
            any::<bool>(),
            proptest::sample::select(BAD_RETENTION_HOURS.to_vec())
        )
            .prop_map(|(increase, hours)| Op::Retention {
                stream: NameRef::Slot(0),
                increase,
                hours
            }),
        Just(Op::Retention {
            stream: NameRef::Unknown,
            increase: true,
            hours: 48
        }),
        proptest::sample::select(invalid_creates()),
        prop_oneof![Just(NameRef::Unknown), Just(NameRef::BadChar)]
            .prop_map(|stream| Op::Delete { stream }),
        prop_oneof![Just(NameRef::Unknown), Just(NameRef::Empty)]
            .prop_map(|stream| Op::Describe { stream }),
        (
            prop_oneof![Just(None), Just(Some(0i64)), Just(Some(10_001))],
            proptest::option::of(any::<bool>())
        )
            .prop_map(|(max_results, token)| Op::List {
                stream: NameRef::Slot(0),
                max_results,
                token,
                after: None,
            }),
        Just(Op::List {
            stream: NameRef::Unknown,
            max_results: None,
            token: None,
            after: None,
        }),
    ]
    .boxed()
}

/// CreateStream requests Kinesis refuses (an existing name, no shards, bad names).
pub fn invalid_creates() -> Vec<Op> {
    vec![
        Op::Create {
            stream: NameRef::Slot(0),
            shards: 1,
        },
        Op::Create {
            stream: NameRef::Slot(1),
            shards: 0,
        },
        Op::Create {
            stream: NameRef::Empty,
            shards: 1,
        },
        Op::Create {
            stream: NameRef::TooLong,
            shards: 1,
        },
    ]
}

fn invalid() -> BoxedStrategy<Op> {
    prop_oneof![
        5 => invalid_puts(),
        6 => invalid_batches(),
        10 => invalid_iterators(),
        6 => invalid_reshards(),
        8 => invalid_admin(),
    ]
    .boxed()
}

/// Clock steps for areas that exercise expiry: around the 300 s iterator lifetime.
pub const EXPIRY_STEPS: &[u64] = &[1_000, 299_000, 300_000, 300_001, 301_000];
/// Clock steps for retention: around 24 h and beyond.
pub const RETENTION_STEPS: &[u64] = &[
    3_600_000,
    23 * 3_600_000,
    24 * 3_600_000,
    24 * 3_600_000 + 1,
    48 * 3_600_000,
];

/// The operation mix of `area`.
pub fn op_strategy(area: Area) -> BoxedStrategy<Op> {
    match area {
        Area::Routing => prop_oneof![6 => put(), 3 => batch(), 1 => drain(), 1 => list()].boxed(),
        Area::Sequencing => prop_oneof![6 => put(), 3 => batch(), 2 => drain()].boxed(),
        Area::Iterators => prop_oneof![4 => put(), 4 => iterator(), 5 => read(), 1 => wait(EXPIRY_STEPS), 1 => drain()].boxed(),
        Area::Paging => prop_oneof![4 => put(), 2 => batch(), 2 => iterator(), 5 => read(), 3 => drain()].boxed(),
        Area::Resharding => prop_oneof![5 => put(), 1 => batch(), 3 => reshard(), 2 => iterator(), 3 => read(), 3 => drain(), 1 => list()].boxed(),
        Area::Retention => prop_oneof![4 => put(), 2 => retention(), 2 => wait(RETENTION_STEPS), 2 => iterator(), 2 => read(), 2 => drain(), 1 => reshard()].boxed(),
        Area::Validation => prop_oneof![2 => put(), 1 => iterator(), 1 => read(), 6 => invalid(), 3 => super::raw_ops::raw_op().prop_map(Op::Raw)].boxed(),
    }
}

/// How many times longer than `max_ops` a validation case may be: its mix has several times
/// more variants than any other area's, and each is a single request that changes nothing.
pub const VALIDATION_OPS_FACTOR: usize = 3;

/// Most operations in a generated case of `area` when a run allows `max_ops`
/// ([`VALIDATION_OPS_FACTOR`] times more for the validation area).
pub fn ops_per_case(area: Area, max_ops: usize) -> usize {
    match area {
        Area::Validation => max_ops.saturating_mul(VALIDATION_OPS_FACTOR),
        _ => max_ops,
    }
}

/// Initial shard counts 1..=8: mostly 1 to 3, then the powers of two 4 and 8, then the rest;
/// shrinking moves towards 1.
pub fn shard_count() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 1i64..=3,
        2 => prop_oneof![Just(4i64), Just(8)],
        1 => 5i64..=7,
    ]
}

/// A generated case: the initial shard count and the operations (at most
/// [`ops_per_case`]`(area, max_ops)`).
pub fn case_strategy(area: Area, max_ops: usize) -> impl Strategy<Value = (i64, Vec<Op>)> {
    (
        shard_count(),
        proptest::collection::vec(op_strategy(area), 1..=ops_per_case(area, max_ops).max(1)),
    )
}
