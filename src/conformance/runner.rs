//! Drives an area's cases: generation, classification of every case (completed, ended early
//! and why), every distinct finding shrunk once, crashes and hangs told from transient faults,
//! and persistence of failing seeds as regressions.

use super::Area;
use super::exec::{CaseRun, Executor, Stop, UnknownOutcome, recurring_server_error};
use super::expectations::Expectations;
use super::findings::{Findings, fingerprint};
use super::liveness::{self, Restart, Unanswered};
use super::ops::{Op, case_strategy};
use super::regressions::{self, CaseSeed};
use super::report::{AreaReport, AreaStatus, Counterexample, Divergence, EarlyEnd, FindingKind};
use super::shrink::shrink;
use crate::model::{CheckCounts, ModelConfig, Property, Violation};
use crate::service::StreamService;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes the implementation a case runs against: a fresh one per case for in-process
/// services, a shared client for remote ones (stream names are unique per execution).
pub type Factory<'a> = dyn Fn() -> Arc<dyn StreamService> + Sync + 'a;

/// How a conformance run is set up.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Cases per area (before shrinking).
    pub cases: u32,
    /// Seed of the run; the same seed, case count and implementation replay the same cases.
    pub seed: u64,
    /// Most operations per case.
    pub max_ops: usize,
    /// Where failing seeds are saved and re-run first (`None`: not persisted).
    pub regressions: Option<PathBuf>,
    /// Model strictness for this implementation.
    pub model: ModelConfig,
    /// Prefix of stream names (keep it unique per run on shared services).
    pub name_prefix: String,
    /// Upper bound on the time spent shrinking one finding.
    pub max_shrink_ms: u32,
    /// How to replay from the command line (`--areas` and `--seed` are appended).
    pub replay_command: String,
    /// Recorded divergences to tolerate, report and continue past.
    pub expectations: Expectations,
    /// How many times a case that ended in an untyped server error (an HTTP 5xx without an
    /// error type) or an unanswered request is replayed. An untyped error at the same step
    /// every time is the implementation's deterministic answer and is judged (`ErrorMapping`);
    /// a request that goes unanswered every time while the service still answers others is a
    /// HANG. 0 judges neither.
    pub fault_replays: usize,
    /// Distinct unrecorded findings shrunk and reported per area; further distinct ones are
    /// counted only. Cases keep being generated after a finding either way.
    pub max_findings: usize,
    /// Brings the service back after a crash; without it, a crash ends the run ("not run:
    /// service down" for what remains).
    pub restart: Option<Restart>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            cases: 96,
            seed: 0x5eec_4eca,
            max_ops: 40,
            regressions: None,
            model: ModelConfig::default(),
            name_prefix: "sc".into(),
            max_shrink_ms: 60_000,
            replay_command: "cargo run --release -- check".into(),
            expectations: Expectations::default(),
            fault_replays: 2,
            max_findings: 8,
            restart: None,
        }
    }
}

/// The master generator of an area's case seeds.
fn rng_for(seed: u64, area: Area) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = area as u8;
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs `areas` in order. After a crash that could not be restarted, the areas still to come
/// are reported as not run (the service is down), never as passed.
pub fn run_areas(
    factory: &Factory<'_>,
    areas: &[Area],
    cfg: &RunConfig,
    on_case: &(dyn Fn() + Sync),
) -> Vec<AreaReport> {
    let mut reports: Vec<AreaReport> = Vec::with_capacity(areas.len());
    let mut down: Option<String> = None;
    for &area in areas {
        if let Some(why) = &down {
            reports.push(AreaReport::empty(
                area,
                AreaStatus::NotRun {
                    reason: format!("service down: {why}"),
                },
            ));
            continue;
        }
        let (report, crashed) = run_area_inner(factory, area, cfg, on_case);
        down = crashed;
        reports.push(report);
    }
    reports
}

/// Runs one area against the implementations `factory` makes; `on_case` is called after each
/// generated case (for progress bars). Cases go on past recorded divergences; every distinct
/// unrecorded finding is shrunk and reported (up to [`RunConfig::max_findings`]).
pub fn run_area(
    factory: &Factory<'_>,
    area: Area,
    cfg: &RunConfig,
    on_case: &(dyn Fn() + Sync),
) -> AreaReport {
    run_area_inner(factory, area, cfg, on_case).0
}

/// What one area's run has seen so far.
struct Tally {
    cases: u64,
    completed: u64,
    ended_early: BTreeMap<String, u64>,
    indeterminate: u64,
    first_indeterminate: Option<(String, Vec<String>)>,
    checks: CheckCounts,
    /// Per recorded divergence: where it was first seen, and how often.
    divergences: BTreeMap<String, Seen>,
}

/// A recorded divergence seen in an area's cases.
struct Seen {
    /// The first case that showed it, and the step of its first divergent response there.
    first: CaseRun,
    step: usize,
    /// Cases that showed it, and responses that matched it.
    cases: u64,
    hits: u64,
}

fn run_area_inner(
    factory: &Factory<'_>,
    area: Area,
    cfg: &RunConfig,
    on_case: &(dyn Fn() + Sync),
) -> (AreaReport, Option<String>) {
    let start = Instant::now();
    let probe = factory();
    let caps = probe.capabilities();
    let implementation = probe.name();
    drop(probe);
    if let Some(missing) = area.missing_capability(&caps) {
        let status = AreaStatus::Unsupported {
            reason: missing.into(),
        };
        return (AreaReport::empty(area, status), None);
    }
    let runs = AtomicU64::new(0);
    let ops = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    // Why the service is down for good (it crashed and could not be restarted), and the
    // crashing runs seen while shrinking other findings.
    let down: Mutex<Option<String>> = Mutex::new(None);
    let crashes: Mutex<Vec<CaseRun>> = Mutex::new(Vec::new());
    let execute_once = |shards: i64, list: &[Op]| -> CaseRun {
        if let Some(why) = lock(&down).clone() {
            return CaseRun::not_run(format!("service down: {why}"));
        }
        let n = runs.fetch_add(1, Ordering::Relaxed);
        let service = factory();
        let prefix = format!("{}-{}-{n}", cfg.name_prefix, area.name());
        let mut run = Executor::new(service.as_ref(), cfg.model.clone(), &prefix)
            .recognising(&cfg.expectations, area)
            .replaying_server_errors(cfg.fault_replays + 1)
            .run(shards, list);
        ops.fetch_add(run.steps.len() as u64, Ordering::Relaxed);
        skipped.fetch_add(run.skipped as u64, Ordering::Relaxed);
        // After an unanswered request: does the service still answer at all? If not, this
        // run is a crash; the service is restarted (or declared down) before anything else.
        if let Some(last) = liveness::unanswered(&run).cloned() {
            if !service.answers() {
                run.crashed = true;
                let why = match &cfg.restart {
                    Some(r) => r.restart().err().map(|e| {
                        format!(
                            "it stopped answering after `{}` in area {area} and could not be \
                             restarted: {e}",
                            last.request
                        )
                    }),
                    None => Some(format!(
                        "it stopped answering after `{}` in area {area} (no restart command \
                         was given)",
                        last.request
                    )),
                };
                if why.is_some() {
                    *lock(&down) = why;
                }
                lock(&crashes).push(run.clone());
            }
        }
        run
    };
    // A case that ends in an untyped server error is replayed; an error that recurs at the
    // same step every time is the implementation's answer and is judged like any other.
    let execute = |shards: i64, list: &[Op]| -> CaseRun {
        let mut run = execute_once(shards, list);
        let Some(first) = run.unknown_outcome.clone().filter(|u| u.answered) else {
            return run;
        };
        let recurs = cfg.fault_replays > 0
            && (0..cfg.fault_replays).all(|_| {
                execute_once(shards, list)
                    .unknown_outcome
                    .is_some_and(|again| {
                        again.answered
                            && again.step == first.step
                            && again.operation == first.operation
                    })
            });
        if recurs {
            run.stop = Some(Stop::Violation(recurring_server_error(
                &first,
                cfg.fault_replays + 1,
            )));
        }
        run
    };
    let strategy = case_strategy(area, cfg.max_ops);
    let tree_of = |seed: &CaseSeed| {
        let mut runner = TestRunner::new_with_rng(Config::default(), regressions::rng(seed));
        strategy.new_tree(&mut runner).ok()
    };
    let deadline = || Instant::now() + Duration::from_millis(u64::from(cfg.max_shrink_ms));
    let counterexample = |kind, violation, run: &CaseRun| Counterexample {
        area,
        implementation: implementation.clone(),
        seed: cfg.seed,
        kind,
        violation,
        steps: super::report::render_steps(&run.steps),
        replay: format!(
            "{} --areas {} --seed {} --cases {}",
            cfg.replay_command,
            area.name(),
            cfg.seed,
            cfg.cases
        ),
    };
    let save = |seed: &CaseSeed, note: &str| {
        if let Some(path) = &cfg.regressions {
            if let Err(e) = regressions::save(path, seed, note) {
                eprintln!(
                    "warning: cannot save a failing seed to {}: {e}",
                    path.display()
                );
            }
        }
    };

    let mut seeds: Vec<CaseSeed> = cfg
        .regressions
        .as_deref()
        .map(regressions::load)
        .unwrap_or_default();
    let mut master = rng_for(cfg.seed, area);
    for _ in 0..cfg.cases {
        let mut seed = [0u8; 32];
        proptest::prelude::Rng::fill_bytes(&mut master, &mut seed);
        seeds.push(seed);
    }

    let mut tally = Tally {
        cases: 0,
        completed: 0,
        ended_early: BTreeMap::new(),
        indeterminate: 0,
        first_indeterminate: None,
        checks: CheckCounts::default(),
        divergences: BTreeMap::new(),
    };
    let mut findings = Findings::new(cfg.max_findings);
    for seed in &seeds {
        let Some(mut tree) = tree_of(seed) else {
            continue;
        };
        let (shards, list) = tree.current();
        let run = execute(shards, &list);
        on_case();
        tally.cases += 1;
        tally.checks.add(&run.checks);
        let mut counted = Vec::new();
        for hit in &run.divergences {
            let entry = tally
                .divergences
                .entry(hit.id.clone())
                .or_insert_with(|| Seen {
                    first: run.clone(),
                    step: hit.step,
                    cases: 0,
                    hits: 0,
                });
            entry.hits += 1;
            if !counted.contains(&hit.id) {
                entry.cases += 1;
                counted.push(hit.id.clone());
            }
        }
        let Some(stop) = &run.stop else {
            tally.completed += 1;
            continue;
        };
        let mut reason = stop.reason();
        match stop {
            Stop::Violation(v) => {
                let key = fingerprint(v);
                if findings.is_new(&key) && findings.has_room() {
                    let same = |r: &CaseRun| {
                        r.unrecorded_violation()
                            .is_some_and(|w| fingerprint(w) == key)
                    };
                    if let Some(shrunk) = shrink(&mut tree, &execute, &same, deadline()) {
                        if let Some(v) = shrunk.unrecorded_violation().cloned() {
                            save(seed, &v.to_string());
                            findings.push(key, counterexample(FindingKind::Violation, v, &shrunk));
                        }
                    } else {
                        findings.forget(&key);
                        reason = "a violation that did not happen again when replayed \
                                  (nondeterministic)"
                            .into();
                    }
                }
            }
            Stop::Indeterminate(why) => {
                let verdict = if run.crashed {
                    Unanswered::Crash
                } else {
                    liveness::classify_unanswered(&run, cfg.fault_replays, &|| {
                        execute(shards, &list)
                    })
                };
                if verdict == Unanswered::Transient {
                    tally.indeterminate += 1;
                    if tally.first_indeterminate.is_none() {
                        tally.first_indeterminate =
                            Some((why.clone(), super::report::render_steps(&run.steps)));
                    }
                } else {
                    let kind = if verdict == Unanswered::Crash {
                        FindingKind::Crash
                    } else {
                        FindingKind::Hang
                    };
                    reason = match kind {
                        FindingKind::Crash => "CRASH (the service stopped answering)".into(),
                        _ => "HANG (a request went unanswered on every replay)".into(),
                    };
                    let operation = liveness::unanswered(&run).map_or("?", |u| u.operation);
                    let key = liveness_key(kind, operation);
                    if findings.is_new(&key) && findings.has_room() {
                        let same = |r: &CaseRun| {
                            r.crashed == (kind == FindingKind::Crash)
                                && liveness::unanswered(r).is_some_and(|u| u.operation == operation)
                        };
                        let shrunk = if lock(&down).is_none() {
                            shrink(&mut tree, &execute, &same, deadline())
                        } else {
                            None
                        };
                        let shrunk = shrunk.unwrap_or_else(|| run.clone());
                        let violation = liveness_violation(kind, &shrunk);
                        save(seed, &violation.detail);
                        findings.push(key.clone(), counterexample(kind, violation, &shrunk));
                    }
                    lock(&crashes).retain(|r| {
                        !r.crashed
                            || liveness_key(
                                FindingKind::Crash,
                                liveness::unanswered(r).map_or("?", |u| u.operation),
                            ) != key
                    });
                }
            }
            Stop::Departed { .. } => {}
        }
        *tally.ended_early.entry(reason).or_insert(0) += 1;
        // Crashes caused by replays while shrinking another finding are findings too.
        for crashed in std::mem::take(&mut *lock(&crashes)) {
            let operation = liveness::unanswered(&crashed).map_or("?", |u| u.operation);
            let key = liveness_key(FindingKind::Crash, operation);
            if findings.is_new(&key) && findings.has_room() {
                let violation = liveness_violation(FindingKind::Crash, &crashed);
                findings.push(key, counterexample(FindingKind::Crash, violation, &crashed));
            }
        }
        if lock(&down).is_some() {
            break;
        }
    }

    // Recorded divergences are not shrunk again (their files hold a shrunk counterexample):
    // each is shown in the first case that showed it, cut at the divergent response.
    let divergences = tally
        .divergences
        .into_iter()
        .map(|(id, seen)| {
            let violation = cfg
                .expectations
                .divergences
                .iter()
                .find(|d| d.id == id)
                .map(|known| {
                    Violation::new(
                        known.property,
                        format!("recorded divergence `{id}`: {}", known.what_differs),
                    )
                });
            let counterexample = violation.map(|v| {
                let mut cut = seen.first.clone();
                cut.steps.truncate(seen.step);
                counterexample(FindingKind::Violation, v, &cut)
            });
            Divergence {
                id,
                counterexample,
                cases: seen.cases,
                hits: seen.hits,
            }
        })
        .collect();

    let judged = tally.cases - tally.indeterminate;
    let nothing_judged = tally.checks.total() == 0;
    let distinct = findings.distinct();
    let found = findings.into_counterexamples();
    let status = if !found.is_empty() {
        AreaStatus::Failed { findings: found }
    } else if tally.cases == 0 {
        AreaStatus::Indeterminate {
            reason: "no case could be generated".into(),
        }
    } else if nothing_judged {
        AreaStatus::Indeterminate {
            reason: format!(
                "no property was judged on any response in {} cases (every case ended before a \
                 check: {})",
                tally.cases,
                tally
                    .ended_early
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    } else if judged == 0 || tally.indeterminate * 2 >= tally.cases {
        AreaStatus::Indeterminate {
            reason: format!(
                "{} of {} cases could not be judged; first: {}",
                tally.indeterminate,
                tally.cases,
                tally
                    .first_indeterminate
                    .as_ref()
                    .map_or("-", |(why, _)| why.as_str())
            ),
        }
    } else {
        AreaStatus::Passed
    };
    let report = AreaReport {
        area,
        status,
        cases: tally.cases,
        completed_cases: tally.completed,
        ended_early: tally
            .ended_early
            .into_iter()
            .map(|(reason, cases)| EarlyEnd { reason, cases })
            .collect(),
        runs: runs.load(Ordering::Relaxed),
        ops: ops.load(Ordering::Relaxed),
        skipped_ops: skipped.load(Ordering::Relaxed),
        indeterminate_cases: tally.indeterminate,
        first_indeterminate: tally
            .first_indeterminate
            .map(|(_, t)| t)
            .unwrap_or_default(),
        divergences,
        distinct_findings: distinct,
        checks: tally.checks,
        seconds: start.elapsed().as_secs_f64(),
    };
    (report, down.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// What makes two crashes or hangs the same finding: the kind and the operation.
fn liveness_key(kind: FindingKind, operation: &str) -> String {
    format!("{}:{operation}", kind.word())
}

/// Locks `m`, whatever a panicking holder left behind (the data stays usable).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A crash or hang stated as what Kinesis would have answered instead.
fn liveness_violation(kind: FindingKind, run: &CaseRun) -> Violation {
    let unknown = UnknownOutcome {
        step: run.steps.len(),
        operation: "?",
        request: "?".into(),
        answered: false,
        answer: String::new(),
        kinesis_answer: "?".into(),
    };
    let outcome = liveness::unanswered(run).unwrap_or(&unknown);
    let what = match kind {
        FindingKind::Crash => "the service stopped answering any request after",
        _ => "the service still answers other requests but never answered, on any replay,",
    };
    Violation::new(
        Property::ErrorMapping,
        format!(
            "{what} {}; Kinesis answers {}; request: {}",
            outcome.operation, outcome.kinesis_answer, outcome.request
        ),
    )
}
