//! Splits and merges interleaved with appends, on a small abstract hash space.
//!
//! Instead of MD5's `[0, 2^128 - 1]` the model uses `hash_slots` slots (4 by default): a range
//! is a pair of slots `lo..=hi`, and partition key `k` hashes to slot
//! `k * hash_slots / keys`. Every shard's numbers come from the shipped
//! [`StreamSequencer::open_shard`] and [`ShardSequencer::next`]. A split of `lo..=hi` at `at`
//! closes the parent and opens `lo..=at-1` and `at..=hi`; a merge closes two adjacent open
//! shards and opens their union; both take the next shard indexes, as Kinesis does.

use stateright::{CheckerBuilder, Model, Property};

use crate::sequencer::{SeqFormat, ShardSequencer, StreamSequencer};
use crate::types::SequenceNumber;

/// Where a put is routed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Routing {
    /// To the open shard whose range holds the key's slot (Kinesis behaviour).
    #[default]
    OpenShardsOnly,
    /// Broken twin: a split parent keeps accepting writes for its range (the lowest-index
    /// shard holding the slot wins, closed split parents included).
    ParentKeepsAcceptingWrites,
}

/// The model: bounds plus the routing under test.
#[derive(Clone, Debug)]
pub struct Resharding {
    /// Size of the abstract hash space.
    pub hash_slots: u8,
    /// Partition keys, spread evenly over the slots.
    pub keys: u8,
    /// Puts allowed in one run.
    pub max_puts: u8,
    /// Splits plus merges allowed in one run.
    pub max_reshards: u8,
    /// Layout of the minted numbers (default `AwsV2`: packing it is shifts only, so the
    /// checker runs faster than with `Readable`; the tests check both).
    pub format: SeqFormat,
    /// Routing: faithful or broken.
    pub routing: Routing,
}

impl Default for Resharding {
    /// Four slots, two keys, three puts, two reshards.
    fn default() -> Self {
        Resharding::at_scale(1)
    }
}

/// Why a shard was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Closed {
    /// Split into two children.
    Split,
    /// Merged with a neighbour.
    Merged,
}

/// One shard of the stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Its sequencer (shard index and epoch included).
    pub seq: ShardSequencer,
    /// First slot of its hash range.
    pub lo: u8,
    /// Last slot of its hash range.
    pub hi: u8,
    /// Indexes of its parents (none for the first shard).
    pub parents: Vec<u32>,
    /// How and after how many writes (counted stream-wide) it was closed; `None` while open.
    pub closed: Option<(Closed, u8)>,
}

/// One acknowledged put.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Write {
    /// The shard it landed in.
    pub shard: u32,
    /// Its partition key.
    pub key: u8,
    /// Its number.
    pub seq: SequenceNumber,
}

/// The whole stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Hands out shard indexes and epochs.
    pub stream: StreamSequencer,
    /// Every shard ever created; position = shard index.
    pub shards: Vec<Shard>,
    /// Every acknowledged put, in order.
    pub writes: Vec<Write>,
    /// Splits and merges so far.
    pub reshards: u8,
}

/// A step of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Put a record with this partition key.
    Put(u8),
    /// Split this shard; the upper child starts at slot `at`.
    Split {
        /// The shard to split.
        shard: u32,
        /// First slot of the upper child.
        at: u8,
    },
    /// Merge two adjacent open shards (`left` holds the lower range).
    Merge {
        /// The lower shard.
        left: u32,
        /// The upper shard.
        right: u32,
    },
}

impl Resharding {
    /// Bounds for `scale` (1 = default): four slots, two keys, `scale + 2` puts and
    /// `scale + 1` reshards.
    pub fn at_scale(scale: usize) -> Self {
        let s = u8::try_from(scale.clamp(1, 8)).unwrap_or(1);
        Resharding {
            hash_slots: 4,
            keys: 2,
            max_puts: s + 2,
            max_reshards: s + 1,
            format: SeqFormat::AwsV2,
            routing: Routing::OpenShardsOnly,
        }
    }

    /// The same bounds with the broken routing when `broken`.
    pub fn broken_if(mut self, broken: bool) -> Self {
        if broken {
            self.routing = Routing::ParentKeepsAcceptingWrites;
        }
        self
    }

    /// A breadth-first checker builder (shards are not interchangeable: no symmetry).
    pub fn into_checker(self) -> CheckerBuilder<Self> {
        self.checker()
    }

    /// The slot partition key `key` hashes to.
    pub fn slot(&self, key: u8) -> u8 {
        ((u16::from(key) * u16::from(self.hash_slots)) / u16::from(self.keys.max(1))) as u8
    }

    fn route(&self, state: &State, slot: u8) -> Option<usize> {
        state.shards.iter().position(|s| {
            let accepts = matches!(
                (self.routing, s.closed),
                (_, None)
                    | (
                        Routing::ParentKeepsAcceptingWrites,
                        Some((Closed::Split, _))
                    )
            );
            accepts && s.lo <= slot && slot <= s.hi
        })
    }
}

impl Model for Resharding {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut stream = StreamSequencer::new(self.format);
        let first = stream.open_shard(0, &[]);
        let shards = first
            .map(|seq| Shard {
                seq,
                lo: 0,
                hi: self.hash_slots.saturating_sub(1),
                parents: Vec::new(),
                closed: None,
            })
            .into_iter()
            .collect();
        vec![State {
            stream,
            shards,
            writes: Vec::new(),
            reshards: 0,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if state.writes.len() < usize::from(self.max_puts) {
            actions.extend((0..self.keys).map(Action::Put));
        }
        if state.reshards >= self.max_reshards {
            return;
        }
        for (i, s) in state.shards.iter().enumerate() {
            if s.closed.is_some() {
                continue;
            }
            let shard = i as u32;
            actions.extend((s.lo + 1..=s.hi).map(|at| Action::Split { shard, at }));
            for (j, t) in state.shards.iter().enumerate() {
                if t.closed.is_none() && s.hi.checked_add(1) == Some(t.lo) {
                    actions.push(Action::Merge {
                        left: shard,
                        right: j as u32,
                    });
                }
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        let written = s.writes.len() as u8;
        match action {
            Action::Put(key) => {
                let i = self.route(&s, self.slot(key))?;
                let seq = s.shards[i].seq.next(0, None).ok()?;
                s.writes.push(Write {
                    shard: i as u32,
                    key,
                    seq,
                });
            }
            Action::Split { shard, at } => {
                let i = shard as usize;
                let (lo, hi) = (s.shards[i].lo, s.shards[i].hi);
                let parent = s.shards[i].seq.clone();
                for (clo, chi) in [(lo, at - 1), (at, hi)] {
                    let seq = s.stream.open_shard(0, &[&parent])?;
                    s.shards.push(Shard {
                        seq,
                        lo: clo,
                        hi: chi,
                        parents: vec![shard],
                        closed: None,
                    });
                }
                s.shards[i].closed = Some((Closed::Split, written));
                s.reshards += 1;
            }
            Action::Merge { left, right } => {
                let (l, r) = (left as usize, right as usize);
                let (a, b) = (s.shards[l].seq.clone(), s.shards[r].seq.clone());
                let seq = s.stream.open_shard(0, &[&a, &b])?;
                let (lo, hi) = (s.shards[l].lo, s.shards[r].hi);
                s.shards.push(Shard {
                    seq,
                    lo,
                    hi,
                    parents: vec![left, right],
                    closed: None,
                });
                s.shards[l].closed = Some((Closed::Merged, written));
                s.shards[r].closed = Some((Closed::Merged, written));
                s.reshards += 1;
            }
        }
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            // Witnessed by "a split and a merge both happen": the partition is then re-cut twice.
            Property::<Self>::always(
                "open shards' hash ranges partition the hash space exactly",
                |m, s| {
                    (0..m.hash_slots).all(|slot| {
                        s.shards
                            .iter()
                            .filter(|sh| sh.closed.is_none() && sh.lo <= slot && slot <= sh.hi)
                            .count()
                            == 1
                    })
                },
            ),
            // Witnessed by "a closed shard holds records": closed shards with data exist.
            Property::<Self>::always("a closed shard never accepts a write", |_, s| {
                s.writes.iter().enumerate().all(|(n, w)| {
                    s.shards[w.shard as usize]
                        .closed
                        .is_none_or(|(_, after)| n < usize::from(after))
                })
            }),
            // Witnessed by "a key is written before and after a reshard".
            Property::<Self>::always(
                "every child's numbers exceed all numbers of its parents",
                |_, s| {
                    s.shards.iter().enumerate().all(|(c, child)| {
                        let child_min = s
                            .writes
                            .iter()
                            .filter(|w| w.shard as usize == c)
                            .map(|w| w.seq)
                            .chain([child.seq.starting_sequence_number()])
                            .min();
                        child.parents.iter().all(|p| {
                            let parent = &s.shards[*p as usize];
                            let parent_max = s
                                .writes
                                .iter()
                                .filter(|w| w.shard == *p)
                                .map(|w| w.seq)
                                .chain([parent.seq.ending_sequence_number(0)])
                                .max();
                            child_min > parent_max
                        })
                    })
                },
            ),
            // Witnessed by "a key is written before and after a reshard".
            Property::<Self>::always(
                "per partition key, numbers increase across the lineage",
                |m, s| {
                    (0..m.keys).all(|k| {
                        let mut of_key = s.writes.iter().filter(|w| w.key == k);
                        let mut last = match of_key.next() {
                            None => return true,
                            Some(w) => w.seq,
                        };
                        of_key.all(|w| {
                            let up = w.seq > last;
                            last = w.seq;
                            up
                        })
                    })
                },
            ),
            // Witnessed by "a split and a merge both happen" (several shards are created).
            Property::<Self>::always("shard ids are never reused", |_, s| {
                s.shards
                    .iter()
                    .enumerate()
                    .all(|(i, sh)| sh.seq.shard_index() as usize == i)
                    && s.stream.next_index() as usize == s.shards.len()
            }),
            Property::<Self>::sometimes("a split and a merge both happen", |_, s| {
                let closed = |how| {
                    s.shards
                        .iter()
                        .any(|sh| matches!(sh.closed, Some((c, _)) if c == how))
                };
                closed(Closed::Split) && closed(Closed::Merged)
            }),
            Property::<Self>::sometimes("a closed shard holds records", |_, s| {
                s.writes
                    .iter()
                    .any(|w| s.shards[w.shard as usize].closed.is_some())
            }),
            Property::<Self>::sometimes("a key is written before and after a reshard", |_, s| {
                s.writes.iter().any(|a| {
                    s.writes.iter().any(|b| {
                        a.key == b.key && s.shards[b.shard as usize].parents.contains(&a.shard)
                    })
                })
            }),
        ]
    }
}
