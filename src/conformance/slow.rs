//! Slow checks: fixed scenarios that need minutes of the implementation's time, run only on
//! request (`seqcheck check --slow`). They are ordinary cases of [`Op`]s driven by the
//! [`Executor`], so every response goes through [`crate::Model::observe`] with its request's
//! time window, as in the generated areas. [`Op::Hold`] advances the clock of an implementation
//! with clock control (the check takes milliseconds) and waits in real time on any other.
//!
//! The one slow check is iterator expiry (P13), which a live endpoint's cases never reach: it
//! takes two iterators at once and uses the first after [`VALID_HOLD_MS`] (it must still
//! work and return the record) and the second just past the lifetime plus the model's clock
//! tolerance (it must be expired). The holds overlap, so the check takes about 5 minutes of
//! real time, not the sum of both.

use super::Area;
use super::exec::{Action, CaseRun, Executor, Stop};
use super::ops::{DataGen, IterRef, KeyGen, NameRef, Op, Position, ShardRef};
use super::report::{
    AreaReport, AreaStatus, Counterexample, Divergence, EarlyEnd, FindingKind, render_steps,
};
use super::runner::{Factory, RunConfig};
use crate::api::{Outcome, Reply, Request};
use crate::model::{ITERATOR_TTL_MS, LATE_ITERATOR_USE_MS, Property, Violation};
use std::fmt;
use std::time::Instant;

/// How long the iterator that must still be valid is held before it is used.
pub const VALID_HOLD_MS: u64 = 290_000;
/// How far past its lifetime plus the clock tolerance the other iterator is used.
pub const EXPIRED_MARGIN_MS: u64 = 1_000;

// A use after the valid hold must count as Expiry evidence (see `LATE_ITERATOR_USE_MS`).
const _: () = assert!(VALID_HOLD_MS >= LATE_ITERATOR_USE_MS && VALID_HOLD_MS < ITERATOR_TTL_MS);

/// A check that needs minutes of the implementation's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SlowCheck {
    /// P13 in real time: an iterator used [`VALID_HOLD_MS`] after issue works, one used past
    /// 300 s (plus the clock tolerance) is expired.
    #[serde(rename = "expiry (slow)")]
    Expiry,
}

impl SlowCheck {
    /// Every slow check, in report order.
    pub const ALL: [SlowCheck; 1] = [SlowCheck::Expiry];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            SlowCheck::Expiry => "expiry (slow)",
        }
    }

    /// The area whose properties it judges (named in its counterexamples; its recorded
    /// divergences apply).
    pub fn area(self) -> Area {
        match self {
            SlowCheck::Expiry => Area::Iterators,
        }
    }

    /// The properties it gives evidence for.
    pub fn targets(self) -> &'static [Property] {
        match self {
            SlowCheck::Expiry => &[Property::Expiry],
        }
    }

    /// How much of the implementation's time the check lets pass, for a model with clock
    /// tolerance `tolerance_ms` (the real time it takes against a live endpoint, set-up aside).
    pub fn hold_ms(self, tolerance_ms: u64) -> u64 {
        expiry_holds(tolerance_ms).1
    }
}

impl fmt::Display for SlowCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl super::Scope for SlowCheck {
    fn targets(self) -> &'static [Property] {
        SlowCheck::targets(self)
    }
}

/// The result of a slow check: a row of the run report shaped like an area's (one case).
pub type SlowReport = AreaReport<SlowCheck>;

/// The ages at which the expiry scenario uses its two iterators, for a model with clock
/// tolerance `tolerance_ms`: (must be valid, must be expired). The second is past the
/// lifetime by more than the tolerance, so the model judges it rather than admitting both
/// answers.
pub fn expiry_holds(tolerance_ms: u64) -> (u64, u64) {
    (
        VALID_HOLD_MS,
        ITERATOR_TTL_MS + tolerance_ms + EXPIRED_MARGIN_MS,
    )
}

/// The expiry scenario as a case (initial shard count, operations): put a record, take two
/// TRIM_HORIZON iterators, hold both; use the first after the valid hold, the second after
/// the expired one. The holds overlap: the second [`Op::Hold`] is only the difference.
pub fn expiry_case(tolerance_ms: u64) -> (i64, Vec<Op>) {
    let (valid, expired) = expiry_holds(tolerance_ms);
    let iterator = || Op::Iterator {
        stream: NameRef::Slot(0),
        shard: ShardRef::Known(0),
        position: Position::TrimHorizon,
    };
    // `Returned(1)` is the second most recent iterator: before the first read that is the
    // first iterator; after it (which handed out a NextShardIterator) it is the second.
    let read_held = || Op::Read {
        iterator: IterRef::Returned(1),
        limit: None,
    };
    let ops = vec![
        Op::Put {
            stream: NameRef::Slot(0),
            key: KeyGen::Pool(0),
            data: DataGen::Small(16),
            ehk: None,
            ordering: None,
        },
        iterator(),
        iterator(),
        Op::Hold { ms: valid },
        read_held(),
        Op::Hold {
            ms: expired - valid,
        },
        read_held(),
    ];
    (1, ops)
}

/// Runs `check` once against an implementation `factory` makes, with `cfg`'s model, stream
/// name prefix, expectations and replay command; `on_hold` is told the milliseconds that
/// pass during the holds (for a progress bar).
///
/// Guarantees: it creates only streams named after `cfg.name_prefix` and deletes them at the
/// end (nothing else is touched); it takes at most the holds plus the executor's bounded
/// polls and request timeouts; it is failed only on an unrecorded violation in its
/// transcript, passed only when both uses of a held iterator were judged for Expiry by the
/// model and the valid one returned the record, and indeterminate otherwise (never retried:
/// a replay would take another 5 minutes).
pub fn run_slow_check(
    factory: &Factory<'_>,
    check: SlowCheck,
    cfg: &RunConfig,
    on_hold: &dyn Fn(u64),
) -> SlowReport {
    let start = Instant::now();
    let tolerance = cfg.model.clock_tolerance_ms;
    let (valid, expired) = expiry_holds(tolerance);
    if valid + tolerance >= ITERATOR_TTL_MS {
        let reason = format!(
            "a clock tolerance of {tolerance} ms leaves no age at which an iterator held \
             {valid} ms must still be valid"
        );
        return SlowReport::empty(check, AreaStatus::Indeterminate { reason });
    }
    let service = factory();
    let prefix = format!("{}-slow-{}", cfg.name_prefix, check.area().name());
    let (shards, ops) = expiry_case(tolerance);
    let run = Executor::new(service.as_ref(), cfg.model.clone(), &prefix)
        .recognising(&cfg.expectations, check.area())
        .reporting_holds(on_hold)
        .run(shards, &ops);
    let replay = format!(
        "{} --slow --areas {} --cases 1",
        cfg.replay_command,
        check.area().name()
    );
    let counterexample = |violation: Violation, steps: &[super::exec::Step]| Counterexample {
        area: check.area(),
        scenario: Some(check.name().to_owned()),
        implementation: service.name(),
        seed: cfg.seed,
        kind: FindingKind::Violation,
        violation,
        steps: render_steps(steps),
        replay: replay.clone(),
    };
    let status = match &run.stop {
        Some(Stop::Violation(v)) => AreaStatus::Failed {
            findings: vec![counterexample(v.clone(), &run.steps)],
        },
        Some(stop @ (Stop::Indeterminate(_) | Stop::Departed { .. })) => {
            AreaStatus::Indeterminate {
                reason: stop.reason(),
            }
        }
        None => judged(&run, valid, expired),
    };
    let divergences = divergences(&run, cfg, &|v, steps| counterexample(v, steps));
    let mut report = SlowReport::empty(check, status);
    report.cases = 1;
    report.runs = 1;
    report.completed_cases = u64::from(run.completed());
    if let Some(stop) = &run.stop {
        report.ended_early = vec![EarlyEnd {
            reason: stop.reason(),
            cases: 1,
        }];
    }
    if matches!(report.status, AreaStatus::Indeterminate { .. }) {
        report.indeterminate_cases = 1;
        report.first_indeterminate = render_steps(&run.steps);
    }
    report.distinct_findings = report.findings().len() as u64;
    report.ops = run
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Call(..)))
        .count() as u64;
    report.skipped_ops = run.skipped as u64;
    report.divergences = divergences;
    report.checks = run.checks;
    report.seconds = start.elapsed().as_secs_f64();
    report
}

/// The verdict of a case that ran to its end: passed only when both held iterators were
/// judged for Expiry and the one held `valid` ms returned the record.
fn judged(run: &CaseRun, valid: u64, expired: u64) -> AreaStatus {
    let reads: Vec<&Outcome> = run
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Call(Request::GetRecords(_), outcome) => Some(outcome),
            _ => None,
        })
        .collect();
    let expiry_checks = run.checks.get(Property::Expiry);
    match reads.first() {
        Some(Ok(Reply::Records(page))) if page.records.is_empty() => AreaStatus::Indeterminate {
            reason: format!(
                "the iterator held {valid} ms answered an empty page: admissible (Kinesis may \
                 return fewer records than it has), but the record it had to reach was not shown"
            ),
        },
        _ if expiry_checks >= 2 => AreaStatus::Passed,
        _ => AreaStatus::Indeterminate {
            reason: format!(
                "Expiry was judged {expiry_checks} of 2 times: the uses after {valid} ms and \
                 {expired} ms were not both answered definitely (an answer the model admits \
                 without judging it, such as throttling, or a missing iterator)"
            ),
        },
    }
}

/// The recorded divergences `run` showed, each with its transcript cut at the first response
/// that matched it.
fn divergences(
    run: &CaseRun,
    cfg: &RunConfig,
    counterexample: &dyn Fn(Violation, &[super::exec::Step]) -> Counterexample,
) -> Vec<Divergence> {
    let mut seen: Vec<Divergence> = Vec::new();
    for hit in &run.divergences {
        if let Some(d) = seen.iter_mut().find(|d| d.id == hit.id) {
            d.hits += 1;
            continue;
        }
        let shown = cfg
            .expectations
            .divergences
            .iter()
            .find(|k| k.id == hit.id)
            .map(|known| {
                let violation = Violation::new(
                    known.property,
                    format!("recorded divergence `{}`: {}", known.id, known.what_differs),
                );
                counterexample(violation, &run.steps[..hit.step.min(run.steps.len())])
            });
        seen.push(Divergence {
            id: hit.id.clone(),
            counterexample: shown,
            cases: 1,
            hits: 1,
        });
    }
    seen
}
