//! The errors a Kinesis client can observe, named after the API's exception types.

use std::fmt;

/// The exception type of a failed Kinesis request, spelled as the service spells it in `__type`.
///
/// Three kinds are not service exceptions: [`ErrorKind::Indeterminate`] marks a request whose
/// outcome is unknown because no answer came (timeout, reset connection),
/// [`ErrorKind::UntypedServerError`] one whose outcome is unknown because the answer was an
/// HTTP 5xx without an error type, and [`ErrorKind::MalformedResponse`] a response that does not
/// parse as the API's output shape. The checker treats them specially.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ErrorKind {
    /// A request shape constraint was violated (HTTP 400).
    ValidationException,
    /// A value is well-formed but not acceptable in this context (HTTP 400).
    InvalidArgumentException,
    /// The stream or shard does not exist (HTTP 400).
    ResourceNotFoundException,
    /// The stream is not in a state that allows the operation (HTTP 400).
    ResourceInUseException,
    /// The shard iterator is older than 300 seconds (HTTP 400).
    ExpiredIteratorException,
    /// A quota was exceeded (HTTP 400).
    LimitExceededException,
    /// The request rate for a shard was exceeded (HTTP 400).
    ProvisionedThroughputExceededException,
    /// The service failed internally (HTTP 500).
    InternalFailure,
    /// The request's body did not parse or had wrong JSON types (HTTP 400).
    SerializationException,
    /// The `X-Amz-Target` names no operation of the API (HTTP 400).
    UnknownOperationException,
    /// Any other service error name, kept verbatim in the message.
    Other,
    /// The request may or may not have taken effect (transport failure, timeout).
    Indeterminate,
    /// The service (or something in between) answered HTTP 5xx without an error type: the
    /// request may or may not have taken effect, but an answer did arrive, so the checker can
    /// tell whether it happens every time the same case is replayed.
    UntypedServerError,
    /// The service answered with something that is not a valid response shape.
    MalformedResponse,
}

impl ErrorKind {
    /// Every kind, for exhaustive listings in reports.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::ValidationException,
        ErrorKind::InvalidArgumentException,
        ErrorKind::ResourceNotFoundException,
        ErrorKind::ResourceInUseException,
        ErrorKind::ExpiredIteratorException,
        ErrorKind::LimitExceededException,
        ErrorKind::ProvisionedThroughputExceededException,
        ErrorKind::InternalFailure,
        ErrorKind::SerializationException,
        ErrorKind::UnknownOperationException,
        ErrorKind::Other,
        ErrorKind::Indeterminate,
        ErrorKind::UntypedServerError,
        ErrorKind::MalformedResponse,
    ];

    /// The name used on the wire (`__type`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ValidationException => "ValidationException",
            ErrorKind::InvalidArgumentException => "InvalidArgumentException",
            ErrorKind::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorKind::ResourceInUseException => "ResourceInUseException",
            ErrorKind::ExpiredIteratorException => "ExpiredIteratorException",
            ErrorKind::LimitExceededException => "LimitExceededException",
            ErrorKind::ProvisionedThroughputExceededException => {
                "ProvisionedThroughputExceededException"
            }
            ErrorKind::InternalFailure => "InternalFailure",
            ErrorKind::SerializationException => "SerializationException",
            ErrorKind::UnknownOperationException => "UnknownOperationException",
            ErrorKind::Other => "Other",
            ErrorKind::Indeterminate => "Indeterminate",
            ErrorKind::UntypedServerError => "UntypedServerError",
            ErrorKind::MalformedResponse => "MalformedResponse",
        }
    }

    /// Parses a wire error name after the Smithy sanitising rule (drop up to `#`, from `:`).
    pub fn from_wire_name(raw: &str) -> ErrorKind {
        let name = raw.rsplit('#').next().unwrap_or(raw);
        let name = name.split(':').next().unwrap_or(name);
        match name {
            "ValidationException" => ErrorKind::ValidationException,
            "InvalidArgumentException" => ErrorKind::InvalidArgumentException,
            "ResourceNotFoundException" => ErrorKind::ResourceNotFoundException,
            "ResourceInUseException" => ErrorKind::ResourceInUseException,
            "ExpiredIteratorException" => ErrorKind::ExpiredIteratorException,
            "LimitExceededException" => ErrorKind::LimitExceededException,
            "ProvisionedThroughputExceededException" => {
                ErrorKind::ProvisionedThroughputExceededException
            }
            "InternalFailure" | "InternalFailureException" => ErrorKind::InternalFailure,
            "SerializationException" => ErrorKind::SerializationException,
            "UnknownOperationException" => ErrorKind::UnknownOperationException,
            _ => ErrorKind::Other,
        }
    }

    /// The HTTP status the service answers this error with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InternalFailure | ErrorKind::UntypedServerError => 500,
            _ => 400,
        }
    }

    /// True when the request surely had no effect on the service's state.
    pub fn is_definite(self) -> bool {
        !self.is_unknown_outcome()
    }

    /// True when the request may or may not have taken effect (the opposite of
    /// [`ErrorKind::is_definite`]): such an outcome is never a violation by itself.
    pub fn is_unknown_outcome(self) -> bool {
        matches!(
            self,
            ErrorKind::Indeterminate | ErrorKind::UntypedServerError
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed Kinesis request: the exception type a client sees plus a message saying what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{kind}: {message}")]
pub struct KinesisError {
    /// The exception type.
    pub kind: ErrorKind,
    /// A human-readable explanation; never relied on by the checker.
    pub message: String,
}

impl KinesisError {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        KinesisError {
            kind,
            message: message.into(),
        }
    }

    /// A `ValidationException` in the service's "1 validation error detected" style.
    pub fn validation(value: impl fmt::Display, path: &str, constraint: &str) -> Self {
        KinesisError::new(
            ErrorKind::ValidationException,
            format!(
                "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// An `InvalidArgumentException`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::InvalidArgumentException, message)
    }

    /// A `ResourceNotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::ResourceNotFoundException, message)
    }

    /// A `ResourceInUseException`.
    pub fn in_use(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::ResourceInUseException, message)
    }

    /// A `LimitExceededException`.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::LimitExceededException, message)
    }

    /// An `ExpiredIteratorException`.
    pub fn expired_iterator(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::ExpiredIteratorException, message)
    }

    /// An `InternalFailure` (HTTP 500).
    pub fn internal(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::InternalFailure, message)
    }

    /// An outcome that is unknown: the request may or may not have been applied.
    pub fn indeterminate(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::Indeterminate, message)
    }

    /// A response that does not parse as the API's output shape.
    pub fn malformed_response(message: impl Into<String>) -> Self {
        KinesisError::new(ErrorKind::MalformedResponse, message)
    }
}
