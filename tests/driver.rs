//! The concurrent workload runner, end to end against the embedded service: short, bounded
//! runs (a few seconds, a few thousand calls at most) whose histories are read back and
//! checked for form. Nothing here asserts on timing.

use seqcheck::driver::{self, DriverConfig, NoProgress, RunSummary, Target};
use seqcheck::history::io::read_events;
use seqcheck::history::{Event, EventType, HistoryWriter, Op};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqcheck-driver-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("run dir");
    dir
}

fn small_config(name: &str, dir: &Path) -> DriverConfig {
    let mut c = DriverConfig::new(name, dir.to_path_buf());
    c.shards = 2;
    c.producers = 2;
    c.consumers = 2;
    c.duration = Duration::from_secs(3);
    c.max_ops = 2_000;
    c.seed = 11;
    c.final_read_limit = Duration::from_secs(60);
    c
}

fn run_and_read(config: &DriverConfig, target: &Target) -> (RunSummary, Vec<Event>) {
    let path = config.run_dir.join("history.jsonl");
    let history = HistoryWriter::create(&path, None).expect("history file");
    let summary = driver::run(config, target, &history, &NoProgress).expect("the run completes");
    drop(history);
    let events: Vec<Event> = read_events(&path)
        .expect("history readable")
        .map(|r| r.expect("every line is an event").1)
        .collect();
    (summary, events)
}

/// Every invoke is followed by exactly one completion of the same `f` in its process before
/// the process's next invoke, and nothing is left pending; `mono_ns` never decreases.
fn assert_well_formed(events: &[Event]) {
    let mut pending: HashMap<&str, Op> = HashMap::new();
    let mut last_ns = 0;
    for (i, e) in events.iter().enumerate() {
        assert!(e.mono_ns >= last_ns, "line {}: mono_ns went back", i + 1);
        last_ns = e.mono_ns;
        match e.kind {
            EventType::Invoke => {
                let prev = pending.insert(&e.process, e.f);
                assert!(
                    prev.is_none(),
                    "line {}: {} invoked {:?} with {:?} pending",
                    i + 1,
                    e.process,
                    e.f,
                    prev
                );
            }
            _ => {
                let open = pending.remove(e.process.as_str());
                assert_eq!(
                    open,
                    Some(e.f),
                    "line {}: {} completed {:?} without its invoke",
                    i + 1,
                    e.process,
                    e.f
                );
            }
        }
    }
    assert!(pending.is_empty(), "operations left pending: {pending:?}");
}

/// Each payload belongs to one logical put: one process, attempts 1, 2, … in order, and it
/// is one the runner writes (its checksum matches).
fn assert_unique_payloads(events: &[Event]) -> usize {
    let mut attempts: HashMap<String, (String, u32)> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == EventType::Invoke) {
        let payloads: Vec<String> = match e.f {
            Op::PutRecord => e.data.iter().cloned().collect(),
            Op::PutRecords => e
                .entries
                .iter()
                .flatten()
                .filter_map(|x| x.data.clone())
                .collect(),
            _ => continue,
        };
        let attempt = e.attempt.expect("puts carry their attempt");
        for p in payloads {
            let (process, _) = driver::payload::parse(&p).expect("a payload of the runner");
            assert_eq!(process, e.process, "{p} put by another process");
            match attempts.get(&p) {
                None => assert_eq!(attempt, 1, "{p}: first seen at attempt {attempt}"),
                Some((who, a)) => {
                    assert_eq!(who, &e.process);
                    assert!(attempt > *a, "{p}: attempt {attempt} after {a}");
                }
            }
            attempts.insert(p, (e.process.clone(), attempt));
        }
    }
    attempts.len()
}

/// Payloads acknowledged to producers (`ok` puts, successful entries).
fn acknowledged(events: &[Event]) -> HashSet<String> {
    let mut last_invoke: HashMap<&str, &Event> = HashMap::new();
    let mut acked = HashSet::new();
    for e in events {
        if e.kind == EventType::Invoke {
            last_invoke.insert(&e.process, e);
            continue;
        }
        let Some(inv) = last_invoke.get(e.process.as_str()) else {
            continue;
        };
        if e.kind != EventType::Ok {
            continue;
        }
        match e.f {
            Op::PutRecord => acked.extend(inv.data.clone()),
            Op::PutRecords => {
                let entries = inv.entries.as_ref().expect("entries");
                let results = e.results.as_ref().expect("results");
                assert_eq!(entries.len(), results.len(), "one result per entry");
                for (entry, result) in entries.iter().zip(results) {
                    if result.seq.is_some() {
                        acked.extend(entry.data.clone());
                    }
                }
            }
            _ => {}
        }
    }
    acked
}

fn final_read_payloads(events: &[Event]) -> HashSet<String> {
    events
        .iter()
        .filter(|e| e.process == "final-read" && e.f == Op::GetRecords && e.kind == EventType::Ok)
        .flat_map(|e| e.records.iter().flatten().filter_map(|r| r.data.clone()))
        .collect()
}

fn count(events: &[Event], f: Op, kind: EventType) -> usize {
    events.iter().filter(|e| e.f == f && e.kind == kind).count()
}

#[test]
fn a_fault_free_run_writes_a_well_formed_history() {
    let dir = run_dir("plain");
    let config = small_config("plain", &dir);
    let target = Target::direct(Arc::new(seqcheck::MemoryStream::default()));
    let (summary, events) = run_and_read(&config, &target);
    println!("{summary}");
    assert_well_formed(&events);
    let logical = assert_unique_payloads(&events);
    assert!(logical > 0, "producers put records");
    assert_eq!(summary.final_read.incomplete, None);
    assert!(summary.final_read.shards_read >= 2);
    // Without faults every put is acknowledged and every acknowledged record is read back.
    let acked = acknowledged(&events);
    assert!(!acked.is_empty());
    let read = final_read_payloads(&events);
    let missing: Vec<&String> = acked.difference(&read).take(5).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not read back: {missing:?}"
    );
    assert_eq!(summary.unknown_outcomes(), 0);
    // Consumers leased, processed and checkpointed durably.
    assert!(count(&events, Op::Lease, EventType::Ok) >= 2);
    assert!(count(&events, Op::Process, EventType::Ok) > 0);
    assert!(count(&events, Op::Checkpoint, EventType::Ok) > 0);
    assert!(summary.processed() > 0 && summary.checkpoints() > 0);
    let files = std::fs::read_dir(dir.join("checkpoints").join("plain"))
        .expect("checkpoint dir")
        .count();
    assert!(files > 0, "checkpoint files on disk");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_consumer_resumes_from_its_checkpoint() {
    let dir = run_dir("kill");
    let mut config = small_config("kill", &dir);
    config.kill_consumers = true;
    config.nemesis_interval = Duration::from_millis(300);
    config.duration = Duration::from_secs(4);
    config.max_ops = 4_000;
    config.producer_pause = Duration::from_millis(5);
    let target = Target::direct(Arc::new(seqcheck::MemoryStream::default()));
    let (summary, events) = run_and_read(&config, &target);
    println!("{summary}");
    assert_well_formed(&events);
    assert_unique_payloads(&events);
    assert_eq!(summary.final_read.incomplete, None);
    let kills = count(&events, Op::KillConsumer, EventType::Ok);
    assert!(kills > 0, "the nemesis killed a consumer");
    assert_eq!(kills, count(&events, Op::RestartConsumer, EventType::Ok));
    // A dead consumer records nothing between its kill and its restart.
    let mut dead: HashSet<String> = HashSet::new();
    for e in &events {
        match (e.f, e.kind) {
            (Op::KillConsumer, EventType::Ok) => {
                let target = events
                    .iter()
                    .rev()
                    .find(|x| {
                        x.f == Op::KillConsumer
                            && x.kind == EventType::Invoke
                            && x.mono_ns <= e.mono_ns
                    })
                    .and_then(|x| x.target.clone())
                    .expect("kill target");
                dead.insert(target);
            }
            (Op::RestartConsumer, EventType::Invoke) => {
                dead.remove(e.target.as_deref().unwrap_or_default());
            }
            _ => assert!(!dead.contains(&e.process), "{} acted while dead", e.process),
        }
    }
    // Some lease was resumed: a checkpoint read back with a number, then an iterator after it.
    let mut checkpoint_of: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut last_read: HashMap<&str, String> = HashMap::new();
    let mut resumed = 0;
    for e in &events {
        let shard = e.shard.clone().unwrap_or_default();
        match (e.f, e.kind) {
            (Op::ReadCheckpoint, EventType::Invoke) => {
                last_read.insert(&e.process, shard);
            }
            (Op::ReadCheckpoint, EventType::Ok) => {
                if let (Some(seq), Some(shard)) = (&e.seq, last_read.get(e.process.as_str())) {
                    checkpoint_of.insert((e.process.clone(), shard.clone()), seq.clone());
                }
            }
            (Op::GetShardIterator, EventType::Invoke) => {
                if let Some(seq) = checkpoint_of.remove(&(e.process.clone(), shard)) {
                    assert_eq!(e.iterator_type.as_deref(), Some("AFTER_SEQUENCE_NUMBER"));
                    assert_eq!(e.start_seq.as_ref(), Some(&seq));
                    resumed += 1;
                }
            }
            _ => {}
        }
    }
    assert!(resumed > 0, "a lease resumed after its checkpoint");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "http")]
#[test]
fn network_faults_through_the_proxy_give_unknown_outcomes_and_the_run_still_completes() {
    let dir = run_dir("net");
    let mut config = small_config("net", &dir);
    config.net_faults = true;
    config.nemesis_interval = Duration::from_millis(400);
    config.duration = Duration::from_secs(5);
    config.max_ops = 3_000;
    config.producer_pause = Duration::from_millis(5);
    let service: Arc<dyn seqcheck::StreamService> = Arc::new(seqcheck::MemoryStream::default());
    let proxied = driver::Proxied::serve(service).expect("served on loopback behind a proxy");
    let target = proxied.target(None);
    let (summary, events) = run_and_read(&config, &target);
    drop(target);
    proxied.stop();
    println!("{summary}");
    assert_well_formed(&events);
    assert_unique_payloads(&events);
    let faults = count(&events, Op::NetFault, EventType::Ok);
    assert!(faults > 0, "the nemesis injected network faults");
    assert_eq!(faults, count(&events, Op::NetHeal, EventType::Ok));
    assert!(
        summary.unknown_outcomes() > 0,
        "faults made some outcomes unknown"
    );
    // Retries carry the same payload with a higher attempt (checked above) and do happen.
    assert!(events.iter().any(|e| e.attempt.is_some_and(|a| a > 1)));
    assert_eq!(summary.final_read.incomplete, None);
    // The final read comes after the last heal.
    let last_heal = events
        .iter()
        .rposition(|e| e.f == Op::NetHeal)
        .expect("a heal");
    let first_final = events
        .iter()
        .position(|e| e.process == "final-read")
        .expect("a final read");
    assert!(first_final > last_heal);
    let _ = std::fs::remove_dir_all(&dir);
}
