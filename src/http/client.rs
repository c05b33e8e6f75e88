//! Building the SDK client and the runtime it runs on.

use aws_sdk_kinesis::config::retry::RetryConfig;
use aws_sdk_kinesis::config::timeout::TimeoutConfig;
use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls;
use std::time::Duration;

/// The region used when neither the caller nor `AWS_REGION` names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Access key id sent to local endpoints; no peer checks signatures.
const DUMMY_ACCESS_KEY: &str = "AKIDSEQCHECKLOCAL";
/// Secret key paired with [`DUMMY_ACCESS_KEY`].
const DUMMY_SECRET_KEY: &str = "seqcheck-local-secret";

/// Bounds on how long one request may take. Every request ends within
/// `operation_timeout` (plus scheduling slack): with a result, or with
/// [`ErrorKind::Indeterminate`](crate::types::ErrorKind::Indeterminate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpOptions {
    /// Time allowed to open a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, from sending to the parsed response.
    pub operation_timeout: Duration,
}

impl Default for HttpOptions {
    /// 2 s to connect, 5 s per request: generous for loopback peers, short enough that a
    /// hung peer cannot stall a run for long.
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(5),
        }
    }
}

/// Why an [`HttpService`](super::HttpService) could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The endpoint is not a usable `http://` or `https://` URL.
    #[error("invalid endpoint URL '{0}': {1}")]
    BadEndpoint(String, String),
    /// The runtime that carries the requests could not be created.
    #[error("cannot create the I/O runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The region to use: `explicit`, else the `AWS_REGION` environment variable, else
/// [`DEFAULT_REGION`].
pub(crate) fn resolve_region(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

/// Checks that `endpoint` is an absolute `http://` or `https://` URL with a host (and, when
/// given, a valid port), before any request is sent.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), SetupError> {
    let bad = |why: &str| SetupError::BadEndpoint(endpoint.to_owned(), why.to_owned());
    let url = url::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it may not carry a query or a fragment"));
    }
    Ok(())
}

/// A current-thread runtime: requests are driven by whichever caller blocks on it.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, SetupError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// The HTTPS-capable client, with rustls on ring.
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Timeouts from `options`; each attempt is bounded as well as the whole operation.
pub(crate) fn timeouts(options: &HttpOptions) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .operation_timeout(options.operation_timeout)
        .operation_attempt_timeout(options.operation_timeout)
        .build()
}

/// A client for a local or third-party endpoint with static dummy credentials and no retries.
pub(crate) fn local_client(
    endpoint: &str,
    region: &str,
    options: &HttpOptions,
) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            DUMMY_ACCESS_KEY,
            DUMMY_SECRET_KEY,
            None,
            None,
            "seqcheck-static",
        ))
        .http_client(http_client())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(options))
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

/// A client for real AWS: credentials from the standard chain (environment, profile files, web
/// identity, instance metadata), region `explicit` or else from that chain, no retries.
pub(crate) async fn aws_client(
    explicit: Option<&str>,
    options: &HttpOptions,
) -> (aws_sdk_kinesis::Client, String) {
    let region = aws_config::meta::region::RegionProviderChain::first_try(
        explicit.map(|r| Region::new(r.to_owned())),
    )
    .or_default_provider()
    .or_else(Region::new(DEFAULT_REGION));
    let shared = aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .http_client(http_client())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(options))
        .load()
        .await;
    let region = shared
        .region()
        .map_or_else(|| DEFAULT_REGION.to_owned(), |r| r.as_ref().to_owned());
    (aws_sdk_kinesis::Client::new(&shared), region)
}
