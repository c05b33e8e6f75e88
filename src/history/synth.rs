//! Seeded synthetic histories: a simulated Kinesis-style stream driven by concurrent producers,
//! KCL-style consumers, a resharding admin, a nemesis and a final reader, written as history
//! events. Used by the checker's tests and benchmarks.
//!
//! A history from [`SynthConfig`] with `inject: None` is valid by construction: the simulated
//! service appends at the tail with globally increasing numbers, makes records visible to reads
//! after a short delay (in order), keeps everything across service restarts, and consumers
//! follow the KCL's rules (parents first, checkpoints after processing, resume after the last
//! checkpoint). It still contains what Kinesis allows: retried puts whose first attempt timed
//! out but was applied (retry duplicates), puts whose outcome stays unknown, reprocessing after
//! consumer restarts, and read-your-writes lag. With `inject: Some(class)` exactly one anomaly
//! of that class is added (for `ReadLag`, none is added: lag exists in every history and is a
//! violation only under a bound). The same seed and configuration always give the same events.

use super::event::{EntryResult, Event, EventType, ListedShard, Op, ReadRecord};
use super::report::AnomalyClass;
use std::collections::{HashMap, VecDeque};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Events to generate before the final read (the final read adds a few more).
    pub events: u64,
    /// Producer processes.
    pub producers: usize,
    /// Shards at the start.
    pub shards: usize,
    /// Consumer processes.
    pub consumers: usize,
    /// Distinct partition keys.
    pub keys: usize,
    /// Shard splits, spread over the run.
    pub splits: usize,
    /// Service kills (each followed by a restart), spread over the run.
    pub crashes: usize,
    /// Consumer kills (each followed by a restart), spread over the run.
    pub consumer_kills: usize,
    /// The anomaly to add, if any.
    pub inject: Option<AnomalyClass>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            events: 5_000,
            producers: 4,
            shards: 2,
            consumers: 2,
            keys: 16,
            splits: 1,
            crashes: 1,
            consumer_kills: 1,
            inject: None,
        }
    }
}

/// SplitMix64: small, fast, good enough for choosing.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

const PREFIX: &str = "495903382714902566085596925383615710";
const STREAM: &str = "synth";
/// Steps a record takes to become visible to reads.
const VISIBLE_AFTER: u64 = 6;

fn seq_str(n: u64) -> String {
    format!("{PREFIX}{n:020}")
}

#[derive(Clone, Debug)]
struct Rec {
    seq: u64,
    key: u32,
    payload: (u32, u64),
    visible_at: u64,
    read: bool,
}

#[derive(Clone, Debug)]
struct Shard {
    id: String,
    parents: Vec<usize>,
    children: Vec<usize>,
    lo: u64,
    hi: u64,
    closed: bool,
    log: Vec<Rec>,
}

#[derive(Clone, Debug)]
struct Put {
    key: u32,
    payload: (u32, u64),
    attempt: u32,
    snfo: Option<u64>,
}

#[derive(Clone, Debug)]
enum CState {
    Idle,
    Leased,
    HaveCp(Option<u64>),
    Reading {
        iter: String,
        pos: usize,
        ended: bool,
    },
}

#[derive(Clone, Debug)]
enum CPending {
    Lease(usize),
    ReadCp(usize),
    Iter(usize, Option<u64>),
    Get(usize),
    Process(usize, Rec),
    Checkpoint(usize, Option<u64>),
    Release(usize),
}

#[derive(Clone, Debug)]
struct Consumer {
    name: String,
    alive: bool,
    shard: Option<usize>,
    state: CState,
    buffer: VecDeque<Rec>,
    since_cp: u32,
    last_processed: Option<u64>,
    pending: Option<CPending>,
    processed: u64,
}

/// The simulation. Emits events through a sink as it goes, so histories of any length are
/// generated in memory proportional to the records, not the events.
struct Sim<'s> {
    cfg: SynthConfig,
    rng: Rng,
    step: u64,
    emitted: u64,
    sink: &'s mut dyn FnMut(Event),
    shards: Vec<Shard>,
    counter: u64,
    alive: bool,
    producers: Vec<(Option<Put>, bool, u64)>,
    last_ack: HashMap<(usize, u32), u64>,
    consumers: Vec<Consumer>,
    leases: HashMap<usize, usize>,
    checkpoints: HashMap<usize, u64>,
    done: Vec<bool>,
    iter_counter: u64,
    ok_puts: u64,
    injected: bool,
}

const SHARD_END: u64 = u64::MAX;

fn key_name(k: u32) -> String {
    format!("k{k}")
}

fn payload_text((p, n): (u32, u64)) -> String {
    if p == u32::MAX {
        format!("phantom.{n}")
    } else {
        format!("producer-{p}.{n}")
    }
}

fn key_hash(k: u32) -> u64 {
    let mut r = Rng(u64::from(k).wrapping_mul(0x2545_f491_4f6c_dd1d));
    r.next()
}

impl Sim<'_> {
    fn emit(&mut self, mut e: Event) {
        self.step += 1;
        self.emitted += 1;
        e.mono_ns = self.step * 10_000;
        e.wall_us = 1_764_676_800_000_000 + self.step * 10;
        (self.sink)(e);
    }

    fn ev(&self, process: &str, kind: EventType, f: Op) -> Event {
        Event::new(process, kind, f, 0, 0)
    }

    fn inject(&self, class: AnomalyClass) -> bool {
        !self.injected && self.cfg.inject == Some(class)
    }

    fn route(&self, key: u32) -> usize {
        let h = key_hash(key);
        self.shards
            .iter()
            .position(|s| !s.closed && s.lo <= h && h <= s.hi)
            .unwrap_or(0)
    }

    fn append(&mut self, shard: usize, key: u32, payload: (u32, u64)) -> u64 {
        self.counter += 1;
        let seq = self.counter * 10;
        let visible_at = self.step + VISIBLE_AFTER;
        self.shards[shard].log.push(Rec {
            seq,
            key,
            payload,
            visible_at,
            read: false,
        });
        seq
    }

    fn producer_step(&mut self, i: usize) {
        let name = format!("producer-{i}");
        let (current, pending, _) = self.producers[i].clone();
        match (current, pending) {
            (None, _) => {
                let n = self.producers[i].2;
                self.producers[i].2 += 1;
                let key = self.rng.below(self.cfg.keys as u64) as u32;
                let snfo = if self.rng.chance(100) {
                    self.last_ack.get(&(i, key)).copied()
                } else {
                    None
                };
                let put = Put {
                    key,
                    payload: (i as u32, n),
                    attempt: 1,
                    snfo,
                };
                self.invoke_put(&name, &put);
                self.producers[i] = (Some(put), true, self.producers[i].2);
            }
            (Some(put), false) => {
                self.invoke_put(&name, &put);
                self.producers[i].1 = true;
            }
            (Some(mut put), true) => {
                let r = self.rng.below(1000);
                let alive = self.alive;
                if !alive || r < 30 {
                    // Unknown outcome: applied or not.
                    if alive && r < 15 {
                        let s = self.route(put.key);
                        self.append(s, put.key, put.payload);
                    }
                    let mut e = self.ev(&name, EventType::Info, Op::PutRecord);
                    e.error = Some("timeout".into());
                    self.emit(e);
                    if self.rng.chance(100) {
                        self.producers[i].0 = None; // gives up: the outcome stays unknown
                    } else {
                        put.attempt += 1;
                        self.producers[i].0 = Some(put);
                    }
                } else if r < 40 {
                    let mut e = self.ev(&name, EventType::Fail, Op::PutRecord);
                    e.error = Some("ProvisionedThroughputExceededException".into());
                    self.emit(e);
                    put.attempt += 1;
                    self.producers[i].0 = Some(put);
                } else {
                    let s = self.route(put.key);
                    self.ok_puts += 1;
                    let special = self.ok_puts == 20;
                    let mut seq = if special && self.inject(AnomalyClass::LostWrite) {
                        self.counter += 1;
                        self.counter * 10
                    } else {
                        self.append(s, put.key, put.payload)
                    };
                    if special && self.inject(AnomalyClass::Duplicate) {
                        self.append(s, put.key, put.payload);
                    }
                    if special && self.inject(AnomalyClass::Phantom) {
                        self.append(s, put.key, (u32::MAX, 1));
                    }
                    if special && self.inject(AnomalyClass::AckMismatch) {
                        seq += 5;
                    }
                    if special
                        && [
                            AnomalyClass::LostWrite,
                            AnomalyClass::Duplicate,
                            AnomalyClass::Phantom,
                            AnomalyClass::AckMismatch,
                        ]
                        .iter()
                        .any(|&c| self.inject(c))
                    {
                        self.injected = true;
                    }
                    let mut e = self.ev(&name, EventType::Ok, Op::PutRecord);
                    e.shard = Some(self.shards[s].id.clone());
                    e.seq = Some(seq_str(seq));
                    self.emit(e);
                    self.last_ack.insert((i, put.key), seq);
                    self.producers[i].0 = None;
                }
                self.producers[i].1 = false;
            }
        }
    }

    fn invoke_put(&mut self, name: &str, put: &Put) {
        let mut e = self.ev(name, EventType::Invoke, Op::PutRecord);
        e.stream = Some(STREAM.into());
        e.key = Some(key_name(put.key));
        e.data = Some(payload_text(put.payload));
        e.attempt = Some(put.attempt);
        e.snfo = put.snfo.map(seq_str);
        self.emit(e);
    }

    fn parents_done(&self, s: usize) -> bool {
        self.shards[s].parents.iter().all(|&p| self.done[p])
    }

    fn consumer_step(&mut self, c: usize) {
        if !self.consumers[c].alive {
            return;
        }
        let name = self.consumers[c].name.clone();
        if let Some(p) = self.consumers[c].pending.take() {
            self.complete_consumer(c, &name, p);
            return;
        }
        let Some(s) = self.consumers[c].shard else {
            let n = self.shards.len();
            let free = (0..n).find(|&s| {
                s % self.cfg.consumers == c % self.cfg.consumers.max(1)
                    && !self.done[s]
                    && self.leases.get(&s).is_none_or(|&o| o == c)
                    && self.parents_done(s)
            });
            if let Some(s) = free {
                self.consumers[c].shard = Some(s);
                self.consumers[c].state = CState::Idle;
                self.leases.insert(s, c);
                self.start(c, &name, CPending::Lease(s));
            }
            return;
        };
        let state = self.consumers[c].state.clone();
        let p = match state {
            CState::Idle => CPending::Lease(s),
            CState::Leased => CPending::ReadCp(s),
            CState::HaveCp(cp) => CPending::Iter(s, cp),
            CState::Reading { ended, .. } => {
                if self.consumers[c].since_cp >= 5 {
                    CPending::Checkpoint(s, self.consumers[c].last_processed)
                } else if let Some(r) = self.consumers[c].buffer.pop_front() {
                    CPending::Process(s, r)
                } else if ended {
                    if self.checkpoints.get(&s) == Some(&SHARD_END) {
                        CPending::Release(s)
                    } else {
                        CPending::Checkpoint(s, Some(SHARD_END))
                    }
                } else {
                    CPending::Get(s)
                }
            }
        };
        self.start(c, &name, p);
    }

    fn start(&mut self, c: usize, name: &str, p: CPending) {
        let e = match &p {
            CPending::Lease(s) => {
                let mut e = self.ev(name, EventType::Invoke, Op::Lease);
                e.shard = Some(self.shards[*s].id.clone());
                e
            }
            CPending::Release(s) => {
                let mut e = self.ev(name, EventType::Invoke, Op::Release);
                e.shard = Some(self.shards[*s].id.clone());
                e
            }
            CPending::ReadCp(s) => {
                let mut e = self.ev(name, EventType::Invoke, Op::ReadCheckpoint);
                e.shard = Some(self.shards[*s].id.clone());
                e
            }
            CPending::Iter(s, cp) => {
                let mut e = self.ev(name, EventType::Invoke, Op::GetShardIterator);
                e.stream = Some(STREAM.into());
                e.shard = Some(self.shards[*s].id.clone());
                match cp {
                    Some(q) if *q != SHARD_END => {
                        e.iterator_type = Some("AFTER_SEQUENCE_NUMBER".into());
                        e.start_seq = Some(seq_str(*q));
                    }
                    _ => e.iterator_type = Some("TRIM_HORIZON".into()),
                }
                e
            }
            CPending::Get(s) => {
                let mut e = self.ev(name, EventType::Invoke, Op::GetRecords);
                e.shard = Some(self.shards[*s].id.clone());
                if let CState::Reading { iter, .. } = &self.consumers[c].state {
                    e.iterator = Some(iter.clone());
                }
                e.limit = Some(10);
                e
            }
            CPending::Process(s, r) => {
                let mut e = self.ev(name, EventType::Invoke, Op::Process);
                e.shard = Some(self.shards[*s].id.clone());
                e.seq = Some(seq_str(r.seq));
                e.key = Some(key_name(r.key));
                e.data = Some(payload_text(r.payload));
                e
            }
            CPending::Checkpoint(s, v) => {
                let mut e = self.ev(name, EventType::Invoke, Op::Checkpoint);
                e.shard = Some(self.shards[*s].id.clone());
                match v {
                    Some(SHARD_END) => e.shard_end = true,
                    Some(q) => e.seq = Some(seq_str(*q)),
                    None => {}
                }
                e
            }
        };
        self.emit(e);
        self.consumers[c].pending = Some(p);
    }

    /// A page of visible records of shard `s` from index `pos`.
    fn page(&mut self, s: usize, pos: usize, limit: usize) -> (Vec<Rec>, usize, bool, u64) {
        let now = self.step;
        let log = &mut self.shards[s].log;
        let mut out = Vec::new();
        let mut p = pos;
        while p < log.len() && out.len() < limit && log[p].visible_at <= now {
            log[p].read = true;
            out.push(log[p].clone());
            p += 1;
        }
        let visible_end = log[p..].iter().take_while(|r| r.visible_at <= now).count() == 0;
        let at_end = self.shards[s].closed && p == self.shards[s].log.len();
        let behind = if visible_end { 0 } else { 1000 };
        (out, p, at_end, behind)
    }

    fn records_of(&self, recs: &[Rec]) -> Vec<ReadRecord> {
        recs.iter()
            .map(|r| ReadRecord {
                seq: seq_str(r.seq),
                key: key_name(r.key),
                data: Some(payload_text(r.payload)),
                data_b64: None,
                arrival_ms: None,
            })
            .collect()
    }

    fn new_iter(&mut self) -> String {
        self.iter_counter += 1;
        format!("it-{:x}", self.iter_counter)
    }

    fn complete_consumer(&mut self, c: usize, name: &str, p: CPending) {
        match p {
            CPending::Lease(s) => {
                let mut e = self.ev(name, EventType::Ok, Op::Lease);
                e.shard = Some(self.shards[s].id.clone());
                self.emit(e);
                self.consumers[c].state = CState::Leased;
            }
            CPending::Release(s) => {
                let mut e = self.ev(name, EventType::Ok, Op::Release);
                e.shard = Some(self.shards[s].id.clone());
                self.emit(e);
                self.done[s] = true;
                self.leases.remove(&s);
                self.consumers[c].shard = None;
                self.consumers[c].state = CState::Idle;
            }
            CPending::ReadCp(s) => {
                let cp = self.checkpoints.get(&s).copied();
                let mut e = self.ev(name, EventType::Ok, Op::ReadCheckpoint);
                match cp {
                    Some(SHARD_END) => e.shard_end = true,
                    Some(q) => e.seq = Some(seq_str(q)),
                    None => {}
                }
                self.emit(e);
                self.consumers[c].state = CState::HaveCp(cp);
                self.consumers[c].last_processed = cp.filter(|&q| q != SHARD_END);
            }
            CPending::Iter(s, cp) => {
                if !self.alive {
                    let mut e = self.ev(name, EventType::Info, Op::GetShardIterator);
                    e.error = Some("connection reset".into());
                    self.emit(e);
                    return;
                }
                let pos = match cp {
                    Some(SHARD_END) => self.shards[s].log.len(),
                    Some(q) => self.shards[s].log.partition_point(|r| r.seq <= q),
                    None => 0,
                };
                let it = self.new_iter();
                let mut e = self.ev(name, EventType::Ok, Op::GetShardIterator);
                e.iterator = Some(it.clone());
                self.emit(e);
                self.consumers[c].state = CState::Reading {
                    iter: it,
                    pos,
                    ended: false,
                };
            }
            CPending::Get(s) => {
                if !self.alive {
                    let mut e = self.ev(name, EventType::Info, Op::GetRecords);
                    e.error = Some("connection reset".into());
                    self.emit(e);
                    return;
                }
                let CState::Reading { pos, .. } = self.consumers[c].state.clone() else {
                    return;
                };
                let (recs, next, at_end, behind) = self.page(s, pos, 10);
                let it = self.new_iter();
                let mut e = self.ev(name, EventType::Ok, Op::GetRecords);
                e.records = Some(self.records_of(&recs));
                e.millis_behind = Some(behind);
                if at_end {
                    e.children = Some(
                        self.shards[s]
                            .children
                            .iter()
                            .map(|&ch| self.shards[ch].id.clone())
                            .collect(),
                    );
                } else {
                    e.next_iterator = Some(it.clone());
                    e.children = Some(Vec::new());
                }
                self.emit(e);
                let mut buf: VecDeque<Rec> = recs.into();
                if buf.len() >= 2
                    && buf[0].key == buf[1].key
                    && self.consumers[c].since_cp <= 2
                    && self.consumers[c].buffer.is_empty()
                    && self.inject(AnomalyClass::KeyOrder)
                    && self.consumers[c].processed > 30
                {
                    buf.swap(0, 1);
                    self.injected = true;
                }
                self.consumers[c].buffer.extend(buf);
                self.consumers[c].state = CState::Reading {
                    iter: it,
                    pos: next,
                    ended: at_end,
                };
            }
            CPending::Process(s, r) => {
                let skip = self.consumers[c].processed > 40
                    && self.inject(AnomalyClass::UnprocessedBeforeCheckpoint);
                if skip {
                    // The consumer never finishes this record, yet checkpoints past it.
                    self.injected = true;
                    let mut e = self.ev(name, EventType::Fail, Op::Process);
                    e.error = Some("skipped".into());
                    self.emit(e);
                } else {
                    let mut e = self.ev(name, EventType::Ok, Op::Process);
                    e.shard = Some(self.shards[s].id.clone());
                    self.emit(e);
                }
                self.consumers[c].processed += 1;
                self.consumers[c].since_cp += 1;
                self.consumers[c].last_processed = Some(
                    self.consumers[c]
                        .last_processed
                        .map_or(r.seq, |l| l.max(r.seq)),
                );
                if self.consumers[c].processed > 50
                    && self.inject(AnomalyClass::IllegalReprocessing)
                {
                    self.injected = true;
                    self.consumers[c].buffer.push_front(r);
                    self.consumers[c].since_cp = 0;
                }
            }
            CPending::Checkpoint(s, v) => {
                let mut e = self.ev(name, EventType::Ok, Op::Checkpoint);
                e.shard = Some(self.shards[s].id.clone());
                self.emit(e);
                if let Some(v) = v {
                    let prev = self.checkpoints.insert(s, v);
                    if let (Some(prev), true) =
                        (prev, self.inject(AnomalyClass::CheckpointBackwards))
                    {
                        if prev != SHARD_END && v != SHARD_END && self.consumers[c].processed > 30 {
                            // Write the previous checkpoint again, below the durable one.
                            self.injected = true;
                            self.start(c, name, CPending::Checkpoint(s, Some(prev)));
                            let mut e = self.ev(name, EventType::Ok, Op::Checkpoint);
                            e.shard = Some(self.shards[s].id.clone());
                            self.emit(e);
                            self.consumers[c].pending = None;
                            self.checkpoints.insert(s, v);
                        }
                    }
                }
                self.consumers[c].since_cp = 0;
            }
        }
    }

    fn admin(&mut self, f: Op, fill: impl FnOnce(&mut Event), done: impl FnOnce(&mut Event)) {
        let mut e = self.ev("nemesis", EventType::Invoke, f);
        fill(&mut e);
        self.emit(e);
        let mut e = self.ev("nemesis", EventType::Ok, f);
        done(&mut e);
        self.emit(e);
    }

    fn split(&mut self) {
        let Some(s) = (0..self.shards.len())
            .filter(|&s| !self.shards[s].closed)
            .max_by_key(|&s| self.shards[s].hi - self.shards[s].lo)
        else {
            return;
        };
        let (lo, hi) = (self.shards[s].lo, self.shards[s].hi);
        let mid = lo + (hi - lo) / 2;
        let id = self.shards[s].id.clone();
        let mid_s = mid.to_string();
        let mut e = self.ev("admin", EventType::Invoke, Op::SplitShard);
        e.stream = Some(STREAM.into());
        e.shard = Some(id);
        e.new_start_hash = Some(mid_s);
        self.emit(e);
        self.shards[s].closed = true;
        for (a, b) in [(lo, mid), (mid + 1, hi)] {
            let n = self.shards.len();
            self.shards.push(Shard {
                id: format!("shardId-{n:012}"),
                parents: vec![s],
                children: Vec::new(),
                lo: a,
                hi: b,
                closed: false,
                log: Vec::new(),
            });
            self.shards[s].children.push(n);
            self.done.push(false);
        }
        let e = self.ev("admin", EventType::Ok, Op::SplitShard);
        self.emit(e);
        let mut e = self.ev("admin", EventType::Invoke, Op::ListShards);
        e.stream = Some(STREAM.into());
        self.emit(e);
        let mut e = self.ev("admin", EventType::Ok, Op::ListShards);
        e.shards = Some(
            self.shards
                .iter()
                .map(|sh| ListedShard {
                    shard: sh.id.clone(),
                    parents: sh
                        .parents
                        .iter()
                        .map(|&p| self.shards[p].id.clone())
                        .collect(),
                    hash_start: sh.lo.to_string(),
                    hash_end: sh.hi.to_string(),
                    start_seq: seq_str(0),
                    end_seq: None,
                })
                .collect(),
        );
        self.emit(e);
    }

    fn crash(&mut self) {
        if self.inject(AnomalyClass::LostAcrossCrash) {
            // One more acknowledged put, lost with the crash before anyone read it.
            let s = self.route(0);
            let put = Put {
                key: 0,
                payload: (9999, 0),
                attempt: 1,
                snfo: None,
            };
            self.invoke_put("producer-x", &put);
            let seq = self.append(s, 0, put.payload);
            let mut e = self.ev("producer-x", EventType::Ok, Op::PutRecord);
            e.shard = Some(self.shards[s].id.clone());
            e.seq = Some(seq_str(seq));
            self.emit(e);
            self.shards[s].log.pop();
            self.injected = true;
        }
        self.admin(Op::Kill, |e| e.target = Some("service".into()), |_| {});
        self.alive = false;
    }

    fn restart(&mut self) {
        self.admin(Op::Restart, |e| e.target = Some("service".into()), |_| {});
        self.alive = true;
    }

    fn kill_consumer(&mut self, c: usize, restart: bool) {
        let target = self.consumers[c].name.clone();
        if restart {
            self.admin(Op::RestartConsumer, |e| e.target = Some(target), |_| {});
            let cons = &mut self.consumers[c];
            cons.alive = true;
            cons.state = CState::Idle;
        } else {
            self.admin(Op::KillConsumer, |e| e.target = Some(target), |_| {});
            let cons = &mut self.consumers[c];
            cons.alive = false;
            cons.pending = None;
            cons.buffer.clear();
            cons.since_cp = 0;
        }
    }

    /// Completes every pending operation and reads every shard to its end or tip.
    fn final_read(&mut self) {
        for i in 0..self.producers.len() {
            if self.producers[i].1 {
                self.producer_step(i);
            }
        }
        for c in 0..self.consumers.len() {
            if self.consumers[c].alive {
                if let Some(p) = self.consumers[c].pending.take() {
                    let name = self.consumers[c].name.clone();
                    self.complete_consumer(c, &name, p);
                }
            }
        }
        self.step += VISIBLE_AFTER + 1;
        for s in 0..self.shards.len() {
            let mut e = self.ev("reader", EventType::Invoke, Op::GetShardIterator);
            e.stream = Some(STREAM.into());
            e.shard = Some(self.shards[s].id.clone());
            e.iterator_type = Some("TRIM_HORIZON".into());
            self.emit(e);
            let mut it = self.new_iter();
            let mut e = self.ev("reader", EventType::Ok, Op::GetShardIterator);
            e.iterator = Some(it.clone());
            self.emit(e);
            let mut pos = 0;
            loop {
                let mut e = self.ev("reader", EventType::Invoke, Op::GetRecords);
                e.shard = Some(self.shards[s].id.clone());
                e.iterator = Some(it.clone());
                e.limit = Some(100);
                self.emit(e);
                let read_before =
                    |k: usize| self.shards[s].log.get(pos + k).is_some_and(|r| r.read);
                let (first_read, second_read) = (read_before(0), read_before(1));
                let (mut recs, next, at_end, behind) = self.page(s, pos, 100);
                if recs.len() >= 3 && self.inject(AnomalyClass::IteratorChain) && second_read {
                    recs.remove(1);
                    self.injected = true;
                }
                let mut out = self.records_of(&recs);
                if !out.is_empty() && first_read && self.inject(AnomalyClass::InconsistentRecord) {
                    out[0].key = "corrupt-key".into();
                    self.injected = true;
                }
                it = self.new_iter();
                let mut e = self.ev("reader", EventType::Ok, Op::GetRecords);
                e.records = Some(out);
                e.millis_behind = Some(behind);
                if at_end {
                    e.children = Some(
                        self.shards[s]
                            .children
                            .iter()
                            .map(|&ch| self.shards[ch].id.clone())
                            .collect(),
                    );
                } else {
                    e.next_iterator = Some(it.clone());
                    e.children = Some(Vec::new());
                }
                self.emit(e);
                pos = next;
                if at_end || (recs.is_empty() && behind == 0) {
                    break;
                }
            }
        }
    }

    fn run(&mut self) {
        let total = self.cfg.events.max(1);
        let at = |n: usize, k: usize| total * (k as u64 + 1) / (n as u64 + 1);
        let mut splits: VecDeque<u64> = (0..self.cfg.splits)
            .map(|k| at(self.cfg.splits, k))
            .collect();
        let mut crashes: VecDeque<u64> = (0..self.cfg.crashes)
            .map(|k| at(self.cfg.crashes, k) + total / 20)
            .collect();
        let mut restarts: VecDeque<u64> = crashes.iter().map(|c| c + 40).collect();
        let ck = self.cfg.consumer_kills;
        let mut ckills: VecDeque<(u64, usize)> = (0..ck)
            .map(|k| (at(ck, k) + total / 10, k % self.cfg.consumers.max(1)))
            .collect();
        let mut crestarts: VecDeque<(u64, usize)> =
            ckills.iter().map(|&(t, c)| (t + 30, c)).collect();
        let actors = self.cfg.producers + self.cfg.consumers;
        while self.emitted < total {
            let e = self.emitted;
            if splits.front().is_some_and(|&t| e >= t) {
                splits.pop_front();
                self.split();
            }
            if crashes.front().is_some_and(|&t| e >= t) {
                crashes.pop_front();
                self.crash();
            }
            if restarts.front().is_some_and(|&t| e >= t) {
                restarts.pop_front();
                self.restart();
            }
            if self.cfg.consumers > 0 {
                if let Some(&(t, c)) = ckills.front() {
                    if e >= t {
                        ckills.pop_front();
                        self.kill_consumer(c, false);
                    }
                }
                if let Some(&(t, c)) = crestarts.front() {
                    if e >= t {
                        crestarts.pop_front();
                        self.kill_consumer(c, true);
                    }
                }
            }
            if actors == 0 {
                break;
            }
            // Consumers get 60% of the steps, so they keep up with the producers.
            let before = self.emitted;
            if self.cfg.consumers == 0 || (self.cfg.producers > 0 && self.rng.chance(400)) {
                let a = self.rng.below(self.cfg.producers as u64) as usize;
                self.producer_step(a);
            } else {
                let c = self.rng.below(self.cfg.consumers as u64) as usize;
                self.consumer_step(c);
            }
            if self.emitted == before {
                self.step += 1; // an idle actor lets time pass
            }
        }
        for _ in restarts {
            self.restart();
        }
        for (_, c) in crestarts {
            self.kill_consumer(c, true);
        }
        self.final_read();
    }
}

/// Generates a history and hands every event to `sink`, in history order. Injections that
/// need the whole history (`snfo-violation`, `cross-reshard-order`, `child-before-parent`,
/// `malformed-history`) are applied only by [`generate`].
pub fn stream(cfg: &SynthConfig, sink: &mut dyn FnMut(Event)) {
    let shards = cfg.shards.max(1);
    let width = u64::MAX / shards as u64;
    let mut sim = Sim {
        cfg: cfg.clone(),
        rng: Rng(cfg.seed ^ 0x5eed),
        step: 0,
        emitted: 0,
        sink,
        shards: (0..shards)
            .map(|i| Shard {
                id: format!("shardId-{i:012}"),
                parents: Vec::new(),
                children: Vec::new(),
                lo: width * i as u64,
                hi: if i + 1 == shards {
                    u64::MAX
                } else {
                    width * (i as u64 + 1) - 1
                },
                closed: false,
                log: Vec::new(),
            })
            .collect(),
        counter: 0,
        alive: true,
        producers: vec![(None, false, 0); cfg.producers],
        last_ack: HashMap::new(),
        consumers: (0..cfg.consumers)
            .map(|i| Consumer {
                name: format!("consumer-{i}"),
                alive: true,
                shard: None,
                state: CState::Idle,
                buffer: VecDeque::new(),
                since_cp: 0,
                last_processed: None,
                pending: None,
                processed: 0,
            })
            .collect(),
        leases: HashMap::new(),
        checkpoints: HashMap::new(),
        done: vec![false; shards],
        iter_counter: 0,
        ok_puts: 0,
        injected: false,
    };
    sim.run();
}

/// Generates a whole history in memory, with any injection of `cfg` applied.
pub fn generate(cfg: &SynthConfig) -> Vec<Event> {
    let mut events = Vec::new();
    stream(cfg, &mut |e| events.push(e));
    match cfg.inject {
        Some(AnomalyClass::SnfoViolation) => inject_snfo(&mut events),
        Some(AnomalyClass::CrossReshardOrder) => inject_cross_reshard(&mut events),
        Some(AnomalyClass::ChildBeforeParent) => inject_child_first(&mut events),
        Some(AnomalyClass::MalformedHistory) => {
            let mut e = Event::new("ghost", EventType::Ok, Op::PutRecord, 0, 0);
            e.shard = Some("shardId-000000000000".into());
            e.seq = Some("1".into());
            let at = events.len() / 2;
            events.insert(at, e);
        }
        _ => {}
    }
    events
}

/// Acknowledged `put_record`s: (invoke index, ok index, shard, seq).
fn acked_puts(events: &[Event]) -> Vec<(usize, usize, String, String)> {
    let mut pending: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.f != Op::PutRecord {
            continue;
        }
        match e.kind {
            EventType::Invoke => {
                pending.insert(&e.process, i);
            }
            EventType::Ok => {
                if let (Some(inv), Some(sh), Some(sq)) =
                    (pending.remove(e.process.as_str()), &e.shard, &e.seq)
                {
                    out.push((inv, i, sh.clone(), sq.clone()));
                }
            }
            _ => {
                pending.remove(e.process.as_str());
            }
        }
    }
    out
}

/// A put acknowledged in a shard gets a `SequenceNumberForOrdering` equal to a later record's
/// number of the same shard, which its own number is not above.
fn inject_snfo(events: &mut [Event]) {
    let acks = acked_puts(events);
    for (i, a) in acks.iter().enumerate().skip(10) {
        if let Some(b) = acks[i + 1..].iter().find(|b| b.2 == a.2) {
            events[a.0].snfo = Some(b.3.clone());
            return;
        }
    }
}

/// Renumbers a child shard's first record (everywhere it appears) below its parent's highest
/// record of the same key.
fn inject_cross_reshard(events: &mut [Event]) {
    let mut parent_of: HashMap<String, String> = HashMap::new();
    for e in events.iter() {
        for s in e.shards.iter().flatten() {
            if let Some(p) = s.parents.first() {
                parent_of.insert(s.shard.clone(), p.clone());
            }
        }
    }
    let acks = acked_puts(events);
    let key_of = |i: usize| events[i].key.clone().unwrap_or_default();
    for (child, parent) in &parent_of {
        let Some(first) = acks.iter().find(|a| &a.2 == child) else {
            continue;
        };
        let key = key_of(first.0);
        let Some(pmax) = acks
            .iter()
            .filter(|a| &a.2 == parent && key_of(a.0) == key)
            .map(|a| a.3.clone())
            .max()
        else {
            continue;
        };
        let Some(first_in_child) = acks
            .iter()
            .filter(|a| &a.2 == child)
            .map(|a| a.3.clone())
            .min()
        else {
            continue;
        };
        if first_in_child != first.3 {
            continue;
        }
        // Numbers are multiples of 10 behind a fixed prefix; `pmax − 5` is free.
        let Ok(n) = pmax[PREFIX.len()..].parse::<u64>() else {
            continue;
        };
        let new = seq_str(n - 5);
        let old = first.3.clone();
        for e in events.iter_mut() {
            for f in [&mut e.seq, &mut e.start_seq, &mut e.snfo]
                .into_iter()
                .flatten()
            {
                if *f == old {
                    f.clone_from(&new);
                }
            }
            for r in e.records.iter_mut().flatten() {
                if r.seq == old {
                    r.seq.clone_from(&new);
                }
            }
            for r in e.results.iter_mut().flatten() {
                let r: &mut EntryResult = r;
                if r.seq.as_deref() == Some(old.as_str()) {
                    r.seq = Some(new.clone());
                }
            }
        }
        return;
    }
}

/// Moves the first processing of a child shard's record before its parent's last processing,
/// done by a consumer of its own.
fn inject_child_first(events: &mut Vec<Event>) {
    let mut parent_of: HashMap<String, String> = HashMap::new();
    for e in events.iter() {
        for s in e.shards.iter().flatten() {
            if let Some(p) = s.parents.first() {
                parent_of.insert(s.shard.clone(), p.clone());
            }
        }
    }
    // Process invokes and their oks, by shard.
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut procs: Vec<(usize, usize, String)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.f != Op::Process {
            continue;
        }
        match e.kind {
            EventType::Invoke => {
                pending.insert(e.process.clone(), i);
            }
            EventType::Ok => {
                if let Some(inv) = pending.remove(&e.process) {
                    if let Some(sh) = &events[inv].shard {
                        procs.push((inv, i, sh.clone()));
                    }
                }
            }
            _ => {
                pending.remove(&e.process);
            }
        }
    }
    for (child, parent) in &parent_of {
        let Some(&(ci, co, _)) = procs.iter().find(|p| &p.2 == child) else {
            continue;
        };
        let Some(&(pi, _, _)) = procs.iter().rev().find(|p| &p.2 == parent) else {
            continue;
        };
        if pi > ci {
            continue;
        }
        let mut inv = events.remove(co);
        let mut ok = events.remove(ci);
        ok.process = "consumer-x".into();
        inv.process = "consumer-x".into();
        let (ok, inv) = (inv, ok); // `co` was removed first: it is the ok
        events.insert(pi, ok);
        events.insert(pi, inv);
        return;
    }
}
