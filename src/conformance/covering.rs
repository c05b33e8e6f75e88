//! The covering set each area opens with: fixed cases that send every operation variant the
//! area's generator can produce, and take every iterator type to a record, to the last record
//! before the tip and to the tip, before any random case runs. Small budgets (CI runs 8 cases
//! per area) are effective because of it.
//!
//! Covering cases depend only on the area, never on the seed, so a replay command runs the same
//! ones. They shrink like generated cases ([`CoveringTree`]): first the shard count, then runs of
//! operations, halving the run length; the runner's greedy pass follows.

use super::Area;
use super::ops::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeSet;

/// One case: the initial shard count and the operations.
pub type Case = (i64, Vec<Op>);

/// The covering cases of `area`, in the order they run: the iterator positions (areas that
/// send GetShardIterator), one representative of every variant, and the raw requests
/// (validation).
pub fn covering_cases(area: Area) -> Vec<Case> {
    let mut cases = Vec::new();
    if has_iterators(area) {
        cases.push((3, positions(smallest_wait(area))));
    }
    let raw: Vec<Op> = RawOp::covering().into_iter().map(Op::Raw).collect();
    let others: Vec<Op> = area_variants(area)
        .into_iter()
        .filter(|op| !matches!(op, Op::Raw(_)))
        .collect();
    cases.push((2, others));
    if area == Area::Validation {
        cases.push((1, raw));
    }
    cases
}

/// The variants found by drawing `samples` operations from `area`'s generator with a fixed
/// seed: what the generator produces, found independently of [`area_variants`] and of any run.
pub fn drawn_variants(area: Area, samples: usize) -> BTreeSet<String> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[area as u8 + 1; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = op_strategy(area);
    (0..samples)
        .filter_map(|_| strategy.new_tree(&mut runner).ok())
        .map(|t| t.current().variant())
        .collect()
}

/// How many covering cases `area` opens with.
pub fn covering_count(area: Area) -> usize {
    covering_cases(area).len()
}

/// One representative operation of every variant `area`'s generator can produce (see
/// [`Op::variant`]), in an order where each one's prerequisites come first: records before
/// the reads that name them, iterators before reads, splits before merges, a scale-up that
/// closes shards before the merges that name closed shards.
pub fn area_variants(area: Area) -> Vec<Op> {
    let mut ops = Vec::new();
    match area {
        Area::Routing => {
            ops.extend(put_variants());
            ops.extend(batch_variants());
            ops.extend(drain_variants());
            ops.extend(list_variants());
        }
        Area::Sequencing => {
            ops.extend(put_variants());
            ops.extend(batch_variants());
            ops.extend(drain_variants());
        }
        Area::Iterators => {
            ops.extend(put_variants());
            ops.extend(iterator_variants());
            ops.extend(read_variants());
            ops.extend(drain_variants());
            ops.extend(wait_variants(EXPIRY_STEPS));
        }
        Area::Paging => {
            ops.extend(put_variants());
            ops.extend(batch_variants());
            ops.extend(iterator_variants());
            ops.extend(read_variants());
            ops.extend(drain_variants());
        }
        Area::Resharding => {
            ops.extend(put_variants());
            ops.extend(batch_variants());
            ops.extend(iterator_variants());
            ops.extend(read_variants());
            ops.extend(drain_variants());
            ops.extend(list_variants());
            ops.extend(reshard_variants());
        }
        Area::Retention => {
            ops.extend(put_variants());
            ops.extend(iterator_variants());
            ops.extend(read_variants());
            ops.extend(drain_variants());
            ops.extend(reshard_variants());
            ops.extend(retention_variants());
            ops.extend(wait_variants(RETENTION_STEPS));
        }
        Area::Validation => {
            ops.extend(put_variants());
            ops.extend(iterator_variants());
            ops.extend(read_variants());
            ops.extend(invalid_variants());
            ops.extend(RawOp::covering().into_iter().map(Op::Raw));
        }
    }
    ops
}

fn has_iterators(area: Area) -> bool {
    !matches!(area, Area::Routing | Area::Sequencing)
}

/// The shortest clock step in `area`'s mix, if it has any.
fn smallest_wait(area: Area) -> Option<u64> {
    match area {
        Area::Iterators => EXPIRY_STEPS.first().copied(),
        Area::Retention => RETENTION_STEPS.first().copied(),
        _ => None,
    }
}

fn put(key: KeyGen, data: DataGen, ehk: Option<HashKeyGen>, ordering: Option<SeqRef>) -> Op {
    Op::Put {
        stream: NameRef::Slot(0),
        key,
        data,
        ehk,
        ordering,
    }
}

fn small_put(ehk: Option<HashKeyGen>, ordering: Option<SeqRef>) -> Op {
    put(KeyGen::Pool(0), DataGen::Small(3), ehk, ordering)
}

fn iterator(shard: ShardRef, position: Position) -> Op {
    Op::Iterator {
        stream: NameRef::Slot(0),
        shard,
        position,
    }
}

fn read_latest(limit: Option<i64>) -> Op {
    Op::Read {
        iterator: IterRef::Returned(0),
        limit,
    }
}

/// Every iterator type read from three places: a shard with several records (at a record in
/// the middle), its last record (just before the tip), and the tip (an empty shard, or past the
/// last record). Shard 0 gets three records (`wait` ms apart when the area moves the clock, so
/// AT_TIMESTAMP can tell them apart), shard 1 one record, shard 2 none. Each GetShardIterator
/// is followed by a read through it.
fn positions(wait: Option<u64>) -> Vec<Op> {
    let on = |shard: usize| small_put(Some(HashKeyGen::RangeStart(shard)), None);
    let pause = || wait.map(|ms| Op::Wait { ms });
    let mut ops: Vec<Op> = Vec::new();
    ops.push(on(0));
    ops.extend(pause());
    ops.push(on(0));
    ops.extend(pause());
    ops.push(on(0));
    ops.push(on(1));
    ops.extend(pause());
    // Returned numbers: 0, 1, 2 on shard 0; 3 on shard 1.
    let mut probes = vec![
        (ShardRef::Known(0), Position::TrimHorizon),
        (ShardRef::Known(1), Position::TrimHorizon),
        (ShardRef::Known(2), Position::TrimHorizon),
        (ShardRef::Known(0), Position::At(SeqRef::Returned(1))),
        (ShardRef::Known(0), Position::At(SeqRef::Returned(2))),
        (ShardRef::Known(1), Position::At(SeqRef::Returned(3))),
        (ShardRef::Known(2), Position::At(SeqRef::ShardStart(2))),
        (ShardRef::Known(0), Position::After(SeqRef::Returned(0))),
        (ShardRef::Known(0), Position::After(SeqRef::Returned(1))),
        (ShardRef::Known(0), Position::After(SeqRef::Returned(2))),
        (ShardRef::Known(1), Position::After(SeqRef::Returned(3))),
        (ShardRef::Known(0), at_time(1, 0)),
        (ShardRef::Known(0), at_time(2, 0)),
    ];
    if wait.is_some() {
        probes.extend([
            (ShardRef::Known(0), at_time(1, -1)),
            (ShardRef::Known(0), at_time(2, 1)),
            (ShardRef::Known(1), at_time(3, 1)),
            (ShardRef::Known(2), at_time(3, 0)),
        ]);
    }
    for (shard, position) in probes {
        ops.push(iterator(shard, position));
        ops.push(read_latest(None));
    }
    // LATEST is fixed when it is issued: a record put after it comes back through it.
    ops.push(iterator(ShardRef::Known(0), Position::Latest));
    ops.push(on(0));
    ops.push(read_latest(None));
    for shard in [1, 2] {
        ops.push(iterator(ShardRef::Known(shard), Position::Latest));
        ops.push(read_latest(None));
    }
    ops
}

fn at_time(record: usize, offset_ms: i64) -> Position {
    Position::AtTimestamp {
        record: Some(record),
        offset_ms,
    }
}

fn put_variants() -> Vec<Op> {
    let mut ops = vec![small_put(None, None)];
    ops.extend(
        [
            HashKeyGen::RangeStart(1),
            HashKeyGen::RangeEnd(0),
            HashKeyGen::Max,
            HashKeyGen::Value(1 << 100),
        ]
        .map(|h| small_put(Some(h), None)),
    );
    ops.extend([SeqRef::Returned(0), SeqRef::ShardStart(0)].map(|s| small_put(None, Some(s))));
    ops.extend(KEY_EDGES.map(|k| put(k, DataGen::Small(3), None, None)));
    ops.push(put(
        KeyGen::Pool(1),
        DataGen::Click { event: 0 },
        None,
        None,
    ));
    ops.extend(DATA_SIZES.map(|n| put(KeyGen::Pool(2), DataGen::Size(n), None, None)));
    ops
}

fn batch(entries: Vec<(KeyGen, DataGen, Option<HashKeyGen>)>) -> Op {
    Op::PutBatch {
        stream: NameRef::Slot(0),
        entries,
        pad_to: None,
    }
}

fn batch_variants() -> Vec<Op> {
    let plain = |k: u8| (KeyGen::Pool(k), DataGen::Small(5), None);
    let mut ops = vec![batch(vec![plain(0), plain(1)])];
    ops.extend(
        [
            HashKeyGen::RangeStart(1),
            HashKeyGen::RangeEnd(0),
            HashKeyGen::Max,
            HashKeyGen::Value(1 << 90),
        ]
        .map(|h| {
            batch(vec![
                plain(0),
                (KeyGen::Pool(1), DataGen::Small(5), Some(h)),
            ])
        }),
    );
    ops.extend(KEY_EDGES.map(|k| batch(vec![plain(0), (k, DataGen::Small(5), None)])));
    ops
}

fn iterator_variants() -> Vec<Op> {
    [
        Position::At(SeqRef::Returned(0)),
        Position::At(SeqRef::ShardStart(0)),
        Position::After(SeqRef::Returned(0)),
        Position::After(SeqRef::ShardStart(0)),
        Position::TrimHorizon,
        Position::Latest,
        Position::AtTimestamp {
            record: Some(0),
            offset_ms: 0,
        },
        Position::AtTimestamp {
            record: None,
            offset_ms: 0,
        },
    ]
    .map(|p| iterator(ShardRef::Known(0), p))
    .to_vec()
}

fn read_variants() -> Vec<Op> {
    [None, Some(1), Some(10_000)].map(read_latest).to_vec()
}

fn drain_variants() -> Vec<Op> {
    vec![Op::Drain {
        stream: 0,
        shard: ShardRef::Known(0),
        limit: None,
    }]
}

fn list(max_results: Option<i64>, token: Option<bool>, after: Option<ShardRef>) -> Op {
    Op::List {
        stream: NameRef::Slot(0),
        max_results,
        token,
        after,
    }
}

fn list_variants() -> Vec<Op> {
    vec![
        list(None, None, None),
        list(Some(1), None, None),
        list(None, None, Some(ShardRef::Known(0))),
        list(None, None, Some(ShardRef::ShortForm(0))),
        list(None, None, Some(ShardRef::Bare(0))),
    ]
}

fn wait_variants(steps: &[u64]) -> Vec<Op> {
    steps.iter().map(|&ms| Op::Wait { ms }).collect()
}

fn split(shard: ShardRef, at: SplitAt) -> Op {
    Op::Split {
        stream: NameRef::Slot(0),
        shard,
        at,
    }
}

fn merge(pair: MergePair, swap: bool, ids: IdForm) -> Op {
    Op::Merge {
        stream: 0,
        shard: ShardRef::Open(0),
        swap,
        pair,
        ids,
    }
}

/// Splits first (the short spellings while shards 0 and 1 are still open), then merges of
/// the shards they opened, then UpdateShardCount.
fn reshard_variants() -> Vec<Op> {
    let mut ops = vec![
        split(ShardRef::ShortForm(0), SplitAt::Middle),
        split(ShardRef::Bare(1), SplitAt::Middle),
    ];
    ops.extend(
        SPLITS_ACCEPTED
            .iter()
            .zip([0, 2, 4])
            .map(|(at, i)| split(ShardRef::Open(i), at.clone())),
    );
    ops.extend([
        merge(MergePair::Adjacent, false, IdForm::Canonical),
        merge(MergePair::Adjacent, true, IdForm::Canonical),
        merge(MergePair::Adjacent, false, IdForm::Short),
        merge(MergePair::Adjacent, false, IdForm::Bare),
    ]);
    ops.extend(SCALE_QUARTERS.map(|quarters| Op::Scale {
        stream: 0,
        quarters,
    }));
    ops
}

fn retention_variants() -> Vec<Op> {
    [true, false]
        .into_iter()
        .flat_map(|increase| {
            RETENTION_HOURS.map(|hours| Op::Retention {
                stream: NameRef::Slot(0),
                increase,
                hours,
            })
        })
        .collect()
}

fn bad_ehks() -> Vec<HashKeyGen> {
    let mut all = vec![HashKeyGen::MaxPlusOne, HashKeyGen::ThirtyNineNines];
    all.extend(BadHashKey::ALL.map(HashKeyGen::Malformed));
    all
}

fn invalid_put_variants() -> Vec<Op> {
    let mut ops: Vec<Op> = BAD_NAMES
        .map(|stream| Op::Put {
            stream,
            key: KeyGen::Pool(0),
            data: DataGen::Small(3),
            ehk: None,
            ordering: None,
        })
        .to_vec();
    ops.extend(BAD_KEYS.map(|k| put(k, DataGen::Small(3), None, None)));
    ops.push(put(KeyGen::Pool(0), DataGen::Size(1_048_577), None, None));
    ops.extend(bad_ehks().into_iter().map(|h| small_put(Some(h), None)));
    ops.extend(BAD_SEQS.map(|s| small_put(None, Some(SeqRef::Literal(s)))));
    ops
}

fn invalid_batch_variants() -> Vec<Op> {
    let ok = (KeyGen::Pool(3), DataGen::Small(2), None);
    let padded = |data: DataGen, n: usize| Op::PutBatch {
        stream: NameRef::Slot(0),
        entries: vec![(KeyGen::Pool(2), data, None)],
        pad_to: Some(n),
    };
    let mut ops = vec![
        batch(vec![]),
        padded(DataGen::Small(1), 501),
        padded(DataGen::Small(1), 500),
        padded(DataGen::Size(1_048_576), 5),
    ];
    ops.extend(BAD_KEYS.map(|k| batch(vec![ok.clone(), (k, DataGen::Small(1), None)])));
    ops.extend(bad_ehks().into_iter().map(|h| {
        batch(vec![
            ok.clone(),
            (KeyGen::Pool(1), DataGen::Small(1), Some(h)),
        ])
    }));
    ops
}

fn invalid_iterator_variants() -> Vec<Op> {
    let mut positions: Vec<Position> = BAD_SEQS.map(|s| Position::At(SeqRef::Literal(s))).to_vec();
    positions.extend([
        Position::At(SeqRef::Literal(MOST_DIGITS)),
        Position::AtTimestampMissing,
        Position::AtTimestamp {
            record: None,
            offset_ms: 3_600_000,
        },
        Position::LatestWithNumber(SeqRef::Returned(0)),
        Position::AtWithoutNumber,
    ]);
    let mut ops: Vec<Op> = positions
        .into_iter()
        .map(|p| iterator(ShardRef::Known(0), p))
        .collect();
    ops.extend(ODD_SHARDS.map(|s| iterator(s, Position::TrimHorizon)));
    ops.extend(BAD_NAMES.map(|stream| Op::Iterator {
        stream,
        shard: ShardRef::Known(0),
        position: Position::Latest,
    }));
    ops.extend(BAD_ITERATORS.map(|iterator| Op::Read {
        iterator,
        limit: None,
    }));
    ops.extend(BAD_LIMITS.map(|l| read_latest(Some(l))));
    ops
}

fn invalid_admin_variants() -> Vec<Op> {
    let mut ops: Vec<Op> = [true, false]
        .into_iter()
        .flat_map(|increase| {
            BAD_RETENTION_HOURS.map(|hours| Op::Retention {
                stream: NameRef::Slot(0),
                increase,
                hours,
            })
        })
        .collect();
    ops.push(Op::Retention {
        stream: NameRef::Unknown,
        increase: true,
        hours: 48,
    });
    ops.extend(invalid_creates());
    ops.extend([NameRef::Unknown, NameRef::BadChar].map(|stream| Op::Delete { stream }));
    ops.extend([NameRef::Unknown, NameRef::Empty].map(|stream| Op::Describe { stream }));
    ops.extend([
        list(Some(0), None, None),
        list(Some(10_001), None, None),
        list(None, Some(true), None),
        list(None, Some(false), None),
        Op::List {
            stream: NameRef::Unknown,
            max_results: None,
            token: None,
            after: None,
        },
    ]);
    ops
}

/// Refused splits while shard 0 is open, then a scale-up (9/4 of 2 open shards closes both)
/// and the merges that name closed shards.
fn invalid_reshard_variants() -> Vec<Op> {
    let mut ops: Vec<Op> = SPLITS_REFUSED
        .iter()
        .map(|at| split(ShardRef::Known(0), at.clone()))
        .collect();
    ops.push(Op::Split {
        stream: NameRef::Unknown,
        shard: ShardRef::Known(0),
        at: SplitAt::Middle,
    });
    ops.push(merge(MergePair::Gap, false, IdForm::Canonical));
    ops.extend(BAD_SCALE_QUARTERS.map(|quarters| Op::Scale {
        stream: 0,
        quarters,
    }));
    ops.extend([
        merge(MergePair::OpenWithClosed, false, IdForm::Canonical),
        merge(MergePair::BothClosed, false, IdForm::Canonical),
    ]);
    ops
}

fn invalid_variants() -> Vec<Op> {
    let mut ops = invalid_put_variants();
    ops.extend(invalid_batch_variants());
    ops.extend(invalid_iterator_variants());
    ops.extend(invalid_admin_variants());
    ops.push(list(None, None, None));
    ops.extend(invalid_reshard_variants());
    ops
}

/// Shrinks a covering case: first to one shard, then by removing runs of operations (half
/// the case, then quarters, … down to single operations), keeping each removal after which
/// the case still fails. Deterministic; every accepted step makes the case strictly smaller,
/// so shrinking ends.
#[derive(Clone, Debug)]
pub struct CoveringTree {
    accepted: Case,
    candidate: Option<(Case, Proposal)>,
    shards_tried: bool,
    chunk: usize,
    at: usize,
}

/// What the current candidate changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proposal {
    /// One shard instead of several.
    OneShard,
    /// The run of `chunk` operations at `at` removed.
    Removal,
}

impl CoveringTree {
    /// The tree of `case`, not shrunk yet.
    pub fn new(case: Case) -> Self {
        let chunk = (case.1.len() / 2).max(1);
        CoveringTree {
            accepted: case,
            candidate: None,
            shards_tried: false,
            chunk,
            at: 0,
        }
    }

    /// Proposes the next smaller case from the accepted one; false when none is left.
    fn propose(&mut self) -> bool {
        if !self.shards_tried {
            self.shards_tried = true;
            if self.accepted.0 > 1 {
                self.candidate = Some(((1, self.accepted.1.clone()), Proposal::OneShard));
                return true;
            }
        }
        let len = self.accepted.1.len();
        while self.chunk > 0 {
            if self.at < len {
                let end = (self.at + self.chunk).min(len);
                let mut ops = self.accepted.1.clone();
                ops.drain(self.at..end);
                self.candidate = Some(((self.accepted.0, ops), Proposal::Removal));
                return true;
            }
            self.chunk /= 2;
            self.at = 0;
        }
        false
    }
}

impl ValueTree for CoveringTree {
    type Value = Case;

    fn current(&self) -> Case {
        match &self.candidate {
            Some((case, _)) => case.clone(),
            None => self.accepted.clone(),
        }
    }

    /// The current case still fails: keep it and propose a smaller one (the run after a
    /// removed one now starts where the removed one did).
    fn simplify(&mut self) -> bool {
        if let Some((case, _)) = self.candidate.take() {
            self.accepted = case;
        }
        self.propose()
    }

    /// The current case no longer fails: go back and propose the next removal.
    fn complicate(&mut self) -> bool {
        match self.candidate.take() {
            None => false,
            Some((_, Proposal::OneShard)) => self.propose(),
            Some((_, Proposal::Removal)) => {
                self.at += self.chunk;
                self.propose()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ops: &[Op]) -> BTreeSet<String> {
        ops.iter().map(Op::variant).collect()
    }

    /// The hand-made list of representatives and the generator agree: nothing the generator
    /// draws is missing from it, and nothing in it is beyond the generator.
    #[test]
    fn representatives_are_exactly_what_the_generators_produce() {
        for area in Area::ALL {
            let listed = labels(&area_variants(area));
            let drawn = drawn_variants(area, 60_000);
            let unlisted: Vec<_> = drawn.difference(&listed).collect();
            let undrawn: Vec<_> = listed.difference(&drawn).collect();
            assert!(
                unlisted.is_empty(),
                "{area}: drawn but not covered: {unlisted:?}"
            );
            assert!(
                undrawn.is_empty(),
                "{area}: covered but never drawn: {undrawn:?}"
            );
        }
    }

    #[test]
    fn each_representative_is_a_distinct_variant() {
        for area in Area::ALL {
            let ops = area_variants(area);
            assert_eq!(labels(&ops).len(), ops.len(), "{area}");
        }
    }

    #[test]
    fn covering_cases_hold_every_variant() {
        for area in Area::ALL {
            let covered: BTreeSet<String> = covering_cases(area)
                .iter()
                .flat_map(|(_, ops)| ops.iter().map(Op::variant))
                .collect();
            assert!(covered.is_superset(&labels(&area_variants(area))), "{area}");
            assert!(covering_count(area) <= 3, "{area}: too many covering cases");
        }
    }

    #[test]
    fn covering_tree_shrinks_to_the_operations_a_failure_needs() {
        let ops: Vec<Op> = (0..40).map(|ms| Op::Wait { ms }).collect();
        let mut tree = CoveringTree::new((3, ops));
        // Fails while operations 7 and 31 are both present.
        let fails = |c: &Case| [7, 31].iter().all(|m| c.1.contains(&Op::Wait { ms: *m }));
        assert!(fails(&tree.current()));
        let mut more = tree.simplify();
        let mut steps = 0;
        while more {
            steps += 1;
            assert!(steps < 1000, "shrinking does not end");
            more = if fails(&tree.current()) {
                tree.simplify()
            } else {
                tree.complicate()
            };
        }
        let (shards, ops) = tree.current();
        assert_eq!(shards, 1);
        assert_eq!(ops, vec![Op::Wait { ms: 7 }, Op::Wait { ms: 31 }]);
    }
}
