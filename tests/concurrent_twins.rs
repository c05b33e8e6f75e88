//! The twins only concurrency or a crash can expose: the sequential conformance suite passes
//! every one of them (this file), and a concurrent history catches each with its anomaly class
//! (`tests/history_twins.rs`). Together they show why the history layer exists.

use seqcheck::conformance::{Area, AreaStatus, RunConfig, run_area};
use seqcheck::mutants::concurrent::{ConcurrentTwin, build};
use seqcheck::service::StreamService;
use std::sync::Arc;

#[test]
fn the_sequential_suite_passes_every_concurrency_twin() {
    for twin in ConcurrentTwin::ALL {
        let make = move || -> Arc<dyn StreamService> { build(twin).service };
        for area in Area::ALL {
            let report = run_area(&make, area, &RunConfig::default(), &|| {});
            match &report.status {
                AreaStatus::Passed => {}
                other => panic!("the sequential suite judged {twin:?} in {area}: {other:?}"),
            }
            assert!(report.cases > 0, "{twin:?}: no case ran in {area}");
        }
        println!("{twin:?}: every area passed (the defect needs overlapping calls or a crash)");
    }
}
