//! The conformance suite against the crate's own implementations: the reference model served
//! as a fake, and the embedded concurrent service.

mod model_service {
    seqcheck::conformance_suite!(seqcheck::conformance::in_process_model);
}

mod embedded {
    seqcheck::conformance_suite!(seqcheck::conformance::in_process_memory);
}

mod embedded_aws_layout {
    seqcheck::conformance_suite!(
        seqcheck::conformance::in_process_memory_aws_layout,
        model = seqcheck::ModelConfig {
            require_aws_layout: true,
            ..Default::default()
        }
    );
}

/// The embedded service on the system clock: time cannot be moved, so the retention area
/// (hours of trimming) is unsupported for it.
fn on_system_clock() -> seqcheck::MemoryStream {
    seqcheck::MemoryStream::with_clock(
        seqcheck::memory::MemoryConfig::default(),
        std::sync::Arc::new(seqcheck::clock::SystemClock),
    )
}

mod system_clock_without_retention {
    // Leaving an area out is explicit: the suite has no `retention` test here.
    seqcheck::conformance_suite!(
        super::on_system_clock,
        areas = [routing, sequencing, validation]
    );
}

/// An area the implementation cannot be checked in is never a passing test.
#[test]
#[should_panic(expected = "is unsupported by this implementation")]
fn an_unsupported_area_fails_its_test() {
    seqcheck::conformance::assert_area_passes(
        "unsupported-demo",
        on_system_clock,
        seqcheck::conformance::Area::Retention,
    );
}

/// Every operation variant the generators can produce (found by drawing from them, not from
/// the run) reaches the embedded service within the default budget, and the report lists it.
#[test]
fn every_variant_the_generators_produce_is_sent_within_the_default_budget() {
    use seqcheck::conformance::{Area, AreaStatus, RunConfig, drawn_variants, run_area};
    use seqcheck::service::StreamService;
    let make = || {
        std::sync::Arc::new(seqcheck::conformance::in_process_memory())
            as std::sync::Arc<dyn StreamService>
    };
    for area in Area::ALL {
        let drawn = drawn_variants(area, 60_000);
        let report = run_area(&make, area, &RunConfig::default(), &|| {});
        assert!(
            matches!(report.status, AreaStatus::Passed),
            "{area}: {:?}",
            report.status
        );
        let sent = |v: &str| {
            report
                .coverage
                .iter()
                .find(|c| c.variant == v)
                .map(|c| c.sent)
        };
        let unsent: Vec<&String> = drawn
            .iter()
            .filter(|v| sent(v.as_str()).unwrap_or(0) == 0)
            .collect();
        assert!(unsent.is_empty(), "{area}: never sent: {unsent:?}");
        println!(
            "{area}: {} variants, all sent; {} covering cases of {}",
            drawn.len(),
            report.covering_cases,
            report.cases
        );
    }
}
