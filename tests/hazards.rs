//! A request an implementation cannot survive (it hangs forever, as moto does on
//! `UpdateShardCount` to 0) is listed as a hazard in its expectations file: the suite never
//! sends it, shows it as not sent in transcripts, and goes on with the case.

use seqcheck::MemoryStream;
use seqcheck::api::*;
use seqcheck::conformance::{
    Area, AreaStatus, Expectations, Hazard, RunConfig, in_process_memory, run_area,
};
use seqcheck::service::{Capabilities, StreamService};
use seqcheck::types::KinesisError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The embedded service, counting the `UpdateShardCount` calls to 0 that reach it.
struct Watched {
    inner: MemoryStream,
    hazardous_calls: Arc<AtomicU64>,
    update_calls: Arc<AtomicU64>,
}

impl StreamService for Watched {
    fn name(&self) -> String {
        "watched".into()
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
        self.inner.put_record(r)
    }
    fn put_records(&self, r: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        self.inner.put_records(r)
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
        self.update_calls.fetch_add(1, Ordering::Relaxed);
        if r.target_shard_count == 0 {
            self.hazardous_calls.fetch_add(1, Ordering::Relaxed);
        }
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

fn run(hazards: Vec<Hazard>) -> (seqcheck::conformance::AreaReport, u64, u64) {
    let hazardous = Arc::new(AtomicU64::new(0));
    let updates = Arc::new(AtomicU64::new(0));
    let (h, u) = (Arc::clone(&hazardous), Arc::clone(&updates));
    let make = move || {
        Arc::new(Watched {
            inner: in_process_memory(),
            hazardous_calls: Arc::clone(&h),
            update_calls: Arc::clone(&u),
        }) as Arc<dyn StreamService>
    };
    let cfg = RunConfig {
        cases: 64,
        expectations: Expectations {
            implementation: "watched".into(),
            hazards,
            ..Expectations::default()
        },
        ..RunConfig::default()
    };
    let report = run_area(&make, Area::Validation, &cfg, &|| {});
    (
        report,
        hazardous.load(Ordering::Relaxed),
        updates.load(Ordering::Relaxed),
    )
}

#[test]
fn the_suite_sends_updates_to_zero_shards_unless_told_not_to() {
    let (report, hazardous, _) = run(Vec::new());
    assert!(matches!(report.status, AreaStatus::Passed), "{report:?}");
    assert!(
        hazardous > 0,
        "the validation area never asked for 0 shards"
    );
}

#[test]
fn a_hazardous_request_is_never_sent_and_the_case_goes_on() {
    let (report, hazardous, updates) = run(vec![Hazard {
        id: "update-to-zero-hangs".into(),
        request_pattern: "^UpdateShardCount .* target=0$".into(),
        evidence: "hangs".into(),
        kinesis_fact: "refused at once".into(),
    }]);
    assert_eq!(hazardous, 0, "a hazardous request reached the service");
    assert!(
        updates > 0,
        "other UpdateShardCount requests must still be sent"
    );
    assert!(report.skipped_ops > 0, "withheld requests are counted");
    assert!(matches!(report.status, AreaStatus::Passed), "{report:?}");
}
