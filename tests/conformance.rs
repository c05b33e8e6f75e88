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
