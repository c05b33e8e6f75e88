//! Drives an area's cases: generation, classification of every case (completed, ended early
//! and why), every distinct finding shrunk once, crashes and hangs told from transient faults,
//! and persistence of failing seeds as regressions.

use super::Area;
use super::covering::{Case, CoveringTree, covering_cases, covering_count};
use super::exec::{CaseRun, Executor, Stop, UnknownOutcome, recurring_server_error};
use super::expectations::Expectations;
use super::findings::{Findings, fingerprint};
use super::liveness::{self, Restart, Unanswered};
use super::ops::{Op, case_strategy};
use super::regressions::{self, CaseSeed};
use super::report::{AreaReport, AreaStatus, Counterexample, FindingKind};
use super::shrink::shrink;
use super::tally::Tally;
use crate::model::{ModelConfig, Property, Violation};
use crate::service::StreamService;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
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
    /// Cases per area (before shrinking), the area's covering cases included: an area runs
    /// its covering cases first, then random ones up to this count. The covering set always
    /// runs whole, so an area runs at least [`covering_count`] cases (see [`planned_cases`]).
    /// Failing seeds saved by earlier runs are re-run on top of this count.
    pub cases: u32,
    /// Seed of the run; the same seed, case count and implementation replay the same cases.
    pub seed: u64,
    /// Most operations per random case ([`super::ops_per_case`]: the validation area allows
    /// several times more).
    pub max_ops: usize,
    /// Open each area with its covering cases ([`covering_cases`]); false runs random cases
    /// only (to measure what the covering set adds).
    pub covering: bool,
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
            covering: true,
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

/// The command that replays a finding of `area` under `cfg`: the same seed, case count and
/// operation bound pick the same cases (the bound is left out when it is the default).
fn replay_line(cfg: &RunConfig, area: Area) -> String {
    let mut line = format!(
        "{} --areas {} --seed {} --cases {}",
        cfg.replay_command,
        area.name(),
        cfg.seed,
        cfg.cases
    );
    if cfg.max_ops != RunConfig::default().max_ops {
        line.push_str(&format!(" --max-ops {}", cfg.max_ops));
    }
    line
}

/// How many cases `area` runs under `cfg` (saved failing seeds not included): `cfg.cases`,
/// or the covering set when it is larger.
pub fn planned_cases(area: Area, cfg: &RunConfig) -> u64 {
    u64::from(cfg.cases).max(covering_of(area, cfg) as u64)
}

/// How many covering cases `area` opens with under `cfg`.
fn covering_of(area: Area, cfg: &RunConfig) -> usize {
    if cfg.covering {
        covering_count(area)
    } else {
        0
    }
}

/// Where one case of an area's run comes from.
enum CaseSource {
    /// A seed saved by an earlier failing run, or a fresh one.
    Seed(CaseSeed),
    /// One of the area's covering cases.
    Covering(Case),
}

/// A case's value tree, whichever its source: what the runner executes and shrinks.
type CaseTree = Box<dyn ValueTree<Value = Case>>;

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
    let run = AreaRun {
        factory,
        area,
        cfg,
        implementation,
        runs: AtomicU64::new(0),
        ops: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        down: Mutex::new(None),
        crashes: Mutex::new(Vec::new()),
    };
    let strategy = case_strategy(area, cfg.max_ops).boxed();
    let mut tally = Tally::default();
    let mut findings = Findings::new(cfg.max_findings);
    for source in run.sources() {
        let (mut tree, seed): (CaseTree, Option<CaseSeed>) = match source {
            CaseSource::Seed(seed) => {
                let mut runner =
                    TestRunner::new_with_rng(Config::default(), regressions::rng(&seed));
                let Ok(tree) = strategy.new_tree(&mut runner) else {
                    continue;
                };
                (tree, Some(seed))
            }
            CaseSource::Covering(case) => {
                tally.covering();
                (Box::new(CoveringTree::new(case)), None)
            }
        };
        let seed = seed.as_ref();
        let (shards, list) = tree.current();
        let case = run.execute(shards, &list);
        on_case();
        tally.record(&case);
        if let Some(stop) = &case.stop {
            let reason = match stop {
                Stop::Violation(v) => run.judge_violation(&mut tree, seed, v, &mut findings),
                Stop::Indeterminate(why) => {
                    run.judge_unanswered(&mut tree, seed, &case, why, &mut tally, &mut findings)
                }
                Stop::Departed { .. } => None,
            };
            tally.ended_early(reason.unwrap_or_else(|| stop.reason()));
        }
        run.collect_crashes(&mut findings);
        if lock(&run.down).is_some() {
            break;
        }
    }
    let report = AreaReport {
        runs: run.runs.load(Ordering::Relaxed),
        ops: run.ops.load(Ordering::Relaxed),
        skipped_ops: run.skipped.load(Ordering::Relaxed),
        ..tally.into_report(area, findings, &|id, first, step| {
            run.divergence_shown(id, first, step)
        })
    };
    let report = AreaReport {
        seconds: start.elapsed().as_secs_f64(),
        ..report
    };
    let down = run.down.into_inner().unwrap_or_else(|p| p.into_inner());
    (report, down)
}

/// One area's run against one implementation: how cases are executed, replayed and shrunk,
/// and the state of the service across them.
struct AreaRun<'a> {
    factory: &'a Factory<'a>,
    area: Area,
    cfg: &'a RunConfig,
    implementation: String,
    runs: AtomicU64,
    ops: AtomicU64,
    skipped: AtomicU64,
    /// Why the service is down for good (it crashed and could not be restarted).
    down: Mutex<Option<String>>,
    /// Crashing runs not yet turned into findings (e.g. seen while shrinking another one).
    crashes: Mutex<Vec<CaseRun>>,
}

impl AreaRun<'_> {
    /// The cases to run: saved failures first, then the covering cases, then fresh seeds
    /// up to `cases` in all (covering cases included). Fresh seeds do not depend on how many
    /// covering cases there are: the n-th random case of a seed is the same either way.
    fn sources(&self) -> Vec<CaseSource> {
        let mut sources: Vec<CaseSource> = self
            .cfg
            .regressions
            .as_deref()
            .map(regressions::load)
            .unwrap_or_default()
            .into_iter()
            .map(CaseSource::Seed)
            .collect();
        let covering = if self.cfg.covering {
            covering_cases(self.area)
        } else {
            Vec::new()
        };
        let random = (self.cfg.cases as usize).saturating_sub(covering.len());
        sources.extend(covering.into_iter().map(CaseSource::Covering));
        let mut master = rng_for(self.cfg.seed, self.area);
        for _ in 0..random {
            let mut seed = [0u8; 32];
            proptest::prelude::Rng::fill_bytes(&mut master, &mut seed);
            sources.push(CaseSource::Seed(seed));
        }
        sources
    }

    /// Runs one case once. After an unanswered request it asks the service whether it still
    /// answers; if not, the run is a crash and the service is restarted (or declared down)
    /// before anything else is sent.
    fn execute_once(&self, shards: i64, list: &[Op]) -> CaseRun {
        if let Some(why) = lock(&self.down).clone() {
            return CaseRun::not_run(format!("service down: {why}"));
        }
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        let service = (self.factory)();
        let prefix = format!("{}-{}-{n}", self.cfg.name_prefix, self.area.name());
        let mut run = Executor::new(service.as_ref(), self.cfg.model.clone(), &prefix)
            .recognising(&self.cfg.expectations, self.area)
            .replaying_server_errors(self.cfg.fault_replays + 1)
            .run(shards, list);
        self.ops
            .fetch_add(run.steps.len() as u64, Ordering::Relaxed);
        self.skipped
            .fetch_add(run.skipped as u64, Ordering::Relaxed);
        if let Some(last) = liveness::unanswered(&run).cloned() {
            if !service.answers() {
                run.crashed = true;
                let after = format!(
                    "it stopped answering after `{}` in area {}",
                    last.request, self.area
                );
                let why = match &self.cfg.restart {
                    Some(r) => r
                        .restart()
                        .err()
                        .map(|e| format!("{after} and could not be restarted: {e}")),
                    None => Some(format!("{after} (no restart command was given)")),
                };
                if why.is_some() {
                    *lock(&self.down) = why;
                }
                lock(&self.crashes).push(run.clone());
            }
        }
        run
    }

    /// Runs one case; a case that ends in an untyped server error is replayed, and an error
    /// that recurs at the same step every time is the implementation's answer, judged like
    /// any other.
    fn execute(&self, shards: i64, list: &[Op]) -> CaseRun {
        let mut run = self.execute_once(shards, list);
        let Some(first) = run.unknown_outcome.clone().filter(|u| u.answered) else {
            return run;
        };
        let replays = self.cfg.fault_replays;
        let recurs = replays > 0
            && (0..replays).all(|_| {
                self.execute_once(shards, list)
                    .unknown_outcome
                    .is_some_and(|again| {
                        again.answered
                            && again.step == first.step
                            && again.operation == first.operation
                    })
            });
        if recurs {
            run.stop = Some(Stop::Violation(recurring_server_error(&first, replays + 1)));
        }
        run
    }

    /// Shrinks `tree`'s case while `still_fails`, within the shrink time budget.
    fn shrink<T>(&self, tree: &mut T, still_fails: &dyn Fn(&CaseRun) -> bool) -> Option<CaseRun>
    where
        T: ValueTree<Value = (i64, Vec<Op>)>,
    {
        let deadline = Instant::now() + Duration::from_millis(u64::from(self.cfg.max_shrink_ms));
        shrink(tree, &|s, l| self.execute(s, l), still_fails, deadline)
    }

    /// An unrecorded violation: shrunk and kept when it is a new distinct finding. Returns the
    /// reason the case ended, when it differs from the stop's own.
    fn judge_violation<T>(
        &self,
        tree: &mut T,
        seed: Option<&CaseSeed>,
        violation: &Violation,
        findings: &mut Findings,
    ) -> Option<String>
    where
        T: ValueTree<Value = (i64, Vec<Op>)>,
    {
        let key = fingerprint(violation);
        if !(findings.is_new(&key) && findings.has_room()) {
            return None;
        }
        let same = |r: &CaseRun| {
            r.unrecorded_violation()
                .is_some_and(|w| fingerprint(w) == key)
        };
        let Some(shrunk) = self.shrink(tree, &same) else {
            findings.forget(&key);
            return Some(format!(
                "an unrecorded {} violation that did not happen again when replayed \
                 (nondeterministic: the implementation answers differently from run to run)",
                violation.property
            ));
        };
        if let Some(v) = shrunk.unrecorded_violation().cloned() {
            self.save(seed, &v.to_string());
            findings.push(key, self.counterexample(FindingKind::Violation, v, &shrunk));
        }
        None
    }

    /// A case stopped by an unknown outcome: a CRASH, a HANG, or a transient fault that leaves
    /// the case indeterminate. Returns the reason the case ended, when it differs from the
    /// stop's own.
    fn judge_unanswered<T>(
        &self,
        tree: &mut T,
        seed: Option<&CaseSeed>,
        case: &CaseRun,
        why: &str,
        tally: &mut Tally,
        findings: &mut Findings,
    ) -> Option<String>
    where
        T: ValueTree<Value = (i64, Vec<Op>)>,
    {
        let (shards, list) = tree.current();
        let verdict = if case.crashed {
            Unanswered::Crash
        } else {
            liveness::classify_unanswered(case, self.cfg.fault_replays, &|| {
                self.execute(shards, &list)
            })
        };
        let kind = match verdict {
            Unanswered::Transient => {
                tally.indeterminate(why, case);
                return None;
            }
            Unanswered::Crash => FindingKind::Crash,
            Unanswered::Hang => FindingKind::Hang,
        };
        let operation = liveness::unanswered(case).map_or("?", |u| u.operation);
        let key = liveness_key(kind, operation);
        if findings.is_new(&key) && findings.has_room() {
            let same = |r: &CaseRun| {
                r.crashed == (kind == FindingKind::Crash)
                    && liveness::unanswered(r).is_some_and(|u| u.operation == operation)
            };
            let shrunk = if lock(&self.down).is_none() {
                self.shrink(tree, &same)
            } else {
                None
            };
            let shrunk = shrunk.unwrap_or_else(|| case.clone());
            let violation = liveness_violation(kind, &shrunk);
            self.save(seed, &violation.detail);
            findings.push(key.clone(), self.counterexample(kind, violation, &shrunk));
        }
        // The crashing runs of this shrink are this finding.
        lock(&self.crashes).retain(|r| crash_key(r) != key);
        Some(match kind {
            FindingKind::Crash => "CRASH (the service stopped answering)".into(),
            _ => "HANG (a request went unanswered on every replay)".into(),
        })
    }

    /// Crashes caused by replays while shrinking another finding are findings too.
    fn collect_crashes(&self, findings: &mut Findings) {
        for crashed in std::mem::take(&mut *lock(&self.crashes)) {
            let key = crash_key(&crashed);
            if findings.is_new(&key) && findings.has_room() {
                let violation = liveness_violation(FindingKind::Crash, &crashed);
                findings.push(
                    key,
                    self.counterexample(FindingKind::Crash, violation, &crashed),
                );
            }
        }
    }

    /// Saves a failing case's seed (a failure to write is a warning, never fatal). Covering
    /// cases have none: they run first in every run anyway.
    fn save(&self, seed: Option<&CaseSeed>, note: &str) {
        let Some(seed) = seed else {
            return;
        };
        if let Some(path) = &self.cfg.regressions {
            if let Err(e) = regressions::save(path, seed, note) {
                eprintln!(
                    "warning: cannot save a failing seed to {}: {e}",
                    path.display()
                );
            }
        }
    }

    /// `run`'s transcript as a counterexample of `kind`.
    fn counterexample(
        &self,
        kind: FindingKind,
        violation: Violation,
        run: &CaseRun,
    ) -> Counterexample {
        Counterexample {
            area: self.area,
            scenario: None,
            implementation: self.implementation.clone(),
            seed: self.cfg.seed,
            kind,
            violation,
            steps: super::report::render_steps(&run.steps),
            replay: replay_line(self.cfg, self.area),
        }
    }

    /// How a recorded divergence is shown: the first case that showed it, cut at the
    /// divergent response (recorded divergences are not shrunk again: their files hold a
    /// shrunk counterexample).
    fn divergence_shown(&self, id: &str, first: &CaseRun, step: usize) -> Option<Counterexample> {
        let known = self
            .cfg
            .expectations
            .divergences
            .iter()
            .find(|d| d.id == id)?;
        let violation = Violation::new(
            known.property,
            format!("recorded divergence `{id}`: {}", known.what_differs),
        );
        let mut cut = first.clone();
        cut.steps.truncate(step);
        Some(self.counterexample(FindingKind::Violation, violation, &cut))
    }
}

/// What makes two crashes or hangs the same finding: the kind and the operation.
fn liveness_key(kind: FindingKind, operation: &str) -> String {
    format!("{}:{operation}", kind.word())
}

/// The finding key of a crashing run.
fn crash_key(run: &CaseRun) -> String {
    liveness_key(
        FindingKind::Crash,
        liveness::unanswered(run).map_or("?", |u| u.operation),
    )
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
