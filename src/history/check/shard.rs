//! The checks of one shard's records: the log rebuilt from every read, records that disagree,
//! reads that skip, acknowledged records that are gone, and how long reads lagged behind
//! acknowledgements. Each shard is checked on its own, so shards run in parallel.

use super::collect::{At, Crash, PutState, ShardFacts, Start, T};
use super::cover::{Cover, SuffixMax};
use super::hash::HashedMap;
use super::hash::Names;
use super::seq::{Bound, Seq};
use super::tally::Tally;
use crate::history::io::EventRef;
use crate::history::report::{Anomaly, AnomalyClass};
use std::collections::HashMap;

/// One record of a shard's rebuilt log: the distinct numbers reads returned, in order.
#[derive(Clone, Copy, Debug)]
pub struct LogRec {
    /// Its number.
    pub seq: Seq,
    /// The payload the first read of it returned.
    pub payload: u128,
    /// Its key.
    pub key: u64,
    /// The first page (in history order of pages) that returned it.
    pub page: u32,
    /// The latest invoke of a page that returned it.
    pub last_t: T,
}

fn anomaly(class: AnomalyClass, shard: &str, detail: String, events: Vec<EventRef>) -> Anomaly {
    Anomaly {
        class,
        shard: Some(shard.to_owned()),
        detail,
        events,
    }
}

/// Rebuilds the log of a shard from its reads and reports what the reads alone show:
/// inconsistent records (across reads, and across acknowledgements), phantoms, and iterator
/// chains that skip a record of the log. Sorts `sf.obs` and `sf.acks` by number.
pub fn build_log(
    sf: &mut ShardFacts,
    puts: &HashedMap<u128, PutState>,
    names: &Names,
    tally: &mut Tally,
) -> Vec<LogRec> {
    let shard = names.get(sf.name).to_owned();
    sf.obs.sort_unstable_by_key(|o| (o.seq, o.page));
    let mut log: Vec<LogRec> = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(sf.obs.len());
    let mut flagged = false;
    for o in &sf.obs {
        let page_t = sf.pages[o.page as usize].inv.t;
        match log.last_mut() {
            Some(l) if l.seq == o.seq => {
                l.last_t = l.last_t.max(page_t);
                if (l.payload != o.payload || l.key != o.key) && !flagged {
                    flagged = true;
                    let (a, b) = (&sf.pages[l.page as usize], &sf.pages[o.page as usize]);
                    let what = if l.payload != o.payload {
                        "payloads"
                    } else {
                        "partition keys"
                    };
                    tally.add(
                        AnomalyClass::InconsistentRecord,
                        b.inv.t.min(a.inv.t),
                        || {
                            anomaly(
                                AnomalyClass::InconsistentRecord,
                                &shard,
                                format!("two reads return number {} with different {what}", o.seq),
                                vec![a.ok.r, b.ok.r],
                            )
                        },
                    );
                }
            }
            _ => {
                flagged = false;
                log.push(LogRec {
                    seq: o.seq,
                    payload: o.payload,
                    key: o.key,
                    page: o.page,
                    last_t: page_t,
                });
            }
        }
        pairs.push((o.page, (log.len() - 1) as u32));
    }
    for l in &log {
        if !puts.contains_key(&l.payload) {
            let p = &sf.pages[l.page as usize];
            tally.add(AnomalyClass::Phantom, p.inv.t, || {
                anomaly(
                    AnomalyClass::Phantom,
                    &shard,
                    format!(
                        "a read returns number {} whose payload no put carried",
                        l.seq
                    ),
                    vec![p.inv.r, p.ok.r],
                )
            });
        }
    }
    sf.acks.sort_unstable_by_key(|a| (a.seq, a.ok.t));
    for w in sf.acks.windows(2) {
        if w[0].seq == w[1].seq && w[0].payload != w[1].payload {
            tally.add(
                AnomalyClass::InconsistentRecord,
                w[0].ok.t.min(w[1].ok.t),
                || {
                    anomaly(
                        AnomalyClass::InconsistentRecord,
                        &shard,
                        format!(
                            "two puts of different payloads are both acknowledged with number {}",
                            w[0].seq
                        ),
                        vec![w[0].inv.r, w[0].ok.r, w[1].inv.r, w[1].ok.r],
                    )
                },
            );
        }
    }
    // Skips along chains: a page must start at the log's next record after its iterator's
    // position, and return consecutive records of the log.
    pairs.sort_unstable();
    let mut i = 0;
    while i < pairs.len() {
        let page_i = pairs[i].0;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == page_i {
            j += 1;
        }
        let page = &sf.pages[page_i as usize];
        let first = pairs[i].1 as usize;
        let mut skipped: Option<(usize, String)> = None;
        if let Some(b) = page.from {
            let lo = log.partition_point(|r| !b.admits(r.seq));
            if lo < first {
                let pos = if b.after { "after" } else { "at" };
                skipped = Some((
                    lo,
                    format!(
                        "a page whose iterator stands {pos} {} returns {} first, skipping {} that the shard holds",
                        b.seq, log[first].seq, log[lo].seq
                    ),
                ));
            }
        }
        if skipped.is_none() {
            for k in i..j.saturating_sub(1) {
                let (a, b) = (pairs[k].1 as usize, pairs[k + 1].1 as usize);
                if b > a + 1 {
                    skipped = Some((
                        a + 1,
                        format!(
                            "a page returns {} then {}, skipping {} that the shard holds",
                            log[a].seq,
                            log[b].seq,
                            log[a + 1].seq
                        ),
                    ));
                    break;
                }
            }
        }
        if let Some((missing, detail)) = skipped {
            let other = &sf.pages[log[missing].page as usize];
            tally.add(AnomalyClass::IteratorChain, page.inv.t, || {
                anomaly(
                    AnomalyClass::IteratorChain,
                    &shard,
                    detail,
                    vec![page.inv.r, page.ok.r, other.ok.r],
                )
            });
        }
        i = j;
    }
    log
}

/// What the checks of one shard leave for the checks across shards.
#[derive(Debug, Default)]
pub struct ShardSummary {
    /// Read-your-writes lag samples, µs.
    pub lags: Vec<u64>,
    /// The latest position after which a chain from `TRIM_HORIZON` was at the tip
    /// (`T::MAX` once one reached the shard's end); 0 when none did.
    pub full_after: T,
    /// The highest number per partition key, with the read that returned it.
    pub key_max: HashMap<u64, (Seq, EventRef)>,
}

/// Options of the record checks.
#[derive(Clone, Copy, Debug)]
pub struct RecordOptions {
    /// Lag bound in ms, if any.
    pub lag_bound_ms: Option<f64>,
    /// Where the stream was found gone for good ([`super::collect::Facts::stream_gone`]).
    pub stream_gone: Option<At>,
}

/// The record checks of one shard over its rebuilt `log` (from [`build_log`]): lost writes,
/// losses across crashes, read-your-writes lag, and `SequenceNumberForOrdering`.
pub fn check_records(
    sf: &ShardFacts,
    log: &[LogRec],
    puts: &HashedMap<u128, PutState>,
    crashes: &[Crash],
    names: &Names,
    opts: RecordOptions,
    tally: &mut Tally,
) -> ShardSummary {
    let shard = names.get(sf.name).to_owned();
    let mut summary = ShardSummary::default();
    let full = Cover::new(sf.chains.iter().enumerate().map(|(i, c)| (i as u32, c)));
    let after_restart: Vec<Option<Cover>> = crashes
        .iter()
        .map(|c| {
            c.restart.map(|r| {
                Cover::new(
                    sf.chains
                        .iter()
                        .enumerate()
                        .filter(|(_, ch)| ch.began.t > r.t)
                        .map(|(i, ch)| (i as u32, ch)),
                )
            })
        })
        .collect();
    // Stale tip reads for the lag: pages at the tip, keyed by the lowest number they would
    // still have returned (after their last record, or their iterator's position).
    let mut stale: Vec<(Bound, T, u32)> = sf
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.tip)
        .filter_map(|(i, p)| {
            p.last
                .map(Bound::after)
                .or(p.from)
                .map(|k| (k, p.inv.t, i as u32))
        })
        .collect();
    stale.sort_unstable();
    let mut ranks: Vec<T> = stale.iter().map(|s| s.1).collect();
    ranks.sort_unstable();
    let mut fen = SuffixMax::new(ranks.len());
    let mut next_stale = 0;
    let bound_us = opts.lag_bound_ms.map(|b| (b * 1000.0).max(0.0) as u64);

    let mut prev: Option<(Seq, u128)> = None;
    for ack in &sf.acks {
        if prev == Some((ack.seq, ack.payload)) {
            continue;
        }
        prev = Some((ack.seq, ack.payload));
        let Some(ps) = puts.get(&ack.payload) else {
            continue;
        };
        let li = log.partition_point(|r| r.seq < ack.seq);
        let rec = log
            .get(li)
            .filter(|r| r.seq == ack.seq && r.payload == ack.payload);
        if rec.is_none() && ps.seen > 0 {
            continue; // read elsewhere: an acknowledgement mismatch, judged across shards
        }
        // The whole stream gone (not found, never deleted): every record acknowledged before
        // is lost with it, across the crash between the two if there is one.
        // The first crash after the acknowledgement (crashes are in history order).
        let k0 = crashes.partition_point(|c| c.kill.t <= ack.ok.t);
        if let Some(gone) = opts.stream_gone.filter(|g| g.t > ack.ok.t) {
            let crash = crashes.get(k0).filter(|c| c.kill.t < gone.t);
            let mut events = vec![ack.inv.r, ack.ok.r];
            let class = match crash {
                Some(c) => {
                    events.push(c.kill.r);
                    events.extend(c.restart.map(|r| r.r));
                    AnomalyClass::LostAcrossCrash
                }
                None => AnomalyClass::LostWrite,
            };
            events.push(gone.r);
            tally.add(class, ack.inv.t, || {
                anomaly(
                    class,
                    &shard,
                    format!(
                        "number {} was acknowledged, and then the stream itself was not found (line {}) although nothing deleted it",
                        ack.seq, gone.r.line
                    ),
                    events,
                )
            });
            continue;
        }
        // Lost across a crash: the first crash after the acknowledgement whose restart came
        // after the record's last read.
        let last = rec.map(|r| r.last_t);
        let k = (k0..crashes.len()).find(|&k| {
            crashes[k]
                .restart
                .is_some_and(|r| last.is_none_or(|l| r.t > l))
        });
        if let Some(k) = k {
            if let Some(cover) = &after_restart[k] {
                if let Some(c) = cover.covering(ack) {
                    let crash = crashes[k];
                    let chain = &sf.chains[c as usize];
                    let restart = crash.restart.map(|r| r.r);
                    let mut events = vec![ack.inv.r, ack.ok.r, crash.kill.r];
                    events.extend(restart);
                    events.push(chain.began.r);
                    events.extend(chain.went_past);
                    let was = if rec.is_some() {
                        "read before the crash, "
                    } else {
                        ""
                    };
                    tally.add(AnomalyClass::LostAcrossCrash, ack.inv.t, || {
                        anomaly(
                            AnomalyClass::LostAcrossCrash,
                            &shard,
                            format!(
                                "number {} acknowledged before the kill at line {}, {was}is missing from a read that covered it after the restart",
                                ack.seq, crash.kill.r.line
                            ),
                            events,
                        )
                    });
                    continue;
                }
            }
        }
        if rec.is_none() {
            if let Some(c) = full.covering(ack) {
                let chain = &sf.chains[c as usize];
                let mut events = vec![ack.inv.r, ack.ok.r, chain.began.r];
                events.extend(chain.went_past);
                tally.add(AnomalyClass::LostWrite, ack.inv.t, || {
                    anomaly(
                        AnomalyClass::LostWrite,
                        &shard,
                        format!("number {} was acknowledged and never read, although a read chain covered it", ack.seq),
                        events,
                    )
                });
            }
            continue;
        }
        // Lag: the latest tip read invoked after the acknowledgement that would still have
        // returned this number but did not.
        let key = Bound::at(ack.seq);
        while next_stale < stale.len() && stale[next_stale].0 <= key {
            let (_, t, pi) = stale[next_stale];
            let rank = ranks.partition_point(|&x| x < t);
            let wall = sf.pages[pi as usize].inv.wall;
            fen.raise(rank, ((u128::from(wall) + 1) << 32) | u128::from(pi));
            next_stale += 1;
        }
        let from = ranks.partition_point(|&x| x <= ack.ok.t);
        let best = fen.max_from(from);
        let lag = if best == 0 {
            0
        } else {
            let wall = ((best >> 32) - 1) as u64;
            wall.saturating_sub(ack.ok.wall)
        };
        summary.lags.push(lag);
        if let Some(b) = bound_us {
            if lag > b {
                let page = &sf.pages[(best & 0xffff_ffff) as usize];
                tally.add(AnomalyClass::ReadLag, ack.inv.t, || {
                    anomaly(
                        AnomalyClass::ReadLag,
                        &shard,
                        format!(
                            "number {} still unread at the tip {:.1} ms after its acknowledgement (bound {:.1} ms)",
                            ack.seq,
                            lag as f64 / 1000.0,
                            b as f64 / 1000.0
                        ),
                        vec![ack.inv.r, ack.ok.r, page.inv.r, page.ok.r],
                    )
                });
            }
        }
    }
    // SequenceNumberForOrdering: a record acknowledged in the shard that issued X must be
    // numbered above X.
    for &(seq, x, at) in &sf.snfos {
        let issued_here = log.binary_search_by_key(&x, |r| r.seq).is_ok()
            || sf.acks.binary_search_by_key(&x, |a| a.seq).is_ok();
        if issued_here && seq <= x {
            tally.add(AnomalyClass::SnfoViolation, at.t, || {
                anomaly(
                    AnomalyClass::SnfoViolation,
                    &shard,
                    format!("a put with SequenceNumberForOrdering {x} is acknowledged with {seq}, not above it"),
                    vec![at.r],
                )
            });
        }
    }
    summary.full_after = sf
        .chains
        .iter()
        .filter(|c| matches!(c.start, Start::Seq(b) if b == Bound::START))
        .map(|c| {
            if c.reach == Some(Seq::MAX) {
                T::MAX
            } else {
                c.tip.unwrap_or(0)
            }
        })
        .max()
        .unwrap_or(0);
    for l in log {
        let e = summary
            .key_max
            .entry(l.key)
            .or_insert((l.seq, sf.pages[l.page as usize].ok.r));
        if l.seq > e.0 {
            *e = (l.seq, sf.pages[l.page as usize].ok.r);
        }
    }
    summary
}
