//! Exhaustive model checks at the default bounds (scale with `SEQCHECK_MODEL_SCALE`).
//!
//! Each faithful model must satisfy every property; each broken twin must be refuted on the
//! property its bug breaks, with a counterexample whose shape is checked and printed.

use std::fmt::Debug;
use std::hash::Hash;

use seqcheck::models::{self, ModelChoice, ModelReport, sequencer_crash};
use stateright::{Checker, CheckerBuilder, HasDiscoveries, Model};

fn scale() -> usize {
    models::scale_from_env().expect("a valid SEQCHECK_MODEL_SCALE")
}

fn check(name: &'static str) -> ModelReport {
    let report = models::check_one(
        ModelChoice {
            name,
            broken: false,
        },
        scale(),
    );
    println!("{report}");
    for p in &report.properties {
        assert!(
            p.outcome.is_expected(),
            "{name}: property {:?} ended {:?}; path: {:#?}",
            p.name,
            p.outcome,
            p.path
        );
    }
    report
}

/// The pinned counts apply to the default bounds only.
fn pin(report: &ModelReport, expected: usize) {
    if scale() == 1 {
        assert_eq!(
            report.unique_states, expected,
            "{}: state space changed",
            report.name
        );
    }
}

#[test]
fn sequencer_under_crash_and_concurrency() {
    let report = check("sequencer");
    pin(&report, 9873);
}

/// Checks `model` until `property` is refuted and returns the counterexample cut at its first
/// violating state (actions, printed).
fn refute<M>(builder: CheckerBuilder<M>, property: &'static str) -> Vec<M::Action>
where
    M: Model + Send + Sync + 'static,
    M::State: Hash + Send + Sync + Clone + PartialEq + Debug + 'static,
    M::Action: Clone + PartialEq + Debug,
{
    let checker = builder
        .finish_when(HasDiscoveries::AnyOf([property].into_iter().collect()))
        .spawn_bfs()
        .join();
    let path = checker
        .discovery(property)
        .unwrap_or_else(|| panic!("the broken twin must break {property:?}"));
    let (actions, _) = models::first_violation(checker.model(), property, path);
    println!("counterexample for {property:?} ({} steps):", actions.len());
    for (i, a) in actions.iter().enumerate() {
        println!("  {:>2}. {a:?}", i + 1);
    }
    actions
}

#[test]
fn sequencer_that_forgets_its_reservation_reissues_numbers() {
    use sequencer_crash::{Action, SequencerCrash};
    let model = SequencerCrash::default().broken_if(true);
    let actions = refute(model.into_checker(), "sequence numbers never repeat");
    // Some append, then a crash and a restart, and the first append after it repeats a number.
    let restart = actions.iter().position(|a| *a == Action::Restart);
    assert!(
        restart.is_some_and(|r| r + 2 == actions.len()),
        "{actions:?}"
    );
    assert!(matches!(actions.last(), Some(Action::Append(_))));
    assert!(matches!(actions.first(), Some(Action::Append(_))));
    assert!(actions.len() <= 8);
}
