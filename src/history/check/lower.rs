//! One event in the checker's compact form: fixed fields, names and payloads as hashes,
//! sequence numbers as [`Seq`], and nothing the checker does not use.
//!
//! Lines are parsed into a borrowed view ([`RawEvent`]: strings borrow from the line unless
//! they contain escapes; fields the checker does not read are skipped by serde without being
//! built) and lowered at once, so a parsed line costs no heap allocation beyond the vectors of
//! records and entries.

use super::hash::{Names, hash128};
use super::seq::Seq;
use crate::history::event::{Event, EventType, FORMAT_VERSION, Op};
use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

pub mod fast;

/// A string field that borrows from the line when it can.
#[derive(Debug)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A record of a `get_records` answer, borrowed.
#[derive(Debug, Deserialize)]
pub struct RawRecord<'a> {
    #[serde(borrow)]
    seq: Text<'a>,
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(borrow, default)]
    data: Option<Text<'a>>,
    #[serde(borrow, default)]
    data_b64: Option<Text<'a>>,
}

/// An entry of a `put_records` request, borrowed.
#[derive(Debug, Deserialize)]
pub struct RawEntry<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(borrow, default)]
    data: Option<Text<'a>>,
    #[serde(borrow, default)]
    data_b64: Option<Text<'a>>,
}

/// An entry result of a `put_records` answer, borrowed.
#[derive(Debug, Deserialize)]
pub struct RawResult<'a> {
    #[serde(borrow, default)]
    shard: Option<Text<'a>>,
    #[serde(borrow, default)]
    seq: Option<Text<'a>>,
}

/// A listed shard, borrowed.
#[derive(Debug, Deserialize)]
pub struct RawShard<'a> {
    #[serde(borrow)]
    shard: Text<'a>,
    #[serde(borrow, default)]
    parents: Vec<Text<'a>>,
}

/// The fields of an event the checker reads, borrowed from its line. Unknown and unused fields
/// (`mono_ns`, `stream`, `hash_key`, `message`, …) are skipped.
#[derive(Debug, Deserialize)]
pub struct RawEvent<'a> {
    v: u32,
    #[serde(borrow)]
    process: Text<'a>,
    #[serde(rename = "type")]
    kind: EventType,
    f: Op,
    wall_us: u64,
    #[serde(borrow, default)]
    node: Option<Text<'a>>,
    #[serde(borrow, default)]
    shard: Option<Text<'a>>,
    #[serde(borrow, default)]
    seq: Option<Text<'a>>,
    #[serde(borrow, default)]
    key: Option<Text<'a>>,
    #[serde(borrow, default)]
    data: Option<Text<'a>>,
    #[serde(borrow, default)]
    data_b64: Option<Text<'a>>,
    #[serde(borrow, default)]
    snfo: Option<Text<'a>>,
    #[serde(default)]
    attempt: Option<u32>,
    #[serde(borrow, default)]
    entries: Option<Vec<RawEntry<'a>>>,
    #[serde(borrow, default)]
    results: Option<Vec<RawResult<'a>>>,
    #[serde(borrow, default)]
    iterator_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    start_seq: Option<Text<'a>>,
    #[serde(default)]
    timestamp_ms: Option<u64>,
    #[serde(borrow, default)]
    iterator: Option<Text<'a>>,
    #[serde(borrow, default)]
    records: Option<Vec<RawRecord<'a>>>,
    #[serde(borrow, default)]
    next_iterator: Option<Text<'a>>,
    #[serde(default)]
    millis_behind: Option<u64>,
    #[serde(borrow, default)]
    children: Option<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    shards: Option<Vec<RawShard<'a>>>,
    #[serde(default)]
    shard_end: bool,
    #[serde(borrow, default)]
    target: Option<Text<'a>>,
    #[serde(borrow, default)]
    error: Option<Text<'a>>,
}

/// How a `get_shard_iterator` positions its iterator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IterKind {
    /// `TRIM_HORIZON`.
    TrimHorizon,
    /// `LATEST`.
    Latest,
    /// `AT_SEQUENCE_NUMBER`.
    At,
    /// `AFTER_SEQUENCE_NUMBER`.
    After,
    /// `AT_TIMESTAMP`.
    AtTimestamp,
}

/// A record a read returned.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    /// Its number.
    pub seq: Seq,
    /// Its partition key's hash.
    pub key: u64,
    /// Its payload's hash.
    pub payload: u128,
}

/// The operation-specific part of a lowered event. Absent fields are `None`; a field the
/// operation needs but the event lacks is judged where it is used.
#[derive(Clone, Debug)]
pub enum Body {
    /// Nothing the checker reads.
    Empty,
    /// `put_record` (invoke: key, payload, attempt, snfo; ok: shard, seq).
    Put {
        /// Partition key.
        key: Option<u64>,
        /// Payload.
        payload: Option<u128>,
        /// Attempt number.
        attempt: Option<u32>,
        /// `SequenceNumberForOrdering`.
        snfo: Option<Seq>,
        /// The shard that stored it.
        shard: Option<u64>,
        /// Its number.
        seq: Option<Seq>,
    },
    /// `put_records` (invoke: entries, attempt; ok: results, `None` for a failed entry).
    PutRecords {
        /// `(key, payload)` per entry.
        entries: Vec<(u64, u128)>,
        /// Attempt number.
        attempt: Option<u32>,
        /// Per entry: `(shard, seq)` when it succeeded.
        results: Option<Vec<Option<(u64, Seq)>>>,
    },
    /// `get_shard_iterator` (invoke: shard, kind, start, timestamp; ok: iterator).
    Iter {
        /// Shard.
        shard: Option<u64>,
        /// Iterator type.
        kind: Option<IterKind>,
        /// Starting number.
        start_seq: Option<Seq>,
        /// `AT_TIMESTAMP` timestamp.
        timestamp_ms: Option<u64>,
        /// The iterator returned.
        iterator: Option<u128>,
    },
    /// `get_records` (invoke: shard, iterator; ok: records, next, millis_behind, children).
    Read {
        /// Shard.
        shard: Option<u64>,
        /// The iterator used.
        iterator: Option<u128>,
        /// Records returned.
        records: Vec<Rec>,
        /// `NextShardIterator`.
        next: Option<u128>,
        /// `MillisBehindLatest`.
        millis_behind: Option<u64>,
        /// Child shards.
        children: Vec<u64>,
    },
    /// `list_shards` ok: `(shard, parents)`.
    Shards(Vec<(u64, Vec<u64>)>),
    /// A consumer step: lease, release, process, checkpoint, read_checkpoint.
    Step {
        /// Shard.
        shard: Option<u64>,
        /// Number processed or checkpointed.
        seq: Option<Seq>,
        /// Key of a processed record.
        key: Option<u64>,
        /// Payload of a processed record.
        payload: Option<u128>,
        /// A `SHARD_END` checkpoint.
        shard_end: bool,
    },
    /// A nemesis event's target.
    Target(Option<u64>),
    /// A stream-level call (`DescribeStreamSummary`, `ListShards`) failed with
    /// `ResourceNotFoundException`: the stream was not there.
    StreamNotFound,
    /// The line is not a valid event of the format; the reason.
    Bad(String),
}

/// An event in compact form.
#[derive(Clone, Debug)]
pub struct Lowered {
    /// Invoke / ok / fail / info.
    pub kind: EventType,
    /// The operation.
    pub f: Op,
    /// Wall clock, µs.
    pub wall_us: u64,
    /// The qualified process (`node/process`), hashed; 0 for a line that did not parse.
    pub process: u64,
    /// Operation-specific fields.
    pub body: Body,
}

/// Hash domain of `data` payload text.
pub const TAG_TEXT: u8 = 1;
/// Hash domain of `data_b64` payload text.
pub const TAG_B64: u8 = 2;

fn payload(data: &Option<Text<'_>>, b64: &Option<Text<'_>>) -> Option<u128> {
    match (data, b64) {
        (Some(t), _) => Some(hash128(TAG_TEXT, t.0.as_bytes())),
        (None, Some(b)) => Some(hash128(TAG_B64, b.0.as_bytes())),
        _ => None,
    }
}

fn seq(t: &Option<Text<'_>>, what: &str) -> Result<Option<Seq>, String> {
    match t {
        None => Ok(None),
        Some(t) => Seq::parse(&t.0)
            .map(Some)
            .map_err(|e| format!("{what}: {e}")),
    }
}

fn nm(names: &mut Names, t: &Option<Text<'_>>) -> Option<u64> {
    t.as_ref().map(|t| names.intern(&t.0))
}

fn iter_kind(t: &str) -> Result<IterKind, String> {
    Ok(match t {
        "TRIM_HORIZON" => IterKind::TrimHorizon,
        "LATEST" => IterKind::Latest,
        "AT_SEQUENCE_NUMBER" => IterKind::At,
        "AFTER_SEQUENCE_NUMBER" => IterKind::After,
        "AT_TIMESTAMP" => IterKind::AtTimestamp,
        other => return Err(format!("unknown iterator_type {other:?}")),
    })
}

/// Parses one line into its compact form. `None` for a blank line; a line that is not an
/// event of format version 1 comes back as [`Body::Bad`].
pub fn parse_line(line: &[u8], names: &mut Names) -> Option<Lowered> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let bad = |reason: String| Lowered {
        kind: EventType::Info,
        f: Op::Kill,
        wall_us: 0,
        process: 0,
        body: Body::Bad(reason),
    };
    let parsed = match fast::scan(line) {
        Some(raw) => Ok(raw),
        None => serde_json::from_slice::<RawEvent<'_>>(line),
    };
    match parsed {
        Ok(raw) => Some(lower(&raw, names).unwrap_or_else(|reason| Lowered {
            kind: raw.kind,
            f: raw.f,
            wall_us: raw.wall_us,
            process: process_hash(&raw, names),
            body: Body::Bad(reason),
        })),
        Err(e) => Some(bad(format!("not a history event: {e}"))),
    }
}

fn process_hash(raw: &RawEvent<'_>, names: &mut Names) -> u64 {
    match &raw.node {
        Some(n) => names.intern(&format!("{}/{}", n.0, raw.process.0)),
        None => names.intern(&raw.process.0),
    }
}

/// Lowers a parsed line; `Err` with the reason when a field breaks the format.
pub fn lower(raw: &RawEvent<'_>, names: &mut Names) -> Result<Lowered, String> {
    if raw.v != FORMAT_VERSION {
        return Err(format!(
            "format version {}, this checker reads {FORMAT_VERSION}",
            raw.v
        ));
    }
    let process = process_hash(raw, names);
    let iter = |t: &Option<Text<'_>>| t.as_ref().map(|t| hash128(3, t.0.as_bytes()));
    let body = match raw.f {
        Op::PutRecord => Body::Put {
            key: nm(names, &raw.key),
            payload: payload(&raw.data, &raw.data_b64),
            attempt: raw.attempt,
            snfo: seq(&raw.snfo, "snfo")?,
            shard: nm(names, &raw.shard),
            seq: seq(&raw.seq, "seq")?,
        },
        Op::PutRecords => {
            let entries = match &raw.entries {
                Some(es) => es
                    .iter()
                    .map(|e| {
                        let p = payload(&e.data, &e.data_b64)
                            .ok_or("put_records entry without data")?;
                        Ok((names.intern(&e.key.0), p))
                    })
                    .collect::<Result<Vec<_>, String>>()?,
                None => Vec::new(),
            };
            let results = match &raw.results {
                Some(rs) => Some(
                    rs.iter()
                        .map(|r| match (&r.shard, &r.seq) {
                            (Some(sh), Some(sq)) => Ok(Some((
                                names.intern(&sh.0),
                                Seq::parse(&sq.0).map_err(|e| format!("results seq: {e}"))?,
                            ))),
                            _ => Ok(None),
                        })
                        .collect::<Result<Vec<_>, String>>()?,
                ),
                None => None,
            };
            Body::PutRecords {
                entries,
                attempt: raw.attempt,
                results,
            }
        }
        Op::GetShardIterator => Body::Iter {
            shard: nm(names, &raw.shard),
            kind: raw
                .iterator_type
                .as_ref()
                .map(|t| iter_kind(&t.0))
                .transpose()?,
            start_seq: seq(&raw.start_seq, "start_seq")?,
            timestamp_ms: raw.timestamp_ms,
            iterator: iter(&raw.iterator),
        },
        Op::GetRecords => {
            let mut records = Vec::with_capacity(raw.records.as_ref().map_or(0, Vec::len));
            for r in raw.records.iter().flatten() {
                records.push(Rec {
                    seq: Seq::parse(&r.seq.0).map_err(|e| format!("record seq: {e}"))?,
                    key: names.intern(&r.key.0),
                    payload: payload(&r.data, &r.data_b64).ok_or("record without data")?,
                });
            }
            Body::Read {
                shard: nm(names, &raw.shard),
                iterator: iter(&raw.iterator),
                records,
                next: iter(&raw.next_iterator),
                millis_behind: raw.millis_behind,
                children: raw
                    .children
                    .iter()
                    .flatten()
                    .map(|c| names.intern(&c.0))
                    .collect(),
            }
        }
        Op::ListShards => Body::Shards(
            raw.shards
                .iter()
                .flatten()
                .map(|s| {
                    (
                        names.intern(&s.shard.0),
                        s.parents.iter().map(|p| names.intern(&p.0)).collect(),
                    )
                })
                .collect(),
        ),
        Op::Lease | Op::Release | Op::Process | Op::Checkpoint | Op::ReadCheckpoint => Body::Step {
            shard: nm(names, &raw.shard),
            seq: seq(&raw.seq, "seq")?,
            key: nm(names, &raw.key),
            payload: payload(&raw.data, &raw.data_b64),
            shard_end: raw.shard_end,
        },
        Op::Kill | Op::Restart | Op::KillConsumer | Op::RestartConsumer => {
            Body::Target(raw.target.as_ref().map(|t| match &raw.node {
                Some(n) => names.intern(&format!("{}/{}", n.0, t.0)),
                None => names.intern(&t.0),
            }))
        }
        _ => Body::Empty,
    };
    let body = match (raw.kind, raw.f, &raw.error) {
        (EventType::Fail, Op::DescribeStreamSummary | Op::ListShards, Some(e))
            if e.0 == "ResourceNotFoundException" =>
        {
            Body::StreamNotFound
        }
        _ => body,
    };
    Ok(Lowered {
        kind: raw.kind,
        f: raw.f,
        wall_us: raw.wall_us,
        process,
        body,
    })
}

fn text(s: &Option<String>) -> Option<Text<'_>> {
    s.as_deref().map(|s| Text(Cow::Borrowed(s)))
}

/// Lowers an in-memory [`Event`] exactly as its JSON line would be lowered.
pub fn lower_event(e: &Event, names: &mut Names) -> Lowered {
    let raw = RawEvent {
        v: e.v,
        process: Text(Cow::Borrowed(&e.process)),
        kind: e.kind,
        f: e.f,
        wall_us: e.wall_us,
        node: text(&e.node),
        shard: text(&e.shard),
        seq: text(&e.seq),
        key: text(&e.key),
        data: text(&e.data),
        data_b64: text(&e.data_b64),
        snfo: text(&e.snfo),
        attempt: e.attempt,
        entries: e.entries.as_ref().map(|es| {
            es.iter()
                .map(|x| RawEntry {
                    key: Text(Cow::Borrowed(&x.key)),
                    data: text(&x.data),
                    data_b64: text(&x.data_b64),
                })
                .collect()
        }),
        results: e.results.as_ref().map(|rs| {
            rs.iter()
                .map(|r| RawResult {
                    shard: text(&r.shard),
                    seq: text(&r.seq),
                })
                .collect()
        }),
        iterator_type: text(&e.iterator_type),
        start_seq: text(&e.start_seq),
        timestamp_ms: e.timestamp_ms,
        iterator: text(&e.iterator),
        records: e.records.as_ref().map(|rs| {
            rs.iter()
                .map(|r| RawRecord {
                    seq: Text(Cow::Borrowed(&r.seq)),
                    key: Text(Cow::Borrowed(&r.key)),
                    data: text(&r.data),
                    data_b64: text(&r.data_b64),
                })
                .collect()
        }),
        next_iterator: text(&e.next_iterator),
        millis_behind: e.millis_behind,
        children: e
            .children
            .as_ref()
            .map(|c| c.iter().map(|s| Text(Cow::Borrowed(s))).collect()),
        shards: e.shards.as_ref().map(|ss| {
            ss.iter()
                .map(|s| RawShard {
                    shard: Text(Cow::Borrowed(&s.shard)),
                    parents: s.parents.iter().map(|p| Text(Cow::Borrowed(p))).collect(),
                })
                .collect()
        }),
        shard_end: e.shard_end,
        target: text(&e.target),
        error: text(&e.error),
    };
    lower(&raw, names).unwrap_or_else(|reason| Lowered {
        kind: e.kind,
        f: e.f,
        wall_us: e.wall_us,
        process: process_hash(&raw, names),
        body: Body::Bad(reason),
    })
}
