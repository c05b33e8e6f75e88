//! A transport fault is never reported as a violation: a service whose requests sometimes end
//! with an unknown outcome (as when a peer is killed or a request times out) makes cases
//! indeterminate, and the area is judged on the cases that could be judged. An untyped server
//! error that recurs at the same step every time a case is replayed, though, is the service's
//! deterministic answer, and is judged (and caught) like any other wrong answer.

use seqcheck::MemoryStream;
use seqcheck::api::*;
use seqcheck::conformance::{Area, AreaReport, AreaStatus, RunConfig, in_process_memory, run_area};
use seqcheck::service::{Capabilities, StreamService};
use seqcheck::types::{ErrorKind, KinesisError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The embedded service behind a flaky link: every `period`-th put fails after it was applied
/// (with `kind`: a timeout, or an untyped HTTP 5xx), so the caller cannot know whether it took
/// effect. The call counter is per service instance (one per case: the fault recurs at the same
/// step whenever a case is replayed) or shared by all instances (it moves between replays).
struct Flaky {
    inner: MemoryStream,
    calls: Arc<AtomicU64>,
    period: u64,
    kind: ErrorKind,
    recurrence: Recurrence,
}

impl Flaky {
    fn fault<T>(&self, applied: Result<T, KinesisError>) -> Result<T, KinesisError> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        // Per instance: every `period`-th call. Shared: a pseudo-random 1 in `period` calls, so
        // a replay does not meet the fault in step with the run before it.
        let position = if self.recurrence == Recurrence::Moves {
            splitmix64(call)
        } else {
            call
        };
        if position % self.period == self.period - 1 {
            drop(applied);
            return Err(KinesisError::new(
                self.kind,
                "PutRecord: no usable answer (injected fault)",
            ));
        }
        applied
    }
}

impl StreamService for Flaky {
    fn name(&self) -> String {
        "flaky link".into()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn create_stream(&self, r: &CreateStreamRequest) -> Result<(), KinesisError> {
        self.inner.create_stream(r)
    }
    fn delete_stream(&self, r: &StreamRequest) -> Result<(), KinesisError> {
        self.inner.delete_stream(r)
    }
    fn describe_stream_summary(&self, r: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        self.inner.describe_stream_summary(r)
    }
    fn list_shards(&self, r: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        self.inner.list_shards(r)
    }
    fn put_record(&self, r: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        self.fault(self.inner.put_record(r))
    }
    fn put_records(&self, r: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        self.fault(self.inner.put_records(r))
    }
    fn get_shard_iterator(&self, r: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        self.inner.get_shard_iterator(r)
    }
    fn get_records(&self, r: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        self.inner.get_records(r)
    }
    fn split_shard(&self, r: &SplitShardRequest) -> Result<(), KinesisError> {
        self.inner.split_shard(r)
    }
    fn merge_shards(&self, r: &MergeShardsRequest) -> Result<(), KinesisError> {
        self.inner.merge_shards(r)
    }
    fn update_shard_count(
        &self,
        r: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        self.inner.update_shard_count(r)
    }
    fn increase_stream_retention_period(&self, r: &RetentionRequest) -> Result<(), KinesisError> {
        self.inner.increase_stream_retention_period(r)
    }
    fn decrease_stream_retention_period(&self, r: &RetentionRequest) -> Result<(), KinesisError> {
        self.inner.decrease_stream_retention_period(r)
    }
    fn advance_clock(&self, ms: u64) -> Result<(), KinesisError> {
        self.inner.advance_clock(ms)
    }
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

/// A well-mixed function of `x` (SplitMix64's finaliser).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether the fault recurs at the same step when a case is replayed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recurrence {
    SameStepEveryRun,
    Moves,
}

fn run_with(period: u64, kind: ErrorKind, recurrence: Recurrence) -> AreaReport {
    let shared = Arc::new(AtomicU64::new(0));
    let make = move || {
        let calls = match recurrence {
            Recurrence::SameStepEveryRun => Arc::new(AtomicU64::new(0)),
            Recurrence::Moves => Arc::clone(&shared),
        };
        Arc::new(Flaky {
            inner: in_process_memory(),
            calls,
            period,
            kind,
            recurrence,
        }) as Arc<dyn StreamService>
    };
    run_area(
        &make,
        Area::Sequencing,
        &RunConfig {
            cases: 64,
            ..RunConfig::default()
        },
        &|| {},
    )
}

fn run(period: u64) -> AreaReport {
    run_with(
        period,
        ErrorKind::Indeterminate,
        Recurrence::SameStepEveryRun,
    )
}

#[test]
fn occasional_unknown_outcomes_are_indeterminate_cases_not_violations() {
    let report = run(12);
    assert!(report.indeterminate_cases > 0, "the fault never fired");
    assert!(
        !matches!(report.status, AreaStatus::Failed { .. }),
        "a transport fault was judged a violation: {:?}",
        report.status
    );
    println!(
        "{} of {} cases indeterminate; area {}",
        report.indeterminate_cases,
        report.cases,
        report.status_word()
    );
}

#[test]
fn a_link_that_always_fails_leaves_the_area_indeterminate_with_the_reason() {
    let report = run(1);
    match report.status {
        AreaStatus::Indeterminate { reason } => {
            assert!(reason.contains("unknown outcome"), "{reason}")
        }
        other => panic!("expected an indeterminate area, got {other:?}"),
    }
}

#[test]
fn an_untyped_server_error_that_moves_between_replays_stays_indeterminate() {
    // Like a peer that is overloaded now and then: the 5xx does not come back at the same step.
    let report = run_with(7, ErrorKind::UntypedServerError, Recurrence::Moves);
    assert!(report.indeterminate_cases > 0, "the fault never fired");
    assert!(
        !matches!(report.status, AreaStatus::Failed { .. }),
        "a transient server error was judged a violation: {:?}",
        report.status
    );
}

#[test]
fn an_untyped_server_error_at_the_same_step_on_every_replay_is_caught() {
    // The broken twin of the indeterminate rule: a service that deterministically crashes on
    // some request (as kinesis-mock does on a malformed shard iterator) must not hide behind it.
    let report = run_with(
        12,
        ErrorKind::UntypedServerError,
        Recurrence::SameStepEveryRun,
    );
    match &report.status {
        AreaStatus::Failed { counterexample } => {
            assert_eq!(
                counterexample.violation.property,
                seqcheck::model::Property::ErrorMapping
            );
            assert!(
                counterexample
                    .violation
                    .detail
                    .contains("the same untyped server error on each of 3 runs of this case"),
                "{}",
                counterexample.violation.detail
            );
            println!("{counterexample}");
        }
        other => panic!("a recurring server error was not caught: {other:?}"),
    }
}
