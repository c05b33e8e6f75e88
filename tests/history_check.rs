//! The history checker against synthesised histories: a clean one checks valid, and a broken
//! twin of each anomaly class is reported with that class, its count and its example events.

use seqcheck::history::check::CheckOptions;
use seqcheck::history::report::{AnomalyClass, Report, Verdict};
use seqcheck::history::synth::{SynthConfig, generate};
use seqcheck::history::{Event, EventRef, check_events};

fn refs(events: Vec<Event>) -> impl Iterator<Item = (EventRef, Event)> {
    events.into_iter().enumerate().map(|(i, e)| {
        (
            EventRef {
                file: 0,
                line: i as u64 + 1,
            },
            e,
        )
    })
}

fn check(cfg: &SynthConfig, opts: &CheckOptions) -> (Vec<Event>, Report) {
    let events = generate(cfg);
    let report = check_events(refs(events.clone()), opts);
    (events, report)
}

fn count(r: &Report, class: AnomalyClass) -> u64 {
    r.classes
        .iter()
        .find(|c| c.class == class)
        .map_or(0, |c| c.count)
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
        let bad: Vec<_> = r
            .classes
            .iter()
            .filter(|c| c.class.is_violation() && c.count > 0)
            .collect();
        assert!(bad.is_empty(), "seed {seed}: {bad:#?}");
        assert_eq!(r.verdict, Verdict::Valid, "seed {seed}");
        assert!(r.coverage.kills >= 1 && r.coverage.consumer_kills >= 1 && r.coverage.shards > 2);
        assert!(
            count(&r, AnomalyClass::RetryDuplicate) > 0 || seed > 1,
            "retries that were applied twice"
        );
        println!(
            "seed {seed}: {:?}\n  unknown {:?}\n  lag {:?}",
            r.coverage, r.unknown_outcomes, r.lag
        );
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

#[test]
fn read_lag_is_measured_and_a_violation_only_under_a_bound() {
    // The checker's own twin: the same history with the lag rule switched off (no bound)
    // must miss what the bound catches.
    let c = cfg(None);
    let (_, free) = check(&c, &CheckOptions::default());
    assert_eq!(count(&free, AnomalyClass::ReadLag), 0);
    assert!(
        free.lag.samples > 0 && free.lag.max_ms > 0.0,
        "{:?}",
        free.lag
    );
    let bound = CheckOptions {
        lag_bound_ms: Some(free.lag.p50_ms),
        ..CheckOptions::default()
    };
    let (_, bounded) = check(&c, &bound);
    let row = bounded
        .classes
        .iter()
        .find(|c| c.class == AnomalyClass::ReadLag)
        .expect("listed");
    println!(
        "lag {:?}; over {} ms: {}",
        free.lag, free.lag.p50_ms, row.count
    );
    if let Some(a) = row.examples.first() {
        println!("  {} at {:?}", a.detail, a.events);
    }
    assert!(row.count > 0 && row.count == bounded.lag.over_bound);
    assert_eq!(violations_except(&bounded, AnomalyClass::ReadLag), vec![]);
    assert_eq!(bounded.verdict, Verdict::Invalid);
}

fn line(json: &str) -> Event {
    serde_json::from_str(json).expect("a valid test event")
}

#[test]
fn a_hand_written_history_with_put_records_and_two_acknowledgements_of_one_number() {
    let h = [
        r#"{"v":1,"process":"p0","type":"invoke","f":"put_records","mono_ns":1,"wall_us":1,"stream":"s","entries":[{"key":"a","data":"x1"},{"key":"b","data":"x2"}],"attempt":1}"#,
        r#"{"v":1,"process":"p0","type":"ok","f":"put_records","mono_ns":2,"wall_us":2,"results":[{"shard":"sh0","seq":"10"},{"error":"ProvisionedThroughputExceededException"}]}"#,
        r#"{"v":1,"process":"p1","type":"invoke","f":"put_record","mono_ns":3,"wall_us":3,"stream":"s","key":"c","data":"y1","attempt":1}"#,
        r#"{"v":1,"process":"p1","type":"ok","f":"put_record","mono_ns":4,"wall_us":4,"shard":"sh0","seq":"010"}"#,
        r#"{"v":1,"process":"r","type":"invoke","f":"get_shard_iterator","mono_ns":5,"wall_us":5,"stream":"s","shard":"sh0","iterator_type":"TRIM_HORIZON"}"#,
        r#"{"v":1,"process":"r","type":"ok","f":"get_shard_iterator","mono_ns":6,"wall_us":6,"iterator":"i0"}"#,
        r#"{"v":1,"process":"r","type":"invoke","f":"get_records","mono_ns":7,"wall_us":7,"shard":"sh0","iterator":"i0"}"#,
        r#"{"v":1,"process":"r","type":"ok","f":"get_records","mono_ns":8,"wall_us":8,"records":[{"seq":"10","key":"a","data":"x1"}],"next_iterator":"i1","millis_behind":0,"children":[]}"#,
    ];
    let r = check_events(
        refs(h.iter().map(|l| line(l)).collect()),
        &CheckOptions::default(),
    );
    let row = r
        .classes
        .iter()
        .find(|c| c.class == AnomalyClass::InconsistentRecord)
        .expect("listed");
    println!("{:#?}", row.examples);
    assert_eq!(row.count, 1);
    let lines: Vec<u64> = row.examples[0].events.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 2, 3, 4]);
    assert_eq!(r.coverage.puts, 3);
    assert_eq!(r.coverage.acknowledged, 2);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn garbage_lines_are_reported_not_fatal() {
    let dir = std::env::temp_dir().join(format!("seqcheck-garbage-{}", std::process::id()));
    std::fs::write(&dir, "{\"v\":1,\n\nnot json\n{\"v\":2,\"process\":\"p\",\"type\":\"ok\",\"f\":\"kill\",\"mono_ns\":1,\"wall_us\":1}\n{\"v\":1,\"process\":\"p\",\"type\":\"ok\",\"f\":\"put_record\",\"mono_ns\":1,\"wall_us\":1,\"shard\":\"s\",\"seq\":\"12x\"}\n").expect("writes");
    let r = seqcheck::history::check_files(std::slice::from_ref(&dir), &CheckOptions::default())
        .expect("readable");
    let _ = std::fs::remove_file(&dir);
    let row = r
        .classes
        .iter()
        .find(|c| c.class == AnomalyClass::MalformedHistory)
        .expect("listed");
    for a in &row.examples {
        println!("{:?}: {}", a.events, a.detail);
    }
    assert_eq!(row.count, 4);
    let lines: Vec<u64> = row.examples.iter().map(|a| a.events[0].line).collect();
    assert_eq!(lines, vec![1, 3, 4, 5]);
    assert_eq!(r.verdict, Verdict::Invalid);
}
