//! The history checker against synthesised histories: a clean one checks valid, and a broken
//! twin of each anomaly class is reported with that class, its count and its example events.

use seqcheck::history::check::CheckOptions;
use seqcheck::history::report::{AnomalyClass, Report, Verdict};
use seqcheck::history::synth::{generate, SynthConfig};
use seqcheck::history::{check_events, Event, EventRef};

fn refs(events: Vec<Event>) -> impl Iterator<Item = (EventRef, Event)> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| (EventRef { file: 0, line: i as u64 + 1 }, e))
}

fn check(cfg: &SynthConfig, opts: &CheckOptions) -> (Vec<Event>, Report) {
    let events = generate(cfg);
    let report = check_events(refs(events.clone()), opts);
    (events, report)
}

fn count(r: &Report, class: AnomalyClass) -> u64 {
    r.classes.iter().find(|c| c.class == class).map_or(0, |c| c.count)
}

fn violations_except(r: &Report, class: AnomalyClass) -> Vec<(AnomalyClass, u64)> {
    r.classes
        .iter()
        .filter(|c| c.class != class && c.class.is_violation() && c.count > 0)
        .map(|c| (c.class, c.count))
        .collect()
}

fn cfg(inject: Option<AnomalyClass>) -> SynthConfig {
    SynthConfig {
        seed: 7,
        events: 6_000,
        inject,
        ..SynthConfig::default()
    }
}

#[test]
fn a_clean_history_with_resharding_retries_and_kills_is_valid() {
    for seed in 1..=4 {
        let c = SynthConfig { seed, ..cfg(None) };
        let (_, r) = check(&c, &CheckOptions::default());
        let bad: Vec<_> = r.classes.iter().filter(|c| c.class.is_violation() && c.count > 0).collect();
        assert!(bad.is_empty(), "seed {seed}: {bad:#?}");
        assert_eq!(r.verdict, Verdict::Valid, "seed {seed}");
        assert!(r.coverage.kills >= 1 && r.coverage.consumer_kills >= 1 && r.coverage.shards > 2);
        assert!(count(&r, AnomalyClass::RetryDuplicate) > 0 || seed > 1, "retries that were applied twice");
        println!("seed {seed}: {:?}\n  unknown {:?}\n  lag {:?}", r.coverage, r.unknown_outcomes, r.lag);
    }
}

#[test]
fn an_empty_history_is_unchecked() {
    let r = check_events(Vec::new(), &CheckOptions::default());
    assert_eq!(r.verdict, Verdict::Unchecked);
    assert_eq!(r.classes.len(), 17, "every class is listed");
    assert!(r.classes.iter().all(|c| c.count == 0));
}

fn twin(class: AnomalyClass, expected: u64) {
    twin_with(cfg(Some(class)), class, expected);
}

fn twin_with(c: SynthConfig, class: AnomalyClass, expected: u64) {
    let (events, r) = check(&c, &CheckOptions::default());
    let row = r.classes.iter().find(|c| c.class == class).expect("listed");
    println!("{class:?}: {} found", row.count);
    for a in &row.examples {
        println!("  {}", a.detail);
        for e in &a.events {
            let line = events
                .get((e.line as usize).wrapping_sub(1))
                .map(|ev| serde_json::to_string(ev).unwrap_or_default())
                .unwrap_or_default();
            println!("    line {}: {line}", e.line);
        }
    }
    assert_eq!(row.count, expected, "{class:?}");
    assert!(!row.examples.is_empty() && !row.examples[0].events.is_empty());
    assert_eq!(violations_except(&r, class), vec![], "only {class:?}");
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn lost_write_twin() {
    // Without a crash: a write lost before a crash is classified lost-across-crash.
    let c = SynthConfig {
        crashes: 0,
        ..cfg(Some(AnomalyClass::LostWrite))
    };
    twin_with(c, AnomalyClass::LostWrite, 1);
}

#[test]
fn lost_across_crash_twin() {
    twin(AnomalyClass::LostAcrossCrash, 1);
}

#[test]
fn duplicate_twin() {
    twin(AnomalyClass::Duplicate, 1);
}

#[test]
fn phantom_twin() {
    twin(AnomalyClass::Phantom, 1);
}

#[test]
fn ack_mismatch_twin() {
    twin(AnomalyClass::AckMismatch, 1);
}

#[test]
fn inconsistent_record_twin() {
    twin(AnomalyClass::InconsistentRecord, 1);
}

#[test]
fn iterator_chain_twin() {
    // Without a crash: a record skipped by the first read after a restart is lost across it.
    let c = SynthConfig {
        crashes: 0,
        ..cfg(Some(AnomalyClass::IteratorChain))
    };
    twin_with(c, AnomalyClass::IteratorChain, 1);
}

#[test]
fn snfo_violation_twin() {
    twin(AnomalyClass::SnfoViolation, 1);
}

#[test]
fn cross_reshard_order_twin() {
    twin(AnomalyClass::CrossReshardOrder, 1);
}

#[test]
fn unprocessed_before_checkpoint_twin() {
    twin(AnomalyClass::UnprocessedBeforeCheckpoint, 1);
}

#[test]
fn illegal_reprocessing_twin() {
    twin(AnomalyClass::IllegalReprocessing, 1);
}

#[test]
fn child_before_parent_twin() {
    twin(AnomalyClass::ChildBeforeParent, 1);
}

#[test]
fn key_order_twin() {
    twin(AnomalyClass::KeyOrder, 1);
}

#[test]
fn checkpoint_backwards_twin() {
    twin(AnomalyClass::CheckpointBackwards, 1);
}

#[test]
fn malformed_history_twin() {
    twin(AnomalyClass::MalformedHistory, 1);
}
