//! Stable labels of operation variants (`PutRecord/ehk=malformed-letters`,
//! `GetShardIterator/AT_TIMESTAMP`, `SplitShard/at=start`, `raw/...`), so a run can report which
//! variants it actually sent and a test can hold the generators to reaching every one.
//!
//! An operation has exactly one label: the request it sends, then the one edge it exercises,
//! chosen in a fixed order (a bad stream name first, then the most specific argument). Runtime
//! indexes (which shard, which returned number) are not part of a label.

use super::ops::*;

impl Op {
    /// The label of this operation's variant. Two operations with the same label exercise the
    /// same edge; the label depends only on the operation, never on a run.
    pub fn variant(&self) -> String {
        match self {
            Op::Put {
                stream,
                key,
                data,
                ehk,
                ordering,
            } => put_variant(stream, key, data, ehk, ordering),
            Op::PutBatch {
                stream,
                entries,
                pad_to,
            } => batch_variant(stream, entries, *pad_to),
            Op::Iterator {
                stream,
                shard,
                position,
            } => iterator_variant(stream, shard, position),
            Op::Read { iterator, limit } => read_variant(iterator, *limit),
            Op::Drain { .. } => "Drain".into(),
            Op::Split { stream, shard, at } => split_variant(stream, shard, at),
            Op::Merge {
                swap, pair, ids, ..
            } => merge_variant(*swap, *pair, *ids),
            Op::Scale { quarters, .. } => format!("UpdateShardCount/target={quarters}/4"),
            Op::Wait { ms } => format!("Wait/{ms}ms"),
            Op::Hold { ms } => format!("Hold/{ms}ms"),
            Op::Retention {
                stream,
                increase,
                hours,
            } => {
                let op = if *increase {
                    "IncreaseStreamRetentionPeriod"
                } else {
                    "DecreaseStreamRetentionPeriod"
                };
                match bad_name(stream) {
                    Some(n) => format!("{op}/stream={n}"),
                    None => format!("{op}/hours={hours}"),
                }
            }
            Op::Create { stream, shards } => match (bad_name(stream), stream) {
                (Some(n), _) => format!("CreateStream/stream={n}"),
                _ if *shards < 1 => format!("CreateStream/shards={shards}"),
                (None, NameRef::Slot(0)) => "CreateStream/existing".into(),
                _ => "CreateStream".into(),
            },
            Op::Delete { stream } => with_name("DeleteStream", stream),
            Op::Describe { stream } => with_name("DescribeStreamSummary", stream),
            Op::List {
                stream,
                max_results,
                token,
                after,
            } => list_variant(stream, *max_results, *token, after.as_ref()),
            Op::Raw(raw) => raw.variant(),
        }
    }
}

/// The label of a stream name that names no usable stream; `None` for a slot.
fn bad_name(n: &NameRef) -> Option<&'static str> {
    match n {
        NameRef::Slot(_) => None,
        NameRef::Unknown => Some("unknown"),
        NameRef::Empty => Some("empty"),
        NameRef::TooLong => Some("too-long"),
        NameRef::BadChar => Some("bad-char"),
    }
}

fn with_name(op: &str, stream: &NameRef) -> String {
    match bad_name(stream) {
        Some(n) => format!("{op}/stream={n}"),
        None => op.to_owned(),
    }
}

fn key_label(k: &KeyGen) -> Option<String> {
    match k {
        KeyGen::Pool(_) => None,
        KeyGen::Length(n) => Some(format!("key=len-{n}")),
        KeyGen::Unicode(n) => Some(format!("key=unicode-{n}")),
    }
}

fn data_label(d: &DataGen) -> Option<String> {
    match d {
        DataGen::Small(_) => None,
        DataGen::Size(n) => Some(format!("data=size-{n}")),
        DataGen::Click { .. } => Some("data=click".into()),
    }
}

fn ehk_label(h: &HashKeyGen) -> String {
    let what = match h {
        HashKeyGen::RangeStart(_) => "range-start".to_owned(),
        HashKeyGen::RangeEnd(_) => "range-end".into(),
        HashKeyGen::Max => "max".into(),
        HashKeyGen::MaxPlusOne => "max-plus-one".into(),
        HashKeyGen::ThirtyNineNines => "39-nines".into(),
        HashKeyGen::Malformed(m) => format!("malformed-{}", m.label()),
        HashKeyGen::Value(_) => "value".into(),
    };
    format!("ehk={what}")
}

fn seq_label(s: &SeqRef) -> String {
    match s {
        SeqRef::Returned(_) => "returned".into(),
        SeqRef::ShardStart(_) => "shard-start".into(),
        SeqRef::Literal(l) => literal_label(l).into(),
    }
}

fn literal_label(l: &str) -> &'static str {
    match l {
        "" => "empty",
        "01" => "leading-zero",
        "12a" => "letters",
        l if l == TOO_MANY_DIGITS => "130-digits",
        l if l == MOST_DIGITS => "129-nines",
        _ => "literal",
    }
}

/// The edge one record exercises: its explicit hash key, else its key, else its payload.
fn entry_label(key: &KeyGen, data: &DataGen, ehk: &Option<HashKeyGen>) -> Option<String> {
    ehk.as_ref()
        .map(ehk_label)
        .or_else(|| key_label(key))
        .or_else(|| data_label(data))
}

fn put_variant(
    stream: &NameRef,
    key: &KeyGen,
    data: &DataGen,
    ehk: &Option<HashKeyGen>,
    ordering: &Option<SeqRef>,
) -> String {
    if let Some(n) = bad_name(stream) {
        return format!("PutRecord/stream={n}");
    }
    let edge = ehk
        .as_ref()
        .map(ehk_label)
        .or_else(|| {
            ordering
                .as_ref()
                .map(|s| format!("ordering={}", seq_label(s)))
        })
        .or_else(|| key_label(key))
        .or_else(|| data_label(data));
    match edge {
        Some(e) => format!("PutRecord/{e}"),
        None => "PutRecord".into(),
    }
}

fn batch_variant(
    stream: &NameRef,
    entries: &[(KeyGen, DataGen, Option<HashKeyGen>)],
    pad_to: Option<usize>,
) -> String {
    if let Some(n) = bad_name(stream) {
        return format!("PutRecords/stream={n}");
    }
    let total = pad_to.unwrap_or(entries.len());
    if entries.is_empty() || pad_to.is_some() {
        let big = entries
            .iter()
            .any(|(_, d, _)| matches!(d, DataGen::Size(n) if *n >= 1_048_576));
        return if big {
            format!("PutRecords/entries={total}x1MiB")
        } else {
            format!("PutRecords/entries={total}")
        };
    }
    match entries.iter().find_map(|(k, d, h)| entry_label(k, d, h)) {
        Some(e) => format!("PutRecords/{e}"),
        None => "PutRecords".into(),
    }
}

fn iterator_variant(stream: &NameRef, shard: &ShardRef, position: &Position) -> String {
    if let Some(n) = bad_name(stream) {
        return format!("GetShardIterator/stream={n}");
    }
    let odd_shard = match shard {
        ShardRef::Known(_) | ShardRef::Open(_) => None,
        ShardRef::Missing => Some("missing"),
        ShardRef::Malformed => Some("malformed"),
        ShardRef::ShortForm(_) => Some("short"),
        ShardRef::Bare(_) => Some("bare"),
    };
    if let Some(s) = odd_shard {
        return format!("GetShardIterator/shard={s}");
    }
    let at = match position {
        Position::At(SeqRef::Returned(_)) => "AT_SEQUENCE_NUMBER".to_owned(),
        Position::At(s) => format!("AT_SEQUENCE_NUMBER/seq={}", seq_label(s)),
        Position::After(SeqRef::Returned(_)) => "AFTER_SEQUENCE_NUMBER".into(),
        Position::After(s) => format!("AFTER_SEQUENCE_NUMBER/seq={}", seq_label(s)),
        Position::TrimHorizon => "TRIM_HORIZON".into(),
        Position::Latest => "LATEST".into(),
        Position::AtTimestamp { offset_ms, .. } if *offset_ms > 1_000 => {
            "AT_TIMESTAMP/future".into()
        }
        Position::AtTimestamp { record: None, .. } => "AT_TIMESTAMP/case-start".into(),
        Position::AtTimestamp { .. } => "AT_TIMESTAMP".into(),
        Position::AtTimestampMissing => "AT_TIMESTAMP/missing".into(),
        Position::LatestWithNumber(_) => "LATEST/with-number".into(),
        Position::AtWithoutNumber => "AT_SEQUENCE_NUMBER/without-number".into(),
    };
    format!("GetShardIterator/{at}")
}

fn read_variant(iterator: &IterRef, limit: Option<i64>) -> String {
    let it = match iterator {
        IterRef::Returned(_) => None,
        IterRef::Garbage => Some("garbage"),
        IterRef::Empty => Some("empty"),
        IterRef::TooLong => Some("too-long"),
    };
    if let Some(it) = it {
        return format!("GetRecords/iterator={it}");
    }
    match limit {
        None => "GetRecords".into(),
        Some(l) if (1..4).contains(&l) => "GetRecords/limit=small".into(),
        Some(l) => format!("GetRecords/limit={l}"),
    }
}

fn split_variant(stream: &NameRef, shard: &ShardRef, at: &SplitAt) -> String {
    if let Some(n) = bad_name(stream) {
        return format!("SplitShard/stream={n}");
    }
    match shard {
        ShardRef::ShortForm(_) => return "SplitShard/shard=short".into(),
        ShardRef::Bare(_) => return "SplitShard/shard=bare".into(),
        _ => {}
    }
    let at = match at {
        SplitAt::Middle => "middle",
        SplitAt::Start => "start",
        SplitAt::StartPlusOne => "start+1",
        SplitAt::StartPlusTwo => "start+2",
        SplitAt::End => "end",
        SplitAt::EndMinusOne => "end-1",
        SplitAt::BeyondEnd => "beyond-end",
    };
    format!("SplitShard/at={at}")
}

fn merge_variant(swap: bool, pair: MergePair, ids: IdForm) -> String {
    let label = match (pair, ids, swap) {
        (MergePair::Gap, _, _) => "gap",
        (MergePair::OpenWithClosed, _, _) => "open-with-closed",
        (MergePair::BothClosed, _, _) => "both-closed",
        (MergePair::Adjacent, IdForm::Short, _) => "ids=short",
        (MergePair::Adjacent, IdForm::Bare, _) => "ids=bare",
        (MergePair::Adjacent, IdForm::Canonical, true) => "adjacent-swapped",
        (MergePair::Adjacent, IdForm::Canonical, false) => "adjacent",
    };
    format!("MergeShards/{label}")
}

fn list_variant(
    stream: &NameRef,
    max_results: Option<i64>,
    token: Option<bool>,
    after: Option<&ShardRef>,
) -> String {
    if let Some(n) = bad_name(stream) {
        return format!("ListShards/stream={n}");
    }
    match token {
        Some(true) => return "ListShards/token=with-stream".into(),
        Some(false) => return "ListShards/token=garbage".into(),
        None => {}
    }
    if let Some(a) = after {
        let form = match a {
            ShardRef::ShortForm(_) => "short",
            ShardRef::Bare(_) => "bare",
            _ => "canonical",
        };
        return format!("ListShards/after={form}");
    }
    match max_results {
        None => "ListShards".into(),
        Some(m) if (1..3).contains(&m) => "ListShards/max=small".into(),
        Some(m) => format!("ListShards/max={m}"),
    }
}
