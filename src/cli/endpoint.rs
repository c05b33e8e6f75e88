//! Checking a remote Kinesis-compatible endpoint: capability probing and model settings.

use seqcheck::api::{
    CreateStreamRequest, RetentionRequest, StreamRequest, UpdateShardCountRequest,
};
use seqcheck::http::{HttpService, WaitTarget, wait_for_status};
use seqcheck::model::ModelConfig;
use seqcheck::service::{Capabilities, StreamService};
use seqcheck::types::{ErrorKind, KinesisError};
use std::time::Duration;

/// Model settings for a live endpoint: real clocks (tolerance for timestamps and expiry) and
/// no requirement that MillisBehindLatest be 0 at the tip (a model-only property, P23).
pub fn model_config(aws: bool) -> ModelConfig {
    ModelConfig {
        strict_millis_behind: false,
        clock_tolerance_ms: 2_000,
        allow_transient_errors: aws,
        ..ModelConfig::default()
    }
}

/// True when an error says the endpoint does not implement the operation at all.
fn unimplemented(e: &KinesisError) -> bool {
    e.kind == ErrorKind::UnknownOperationException
        || e.kind == ErrorKind::Other
            && (e.message.contains("UnknownOperation")
                || e.message.contains("not implemented")
                || e.message.contains("NotImplemented"))
}

/// Probes which optional operations `service` implements, on a throw-away stream. Returns the
/// capabilities and the evidence for each one found missing.
pub fn probe(service: &HttpService, prefix: &str) -> (Capabilities, Vec<String>) {
    let mut caps = service.capabilities();
    let mut evidence = Vec::new();
    let stream_name = format!("{prefix}-probe");
    let created = service.create_stream(&CreateStreamRequest {
        stream_name: stream_name.clone(),
        shard_count: 1,
    });
    if created.is_err()
        || wait_for_status(
            service,
            &stream_name,
            WaitTarget::Active,
            Duration::from_secs(20),
        )
        .is_err()
    {
        evidence.push(format!(
            "capability probe could not create a stream: {created:?}"
        ));
        return (caps, evidence);
    }
    if let Err(e) = service.update_shard_count(&UpdateShardCountRequest {
        stream_name: stream_name.clone(),
        target_shard_count: 2,
    }) {
        if unimplemented(&e) {
            caps.update_shard_count = false;
            evidence.push(format!(
                "UpdateShardCount answered {}: {}",
                e.kind, e.message
            ));
        }
    }
    let _ = wait_for_status(
        service,
        &stream_name,
        WaitTarget::Active,
        Duration::from_secs(20),
    );
    if let Err(e) = service.increase_stream_retention_period(&RetentionRequest {
        stream_name: stream_name.clone(),
        retention_period_hours: 48,
    }) {
        if unimplemented(&e) {
            caps.retention = false;
            evidence.push(format!(
                "IncreaseStreamRetentionPeriod answered {}: {}",
                e.kind, e.message
            ));
        }
    }
    let _ = service.delete_stream(&StreamRequest { stream_name });
    (caps, evidence)
}
