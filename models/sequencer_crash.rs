//! One shard, several producers, a sequencer that crashes and restarts.
//!
//! Producers append concurrently. Each producer puts its records one at a time and passes the
//! number of its last acknowledged record as `SequenceNumberForOrdering`. An acknowledgement
//! can be lost (the producer times out and retries), so a record can land in the log twice
//! with two different numbers, as on Kinesis. The sequencer is the shipped
//! [`ShardSequencer`]; it persists only a high-water mark, a block of counters at a time
//! ([`BlockReservation`]), and after a crash resumes from the persisted mark.
//!
//! The shard log itself is durable: a crash loses the sequencer's memory, never an appended
//! record. Lost *requests* are not modelled separately: a request that never arrives is
//! indistinguishable from one that is still in flight.

use stateright::{CheckerBuilder, Model, Property, Representative};

use crate::sequencer::{BlockReservation, SeqFormat, ShardSequencer};
use crate::types::SequenceNumber;

/// What the sequencer does when it restarts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Restart {
    /// Resume from the persisted high-water mark (the shipped behaviour).
    #[default]
    FromReservation,
    /// Broken twin: forget the reservation and start again at counter 1.
    ForgetsReservation,
}

/// The model: bounds plus the restart behaviour under test.
#[derive(Clone, Debug)]
pub struct SequencerCrash {
    /// Concurrent producers (interchangeable: the checker uses symmetry reduction).
    pub producers: u8,
    /// Records each producer puts, one after another.
    pub records_per_producer: u8,
    /// Timeouts (each followed by a retry) allowed per producer.
    pub max_retries: u8,
    /// Sequencer crashes allowed in one run.
    pub max_crashes: u8,
    /// Counters reserved per durable write.
    pub block: u64,
    /// Layout of the minted numbers (default `AwsV2`: packing it is shifts only, so the
    /// checker runs faster than with `Readable`; the tests check both).
    pub format: SeqFormat,
    /// Restart behaviour: faithful or broken.
    pub restart: Restart,
}

impl Default for SequencerCrash {
    /// Two producers with two records each, one retry each, one crash, blocks of two.
    fn default() -> Self {
        SequencerCrash::at_scale(1)
    }
}

/// One producer's view.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Producer {
    /// Index of the record it is putting (equal to the bound when done).
    pub next_record: u8,
    /// The acknowledgement travelling back to it, if the record was appended.
    pub ack_in_flight: Option<SequenceNumber>,
    /// Numbers of its acknowledged records, in order.
    pub acked: Vec<SequenceNumber>,
    /// Timeouts used.
    pub retries: u8,
}

/// One record in the shard log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Which producer put it.
    pub producer: u8,
    /// Which of that producer's records it is (a retry repeats the index).
    pub record: u8,
    /// The number the sequencer minted.
    pub seq: SequenceNumber,
    /// The `SequenceNumberForOrdering` the put carried.
    pub ordering: Option<SequenceNumber>,
}

/// Where the run stands relative to the last acknowledgement (for the crash witness).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SinceAck {
    /// No acknowledgement since the last append.
    Nothing,
    /// An acknowledgement arrived and nothing was appended since.
    Acked,
    /// An acknowledgement, then a crash, and no append yet.
    AckedThenCrashed,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The running sequencer and its in-memory reservation; `None` while crashed.
    pub live: Option<(ShardSequencer, BlockReservation)>,
    /// The durable high-water mark.
    pub persisted_limit: u64,
    /// The durable shard log, in append order.
    pub log: Vec<Entry>,
    /// The producers.
    pub producers: Vec<Producer>,
    /// Crashes so far.
    pub crashes: u8,
    /// History needed by the crash witness only.
    pub since_ack: SinceAck,
}

/// A step of the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The sequencer appends the pending record of this producer.
    Append(u8),
    /// This producer receives its acknowledgement.
    Ack(u8),
    /// This producer gives up waiting for its acknowledgement and will put the record again.
    Timeout(u8),
    /// The sequencer crashes, losing everything not persisted.
    Crash,
    /// The sequencer restarts from what it persisted.
    Restart,
}

impl SequencerCrash {
    /// Bounds for `scale` (1 = default): two producers, `scale + 1` records each, `scale`
    /// crashes, one retry per producer, blocks of two counters.
    pub fn at_scale(scale: usize) -> Self {
        let s = u8::try_from(scale.clamp(1, 8)).unwrap_or(1);
        SequencerCrash {
            producers: 2,
            records_per_producer: s + 1,
            max_retries: 1,
            max_crashes: s,
            block: 2,
            format: SeqFormat::AwsV2,
            restart: Restart::FromReservation,
        }
    }

    /// The same bounds with the broken restart when `broken`.
    pub fn broken_if(mut self, broken: bool) -> Self {
        if broken {
            self.restart = Restart::ForgetsReservation;
        }
        self
    }

    /// A checker builder. The faithful model uses symmetry reduction over producers; the
    /// broken twin does not, so that breadth-first search reports its shortest counterexample
    /// (paths rebuilt through symmetric representatives can be longer than necessary).
    pub fn into_checker(self) -> CheckerBuilder<Self> {
        match self.restart {
            Restart::FromReservation => self.checker().symmetry(),
            Restart::ForgetsReservation => self.checker(),
        }
    }

    fn restarted(&self, persisted_limit: u64) -> (ShardSequencer, BlockReservation) {
        match self.restart {
            Restart::FromReservation => {
                BlockReservation::recover(self.format, 1, 0, persisted_limit, self.block)
            }
            Restart::ForgetsReservation => (
                ShardSequencer::new(self.format, 1, 0),
                BlockReservation::new(self.block),
            ),
        }
    }
}

impl Representative for State {
    /// Producers are interchangeable: sort them and rename the producers in the log to match.
    fn representative(&self) -> Self {
        let mut order: Vec<usize> = (0..self.producers.len()).collect();
        order.sort_by(|a, b| self.producers[*a].cmp(&self.producers[*b]));
        let mut new_id = vec![0u8; order.len()];
        for (new, old) in order.iter().enumerate() {
            new_id[*old] = new as u8;
        }
        let mut rep = self.clone();
        rep.producers = order.iter().map(|i| self.producers[*i].clone()).collect();
        for e in &mut rep.log {
            e.producer = new_id[usize::from(e.producer)];
        }
        rep
    }
}

impl Model for SequencerCrash {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let fresh = Producer {
            next_record: 0,
            ack_in_flight: None,
            acked: Vec::new(),
            retries: 0,
        };
        vec![State {
            live: Some((
                ShardSequencer::new(self.format, 1, 0),
                BlockReservation::new(self.block),
            )),
            persisted_limit: 0,
            log: Vec::new(),
            producers: vec![fresh; usize::from(self.producers)],
            crashes: 0,
            since_ack: SinceAck::Nothing,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        for (i, p) in state.producers.iter().enumerate() {
            let i = i as u8;
            match p.ack_in_flight {
                None if p.next_record < self.records_per_producer && state.live.is_some() => {
                    actions.push(Action::Append(i))
                }
                None => {}
                Some(_) => {
                    actions.push(Action::Ack(i));
                    if p.retries < self.max_retries {
                        actions.push(Action::Timeout(i));
                    }
                }
            }
        }
        match state.live {
            Some(_) if state.crashes < self.max_crashes => actions.push(Action::Crash),
            Some(_) => {}
            None => actions.push(Action::Restart),
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        match action {
            Action::Append(i) => {
                let p = &mut s.producers[usize::from(i)];
                let ordering = p.acked.last().copied();
                let (seq, reservation) = s.live.as_mut()?;
                if let Some(limit) = reservation.before_next(seq, ordering.as_ref()) {
                    s.persisted_limit = limit;
                }
                let n = seq.next(0, ordering.as_ref()).ok()?;
                p.ack_in_flight = Some(n);
                s.log.push(Entry {
                    producer: i,
                    record: p.next_record,
                    seq: n,
                    ordering,
                });
                s.since_ack = SinceAck::Nothing;
            }
            Action::Ack(i) => {
                let p = &mut s.producers[usize::from(i)];
                let n = p.ack_in_flight.take()?;
                p.acked.push(n);
                p.next_record += 1;
                s.since_ack = SinceAck::Acked;
            }
            Action::Timeout(i) => {
                let p = &mut s.producers[usize::from(i)];
                p.ack_in_flight.take()?;
                p.retries += 1;
            }
            Action::Crash => {
                s.live = None;
                s.crashes += 1;
                if s.since_ack == SinceAck::Acked {
                    s.since_ack = SinceAck::AckedThenCrashed;
                }
            }
            Action::Restart => s.live = Some(self.restarted(s.persisted_limit)),
        }
        Some(s)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            // Witnessed non-vacuously by "a retry appends a record twice" (two entries exist).
            Property::<Self>::always("sequence numbers never repeat", |_, s| {
                let mut seen: Vec<&SequenceNumber> = s.log.iter().map(|e| &e.seq).collect();
                seen.sort();
                seen.windows(2).all(|w| w[0] != w[1])
            }),
            Property::<Self>::always("the shard log is strictly increasing", |_, s| {
                s.log.windows(2).all(|w| w[0].seq < w[1].seq)
            }),
            // Witnessed by "all producers finish": every record is acknowledged there.
            Property::<Self>::always("every acknowledged record is in the log", |_, s| {
                s.producers.iter().enumerate().all(|(i, p)| {
                    p.acked.iter().all(|n| {
                        s.log
                            .iter()
                            .any(|e| usize::from(e.producer) == i && e.seq == *n)
                    })
                })
            }),
            // Witnessed by "all producers finish": each producer's second put carries one.
            Property::<Self>::always(
                "a put with SequenceNumberForOrdering s gets a number above s",
                |_, s| s.log.iter().all(|e| e.ordering.is_none_or(|o| e.seq > o)),
            ),
            Property::<Self>::sometimes(
                "a crash happens between an ack and the next append",
                |_, s| s.since_ack == SinceAck::AckedThenCrashed,
            ),
            Property::<Self>::sometimes("all producers finish", all_done),
            Property::<Self>::sometimes("a retry appends a record twice", |_, s| {
                s.log.iter().enumerate().any(|(i, a)| {
                    s.log[i + 1..]
                        .iter()
                        .any(|b| a.producer == b.producer && a.record == b.record)
                })
            }),
            Property::<Self>::eventually("every producer eventually finishes", |m, s| {
                all_done(m, s)
            }),
        ]
    }
}

fn all_done(m: &SequencerCrash, s: &State) -> bool {
    s.producers
        .iter()
        .all(|p| p.next_record == m.records_per_producer)
}
