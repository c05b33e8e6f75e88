//! A transient transport fault is never reported as a violation: a service whose requests now
//! and then end with an unknown outcome makes those cases indeterminate, and the area is
//! judged on the cases that could be judged. A fault that recurs at the same step every time a
//! case is replayed, though, is the service's deterministic behaviour: an untyped server error
//! is judged like any other wrong answer, and a request that is never answered (while the
//! service answers others) is a HANG.

use seqcheck::api::{Outcome, Request};
use seqcheck::conformance::{Area, AreaReport, AreaStatus, RunConfig, in_process_memory, run_area};
use seqcheck::service::{Intercepted, StreamService};
use seqcheck::types::{ErrorKind, KinesisError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The embedded service behind a flaky link: every `period`-th put (PutRecord or PutRecords)
/// fails after it was applied (with `kind`: a timeout, or an untyped HTTP 5xx), so the caller
/// cannot know whether it took effect. The call counter is per service instance (one per case:
/// the fault recurs at the same step whenever a case is replayed) or shared by all instances,
/// with a pseudo-random pick of the failing calls (the fault moves between replays).
fn flaky(
    calls: Arc<AtomicU64>,
    period: u64,
    kind: ErrorKind,
    recurrence: Recurrence,
) -> Arc<dyn StreamService> {
    Arc::new(Intercepted::new(
        in_process_memory(),
        move |request: &Request, forward: &dyn Fn() -> Outcome| {
            if !matches!(request, Request::PutRecord(_) | Request::PutRecords(_)) {
                return forward();
            }
            let applied = forward();
            let call = calls.fetch_add(1, Ordering::Relaxed);
            let position = match recurrence {
                Recurrence::SameStepEveryRun => call,
                Recurrence::Moves => splitmix64(call),
            };
            if position % period == period - 1 {
                drop(applied);
                return Err(KinesisError::new(
                    kind,
                    "PutRecord: no usable answer (injected fault)",
                ));
            }
            applied
        },
    ))
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
        flaky(calls, period, kind, recurrence)
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

/// An area whose faults were all transient: the cases they hit are counted as indeterminate
/// (never completed, never violations), the rest completed, and the area's verdict follows the
/// documented rule (indeterminate when at least half the cases are).
fn assert_indeterminate_not_failed(report: &AreaReport) {
    assert!(report.indeterminate_cases > 0, "the fault never fired");
    assert!(
        !matches!(report.status, AreaStatus::Failed { .. }),
        "a transient fault was judged a violation: {:?}",
        report.status
    );
    assert_eq!(
        report.completed_cases + report.indeterminate_cases,
        report.cases,
        "every case either completed or is indeterminate (early ends: {:?})",
        report.ended_early
    );
    if report.indeterminate_cases * 2 >= report.cases {
        assert!(
            matches!(report.status, AreaStatus::Indeterminate { .. }),
            "{} of {} cases indeterminate, yet the area is {:?}",
            report.indeterminate_cases,
            report.cases,
            report.status
        );
    } else {
        assert!(
            matches!(report.status, AreaStatus::Passed),
            "{:?}",
            report.status
        );
    }
}

#[test]
fn occasional_unknown_outcomes_are_indeterminate_cases_not_violations() {
    // A timeout now and then, never at the same step twice: transient, not a hang.
    let report = run_with(12, ErrorKind::Indeterminate, Recurrence::Moves);
    assert_indeterminate_not_failed(&report);
    println!(
        "{} of {} cases indeterminate; area {}",
        report.indeterminate_cases,
        report.cases,
        report.status_word()
    );
}

#[test]
fn a_put_that_times_out_on_every_replay_while_the_service_answers_is_a_hang() {
    // Every put goes unanswered (though applied), at the same step whenever a case is
    // replayed, and the service still answers other requests: that is a HANG, not noise.
    let report = run_with(1, ErrorKind::Indeterminate, Recurrence::SameStepEveryRun);
    match &report.status {
        AreaStatus::Failed { findings } => {
            assert_eq!(findings[0].kind, seqcheck::conformance::FindingKind::Hang);
            println!("{}", findings[0]);
        }
        other => panic!("expected a HANG finding, got {other:?}"),
    }
}

#[test]
fn an_untyped_server_error_that_moves_between_replays_stays_indeterminate() {
    // Like a peer that is overloaded now and then: the 5xx does not come back at the same step.
    let report = run_with(7, ErrorKind::UntypedServerError, Recurrence::Moves);
    assert_indeterminate_not_failed(&report);
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
        AreaStatus::Failed { findings } => {
            let counterexample = &findings[0];
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
