//! The consumer checks (KCL at-least-once processing, kinesis-semantics §8): what was
//! processed against what was checkpointed, reprocessing, parents before children, and
//! per-key order.
//!
//! Definitions (positions are history positions; a checkpoint is *durable* once its `ok` is
//! recorded; `SHARD_END` ranks above every number):
//! - **unprocessed-before-checkpoint**: a record (S, s) of the rebuilt log whose put was
//!   acknowledged (at this or, for a retried put, another position), and a durable checkpoint
//!   of S at or above s, but no `process` of (S, s) completed before that checkpoint's invoke
//!   (the first durable checkpoint reaching s is the one judged).
//! - **illegal-reprocessing**: two completed `process`es of (S, s), the second invoked after
//!   the first completed, legal only when between them (after the first completed, before the
//!   second was invoked) the first processor was killed or restarted, or a lease of S was
//!   taken or released, and at the earliest such event the highest durable checkpoint of S was
//!   below s.
//! - **child-before-parent**: a `process` of a child shard invoked before every parent was
//!   done: a durable `SHARD_END` checkpoint of the parent, or else, once some read reached the
//!   parent's end, the completed processing of its last record (an empty closed parent is done
//!   from the start). A parent never done blocks its children for ever.
//! - **key-order**: one consumer's processing of one partition key, in invoke order, goes to a
//!   lower number of the same shard, or from a shard back to one of its ancestors, with no
//!   restart of that consumer (and, within a shard, no lease change of it) in between.
//! - **checkpoint-backwards**: a durable checkpoint of S below an earlier durable one, or a
//!   `read_checkpoint` of S that returns less (or nothing) while a higher checkpoint was
//!   already durable when it was invoked.

use super::collect::{Proc, PutState, ShardFacts, T};
use super::hash::HashedMap;
use super::seq::Seq;
use super::shard::LogRec;
use super::tally::Tally;
use crate::history::report::{Anomaly, AnomalyClass};
use std::collections::HashMap;

fn anomaly(
    class: AnomalyClass,
    shard: &str,
    detail: String,
    events: Vec<crate::history::io::EventRef>,
) -> Anomaly {
    Anomaly {
        class,
        shard: Some(shard.to_owned()),
        detail,
        events,
    }
}

fn show(v: Option<Seq>) -> String {
    match v {
        Some(Seq::MAX) => "SHARD_END".into(),
        Some(s) => s.to_decimal(),
        None => "none".into(),
    }
}

/// The running maximum of a shard's durable checkpoints: `(completion, max so far, index)`.
fn running_max(sf: &ShardFacts) -> Vec<(T, Seq, usize)> {
    let mut out = Vec::with_capacity(sf.checkpoints.len());
    let mut best: Option<(Seq, usize)> = None;
    for (i, c) in sf.checkpoints.iter().enumerate() {
        let v = c.value.unwrap_or(Seq::ZERO);
        if best.is_none_or(|b| v > b.0) {
            best = Some((v, i));
        }
        if let Some((m, j)) = best {
            out.push((c.ok.t, m, j));
        }
    }
    out
}

/// The highest durable checkpoint completed before `t`.
fn durable_before(run: &[(T, Seq, usize)], t: T) -> Option<(Seq, usize)> {
    let n = run.partition_point(|x| x.0 < t);
    (n > 0).then(|| (run[n - 1].1, run[n - 1].2))
}

/// The per-shard consumer checks. Sorts `sf.procs` by number. Returns when the shard was done
/// (see the module docs), for its children.
pub fn check_shard(
    sf: &mut ShardFacts,
    log: &[LogRec],
    puts: &HashedMap<u128, PutState>,
    consumer_restarts: &HashedMap<u64, Vec<T>>,
    shard: &str,
    tally: &mut Tally,
) -> Option<T> {
    let run = running_max(sf);
    // checkpoint-backwards
    let mut best: Option<usize> = None;
    for (i, c) in sf.checkpoints.iter().enumerate() {
        if let Some(b) = best {
            let prev = &sf.checkpoints[b];
            if c.value < prev.value {
                tally.add(AnomalyClass::CheckpointBackwards, c.inv.t, || {
                    anomaly(
                        AnomalyClass::CheckpointBackwards,
                        shard,
                        format!(
                            "checkpoint {} is durable after the higher checkpoint {}",
                            show(c.value),
                            show(prev.value)
                        ),
                        vec![prev.ok.r, c.inv.r, c.ok.r],
                    )
                });
                continue;
            }
        }
        best = Some(i);
    }
    for rc in &sf.read_checkpoints {
        if let Some((m, j)) = durable_before(&run, rc.inv.t) {
            if rc.value.unwrap_or(Seq::ZERO) < m || rc.value.is_none() {
                let prev = &sf.checkpoints[j];
                tally.add(AnomalyClass::CheckpointBackwards, rc.inv.t, || {
                    anomaly(
                        AnomalyClass::CheckpointBackwards,
                        shard,
                        format!(
                            "read_checkpoint returns {} although checkpoint {} was durable",
                            show(rc.value),
                            show(prev.value)
                        ),
                        vec![prev.ok.r, rc.inv.r, rc.ok.r],
                    )
                });
            }
        }
    }
    sf.procs.sort_unstable_by_key(|p| (p.seq, p.inv.t));
    // unprocessed-before-checkpoint
    if !run.is_empty() {
        for rec in log {
            if puts.get(&rec.payload).is_none_or(|p| p.ack.is_none()) {
                continue;
            }
            let k = run.partition_point(|x| x.1 < rec.seq);
            let Some(&(_, _, ci)) = run.get(k) else {
                continue;
            };
            let cp = &sf.checkpoints[ci];
            let pi = sf.procs.partition_point(|p| p.seq < rec.seq);
            let done = sf.procs[pi..]
                .iter()
                .take_while(|p| p.seq == rec.seq)
                .any(|p| p.ok.t < cp.inv.t);
            if !done {
                let page = &sf.pages[rec.page as usize];
                tally.add(AnomalyClass::UnprocessedBeforeCheckpoint, cp.inv.t, || {
                    anomaly(
                        AnomalyClass::UnprocessedBeforeCheckpoint,
                        shard,
                        format!(
                            "checkpoint {} covers number {}, which was not processed before it",
                            show(cp.value),
                            rec.seq
                        ),
                        vec![page.ok.r, cp.inv.r, cp.ok.r],
                    )
                });
            }
        }
    }
    // illegal-reprocessing
    for w in sf.procs.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if a.seq != b.seq || b.inv.t < a.ok.t {
            continue;
        }
        let lease = sf.lease_changes.iter().copied().find(|&t| t > a.ok.t);
        let restart = consumer_restarts
            .get(&a.consumer)
            .and_then(|v| v.get(v.partition_point(|&t| t <= a.ok.t)).copied());
        let excuse = match (lease, restart) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let legal = excuse
            .is_some_and(|e| e < b.inv.t && durable_before(&run, e).is_none_or(|(m, _)| m < a.seq));
        if !legal {
            let why = match excuse {
                Some(e) if e < b.inv.t => {
                    "a checkpoint already covered it when the consumer restarted or the lease moved"
                }
                _ => "no consumer restart or lease change came between",
            };
            tally.add(AnomalyClass::IllegalReprocessing, b.inv.t, || {
                anomaly(
                    AnomalyClass::IllegalReprocessing,
                    shard,
                    format!("number {} processed twice: {why}", a.seq),
                    vec![a.inv.r, a.ok.r, b.inv.r, b.ok.r],
                )
            });
        }
    }
    // when the shard was done, for its children
    let shard_end = sf
        .checkpoints
        .iter()
        .find(|c| c.value == Some(Seq::MAX))
        .map(|c| c.ok.t);
    shard_end.or_else(|| {
        let closed = sf.chains.iter().any(|c| c.reach == Some(Seq::MAX));
        if !closed {
            return None;
        }
        match log.last() {
            None => Some(0),
            Some(last) => {
                let pi = sf.procs.partition_point(|p| p.seq < last.seq);
                sf.procs[pi..]
                    .iter()
                    .take_while(|p| p.seq == last.seq)
                    .map(|p| p.ok.t)
                    .min()
            }
        }
    })
}

/// The shards above `s` (parents, their parents, …).
pub fn ancestors(parents: &[Vec<u32>], s: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = parents.get(s as usize).cloned().unwrap_or_default();
    while let Some(p) = stack.pop() {
        if !out.contains(&p) {
            out.push(p);
            stack.extend(parents.get(p as usize).into_iter().flatten());
        }
    }
    out
}

/// child-before-parent over all shards: `done[i]` is when shard i was done.
pub fn check_children(
    shards: &[ShardFacts],
    done: &[Option<T>],
    names: &[String],
    tally: &mut Tally,
) {
    for (ci, sf) in shards.iter().enumerate() {
        if sf.parents.is_empty() || sf.procs.is_empty() {
            continue;
        }
        let blocker = sf
            .parents
            .iter()
            .map(|&p| (done[p as usize].unwrap_or(T::MAX), p))
            .max();
        let Some((until, parent)) = blocker else {
            continue;
        };
        for p in sf.procs.iter().filter(|p| p.inv.t < until) {
            let pname = &names[parent as usize];
            let when = if until == T::MAX {
                "never was".to_owned()
            } else {
                "was not yet".to_owned()
            };
            tally.add(AnomalyClass::ChildBeforeParent, p.inv.t, || Anomaly {
                class: AnomalyClass::ChildBeforeParent,
                shard: Some(names[ci].clone()),
                detail: format!("number {} of a child processed while its parent {pname} {when} checkpointed at SHARD_END or processed to its end", p.seq),
                events: vec![p.inv.r, p.ok.r],
            });
        }
    }
}

/// key-order over all shards.
pub fn check_key_order(
    shards: &[ShardFacts],
    names: &[String],
    key_names: impl Fn(u64) -> String,
    tally: &mut Tally,
) {
    let parents: Vec<Vec<u32>> = shards.iter().map(|s| s.parents.clone()).collect();
    let mut all: Vec<(u64, u64, T, u32, &Proc)> = Vec::new();
    for (si, sf) in shards.iter().enumerate() {
        for p in &sf.procs {
            all.push((p.consumer, p.key, p.inv.t, si as u32, p));
        }
    }
    all.sort_unstable_by_key(|x| (x.0, x.1, x.2));
    let mut anc_cache: HashMap<u32, Vec<u32>> = HashMap::new();
    for w in all.windows(2) {
        let ((c1, k1, _, s1, a), (c2, k2, _, s2, b)) = (w[0], w[1]);
        if c1 != c2 || k1 != k2 || a.epoch != b.epoch {
            continue;
        }
        let wrong = if s1 == s2 {
            b.seq < a.seq && a.lease_gen == b.lease_gen
        } else {
            anc_cache
                .entry(s1)
                .or_insert_with(|| ancestors(&parents, s1))
                .contains(&s2)
        };
        if wrong {
            let key = key_names(k1);
            let (n1, n2) = (&names[s1 as usize], &names[s2 as usize]);
            tally.add(AnomalyClass::KeyOrder, b.inv.t, || Anomaly {
                class: AnomalyClass::KeyOrder,
                shard: Some(n2.clone()),
                detail: format!("key {key:?}: {n2} number {} processed after {n1} number {}, against the stream's order", b.seq, a.seq),
                events: vec![a.inv.r, a.ok.r, b.inv.r, b.ok.r],
            });
        }
    }
}
