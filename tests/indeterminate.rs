//! A transport fault is never reported as a violation: a service whose requests sometimes end
//! with an unknown outcome (as when a peer is killed or a request times out) makes cases
//! indeterminate, and the area is judged on the cases that could be judged.

use seqcheck::MemoryStream;
use seqcheck::api::*;
use seqcheck::conformance::{Area, AreaStatus, RunConfig, in_process_memory, run_area};
use seqcheck::service::{Capabilities, StreamService};
use seqcheck::types::KinesisError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The embedded service behind a flaky link: every `period`-th put times out after it was
/// applied, so the caller cannot know whether it took effect.
struct Flaky {
    inner: MemoryStream,
    calls: AtomicU64,
    period: u64,
}

impl Flaky {
    fn fault<T>(&self, applied: Result<T, KinesisError>) -> Result<T, KinesisError> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % self.period == self.period - 1 {
            drop(applied);
            return Err(KinesisError::indeterminate(
                "PutRecord: no answer within the operation timeout",
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

fn run(period: u64) -> seqcheck::conformance::AreaReport {
    let make = move || {
        Arc::new(Flaky {
            inner: in_process_memory(),
            calls: AtomicU64::new(0),
            period,
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
