//! The conformance suite: generated operation sequences driven through any
//! [`crate::StreamService`] and the reference model side by side, shrunk to minimal
//! counterexamples on disagreement.
//!
//! ```no_run
//! // One #[test] per area for your implementation:
//! fn make() -> seqcheck::MemoryStream { seqcheck::conformance::in_process_memory() }
//! seqcheck::conformance_suite!(make);
//! ```

mod covering;
mod exec;
mod expectations;
mod findings;
mod liveness;
mod ops;
mod raw_ops;
mod regressions;
mod report;
mod runner;
mod shrink;
mod slow;
mod tally;
mod variants;
pub mod workload;

pub use covering::{CoveringTree, area_variants, covering_cases, covering_count, drawn_variants};
pub use exec::{
    Action, CaseRun, DivergenceHit, Executor, MAX_DRAIN_PAGES, MAX_LIST_PAGES, MAX_SETTLE_POLLS,
    Step, Stop, UnknownOutcome,
};
pub use expectations::{Expectations, ExpectationsError, Hazard, KnownDivergence};
pub use findings::fingerprint;
pub use liveness::Restart;
pub use ops::{Op, case_strategy, op_strategy, ops_per_case};
pub use report::{
    AreaReport, AreaStatus, Counterexample, Divergence, EarlyEnd, FindingKind, VariantCount,
    outcome, render_steps, request,
};
pub use runner::{Factory, RunConfig, planned_cases, run_area, run_areas};
pub use slow::{
    EXPIRED_MARGIN_MS, SlowCheck, SlowReport, VALID_HOLD_MS, expiry_case, expiry_holds,
    run_slow_check,
};

use crate::clock::ManualClock;
use crate::memory::{MemoryConfig, MemoryStream};
use crate::model::{ModelConfig, ModelService, Property};
use crate::service::{Capabilities, StreamService};
use std::fmt;
use std::sync::Arc;

/// A group of properties with its own operation mix.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// Hash-key routing, explicit hash keys, colliding keys (P3, P4).
    Routing,
    /// Numbering: uniqueness, per-shard order, ordering numbers, batches (P1, P2, P5, P7–P9).
    Sequencing,
    /// The five iterator types, reuse and expiry (P10, P12, P13).
    Iterators,
    /// GetRecords paging, limits, continuity, MillisBehindLatest (P11, P23).
    Paging,
    /// Split, merge, UpdateShardCount, lineage and shard ends (P14–P17, P19).
    Resharding,
    /// Retention bounds, trimming and TRIM_HORIZON (P20).
    Retention,
    /// Every bad input gets the exception Kinesis answers with (P21), raw requests included,
    /// and every raw answer follows the wire envelope (P22).
    Validation,
}

impl Area {
    /// Every area, in report order.
    pub const ALL: [Area; 7] = [
        Area::Routing,
        Area::Sequencing,
        Area::Iterators,
        Area::Paging,
        Area::Resharding,
        Area::Retention,
        Area::Validation,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Area::Routing => "routing",
            Area::Sequencing => "sequencing",
            Area::Iterators => "iterators",
            Area::Paging => "paging",
            Area::Resharding => "resharding",
            Area::Retention => "retention",
            Area::Validation => "validation",
        }
    }

    /// The area named `name` (lower case, as [`Area::name`] prints it).
    pub fn from_name(name: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The properties this area's generators aim at (every area's responses are judged against
    /// all properties; these are the ones a passing area gives real evidence for).
    pub fn targets(self) -> &'static [Property] {
        use Property as P;
        match self {
            Area::Routing => &[
                P::Routing,
                P::HashPartition,
                P::Listing,
                P::Format,
                P::ArrivalTime,
                P::NoLoss,
            ],
            Area::Sequencing => &[
                P::Format,
                P::Uniqueness,
                P::ShardOrder,
                P::OrderingNumber,
                P::BatchOrder,
                P::PutRecordsShape,
                P::ArrivalTime,
                P::NoLoss,
            ],
            Area::Iterators => &[P::IteratorPosition, P::Continuity, P::Expiry, P::NoLoss],
            Area::Paging => &[P::Continuity, P::MillisBehind, P::NoLoss],
            Area::Resharding => &[
                P::ShardEnd,
                P::Lineage,
                P::CrossReshardOrder,
                P::ShardCount,
                P::Status,
                P::HashPartition,
                P::Listing,
                P::NoLoss,
            ],
            Area::Retention => &[P::Retention, P::NoLoss],
            Area::Validation => &[P::ErrorMapping, P::Wire, P::Status, P::NoLoss],
        }
    }

    /// The capability this area needs that `caps` lacks, if any.
    pub fn missing_capability(self, caps: &Capabilities) -> Option<&'static str> {
        match self {
            Area::Resharding if !caps.resharding => Some("resharding (SplitShard/MergeShards)"),
            Area::Retention if !caps.retention => Some("retention control"),
            Area::Retention if !caps.clock_control => {
                Some("clock control (trimming needs hours of time to pass)")
            }
            _ => None,
        }
    }
}

/// What one row of a run report covers: a generated [`Area`] or a [`SlowCheck`].
pub trait Scope: Copy + fmt::Display {
    /// The properties a passing row gives real evidence for.
    fn targets(self) -> &'static [Property];
}

impl Scope for Area {
    fn targets(self) -> &'static [Property] {
        Area::targets(self)
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The embedded service with a manual clock (so expiry and retention are checkable).
pub fn in_process_memory() -> MemoryStream {
    MemoryStream::with_manual_clock(MemoryConfig::default(), ManualClock::default())
}

/// The embedded service minting 56-digit numbers in the AWS v2 layout (realism mode).
pub fn in_process_memory_aws_layout() -> MemoryStream {
    let config = MemoryConfig {
        seq_format: crate::sequencer::SeqFormat::AwsV2,
        ..MemoryConfig::default()
    };
    MemoryStream::with_manual_clock(config, ManualClock::default())
}

/// The reference model served as a fake service, with a manual clock.
pub fn in_process_model() -> ModelService {
    ModelService::new(ModelConfig::default(), ManualClock::default())
}

/// Cases per area in `cargo test` (override with `SEQCHECK_CASES`).
pub fn default_cases() -> u32 {
    std::env::var("SEQCHECK_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RunConfig::default().cases)
}

/// Runs `area` against implementations made by `factory` and panics with every shrunk
/// counterexample on a finding. An area the implementation lacks a capability for fails too
/// (it is never a passing test): leave it out of the suite with `conformance_suite!(make,
/// areas = [...])`. Failing seeds are saved under `proptest-regressions/conformance/<suite>/`.
pub fn assert_area_passes<S, F>(suite: &str, factory: F, area: Area)
where
    S: StreamService + 'static,
    F: Fn() -> S + Sync,
{
    assert_area_passes_with(suite, factory, area, ModelConfig::default());
}

/// Like [`assert_area_passes`] with model settings of your own (e.g.
/// `require_aws_layout` for implementations that mint AWS-layout numbers).
pub fn assert_area_passes_with<S, F>(suite: &str, factory: F, area: Area, model: ModelConfig)
where
    S: StreamService + 'static,
    F: Fn() -> S + Sync,
{
    let make = || Arc::new(factory()) as Arc<dyn StreamService>;
    let cfg = RunConfig {
        cases: default_cases(),
        seed: std::env::var("SEQCHECK_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(RunConfig::default().seed),
        regressions: Some(
            std::path::Path::new("proptest-regressions/conformance")
                .join(suite.replace("::", "-"))
                .join(format!("{}.txt", area.name())),
        ),
        model,
        ..RunConfig::default()
    };
    let report = run_area(&make, area, &cfg, &|| {});
    match &report.status {
        AreaStatus::Passed => {}
        AreaStatus::Failed { findings } => {
            let all: Vec<String> = findings.iter().map(ToString::to_string).collect();
            panic!(
                "area {area}: {} distinct finding(s):\n\n{}",
                report.distinct_findings,
                all.join("\n\n")
            )
        }
        AreaStatus::Unsupported { reason } => panic!(
            "area {area} is unsupported by this implementation ({reason}), so nothing was checked; \
             leave it out with `conformance_suite!(make, areas = [...])`"
        ),
        AreaStatus::Indeterminate { reason } => panic!("area {area}: indeterminate: {reason}"),
        AreaStatus::NotRun { reason } => panic!("area {area}: not run: {reason}"),
    }
}

/// Expands to one `#[test]` per area for the implementation `make` returns (a path to a
/// function `fn() -> impl StreamService`).
///
/// - `model = <ModelConfig>` sets the checker's strictness;
/// - `areas = [routing, paging, ...]` generates tests for those areas only (an area whose
///   capability the implementation lacks otherwise fails its test: it is never a pass).
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!($make, model = $crate::model::ModelConfig::default());
    };
    ($make:path, areas = [$($area:ident),* $(,)?]) => {
        $crate::conformance_suite!(@areas $make, $crate::model::ModelConfig::default(); $($area),*);
    };
    ($make:path, model = $model:expr) => {
        $crate::conformance_suite!(@areas $make, $model; routing, sequencing, iterators, paging,
            resharding, retention, validation);
    };
    ($make:path, model = $model:expr, areas = [$($area:ident),* $(,)?]) => {
        $crate::conformance_suite!(@areas $make, $model; $($area),*);
    };
    (@areas $make:path, $model:expr; $($area:ident),*) => {
        $(
            #[test]
            fn $area() {
                let area = $crate::conformance::Area::from_name(stringify!($area))
                    .unwrap_or_else(|| panic!("unknown area `{}`", stringify!($area)));
                $crate::conformance::assert_area_passes_with(module_path!(), $make, area, $model);
            }
        )*
    };
}
