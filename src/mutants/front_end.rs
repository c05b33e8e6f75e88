//! Defects of a JSON 1.1 front end in front of a correct implementation: what the raw-request
//! family of the validation area must catch.

use super::BrokenTwin;
use crate::api::{Outcome, RawReply, RawRequest, Request};
use crate::wire::{Identity, serve};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// Answers `request` as the front end of `twin` would, passing accepted requests to `answer`.
pub(super) fn answer_raw(
    twin: BrokenTwin,
    request: &RawRequest,
    answer: &dyn Fn(&Request) -> Outcome,
) -> RawReply {
    let identity = Identity::local();
    let reply = serve(&identity, request, answer);
    let refused = !(200..300).contains(&reply.status);
    let put = request.operation() == "PutRecord";
    match twin {
        BrokenTwin::LenientBase64 if put && refused && reply.body.contains("Blob") => {
            // Drops what is not base64 and stores what the rest decodes to.
            match repaired_data(&request.body) {
                Some(body) => serve(
                    &identity,
                    &RawRequest {
                        target: request.target.clone(),
                        body,
                    },
                    answer,
                ),
                None => reply,
            }
        }
        BrokenTwin::RefusedPutStillStored if put && refused => {
            // Answers the right error, but a body that carries data is appended anyway.
            if let Some(body) = with_default_key(&request.body) {
                let _ = serve(
                    &identity,
                    &RawRequest {
                        target: request.target.clone(),
                        body,
                    },
                    answer,
                );
            }
            reply
        }
        BrokenTwin::NullMembersInAnswers if !refused => RawReply {
            body: with_null_member(&reply.body),
            ..reply
        },
        _ => reply,
    }
}

/// The body with `Data` reduced to base64 characters and decoded leniently, re-encoded
/// canonically; `None` when nothing usable is left.
fn repaired_data(body: &str) -> Option<String> {
    let mut json: Value = serde_json::from_str(body).ok()?;
    let data = json.get("Data")?.as_str()?;
    let kept: String = data
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
        .collect();
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = lenient.decode(kept).ok()?;
    json["Data"] = Value::from(base64::engine::general_purpose::STANDARD.encode(bytes));
    Some(json.to_string())
}

/// The body of a refused put made acceptable: a partition key and data where they are
/// missing, so the twin can store what it should have refused.
fn with_default_key(body: &str) -> Option<String> {
    let mut json: Value = serde_json::from_str(body).ok()?;
    let object = json.as_object_mut()?;
    object
        .entry("PartitionKey")
        .or_insert_with(|| Value::from("phantom"));
    object
        .entry("Data")
        .or_insert_with(|| Value::from("cGhhbnRvbQ=="));
    if !object.get("PartitionKey")?.is_string() || !object.get("Data")?.is_string() {
        return None;
    }
    Some(json.to_string())
}

/// A success body with an explicit `null` member, as some front ends write absent members.
fn with_null_member(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut o)) => {
            o.insert("KeyId".into(), Value::Null);
            Value::Object(o).to_string()
        }
        _ => r#"{"KeyId":null}"#.to_owned(),
    }
}
