//! Broken twins that only concurrency or a crash can expose: each behaves exactly like the
//! embedded service while calls arrive one at a time, so the sequential conformance suite
//! passes them, and a concurrent history checked by `history::check` catches them.
//!
//! They wrap the embedded service with [`Intercepted`]; the defect lives in the hook.

use crate::api::*;
use crate::service::{Intercepted, StreamService};
use crate::types::{KinesisError, SequenceNumber, ShardId};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A deliberately defective service whose defect needs overlapping calls or a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConcurrentTwin {
    /// Two racing `PutRecord`s to one shard are acknowledged with one number: a put that
    /// starts while another put is in flight is answered with the shard's previous number
    /// (a sequencer that reads its counter before the racing put has stored it back).
    RacingPutsShareNumber,
    /// A `GetRecords` that races a put shows the page's last record, which every later read
    /// then leaves out (a read of a slot the racing writer later overwrote).
    ReadRacingWriteLosesRecord,
    /// Acknowledges puts before persisting them: a crash loses every record acknowledged in
    /// the last [`UNPERSISTED_WINDOW`] before it (see [`CrashableService`]).
    AckBeforePersist,
}

impl ConcurrentTwin {
    /// Every twin.
    pub const ALL: [ConcurrentTwin; 3] = [
        ConcurrentTwin::RacingPutsShareNumber,
        ConcurrentTwin::ReadRacingWriteLosesRecord,
        ConcurrentTwin::AckBeforePersist,
    ];
}

/// How long an acknowledged record of [`ConcurrentTwin::AckBeforePersist`] stays only in
/// memory before its (simulated) background flush persists it.
pub const UNPERSISTED_WINDOW: Duration = Duration::from_millis(300);

type Hook = Box<dyn Fn(&Request, &dyn Fn() -> Outcome) -> Outcome + Send + Sync>;

/// A twin as a [`StreamService`], plus the crash switch of the crashable ones.
pub struct TwinService {
    /// The defective service.
    pub service: Arc<dyn StreamService>,
    /// Kill and restart, for [`ConcurrentTwin::AckBeforePersist`].
    pub crash: Option<Arc<CrashSwitch>>,
}

/// Builds `twin` over a fresh embedded service.
pub fn build(twin: ConcurrentTwin) -> TwinService {
    match twin {
        ConcurrentTwin::RacingPutsShareNumber => TwinService {
            service: Arc::new(Intercepted::new(
                crate::conformance::in_process_memory(),
                racing_puts_hook(),
            )),
            crash: None,
        },
        ConcurrentTwin::ReadRacingWriteLosesRecord => TwinService {
            service: Arc::new(Intercepted::new(
                crate::conformance::in_process_memory(),
                lose_after_show_hook(),
            )),
            crash: None,
        },
        ConcurrentTwin::AckBeforePersist => {
            let (service, switch) = crashable(Persistence::AfterAcknowledgement);
            TwinService {
                service,
                crash: Some(switch),
            }
        }
    }
}

fn racing_puts_hook() -> Hook {
    let in_flight = AtomicUsize::new(0);
    let last: Mutex<HashMap<ShardId, SequenceNumber>> = Mutex::new(HashMap::new());
    Box::new(move |request, forward| {
        let Request::PutRecord(_) = request else {
            return forward();
        };
        let raced = in_flight.fetch_add(1, Ordering::SeqCst) > 0;
        let outcome = forward();
        in_flight.fetch_sub(1, Ordering::SeqCst);
        match outcome {
            Ok(Reply::Put(mut put)) => {
                let mut last = last.lock();
                match last.get(&put.shard_id) {
                    Some(previous) if raced => put.sequence_number = *previous,
                    _ => {
                        last.insert(put.shard_id, put.sequence_number);
                    }
                }
                Ok(Reply::Put(put))
            }
            other => other,
        }
    })
}

fn lose_after_show_hook() -> Hook {
    let puts_in_flight = AtomicUsize::new(0);
    let doomed: Mutex<HashSet<SequenceNumber>> = Mutex::new(HashSet::new());
    Box::new(move |request, forward| match request {
        Request::PutRecord(_) | Request::PutRecords(_) => {
            puts_in_flight.fetch_add(1, Ordering::SeqCst);
            let outcome = forward();
            puts_in_flight.fetch_sub(1, Ordering::SeqCst);
            outcome
        }
        Request::GetRecords(_) => {
            let raced = puts_in_flight.load(Ordering::SeqCst) > 0;
            match forward() {
                Ok(Reply::Records(mut page)) => {
                    let mut doomed = doomed.lock();
                    page.records
                        .retain(|r| !doomed.contains(&r.sequence_number));
                    if let Some(last) = page.records.last().filter(|_| raced) {
                        doomed.insert(last.sequence_number);
                    }
                    Ok(Reply::Records(page))
                }
                other => other,
            }
        }
        _ => forward(),
    })
}

/// When a crashable service persists a put relative to acknowledging it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Persisted before the answer: a crash loses nothing acknowledged (the correct service).
    BeforeAcknowledgement,
    /// Persisted by a background flush up to [`UNPERSISTED_WINDOW`] after the answer (the
    /// twin).
    AfterAcknowledgement,
}

/// Kills and restarts an in-process service built by [`crashable`]. While killed, every
/// request fails with an unknown outcome, as a dead process's clients see it; a kill loses
/// what was not yet persisted.
pub struct CrashSwitch {
    down: AtomicBool,
    persistence: Persistence,
    unpersisted: Mutex<Vec<(SequenceNumber, Instant)>>,
    lost: Mutex<HashSet<SequenceNumber>>,
}

impl CrashSwitch {
    /// Kills the service (like `kill -9`): answers stop until [`CrashSwitch::restart`], and
    /// records acknowledged but not yet persisted are gone for good.
    pub fn kill(&self) {
        self.down.store(true, Ordering::SeqCst);
        let now = Instant::now();
        let mut unpersisted = self.unpersisted.lock();
        let mut lost = self.lost.lock();
        for (seq, acked) in unpersisted.drain(..) {
            if now.duration_since(acked) < UNPERSISTED_WINDOW {
                lost.insert(seq);
            }
        }
    }

    /// Restarts the service on what it persisted.
    pub fn restart(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// How many acknowledged records kills have lost so far.
    pub fn lost(&self) -> usize {
        self.lost.lock().len()
    }

    fn acknowledged(&self, seq: SequenceNumber) {
        if self.persistence == Persistence::BeforeAcknowledgement {
            return;
        }
        let mut unpersisted = self.unpersisted.lock();
        let now = Instant::now();
        unpersisted.retain(|(_, acked)| now.duration_since(*acked) < UNPERSISTED_WINDOW);
        unpersisted.push((seq, now));
    }
}

/// The embedded service as a process that can be killed and restarted in place, persisting
/// puts as `persistence` says. With [`Persistence::BeforeAcknowledgement`] it is a faithful
/// durable service (the control); with [`Persistence::AfterAcknowledgement`] it is the
/// [`ConcurrentTwin::AckBeforePersist`] twin.
pub fn crashable(persistence: Persistence) -> (Arc<dyn StreamService>, Arc<CrashSwitch>) {
    let switch = Arc::new(CrashSwitch {
        down: AtomicBool::new(false),
        persistence,
        unpersisted: Mutex::new(Vec::new()),
        lost: Mutex::new(HashSet::new()),
    });
    let state = Arc::clone(&switch);
    let hook = move |_request: &Request, forward: &dyn Fn() -> Outcome| -> Outcome {
        if state.down.load(Ordering::SeqCst) {
            return Err(KinesisError::indeterminate(
                "connection refused: the service process is not running",
            ));
        }
        let outcome = forward();
        match outcome {
            Ok(Reply::Put(put)) => {
                state.acknowledged(put.sequence_number);
                Ok(Reply::Put(put))
            }
            Ok(Reply::PutBatch(batch)) => {
                for put in batch.records.iter().flatten() {
                    state.acknowledged(put.sequence_number);
                }
                Ok(Reply::PutBatch(batch))
            }
            Ok(Reply::Records(mut page)) => {
                let lost = state.lost.lock();
                if !lost.is_empty() {
                    page.records.retain(|r| !lost.contains(&r.sequence_number));
                }
                Ok(Reply::Records(page))
            }
            other => other,
        }
    };
    let service: Arc<dyn StreamService> = Arc::new(Intercepted::new(
        crate::conformance::in_process_memory(),
        hook,
    ));
    (service, switch)
}
