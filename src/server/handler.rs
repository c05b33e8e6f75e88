//! One HTTP request in, one HTTP answer out: the translation between hyper's types and
//! [`RawRequest`] / [`RawReply`].
//!
//! - `POST` with any path: the `X-Amz-Target` header (absent: the empty target, which the front
//!   end answers as [`crate::wire::decode_request`] does) and the body become a [`RawRequest`];
//!   [`StreamService::call_raw`] answers it.
//! - A body that is not UTF-8 cannot be JSON: `SerializationException`, as the front end answers
//!   any body that does not parse. A body over [`MAX_BODY_BYTES`] is refused with HTTP 413 and a
//!   `SerializationException`, without reaching the service.
//! - Any other method: HTTP 405 with `Allow: POST` and an `UnknownOperationException` envelope.
//! - The answer carries the reply's status, `Content-Type`, `x-amzn-ErrorType` when the reply
//!   has one, and always an `x-amzn-RequestId`.
//! - `Authorization` and every other header are ignored: signatures are not checked.
//! - A service that gives no answer (`call_raw` returned `Err`) or panics gets an untyped
//!   HTTP 500 (plain text, no error type), which clients read as an unknown outcome, the same as
//!   the service's own verdict.

use crate::api::{RawReply, RawRequest};
use crate::service::StreamService;
use crate::types::{ErrorKind, KinesisError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most bytes of a request body read. The largest request Kinesis accepts is a 5 MiB
/// `PutRecords` (about 6.7 MiB in base64); the suite sends a little more to see it refused.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The header naming the request target.
const TARGET: HeaderName = HeaderName::from_static("x-amz-target");
/// The header naming an error's type.
const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
/// The header carrying the request id.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// Mints request ids: UUID-shaped, unique within one server (a per-server nonce and a counter).
#[derive(Debug)]
pub struct RequestIds {
    nonce: u64,
    next: AtomicU64,
}

impl RequestIds {
    /// A fresh sequence, its nonce taken from the clock.
    pub fn new() -> Self {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        RequestIds {
            nonce,
            next: AtomicU64::new(0),
        }
    }

    /// The next id, never the same twice from one value.
    pub fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let hi = self.nonce;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xfff,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// Answers one HTTP request with `service`. Never fails and never panics: every input gets an
/// HTTP answer (delivered unless the client has gone).
pub async fn handle(
    service: Arc<dyn StreamService>,
    ids: Arc<RequestIds>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let request_id = ids.next_id();
    let reply = answer(service, request).await;
    Ok(to_response(reply, &request_id))
}

/// The [`RawReply`] for `request`, and for a 405 the `Allow` header it needs.
async fn answer(service: Arc<dyn StreamService>, request: Request<Incoming>) -> Answer {
    if request.method() != Method::POST {
        let e = KinesisError::new(
            ErrorKind::UnknownOperationException,
            format!(
                "{} is not supported: Kinesis requests are POSTs",
                request.method()
            ),
        );
        return Answer {
            reply: error_reply(&e),
            status: Some(StatusCode::METHOD_NOT_ALLOWED),
        };
    }
    let target = request
        .headers()
        .get(&TARGET)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let bytes = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e.downcast_ref::<http_body_util::LengthLimitError>().is_some();
            let e = serialization(if too_large {
                format!("the request body exceeds {MAX_BODY_BYTES} bytes")
            } else {
                format!("the request body could not be read: {e}")
            });
            return Answer {
                reply: error_reply(&e),
                status: too_large.then_some(StatusCode::PAYLOAD_TOO_LARGE),
            };
        }
    };
    let body = match String::from_utf8(bytes.to_vec()) {
        Ok(body) => body,
        Err(e) => {
            let e = serialization(format!("the body is not JSON (not UTF-8: {e})"));
            return Answer::plain(error_reply(&e));
        }
    };
    let raw = RawRequest { target, body };
    let reply = match tokio::task::spawn_blocking(move || service.call_raw(&raw)).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(e)) => untyped_failure(&format!("the service gave no answer: {e}")),
        Err(e) => untyped_failure(&format!("the service failed while answering: {e}")),
    };
    Answer::plain(reply)
}

/// A reply, with the status it is sent with when that differs from the reply's own.
struct Answer {
    reply: RawReply,
    status: Option<StatusCode>,
}

impl Answer {
    fn plain(reply: RawReply) -> Self {
        Answer {
            reply,
            status: None,
        }
    }
}

fn serialization(message: String) -> KinesisError {
    KinesisError::new(ErrorKind::SerializationException, message)
}

/// The front end's answer to `e`.
fn error_reply(e: &KinesisError) -> RawReply {
    crate::wire::encode_outcome(&Err(e.clone()), |name| name.to_owned())
}

/// An HTTP 500 without an error type: the outcome is unknown.
fn untyped_failure(message: &str) -> RawReply {
    RawReply {
        status: 500,
        content_type: Some("text/plain; charset=utf-8".into()),
        error_type_header: None,
        body: message.to_owned(),
    }
}

/// The HTTP answer for `answer`. Header values that cannot be sent (control characters) are
/// left out rather than failing the answer.
fn to_response(answer: Answer, request_id: &str) -> Response<Full<Bytes>> {
    let Answer { reply, status } = answer;
    let status = status
        .or_else(|| StatusCode::from_u16(reply.status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let value = |text: &str| HeaderValue::from_str(text).ok();
    if let Some(v) = reply.content_type.as_deref().and_then(value) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Some(v) = reply.error_type_header.as_deref().and_then(value) {
        headers.insert(ERROR_TYPE, v);
    }
    if let Some(v) = value(request_id) {
        headers.insert(REQUEST_ID, v);
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let ids = RequestIds::new();
        let (a, b) = (ids.next_id(), ids.next_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn answers_keep_the_reply_and_add_a_request_id() {
        let reply = RawReply {
            status: 400,
            content_type: Some(crate::wire::CONTENT_TYPE.into()),
            error_type_header: Some("ValidationException:".into()),
            body: "{}".into(),
        };
        let response = to_response(Answer::plain(reply), "id-1");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-type"), Some(crate::wire::CONTENT_TYPE));
        assert_eq!(header("x-amzn-errortype"), Some("ValidationException:"));
        assert_eq!(header("x-amzn-requestid"), Some("id-1"));
    }

    #[test]
    fn unsendable_statuses_and_headers_do_not_fail_the_answer() {
        let reply = RawReply {
            status: 1000,
            content_type: Some("bad\nvalue".into()),
            error_type_header: None,
            body: String::new(),
        };
        let response = to_response(Answer::plain(reply), "id");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get("content-type").is_none());
    }
}
