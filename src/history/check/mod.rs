//! The history checker: reads one or more history files (`docs/history.md`) and reports every
//! anomaly class of [`AnomalyClass`] with counts and the exact events of the first examples.
//!
//! How it works (details and the exact meaning of every class in `docs/history-checker.md`):
//!
//! 1. **Parse** ([`parse`], [`lower`]): line-aligned blocks of the file are parsed on several
//!    threads into compact events (hashed names and payloads, 256-bit sequence numbers).
//! 2. **Collect** ([`collect`]): one sequential pass in history order pairs completions with
//!    invokes, resolves each logical put over its attempts, follows iterator chains, and files
//!    every fact under its shard.
//! 3. **Per shard, in parallel** ([`shard`], [`consumer`]): rebuild the shard's log from its
//!    reads (sorting by number), then judge records, chains, acknowledgements, lag and
//!    consumers against it.
//! 4. **Across shards** ([`global`]): duplicates, acknowledgement mismatches, unknown
//!    outcomes, order across resharding, parents before children, per-key order.
//!
//! Guarantees: the result depends only on the events (not on the thread count); a malformed
//! line is reported as `malformed-history`, never a panic or an error; the verdict is
//! [`Verdict::Unchecked`] when no put was acknowledged or no read completed, never
//! [`Verdict::Valid`] on nothing. Cost: `O(n log n)` time for `n` events; memory proportional
//! to the records (bounds in `docs/history-checker.md`), not to the events.

pub mod collect;
pub mod consumer;
pub mod cover;
pub mod global;
pub mod hash;
pub mod lower;
pub mod parse;
pub mod seq;
pub mod shard;
pub mod tally;

use self::collect::Collector;
use self::parse::FileEvents;
use super::event::Event;
use super::io::{EventRef, HistoryError};
use super::report::Report;
use std::collections::BinaryHeap;
use std::path::PathBuf;

/// What a check does beyond its defaults.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Examples kept in full per class (default 5); every anomaly is counted regardless.
    pub example_limit: usize,
    /// Read-your-writes lag above this many ms counts as a `read-lag` violation; without a
    /// bound lag is only measured.
    pub lag_bound_ms: Option<f64>,
    /// Threads for parsing and for the per-shard checks (default: the machine's parallelism).
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            example_limit: 5,
            lag_bound_ms: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A check fed one event at a time, in history order. Memory grows with the records and
/// operations of the history, never with the raw events.
pub struct Checker {
    collector: Collector,
    opts: CheckOptions,
    names: hash::Names,
}

impl Checker {
    /// A check with `opts`.
    pub fn new(opts: CheckOptions) -> Self {
        Checker {
            collector: Collector::new(opts.example_limit),
            opts,
            names: hash::Names::default(),
        }
    }

    /// Takes in the next event (in history order) and where it came from.
    pub fn push(&mut self, at: EventRef, event: &Event) {
        let lowered = lower::lower_event(event, &mut self.names);
        self.collector.push(at, lowered);
    }

    /// Takes in the next event in the checker's compact form (from [`lower::parse_line`],
    /// whose names must then be handed over with [`Checker::absorb_names`]).
    pub fn push_lowered(&mut self, at: EventRef, event: lower::Lowered) {
        self.collector.push(at, event);
    }

    /// Takes in the names interned while lowering events outside this checker.
    pub fn absorb_names(&mut self, names: hash::Names) {
        self.collector.absorb_names(names);
    }

    /// Runs the checks over everything pushed and returns the report; `files` names the
    /// files [`EventRef::file`] refers to.
    pub fn finish(mut self, files: Vec<String>) -> Report {
        self.collector.absorb_names(std::mem::take(&mut self.names));
        let facts = self.collector.finish();
        global::check(facts, &self.opts, files)
    }
}

/// Checks a history given as events in history order (an in-memory history, or one read by
/// other means). Equivalent to pushing every event into a [`Checker`].
pub fn check_events(
    events: impl IntoIterator<Item = (EventRef, Event)>,
    opts: &CheckOptions,
) -> Report {
    let mut c = Checker::new(opts.clone());
    for (at, e) in events {
        c.push(at, &e);
    }
    c.finish(Vec::new())
}

/// Checks the history in `paths` (one file, or the files of several machines merged by
/// `wall_us`; events of one file keep their file order). Fails only when a file cannot be
/// opened or read; malformed lines are reported in the `malformed-history` class.
pub fn check_files(paths: &[PathBuf], opts: &CheckOptions) -> Result<Report, HistoryError> {
    let mut checker = Checker::new(opts.clone());
    let workers = (opts.threads.max(1) / paths.len().max(1)).max(1);
    let mut files = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        files.push(FileEvents::open(p, i as u32, workers)?);
    }
    if files.len() == 1 {
        let f = &mut files[0];
        while let Some(batch) = f.next_batch() {
            let batch = batch?;
            checker.collector.absorb_names(batch.names);
            for (at, ev) in batch.events {
                checker.push_lowered(at, ev);
            }
        }
    } else {
        merge(&mut files, &mut checker)?;
    }
    let names = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(checker.finish(names))
}

/// Merges several files by wall-clock time (ties by file index), each in its own order.
fn merge(files: &mut [FileEvents], checker: &mut Checker) -> Result<(), HistoryError> {
    let mut current: Vec<std::vec::IntoIter<(EventRef, lower::Lowered)>> =
        Vec::with_capacity(files.len());
    let mut heads: Vec<Option<(EventRef, lower::Lowered)>> = Vec::with_capacity(files.len());
    let mut heap = BinaryHeap::new();
    for (i, f) in files.iter_mut().enumerate() {
        current.push(Vec::new().into_iter());
        heads.push(None);
        if let Some(h) = refill(f, &mut current[i], checker)? {
            heap.push(std::cmp::Reverse((h.1.wall_us, i)));
            heads[i] = Some(h);
        }
    }
    while let Some(std::cmp::Reverse((_, i))) = heap.pop() {
        if let Some((at, ev)) = heads[i].take() {
            checker.push_lowered(at, ev);
        }
        if let Some(h) = refill(&mut files[i], &mut current[i], checker)? {
            heap.push(std::cmp::Reverse((h.1.wall_us, i)));
            heads[i] = Some(h);
        }
    }
    Ok(())
}

fn refill(
    f: &mut FileEvents,
    cur: &mut std::vec::IntoIter<(EventRef, lower::Lowered)>,
    checker: &mut Checker,
) -> Result<Option<(EventRef, lower::Lowered)>, HistoryError> {
    loop {
        if let Some(x) = cur.next() {
            return Ok(Some(x));
        }
        match f.next_batch() {
            None => return Ok(None),
            Some(b) => {
                let b = b?;
                checker.collector.absorb_names(b.names);
                *cur = b.events.into_iter();
            }
        }
    }
}
