//! Consumers reading a shard and its split children, checkpointing, crashing and resuming.
//!
//! The stream is fixed before consumption starts: shard 0 holds one aggregated record (two
//! sub-records sharing one sequence number, told apart by sub-sequence number) and then
//! `scale - 1` plain ones, and was split into shards 1 and 2 with one record each. All numbers
//! come from the shipped [`StreamSequencer`] and [`ShardSequencer`]. Each shard has a lease;
//! a worker that holds it fetches a record, processes it, and checkpoints `(sequence number,
//! sub-sequence number)`, or `SHARD_END` after the last record, which releases the lease. A
//! worker may crash (losing every lease it held) and a lease may move to the other worker;
//! either way the next holder resumes after the durable checkpoint. A child's lease can be
//! taken only once every parent is checkpointed at `SHARD_END`.

use stateright::{CheckerBuilder, Model, Property, Representative};

use crate::sequencer::{SeqFormat, StreamSequencer};
use crate::types::SequenceNumber;

/// When a worker writes its checkpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CheckpointOrder {
    /// After processing the record (at-least-once).
    #[default]
    AfterProcessing,
    /// Broken twin: as soon as the record is fetched, before processing it.
    BeforeProcessing,
}

/// A durable checkpoint, ordered as the KCL orders them: `TRIM_HORIZON` below every number,
/// numbers by sequence then sub-sequence, `SHARD_END` above everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Checkpoint {
    /// Nothing processed yet.
    TrimHorizon,
    /// Everything up to and including this record is processed.
    At {
        /// The record's sequence number.
        seq: SequenceNumber,
        /// Its sub-sequence number within an aggregated record.
        sub: u32,
    },
    /// The whole (closed) shard is processed.
    ShardEnd,
}

/// One shard of the fixed stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardData {
    /// Indexes of its parent shards.
    pub parents: Vec<usize>,
    /// Its records as `(sequence number, sub-sequence number)`, in order.
    pub records: Vec<(SequenceNumber, u32)>,
}

/// The model: the stream, the bounds and the checkpoint order under test.
#[derive(Clone, Debug)]
pub struct Checkpointing {
    /// The fixed stream (built with the shipped sequencer).
    pub shards: Vec<ShardData>,
    /// Workers (interchangeable: the checker uses symmetry reduction).
    pub workers: u8,
    /// Worker crashes allowed in one run.
    pub max_crashes: u8,
    /// Lease moves allowed in one run.
    pub max_lease_moves: u8,
    /// Checkpoint order: faithful or broken.
    pub order: CheckpointOrder,
}

impl Default for Checkpointing {
    /// Two workers, one crash, one lease move, the three-shard lineage described above.
    fn default() -> Self {
        Checkpointing::at_scale(1)
    }
}

/// A lease and the volatile progress of its holder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The worker holding it.
    pub owner: Option<u8>,
    /// Index of the next record the holder will fetch.
    pub cursor: u8,
    /// True while the record at `cursor` is fetched and not yet processed.
    pub fetched: bool,
}

/// One record processed by a worker (history kept for the properties).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Processed {
    /// Its shard.
    pub shard: u8,
    /// Its index in the shard.
    pub record: u8,
    /// Crashes plus lease moves that had happened when it was processed.
    pub disruptions: u8,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// One lease per shard.
    pub leases: Vec<Lease>,
    /// The durable checkpoint of each shard.
    pub checkpoints: Vec<Checkpoint>,
    /// Each shard's checkpoint before its latest write.
    pub previous: Vec<Checkpoint>,
    /// Every processing, in order.
    pub processed: Vec<Processed>,
    /// Crashes so far.
    pub crashes: u8,
    /// Lease moves so far.
    pub moves: u8,
}

/// A step of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A worker takes a free lease whose parents are finished.
    Take {
        /// The worker.
        worker: u8,
        /// The shard.
        shard: u8,
    },
    /// The holder fetches the next record of the shard.
    Fetch(u8),
    /// The holder processes the fetched record.
    Process(u8),
    /// The holder checkpoints its progress (`SHARD_END` at the end, releasing the lease).
    Checkpoint(u8),
    /// A worker crashes and loses its leases.
    Crash(u8),
    /// The shard's lease moves to another worker.
    MoveLease(u8),
}

impl Checkpointing {
    /// Bounds for `scale` (1 = default): the parent holds one aggregated record of two
    /// sub-records plus `scale - 1` plain records; two workers; `scale` crashes and lease moves.
    pub fn at_scale(scale: usize) -> Self {
        let s = u8::try_from(scale.clamp(1, 8)).unwrap_or(1);
        let mut stream = StreamSequencer::new(SeqFormat::Readable);
        let mut shards = Vec::new();
        if let Some(mut parent) = stream.open_shard(0, &[]) {
            let mut records = Vec::new();
            if let Ok(aggregated) = parent.next(0, None) {
                records.extend([(aggregated, 0), (aggregated, 1)]);
            }
            for _ in 1..s {
                records.extend(parent.next(0, None).ok().map(|n| (n, 0)));
            }
            shards.push(ShardData {
                parents: Vec::new(),
                records,
            });
            for _ in 0..2 {
                if let Some(mut child) = stream.open_shard(0, &[&parent]) {
                    shards.push(ShardData {
                        parents: vec![0],
                        records: child
                            .next(0, None)
                            .ok()
                            .map(|n| (n, 0))
                            .into_iter()
                            .collect(),
                    });
                }
            }
        }
        Checkpointing {
            shards,
            workers: 2,
            max_crashes: s,
            max_lease_moves: s,
            order: CheckpointOrder::AfterProcessing,
        }
    }

    /// The same bounds with the broken checkpoint order when `broken`.
    pub fn broken_if(mut self, broken: bool) -> Self {
        if broken {
            self.order = CheckpointOrder::BeforeProcessing;
        }
        self
    }

    /// A checker builder with symmetry reduction over workers (faithful model only: the broken
    /// twin is searched without it so its counterexample path is rebuilt plainly).
    pub fn into_checker(self) -> CheckerBuilder<Self> {
        match self.order {
            CheckpointOrder::AfterProcessing => self.checker().symmetry(),
            CheckpointOrder::BeforeProcessing => self.checker(),
        }
    }

    /// Where a new holder resumes: the index after the checkpointed record.
    fn resume_at(&self, shard: usize, checkpoint: Checkpoint) -> u8 {
        let records = &self.shards[shard].records;
        let i = match checkpoint {
            Checkpoint::TrimHorizon => 0,
            Checkpoint::At { seq, sub } => records
                .iter()
                .position(|r| *r == (seq, sub))
                .map_or(0, |p| p + 1),
            Checkpoint::ShardEnd => records.len(),
        };
        i as u8
    }

    fn at(&self, shard: usize, index: u8) -> Checkpoint {
        let records = &self.shards[shard].records;
        match records.get(usize::from(index)) {
            Some((seq, sub)) => Checkpoint::At {
                seq: *seq,
                sub: *sub,
            },
            None => Checkpoint::TrimHorizon,
        }
    }
}

impl Representative for State {
    /// Workers are interchangeable: rename them in order of the first lease each holds.
    fn representative(&self) -> Self {
        let mut names: Vec<u8> = Vec::new();
        for l in &self.leases {
            if let Some(w) = l.owner
                && !names.contains(&w)
            {
                names.push(w);
            }
        }
        let mut rep = self.clone();
        for l in &mut rep.leases {
            l.owner = l
                .owner
                .and_then(|w| names.iter().position(|n| *n == w))
                .map(|p| p as u8);
        }
        rep
    }
}

impl Model for Checkpointing {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let n = self.shards.len();
        vec![State {
            leases: vec![
                Lease {
                    owner: None,
                    cursor: 0,
                    fetched: false,
                };
                n
            ],
            checkpoints: vec![Checkpoint::TrimHorizon; n],
            previous: vec![Checkpoint::TrimHorizon; n],
            processed: Vec::new(),
            crashes: 0,
            moves: 0,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        for (i, lease) in state.leases.iter().enumerate() {
            let shard = i as u8;
            let len = self.shards[i].records.len();
            match lease.owner {
                None => {
                    let ready = state.checkpoints[i] != Checkpoint::ShardEnd
                        && self.shards[i]
                            .parents
                            .iter()
                            .all(|p| state.checkpoints[*p] == Checkpoint::ShardEnd);
                    if ready {
                        actions
                            .extend((0..self.workers).map(|worker| Action::Take { worker, shard }));
                    }
                }
                Some(_) => {
                    if lease.fetched {
                        actions.push(Action::Process(shard));
                    } else {
                        if usize::from(lease.cursor) < len {
                            actions.push(Action::Fetch(shard));
                        }
                        let target = if usize::from(lease.cursor) == len {
                            Checkpoint::ShardEnd
                        } else {
                            self.at(i, lease.cursor.wrapping_sub(1))
                        };
                        if target > state.checkpoints[i] {
                            actions.push(Action::Checkpoint(shard));
                        }
                    }
                    if state.moves < self.max_lease_moves {
                        actions.push(Action::MoveLease(shard));
                    }
                }
            }
        }
        if state.crashes < self.max_crashes {
            for w in 0..self.workers {
                if state.leases.iter().any(|l| l.owner == Some(w)) {
                    actions.push(Action::Crash(w));
                }
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        let disruptions = s.crashes + s.moves;
        match action {
            Action::Take { worker, shard } => {
                let i = usize::from(shard);
                s.leases[i] = Lease {
                    owner: Some(worker),
                    cursor: self.resume_at(i, s.checkpoints[i]),
                    fetched: false,
                };
            }
            Action::Fetch(shard) => {
                let i = usize::from(shard);
                s.leases[i].fetched = true;
                if self.order == CheckpointOrder::BeforeProcessing {
                    s.previous[i] = s.checkpoints[i];
                    s.checkpoints[i] = self.at(i, s.leases[i].cursor);
                }
            }
            Action::Process(shard) => {
                let lease = &mut s.leases[usize::from(shard)];
                s.processed.push(Processed {
                    shard,
                    record: lease.cursor,
                    disruptions,
                });
                lease.cursor += 1;
                lease.fetched = false;
            }
            Action::Checkpoint(shard) => {
                let i = usize::from(shard);
                let lease = &mut s.leases[i];
                let value = if usize::from(lease.cursor) == self.shards[i].records.len() {
                    lease.owner = None;
                    Checkpoint::ShardEnd
                } else {
                    self.at(i, lease.cursor.wrapping_sub(1))
                };
                s.previous[i] = s.checkpoints[i];
                s.checkpoints[i] = value;
            }
            Action::Crash(worker) => {
                for l in s.leases.iter_mut().filter(|l| l.owner == Some(worker)) {
                    l.owner = None;
                    l.fetched = false;
                }
                s.crashes += 1;
            }
            Action::MoveLease(shard) => {
                let i = usize::from(shard);
                let from = s.leases[i].owner?;
                s.leases[i] = Lease {
                    owner: Some((from + 1) % self.workers.max(1)),
                    cursor: self.resume_at(i, s.checkpoints[i]),
                    fetched: false,
                };
                s.moves += 1;
            }
        }
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            // Witnessed by "every shard is processed to its end" (its second clause) and by
            // "a record is processed twice" (resumption after a disruption).
            Property::<Self>::always("no record is ever skipped", |m, s| {
                let before_each = s.processed.iter().enumerate().all(|(n, p)| {
                    (0..p.record).all(|r| {
                        s.processed[..n]
                            .iter()
                            .any(|q| q.shard == p.shard && q.record == r)
                    })
                });
                let finished_complete = s.checkpoints.iter().enumerate().all(|(i, c)| {
                    *c != Checkpoint::ShardEnd
                        || (0..m.shards[i].records.len()).all(|r| {
                            s.processed
                                .iter()
                                .any(|q| usize::from(q.shard) == i && usize::from(q.record) == r)
                        })
                });
                before_each && finished_complete
            }),
            // Witnessed by "a record is processed twice".
            Property::<Self>::always("duplicates only after a crash or lease move", |_, s| {
                s.processed.iter().enumerate().all(|(n, later)| {
                    s.processed[..n].iter().all(|earlier| {
                        (earlier.shard, earlier.record) != (later.shard, later.record)
                            || earlier.disruptions < later.disruptions
                    })
                })
            }),
            // Witnessed by "every shard is processed to its end": children get processed.
            Property::<Self>::always("parents are fully processed before children", |m, s| {
                s.processed.iter().enumerate().all(|(n, p)| {
                    m.shards[usize::from(p.shard)].parents.iter().all(|parent| {
                        (0..m.shards[*parent].records.len()).all(|r| {
                            s.processed[..n].iter().any(|q| {
                                usize::from(q.shard) == *parent && usize::from(q.record) == r
                            })
                        })
                    })
                })
            }),
            // Witnessed by "a checkpoint advances past a record": a non-initial one is overwritten.
            Property::<Self>::always("checkpoints never move backwards", |_, s| {
                s.checkpoints
                    .iter()
                    .zip(&s.previous)
                    .all(|(now, before)| now >= before)
            }),
            Property::<Self>::sometimes("a record is processed twice", |_, s| {
                s.processed.iter().enumerate().any(|(n, p)| {
                    s.processed[..n]
                        .iter()
                        .any(|q| (q.shard, q.record) == (p.shard, p.record))
                })
            }),
            Property::<Self>::sometimes("a checkpoint advances past a record", |_, s| {
                s.previous
                    .iter()
                    .any(|c| matches!(c, Checkpoint::At { .. }))
            }),
            Property::<Self>::sometimes("every shard is processed to its end", |_, s| {
                s.checkpoints.iter().all(|c| *c == Checkpoint::ShardEnd)
            }),
            Property::<Self>::eventually(
                "every shard is eventually processed to its end",
                |_, s| s.checkpoints.iter().all(|c| *c == Checkpoint::ShardEnd),
            ),
        ]
    }
}
