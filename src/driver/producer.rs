//! A producer thread: `PutRecord` (alone, or in a `SequenceNumberForOrdering` chain) and
//! `PutRecords` batches with unique payloads, retried as production clients retry.
//!
//! Retries: after an unknown outcome, `ProvisionedThroughputExceededException`,
//! `InternalFailure` or `LimitExceededException`, the producer backs off (bounded,
//! exponential, jittered from its seeded generator) and resends the same payload with
//! `attempt + 1`, up to `max_attempts`. `PutRecords` resends only the failed entries of a
//! partial failure, and the whole remaining batch after an unknown outcome. Every attempt is
//! recorded (unless the deliberately defective [`DriverTwin::UnrecordedRetry`] is on).

use super::record::{self, Halted, Recorder};
use super::rng::Rng;
use super::{DriverConfig, DriverTwin, payload};
use crate::api::{PutRecordRequest, PutRecordsEntry, PutRecordsRequest};
use crate::history::{EventType, Op};
use crate::service::StreamService;
use crate::types::{ErrorKind, KinesisError};
use bytes::Bytes;

/// Whether a client retries after `err`.
pub(crate) fn retriable(err: &KinesisError) -> bool {
    err.kind.is_unknown_outcome()
        || matches!(
            err.kind,
            ErrorKind::ProvisionedThroughputExceededException
                | ErrorKind::InternalFailure
                | ErrorKind::LimitExceededException
        )
}

/// The partition keys of a run: `key-0` … `key-{n-1}`, so keys repeat across puts and the
/// checker has per-key order to check.
pub(crate) fn key(n: u64) -> String {
    format!("key-{n}")
}

/// One producer's state.
struct Producer<'a, 'r> {
    config: &'a DriverConfig,
    service: &'a dyn StreamService,
    rec: Recorder<'r>,
    rng: Rng,
    counter: u64,
    chain_key: String,
    /// The chain's last acknowledged sequence number (its next `SequenceNumberForOrdering`).
    chain_snfo: Option<String>,
}

/// Runs producer number `index` until the run stops.
pub(crate) fn run(
    index: u32,
    config: &DriverConfig,
    service: &dyn StreamService,
    rec: Recorder<'_>,
) {
    let mut rng = Rng::fork(config.seed, rec.process());
    let chain_key = key(rng.below(u64::from(config.keys.max(1))));
    let mut p = Producer {
        config,
        service,
        rec,
        rng,
        counter: 0,
        chain_key,
        chain_snfo: None,
    };
    let _ = index;
    while !p.rec.control().stopped() {
        let roll = p.rng.below(100);
        let step = if roll < 35 {
            p.put_one(false)
        } else if roll < 60 {
            p.put_one(true)
        } else {
            p.put_batch()
        };
        if step.is_err() || !p.rec.control().sleep(config.producer_pause) {
            break;
        }
    }
}

impl Producer<'_, '_> {
    fn next_payload(&mut self) -> String {
        self.counter += 1;
        payload::payload(self.rec.process(), self.counter)
    }

    fn random_key(&mut self) -> String {
        key(self.rng.below(u64::from(self.config.keys.max(1))))
    }

    /// Whether attempts after the first are hidden from the history (the defective twin).
    fn hides_retries(&self) -> bool {
        self.config.twin == Some(DriverTwin::UnrecordedRetry)
    }

    /// One logical `PutRecord`, with its retries.
    fn put_one(&mut self, chained: bool) -> Result<(), Halted> {
        let data = self.next_payload();
        let (key, snfo) = if chained {
            (self.chain_key.clone(), self.chain_snfo.clone())
        } else {
            (self.random_key(), None)
        };
        let req = PutRecordRequest {
            stream_name: self.config.stream.clone(),
            partition_key: key,
            data: Bytes::from(data),
            explicit_hash_key: None,
            sequence_number_for_ordering: snfo,
        };
        let mut attempt = 1u32;
        let mut hide_invoke = false;
        loop {
            self.rec.take_call()?;
            if !hide_invoke {
                let mut invoke = self.rec.event(EventType::Invoke, Op::PutRecord);
                record::put_record_args(&mut invoke, &req, attempt);
                self.rec.record(invoke)?;
            }
            let result = self.service.put_record(&req);
            let retry =
                matches!(&result, Err(e) if retriable(e)) && attempt < self.config.max_attempts;
            // The defective twin hides a failed attempt's completion and the retry's invoke,
            // so the history shows one attempt.
            hide_invoke = retry && self.hides_retries();
            if !hide_invoke {
                self.rec.finish(Op::PutRecord, &result, record::put_ok)?;
            }
            match result {
                Ok(r) => {
                    self.rec.control().acknowledged(1);
                    if chained {
                        self.chain_snfo = Some(r.sequence_number.to_string());
                    }
                    return Ok(());
                }
                Err(_) if retry => {
                    let d = self.config.backoff.delay(attempt, &mut self.rng);
                    std::thread::sleep(d);
                    attempt += 1;
                }
                Err(_) => return Ok(()),
            }
        }
    }

    /// One `PutRecords` batch of 1..=`max_batch` new payloads, with its retries.
    fn put_batch(&mut self) -> Result<(), Halted> {
        let n = self.rng.range(1, u64::from(self.config.max_batch.max(1)));
        let mut pending: Vec<PutRecordsEntry> = (0..n)
            .map(|_| PutRecordsEntry {
                partition_key: self.random_key(),
                data: Bytes::from(self.next_payload()),
                explicit_hash_key: None,
            })
            .collect();
        let mut attempt = 1u32;
        let mut hide_invoke = false;
        loop {
            let req = PutRecordsRequest {
                stream_name: self.config.stream.clone(),
                records: pending.clone(),
            };
            self.rec.take_call()?;
            if !hide_invoke {
                let mut invoke = self.rec.event(EventType::Invoke, Op::PutRecords);
                record::put_records_args(&mut invoke, &req, attempt);
                self.rec.record(invoke)?;
            }
            let result = self.service.put_records(&req);
            let (failed, call_retriable) = match &result {
                Ok(r) => {
                    let acked = r.records.iter().filter(|e| e.is_ok()).count();
                    self.rec.control().acknowledged(acked as u64);
                    let failed: Vec<PutRecordsEntry> = r
                        .records
                        .iter()
                        .zip(&pending)
                        .filter(|(res, _)| matches!(res, Err(e) if retriable(e)))
                        .map(|(_, entry)| entry.clone())
                        .collect();
                    (failed, true)
                }
                Err(e) => (pending.clone(), retriable(e)),
            };
            let retry = call_retriable && !failed.is_empty() && attempt < self.config.max_attempts;
            // The defective twin hides a wholly failed call and the invoke of its resend (a
            // partial failure's resend carries other entries, so it stays visible).
            hide_invoke = retry && result.is_err() && self.hides_retries();
            if !hide_invoke {
                self.rec
                    .finish(Op::PutRecords, &result, record::put_batch_ok)?;
            }
            if !retry {
                return Ok(());
            }
            pending = failed;
            let d = self.config.backoff.delay(attempt, &mut self.rng);
            std::thread::sleep(d);
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_retry_unknown_outcomes_and_throttling_but_not_definite_refusals() {
        assert!(retriable(&KinesisError::indeterminate("timeout")));
        assert!(retriable(&KinesisError::internal("oops")));
        assert!(retriable(&KinesisError::new(
            ErrorKind::ProvisionedThroughputExceededException,
            "slow down"
        )));
        assert!(retriable(&KinesisError::limit_exceeded("quota")));
        assert!(!retriable(&KinesisError::not_found("no stream")));
        assert!(!retriable(&KinesisError::invalid_argument("bad")));
    }
}
