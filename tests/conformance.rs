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
