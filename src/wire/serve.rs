//! The front end of an in-process implementation: a raw request decoded as Kinesis decodes
//! it, answered by the typed implementation, and written back as JSON 1.1.

use super::decode::decode_request;
use super::encode::encode_outcome;
use crate::api::{Outcome, RawReply, RawRequest, Request};
use crate::types::KinesisError;

/// The account and region a service's stream ARNs name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The region (`us-east-1`).
    pub region: String,
    /// The 12-digit account id.
    pub account: String,
}

impl Identity {
    /// The identity of the in-process implementations: `us-east-1`, account `000000000000`.
    pub fn local() -> Self {
        Identity {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }

    /// The ARN of stream `name`.
    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{name}",
            self.region, self.account
        )
    }
}

/// Answers `request` as a Kinesis front end with `identity` would, passing every request it
/// accepts to `answer`. A `StreamARN` of another account or region names no stream here
/// (`ResourceNotFoundException`).
pub fn serve(
    identity: &Identity,
    request: &RawRequest,
    answer: impl Fn(&Request) -> Outcome,
) -> RawReply {
    let arn_of = |name: &str| identity.stream_arn(name);
    let decoded = match decode_request(&request.target, &request.body) {
        Ok(d) => d,
        Err(rejection) => return encode_outcome(&Err(rejection.error), arn_of),
    };
    if let Some(arn) = &decoded.addressing.stream_arn {
        let name = super::parse_stream_arn(arn).unwrap_or_default();
        if *arn != identity.stream_arn(&name) {
            let e = KinesisError::not_found(format!(
                "Stream {name} under account {} not found ({arn} names another account or region)",
                identity.account
            ));
            return encode_outcome(&Err(e), arn_of);
        }
    }
    encode_outcome(&answer(&decoded.request), arn_of)
}
