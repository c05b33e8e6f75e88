//! Runs the shard checks in parallel and the checks across shards, and assembles the report.

use super::CheckOptions;
use super::collect::{Facts, ShardFacts, T};
use super::consumer;
use super::seq::Seq;
use super::shard::{self, LogRec, RecordOptions, ShardSummary};
use super::tally::Tally;
use crate::history::report::{Anomaly, AnomalyClass, LagSummary, Report, UnknownOutcomes, Verdict};
use std::sync::Mutex;

/// Applies `f` to every item on up to `threads` threads; results in item order.
fn par_map<I: Send, R: Send>(
    items: &mut [I],
    threads: usize,
    f: impl Fn(usize, &mut I) -> R + Sync,
) -> Vec<R> {
    let n = items.len();
    let work = Mutex::new(items.iter_mut().enumerate());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    let next = work.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((i, item)) = next else {
                        return;
                    };
                    let r = f(i, item);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

struct PerShard {
    sf: ShardFacts,
    log: Vec<LogRec>,
    tally: Tally,
    summary: ShardSummary,
    done: Option<T>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

/// Every check over the collected facts; the report.
pub fn check(facts: Facts, opts: &CheckOptions, files: Vec<String>) -> Report {
    let Facts {
        shards,
        mut puts,
        crashes,
        consumer_restarts,
        names,
        mut tally,
        mut coverage,
        stream_gone,
        ..
    } = facts;
    let limit = opts.example_limit;
    let threads = opts.threads.max(1);
    let mut per: Vec<PerShard> = shards
        .into_iter()
        .map(|sf| PerShard {
            sf,
            log: Vec::new(),
            tally: Tally::new(limit),
            summary: ShardSummary::default(),
            done: None,
        })
        .collect();
    let shard_names: Vec<String> = per
        .iter()
        .map(|p| names.get(p.sf.name).to_owned())
        .collect();

    // 1. Rebuild every log.
    par_map(&mut per, threads, |_, p| {
        p.log = shard::build_log(&mut p.sf, &puts, &names, &mut p.tally);
    });

    // 2. Where every payload was read; duplicates.
    for (si, p) in per.iter().enumerate() {
        for l in &p.log {
            let Some(ps) = puts.get_mut(&l.payload) else {
                continue;
            };
            ps.seen += 1;
            if ps.ack == Some((si as u32, l.seq)) {
                ps.seen_at_ack = true;
            }
            let here = p.sf.pages[l.page as usize].ok;
            match ps.first_seen {
                None => ps.first_seen = Some((si as u32, l.seq, here.r)),
                Some((s0, q0, r0)) if ps.seen == 2 => {
                    let retry = ps.retried_after_uncertain;
                    let class = if retry {
                        AnomalyClass::RetryDuplicate
                    } else {
                        AnomalyClass::Duplicate
                    };
                    let why = if retry {
                        "after a retry of an attempt with an unknown or failed outcome"
                    } else {
                        "although its producer never retried after an unknown or failed outcome"
                    };
                    let first = ps.first;
                    let (n0, n1) = (&shard_names[s0 as usize], &shard_names[si]);
                    tally.add(class, here.t, || Anomaly {
                        class,
                        shard: Some(n1.clone()),
                        detail: format!("one payload at {n0} {q0} and at {n1} {}, {why}", l.seq),
                        events: vec![first, r0, here.r],
                    });
                }
                Some(_) => {}
            }
        }
    }
    let mut kinds = 0;
    for ps in puts.values() {
        if let (Some((si, q)), Some(at), Some((s1, q1, r1))) = (ps.ack, ps.ack_at, ps.first_seen) {
            if !ps.seen_at_ack {
                let (n0, n1) = (&shard_names[si as usize], &shard_names[s1 as usize]);
                tally.add(AnomalyClass::AckMismatch, at.t, || Anomaly {
                    class: AnomalyClass::AckMismatch,
                    shard: Some(n1.clone()),
                    detail: format!("acknowledged as {n0} {q}, read as {n1} {q1}"),
                    events: vec![ps.first, at.r, r1],
                });
            }
        }
        kinds += 1;
    }
    let _ = kinds;

    // 3. Record and consumer checks per shard.
    let ropts = RecordOptions {
        lag_bound_ms: opts.lag_bound_ms,
        stream_gone,
    };
    par_map(&mut per, threads, |si, p| {
        p.summary =
            shard::check_records(&p.sf, &p.log, &puts, &crashes, &names, ropts, &mut p.tally);
        p.done = consumer::check_shard(
            &mut p.sf,
            &p.log,
            &puts,
            &consumer_restarts,
            &shard_names[si],
            &mut p.tally,
        );
    });

    // 4. Across shards.
    let full_after_all = per.iter().map(|p| p.summary.full_after).min().unwrap_or(0);
    let mut unknown = UnknownOutcomes::default();
    for ps in puts.values() {
        if ps.attempts > 0 && ps.infos == ps.attempts {
            if ps.seen > 0 {
                unknown.recovered += 1;
            } else if !per.is_empty() && full_after_all > ps.last_done {
                unknown.never_applied += 1;
            } else {
                unknown.undetermined += 1;
            }
        }
    }
    for (ci, p) in per.iter().enumerate() {
        for &pi in &p.sf.parents {
            let parent = &per[pi as usize];
            for l in &p.log {
                if let Some(&(pmax, pref)) = parent.summary.key_max.get(&l.key) {
                    if l.seq <= pmax {
                        let page = p.sf.pages[l.page as usize];
                        let (cn, pn) = (&shard_names[ci], &shard_names[pi as usize]);
                        let key = names.get(l.key).to_owned();
                        tally.add(AnomalyClass::CrossReshardOrder, page.inv.t, || Anomaly {
                            class: AnomalyClass::CrossReshardOrder,
                            shard: Some(cn.clone()),
                            detail: format!("key {key:?}: child {cn} holds {}, not above its parent {pn}'s {pmax}", l.seq),
                            events: vec![page.ok.r, pref],
                        });
                    }
                }
            }
        }
    }
    let done: Vec<Option<T>> = per.iter().map(|p| p.done).collect();
    let sfs: Vec<ShardFacts> = per.iter_mut().map(|p| std::mem::take(&mut p.sf)).collect();
    consumer::check_children(&sfs, &done, &shard_names, &mut tally);
    consumer::check_key_order(&sfs, &shard_names, |k| names.get(k).to_owned(), &mut tally);

    let mut lags: Vec<u64> = Vec::new();
    coverage.records_read = 0;
    for p in per {
        coverage.records_read += p.log.len() as u64;
        lags.extend(p.summary.lags);
        tally.merge(p.tally);
    }
    lags.sort_unstable();
    let lag = LagSummary {
        samples: lags.len() as u64,
        p50_ms: percentile(&lags, 0.5),
        p99_ms: percentile(&lags, 0.99),
        max_ms: lags.last().map_or(0.0, |&m| m as f64 / 1000.0),
        bound_ms: opts.lag_bound_ms,
        over_bound: tally.count(AnomalyClass::ReadLag),
    };
    let classes = tally.into_counts();
    let violations: u64 = classes
        .iter()
        .filter(|c| c.class.is_violation())
        .map(|c| c.count)
        .sum();
    let verdict = if violations > 0 {
        Verdict::Invalid
    } else if coverage.acknowledged == 0 || coverage.reads == 0 {
        Verdict::Unchecked
    } else {
        Verdict::Valid
    };
    let _ = Seq::ZERO;
    Report {
        files,
        verdict,
        classes,
        coverage,
        unknown_outcomes: unknown,
        lag,
    }
}
