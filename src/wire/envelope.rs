//! The envelope rules of the JSON 1.1 protocol every answer must follow (kinesis-semantics
//! §9.1, §10 P22): the content type, HTTP 200 for success, HTTP 400 (500 for an internal
//! failure) with `__type` and `message` for errors, no JSON `null` members, shard iterators of
//! 1 to 512 characters.

use super::{CONTENT_TYPE, MAX_ITERATOR_CHARS};
use crate::api::RawReply;
use crate::types::ErrorKind;
use serde_json::Value;

/// Error types the front end answers before the request is parsed into an operation's input;
/// P22 asks for a message only of errors answered after that, and AWS sends these two
/// without one.
const FRONT_END_ERRORS: [&str; 2] = ["SerializationException", "UnknownOperationException"];

/// Every way `reply` breaks the envelope rules, in words; empty when it follows them.
pub fn envelope_violations(reply: &RawReply) -> Vec<String> {
    let mut problems = Vec::new();
    let media_type = reply
        .content_type
        .as_deref()
        .map(|c| c.split(';').next().unwrap_or(c).trim());
    if media_type != Some(CONTENT_TYPE) {
        problems.push(format!(
            "Content-Type is {}, not {CONTENT_TYPE}",
            reply
                .content_type
                .as_deref()
                .map_or("absent".to_owned(), |c| format!("'{c}'"))
        ));
    }
    let json: Option<Value> = if reply.body.trim().is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(&reply.body) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => {
                problems.push(format!(
                    "the body is not a JSON object: {}",
                    excerpt(&reply.body)
                ));
                return problems;
            }
        }
    };
    if let Some(v) = &json {
        let mut nulls = Vec::new();
        null_members(v, "", &mut nulls);
        if !nulls.is_empty() {
            problems.push(format!("JSON null members: {}", nulls.join(", ")));
        }
        iterator_lengths(v, &mut problems);
    }
    if (200..300).contains(&reply.status) {
        if reply.status != 200 {
            problems.push(format!("a success is HTTP {}, not 200", reply.status));
        }
        return problems;
    }
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(Value::as_str)
    };
    match field("__type").filter(|t| !t.is_empty()) {
        None => problems.push(format!(
            "an HTTP {} error body has no __type: {}",
            reply.status,
            excerpt(&reply.body)
        )),
        Some(raw_type) => {
            let name = super::reply::sanitize_error_type(raw_type);
            let kind = ErrorKind::from_wire_name(name);
            let status_ok = match kind {
                ErrorKind::Other => (400..600).contains(&reply.status),
                known => reply.status == known.http_status(),
            };
            if !status_ok {
                problems.push(format!("{name} is answered with HTTP {}", reply.status));
            }
            let message = field("message").or_else(|| field("Message"));
            if message.is_none() && !FRONT_END_ERRORS.contains(&name) {
                problems.push(format!("the {name} error body has no message"));
            }
        }
    }
    problems
}

/// The first 120 characters of `body`.
fn excerpt(body: &str) -> String {
    let cut: String = body.chars().take(120).collect();
    if cut.len() < body.len() {
        format!("'{cut}…'")
    } else {
        format!("'{cut}'")
    }
}

fn null_members(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(members) => {
            for (k, child) in members {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if child.is_null() {
                    out.push(p);
                } else {
                    null_members(child, &p, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                if child.is_null() {
                    out.push(p);
                } else {
                    null_members(child, &p, out);
                }
            }
        }
        _ => {}
    }
}

fn iterator_lengths(v: &Value, problems: &mut Vec<String>) {
    for name in ["ShardIterator", "NextShardIterator"] {
        if let Some(Value::String(it)) = v.get(name) {
            let n = it.chars().count();
            if n == 0 || n > MAX_ITERATOR_CHARS {
                problems.push(format!(
                    "{name} has {n} characters (1 to {MAX_ITERATOR_CHARS} allowed)"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> RawReply {
        RawReply {
            status,
            content_type: Some(CONTENT_TYPE.into()),
            error_type_header: None,
            body: body.into(),
        }
    }

    #[test]
    fn conforming_answers_have_no_problems() {
        assert!(envelope_violations(&reply(200, "")).is_empty());
        assert!(envelope_violations(&reply(200, r#"{"ShardIterator":"AAAA"}"#)).is_empty());
        assert!(
            envelope_violations(&reply(
                400,
                r#"{"__type":"ValidationException","message":"m"}"#
            ))
            .is_empty()
        );
        assert!(
            envelope_violations(&reply(400, r#"{"__type":"SerializationException"}"#)).is_empty()
        );
        assert!(
            envelope_violations(&reply(500, r#"{"__type":"InternalFailure","message":"m"}"#))
                .is_empty()
        );
    }

    #[test]
    fn each_rule_is_checked() {
        let mut wrong_type = reply(200, "{}");
        wrong_type.content_type = Some("application/json".into());
        for (r, expected) in [
            (wrong_type, "Content-Type"),
            (reply(400, r#"{"message":"m"}"#), "no __type"),
            (
                reply(400, r#"{"__type":"ValidationException"}"#),
                "no message",
            ),
            (
                reply(500, r#"{"__type":"ValidationException","message":"m"}"#),
                "HTTP 500",
            ),
            (reply(200, r#"{"NextShardIterator":null}"#), "null members"),
            (
                reply(
                    200,
                    &format!(r#"{{"ShardIterator":"{}"}}"#, "A".repeat(513)),
                ),
                "513 characters",
            ),
            (reply(200, "[1]"), "not a JSON object"),
        ] {
            let problems = envelope_violations(&r);
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected}: {problems:?}"
            );
        }
    }
}
