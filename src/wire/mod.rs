//! The Kinesis JSON 1.1 wire protocol (kinesis-semantics §9.1): what a request body means, how
//! a front end rejects one it cannot read, how answers are written and read back, and the
//! envelope rules every answer must follow.
//!
//! - [`decode_request`] reads a target and body the way the Kinesis front end does: the body
//!   must parse as a JSON object (`SerializationException`), the target must name an
//!   operation (`UnknownOperationException`), members must have their JSON types
//!   (`SerializationException`; `null` counts as absent, unknown members are ignored), and
//!   required members must be present (`ValidationException`). The result is the typed
//!   [`Request`](crate::api::Request) the model and the implementations understand.
//! - [`encode_request`] writes a typed request as the body a client sends.
//! - [`encode_outcome`] writes a typed outcome as the HTTP answer a service sends;
//!   [`decode_reply`] reads such an answer back into a typed outcome.
//! - [`envelope_violations`] lists what in an answer breaks the protocol's envelope:
//!   content type, error `__type` and `message`, JSON `null` members, iterator lengths.
//! - [`serve`] answers a raw request with any [`StreamService`](crate::StreamService): the
//!   front end of the in-process implementations.
//!
//! This layer sits between the API types and everything that speaks HTTP or judges it; it
//! knows nothing of the model or of any implementation.

mod canonical;
mod decode;
mod encode;
mod envelope;
mod members;
mod reply;
mod serve;

pub use canonical::{hash_key, malformed, sequence_number, shard_id};
pub use decode::{Addressing, Decoded, Rejection, decode_request, parse_stream_arn};
pub use encode::{encode_outcome, encode_request};
pub use envelope::envelope_violations;
pub use reply::{decode_error, decode_reply, error_parts, sanitize_error_type};
pub use serve::{Identity, serve};

/// The `X-Amz-Target` prefix of the Kinesis API.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";
/// The content type of the Kinesis JSON protocol.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The most characters of a shard iterator (kinesis-semantics §3.3).
pub const MAX_ITERATOR_CHARS: usize = 512;

/// The `X-Amz-Target` of `operation`.
pub fn target(operation: &str) -> String {
    format!("{TARGET_PREFIX}.{operation}")
}
