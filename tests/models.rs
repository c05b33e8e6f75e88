//! Exhaustive model checks at the default bounds (scale with `SEQCHECK_MODEL_SCALE`).
//!
//! Each faithful model must satisfy every property; each broken twin must be refuted on the
//! property its bug breaks, with a counterexample whose shape is checked and printed.

use std::fmt::Debug;
use std::hash::Hash;

use seqcheck::models::{
    self, ModelChoice, ModelReport, checkpointing, replicated, resharding, sequencer_crash,
};
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
    let (actions, _) =
        models::first_violation(checker.model(), property, path).expect("a non-empty path");
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

#[test]
fn resharding_keeps_the_hash_space_partitioned_and_numbers_ordered() {
    let report = check("resharding");
    pin(&report, 1161);
}

#[test]
fn a_split_parent_that_keeps_accepting_writes_is_caught() {
    use resharding::{Action, Resharding};
    let model = Resharding::default().broken_if(true);
    let actions = refute(model.into_checker(), "a closed shard never accepts a write");
    // The first shard is split, and a later put lands in it (the shortest such path has two
    // steps; stateright may report a longer one, cut at the offending put).
    assert!(
        matches!(actions.last(), Some(Action::Put(_))),
        "{actions:?}"
    );
    assert!(
        matches!(actions.first(), Some(Action::Split { shard: 0, .. })),
        "{actions:?}"
    );
    assert!(
        actions.len() <= 1 + usize::from(Resharding::default().max_reshards),
        "{actions:?}"
    );
}

#[test]
fn replicated_shard_survives_failover() {
    let report = check("replicated");
    pin(&report, 223_916);
}

#[test]
fn a_leader_without_epoch_fencing_loses_acknowledged_records() {
    use stateright::actor::ActorModelAction;
    let model = replicated::ReplicatedShard::default().broken_if(true);
    let actions = refute(
        model.into_checker(),
        "acknowledged records are never lost after failover",
    );
    // The damage is done by a message delivery (a stale log overwriting a new one, or a new
    // leader's election completing without the record).
    assert!(
        matches!(actions.last(), Some(ActorModelAction::Deliver { .. })),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, ActorModelAction::Timeout(..))),
        "no failover"
    );
}

#[test]
fn consumers_process_every_record_in_lineage_order() {
    let report = check("checkpointing");
    pin(&report, 14639);
}

#[test]
fn a_consumer_that_checkpoints_before_processing_skips_records() {
    use checkpointing::{Action, Checkpointing};
    let model = Checkpointing::default().broken_if(true);
    let actions = refute(model.into_checker(), "no record is ever skipped");
    assert!(
        matches!(
            actions.last(),
            Some(Action::Process(_) | Action::Checkpoint(_))
        ),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Crash(_) | Action::MoveLease(_))),
        "a skip needs a crash or a lease move: {actions:?}"
    );
}

#[test]
fn model_names_parse() {
    let choice: ModelChoice = "replicated --broken".parse().expect("a known name");
    assert!(choice.broken && choice.name == "replicated");
    assert!("nonsense".parse::<ModelChoice>().is_err());
    assert!(
        models::serve_explorer("nonsense", "127.0.0.1:0".parse().expect("an address")).is_err()
    );
}

#[test]
fn sequencer_and_resharding_models_hold_in_the_readable_layout_too() {
    use seqcheck::sequencer::SeqFormat;
    let crash = sequencer_crash::SequencerCrash {
        format: SeqFormat::Readable,
        ..Default::default()
    };
    let report = models::report("sequencer (readable layout)", crash.into_checker());
    println!("{report}");
    assert!(report.all_expected(), "{report}");
    let reshard = resharding::Resharding {
        format: SeqFormat::Readable,
        ..Default::default()
    };
    let report = models::report("resharding (readable layout)", reshard.into_checker());
    println!("{report}");
    assert!(report.all_expected(), "{report}");
}

#[test]
fn the_explorer_serves_a_model_on_loopback() {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};
    let addr = {
        let probe = TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("a bound address")
    };
    // Serving blocks for good; the thread ends with the test process.
    std::thread::spawn(move || models::serve_explorer("resharding --broken", addr));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut body = String::new();
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(addr) {
            stream
                .write_all(b"GET /.status HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .expect("a request sent");
            stream.read_to_string(&mut body).expect("a response");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        body.contains("200") && body.contains("resharding"),
        "{body}"
    );
}
