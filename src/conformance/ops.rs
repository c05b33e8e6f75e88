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
    /// A malformed value (leading zero; ValidationException).
    Malformed,
    /// Any value.
    Value(u128),
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
    /// The lenient short form `shardId-<n>` of a known shard.
    ShortForm(usize),
}

/// Where to split a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitAt {
    /// The middle of the range.
    Middle,
    /// `start + 1` (rejected: must exceed start + 1).
    StartPlusOne,
    /// `start + 2` (the smallest accepted key).
    StartPlusTwo,
    /// `end` (rejected: must be below end).
    End,
    /// `end - 1` (the largest accepted key).
    EndMinusOne,
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
    /// `MergeShards` of an open shard with its upper neighbour (`swap`: arguments reversed;
    /// `gap`: with a non-adjacent shard).
    Merge {
        /// Stream slot.
        stream: Slot,
        /// The lower shard.
        shard: ShardRef,
        /// Name the upper shard first.
        swap: bool,
        /// Pick a non-adjacent partner.
        gap: bool,
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
    /// `ListShards` by stream (with page size), or with a bad token/combination.
    List {
        /// Stream.
        stream: NameRef,
        /// Page size.
        max_results: Option<i64>,
        /// Also send a NextToken (invalid combination) or only a garbage token.
        token: Option<bool>,
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

fn key_gen() -> impl Strategy<Value = KeyGen> {
    prop_oneof![
        8 => (0u8..8).prop_map(KeyGen::Pool),
        1 => prop_oneof![Just(1usize), Just(256)].prop_map(KeyGen::Length),
        1 => Just(KeyGen::Unicode(256)),
    ]
}

fn bad_key_gen() -> impl Strategy<Value = KeyGen> {
    prop_oneof![
        Just(KeyGen::Length(0)),
        Just(KeyGen::Length(257)),
        Just(KeyGen::Unicode(257))
    ]
}

fn data_gen() -> impl Strategy<Value = DataGen> {
    prop_oneof![
        12 => (0u8..100).prop_map(DataGen::Small),
        4 => (0u8..5).prop_map(|event| DataGen::Click { event }),
        1 => prop_oneof![Just(0usize), Just(1_048_576 - 256), Just(1_048_576)].prop_map(DataGen::Size),
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

fn seq_ref() -> impl Strategy<Value = SeqRef> {
    prop_oneof![
        6 => (0usize..64).prop_map(SeqRef::Returned),
        1 => (0usize..8).prop_map(SeqRef::ShardStart),
    ]
}

fn bad_seq_ref() -> impl Strategy<Value = SeqRef> {
    prop_oneof![
        Just(SeqRef::Literal("")),
        Just(SeqRef::Literal("01")),
        Just(SeqRef::Literal("12a")),
        Just(SeqRef::Literal(TOO_MANY_DIGITS)),
    ]
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

fn reshard() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (shard_ref(), prop_oneof![4 => Just(SplitAt::Middle), 1 => Just(SplitAt::StartPlusTwo), 1 => Just(SplitAt::EndMinusOne)])
            .prop_map(|(shard, at)| Op::Split { stream: NameRef::Slot(0), shard, at }),
        2 => (0usize..8, any::<bool>()).prop_map(|(i, swap)| Op::Merge { stream: 0, shard: ShardRef::Open(i), swap, gap: false }),
        1 => (2u8..=8).prop_map(|quarters| Op::Scale { stream: 0, quarters }),
    ]
}

fn retention() -> impl Strategy<Value = Op> {
    (
        any::<bool>(),
        prop_oneof![Just(24i64), Just(25), Just(48), Just(168), Just(8760)],
    )
        .prop_map(|(increase, hours)| Op::Retention {
            stream: NameRef::Slot(0),
            increase,
            hours,
        })
}

fn invalid() -> BoxedStrategy<Op> {
    let bad_name = prop_oneof![
        Just(NameRef::Unknown),
        Just(NameRef::Empty),
        Just(NameRef::TooLong),
        Just(NameRef::BadChar)
    ];
    prop_oneof![
        (bad_name.clone(), key_gen()).prop_map(|(stream, key)| Op::Put {
            stream,
            key,
            data: DataGen::Small(3),
            ehk: None,
            ordering: None
        }),
        bad_key_gen().prop_map(|key| Op::Put {
            stream: NameRef::Slot(0),
            key,
            data: DataGen::Small(3),
            ehk: None,
            ordering: None
        }),
        Just(Op::Put {
            stream: NameRef::Slot(0),
            key: KeyGen::Pool(0),
            data: DataGen::Size(1_048_577),
            ehk: None,
            ordering: None
        }),
        prop_oneof![Just(HashKeyGen::MaxPlusOne), Just(HashKeyGen::Malformed)].prop_map(|h| {
            Op::Put {
                stream: NameRef::Slot(0),
                key: KeyGen::Pool(1),
                data: DataGen::Small(1),
                ehk: Some(h),
                ordering: None,
            }
        }),
        bad_seq_ref().prop_map(|s| Op::Put {
            stream: NameRef::Slot(0),
            key: KeyGen::Pool(1),
            data: DataGen::Small(1),
            ehk: None,
            ordering: Some(s)
        }),
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            entries: vec![],
            pad_to: None
        }),
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            entries: vec![(KeyGen::Pool(2), DataGen::Small(1), None)],
            pad_to: Some(501)
        }),
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            entries: vec![(KeyGen::Pool(2), DataGen::Small(1), None)],
            pad_to: Some(500)
        }),
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            // Five 1 MiB entries exceed the 5 MiB budget only through their keys (§5.2), and
            // the request body stays below the 7 MiB some services cap bodies at.
            entries: vec![(KeyGen::Pool(2), DataGen::Size(1_048_576), None)],
            pad_to: Some(5)
        }),
        (
            bad_key_gen(),
            prop_oneof![Just(None), Just(Some(HashKeyGen::MaxPlusOne))]
        )
            .prop_map(|(k, h)| Op::PutBatch {
                stream: NameRef::Slot(0),
                entries: vec![
                    (KeyGen::Pool(3), DataGen::Small(2), None),
                    (k, DataGen::Small(1), h)
                ],
                pad_to: None,
            }),
        Just(Op::PutBatch {
            stream: NameRef::Slot(0),
            entries: vec![(
                KeyGen::Pool(3),
                DataGen::Small(2),
                Some(HashKeyGen::MaxPlusOne)
            )],
            pad_to: None
        }),
        (
            shard_ref(),
            prop_oneof![
                bad_seq_ref().prop_map(Position::At),
                Just(Position::At(SeqRef::Literal(MOST_DIGITS))),
                Just(Position::AtTimestampMissing),
                Just(Position::AtTimestamp {
                    record: None,
                    offset_ms: 3_600_000
                }),
                seq_ref().prop_map(Position::LatestWithNumber),
                Just(Position::AtWithoutNumber),
            ]
        )
            .prop_map(|(shard, position)| Op::Iterator {
                stream: NameRef::Slot(0),
                shard,
                position
            }),
        prop_oneof![
            Just(ShardRef::Missing),
            Just(ShardRef::Malformed),
            (0usize..4).prop_map(ShardRef::ShortForm)
        ]
        .prop_map(|shard| Op::Iterator {
            stream: NameRef::Slot(0),
            shard,
            position: Position::TrimHorizon
        }),
        bad_name.clone().prop_map(|stream| Op::Iterator {
            stream,
            shard: ShardRef::Known(0),
            position: Position::Latest
        }),
        (
            prop_oneof![
                Just(IterRef::Garbage),
                Just(IterRef::Empty),
                Just(IterRef::TooLong),
                (0usize..8).prop_map(IterRef::Returned)
            ],
            prop_oneof![
                Just(None),
                Just(Some(0i64)),
                Just(Some(10_001)),
                Just(Some(-1))
            ]
        )
            .prop_map(|(iterator, limit)| Op::Read { iterator, limit }),
        (
            shard_ref(),
            prop_oneof![Just(SplitAt::StartPlusOne), Just(SplitAt::End)]
        )
            .prop_map(|(shard, at)| Op::Split {
                stream: NameRef::Slot(0),
                shard,
                at
            }),
        Just(Op::Split {
            stream: NameRef::Unknown,
            shard: ShardRef::Known(0),
            at: SplitAt::Middle
        }),
        (0usize..8).prop_map(|i| Op::Merge {
            stream: 0,
            shard: ShardRef::Open(i),
            swap: false,
            gap: true
        }),
        prop_oneof![Just(0u8), Just(1), Just(9), Just(12)].prop_map(|quarters| Op::Scale {
            stream: 0,
            quarters
        }),
        (
            any::<bool>(),
            prop_oneof![Just(0i64), Just(23), Just(8761), Just(100_000)]
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
        prop_oneof![
            Just(Op::Create {
                stream: NameRef::Slot(0),
                shards: 1
            }),
            Just(Op::Create {
                stream: NameRef::Slot(1),
                shards: 0
            }),
            Just(Op::Create {
                stream: NameRef::Empty,
                shards: 1
            }),
            Just(Op::Create {
                stream: NameRef::TooLong,
                shards: 1
            })
        ],
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
                token
            }),
        Just(Op::List {
            stream: NameRef::Unknown,
            max_results: None,
            token: None
        }),
    ]
    .boxed()
}

/// Clock steps for areas that exercise expiry: around the 300 s iterator lifetime.
const EXPIRY_STEPS: &[u64] = &[1_000, 299_000, 300_000, 300_001, 301_000];
/// Clock steps for retention: around 24 h and beyond.
const RETENTION_STEPS: &[u64] = &[
    3_600_000,
    23 * 3_600_000,
    24 * 3_600_000,
    24 * 3_600_000 + 1,
    48 * 3_600_000,
];

/// The operation mix of `area`.
pub fn op_strategy(area: Area) -> BoxedStrategy<Op> {
    let list = (proptest::option::of(1i64..3)).prop_map(|max_results| Op::List {
        stream: NameRef::Slot(0),
        max_results,
        token: None,
    });
    match area {
        Area::Routing => prop_oneof![6 => put(), 3 => batch(), 1 => drain(), 1 => list].boxed(),
        Area::Sequencing => prop_oneof![6 => put(), 3 => batch(), 2 => drain()].boxed(),
        Area::Iterators => prop_oneof![4 => put(), 4 => iterator(), 5 => read(), 1 => wait(EXPIRY_STEPS), 1 => drain()].boxed(),
        Area::Paging => prop_oneof![4 => put(), 2 => batch(), 2 => iterator(), 5 => read(), 3 => drain()].boxed(),
        Area::Resharding => prop_oneof![5 => put(), 1 => batch(), 3 => reshard(), 2 => iterator(), 3 => read(), 3 => drain(), 1 => list].boxed(),
        Area::Retention => prop_oneof![4 => put(), 2 => retention(), 2 => wait(RETENTION_STEPS), 2 => iterator(), 2 => read(), 2 => drain(), 1 => reshard()].boxed(),
        Area::Validation => prop_oneof![2 => put(), 1 => iterator(), 1 => read(), 6 => invalid(), 3 => super::raw_ops::raw_op().prop_map(Op::Raw)].boxed(),
    }
}

/// A generated case: the initial shard count and the operations.
pub fn case_strategy(area: Area, max_ops: usize) -> impl Strategy<Value = (i64, Vec<Op>)> {
    (
        1i64..=3,
        proptest::collection::vec(op_strategy(area), 1..=max_ops),
    )
}
