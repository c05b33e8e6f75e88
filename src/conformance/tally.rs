//! What an area's cases showed, counted as they run, and the verdict it adds up to.

use super::Area;
use super::exec::CaseRun;
use super::findings::Findings;
use super::report::{AreaReport, AreaStatus, Counterexample, Divergence, EarlyEnd, VariantCount};
use crate::model::CheckCounts;
use std::collections::BTreeMap;

/// Counts of one area's generated cases (shrinking and replays not included).
#[derive(Debug, Default)]
pub struct Tally {
    cases: u64,
    completed: u64,
    ended_early: BTreeMap<String, u64>,
    indeterminate: u64,
    first_indeterminate: Option<(String, Vec<String>)>,
    checks: CheckCounts,
    divergences: BTreeMap<String, Seen>,
    covering: u64,
    sent: BTreeMap<String, u64>,
}

/// A recorded divergence seen in an area's cases.
#[derive(Debug)]
struct Seen {
    /// The first case that showed it, and the step of its first divergent response there.
    first: CaseRun,
    step: usize,
    /// Cases that showed it, and responses that matched it.
    cases: u64,
    hits: u64,
}

impl Tally {
    /// Counts a generated case: its checks, the recorded divergences it showed, and whether it
    /// ran to its last step.
    pub fn record(&mut self, run: &CaseRun) {
        self.cases += 1;
        self.checks.add(&run.checks);
        for (variant, n) in &run.sent {
            *self.sent.entry(variant.clone()).or_insert(0) += n;
        }
        let mut counted: Vec<&str> = Vec::new();
        for hit in &run.divergences {
            let seen = self
                .divergences
                .entry(hit.id.clone())
                .or_insert_with(|| Seen {
                    first: run.clone(),
                    step: hit.step,
                    cases: 0,
                    hits: 0,
                });
            seen.hits += 1;
            if !counted.contains(&hit.id.as_str()) {
                seen.cases += 1;
                counted.push(&hit.id);
            }
        }
        if run.completed() {
            self.completed += 1;
        }
    }

    /// Counts a case of the area's covering set (it is counted as a case by [`Tally::record`]
    /// too).
    pub fn covering(&mut self) {
        self.covering += 1;
    }

    /// How often each variant was sent, with every variant the area's generator can produce
    /// listed (0 when it was never sent), by label.
    fn coverage(&self, area: Area) -> Vec<VariantCount> {
        let mut all: BTreeMap<String, u64> = super::covering::area_variants(area)
            .iter()
            .map(|op| (op.variant(), 0))
            .collect();
        for (variant, n) in &self.sent {
            *all.entry(variant.clone()).or_insert(0) += n;
        }
        all.into_iter()
            .map(|(variant, sent)| VariantCount { variant, sent })
            .collect()
    }

    /// Counts a case that ended before its last step, for `reason`.
    pub fn ended_early(&mut self, reason: String) {
        *self.ended_early.entry(reason).or_insert(0) += 1;
    }

    /// Counts a case that could not be judged (`why`), keeping the first one's transcript.
    pub fn indeterminate(&mut self, why: &str, run: &CaseRun) {
        self.indeterminate += 1;
        if self.first_indeterminate.is_none() {
            self.first_indeterminate =
                Some((why.to_owned(), super::report::render_steps(&run.steps)));
        }
    }

    /// The area's report: failed on findings; indeterminate when nothing could be generated,
    /// no property was judged, or at least half the cases could not be judged; passed
    /// otherwise. `shown` gives each recorded divergence's counterexample from the first case
    /// that showed it.
    pub fn into_report(
        self,
        area: Area,
        findings: Findings,
        shown: &dyn Fn(&str, &CaseRun, usize) -> Option<Counterexample>,
    ) -> AreaReport {
        let status = self.status(findings.kept());
        let distinct_findings = findings.distinct();
        let status = match status {
            Some(status) => status,
            None => AreaStatus::Failed {
                findings: findings.into_counterexamples(),
            },
        };
        let divergences = self
            .divergences
            .iter()
            .map(|(id, seen)| Divergence {
                id: id.clone(),
                counterexample: shown(id, &seen.first, seen.step),
                cases: seen.cases,
                hits: seen.hits,
            })
            .collect();
        AreaReport {
            coverage: self.coverage(area),
            covering_cases: self.covering,
            cases: self.cases,
            completed_cases: self.completed,
            ended_early: self
                .ended_early
                .into_iter()
                .map(|(reason, cases)| EarlyEnd { reason, cases })
                .collect(),
            indeterminate_cases: self.indeterminate,
            first_indeterminate: self.first_indeterminate.map(|(_, t)| t).unwrap_or_default(),
            divergences,
            distinct_findings,
            checks: self.checks,
            ..AreaReport::empty(area, status)
        }
    }

    /// The verdict when there are no kept findings (`None` means "failed on findings").
    fn status(&self, kept: usize) -> Option<AreaStatus> {
        if kept > 0 {
            return None;
        }
        let judged = self.cases - self.indeterminate;
        Some(if self.cases == 0 {
            AreaStatus::Indeterminate {
                reason: "no case could be generated".into(),
            }
        } else if self.checks.total() == 0 {
            AreaStatus::Indeterminate {
                reason: format!(
                    "no property was judged on any response in {} cases (every case ended \
                     before a check: {})",
                    self.cases,
                    self.ended_early
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            }
        } else if judged == 0 || self.indeterminate * 2 >= self.cases {
            AreaStatus::Indeterminate {
                reason: format!(
                    "{} of {} cases could not be judged; first: {}",
                    self.indeterminate,
                    self.cases,
                    self.first_indeterminate
                        .as_ref()
                        .map_or("-", |(why, _)| why.as_str())
                ),
            }
        } else {
            AreaStatus::Passed
        })
    }
}
