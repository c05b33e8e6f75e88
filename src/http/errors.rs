//! Turning SDK failures into the [`KinesisError`] a Kinesis client would observe.
//!
//! The rule that matters to the checker: an error is *definite* only when the service answered
//! with an error of its own (HTTP 4xx, or a typed 5xx such as `InternalFailure`). Anything that
//! leaves the outcome open (a timeout, a connection refused, reset or closed before a full
//! answer) is [`ErrorKind::Indeterminate`]; an untyped 5xx (from the service or something in
//! between) is [`ErrorKind::UntypedServerError`]; neither is a service error. A 2xx answer that
//! does not parse is [`ErrorKind::MalformedResponse`].

use crate::types::{ErrorKind, KinesisError};
use aws_sdk_kinesis::config::http::HttpResponse;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The most characters of a response body quoted in an error message.
const BODY_EXCERPT_CHARS: usize = 600;

/// Maps a failed SDK call of `operation`.
pub(crate) fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> KinesisError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ConstructionFailure(_) => KinesisError::new(
            ErrorKind::Other,
            format!(
                "{operation} was not sent (the SDK refused to build it): {}",
                DisplayErrorContext(&err)
            ),
        ),
        SdkError::TimeoutError(_) => KinesisError::indeterminate(format!(
            "{operation}: no complete answer within the operation timeout; it may or may not \
             have taken effect"
        )),
        SdkError::DispatchFailure(failure) => {
            let cause = match failure.as_connector_error() {
                Some(c) if c.is_timeout() => "timeout",
                Some(c) if c.is_io() => "I/O error",
                Some(c) if c.is_user() => "request could not be sent",
                _ => "transport failure",
            };
            KinesisError::indeterminate(format!(
                "{operation}: {cause}; it may or may not have taken effect: {}",
                DisplayErrorContext(&err)
            ))
        }
        SdkError::ResponseError(context) => KinesisError::indeterminate(format!(
            "{operation}: the response (HTTP {}) could not be read in full; it may or may not \
             have taken effect: {}",
            context.raw().status().as_u16(),
            DisplayErrorContext(&err)
        )),
        SdkError::ServiceError(context) => {
            let raw = context.raw();
            service_error(
                operation,
                raw.status().as_u16(),
                context.err().code(),
                context.err().message(),
                raw.body().bytes(),
            )
        }
        _ => KinesisError::indeterminate(format!(
            "{operation}: unclassified SDK failure: {}",
            DisplayErrorContext(&err)
        )),
    }
}

/// Classifies an answer the service gave: its HTTP `status`, the sanitised error type `code`
/// (if any), its `message`, and the raw `body` for quoting.
pub(crate) fn service_error(
    operation: &str,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    body: Option<&[u8]>,
) -> KinesisError {
    let body_text = || excerpt(body.unwrap_or_default());
    if (200..300).contains(&status) {
        // The SDK reports a success body that does not parse as an unhandled service error.
        return KinesisError::malformed_response(format!(
            "{operation}: HTTP {status} body does not parse as the output shape: {}",
            body_text()
        ));
    }
    let Some(code) = code.filter(|c| !c.is_empty()) else {
        return if status >= 500 {
            KinesisError::new(
                ErrorKind::UntypedServerError,
                format!(
                    "{operation}: HTTP {status} without an error type (from the service or from \
                 something in between); it may or may not have taken effect: {}",
                    body_text()
                ),
            )
        } else {
            KinesisError::malformed_response(format!(
                "{operation}: HTTP {status} error without an error type: {}",
                body_text()
            ))
        };
    };
    let kind = ErrorKind::from_wire_name(code);
    let mut text = match kind {
        ErrorKind::Other => format!("{code}: {}", message.unwrap_or_default()),
        _ => message.unwrap_or_default().to_owned(),
    };
    if status != kind.http_status() {
        text.push_str(&format!(" (HTTP {status})"));
    }
    KinesisError::new(kind, text)
}

/// A printable one-line prefix of a response body.
pub(crate) fn excerpt(body: &[u8]) -> String {
    // One line: runs of whitespace (an HTML error page's line breaks) become one space.
    let text = String::from_utf8_lossy(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
    if text.chars().count() > BODY_EXCERPT_CHARS {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_are_definite_and_keep_the_message() {
        let e = service_error(
            "PutRecord",
            400,
            Some("ResourceNotFoundException"),
            Some("Stream s under account 000000000000 not found."),
            None,
        );
        assert_eq!(e.kind, ErrorKind::ResourceNotFoundException);
        assert_eq!(e.message, "Stream s under account 000000000000 not found.");
        assert!(e.kind.is_definite());
    }

    #[test]
    fn unknown_types_keep_their_name_and_odd_statuses_are_noted() {
        let e = service_error("X", 400, Some("AccessDeniedException"), Some("no"), None);
        assert_eq!(e.kind, ErrorKind::Other);
        assert_eq!(e.message, "AccessDeniedException: no");
        let e = service_error("X", 500, Some("ValidationException"), Some("m"), None);
        assert_eq!(e.kind, ErrorKind::ValidationException);
        assert_eq!(e.message, "m (HTTP 500)");
    }

    #[test]
    fn untyped_answers_are_not_service_errors() {
        let e = service_error("X", 502, None, None, Some(b"Bad Gateway"));
        assert_eq!(e.kind, ErrorKind::UntypedServerError);
        assert!(!e.kind.is_definite());
        let e = service_error("X", 400, None, None, Some(b"<html>"));
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
        let e = service_error("X", 200, None, None, Some(b"{\"ShardId\": 5}"));
        assert_eq!(e.kind, ErrorKind::MalformedResponse);
        assert!(e.message.contains("{\"ShardId\": 5}"));
    }
}
