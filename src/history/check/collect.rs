//! The one sequential pass over a history: pairs every completion with its invoke, resolves
//! put attempts per payload, follows iterator chains, and files every fact under the shard it
//! concerns, so that the checks afterwards run shard by shard.
//!
//! Time is the event's position in the (merged) history: `t` counts events from 0. "Before"
//! and "after" below always compare these positions; wall-clock times are kept only to measure
//! lag in milliseconds and to place `AT_TIMESTAMP` iterators.

use super::hash::{HashedMap, Names};
use super::lower::{Body, IterKind, Lowered};
use super::seq::{Bound, Seq};
use super::tally::Tally;
use crate::history::event::{EventType, Op};
use crate::history::io::EventRef;
use crate::history::report::{Anomaly, AnomalyClass, Coverage};

/// A position in the merged history.
pub type T = u64;

/// An event's place: its position and its file:line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// Position in the merged history.
    pub t: T,
    /// Wall clock, µs.
    pub wall: u64,
    /// File and line.
    pub r: EventRef,
}

/// One logical put (one payload), over all its attempts.
#[derive(Clone, Debug)]
pub struct PutState {
    /// Partition key hash.
    pub key: u64,
    /// Invoke of the first attempt.
    pub first: EventRef,
    /// Attempts, retries included.
    pub attempts: u32,
    /// Attempts with an unknown (`info`) outcome.
    pub infos: u32,
    /// Attempts that failed (`fail`).
    pub fails: u32,
    /// An attempt began after an earlier attempt had an unknown or failed outcome.
    pub retried_after_uncertain: bool,
    /// The first acknowledgement: shard index and number.
    pub ack: Option<(u32, Seq)>,
    /// Further acknowledgements at other positions.
    pub extra_acks: u32,
    /// The first acknowledgement's completion.
    pub ack_at: Option<At>,
    /// Completion of the last attempt.
    pub last_done: T,
    /// Distinct positions the payload was read at (filled after the shard logs are built).
    pub seen: u32,
    /// Whether one of them is the acknowledged position.
    pub seen_at_ack: bool,
    /// The first read position: shard, number, the read that returned it.
    pub first_seen: Option<(u32, Seq, EventRef)>,
}

/// An acknowledged put attempt, filed under its shard.
#[derive(Clone, Copy, Debug)]
pub struct Ack {
    /// Its number.
    pub seq: Seq,
    /// Its payload.
    pub payload: u128,
    /// The attempt's invoke.
    pub inv: At,
    /// The attempt's acknowledgement.
    pub ok: At,
}

/// A record as one page returned it.
#[derive(Clone, Copy, Debug)]
pub struct Obs {
    /// Its number.
    pub seq: Seq,
    /// Its payload.
    pub payload: u128,
    /// Its key.
    pub key: u64,
    /// Index of the page (in its shard's `pages`).
    pub page: u32,
}

/// One completed `get_records` call.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// Its chain (index in its shard's `chains`).
    pub chain: u32,
    /// Where its iterator stood; `None` when not known in numbers (an `AT_TIMESTAMP` or
    /// `LATEST` chain before its first record).
    pub from: Option<Bound>,
    /// First and last record returned.
    pub first: Option<Seq>,
    /// Last record returned.
    pub last: Option<Seq>,
    /// No `next_iterator`: the shard's end.
    pub end: bool,
    /// At the tip: `millis_behind` 0 (or, without `millis_behind`, an empty page).
    pub tip: bool,
    /// Invoke.
    pub inv: At,
    /// Completion.
    pub ok: At,
}

/// How a chain of iterators began.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// At a number bound (`TRIM_HORIZON`, `AT_`/`AFTER_SEQUENCE_NUMBER`, or the first record
    /// of a chain whose iterator's origin is not in the history).
    Seq(Bound),
    /// `AT_TIMESTAMP`: returns records that arrived at or after this wall time (µs).
    Timestamp(u64),
    /// `LATEST`: returns records put after this position (the iterator's completion).
    Latest(T),
}

/// One chain of iterators: a `get_shard_iterator` and the pages that followed its
/// `NextShardIterator`s.
#[derive(Clone, Copy, Debug)]
pub struct Chain {
    /// How it began.
    pub start: Start,
    /// When it began (the `get_shard_iterator` invoke, or its first page's).
    pub began: At,
    /// Highest number returned, or [`Seq::MAX`] once it reached the shard's end.
    pub reach: Option<Seq>,
    /// First number returned.
    pub first: Option<Seq>,
    /// Invoke of its latest page at the tip.
    pub tip: Option<T>,
    /// The completion of the page that set `reach`, and of the latest tip page.
    pub went_past: Option<EventRef>,
}

/// A completed `process` step.
#[derive(Clone, Copy, Debug)]
pub struct Proc {
    /// The record's number.
    pub seq: Seq,
    /// Its key.
    pub key: u64,
    /// The consumer.
    pub consumer: u64,
    /// The consumer's restart epoch (kills and restarts of it so far).
    pub epoch: u32,
    /// Lease changes of the shard so far.
    pub lease_gen: u32,
    /// Invoke.
    pub inv: At,
    /// Completion.
    pub ok: At,
}

/// A durable checkpoint (value [`Seq::MAX`] for `SHARD_END`), or a checkpoint read back
/// (`None` when the store had none).
#[derive(Clone, Copy, Debug)]
pub struct Cp {
    /// The value.
    pub value: Option<Seq>,
    /// The consumer.
    pub consumer: u64,
    /// Invoke.
    pub inv: At,
    /// Completion.
    pub ok: At,
}

/// Everything filed under one shard.
#[derive(Debug, Default)]
pub struct ShardFacts {
    /// Hash of the shard id.
    pub name: u64,
    /// Acknowledged attempts.
    pub acks: Vec<Ack>,
    /// `(seq, snfo, ok)` of acknowledged `put_record`s with `snfo`.
    pub snfos: Vec<(Seq, Seq, At)>,
    /// Records as returned, one per record per page.
    pub obs: Vec<Obs>,
    /// Pages.
    pub pages: Vec<Page>,
    /// Chains.
    pub chains: Vec<Chain>,
    /// Completed processing.
    pub procs: Vec<Proc>,
    /// Durable checkpoints, in history order.
    pub checkpoints: Vec<Cp>,
    /// Checkpoints read back, in history order.
    pub read_checkpoints: Vec<Cp>,
    /// Lease and release completions on the shard.
    pub lease_changes: Vec<T>,
    /// Parents (shard indexes).
    pub parents: Vec<u32>,
}

/// A kill of the service and the restart after it.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    /// The kill's invoke.
    pub kill: At,
    /// The restart's completion, if one followed.
    pub restart: Option<At>,
}

/// What the sequential pass leaves for the checks.
#[derive(Debug)]
pub struct Facts {
    /// Per shard, indexed by shard index.
    pub shards: Vec<ShardFacts>,
    /// Logical puts by payload.
    pub puts: HashedMap<u128, PutState>,
    /// Crashes of the service, in order.
    pub crashes: Vec<Crash>,
    /// Kill and restart positions per consumer.
    pub consumer_restarts: HashedMap<u64, Vec<T>>,
    /// Names.
    pub names: Names,
    /// Format breaks and other anomalies found while collecting.
    pub tally: Tally,
    /// Counts.
    pub coverage: Coverage,
    /// Events seen.
    pub events: u64,
    /// The first of the stream's final run of `ResourceNotFoundException` answers to
    /// stream-level calls (nothing on it succeeded afterwards), when no `DeleteStream` was
    /// asked for: from there on, the stream and every record in it are gone.
    pub stream_gone: Option<At>,
}

struct Pending {
    process: u64,
    f: Op,
    inv: At,
    body: Body,
}

#[derive(Clone, Copy)]
struct IterPos {
    shard: u32,
    chain: u32,
    pos: Option<Bound>,
}

/// The sequential pass. Feed events in history order with [`Collector::push`], then
/// [`Collector::finish`].
pub struct Collector {
    t: T,
    pending: HashedMap<u64, Pending>,
    shard_index: HashedMap<u64, u32>,
    iters: HashedMap<u128, IterPos>,
    epochs: HashedMap<u64, u32>,
    lease_gen: HashedMap<u32, u32>,
    pending_kill: Option<At>,
    delete_asked: bool,
    facts: Facts,
}

impl Collector {
    /// An empty pass keeping `example_limit` examples per class.
    pub fn new(example_limit: usize) -> Self {
        Collector {
            t: 0,
            pending: HashedMap::default(),
            shard_index: HashedMap::default(),
            iters: HashedMap::default(),
            epochs: HashedMap::default(),
            lease_gen: HashedMap::default(),
            pending_kill: None,
            delete_asked: false,
            facts: Facts {
                shards: Vec::new(),
                puts: HashedMap::default(),
                crashes: Vec::new(),
                consumer_restarts: HashedMap::default(),
                names: Names::default(),
                tally: Tally::new(example_limit),
                coverage: Coverage::default(),
                events: 0,
                stream_gone: None,
            },
        }
    }

    /// Takes in names interned while parsing.
    pub fn absorb_names(&mut self, names: Names) {
        self.facts.names.absorb(names);
    }

    fn malformed(&mut self, at: At, detail: String) {
        self.facts
            .tally
            .add(AnomalyClass::MalformedHistory, at.t, || Anomaly {
                class: AnomalyClass::MalformedHistory,
                shard: None,
                detail,
                events: vec![at.r],
            });
    }

    fn shard(&mut self, name: u64) -> u32 {
        if let Some(&i) = self.shard_index.get(&name) {
            return i;
        }
        let i = self.facts.shards.len() as u32;
        self.shard_index.insert(name, i);
        self.facts.shards.push(ShardFacts {
            name,
            ..ShardFacts::default()
        });
        i
    }

    /// Takes in the next event of the history.
    pub fn push(&mut self, r: EventRef, ev: Lowered) {
        let at = At {
            t: self.t,
            wall: ev.wall_us,
            r,
        };
        self.t += 1;
        self.facts.events += 1;
        if let Body::Bad(reason) = &ev.body {
            let reason = reason.clone();
            self.malformed(at, reason);
            if ev.process == 0 {
                return;
            }
            // A completion that breaks the format leaves its operation's outcome unknown.
            if ev.kind != EventType::Invoke {
                if let Some(p) = self.pending.remove(&ev.process) {
                    self.complete(p, EventType::Info, Body::Empty, at);
                }
                return;
            }
        }
        if ev.kind == EventType::Invoke {
            if let Some(p) = self.pending.remove(&ev.process) {
                let name = self.facts.names.get(ev.process).to_owned();
                self.malformed(
                    at,
                    format!(
                        "{name} invokes {:?} while its {:?} (line {}) is still pending",
                        ev.f, p.f, p.inv.r.line
                    ),
                );
                self.complete(p, EventType::Info, Body::Empty, at);
            }
            if matches!(ev.body, Body::Bad(_)) {
                return;
            }
            self.pending.insert(
                ev.process,
                Pending {
                    process: ev.process,
                    f: ev.f,
                    inv: at,
                    body: ev.body,
                },
            );
            return;
        }
        match self.pending.remove(&ev.process) {
            Some(p) if p.f == ev.f => self.complete(p, ev.kind, ev.body, at),
            Some(p) => {
                let name = self.facts.names.get(ev.process).to_owned();
                self.malformed(
                    at,
                    format!(
                        "{name} completes {:?} while its pending operation is {:?} (line {})",
                        ev.f, p.f, p.inv.r.line
                    ),
                );
                self.pending.insert(ev.process, p);
            }
            None => {
                let name = self.facts.names.get(ev.process).to_owned();
                self.malformed(at, format!("{name} completes {:?} without an invoke", ev.f));
            }
        }
    }

    fn complete(&mut self, p: Pending, kind: EventType, done: Body, at: At) {
        match (&done, kind, p.f) {
            (Body::StreamNotFound, _, _) if !self.delete_asked => {
                self.facts.stream_gone.get_or_insert(at);
            }
            (
                _,
                EventType::Ok,
                Op::DescribeStreamSummary
                | Op::ListShards
                | Op::PutRecord
                | Op::PutRecords
                | Op::GetShardIterator
                | Op::GetRecords,
            ) => {
                self.facts.stream_gone = None;
            }
            (_, _, Op::DeleteStream) => self.delete_asked = true,
            _ => {}
        }
        match p.f {
            Op::PutRecord => self.put_record(p, kind, done, at),
            Op::PutRecords => self.put_records(p, kind, done, at),
            Op::GetShardIterator => self.get_shard_iterator(p, kind, done, at),
            Op::GetRecords => self.get_records(p, kind, done, at),
            Op::ListShards => {
                if let (EventType::Ok, Body::Shards(list)) = (kind, done) {
                    for (child, parents) in list {
                        let c = self.shard(child);
                        for parent in parents {
                            let pi = self.shard(parent);
                            if !self.facts.shards[c as usize].parents.contains(&pi) {
                                self.facts.shards[c as usize].parents.push(pi);
                            }
                        }
                    }
                }
            }
            Op::Lease | Op::Release | Op::Process | Op::Checkpoint | Op::ReadCheckpoint
                if kind == EventType::Ok =>
            {
                self.consumer_step(p, done, at);
            }
            Op::Kill if kind == EventType::Ok => {
                self.facts.coverage.kills += 1;
                self.pending_kill = Some(p.inv);
                self.facts.crashes.push(Crash {
                    kill: p.inv,
                    restart: None,
                });
            }
            Op::Restart if kind == EventType::Ok && self.pending_kill.take().is_some() => {
                if let Some(c) = self.facts.crashes.last_mut() {
                    c.restart = Some(at);
                }
            }
            Op::NetFault if kind == EventType::Ok => {
                self.facts.coverage.net_faults += 1;
            }
            Op::KillConsumer | Op::RestartConsumer => {
                if let (EventType::Ok, Body::Target(Some(target))) = (kind, &p.body) {
                    let target = *target;
                    if p.f == Op::KillConsumer {
                        self.facts.coverage.consumer_kills += 1;
                        // A killed consumer's pending operation stays unknown.
                        if let Some(pend) = self.pending.remove(&target) {
                            self.complete(pend, EventType::Info, Body::Empty, at);
                        }
                    }
                    *self.epochs.entry(target).or_default() += 1;
                    self.facts
                        .consumer_restarts
                        .entry(target)
                        .or_default()
                        .push(at.t);
                }
            }
            _ => {}
        }
    }

    fn attempt(
        &mut self,
        payload: u128,
        key: u64,
        inv: At,
        outcome: Result<(u64, Seq), EventType>,
        done: At,
        snfo: Option<Seq>,
    ) {
        self.facts.coverage.put_attempts += 1;
        let ps = self.facts.puts.entry(payload).or_insert_with(|| PutState {
            key,
            first: inv.r,
            attempts: 0,
            infos: 0,
            fails: 0,
            retried_after_uncertain: false,
            ack: None,
            extra_acks: 0,
            ack_at: None,
            last_done: done.t,
            seen: 0,
            seen_at_ack: false,
            first_seen: None,
        });
        if ps.infos + ps.fails > 0 {
            ps.retried_after_uncertain = true;
        }
        ps.attempts += 1;
        ps.last_done = ps.last_done.max(done.t);
        match outcome {
            Err(EventType::Fail) => ps.fails += 1,
            Err(_) => ps.infos += 1,
            Ok((shard, seq)) => {
                let si = match self.shard_index.get(&shard) {
                    Some(&i) => i,
                    None => self.shard(shard),
                };
                let ps = self.facts.puts.get_mut(&payload).expect("inserted above");
                match ps.ack {
                    None => {
                        ps.ack = Some((si, seq));
                        ps.ack_at = Some(done);
                    }
                    Some(a) if a != (si, seq) => ps.extra_acks += 1,
                    Some(_) => {}
                }
                let sf = &mut self.facts.shards[si as usize];
                sf.acks.push(Ack {
                    seq,
                    payload,
                    inv,
                    ok: done,
                });
                if let Some(x) = snfo {
                    sf.snfos.push((seq, x, done));
                }
            }
        }
    }

    fn put_record(&mut self, p: Pending, kind: EventType, done: Body, at: At) {
        let Body::Put {
            key, payload, snfo, ..
        } = p.body
        else {
            return;
        };
        let Some(payload) = payload else {
            self.malformed(p.inv, "put_record without data".into());
            return;
        };
        let outcome = match (kind, done) {
            (
                EventType::Ok,
                Body::Put {
                    shard: Some(s),
                    seq: Some(q),
                    ..
                },
            ) => Ok((s, q)),
            (EventType::Ok, _) => {
                self.malformed(at, "put_record ok without shard and seq".into());
                Err(EventType::Info)
            }
            (k, _) => Err(k),
        };
        self.attempt(payload, key.unwrap_or(0), p.inv, outcome, at, snfo);
    }

    fn put_records(&mut self, p: Pending, kind: EventType, done: Body, at: At) {
        let Body::PutRecords { entries, .. } = p.body else {
            return;
        };
        let results = match (kind, done) {
            (
                EventType::Ok,
                Body::PutRecords {
                    results: Some(r), ..
                },
            ) if r.len() == entries.len() => Some(r),
            (EventType::Ok, _) => {
                self.malformed(at, "put_records ok without one result per entry".into());
                None
            }
            _ => None,
        };
        for (i, (key, payload)) in entries.into_iter().enumerate() {
            let outcome = match &results {
                Some(r) => match r[i] {
                    Some(pos) => Ok(pos),
                    None => Err(EventType::Fail),
                },
                None if kind == EventType::Fail => Err(EventType::Fail),
                None => Err(EventType::Info),
            };
            self.attempt(payload, key, p.inv, outcome, at, None);
        }
    }

    fn get_shard_iterator(&mut self, p: Pending, kind: EventType, done: Body, at: At) {
        let (
            EventType::Ok,
            Body::Iter {
                shard: Some(shard),
                kind: Some(ik),
                start_seq,
                timestamp_ms,
                ..
            },
            Body::Iter {
                iterator: Some(it), ..
            },
        ) = (kind, &p.body, &done)
        else {
            return;
        };
        let start = match (ik, start_seq) {
            (IterKind::TrimHorizon, _) => Start::Seq(Bound::START),
            (IterKind::At, Some(s)) => Start::Seq(Bound::at(*s)),
            (IterKind::After, Some(s)) => Start::Seq(Bound::after(*s)),
            (IterKind::AtTimestamp, _) => {
                Start::Timestamp(timestamp_ms.unwrap_or(0).saturating_mul(1000))
            }
            (IterKind::Latest, _) => Start::Latest(at.t),
            _ => return,
        };
        let si = self.shard(*shard);
        let sf = &mut self.facts.shards[si as usize];
        let chain = sf.chains.len() as u32;
        sf.chains.push(Chain {
            start,
            began: p.inv,
            reach: None,
            first: None,
            tip: None,
            went_past: None,
        });
        let pos = match start {
            Start::Seq(b) => Some(b),
            _ => None,
        };
        self.iters.insert(
            *it,
            IterPos {
                shard: si,
                chain,
                pos,
            },
        );
    }

    fn get_records(&mut self, p: Pending, kind: EventType, done: Body, at: At) {
        if kind != EventType::Ok {
            return;
        }
        let Body::Read {
            shard: Some(shard),
            iterator,
            ..
        } = p.body
        else {
            self.malformed(p.inv, "get_records without shard".into());
            return;
        };
        let Body::Read {
            records,
            next,
            millis_behind,
            children,
            ..
        } = done
        else {
            return;
        };
        self.facts.coverage.reads += 1;
        let si = self.shard(shard);
        for c in children {
            let ci = self.shard(c);
            if !self.facts.shards[ci as usize].parents.contains(&si) {
                self.facts.shards[ci as usize].parents.push(si);
            }
        }
        let known = iterator
            .and_then(|it| self.iters.get(&it).copied())
            .filter(|ip| ip.shard == si);
        let sf = &mut self.facts.shards[si as usize];
        let (chain, from) = match known {
            Some(ip) => (ip.chain, ip.pos),
            None => {
                // An iterator whose origin is not in the history: a chain that began here, at
                // its first record.
                let c = sf.chains.len() as u32;
                let start = records
                    .first()
                    .map_or(Start::Latest(p.inv.t), |r| Start::Seq(Bound::at(r.seq)));
                sf.chains.push(Chain {
                    start,
                    began: p.inv,
                    reach: None,
                    first: None,
                    tip: None,
                    went_past: None,
                });
                (c, records.first().map(|r| Bound::at(r.seq)))
            }
        };
        let page = sf.pages.len() as u32;
        let tip = millis_behind == Some(0) || (millis_behind.is_none() && records.is_empty());
        let mut bad_order = None;
        for (i, r) in records.iter().enumerate() {
            if i > 0 && records[i - 1].seq >= r.seq {
                bad_order = Some((records[i - 1].seq, r.seq));
            }
            sf.obs.push(Obs {
                seq: r.seq,
                payload: r.payload,
                key: r.key,
                page,
            });
        }
        let first = records.first().map(|r| r.seq);
        let last = records.iter().map(|r| r.seq).max();
        sf.pages.push(Page {
            chain,
            from,
            first,
            last,
            end: next.is_none(),
            tip,
            inv: p.inv,
            ok: at,
        });
        let ch = &mut sf.chains[chain as usize];
        if ch.first.is_none() {
            ch.first = first;
        }
        if let Some(l) = last {
            if ch.reach.is_none_or(|r| l > r) {
                ch.reach = Some(l);
                ch.went_past = Some(at.r);
            }
        }
        if next.is_none() {
            ch.reach = Some(Seq::MAX);
            ch.went_past = Some(at.r);
        }
        if tip {
            ch.tip = Some(ch.tip.map_or(p.inv.t, |t| t.max(p.inv.t)));
            ch.went_past = Some(at.r);
        }
        let next_pos = match last {
            Some(l) => Some(Bound::after(l)),
            None => from,
        };
        if let Some(n) = next {
            self.iters.insert(
                n,
                IterPos {
                    shard: si,
                    chain,
                    pos: next_pos,
                },
            );
        }
        let name = sf.name;
        if let Some((a, b)) = bad_order {
            let shard_name = self.facts.names.get(name).to_owned();
            self.facts
                .tally
                .add(AnomalyClass::IteratorChain, p.inv.t, || Anomaly {
                    class: AnomalyClass::IteratorChain,
                    shard: Some(shard_name),
                    detail: format!(
                        "one page returns {b} after {a}: numbers do not increase within the page"
                    ),
                    events: vec![p.inv.r, at.r],
                });
        }
        if let (Some(f), Some(b)) = (first, from) {
            if !b.admits(f) {
                let shard_name = self.facts.names.get(name).to_owned();
                let prev = if b.after { "after" } else { "at" };
                self.facts.tally.add(AnomalyClass::IteratorChain, p.inv.t, || Anomaly {
                    class: AnomalyClass::IteratorChain,
                    shard: Some(shard_name),
                    detail: format!("a page whose iterator stands {prev} {} returns {f} first: numbers do not increase along the chain", b.seq),
                    events: vec![p.inv.r, at.r],
                });
            }
        }
    }

    fn consumer_step(&mut self, p: Pending, done: Body, at: At) {
        let consumer = p.process;
        let Body::Step {
            shard: Some(shard),
            seq,
            key,
            shard_end,
            ..
        } = p.body
        else {
            self.malformed(p.inv, format!("{:?} without shard", p.f));
            return;
        };
        let si = self.shard(shard);
        let epoch = self.epochs.get(&consumer).copied().unwrap_or(0);
        match p.f {
            Op::Lease | Op::Release => {
                if p.f == Op::Lease {
                    *self.lease_gen.entry(si).or_default() += 1;
                }
                self.facts.shards[si as usize].lease_changes.push(at.t);
            }
            Op::Process => {
                let Some(seq) = seq else {
                    self.malformed(p.inv, "process without seq".into());
                    return;
                };
                self.facts.coverage.processed += 1;
                let lease_gen = self.lease_gen.get(&si).copied().unwrap_or(0);
                self.facts.shards[si as usize].procs.push(Proc {
                    seq,
                    key: key.unwrap_or(0),
                    consumer,
                    epoch,
                    lease_gen,
                    inv: p.inv,
                    ok: at,
                });
            }
            Op::Checkpoint => {
                let value = if shard_end { Some(Seq::MAX) } else { seq };
                if value.is_none() {
                    self.malformed(p.inv, "checkpoint without seq or shard_end".into());
                    return;
                }
                self.facts.coverage.checkpoints += 1;
                self.facts.shards[si as usize].checkpoints.push(Cp {
                    value,
                    consumer,
                    inv: p.inv,
                    ok: at,
                });
            }
            _ => {
                let value = match done {
                    Body::Step {
                        shard_end: true, ..
                    } => Some(Seq::MAX),
                    Body::Step { seq, .. } => seq,
                    _ => None,
                };
                self.facts.shards[si as usize].read_checkpoints.push(Cp {
                    value,
                    consumer,
                    inv: p.inv,
                    ok: at,
                });
            }
        }
    }

    /// Ends the pass: operations still pending read as unknown outcomes.
    pub fn finish(mut self) -> Facts {
        let pending: Vec<_> = self.pending.drain().collect();
        let end = At {
            t: self.t,
            wall: 0,
            r: EventRef { file: 0, line: 0 },
        };
        for (_, p) in pending {
            self.complete(p, EventType::Info, Body::Empty, end);
        }
        self.facts.coverage.events = self.facts.events;
        self.facts.coverage.shards = self.facts.shards.len() as u64;
        self.facts.coverage.puts = self.facts.puts.len() as u64;
        self.facts.coverage.acknowledged =
            self.facts.puts.values().filter(|p| p.ack.is_some()).count() as u64;
        for (a, b) in std::mem::take(&mut self.facts.names.collisions) {
            self.malformed(
                end,
                format!(
                    "names {a:?} and {b:?} share a 64-bit hash; the checker cannot tell them apart"
                ),
            );
        }
        self.facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::check::lower::parse_line;

    #[test]
    fn fact_sizes_match_the_documented_bounds() {
        let sizes = [
            ("PutState", std::mem::size_of::<PutState>() + 16),
            ("Ack", std::mem::size_of::<Ack>()),
            ("Obs", std::mem::size_of::<Obs>()),
            ("Page", std::mem::size_of::<Page>()),
            ("Chain", std::mem::size_of::<Chain>()),
            ("Proc", std::mem::size_of::<Proc>()),
            ("Cp", std::mem::size_of::<Cp>()),
            (
                "LogRec",
                std::mem::size_of::<crate::history::check::shard::LogRec>(),
            ),
            ("IterPos", std::mem::size_of::<IterPos>() + 16),
        ];
        println!("{sizes:?}");
        let documented = [224, 112, 64, 192, 192, 120, 112, 80, 64];
        for ((name, size), bound) in sizes.iter().zip(documented) {
            assert!(*size <= bound, "{name}: {size} bytes, documented {bound}");
        }
    }

    fn feed(lines: &[&str]) -> Facts {
        let mut names = Names::default();
        let mut c = Collector::new(5);
        let evs: Vec<_> = lines
            .iter()
            .filter_map(|l| parse_line(l.as_bytes(), &mut names))
            .collect();
        c.absorb_names(names);
        for (i, e) in evs.into_iter().enumerate() {
            c.push(
                EventRef {
                    file: 0,
                    line: i as u64 + 1,
                },
                e,
            );
        }
        c.finish()
    }

    #[test]
    fn completions_without_invokes_and_double_invokes_are_malformed() {
        let f = feed(&[
            r#"{"v":1,"process":"p","type":"ok","f":"put_record","mono_ns":1,"wall_us":1,"shard":"s","seq":"1"}"#,
            r#"{"v":1,"process":"p","type":"invoke","f":"put_record","mono_ns":1,"wall_us":1,"key":"k","data":"a","attempt":1}"#,
            r#"{"v":1,"process":"p","type":"invoke","f":"put_record","mono_ns":1,"wall_us":1,"key":"k","data":"a","attempt":2}"#,
            r#"{"v":1,"process":"p","type":"ok","f":"put_record","mono_ns":1,"wall_us":1,"shard":"s","seq":"5"}"#,
        ]);
        assert_eq!(f.tally.count(AnomalyClass::MalformedHistory), 2);
        let ps = f.puts.values().next().expect("one put");
        assert_eq!(
            (ps.attempts, ps.infos, ps.retried_after_uncertain),
            (2, 1, true)
        );
        assert_eq!(ps.ack.map(|a| a.1), Some(Seq::parse("5").expect("number")));
    }

    #[test]
    fn a_killed_consumers_pending_step_is_unknown_not_malformed() {
        let f = feed(&[
            r#"{"v":1,"process":"c","type":"invoke","f":"process","mono_ns":1,"wall_us":1,"shard":"s","seq":"1","key":"k","data":"a"}"#,
            r#"{"v":1,"process":"n","type":"invoke","f":"kill_consumer","mono_ns":1,"wall_us":1,"target":"c"}"#,
            r#"{"v":1,"process":"n","type":"ok","f":"kill_consumer","mono_ns":1,"wall_us":1}"#,
            r#"{"v":1,"process":"c","type":"invoke","f":"process","mono_ns":1,"wall_us":1,"shard":"s","seq":"1","key":"k","data":"a"}"#,
            r#"{"v":1,"process":"c","type":"ok","f":"process","mono_ns":1,"wall_us":1}"#,
        ]);
        assert_eq!(f.tally.count(AnomalyClass::MalformedHistory), 0);
        assert_eq!(f.coverage.processed, 1);
        assert_eq!(f.coverage.consumer_kills, 1);
    }
}
