//! A raw JSON-over-HTTP path to a Kinesis-compatible endpoint.
//!
//! The SDK checks some constraints before sending (an empty partition key never leaves the
//! client), so a test of the *service's* validation needs a way to send any body at all.
//! [`RawClient`] sends exactly the given JSON with the Kinesis JSON 1.1 headers and a dummy
//! SigV4 `Authorization` header, and reports what came back.
//!
//! It is built on `ureq`: a small blocking client with no async runtime of its own, which suits
//! one request at a time from test code and keeps this path independent of the SDK's stack.
//! The signature is a dummy, so the raw path is for local endpoints only (plain HTTP; services
//! that check signatures, such as AWS itself, reject it).

use crate::api::RawReply;
use crate::types::{ErrorKind, KinesisError};
pub use crate::wire::{CONTENT_TYPE, TARGET_PREFIX, sanitize_error_type};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The most bytes of a response body read (GetRecords answers are at most 10 MiB, base64 adds a
/// third).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// A failure to get any HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// The endpoint is not a plain `http://` URL.
    #[error(
        "raw endpoint '{0}' is not an http:// URL (the raw path sends dummy signatures and speaks plain HTTP only)"
    )]
    BadEndpoint(String),
    /// The request did not produce a complete answer: its outcome is unknown.
    #[error("{operation}: no complete answer; it may or may not have taken effect: {source}")]
    Transport {
        /// The operation called.
        operation: String,
        /// What went wrong.
        source: ureq::Error,
    },
}

impl From<RawError> for KinesisError {
    /// A transport failure is [`ErrorKind::Indeterminate`]; a bad endpoint is
    /// [`ErrorKind::Other`] (nothing was sent).
    fn from(err: RawError) -> Self {
        match err {
            RawError::BadEndpoint(_) => KinesisError::new(ErrorKind::Other, err.to_string()),
            RawError::Transport { .. } => KinesisError::indeterminate(err.to_string()),
        }
    }
}

/// What the endpoint answered.
#[derive(Clone, Debug, PartialEq)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The error type, sanitised (see [`sanitize_error_type`]), from the `X-Amzn-Errortype`
    /// header, else the body's `code`, else its `__type`; `None` when none is present.
    pub error_type: Option<String>,
    /// The body's `message` (or `Message`), if any.
    pub message: Option<String>,
    /// The body parsed as JSON; `None` when it is empty or not JSON.
    pub json: Option<serde_json::Value>,
    /// The body as text (lossily decoded).
    pub body: String,
}

impl RawResponse {
    /// True for HTTP 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error kind of [`RawResponse::error_type`], if there is one.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error_type.as_deref().map(ErrorKind::from_wire_name)
    }
}

/// A client that posts raw JSON bodies to one endpoint.
#[derive(Debug)]
pub struct RawClient {
    endpoint: String,
    agent: ureq::Agent,
    region: String,
}

impl RawClient {
    /// A client for `endpoint` (plain `http://` only), with a 10 s limit per request and the
    /// region of [`HttpService::new`](super::HttpService::new) in the credential scope.
    pub fn new(endpoint: &str) -> Result<Self, RawError> {
        Self::with_timeout(endpoint, Duration::from_secs(10))
    }

    /// Like [`RawClient::new`] with every request bounded by `timeout`.
    pub fn with_timeout(endpoint: &str, timeout: Duration) -> Result<Self, RawError> {
        match endpoint.strip_prefix("http://") {
            Some(host) if !host.is_empty() => {}
            _ => return Err(RawError::BadEndpoint(endpoint.to_owned())),
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(timeout))
            .build();
        Ok(RawClient {
            endpoint: endpoint.to_owned(),
            agent: ureq::Agent::new_with_config(config),
            region: super::client::resolve_region(None),
        })
    }

    /// Sends `body` (serialised compactly) as the input of `operation` (e.g. `"PutRecord"`).
    pub fn call(&self, operation: &str, body: &serde_json::Value) -> Result<RawResponse, RawError> {
        self.call_text(operation, &body.to_string())
    }

    /// Sends `body` byte for byte (it need not be valid JSON) as the input of `operation`.
    pub fn call_text(&self, operation: &str, body: &str) -> Result<RawResponse, RawError> {
        let reply = self.send(&crate::wire::target(operation), body)?;
        Ok(parse_answer(
            reply.status,
            reply.error_type_header.as_deref(),
            reply.body.as_bytes(),
        ))
    }

    /// Sends `body` byte for byte with `X-Amz-Target: target` (both need not be valid) and
    /// returns the answer as it arrived, whatever its status.
    pub fn send(&self, target: &str, body: &str) -> Result<RawReply, RawError> {
        let operation = target.rsplit_once('.').map_or(target, |(_, op)| op);
        let transport = |source| RawError::Transport {
            operation: operation.to_owned(),
            source,
        };
        let (date, stamp) = amz_dates(SystemTime::now());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDSEQCHECKLOCAL/{date}/{}/kinesis/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={}",
            self.region,
            "0".repeat(64)
        );
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", CONTENT_TYPE)
            .header("X-Amz-Target", target)
            .header("X-Amz-Date", stamp)
            .header("Authorization", authorization)
            .send(body)
            .map_err(transport)?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let error_type_header = header("x-amzn-errortype");
        let content_type = header("content-type");
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(transport)?;
        Ok(RawReply {
            status,
            content_type,
            error_type_header,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

/// Builds a [`RawResponse`] from the parts of an answer.
fn parse_answer(status: u16, header_type: Option<&str>, bytes: &[u8]) -> RawResponse {
    let body = String::from_utf8_lossy(bytes).into_owned();
    let (error_type, message) = crate::wire::error_parts(header_type, &body);
    RawResponse {
        status,
        error_type,
        message,
        json: serde_json::from_slice(bytes).ok(),
        body,
    }
}

/// The SigV4 date (`YYYYMMDD`) and timestamp (`YYYYMMDDTHHMMSSZ`) of `now`, in UTC.
fn amz_dates(now: SystemTime) -> (String, String) {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    (date, stamp)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are small by construction (1..=12 and 1..=31).
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_parsed_with_header_precedence() {
        let r = parse_answer(
            400,
            None,
            br#"{"__type":"ValidationException","message":"1 validation error detected"}"#,
        );
        assert_eq!(r.error_kind(), Some(ErrorKind::ValidationException));
        assert_eq!(r.message.as_deref(), Some("1 validation error detected"));
        let r = parse_answer(
            400,
            Some("ResourceNotFoundException:x"),
            br#"{"__type":"Other"}"#,
        );
        assert_eq!(r.error_type.as_deref(), Some("ResourceNotFoundException"));
        let r = parse_answer(200, None, b"not json");
        assert!(r.is_success() && r.json.is_none() && r.error_type.is_none());
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_600 + 3_723); // 2026-01-01 01:02:03
        assert_eq!(amz_dates(t), ("20260101".into(), "20260101T010203Z".into()));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn only_plain_http_endpoints() {
        assert!(RawClient::new("https://kinesis.us-east-1.amazonaws.com").is_err());
        assert!(RawClient::new("http://127.0.0.1:4567").is_ok());
    }
}
