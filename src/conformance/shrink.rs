//! Shrinking a failing case to a minimal one: proptest's value-tree shrinking first, then a
//! greedy pass that drops single operations.

use super::exec::CaseRun;
use super::ops::Op;
use proptest::strategy::ValueTree;
use std::time::Instant;

/// Most executions one shrink may spend (each is a whole case against the implementation).
pub const MAX_SHRINK_RUNS: usize = 4096;

/// Runs one case: `(initial shard count, operations)`.
pub type Execute<'a> = dyn Fn(i64, &[Op]) -> CaseRun + 'a;

/// Shrinks `tree`'s current case while `still_fails` holds, then drops single operations
/// greedily. Returns the last run that still failed, or `None` when the case does not fail
/// again when replayed (a nondeterministic implementation). Bounded by [`MAX_SHRINK_RUNS`]
/// executions and by `deadline`.
pub fn shrink<T>(
    tree: &mut T,
    execute: &Execute<'_>,
    still_fails: &dyn Fn(&CaseRun) -> bool,
    deadline: Instant,
) -> Option<CaseRun>
where
    T: ValueTree<Value = (i64, Vec<Op>)>,
{
    let (mut shards, mut list) = tree.current();
    let mut last = execute(shards, &list);
    if !still_fails(&last) {
        return None;
    }
    let mut runs = 1;
    if tree.simplify() {
        while runs < MAX_SHRINK_RUNS && Instant::now() < deadline {
            let (s, l) = tree.current();
            let run = execute(s, &l);
            runs += 1;
            let more = if still_fails(&run) {
                (shards, list, last) = (s, l, run);
                tree.simplify()
            } else {
                tree.complicate()
            };
            if !more {
                break;
            }
        }
    }
    Some(minimize(execute, shards, list, last, still_fails, deadline))
}

/// Greedy one-at-a-time removal: drops every operation whose removal keeps `still_fails` true,
/// until a fixed point or the deadline. `last` is the run of `list` (known to fail).
pub fn minimize(
    execute: &Execute<'_>,
    shards: i64,
    mut list: Vec<Op>,
    mut last: CaseRun,
    still_fails: &dyn Fn(&CaseRun) -> bool,
    deadline: Instant,
) -> CaseRun {
    let mut changed = true;
    while changed && Instant::now() < deadline {
        changed = false;
        let mut i = list.len();
        while i > 0 && Instant::now() < deadline {
            i -= 1;
            let mut shorter = list.clone();
            shorter.remove(i);
            let run = execute(shards, &shorter);
            if still_fails(&run) {
                list = shorter;
                last = run;
                changed = true;
            }
        }
    }
    last
}
