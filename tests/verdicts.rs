//! Every verdict is earned: each test here pairs a deliberately broken implementation with the
//! verdict the suite must reach on it.
//!
//! - continuation: a service that diverges in a recorded way at the start of every case and
//!   then loses data is still caught losing data;
//! - grouping: a service with two independent bugs in one area gets both reported, each shrunk;
//! - CRASH: a service that stops answering after one kind of request is reported as crashed by
//!   that request (shrunk when it can be restarted; the remaining areas are not run when it
//!   cannot);
//! - HANG: a service that never answers one kind of request, but answers the rest, is reported
//!   as hanging on it;
//! - "not reached": a property no response exercised has zero checks, and an area whose cases
//!   judged nothing is not a pass.

use seqcheck::api::{Outcome, Reply, Request};
use seqcheck::conformance::{
    Area, AreaReport, AreaStatus, Expectations, FindingKind, KnownDivergence, Restart, RunConfig,
    in_process_memory, run_area, run_areas,
};
use seqcheck::model::Property;
use seqcheck::service::{Intercepted, StreamService};
use seqcheck::types::{ErrorKind, KinesisError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The embedded service behind `hook`.
fn behind(
    hook: impl Fn(&Request, &dyn Fn() -> Outcome) -> Outcome + Send + Sync + Clone + 'static,
) -> impl Fn() -> Arc<dyn StreamService> + Sync {
    move || Arc::new(Intercepted::new(in_process_memory(), hook.clone())) as Arc<dyn StreamService>
}

fn config(cases: u32) -> RunConfig {
    RunConfig {
        cases,
        max_shrink_ms: 20_000,
        ..RunConfig::default()
    }
}

fn findings(report: &AreaReport) -> &[seqcheck::conformance::Counterexample] {
    match &report.status {
        AreaStatus::Failed { findings } => findings,
        other => panic!("expected findings, got {other:?}\n{report:#?}"),
    }
}

/// Reports one more open shard than there are: a recorded, state-preserving divergence that
/// shows at the second step of every case.
fn stale_summary(outcome: Outcome) -> Outcome {
    match outcome {
        Ok(Reply::Summary(mut s)) => {
            s.open_shard_count += 1;
            Ok(Reply::Summary(s))
        }
        other => other,
    }
}

/// The recorded divergence for [`stale_summary`], as an expectations file states it.
fn stale_summary_recorded() -> Expectations {
    Expectations {
        implementation: "stale summary".into(),
        divergences: vec![KnownDivergence {
            id: "open-shard-count-off-by-one".into(),
            areas: Vec::new(),
            property: Property::Listing,
            detail_contains: "open shards, model has".into(),
            detail_pattern: None,
            what_differs: "OpenShardCount is one too high".into(),
            kinesis_fact: "DescribeStreamSummary counts the open shards".into(),
            counterexample: Vec::new(),
        }],
        ..Expectations::default()
    }
}

#[test]
fn a_recorded_divergence_does_not_hide_the_data_loss_behind_it() {
    // Every case shows the recorded divergence at its second step; every page drops its last
    // record when it holds more than one. Before cases went on past recorded divergences, the
    // loss was never looked at.
    let make = behind(|request: &Request, forward: &dyn Fn() -> Outcome| {
        let outcome = stale_summary(forward());
        match (request, outcome) {
            (Request::GetRecords(_), Ok(Reply::Records(mut page))) if page.records.len() > 1 => {
                page.records.pop();
                Ok(Reply::Records(page))
            }
            (_, outcome) => outcome,
        }
    });
    let cfg = RunConfig {
        expectations: stale_summary_recorded(),
        ..config(48)
    };
    let report = run_area(&make, Area::Sequencing, &cfg, &|| {});
    let found = findings(&report);
    let loss = found
        .iter()
        .find(|f| {
            matches!(
                f.violation.property,
                Property::NoLoss | Property::Continuity
            )
        })
        .unwrap_or_else(|| panic!("the data loss was not found: {found:#?}"));
    println!("{loss}");
    let divergence = report
        .divergences
        .iter()
        .find(|d| d.id == "open-shard-count-off-by-one")
        .expect("the recorded divergence is reported");
    assert!(divergence.hits >= divergence.cases && divergence.cases > 0);
    assert!(
        loss.steps
            .iter()
            .any(|s| s.contains("DescribeStreamSummary")),
        "the finding's transcript goes through the recorded divergence"
    );
}

#[test]
fn a_recorded_divergence_alone_lets_every_case_run_to_its_end() {
    let make = behind(|_: &Request, forward: &dyn Fn() -> Outcome| stale_summary(forward()));
    let cfg = RunConfig {
        expectations: stale_summary_recorded(),
        ..config(32)
    };
    let report = run_area(&make, Area::Paging, &cfg, &|| {});
    assert!(matches!(report.status, AreaStatus::Passed), "{report:#?}");
    assert_eq!(
        report.completed_cases, report.cases,
        "{:?}",
        report.ended_early
    );
    let d = &report.divergences[0];
    assert_eq!(d.cases, report.cases);
    let cx = d.counterexample.as_ref().expect("a shrunk counterexample");
    println!("{cx}");
    assert!(cx.steps.len() <= 3, "cut at the divergent response: {cx}");
    // The cases went on: the data-plane properties were judged after the divergence.
    for p in [
        Property::Continuity,
        Property::NoLoss,
        Property::IteratorPosition,
    ] {
        assert!(report.checks.get(p) > 0, "{p} was never judged");
    }
}

#[test]
fn an_accepted_request_the_model_cannot_follow_ends_the_case_and_says_why() {
    // Splits are accepted but never carried out: the model cannot represent the shard map.
    let make = behind(
        |request: &Request, forward: &dyn Fn() -> Outcome| match request {
            Request::SplitShard(_) => Ok(Reply::Done),
            _ => forward(),
        },
    );
    let expectations = Expectations {
        implementation: "lazy splits".into(),
        divergences: vec![KnownDivergence {
            id: "split-ignored".into(),
            areas: Vec::new(),
            property: Property::ErrorMapping,
            detail_contains: "SplitShard".into(),
            detail_pattern: None,
            what_differs: "accepts a split it does not carry out".into(),
            kinesis_fact: "-".into(),
            counterexample: Vec::new(),
        }],
        ..Expectations::default()
    };
    let report = run_area(
        &make,
        Area::Resharding,
        &RunConfig {
            expectations,
            ..config(32)
        },
        &|| {},
    );
    println!("{report:#?}");
    assert!(
        report
            .ended_early
            .iter()
            .any(|e| e.reason.contains("left the model's")),
        "{:?}",
        report.ended_early
    );
}

#[test]
fn two_independent_bugs_in_one_area_are_both_reported_and_shrunk() {
    // Wrong error type for over-long partition keys, and for malformed stream names.
    let make = behind(|request: &Request, forward: &dyn Fn() -> Outcome| {
        let outcome = forward();
        let wrong = |e: &KinesisError| {
            Err(KinesisError::new(
                ErrorKind::InvalidArgumentException,
                e.message.clone(),
            ))
        };
        match (request, &outcome) {
            (Request::PutRecord(r), Err(e))
                if e.kind == ErrorKind::ValidationException && r.partition_key.len() > 256 =>
            {
                wrong(e)
            }
            (Request::CreateStream(_), Err(e)) if e.kind == ErrorKind::ValidationException => {
                wrong(e)
            }
            _ => outcome,
        }
    });
    let report = run_area(&make, Area::Validation, &config(96), &|| {});
    let found = findings(&report);
    for f in found {
        println!("{f}\n");
    }
    assert!(
        report.distinct_findings >= 2,
        "{}",
        report.distinct_findings
    );
    let ops: Vec<&str> = found
        .iter()
        .filter_map(|f| f.violation.detail.split(':').next())
        .collect();
    assert!(
        ops.contains(&"PutRecord") && ops.contains(&"CreateStream"),
        "{ops:?}"
    );
    assert!(
        found.iter().all(|f| f.steps.len() <= 12),
        "each one is shrunk"
    );
}

/// True for the request that kills (or hangs) the services below: a put with an explicit
/// hash key.
fn trigger(request: &Request) -> bool {
    matches!(request, Request::PutRecord(r) if r.explicit_hash_key.is_some())
}

fn unanswered() -> Outcome {
    Err(KinesisError::new(
        ErrorKind::Indeterminate,
        "connection refused (injected)",
    ))
}

/// A service process that dies on [`trigger`]: from then on nothing answers, until restarted.
fn crashing(dead: Arc<AtomicBool>) -> impl Fn() -> Arc<dyn StreamService> + Sync {
    behind(move |request: &Request, forward: &dyn Fn() -> Outcome| {
        if dead.load(Ordering::SeqCst) {
            return unanswered();
        }
        if trigger(request) {
            dead.store(true, Ordering::SeqCst);
            return unanswered();
        }
        forward()
    })
}

#[test]
fn a_service_killed_by_a_request_is_a_crash_naming_that_request() {
    let dead = Arc::new(AtomicBool::new(false));
    let make = crashing(Arc::clone(&dead));
    let revive = Arc::clone(&dead);
    let cfg = RunConfig {
        restart: Some(Restart::new("revive", move || {
            revive.store(false, Ordering::SeqCst);
            Ok(())
        })),
        ..config(32)
    };
    let report = run_area(&make, Area::Routing, &cfg, &|| {});
    let found = findings(&report);
    let crash = &found[0];
    println!("{crash}");
    assert_eq!(crash.kind, FindingKind::Crash);
    assert!(
        crash.violation.detail.contains("request: PutRecord"),
        "{crash}"
    );
    assert!(
        crash.violation.detail.contains("ehk=\""),
        "names the killing request: {crash}"
    );
    assert!(crash.steps.len() <= 6, "shrunk with restarts: {crash}");
    assert!(
        crash.steps.last().is_some_and(|s| s.contains("PutRecord")),
        "the transcript ends with the request that killed the service"
    );
    assert!(
        report.cases == u64::from(cfg.cases),
        "the run went on after the restart"
    );
}

#[test]
fn without_a_restart_a_crash_leaves_the_remaining_areas_not_run() {
    let make = crashing(Arc::new(AtomicBool::new(false)));
    let reports = run_areas(&make, &[Area::Routing, Area::Paging], &config(16), &|| {});
    assert_eq!(findings(&reports[0])[0].kind, FindingKind::Crash);
    match &reports[1].status {
        AreaStatus::NotRun { reason } => assert!(reason.contains("service down"), "{reason}"),
        other => panic!("the area after a crash must not run: {other:?}"),
    }
}

#[test]
fn a_request_that_never_gets_an_answer_is_a_hang() {
    let make = behind(|request: &Request, forward: &dyn Fn() -> Outcome| {
        if trigger(request) {
            return Err(KinesisError::new(
                ErrorKind::Indeterminate,
                "PutRecord: no complete answer within the operation timeout (injected)",
            ));
        }
        forward()
    });
    let report = run_area(&make, Area::Routing, &config(16), &|| {});
    let found = findings(&report);
    println!("{}", found[0]);
    assert_eq!(found[0].kind, FindingKind::Hang);
    assert!(found[0].violation.detail.contains("PutRecord"));
}

#[test]
fn a_transient_timeout_is_neither_crash_nor_hang() {
    // Times out once in a while, never at the same place twice.
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let make = behind(move |request: &Request, forward: &dyn Fn() -> Outcome| {
        let n = calls.fetch_add(1, Ordering::Relaxed);
        if matches!(request, Request::PutRecord(_)) && n % 97 == 13 {
            return unanswered();
        }
        forward()
    });
    let report = run_area(&make, Area::Routing, &config(24), &|| {});
    assert!(report.findings().is_empty(), "{report:#?}");
}

#[test]
fn properties_no_response_exercised_have_zero_checks() {
    let make = || Arc::new(in_process_memory()) as Arc<dyn StreamService>;
    let report = run_area(&make, Area::Routing, &config(16), &|| {});
    assert!(matches!(report.status, AreaStatus::Passed));
    assert!(report.checks.get(Property::Routing) > 0);
    // Nothing in the routing area waits 300 s or scales a stream.
    for p in [Property::Expiry, Property::ShardCount] {
        assert_eq!(report.checks.get(p), 0, "{p}: {:?}", report.checks);
    }
}

#[test]
fn an_area_whose_cases_judged_nothing_is_not_a_pass() {
    // CreateStream never answers definitely but the service is otherwise up: nothing can be
    // judged, and the area must say so.
    let make = behind(
        |request: &Request, forward: &dyn Fn() -> Outcome| match request {
            Request::CreateStream(_) => Err(KinesisError::new(
                ErrorKind::UntypedServerError,
                "HTTP 503 (injected, moves between runs)",
            )),
            _ => forward(),
        },
    );
    let cfg = RunConfig {
        fault_replays: 0,
        ..config(8)
    };
    let report = run_area(&make, Area::Routing, &cfg, &|| {});
    assert!(
        matches!(report.status, AreaStatus::Indeterminate { .. }),
        "{:?}",
        report.status
    );
    assert!(!report.was_checked());
}
