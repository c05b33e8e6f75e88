//! The slow expiry check (`seqcheck check --slow`) through the library API, on services with
//! clock control so it takes milliseconds: a conforming service passes with both uses of a
//! held iterator judged for Expiry by the model; a twin whose iterators expire early and one
//! whose iterators never expire are each caught with the transcript that shows it.

use seqcheck::api::{Outcome, Reply, Request};
use seqcheck::conformance::{
    Action, AreaStatus, Counterexample, Executor, Op, RunConfig, SlowCheck, SlowReport,
    VALID_HOLD_MS, expiry_holds, in_process_memory, in_process_model, run_slow_check,
};
use seqcheck::model::{ITERATOR_TTL_MS, ModelConfig, Property};
use seqcheck::mutants::BrokenTwin;
use seqcheck::service::{Intercepted, StreamService};
use seqcheck::types::ErrorKind;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn slow(factory: &(dyn Fn() -> Arc<dyn StreamService> + Sync), cfg: &RunConfig) -> SlowReport {
    let started = Instant::now();
    let report = run_slow_check(factory, SlowCheck::Expiry, cfg, &|_| {});
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "with clock control the holds advance the clock instead of sleeping"
    );
    report
}

fn caught(twin: BrokenTwin) -> Counterexample {
    let make = move || Arc::<dyn StreamService>::from(twin.build());
    let report = slow(&make, &RunConfig::default());
    assert_eq!(report.distinct_findings, 1, "{twin:?}: {report:#?}");
    match report.status {
        AreaStatus::Failed { mut findings } => {
            let cx = findings.remove(0);
            println!("{twin:?} caught by the slow expiry check:\n{cx}\n");
            cx
        }
        other => panic!("{twin:?} escaped the slow expiry check: {other:?}"),
    }
}

#[test]
fn the_embedded_service_passes_with_both_holds_judged() {
    let make = || Arc::new(in_process_memory()) as Arc<dyn StreamService>;
    let report = slow(&make, &RunConfig::default());
    assert!(matches!(report.status, AreaStatus::Passed), "{report:#?}");
    assert_eq!(report.status_word(), "passed");
    // One judgement per held iterator: the one that must work, the one that must be expired.
    assert_eq!(
        report.checks.get(Property::Expiry),
        2,
        "{:?}",
        report.checks
    );
    assert_eq!((report.cases, report.completed_cases), (1, 1));
    assert!(report.was_checked());
}

#[test]
fn the_reference_model_as_a_service_passes() {
    let make = || Arc::new(in_process_model()) as Arc<dyn StreamService>;
    let report = slow(&make, &RunConfig::default());
    assert!(matches!(report.status, AreaStatus::Passed), "{report:#?}");
    assert_eq!(report.checks.get(Property::Expiry), 2);
}

#[test]
fn iterators_that_expire_early_are_caught_at_the_valid_hold() {
    let cx = caught(BrokenTwin::IteratorExpiresEarly);
    assert_eq!(cx.violation.property, Property::Expiry);
    assert!(
        BrokenTwin::IteratorExpiresEarly
            .caught_as()
            .contains(&Property::Expiry)
    );
    assert_eq!(cx.scenario.as_deref(), Some("expiry (slow)"));
    assert!(
        cx.steps
            .iter()
            .any(|s| s.contains(&format!("(clock advances {VALID_HOLD_MS} ms)"))),
        "{cx}"
    );
    let last = cx.steps.last().expect("a transcript");
    assert!(last.contains("GetRecords"), "{cx}");
    assert!(last.contains("ExpiredIteratorException"), "{cx}");
    assert!(
        cx.to_string().contains("slow check `expiry (slow)`"),
        "{cx}"
    );
    assert!(cx.replay.contains("--slow"), "{}", cx.replay);
}

#[test]
fn iterators_that_never_expire_are_caught_at_the_expired_hold() {
    let cx = caught(BrokenTwin::ExpiredIteratorAccepted);
    assert_eq!(cx.violation.property, Property::Expiry);
    assert!(
        cx.violation.detail.contains("ExpiredIteratorException"),
        "{cx}"
    );
    let (valid, expired) = expiry_holds(0);
    assert!(
        cx.steps
            .iter()
            .any(|s| s.contains(&format!("(clock advances {} ms)", expired - valid))),
        "{cx}"
    );
    let last = cx.steps.last().expect("a transcript");
    assert!(
        last.contains("GetRecords") && last.contains("1 records"),
        "{cx}"
    );
}

#[test]
fn the_expired_hold_clears_the_clock_tolerance() {
    assert_eq!(expiry_holds(0), (VALID_HOLD_MS, ITERATOR_TTL_MS + 1_000));
    let (valid, expired) = expiry_holds(2_000);
    assert!(valid + 2_000 < ITERATOR_TTL_MS);
    assert!(expired > ITERATOR_TTL_MS + 2_000);
    assert_eq!(SlowCheck::Expiry.hold_ms(2_000), expired);
}

#[test]
fn a_tolerance_too_wide_to_judge_the_valid_hold_is_indeterminate_without_waiting() {
    let make = || Arc::new(in_process_memory()) as Arc<dyn StreamService>;
    let cfg = RunConfig {
        model: ModelConfig {
            clock_tolerance_ms: ITERATOR_TTL_MS - VALID_HOLD_MS,
            ..ModelConfig::default()
        },
        ..RunConfig::default()
    };
    let report = slow(&make, &cfg);
    assert!(
        matches!(report.status, AreaStatus::Indeterminate { .. }),
        "{report:#?}"
    );
    assert_eq!(report.ops, 0);
    assert!(!report.was_checked());
}

/// The embedded service with `alter` applied to the outcome of its first GetRecords only.
fn first_read_altered(alter: fn(Outcome) -> Outcome) -> impl Fn() -> Arc<dyn StreamService> + Sync {
    move || {
        let reads = AtomicUsize::new(0);
        let hook = move |request: &Request, forward: &dyn Fn() -> Outcome| match request {
            Request::GetRecords(_) if reads.fetch_add(1, Ordering::Relaxed) == 0 => {
                alter(forward())
            }
            _ => forward(),
        };
        Arc::new(Intercepted::new(in_process_memory(), hook)) as Arc<dyn StreamService>
    }
}

fn indeterminate_reason(report: &SlowReport) -> &str {
    match &report.status {
        AreaStatus::Indeterminate { reason } => reason,
        other => panic!("expected indeterminate, got {other:?}: {report:#?}"),
    }
}

#[test]
fn an_empty_page_at_the_valid_hold_is_not_a_pass() {
    // Kinesis may answer a page with fewer records than it has, so an empty page is no
    // violation; but the check did not see the record, so it cannot pass either.
    let make = first_read_altered(|outcome| match outcome {
        Ok(Reply::Records(mut page)) => {
            page.records.clear();
            page.millis_behind_latest = 1;
            Ok(Reply::Records(page))
        }
        other => other,
    });
    let cfg = RunConfig {
        model: ModelConfig {
            strict_millis_behind: false,
            ..ModelConfig::default()
        },
        ..RunConfig::default()
    };
    let report = slow(&make, &cfg);
    assert!(
        indeterminate_reason(&report).contains("empty page"),
        "{report:#?}"
    );
}

#[test]
fn a_throttled_use_of_a_held_iterator_leaves_the_check_indeterminate() {
    // Throttling is admitted without judging anything, so one of the two Expiry judgements is
    // missing: the check must not pass on the other one alone.
    let make = first_read_altered(|_| {
        Err(seqcheck::types::KinesisError::new(
            ErrorKind::ProvisionedThroughputExceededException,
            "Rate exceeded for shard (injected)",
        ))
    });
    let cfg = RunConfig {
        model: ModelConfig {
            allow_transient_errors: true,
            ..ModelConfig::default()
        },
        ..RunConfig::default()
    };
    let report = slow(&make, &cfg);
    assert_eq!(report.checks.get(Property::Expiry), 1, "{report:#?}");
    assert!(
        indeterminate_reason(&report).contains("judged 1 of 2"),
        "{report:#?}"
    );
}

#[test]
fn a_hold_without_clock_control_waits_in_real_time_and_reports_progress() {
    // The embedded service on the system clock has no clock control.
    let service = seqcheck::MemoryStream::default();
    assert!(!service.capabilities().clock_control);
    let passed = Cell::new(0u64);
    let observe = |ms: u64| passed.set(passed.get() + ms);
    let started = Instant::now();
    let run = Executor::new(&service, ModelConfig::default(), "sc-hold")
        .reporting_holds(&observe)
        .run(1, &[Op::Hold { ms: 300 }]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(run.completed(), "{:?}", run.stop);
    assert_eq!(passed.get(), 300);
    assert!(
        run.steps.iter().any(|s| s.action == Action::Slept(300)),
        "{:?}",
        run.steps
    );
}
