//! [`HttpService`]: the [`StreamService`] operations as SDK calls.

use super::client::{self, HttpOptions, SetupError};
use super::{convert, errors};
use crate::api::*;
use crate::service::{Capabilities, StreamService};
use crate::types::{ErrorKind, KinesisError};
use aws_sdk_kinesis::primitives::{Blob, DateTime};
use aws_sdk_kinesis::types as sdk;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

/// A Kinesis-compatible endpoint reached over HTTP through the AWS SDK for Rust.
///
/// Guarantees:
/// - every call returns within [`HttpOptions::operation_timeout`] (plus scheduling slack);
/// - no request is ever retried or sent twice;
/// - errors are definite service errors, [`ErrorKind::Indeterminate`] when the outcome is
///   unknown, or [`ErrorKind::MalformedResponse`] when the answer does not parse (see the
///   [module docs](super));
/// - operations that complete asynchronously on the service (`CreateStream`, `DeleteStream`,
///   `SplitShard`, `MergeShards`, `UpdateShardCount`) return as soon as the service accepts
///   them; use [`HttpService::wait_for_status`] to wait for completion.
///
/// Calls block the calling thread; they must not be made from inside an async runtime (such
/// calls fail with [`ErrorKind::Other`] instead of panicking). Many threads may call at once.
/// Like any owner of a Tokio runtime, the value must also be dropped outside async code.
#[derive(Debug)]
pub struct HttpService {
    name: String,
    client: aws_sdk_kinesis::Client,
    /// The same client with short timeouts, for [`StreamService::answers`].
    liveness: aws_sdk_kinesis::Client,
    runtime: tokio::runtime::Runtime,
    stream_prefix: String,
    capabilities: Capabilities,
    /// The byte-for-byte path, for local endpoints only (it signs with a dummy signature).
    raw: Option<super::RawClient>,
}

/// What the adapter can send: everything but clock control (a remote clock cannot be moved).
const ADAPTER_CAPABILITIES: Capabilities = Capabilities {
    resharding: true,
    update_shard_count: true,
    retention: true,
    clock_control: false,
    raw_requests: true,
};

/// Clamps a raw request integer into the `i32` the SDK sends. Out-of-range values stay out of
/// the valid range after clamping, so the service still rejects them.
fn clamp_i32(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}

/// How long [`StreamService::answers`] waits for any answer.
const LIVENESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// `client` with every request bounded by [`LIVENESS_TIMEOUT`].
fn liveness_client(client: &aws_sdk_kinesis::Client) -> aws_sdk_kinesis::Client {
    let short = client::timeouts(&super::HttpOptions {
        connect_timeout: LIVENESS_TIMEOUT,
        operation_timeout: LIVENESS_TIMEOUT,
    });
    aws_sdk_kinesis::Client::from_conf(client.config().to_builder().timeout_config(short).build())
}

impl HttpService {
    /// A service at `endpoint_url` (e.g. `http://127.0.0.1:4567`) with static dummy credentials,
    /// in `region` (else `AWS_REGION`, else [`DEFAULT_REGION`](super::DEFAULT_REGION)), with
    /// default [`HttpOptions`].
    pub fn new(endpoint_url: &str, region: Option<&str>) -> Result<Self, SetupError> {
        Self::with_options(endpoint_url, region, HttpOptions::default())
    }

    /// Like [`HttpService::new`] with explicit timeouts.
    pub fn with_options(
        endpoint_url: &str,
        region: Option<&str>,
        options: HttpOptions,
    ) -> Result<Self, SetupError> {
        client::check_endpoint(endpoint_url)?;
        let region = client::resolve_region(region);
        let client = client::local_client(endpoint_url, &region, &options);
        let raw = super::RawClient::with_timeout(endpoint_url, options.operation_timeout).ok();
        Ok(HttpService {
            name: format!("http {endpoint_url}"),
            liveness: liveness_client(&client),
            client,
            runtime: client::runtime()?,
            stream_prefix: String::new(),
            capabilities: Capabilities {
                raw_requests: raw.is_some(),
                ..ADAPTER_CAPABILITIES
            },
            raw,
        })
    }

    /// **Real AWS.** A service using the standard credential and region chain (environment,
    /// profile files, web identity, instance metadata; region defaulting to
    /// [`DEFAULT_REGION`](super::DEFAULT_REGION)).
    ///
    /// Every stream name is prefixed with `stream_prefix` on the wire, so runs stay apart from
    /// the account's other streams. A prefix also turns deliberately invalid names (empty, too
    /// long) into valid ones; to check validation, pass `""` and namespace the names yourself
    /// (`seqcheck check --aws` does). **This creates and deletes real, billed streams in the
    /// account** and is subject to its quotas; use a dedicated account.
    pub fn aws(stream_prefix: &str) -> Result<Self, SetupError> {
        Self::aws_with_options(stream_prefix, None, HttpOptions::default())
    }

    /// Like [`HttpService::aws`] with explicit timeouts, and in `region` when given (else the
    /// standard region chain). **Creates and deletes real streams.**
    pub fn aws_with_options(
        stream_prefix: &str,
        region: Option<&str>,
        options: HttpOptions,
    ) -> Result<Self, SetupError> {
        let runtime = client::runtime()?;
        let (client, region) = runtime.block_on(client::aws_client(region, &options));
        Ok(HttpService {
            name: format!("aws {region}"),
            liveness: liveness_client(&client),
            client,
            runtime,
            stream_prefix: stream_prefix.to_owned(),
            capabilities: Capabilities {
                raw_requests: false,
                ..ADAPTER_CAPABILITIES
            },
            raw: None,
        })
    }

    /// Declares what the endpoint behind the adapter supports, for endpoints that lack some
    /// operations (kinesalite 3.3.3 has no `UpdateShardCount`, for instance). Clock control
    /// stays off whatever `capabilities` says.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Capabilities {
            clock_control: false,
            raw_requests: capabilities.raw_requests && self.raw.is_some(),
            ..capabilities
        };
        self
    }

    /// The stream name sent on the wire for `name`.
    fn wire_name(&self, name: &str) -> String {
        format!("{}{name}", self.stream_prefix)
    }

    /// Runs `request` to completion on the adapter's runtime.
    fn run<T>(
        &self,
        request: impl Future<Output = Result<T, KinesisError>>,
    ) -> Result<T, KinesisError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(KinesisError::new(
                ErrorKind::Other,
                "HttpService was called from inside an async runtime; call it from a plain thread",
            ));
        }
        self.runtime.block_on(request)
    }

    /// Sends an operation with no output and maps its error.
    fn run_unit<O, E>(
        &self,
        operation: &'static str,
        request: impl Future<
            Output = Result<
                O,
                aws_sdk_kinesis::error::SdkError<E, aws_sdk_kinesis::config::http::HttpResponse>,
            >,
        >,
    ) -> Result<(), KinesisError>
    where
        E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.run(async {
            request
                .await
                .map(drop)
                .map_err(|e| errors::from_sdk(operation, e))
        })
    }
}

impl StreamService for HttpService {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn create_stream(&self, req: &CreateStreamRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .create_stream()
            .stream_name(self.wire_name(&req.stream_name))
            .shard_count(clamp_i32(req.shard_count));
        self.run_unit("CreateStream", call.send())
    }

    fn delete_stream(&self, req: &StreamRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .delete_stream()
            .stream_name(self.wire_name(&req.stream_name));
        self.run_unit("DeleteStream", call.send())
    }

    fn call_raw(&self, request: &RawRequest) -> Result<RawReply, KinesisError> {
        match &self.raw {
            Some(raw) => raw
                .send(&request.target, &request.body)
                .map_err(KinesisError::from),
            None => Err(KinesisError::new(
                ErrorKind::Other,
                "raw requests are sent to local http:// endpoints only",
            )),
        }
    }

    fn answers(&self) -> bool {
        let call = self
            .liveness
            .describe_stream_summary()
            .stream_name(self.wire_name("seqcheck-liveness-probe"));
        let outcome = self.run(async {
            call.send()
                .await
                .map(drop)
                .map_err(|e| errors::from_sdk("DescribeStreamSummary", e))
        });
        !matches!(outcome, Err(e) if e.kind == ErrorKind::Indeterminate)
    }

    fn describe_stream_summary(&self, req: &StreamRequest) -> Result<StreamSummary, KinesisError> {
        let call = self
            .client
            .describe_stream_summary()
            .stream_name(self.wire_name(&req.stream_name));
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("DescribeStreamSummary", e))
        })?;
        let desc = out
            .stream_description_summary
            .as_ref()
            .ok_or_else(|| KinesisError::malformed_response("StreamDescriptionSummary: missing"))?;
        convert::summary(desc, &req.stream_name)
    }

    fn list_shards(&self, req: &ListShardsRequest) -> Result<ListShardsResponse, KinesisError> {
        let call = self
            .client
            .list_shards()
            .set_stream_name(req.stream_name.as_deref().map(|s| self.wire_name(s)))
            .set_next_token(req.next_token.clone())
            .set_exclusive_start_shard_id(req.exclusive_start_shard_id.clone())
            .set_max_results(req.max_results.map(clamp_i32));
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("ListShards", e))
        })?;
        Ok(ListShardsResponse {
            shards: out
                .shards
                .unwrap_or_default()
                .iter()
                .map(convert::shard)
                .collect::<Result<_, _>>()?,
            next_token: out.next_token,
        })
    }

    fn put_record(&self, req: &PutRecordRequest) -> Result<PutRecordResponse, KinesisError> {
        let call = self
            .client
            .put_record()
            .stream_name(self.wire_name(&req.stream_name))
            .partition_key(&req.partition_key)
            .data(Blob::new(req.data.to_vec()))
            .set_explicit_hash_key(req.explicit_hash_key.clone())
            .set_sequence_number_for_ordering(req.sequence_number_for_ordering.clone());
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("PutRecord", e))
        })?;
        convert::put_location(&out.shard_id, &out.sequence_number, "PutRecord")
    }

    fn put_records(&self, req: &PutRecordsRequest) -> Result<PutRecordsResponse, KinesisError> {
        let entries = req
            .records
            .iter()
            .map(|r| {
                sdk::PutRecordsRequestEntry::builder()
                    .partition_key(&r.partition_key)
                    .data(Blob::new(r.data.to_vec()))
                    .set_explicit_hash_key(r.explicit_hash_key.clone())
                    .build()
                    .map_err(|e| {
                        KinesisError::new(
                            ErrorKind::Other,
                            format!("PutRecords was not sent (the SDK refused an entry): {e}"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let call = self
            .client
            .put_records()
            .stream_name(self.wire_name(&req.stream_name))
            .set_records(Some(entries));
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("PutRecords", e))
        })?;
        let failed = out.failed_record_count.ok_or_else(|| {
            KinesisError::malformed_response("PutRecords.FailedRecordCount: missing")
        })?;
        Ok(PutRecordsResponse {
            failed_record_count: convert::count(failed, "PutRecords.FailedRecordCount")?,
            records: out
                .records
                .iter()
                .map(convert::put_records_entry)
                .collect::<Result<_, _>>()?,
        })
    }

    fn get_shard_iterator(&self, req: &GetShardIteratorRequest) -> Result<String, KinesisError> {
        let call = self
            .client
            .get_shard_iterator()
            .stream_name(self.wire_name(&req.stream_name))
            .shard_id(&req.shard_id)
            .shard_iterator_type(sdk::ShardIteratorType::from(req.shard_iterator_type.name()))
            .set_starting_sequence_number(req.starting_sequence_number.clone())
            .set_timestamp(
                req.timestamp_ms
                    .map(|ms| DateTime::from_millis(i64::try_from(ms).unwrap_or(i64::MAX))),
            );
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("GetShardIterator", e))
        })?;
        match out.shard_iterator {
            Some(it) if !it.is_empty() => Ok(it),
            _ => Err(KinesisError::malformed_response(
                "GetShardIterator.ShardIterator: missing or empty",
            )),
        }
    }

    fn get_records(&self, req: &GetRecordsRequest) -> Result<GetRecordsResponse, KinesisError> {
        let call = self
            .client
            .get_records()
            .shard_iterator(&req.shard_iterator)
            .set_limit(req.limit.map(clamp_i32));
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("GetRecords", e))
        })?;
        let behind = out.millis_behind_latest.ok_or_else(|| {
            KinesisError::malformed_response("GetRecords.MillisBehindLatest: missing")
        })?;
        Ok(GetRecordsResponse {
            records: out
                .records
                .iter()
                .map(convert::record)
                .collect::<Result<_, _>>()?,
            next_shard_iterator: out.next_shard_iterator,
            millis_behind_latest: u64::try_from(behind).map_err(|_| {
                KinesisError::malformed_response(format!(
                    "GetRecords.MillisBehindLatest: negative value {behind}"
                ))
            })?,
            child_shards: out
                .child_shards
                .unwrap_or_default()
                .iter()
                .map(convert::child_shard)
                .collect::<Result<_, _>>()?,
        })
    }

    fn split_shard(&self, req: &SplitShardRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .split_shard()
            .stream_name(self.wire_name(&req.stream_name))
            .shard_to_split(&req.shard_to_split)
            .new_starting_hash_key(&req.new_starting_hash_key);
        self.run_unit("SplitShard", call.send())
    }

    fn merge_shards(&self, req: &MergeShardsRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .merge_shards()
            .stream_name(self.wire_name(&req.stream_name))
            .shard_to_merge(&req.shard_to_merge)
            .adjacent_shard_to_merge(&req.adjacent_shard_to_merge);
        self.run_unit("MergeShards", call.send())
    }

    fn update_shard_count(
        &self,
        req: &UpdateShardCountRequest,
    ) -> Result<UpdateShardCountResponse, KinesisError> {
        let call = self
            .client
            .update_shard_count()
            .stream_name(self.wire_name(&req.stream_name))
            .target_shard_count(clamp_i32(req.target_shard_count))
            .scaling_type(sdk::ScalingType::UniformScaling);
        let out = self.run(async {
            call.send()
                .await
                .map_err(|e| errors::from_sdk("UpdateShardCount", e))
        })?;
        let field = |value: Option<i32>, name: &str| {
            value
                .ok_or_else(|| KinesisError::malformed_response(format!("{name}: missing")))
                .and_then(|v| convert::count(v, name))
        };
        Ok(UpdateShardCountResponse {
            current_shard_count: field(
                out.current_shard_count,
                "UpdateShardCount.CurrentShardCount",
            )?,
            target_shard_count: field(out.target_shard_count, "UpdateShardCount.TargetShardCount")?,
        })
    }

    fn increase_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .increase_stream_retention_period()
            .stream_name(self.wire_name(&req.stream_name))
            .retention_period_hours(clamp_i32(req.retention_period_hours));
        self.run_unit("IncreaseStreamRetentionPeriod", call.send())
    }

    fn decrease_stream_retention_period(&self, req: &RetentionRequest) -> Result<(), KinesisError> {
        let call = self
            .client
            .decrease_stream_retention_period()
            .stream_name(self.wire_name(&req.stream_name))
            .retention_period_hours(clamp_i32(req.retention_period_hours));
        self.run_unit("DecreaseStreamRetentionPeriod", call.send())
    }

    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_keeps_invalid_values_invalid() {
        assert_eq!(clamp_i32(5), 5);
        assert_eq!(clamp_i32(-1), -1);
        assert_eq!(clamp_i32(i64::MAX), i32::MAX);
        assert_eq!(clamp_i32(i64::MIN), i32::MIN);
    }

    #[test]
    fn capabilities_can_be_narrowed_but_never_gain_clock_control() {
        let service = HttpService::new("http://127.0.0.1:4567", None).expect("adapter");
        assert_eq!(service.capabilities(), ADAPTER_CAPABILITIES);
        let narrowed = service.with_capabilities(Capabilities {
            update_shard_count: false,
            ..Capabilities::ALL
        });
        let caps = narrowed.capabilities();
        assert!(!caps.update_shard_count && !caps.clock_control && caps.resharding);
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(HttpService::new("127.0.0.1:4567", None).is_err());
        assert!(HttpService::new("http://", None).is_err());
        assert!(HttpService::new("http://127.0.0.1:4567", Some("eu-west-1")).is_ok());
    }
}
