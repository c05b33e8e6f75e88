//! Drives cases through proptest: generation, shrinking to a minimal counterexample, and
//! persistence of failing seeds as regressions.

use super::Area;
use super::exec::{CaseRun, Executor, Stop, UnknownOutcome};
use super::expectations::Expectations;
use super::ops::{Op, case_strategy};
use super::report::{AreaReport, AreaStatus, Counterexample, Divergence, render_steps};
use crate::model::{ModelConfig, Property, Violation};
use crate::service::StreamService;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
    pub regressions: Option<String>,
    /// Model strictness for this implementation.
    pub model: ModelConfig,
    /// Prefix of stream names (keep it unique per run on shared services).
    pub name_prefix: String,
    /// Upper bound on shrinking time.
    pub max_shrink_ms: u32,
    /// How to replay from the command line (`--areas` and `--seed` are appended).
    pub replay_command: String,
    /// Recorded divergences to tolerate and report.
    pub expectations: Expectations,
    /// How many times a case that ended in an untyped server error (an HTTP 5xx without an
    /// error type) is replayed. When every replay ends with the same error at the same step,
    /// the error is the implementation's deterministic answer, not a transient fault, and is
    /// judged as one (`ErrorMapping`). 0 never judges such errors.
    pub fault_replays: usize,
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
        }
    }
}

fn rng_for(seed: u64, area: Area) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = area as u8;
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs one area against the implementations `factory` makes; `on_case` is called after each
/// executed case (for progress bars). Violations recorded in `cfg.expectations` are reported
/// as divergences and the run goes on looking for new ones.
pub fn run_area(
    factory: &Factory<'_>,
    area: Area,
    cfg: &RunConfig,
    on_case: &(dyn Fn() + Sync),
) -> AreaReport {
    let start = Instant::now();
    let probe = factory();
    let caps = probe.capabilities();
    let implementation = probe.name();
    drop(probe);
    let mut report = AreaReport {
        area,
        status: AreaStatus::Passed,
        cases: 0,
        ops: 0,
        skipped_ops: 0,
        indeterminate_cases: 0,
        first_indeterminate: Vec::new(),
        divergences: Vec::new(),
        seconds: 0.0,
    };
    if let Some(missing) = area.missing_capability(&caps) {
        report.status = AreaStatus::Unsupported {
            reason: missing.into(),
        };
        return report;
    }
    let cases = AtomicU64::new(0);
    let ops = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    // How many cases were indeterminate, the first reason, and that case's transcript.
    let indeterminate = Mutex::new((0u64, None::<String>, Vec::<String>::new()));
    let seen: Mutex<Vec<SeenDivergence>> = Mutex::new(Vec::new());
    let execute_once = |shards: i64, list: &[Op]| -> CaseRun {
        let n = cases.fetch_add(1, Ordering::Relaxed);
        let service = factory();
        let prefix = format!("{}-{}-{n}", cfg.name_prefix, area.name());
        let run = Executor::new(service.as_ref(), cfg.model.clone(), &prefix)
            .avoiding(&cfg.expectations.hazards)
            .run(shards, list);
        ops.fetch_add(run.steps.len() as u64, Ordering::Relaxed);
        skipped.fetch_add(run.skipped as u64, Ordering::Relaxed);
        on_case();
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
    let config = Config {
        cases: cfg.cases,
        max_shrink_iters: 4096,
        max_shrink_time: cfg.max_shrink_ms,
        max_global_rejects: cfg.cases.saturating_mul(16).max(256),
        failure_persistence: cfg.regressions.as_ref().map(|p| {
            Box::new(FileFailurePersistence::Direct(Box::leak(
                p.clone().into_boxed_str(),
            ))) as _
        }),
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng_for(cfg.seed, area));
    let result = runner.run(&case_strategy(area, cfg.max_ops), |(shards, list)| {
        let run = execute(shards, &list);
        match run.stop {
            None => Ok(()),
            Some(Stop::Violation(v)) => match cfg.expectations.find(area, &v) {
                None => Err(TestCaseError::fail(v.to_string())),
                Some(known) => {
                    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                    match seen.iter_mut().find(|(id, ..)| *id == known.id) {
                        Some(entry) => entry.3 += 1,
                        None => seen.push((known.id.clone(), shards, list.clone(), 1)),
                    }
                    // Recorded: count it, keep the case as admitted and keep looking for new ones.
                    Ok(())
                }
            },
            Some(Stop::Indeterminate(why)) => {
                let mut slot = indeterminate.lock().unwrap_or_else(|p| p.into_inner());
                slot.0 += 1;
                if slot.1.is_none() {
                    slot.1 = Some(why.clone());
                    slot.2 = render_steps(&run.steps);
                }
                Err(TestCaseError::reject(why))
            }
        }
    });
    let deadline =
        || Instant::now() + std::time::Duration::from_millis(u64::from(cfg.max_shrink_ms));
    let counterexample = |violation, run: &CaseRun| Counterexample {
        area,
        implementation: implementation.clone(),
        seed: cfg.seed,
        violation,
        steps: render_steps(&run.steps),
        replay: format!(
            "{} --areas {} --seed {} --cases {}",
            cfg.replay_command,
            area.name(),
            cfg.seed,
            cfg.cases
        ),
    };
    let (indeterminate_count, indeterminate_why, first_indeterminate) = indeterminate
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    report.status = match result {
        Ok(()) => AreaStatus::Passed,
        Err(TestError::Abort(why)) => AreaStatus::Indeterminate {
            reason: format!(
                "{why} (last: {})",
                indeterminate_why.clone().unwrap_or_default()
            ),
        },
        Err(TestError::Fail(reason, (shards, list))) => {
            let fails = |run: &CaseRun| match &run.stop {
                Some(Stop::Violation(v)) => cfg.expectations.find(area, v).is_none(),
                _ => false,
            };
            match minimize(&execute, shards, list, &fails, deadline()) {
                Some(run) => match run.stop.clone() {
                    Some(Stop::Violation(violation)) => AreaStatus::Failed {
                        counterexample: Box::new(counterexample(violation, &run)),
                    },
                    _ => AreaStatus::Indeterminate {
                        reason: reason.to_string(),
                    },
                },
                None => AreaStatus::Indeterminate {
                    reason: format!(
                        "a violation was seen once but did not happen again when the case was replayed \
                         (the implementation is nondeterministic here): {reason}"
                    ),
                },
            }
        }
    };
    if matches!(report.status, AreaStatus::Passed)
        && indeterminate_count > 0
        && indeterminate_count >= totals(&cases) / 2
    {
        report.status = AreaStatus::Indeterminate {
            reason: indeterminate_why.unwrap_or_default(),
        };
    }
    for (id, shards, list, count) in seen.into_inner().unwrap_or_else(|p| p.into_inner()) {
        let same = |run: &CaseRun| matches!(&run.stop, Some(Stop::Violation(v)) if cfg.expectations.find(area, v).is_some_and(|k| k.id == id));
        let Some(run) = minimize(&execute, shards, list, &same, deadline()) else {
            continue;
        };
        if let Some(Stop::Violation(v)) = run.stop.clone() {
            report.divergences.push(Divergence {
                id,
                counterexample: counterexample(v, &run),
                cases: count,
            });
        }
    }
    report.cases = totals(&cases);
    report.ops = totals(&ops);
    report.skipped_ops = totals(&skipped);
    report.indeterminate_cases = indeterminate_count;
    report.first_indeterminate = first_indeterminate;
    report.seconds = start.elapsed().as_secs_f64();
    report
}

/// The violation for an untyped server error that recurred on each of `runs` runs of a case.
fn recurring_server_error(outcome: &UnknownOutcome, runs: usize) -> Violation {
    Violation::new(
        Property::ErrorMapping,
        format!(
            "{}: the same untyped server error on each of {runs} runs of this case, at the same \
             step, so not a transient fault (a Kinesis error carries a documented type): {}; \
             Kinesis answers {}; request: {}",
            outcome.operation, outcome.answer, outcome.kinesis_answer, outcome.request
        ),
    )
}

/// A recorded divergence seen in a run: its id, the first case showing it, and how often.
type SeenDivergence = (String, i64, Vec<Op>, u64);

fn totals(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Greedy one-at-a-time removal after proptest's shrinking: drops every operation whose
/// removal keeps `still_fails` true, until a fixed point or the deadline. Returns the last run
/// that still failed, or `None` when the case no longer fails at all (a nondeterministic
/// implementation).
fn minimize(
    execute: &dyn Fn(i64, &[Op]) -> CaseRun,
    shards: i64,
    mut list: Vec<Op>,
    still_fails: &dyn Fn(&CaseRun) -> bool,
    deadline: Instant,
) -> Option<CaseRun> {
    let mut last = execute(shards, &list);
    if !still_fails(&last) {
        return None;
    }
    let mut changed = true;
    while changed && Instant::now() < deadline {
        changed = false;
        let mut i = list.len();
        while i > 0 && Instant::now() < deadline {
            i -= 1;
            let mut shorter = list.clone();
            shorter.remove(i);
            let run = execute(shards, &shorter);
            if still_fails(&run) {
                list = shorter;
                last = run;
                changed = true;
            }
        }
    }
    Some(last)
}
