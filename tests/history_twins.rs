//! Every twin that only concurrency or a fault can expose is caught by the history checker,
//! with its anomaly class, from a real bounded run of the concurrent runner. The sequential
//! suite passes the service twins (`tests/concurrent_twins.rs`); the client twins are defects of
//! a producer or consumer, which no request-by-request check of the service can see.

use seqcheck::driver::{self, DriverConfig, DriverTwin, NoProgress, Target};
use seqcheck::history::{
    AnomalyClass, CheckOptions, Event, EventType, HistoryWriter, Op, Report, check_files,
};
use seqcheck::mutants::concurrent::{ConcurrentTwin, build};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqcheck-twins-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("run dir");
    dir
}

fn config(name: &str, dir: &Path) -> DriverConfig {
    let mut c = DriverConfig::new(name, dir.to_path_buf());
    c.shards = 2;
    c.producers = 4;
    c.consumers = 2;
    c.duration = Duration::from_secs(4);
    c.max_ops = 3_000;
    c.seed = 5;
    c.final_read_limit = Duration::from_secs(60);
    c
}

/// Runs the workload, with `alongside` running next to it on the same history, and checks the
/// history.
fn run_and_check(
    config: &DriverConfig,
    target: &Target,
    alongside: impl FnOnce(&HistoryWriter, &AtomicBool) + Send,
) -> Report {
    let path = config.run_dir.join("history.jsonl");
    let history = HistoryWriter::create(&path, None).expect("history file");
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let side = scope.spawn(|| alongside(&history, &done));
        let summary = driver::run(config, target, &history, &NoProgress);
        done.store(true, Ordering::SeqCst);
        side.join().expect("the side thread ended");
        println!("{}", summary.expect("the run completes"));
    });
    history.flush().expect("history flushed");
    drop(history);
    check_files(&[path], &CheckOptions::default()).expect("history readable")
}

fn count(report: &Report, class: AnomalyClass) -> u64 {
    report
        .classes
        .iter()
        .find(|c| c.class == class)
        .map_or(0, |c| c.count)
}

/// The report found `class` at least once; prints its first example (the counterexample).
fn assert_caught(what: &str, report: &Report, classes: &[AnomalyClass]) {
    let found: Vec<_> = classes.iter().filter(|&&c| count(report, c) > 0).collect();
    assert!(
        !found.is_empty(),
        "{what} escaped: none of {classes:?} was reported; classes found: {:?}",
        report
            .classes
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| (c.class, c.count))
            .collect::<Vec<_>>()
    );
    for class in found {
        let c = report
            .classes
            .iter()
            .find(|c| c.class == *class)
            .expect("listed");
        println!("{what}: {} × {:?}", c.count, c.class);
        if let Some(example) = c.examples.first() {
            println!("  e.g. {} (events {:?})", example.detail, example.events);
        }
    }
}

fn nothing(_: &HistoryWriter, _: &AtomicBool) {}

#[test]
fn racing_puts_given_one_number_are_an_inconsistent_record() {
    let dir = run_dir("racing");
    let twin = build(ConcurrentTwin::RacingPutsShareNumber);
    let report = run_and_check(
        &config("racing", &dir),
        &Target::direct(twin.service),
        nothing,
    );
    assert_caught(
        "RacingPutsShareNumber",
        &report,
        &[AnomalyClass::InconsistentRecord, AnomalyClass::AckMismatch],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_record_shown_and_later_lost_breaks_the_read_chain() {
    let dir = run_dir("lose");
    let twin = build(ConcurrentTwin::ReadRacingWriteLosesRecord);
    let report = run_and_check(
        &config("lose", &dir),
        &Target::direct(twin.service),
        nothing,
    );
    assert_caught(
        "ReadRacingWriteLosesRecord",
        &report,
        &[AnomalyClass::IteratorChain, AnomalyClass::LostWrite],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Kills and restarts the in-process service every 400 ms while the workload runs, writing
/// each kill and restart into the history as the nemesis would.
fn kill_loop(
    switch: &seqcheck::mutants::concurrent::CrashSwitch,
) -> impl FnOnce(&HistoryWriter, &AtomicBool) + Send + '_ {
    move |history, done| {
        let record = |kind, f| {
            let mut e = Event::new("nemesis", kind, f, 0, 0);
            e.target = Some("service".into());
            history.record(e).expect("recorded");
        };
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(400));
            record(EventType::Invoke, Op::Kill);
            switch.kill();
            record(EventType::Ok, Op::Kill);
            std::thread::sleep(Duration::from_millis(50));
            record(EventType::Invoke, Op::Restart);
            switch.restart();
            record(EventType::Ok, Op::Restart);
        }
    }
}

#[test]
fn acknowledging_before_persisting_loses_records_across_a_crash() {
    let dir = run_dir("persist");
    let twin = build(ConcurrentTwin::AckBeforePersist);
    let switch = twin.crash.expect("a crashable twin");
    let report = run_and_check(
        &config("persist", &dir),
        &Target::direct(Arc::clone(&twin.service)),
        kill_loop(&switch),
    );
    assert!(switch.lost() > 0, "the kills lost nothing");
    assert_caught(
        "AckBeforePersist",
        &report,
        &[AnomalyClass::LostAcrossCrash],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_kills_of_a_service_that_persists_first_lose_nothing() {
    let dir = run_dir("persist-control");
    let (service, switch) = seqcheck::mutants::concurrent::crashable(
        seqcheck::mutants::concurrent::Persistence::BeforeAcknowledgement,
    );
    let report = run_and_check(
        &config("persist-control", &dir),
        &Target::direct(service),
        kill_loop(&switch),
    );
    assert_eq!(switch.lost(), 0);
    for c in &report.classes {
        if c.class.is_violation() {
            assert_eq!(c.count, 0, "{:?}: {:?}", c.class, c.examples.first());
        }
    }
    assert_eq!(report.verdict, seqcheck::history::Verdict::Valid);
    assert!(report.coverage.kills > 0);
}

fn client_twin(name: &str, twin: DriverTwin, tweak: impl Fn(&mut DriverConfig)) -> Report {
    let dir = run_dir(name);
    let mut c = config(name, &dir);
    c.twin = Some(twin);
    tweak(&mut c);
    let service: Arc<dyn seqcheck::StreamService> = Arc::new(seqcheck::MemoryStream::default());
    let report = if c.net_faults {
        let proxied = driver::Proxied::serve(service).expect("served behind a proxy");
        let target = proxied.target(None);
        let report = run_and_check(&c, &target, nothing);
        drop(target);
        proxied.stop();
        report
    } else {
        run_and_check(&c, &Target::direct(service), nothing)
    };
    let _ = std::fs::remove_dir_all(&dir);
    report
}

#[test]
fn a_consumer_that_checkpoints_before_processing_loses_records_when_killed() {
    let report = client_twin("ckpt-first", DriverTwin::CheckpointBeforeProcess, |c| {
        c.kill_consumers = true;
        c.nemesis_interval = Duration::from_millis(300);
    });
    assert_caught(
        "CheckpointBeforeProcess",
        &report,
        &[AnomalyClass::UnprocessedBeforeCheckpoint],
    );
}

#[test]
fn a_consumer_that_starts_children_early_processes_them_before_their_parent_ends() {
    let report = client_twin("children-early", DriverTwin::ChildrenBeforeParentEnd, |c| {
        // Reshards often enough that children exist while parents still hold records, however
        // fast the build runs through the operation budget.
        c.reshard = true;
        c.reshard_interval = Duration::from_millis(50);
    });
    assert_caught(
        "ChildrenBeforeParentEnd",
        &report,
        &[AnomalyClass::ChildBeforeParent],
    );
}

#[test]
fn a_producer_that_retries_without_recording_it_shows_an_illegal_duplicate() {
    let report = client_twin("unrecorded-retry", DriverTwin::UnrecordedRetry, |c| {
        c.net_faults = true;
        c.nemesis_interval = Duration::from_millis(300);
        c.duration = Duration::from_secs(6);
    });
    assert_caught("UnrecordedRetry", &report, &[AnomalyClass::Duplicate]);
}
