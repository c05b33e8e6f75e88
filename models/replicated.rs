//! One shard replicated on three stateright actors, with leader failover.
//!
//! The leader of epoch `e` mints numbers with the shipped [`ShardSequencer`] created for
//! epoch `e`, so the epoch is the most significant field of every number it mints. It ships
//! its whole log to the followers; a follower accepts a log only from a leader of its current
//! epoch or a newer one (the *fence*), and the leader acknowledges a client once one follower
//! (a majority of three, counting itself) holds the entry. A follower whose timer fires stands
//! for the next epoch; a replica that votes for epoch `e` ignores every older leader from then
//! on; the candidate with one vote adopts the most recent log it was shown (by the epoch of
//! the leader that shipped it, then by length) and becomes leader. Reads go through the log
//! like appends; the checker tests that appends and reads are linearizable.
//!
//! The network reorders and redelivers messages (stateright's unordered duplicating
//! network); a message that is never delivered is a lost one, and from scale 3 the network
//! also drops messages explicitly. Replicas do not crash here (the crash model covers
//! sequencer restarts); clients send each request once, to every replica that may lead.

use std::borrow::Cow;

use stateright::actor::{
    Actor, ActorModel, ActorModelState, Envelope, Id, LossyNetwork, Network, Out, model_timeout,
};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};
use stateright::{CheckerBuilder, Expectation, Model};

use crate::sequencer::{SeqFormat, ShardSequencer};
use crate::types::SequenceNumber;

/// Number of replicas (fixed: a majority is two).
pub const REPLICAS: usize = 3;

/// Whether followers fence off leaders of older epochs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fencing {
    /// Followers ignore logs shipped by a leader of an older epoch (the faithful protocol).
    #[default]
    ByEpoch,
    /// Broken twin: followers take any longer log and acknowledge it, whatever its epoch.
    None,
}

/// The model's configuration.
#[derive(Clone, Debug)]
pub struct ReplicatedShard {
    /// Each client's operations, performed in order (keep this tiny: the linearizability
    /// check is exponential in concurrent operations).
    pub clients: Vec<Vec<Op>>,
    /// Highest epoch an election may reach (epoch 1 is the initial leader's; 2 = one failover).
    pub max_epoch: u64,
    /// How many followers may stand for election (replicas 1..=standbys); clients send their
    /// requests to the replicas that can lead (0..=standbys), the others only follow.
    pub standbys: u8,
    /// Whether the network may drop messages outright (it always duplicates and reorders
    /// them, and never delivering a message already models its loss for safety properties).
    pub lossy: bool,
    /// Layout of the minted numbers.
    pub format: SeqFormat,
    /// Fencing: faithful or broken.
    pub fencing: Fencing,
}

impl Default for ReplicatedShard {
    /// One client (append, append, read), one failover, see [`ReplicatedShard::at_scale`].
    fn default() -> Self {
        ReplicatedShard::at_scale(1)
    }
}

/// A client operation on the shard, and the sequential specification's operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Append a record holding this value.
    Append(u8),
    /// Read the whole shard.
    Read,
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ret {
    /// The appended record's number.
    Appended(SequenceNumber),
    /// The values of the shard's records, in order.
    Records(Vec<u8>),
}

/// The sequential specification: an append-only log with increasing numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ShardSpec {
    values: Vec<u8>,
    last: Option<SequenceNumber>,
}

impl SequentialSpec for ShardSpec {
    type Op = Op;
    type Ret = Ret;

    /// Used for operations whose answer never arrived: an append takes effect with an
    /// unknown number (the spec then only checks later numbers against earlier known ones).
    fn invoke(&mut self, op: &Op) -> Ret {
        match op {
            Op::Append(v) => {
                self.values.push(*v);
                Ret::Appended(SequenceNumber::default())
            }
            Op::Read => Ret::Records(self.values.clone()),
        }
    }

    /// An append must return a number above every number returned before; a read must
    /// return exactly the values appended so far.
    fn is_valid_step(&mut self, op: &Op, ret: &Ret) -> bool {
        match (op, ret) {
            (Op::Append(v), Ret::Appended(seq)) => {
                if self.last.is_some_and(|l| *seq <= l) {
                    return false;
                }
                self.last = Some(*seq);
                self.values.push(*v);
                true
            }
            (Op::Read, Ret::Records(values)) => *values == self.values,
            _ => false,
        }
    }
}

/// What the log records.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// An appended record.
    Append {
        /// The client's value.
        value: u8,
        /// The number the leader minted.
        seq: SequenceNumber,
    },
    /// A read, answered when committed with everything before it.
    Read,
}

/// One log entry, tagged with the request it serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    /// The requesting client.
    pub client: Id,
    /// The client's request number.
    pub req: u8,
    /// What it does.
    pub kind: EntryKind,
}

/// Messages between clients and replicas.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    /// Client request: append `value`.
    Append {
        /// Request number.
        req: u8,
        /// Value to append.
        value: u8,
    },
    /// Client request: read the shard.
    Read {
        /// Request number.
        req: u8,
    },
    /// Answer to an append, from the leader of `epoch`.
    AppendOk {
        /// Request number.
        req: u8,
        /// The record's number.
        seq: SequenceNumber,
        /// The answering leader's epoch.
        epoch: u64,
    },
    /// Answer to a read.
    ReadOk {
        /// Request number.
        req: u8,
        /// The values read.
        values: Vec<u8>,
    },
    /// The leader of `epoch` ships its log.
    Replicate {
        /// Sender's epoch.
        epoch: u64,
        /// Its whole log.
        log: Vec<Entry>,
        /// How much of it is committed.
        commit: u8,
    },
    /// A follower holds the first `len` entries of the `epoch` leader's log.
    Accepted {
        /// The epoch whose log it holds.
        epoch: u64,
        /// How many entries.
        len: u8,
    },
    /// A candidate asks for votes in `epoch`.
    Elect {
        /// The new epoch.
        epoch: u64,
    },
    /// A vote, carrying the voter's log.
    Vote {
        /// The epoch voted for.
        epoch: u64,
        /// Epoch of the leader whose log the voter holds.
        log_epoch: u64,
        /// The voter's log.
        log: Vec<Entry>,
        /// The voter's commit index.
        commit: u8,
    },
}

/// The only timer: a follower's election timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElectionTimeout;

/// A replica's role.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows the leader of its epoch.
    Follower,
    /// Stands for its epoch; holds the votes received (voter, log epoch, log, commit).
    Candidate(Vec<(Id, u64, Vec<Entry>, u8)>),
    /// Leads its epoch: mints with `sequencer`; `acked[i]` = entries replica `i` holds.
    Leader {
        /// The epoch's sequencer.
        sequencer: ShardSequencer,
        /// Entries each replica is known to hold.
        acked: [u8; REPLICAS],
    },
}

/// One replica's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    /// Highest epoch it has joined (it ignores older leaders when fenced).
    pub epoch: u64,
    /// Epoch of the leader whose log it holds.
    pub log_epoch: u64,
    /// Its role.
    pub role: Role,
    /// Its log.
    pub log: Vec<Entry>,
    /// Entries known committed.
    pub commit: u8,
}

/// A client's state: the index of the operation it waits for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    /// Operations answered so far.
    pub done: u8,
}

/// Actor state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// A replica.
    Replica(Replica),
    /// A client.
    Client(Client),
}

/// The actors of the model.
#[derive(Clone, Debug)]
pub enum Node {
    /// A replica (ids 0..3; replica 0 leads epoch 1).
    Replica {
        /// Highest epoch it may stand for (0 when it never stands).
        max_epoch: u64,
        /// Fencing behaviour.
        fencing: Fencing,
        /// Number layout.
        format: SeqFormat,
    },
    /// A client with its operations.
    Client {
        /// Its operations.
        ops: Vec<Op>,
        /// The replicas it sends requests to.
        leaders: Vec<Id>,
    },
}

/// An acknowledged append, as sent by a leader.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The client.
    pub client: Id,
    /// Its request number.
    pub req: u8,
    /// The record's number.
    pub seq: SequenceNumber,
    /// Epoch of the acknowledging leader.
    pub epoch: u64,
}

/// What the properties need beyond the actors' states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct History {
    /// Client invocations and answers, for the linearizability check.
    pub lin: LinearizabilityTester<Id, ShardSpec>,
    /// Every acknowledgement a leader sent (one per request and epoch).
    pub acked: Vec<Ack>,
}

/// The stateright model type.
pub type Replicated = ActorModel<Node, ReplicatedShard, History>;

fn request(ops: &[Op], i: u8) -> Option<Msg> {
    ops.get(usize::from(i)).map(|op| match op {
        Op::Append(value) => Msg::Append {
            req: i,
            value: *value,
        },
        Op::Read => Msg::Read { req: i },
    })
}

fn replica_ids() -> Vec<Id> {
    (0..REPLICAS).map(Id::from).collect()
}

impl Replica {
    /// Sends the answers for entries newly committed up to `upto`.
    fn commit_to(&mut self, upto: u8, o: &mut Out<Node>) {
        let upto = upto.min(self.log.len() as u8);
        for i in self.commit..upto {
            let e = &self.log[usize::from(i)];
            let answer = match &e.kind {
                EntryKind::Append { seq, .. } => Msg::AppendOk {
                    req: e.req,
                    seq: *seq,
                    epoch: self.epoch,
                },
                EntryKind::Read => Msg::ReadOk {
                    req: e.req,
                    values: values_before(&self.log, usize::from(i)),
                },
            };
            o.send(e.client, answer);
        }
        self.commit = self.commit.max(upto);
    }

    fn ship(&self, id: Id, o: &mut Out<Node>) {
        let msg = Msg::Replicate {
            epoch: self.epoch,
            log: self.log.clone(),
            commit: self.commit,
        };
        for peer in replica_ids().into_iter().filter(|p| *p != id) {
            o.send(peer, msg.clone());
        }
    }
}

fn values_before(log: &[Entry], end: usize) -> Vec<u8> {
    log[..end]
        .iter()
        .filter_map(|e| match e.kind {
            EntryKind::Append { value, .. } => Some(value),
            EntryKind::Read => None,
        })
        .collect()
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = ElectionTimeout;
    type State = NodeState;
    type Storage = ();
    type Random = ();

    fn on_start(&self, id: Id, _storage: &Option<()>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Replica {
                format, max_epoch, ..
            } => {
                let leads = usize::from(id) == 0;
                if !leads && *max_epoch > 1 {
                    o.set_timer(ElectionTimeout, model_timeout());
                }
                NodeState::Replica(Replica {
                    epoch: 1,
                    log_epoch: 1,
                    role: if leads {
                        Role::Leader {
                            sequencer: ShardSequencer::new(*format, 1, 0),
                            acked: [0; REPLICAS],
                        }
                    } else {
                        Role::Follower
                    },
                    log: Vec::new(),
                    commit: 0,
                })
            }
            Node::Client { ops, leaders } => {
                if let Some(msg) = request(ops, 0) {
                    o.broadcast(leaders, &msg);
                }
                NodeState::Client(Client { done: 0 })
            }
        }
    }

    fn on_msg(&self, id: Id, state: &mut Cow<NodeState>, src: Id, msg: Msg, o: &mut Out<Self>) {
        match (self, state.as_ref()) {
            (Node::Client { ops, leaders }, NodeState::Client(c)) => {
                let answered = match msg {
                    Msg::AppendOk { req, .. } | Msg::ReadOk { req, .. } => req == c.done,
                    _ => false,
                };
                if answered {
                    let done = c.done + 1;
                    *state.to_mut() = NodeState::Client(Client { done });
                    if let Some(next) = request(ops, done) {
                        o.broadcast(leaders, &next);
                    }
                }
            }
            (
                Node::Replica {
                    fencing, format, ..
                },
                NodeState::Replica(r),
            ) => {
                if let Some(next) = replica_step(r, (*fencing, *format), id, src, msg, o) {
                    *state.to_mut() = NodeState::Replica(next);
                }
            }
            _ => {}
        }
    }

    fn on_timeout(
        &self,
        id: Id,
        state: &mut Cow<NodeState>,
        _t: &ElectionTimeout,
        o: &mut Out<Self>,
    ) {
        let (Node::Replica { max_epoch, .. }, NodeState::Replica(r)) = (self, state.as_ref())
        else {
            return;
        };
        if matches!(r.role, Role::Leader { .. }) || r.epoch >= *max_epoch {
            return;
        }
        let mut r = r.clone();
        r.epoch += 1;
        r.role = Role::Candidate(Vec::new());
        if r.epoch < *max_epoch {
            o.set_timer(ElectionTimeout, model_timeout());
        }
        let ask = Msg::Elect { epoch: r.epoch };
        for peer in replica_ids().into_iter().filter(|p| *p != id) {
            o.send(peer, ask.clone());
        }
        *state.to_mut() = NodeState::Replica(r);
    }
}

/// One replica's reaction to a message; `None` when it changes nothing.
fn replica_step(
    r: &Replica,
    (fencing, format): (Fencing, SeqFormat),
    id: Id,
    src: Id,
    msg: Msg,
    o: &mut Out<Node>,
) -> Option<Replica> {
    let mut r = r.clone();
    match msg {
        Msg::Append { req, value } => {
            let Role::Leader { sequencer, .. } = &mut r.role else {
                return None;
            };
            if r.log.iter().any(|e| e.client == src && e.req == req) {
                return None;
            }
            let seq = sequencer.next(0, None).ok()?;
            r.log.push(Entry {
                client: src,
                req,
                kind: EntryKind::Append { value, seq },
            });
            r.ship(id, o);
        }
        Msg::Read { req } => {
            if !matches!(r.role, Role::Leader { .. })
                || r.log.iter().any(|e| e.client == src && e.req == req)
            {
                return None;
            }
            r.log.push(Entry {
                client: src,
                req,
                kind: EntryKind::Read,
            });
            r.ship(id, o);
        }
        Msg::Replicate { epoch, log, commit } => {
            let newer = match fencing {
                Fencing::ByEpoch => {
                    epoch > r.epoch
                        || (epoch == r.epoch && (r.log_epoch < epoch || log.len() > r.log.len()))
                }
                Fencing::None => epoch > r.epoch || log.len() > r.log.len(),
            };
            let same = epoch == r.log_epoch && log == r.log;
            if !newer && !same {
                return None;
            }
            if newer {
                if epoch > r.epoch || !matches!(r.role, Role::Leader { .. }) {
                    r.role = Role::Follower;
                }
                r.epoch = r.epoch.max(epoch);
                r.log_epoch = epoch;
                r.log = log;
                r.commit = r.commit.max(commit).min(r.log.len() as u8);
            }
            o.send(
                src,
                Msg::Accepted {
                    epoch,
                    len: r.log.len() as u8,
                },
            );
        }
        Msg::Accepted { epoch, len } => {
            let current = r.epoch;
            let Role::Leader { acked, .. } = &mut r.role else {
                return None;
            };
            if fencing == Fencing::ByEpoch && epoch != current {
                return None;
            }
            let slot = acked.get_mut(usize::from(src))?;
            if len <= *slot {
                return None;
            }
            *slot = len;
            let best = acked
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != usize::from(id))
                .map(|(_, a)| *a)
                .max()
                .unwrap_or(0);
            if best <= r.commit {
                return Some(r);
            }
            r.commit_to(best, o);
        }
        Msg::Elect { epoch } => {
            if epoch <= r.epoch {
                return None;
            }
            r.epoch = epoch;
            r.role = Role::Follower;
            o.send(
                src,
                Msg::Vote {
                    epoch,
                    log_epoch: r.log_epoch,
                    log: r.log.clone(),
                    commit: r.commit,
                },
            );
        }
        Msg::Vote {
            epoch,
            log_epoch,
            log,
            commit,
        } => {
            if epoch != r.epoch {
                return None;
            }
            let Role::Candidate(votes) = &mut r.role else {
                return None;
            };
            if votes.iter().any(|v| v.0 == src) {
                return None;
            }
            votes.push((src, log_epoch, log, commit));
            // One vote plus its own makes a majority of three.
            let mut best = (r.log_epoch, r.log.clone(), r.commit);
            for (_, le, l, c) in votes.iter() {
                if (*le, l.len()) > (best.0, best.1.len()) {
                    best = (*le, l.clone(), best.2.max(*c));
                } else {
                    best.2 = best.2.max(*c);
                }
            }
            r.log_epoch = r.epoch;
            r.log = best.1;
            r.commit = best.2.min(r.log.len() as u8);
            r.role = Role::Leader {
                sequencer: ShardSequencer::new(format, r.epoch, 0),
                acked: [0; REPLICAS],
            };
            r.ship(id, o);
        }
        Msg::AppendOk { .. } | Msg::ReadOk { .. } => return None,
    }
    Some(r)
}

impl ReplicatedShard {
    /// Bounds for `scale` (1 = default): one client appends twice then reads, replica 1 may
    /// stand for epoch 2, and the network reorders and redelivers without explicit drops
    /// (for safety properties a drop is the same as a delay that never ends). Scale 2: two
    /// concurrent clients that append once each (about 290 thousand states). Scale 3 and up:
    /// one client appends then reads while another appends, with explicit drops; that space
    /// exceeds three million states and has not been run to completion.
    pub fn at_scale(scale: usize) -> Self {
        let clients = match scale {
            0 | 1 => vec![vec![Op::Append(1), Op::Append(2), Op::Read]],
            2 => vec![vec![Op::Append(1)], vec![Op::Append(2)]],
            _ => vec![vec![Op::Append(1), Op::Read], vec![Op::Append(2)]],
        };
        ReplicatedShard {
            clients,
            max_epoch: 2,
            standbys: 1,
            lossy: scale >= 3,
            format: SeqFormat::Readable,
            fencing: Fencing::ByEpoch,
        }
    }

    /// The same bounds with fencing switched off when `broken`.
    pub fn broken_if(mut self, broken: bool) -> Self {
        if broken {
            self.fencing = Fencing::None;
        }
        self
    }

    /// The actor model: three replicas, then the clients, over a lossy duplicating network.
    pub fn into_model(self) -> Replicated {
        let standbys = usize::from(self.standbys).min(REPLICAS - 1);
        let replicas = (0..REPLICAS).map(|i| Node::Replica {
            max_epoch: if (1..=standbys).contains(&i) {
                self.max_epoch
            } else {
                0
            },
            fencing: self.fencing,
            format: self.format,
        });
        let replicas: Vec<Node> = replicas.collect();
        let can_lead: Vec<Id> = (0..=standbys).map(Id::from).collect();
        let clients: Vec<Node> = self
            .clients
            .iter()
            .map(|ops| Node::Client {
                ops: ops.clone(),
                leaders: can_lead.clone(),
            })
            .collect();
        let lossy = if self.lossy {
            LossyNetwork::Yes
        } else {
            LossyNetwork::No
        };
        let history = History {
            lin: LinearizabilityTester::new(ShardSpec::default()),
            acked: Vec::new(),
        };
        ActorModel::new(self, history)
            .actors(replicas)
            .actors(clients)
            .init_network(Network::new_unordered_duplicating([]))
            .lossy_network(lossy)
            .record_msg_out(record_out)
            .record_msg_in(record_in)
            // Witnessed by "a new leader holds a record acknowledged before failover".
            .property(
                Expectation::Always,
                "no two acknowledged records share a sequence number",
                |_, s| {
                    let acked = &s.history.acked;
                    acked.iter().all(|a| {
                        acked
                            .iter()
                            .all(|b| (a.client, a.req) == (b.client, b.req) || a.seq != b.seq)
                    })
                },
            )
            // Witnessed by "a new leader holds a record acknowledged before failover".
            .property(
                Expectation::Always,
                "acknowledged records are never lost after failover",
                |_, s| {
                    leaders(s).all(|(r, _)| {
                        s.history.acked.iter().filter(|a| a.epoch < r.epoch).all(|a| {
                            r.log.iter().any(|e| {
                                e.client == a.client
                                    && e.req == a.req
                                    && matches!(e.kind, EntryKind::Append { seq, .. } if seq == a.seq)
                            })
                        })
                    })
                },
            )
            // Witnessed by "two replicas hold a committed entry".
            .property(
                Expectation::Always,
                "committed logs are prefix-consistent",
                |_, s| {
                    let committed: Vec<&[Entry]> = replicas_of(s)
                        .map(|r| &r.log[..usize::from(r.commit).min(r.log.len())])
                        .collect();
                    committed.iter().all(|a| {
                        committed
                            .iter()
                            .all(|b| a.starts_with(b) || b.starts_with(a))
                    })
                },
            )
            // Witnessed by "a new leader holds a record acknowledged before failover"
            // together with "a new leader acknowledges a record".
            .property(
                Expectation::Always,
                "a new leader's numbers exceed every acknowledged number",
                |m, s| {
                    leaders(s).all(|(r, _)| {
                        r.log.iter().all(|e| match e.kind {
                            EntryKind::Append { seq, .. } => {
                                let minted_now = m.cfg.format.decode(&seq).is_some_and(|f| f.epoch == r.epoch);
                                !minted_now
                                    || s.history
                                        .acked
                                        .iter()
                                        .filter(|a| a.epoch < r.epoch)
                                        .all(|a| seq > a.seq)
                            }
                            EntryKind::Read => true,
                        })
                    })
                },
            )
            // Witnessed by "every client gets all its answers".
            .property(
                Expectation::Always,
                "appends and reads are linearizable",
                |_, s| s.history.lin.serialized_history().is_some(),
            )
            .property(
                Expectation::Sometimes,
                "a new leader holds a record acknowledged before failover",
                |_, s| {
                    leaders(s).any(|(r, _)| {
                        r.epoch > 1 && s.history.acked.iter().any(|a| a.epoch < r.epoch)
                    })
                },
            )
            .property(
                Expectation::Sometimes,
                "a new leader acknowledges a record",
                |_, s| s.history.acked.iter().any(|a| a.epoch > 1),
            )
            .property(
                Expectation::Sometimes,
                "two replicas hold a committed entry",
                |_, s| replicas_of(s).filter(|r| r.commit > 0).count() >= 2,
            )
            .property(
                Expectation::Eventually,
                "every client eventually gets all its answers",
                all_answered,
            )
            .property(
                Expectation::Sometimes,
                "every client gets all its answers",
                all_answered,
            )
    }

    /// A breadth-first checker builder for [`ReplicatedShard::into_model`] (no symmetry: the
    /// replicas start in different roles).
    pub fn into_checker(self) -> CheckerBuilder<Replicated> {
        self.into_model().checker()
    }
}

/// True when every client has had all its operations answered.
fn all_answered(m: &Replicated, s: &ActorModelState<Node, History>) -> bool {
    s.actor_states
        .iter()
        .skip(REPLICAS)
        .zip(&m.cfg.clients)
        .all(|(c, ops)| matches!(&**c, NodeState::Client(c) if usize::from(c.done) == ops.len()))
}

fn replicas_of(s: &ActorModelState<Node, History>) -> impl Iterator<Item = &Replica> {
    s.actor_states
        .iter()
        .take(REPLICAS)
        .filter_map(|a| match &**a {
            NodeState::Replica(r) => Some(r),
            NodeState::Client(_) => None,
        })
}

/// Replicas currently leading, with their ids.
fn leaders(s: &ActorModelState<Node, History>) -> impl Iterator<Item = (&Replica, usize)> {
    replicas_of(s)
        .enumerate()
        .filter(|(_, r)| matches!(r.role, Role::Leader { .. }))
        .map(|(i, r)| (r, i))
}

/// Invocations are recorded once, on the copy sent to replica 0; leaders' acknowledgements
/// are recorded as they are sent.
fn record_out(_: &ReplicatedShard, h: &History, env: Envelope<&Msg>) -> Option<History> {
    match env.msg {
        Msg::Append { value, .. } if env.dst == Id::from(0) => {
            let mut h = h.clone();
            // An invalid history is kept as such; the property reports it.
            let _ = h.lin.on_invoke(env.src, Op::Append(*value));
            Some(h)
        }
        Msg::Read { .. } if env.dst == Id::from(0) => {
            let mut h = h.clone();
            let _ = h.lin.on_invoke(env.src, Op::Read);
            Some(h)
        }
        Msg::AppendOk { req, seq, epoch } => {
            let ack = Ack {
                client: env.dst,
                req: *req,
                seq: *seq,
                epoch: *epoch,
            };
            if h.acked.contains(&ack) {
                return None;
            }
            let mut h = h.clone();
            h.acked.push(ack);
            Some(h)
        }
        _ => None,
    }
}

/// Answers are recorded when a client accepts them (a duplicate is ignored by the client,
/// so it is never recorded).
fn record_in(_: &ReplicatedShard, h: &History, env: Envelope<&Msg>) -> Option<History> {
    let ret = match env.msg {
        Msg::AppendOk { seq, .. } => Ret::Appended(*seq),
        Msg::ReadOk { values, .. } => Ret::Records(values.clone()),
        _ => return None,
    };
    let mut h = h.clone();
    let _ = h.lin.on_return(env.dst, ret);
    Some(h)
}
