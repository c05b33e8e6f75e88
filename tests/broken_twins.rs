//! Every broken twin is caught by the conformance suite within the default case budget, with
//! a shrunk counterexample naming the broken property.

use seqcheck::conformance::{AreaStatus, RunConfig, run_area};
use seqcheck::mutants::BrokenTwin;
use seqcheck::service::StreamService;
use std::sync::Arc;

fn catch(twin: BrokenTwin) -> seqcheck::conformance::Counterexample {
    let make = move || Arc::<dyn StreamService>::from(twin.build());
    let report = run_area(&make, twin.area(), &RunConfig::default(), &|| {});
    match report.status {
        AreaStatus::Failed { mut findings } => {
            let counterexample = findings.remove(0);
            println!(
                "{twin:?} caught after {} cases:\n{counterexample}\n",
                report.cases
            );
            counterexample
        }
        other => panic!("{twin:?} escaped the {} area: {other:?}", twin.area()),
    }
}

/// Caught by its area, as one of the properties it breaks, with a short replayable
/// counterexample.
fn assert_caught(twin: BrokenTwin) {
    let cx = catch(twin);
    assert!(
        twin.caught_as().contains(&cx.violation.property),
        "{twin:?} was caught as {:?}, expected one of {:?}",
        cx.violation.property,
        twin.caught_as()
    );
    assert!(
        !cx.steps.is_empty() && cx.steps.len() <= 12,
        "{twin:?}: {} steps is not minimal",
        cx.steps.len()
    );
    assert!(cx.replay.contains("--seed"));
}

/// One test per twin, so one twin that escapes never hides another.
macro_rules! every_twin_is_caught {
    ($($twin:ident),* $(,)?) => {
        $(
            #[test]
            #[allow(non_snake_case)]
            fn $twin() {
                assert_caught(BrokenTwin::$twin);
            }
        )*

        #[test]
        fn every_twin_has_its_own_test() {
            let tested = [$(BrokenTwin::$twin),*];
            for twin in BrokenTwin::ALL {
                assert!(tested.contains(&twin), "{twin:?} has no test of its own");
            }
        }
    };
}

every_twin_is_caught!(
    AfterSequenceNumberInclusive,
    LatestIncludesLastRecord,
    LittleEndianHashKey,
    ExplicitHashKeyIgnored,
    SequenceNumberReused,
    PageSkipsRecordAtLimit,
    SplitParentRecordsLost,
    WritesOnClosedShard,
    TrimmedRecordsReturned,
    Rejects256CharKey,
    PutRecordsReordered,
    ExpiredIteratorAccepted,
    IteratorExpiresEarly,
    ChildNumberedBelowParent,
    MillisBehindAtTip,
    ShardEndWithoutChildren,
    LenientBase64,
    RefusedPutStillStored,
    NullMembersInAnswers,
    InitialSplitFromMaxKey,
    ClosedShardNeverEnds,
    AtTimestampPastNewestRewinds,
);

/// Realism mode has teeth: readable numbers fail the 56-digit AWS-layout check (P1).
#[test]
fn readable_numbers_fail_the_aws_layout_check() {
    let make = || Arc::new(seqcheck::conformance::in_process_memory()) as Arc<dyn StreamService>;
    let cfg = RunConfig {
        model: seqcheck::ModelConfig {
            require_aws_layout: true,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    match run_area(&make, seqcheck::conformance::Area::Sequencing, &cfg, &|| {}).status {
        AreaStatus::Failed { findings } => {
            let counterexample = &findings[0];
            println!("{counterexample}");
            assert_eq!(
                counterexample.violation.property,
                seqcheck::model::Property::Format
            );
        }
        other => panic!("readable numbers passed the AWS-layout check: {other:?}"),
    }
}

/// One wrong iterator type is caught at CI's budget of 8 cases per area: the covering set
/// takes AT_TIMESTAMP past a shard's newest record before any random case runs.
#[test]
fn one_wrong_iterator_type_is_caught_at_eight_cases() {
    let twin = BrokenTwin::AtTimestampPastNewestRewinds;
    let make = move || Arc::<dyn StreamService>::from(twin.build());
    let cfg = RunConfig {
        cases: 8,
        ..RunConfig::default()
    };
    let report = run_area(&make, twin.area(), &cfg, &|| {});
    assert_eq!(report.cases, 8);
    match report.status {
        AreaStatus::Failed { findings } => {
            let cx = &findings[0];
            println!("{twin:?} caught within 8 cases:\n{cx}\n");
            assert!(twin.caught_as().contains(&cx.violation.property), "{cx}");
            assert!(
                cx.steps.len() <= 12,
                "{} steps is not minimal:\n{cx}",
                cx.steps.len()
            );
            assert!(cx.replay.contains("--cases 8"), "{}", cx.replay);
        }
        other => panic!("{twin:?} escaped 8 cases of the iterators area: {other:?}"),
    }
}
