//! A request an implementation cannot survive (it hangs forever, as moto does on
//! `UpdateShardCount` to 0) is listed as a hazard in its expectations file: the suite never
//! sends it, shows it as not sent in transcripts, and goes on with the case.

use seqcheck::api::{Outcome, Request};
use seqcheck::conformance::{
    Area, AreaStatus, Expectations, Hazard, RunConfig, in_process_memory, run_area,
};
use seqcheck::service::{Intercepted, StreamService};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn run(hazards: Vec<Hazard>) -> (seqcheck::conformance::AreaReport, u64, u64) {
    let hazardous = Arc::new(AtomicU64::new(0));
    let updates = Arc::new(AtomicU64::new(0));
    let (h, u) = (Arc::clone(&hazardous), Arc::clone(&updates));
    let make = move || {
        let (h, u) = (Arc::clone(&h), Arc::clone(&u));
        // Counts the UpdateShardCount calls (and those to 0 shards) that reach the service.
        Arc::new(Intercepted::new(
            in_process_memory(),
            move |request: &Request, forward: &dyn Fn() -> Outcome| {
                if let Request::UpdateShardCount(r) = request {
                    u.fetch_add(1, Ordering::Relaxed);
                    if r.target_shard_count == 0 {
                        h.fetch_add(1, Ordering::Relaxed);
                    }
                }
                forward()
            },
        )) as Arc<dyn StreamService>
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
