//! A real peer killed by a request gives a CRASH verdict that names the request, and the run
//! restarts the peer and goes on. kinesalite 3.3.3's node process dies on a ListShards that
//! carries a NextToken but no stream name; its expectations file withholds that request as a
//! hazard, and this test sends it anyway.
//!
//! It runs only when `SEQCHECK_KINESALITE_URL` is set (CI sets it; with `SEQCHECK_REQUIRE_PEERS`
//! set a missing variable is a failure, not a skip), and it is a test binary of its own so that killing the
//! peer cannot disturb other tests running against it.

use seqcheck::conformance::{Area, Expectations, FindingKind, Restart, RunConfig, run_area};
use seqcheck::http::{HttpOptions, HttpService};
use seqcheck::model::ModelConfig;
use seqcheck::service::{Capabilities, StreamService};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_request_that_kills_kinesalite_is_a_crash_naming_it() {
    let url = match std::env::var("SEQCHECK_KINESALITE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("SEQCHECK_REQUIRE_PEERS").is_some() => {
            panic!(
                "SEQCHECK_KINESALITE_URL is not set but SEQCHECK_REQUIRE_PEERS is: nothing would be checked"
            )
        }
        _ => {
            eprintln!("skipped: SEQCHECK_KINESALITE_URL is not set");
            return;
        }
    };
    let mut expectations =
        Expectations::load("tests/expectations/kinesalite.json").expect("expectations load");
    let before = expectations.hazards.len();
    expectations
        .hazards
        .retain(|h| h.id != "list-shards-next-token-crashes");
    assert_eq!(
        expectations.hazards.len(),
        before - 1,
        "the hazard is recorded"
    );
    let options = HttpOptions {
        operation_timeout: Duration::from_secs(10),
        ..HttpOptions::default()
    };
    let service = HttpService::with_options(&url, None, options)
        .expect("endpoint")
        .with_capabilities(Capabilities {
            update_shard_count: false,
            ..Capabilities::ALL
        });
    let shared: Arc<dyn StreamService> = Arc::new(service);
    let factory = {
        let shared = Arc::clone(&shared);
        move || Arc::clone(&shared)
    };
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() % 1_000_000);
    let cfg = RunConfig {
        cases: 32,
        expectations,
        model: ModelConfig {
            strict_millis_behind: false,
            clock_tolerance_ms: 2_000,
            ..ModelConfig::default()
        },
        restart: Some(Restart::command(
            "scripts/peers/start.sh kinesalite",
            Duration::from_secs(90),
        )),
        name_prefix: format!("crash{nonce}"),
        max_shrink_ms: 30_000,
        ..RunConfig::default()
    };
    let report = run_area(&factory, Area::Validation, &cfg, &|| {});
    let crash = report
        .findings()
        .iter()
        .find(|f| f.kind == FindingKind::Crash)
        .unwrap_or_else(|| panic!("no CRASH finding: {report:#?}"));
    println!("{crash}");
    assert!(
        crash
            .violation
            .detail
            .contains("request: ListShards stream=- token="),
        "the finding names the killing request: {crash}"
    );
    assert!(
        crash.steps.last().is_some_and(|s| s.contains("ListShards")),
        "the transcript ends with it"
    );
    assert_eq!(
        report.cases,
        u64::from(cfg.cases),
        "the run went on after restarts"
    );
    assert!(shared.answers(), "the peer was restarted");
}
