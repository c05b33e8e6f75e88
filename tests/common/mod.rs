//! Scenarios shared by the loom and shuttle checks of the shard log core. Each scenario is
//! one execution: it spawns threads through a [`Runtime`], joins them and asserts every
//! property itself, so a model checker only has to run it under each schedule.
#![allow(dead_code)]

use seqcheck::clock::{Clock, ManualClock};
use seqcheck::memory::sync::{FacadeAtomicBool, FacadeMutex};
use seqcheck::memory::{AppendError, CoreVariant, Faults, NewRecord, ShardLogCore, SyncFacade};
use seqcheck::sequencer::{SeqFormat, ShardSequencer};
use seqcheck::types::{Record, SequenceNumber};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A joinable thread of the runtime.
pub type Joiner<T> = Box<dyn FnOnce() -> T>;

/// The threads and facade of one model checker.
pub trait Runtime: 'static {
    /// The synchronization primitives the core runs on.
    type Facade: SyncFacade;
    /// Spawns a thread the checker schedules.
    fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Joiner<T>;
    /// Lets the checker run another thread (inside spin loops).
    fn yield_now();
}

/// The core as a runtime instantiates it.
pub type Log<R> = ShardLogCore<<R as Runtime>::Facade>;

const NO_LIMIT: usize = usize::MAX;

/// A fresh log for shard `index` created in `epoch`, running `variant`.
pub fn new_log<R: Runtime>(index: u32, epoch: u64, variant: CoreVariant) -> Arc<Log<R>> {
    let sequencer = ShardSequencer::new(SeqFormat::Readable, epoch, index);
    match ShardLogCore::with_variant(sequencer, variant) {
        Ok(log) => Arc::new(log),
        Err(e) => panic!("cannot build the log: {e}"),
    }
}

fn record(payload: &str) -> NewRecord {
    NewRecord {
        partition_key: Arc::from("pk"),
        data: bytes::Bytes::copy_from_slice(payload.as_bytes()),
    }
}

/// PutRecord of `payload`, optionally ordered after `after`.
pub fn put<S: SyncFacade>(
    log: &ShardLogCore<S>,
    clock: &dyn Clock,
    payload: &str,
    after: Option<&SequenceNumber>,
) -> Result<SequenceNumber, AppendError> {
    let mut seq = None;
    log.append(clock, Faults::default(), after, [record(payload)], |s| {
        seq = Some(s)
    })?;
    Ok(seq.expect("a successful append assigns a number"))
}

/// PutRecords of `payloads` into one shard: the numbers in request order.
pub fn put_batch<S: SyncFacade>(
    log: &ShardLogCore<S>,
    clock: &dyn Clock,
    payloads: &[&str],
) -> Vec<SequenceNumber> {
    let mut seqs = Vec::new();
    log.append(
        clock,
        Faults::default(),
        None,
        payloads.iter().map(|p| record(p)),
        |s| seqs.push(s),
    )
    .expect("the shard is open");
    assert_eq!(
        seqs.len(),
        payloads.len(),
        "every entry of the batch got a number"
    );
    seqs
}

/// Reads the whole shard the way a consumer does: from the start, page by page, each page
/// starting after the last record of the previous one.
pub fn read_all<S: SyncFacade>(
    log: &ShardLogCore<S>,
    start: &SequenceNumber,
    page: usize,
) -> (Vec<Record>, bool) {
    let mut out: Vec<Record> = Vec::new();
    let mut from = *start;
    loop {
        let p = log.read(&from, 0, page, NO_LIMIT);
        let at_end = p.at_end;
        let done = p.records.is_empty();
        if let Some(last) = p.records.last() {
            from = last.sequence_number.successor();
        }
        out.extend(p.records);
        if done || at_end {
            return (out, at_end);
        }
    }
}

/// Numbers strictly increase along the log (so they are unique and log order is number order).
pub fn assert_log_ordered(log: &[Record]) {
    for w in log.windows(2) {
        assert!(
            w[0].sequence_number < w[1].sequence_number,
            "log order differs from number order: {} then {}",
            w[0].sequence_number,
            w[1].sequence_number
        );
    }
}

/// Every acknowledged (number, payload) is in the log exactly once, with its payload.
pub fn assert_acked_present(log: &[Record], acked: &[(SequenceNumber, String)]) {
    for (seq, payload) in acked {
        let hits: Vec<&Record> = log.iter().filter(|r| r.sequence_number == *seq).collect();
        assert_eq!(
            hits.len(),
            1,
            "acknowledged number {seq} appears {} times",
            hits.len()
        );
        assert_eq!(
            hits[0].data.as_ref(),
            payload.as_bytes(),
            "record {seq} holds the wrong data"
        );
    }
}

/// What a reader saw is a prefix of the final log: no holes, nothing that later disappears.
pub fn assert_prefix(seen: &[Record], log: &[Record]) {
    assert!(
        seen.len() <= log.len(),
        "a reader saw {} records, the log holds {}",
        seen.len(),
        log.len()
    );
    assert!(
        seen == &log[..seen.len()],
        "a reader saw records that are not a prefix of the final log"
    );
}

/// Two writers put to one shard (one PutRecord, one two-entry PutRecords) while a reader reads
/// it twice, page by page.
pub fn one_shard<R: Runtime>(variant: CoreVariant) {
    let clock = ManualClock::default();
    let log = new_log::<R>(0, 1, variant);
    let start = log.latest_position();
    let a = {
        let (log, clock) = (log.clone(), clock.clone());
        R::spawn(move || put(&*log, &clock, "a", None).expect("the shard is open"))
    };
    let b = {
        let (log, clock) = (log.clone(), clock.clone());
        R::spawn(move || put_batch(&*log, &clock, &["b1", "b2"]))
    };
    let reader = {
        let log = log.clone();
        R::spawn(move || {
            let first = read_all(&*log, &start, 1).0;
            let second = read_all(&*log, &start, 2).0;
            (first, second)
        })
    };
    let seq_a = a();
    let seqs_b = b();
    let (first, second) = reader();
    let log = log.snapshot();
    assert_eq!(log.len(), 3);
    assert_log_ordered(&log);
    assert!(
        seqs_b[0] < seqs_b[1],
        "PutRecords entries numbered out of request order"
    );
    let acked = vec![
        (seq_a, "a".to_owned()),
        (seqs_b[0], "b1".to_owned()),
        (seqs_b[1], "b2".to_owned()),
    ];
    assert_acked_present(&log, &acked);
    assert_prefix(&first, &second);
    assert_prefix(&second, &log);
}

/// One writer per shard on two shards while a reader reads both.
pub fn two_shards<R: Runtime>(variant: CoreVariant) {
    let clock = ManualClock::default();
    let logs = [new_log::<R>(0, 1, variant), new_log::<R>(1, 1, variant)];
    let starts = [logs[0].latest_position(), logs[1].latest_position()];
    let writers: Vec<Joiner<(SequenceNumber, SequenceNumber)>> = (0..2)
        .map(|i| {
            let (log, clock) = (logs[i].clone(), clock.clone());
            R::spawn(move || {
                let first = put(&*log, &clock, &format!("s{i}-0"), None).expect("open");
                let second = put(&*log, &clock, &format!("s{i}-1"), None).expect("open");
                (first, second)
            })
        })
        .collect();
    let reader = {
        let logs = logs.clone();
        R::spawn(move || {
            [
                read_all(&*logs[0], &starts[0], 1).0,
                read_all(&*logs[1], &starts[1], 1).0,
            ]
        })
    };
    let acked: Vec<_> = writers.into_iter().map(|w| w()).collect();
    let seen = reader();
    for i in 0..2 {
        let log = logs[i].snapshot();
        assert_eq!(log.len(), 2);
        assert_log_ordered(&log);
        assert!(
            acked[i].0 < acked[i].1,
            "a writer's second put got a smaller number"
        );
        assert_acked_present(
            &log,
            &[
                (acked[i].0, format!("s{i}-0")),
                (acked[i].1, format!("s{i}-1")),
            ],
        );
        assert_prefix(&seen[i], &log);
    }
    assert_ne!(acked[0].0, acked[1].0, "two shards minted the same number");
}

/// Thread A puts and hands its number over; thread B, if it got the number, puts with
/// SequenceNumberForOrdering set to it; the main thread puts concurrently.
pub fn ordering_chain<R: Runtime>(variant: CoreVariant) {
    let clock = ManualClock::default();
    let log = new_log::<R>(0, 1, variant);
    let handoff: Arc<<R::Facade as SyncFacade>::Mutex<Option<SequenceNumber>>> =
        Arc::new(FacadeMutex::new(None));
    let a = {
        let (log, clock, handoff) = (log.clone(), clock.clone(), handoff.clone());
        R::spawn(move || {
            let seq = put(&*log, &clock, "a", None).expect("open");
            handoff.with_lock(|h| *h = Some(seq));
            seq
        })
    };
    let b = {
        let (log, clock, handoff) = (log.clone(), clock.clone(), handoff.clone());
        R::spawn(move || {
            let after = handoff.with_lock(|h| *h);
            let seq = put(&*log, &clock, "b", after.as_ref()).expect("open");
            if let Some(after) = after {
                assert!(seq > after, "B ordered after {after} but got {seq}");
            }
            seq
        })
    };
    let seq_m = put(&*log, &clock, "m", None).expect("open");
    let seq_a = a();
    let seq_b = b();
    let log = log.snapshot();
    assert_log_ordered(&log);
    assert_acked_present(
        &log,
        &[
            (seq_a, "a".into()),
            (seq_b, "b".into()),
            (seq_m, "m".into()),
        ],
    );
}

/// What the splitter saw when it closed the parent.
struct Split {
    records_at_close: usize,
}

/// A writer puts to the parent, re-routing to the child when the parent closed under it,
/// while a splitter closes the parent and a reader reads the parent to its end.
pub fn split_races_append<R: Runtime>(variant: CoreVariant) {
    let clock = ManualClock::default();
    let parent = new_log::<R>(0, 1, variant);
    let child = new_log::<R>(1, 2, variant);
    let parent_start = parent.latest_position();
    let split_done: Arc<<R::Facade as SyncFacade>::AtomicBool> =
        Arc::new(FacadeAtomicBool::new(false));
    let writer = {
        let (parent, child, clock, split_done) = (
            parent.clone(),
            child.clone(),
            clock.clone(),
            split_done.clone(),
        );
        R::spawn(move || route_put::<R>(&parent, &child, &split_done, &clock, "w", None))
    };
    let splitter = {
        let (parent, split_done) = (parent.clone(), split_done.clone());
        R::spawn(move || {
            let (_, records_at_close) = parent.close_counting(0);
            split_done.store(true, Ordering::Release);
            Split { records_at_close }
        })
    };
    let reader = {
        let parent = parent.clone();
        R::spawn(move || read_all(&*parent, &parent_start, 10))
    };
    let pre = put(&*parent, &clock, "pre", None);
    let (on_parent, seq_w) = writer();
    let split = splitter();
    let (seen, at_end) = reader();
    check_split(&parent, &child, &split, &seen, at_end);
    let parent_log = parent.snapshot();
    let child_log = child.snapshot();
    let home = if on_parent { &parent_log } else { &child_log };
    assert_acked_present(home, &[(seq_w, "w".into())]);
    if let Ok(seq) = pre {
        assert_acked_present(&parent_log, &[(seq, "pre".into())]);
    }
}

fn check_split<S: SyncFacade>(
    parent: &ShardLogCore<S>,
    child: &ShardLogCore<S>,
    split: &Split,
    seen: &[Record],
    at_end: bool,
) {
    let parent_log = parent.snapshot();
    let child_log = child.snapshot();
    assert_eq!(
        parent_log.len(),
        split.records_at_close,
        "a record landed on the parent after it was closed"
    );
    assert_prefix(seen, &parent_log);
    if at_end {
        assert_eq!(
            seen.len(),
            parent_log.len(),
            "a reader reached the parent's end but records followed"
        );
    }
    assert_log_ordered(&parent_log);
    assert_log_ordered(&child_log);
    if let (Some(p), Some(c)) = (parent_log.last(), child_log.first()) {
        assert!(
            p.sequence_number < c.sequence_number,
            "a child record is numbered below its parent's"
        );
    }
}

/// Puts `payload` to the parent until it is closed and the split is visible, then to the
/// child. Returns (landed on parent, number).
pub fn route_put<R: Runtime>(
    parent: &Log<R>,
    child: &Log<R>,
    split_done: &<R::Facade as SyncFacade>::AtomicBool,
    clock: &dyn Clock,
    payload: &str,
    after: Option<&SequenceNumber>,
) -> (bool, SequenceNumber) {
    for _ in 0..10_000 {
        if split_done.load(Ordering::Acquire) {
            return (
                false,
                put(child, clock, payload, after).expect("the child is open"),
            );
        }
        match put(parent, clock, payload, after) {
            Ok(seq) => return (true, seq),
            Err(AppendError::Closed) => R::yield_now(),
            Err(e) => panic!("unexpected append error: {e}"),
        }
    }
    panic!("the split never became visible");
}

/// An acknowledged put of the big scenario.
struct Acked {
    /// 0 for the parent, 1 + i for child i.
    home: usize,
    seq: SequenceNumber,
    payload: String,
}

/// Many writers over a parent that splits into two children mid-run, a trimmer moving the
/// retention horizon and the clock, and readers checking every page they get.
pub fn many_writers_split_and_trim<R: Runtime>(variant: CoreVariant, writers: usize, ops: usize) {
    let clock = ManualClock::default();
    let parent = new_log::<R>(0, 1, variant);
    let children = [new_log::<R>(1, 2, variant), new_log::<R>(2, 2, variant)];
    let split_done: Arc<<R::Facade as SyncFacade>::AtomicBool> =
        Arc::new(FacadeAtomicBool::new(false));
    let parent_start = parent.latest_position();
    let mut joins: Vec<Joiner<Vec<Acked>>> = Vec::new();
    for w in 0..writers {
        let (parent, child, clock, split_done) = (
            parent.clone(),
            children[w % 2].clone(),
            clock.clone(),
            split_done.clone(),
        );
        joins.push(R::spawn(move || {
            let mut acked = Vec::with_capacity(ops);
            let mut previous: Option<SequenceNumber> = None;
            for op in 0..ops {
                let payload = format!("w{w}-{op}");
                let (on_parent, seq) = if op % 5 == 4 {
                    route_put::<R>(
                        &parent,
                        &child,
                        &split_done,
                        &clock,
                        &payload,
                        previous.as_ref(),
                    )
                } else {
                    route_put::<R>(&parent, &child, &split_done, &clock, &payload, None)
                };
                if let Some(p) = previous {
                    assert!(seq > p, "writer {w}: op {op} got {seq} after {p}");
                }
                previous = Some(seq);
                let home = if on_parent { 0 } else { 1 + w % 2 };
                acked.push(Acked { home, seq, payload });
            }
            acked
        }));
    }
    let splitter = {
        let (parent, split_done) = (parent.clone(), split_done.clone());
        R::spawn(move || {
            for _ in 0..writers {
                R::yield_now();
            }
            let (_, records_at_close) = parent.close_counting(0);
            split_done.store(true, Ordering::Release);
            Split { records_at_close }
        })
    };
    let trimmer = {
        let (parent, clock) = (parent.clone(), clock.clone());
        R::spawn(move || {
            for _ in 0..4 {
                clock.advance(1_000);
                let h = clock.now_ms().saturating_sub(1_500);
                let page = parent.read(&parent_start, h, 1_000, usize::MAX);
                assert!(
                    page.records.iter().all(|r| r.approximate_arrival_ms >= h),
                    "a trimmed record was returned"
                );
                assert_log_ordered(&page.records);
                R::yield_now();
            }
        })
    };
    let reader = {
        let parent = parent.clone();
        R::spawn(move || read_all(&*parent, &parent_start, 7))
    };
    let acked: Vec<_> = joins.into_iter().flat_map(|j| j()).collect();
    assert_eq!(acked.len(), writers * ops, "every put was acknowledged");
    let split = splitter();
    trimmer();
    let (seen, at_end) = reader();
    for child in &children {
        check_split(&parent, child, &split, &seen, at_end);
    }
    let parent_log = parent.snapshot();
    let child_logs = [children[0].snapshot(), children[1].snapshot()];
    let mut per_home: [Vec<(SequenceNumber, String)>; 3] = Default::default();
    for Acked { home, seq, payload } in acked {
        per_home[home].push((seq, payload));
    }
    assert_eq!(
        parent_log.len(),
        per_home[0].len(),
        "the parent holds records nobody was acknowledged for"
    );
    assert_acked_present(&parent_log, &per_home[0]);
    for c in 0..2 {
        assert_eq!(
            child_logs[c].len(),
            per_home[1 + c].len(),
            "a child holds unacknowledged records"
        );
        assert_acked_present(&child_logs[c], &per_home[1 + c]);
    }
}
