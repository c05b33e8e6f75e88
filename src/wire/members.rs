//! Members of a request object, read with the Kinesis front end's JSON type rules
//! (kinesis-semantics §5.3, §9.1): a member of the wrong JSON type is a
//! `SerializationException` before anything else is looked at; `null` reads as absent;
//! integers given with a fraction are truncated; blobs must be canonical, padded base64.
//! Required members are collected and reported together as one `ValidationException`.

use crate::types::{ErrorKind, KinesisError};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value};

/// Most violations one `ValidationException` message lists (kinesis-semantics §9.1).
const MAX_LISTED: usize = 10;

/// A `SerializationException` with `message`.
pub(super) fn serialization(message: impl Into<String>) -> KinesisError {
    KinesisError::new(ErrorKind::SerializationException, message)
}

/// What a JSON value is, in the words the front end's messages use.
fn found(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a structure",
    }
}

fn wrong_type(path: &str, expected: &str, value: &Value) -> KinesisError {
    serialization(format!(
        "{path}: expected {expected}, found {} ({value})",
        found(value)
    ))
}

/// The members of one JSON object, at `path` (`""` for the request itself, `records.1.member`
/// for an entry), plus the required members found missing so far.
pub(super) struct Members<'a> {
    object: &'a Map<String, Value>,
    path: String,
    missing: Vec<String>,
}

impl<'a> Members<'a> {
    /// The members of `object` at `path`.
    pub(super) fn new(object: &'a Map<String, Value>, path: impl Into<String>) -> Self {
        Members {
            object,
            path: path.into(),
            missing: Vec::new(),
        }
    }

    /// The wire path of member `name` (`records.1.member.partitionKey`), lower camel case as
    /// the front end's messages spell it.
    pub(super) fn path_of(&self, name: &str) -> String {
        let mut chars = name.chars();
        let lower: String = chars
            .next()
            .map(|c| c.to_ascii_lowercase())
            .into_iter()
            .chain(chars)
            .collect();
        if self.path.is_empty() {
            lower
        } else {
            format!("{}.{lower}", self.path)
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    /// A string member.
    pub(super) fn string(&self, name: &str) -> Result<Option<String>, KinesisError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(&self.path_of(name), "a string", other)),
        }
    }

    /// An integer member (a JSON number; a fraction is truncated toward negative infinity).
    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, KinesisError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_i64().unwrap_or_else(|| {
                // Out of i64 range or fractional: clamp, as a Java long conversion saturates.
                n.as_f64().map_or(0, |f| {
                    f.floor().clamp(i64::MIN as f64, i64::MAX as f64) as i64
                })
            }))),
            Some(other) => Err(wrong_type(&self.path_of(name), "an integer", other)),
        }
    }

    /// A timestamp member: epoch seconds as a JSON number (fraction allowed), as
    /// milliseconds; times before the epoch read as 0.
    pub(super) fn timestamp_ms(&self, name: &str) -> Result<Option<u64>, KinesisError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let secs = n.as_f64().unwrap_or(0.0);
                Ok(Some((secs * 1000.0).round().max(0.0) as u64))
            }
            Some(other) => Err(wrong_type(&self.path_of(name), "epoch seconds", other)),
        }
    }

    /// A blob member: canonical, padded base64 (kinesis-semantics §9.1).
    pub(super) fn blob(&self, name: &str) -> Result<Option<Bytes>, KinesisError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => decode_base64(s).map(Some).map_err(|why| {
                serialization(format!("'{s}' can not be converted to a Blob: {why}"))
            }),
            Some(other) => Err(wrong_type(&self.path_of(name), "a base64 string", other)),
        }
    }

    /// A list member.
    pub(super) fn list(&self, name: &str) -> Result<Option<&'a Vec<Value>>, KinesisError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(&self.path_of(name), "a list", other)),
        }
    }

    /// Notes `name` as missing when `value` is `None`, and passes `value` on.
    pub(super) fn required<T>(&mut self, name: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.missing.push(self.path_of(name));
        }
        value
    }

    /// Takes over the missing members noted by `other` (an entry of this object).
    pub(super) fn absorb(&mut self, other: Members<'_>) {
        self.missing.extend(other.missing);
    }

    /// The `ValidationException` listing every missing required member, if any.
    pub(super) fn missing_error(&self) -> Option<KinesisError> {
        if self.missing.is_empty() {
            return None;
        }
        let listed: Vec<String> = self
            .missing
            .iter()
            .take(MAX_LISTED)
            .map(|p| {
                format!("Value null at '{p}' failed to satisfy constraint: Member must not be null")
            })
            .collect();
        let n = listed.len();
        Some(KinesisError::new(
            ErrorKind::ValidationException,
            format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                listed.join("; ")
            ),
        ))
    }
}

/// The object an entry of a list must be.
pub(super) fn entry_object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Map<String, Value>, KinesisError> {
    match value {
        Value::Object(o) => Ok(o),
        other => Err(wrong_type(path, "a structure", other)),
    }
}

/// Decodes canonical, padded standard base64; the error says what is wrong.
pub(super) fn decode_base64(text: &str) -> Result<Bytes, String> {
    if text.len() % 4 != 0 {
        return Err(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

/// Encodes `data` as padded standard base64.
pub(super) fn encode_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(o) => o,
            _ => Map::new(),
        }
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let o = object(json!({"PartitionKey": 5, "Limit": "3", "Data": 12, "Records": {}}));
        let m = Members::new(&o, "");
        for err in [
            m.string("PartitionKey").err(),
            m.integer("Limit").err(),
            m.blob("Data").err(),
            m.list("Records").err(),
        ] {
            assert_eq!(err.map(|e| e.kind), Some(ErrorKind::SerializationException));
        }
    }

    #[test]
    fn null_is_absent_and_fractions_truncate() {
        let o = object(json!({"PartitionKey": null, "Limit": 2.9}));
        let m = Members::new(&o, "");
        assert_eq!(m.string("PartitionKey").ok(), Some(None));
        assert_eq!(m.integer("Limit").ok(), Some(Some(2)));
    }

    #[test]
    fn base64_must_be_canonical_and_padded() {
        assert!(decode_base64("YQ==").is_ok());
        for bad in ["abc", "ab!d", "ab=c", "YR=="] {
            assert!(decode_base64(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_members_are_listed_in_one_validation_error() {
        let o = object(json!({}));
        let mut m = Members::new(&o, "");
        m.required("Data", None::<u8>);
        m.required("PartitionKey", None::<u8>);
        let e = m.missing_error().expect("two missing");
        assert_eq!(e.kind, ErrorKind::ValidationException);
        assert!(
            e.message
                .starts_with("2 validation errors detected: Value null at 'data'")
        );
    }
}
