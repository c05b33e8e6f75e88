//! Short texts for operations: the name of an operation and a one-line summary of what it did.

use crate::history::event::{Event, EventType, Op};

/// The operation's name as the history format spells it (`put_record`).
pub(crate) fn op_name(f: Op) -> String {
    kebab_or_snake(&f).unwrap_or_else(|| format!("{f:?}"))
}

/// The serde name of a unit enum variant (`lost-write`, `put_record`); `None` for anything
/// that does not serialise to a string.
pub(crate) fn kebab_or_snake<T: serde::Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}

/// A shard id in short form: `shardId-000000000003` is `s3`; other ids stay as they are.
pub(crate) fn short_shard(shard: &str) -> String {
    match shard.rsplit_once('-') {
        Some((_, digits)) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let trimmed = digits.trim_start_matches('0');
            format!("s{}", if trimmed.is_empty() { "0" } else { trimmed })
        }
        _ => shard.to_owned(),
    }
}

/// A sequence number in short form: its last six digits.
pub(crate) fn short_seq(seq: &str) -> String {
    let n = seq.chars().count();
    if n <= 8 {
        seq.to_owned()
    } else {
        let tail: String = seq.chars().skip(n - 6).collect();
        format!("…{tail}")
    }
}

/// One line that says what an operation did: its name, its main arguments and, once it
/// completed, its main result or error.
pub(crate) fn summary(f: Op, invoke: Option<&Event>, completion: Option<&Event>) -> String {
    let get = |pick: fn(&Event) -> Option<&String>| -> Option<String> {
        invoke
            .and_then(pick)
            .or_else(|| completion.and_then(pick))
            .cloned()
    };
    let shard = || {
        get(|e| e.shard.as_ref())
            .map(|s| short_shard(&s))
            .unwrap_or_default()
    };
    let ok = completion.filter(|e| e.kind == EventType::Ok);
    let mut text = match f {
        Op::PutRecord => {
            let key = get(|e| e.key.as_ref()).unwrap_or_default();
            let mut t = format!("put {key}");
            if let Some(c) = ok {
                let s = c.shard.as_deref().map(short_shard).unwrap_or_default();
                let q = c.seq.as_deref().map(short_seq).unwrap_or_default();
                t.push_str(&format!(" → {s}/{q}"));
            }
            t
        }
        Op::PutRecords => {
            let n = invoke.and_then(|e| e.entries.as_ref()).map(Vec::len);
            let mut t = match n {
                Some(n) => format!("put×{n}"),
                None => "put_records".to_owned(),
            };
            if let Some(results) = ok.and_then(|c| c.results.as_ref()) {
                let good = results.iter().filter(|r| r.error.is_none()).count();
                t.push_str(&format!(" → {good}/{} ok", results.len()));
            }
            t
        }
        Op::GetRecords => {
            let mut t = format!("get {}", shard());
            if let Some(c) = ok {
                let n = c.records.as_ref().map_or(0, Vec::len);
                t.push_str(&format!(": {n} rec"));
                if c.next_iterator.is_none() {
                    t.push_str(", end");
                }
            }
            t
        }
        Op::GetShardIterator => {
            let kind = get(|e| e.iterator_type.as_ref()).unwrap_or_default();
            format!("iterator {} {kind}", shard())
        }
        Op::ListShards => match ok.and_then(|c| c.shards.as_ref()) {
            Some(s) => format!("list_shards: {}", s.len()),
            None => "list_shards".to_owned(),
        },
        Op::DescribeStreamSummary => match ok {
            Some(c) => format!(
                "describe: {} {}",
                c.status.as_deref().unwrap_or(""),
                c.open_shards
                    .map(|n| format!("{n} open"))
                    .unwrap_or_default()
            ),
            None => "describe".to_owned(),
        },
        Op::CreateStream => {
            let n = invoke
                .and_then(|e| e.shard_count)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            format!(
                "create {}{n}",
                get(|e| e.stream.as_ref()).unwrap_or_default()
            )
        }
        Op::DeleteStream => format!("delete {}", get(|e| e.stream.as_ref()).unwrap_or_default()),
        Op::SplitShard => format!("split {}", shard()),
        Op::MergeShards => {
            let adj = get(|e| e.adjacent.as_ref())
                .map(|s| short_shard(&s))
                .unwrap_or_default();
            format!("merge {}+{adj}", shard())
        }
        Op::UpdateShardCount => match invoke.and_then(|e| e.target_count) {
            Some(n) => format!("shard count → {n}"),
            None => "update_shard_count".to_owned(),
        },
        Op::IncreaseRetention | Op::DecreaseRetention => {
            let h = invoke
                .and_then(|e| e.hours)
                .map(|h| format!(" {h}h"))
                .unwrap_or_default();
            format!("{}{h}", op_name(f))
        }
        Op::Lease | Op::Release | Op::ReadCheckpoint => format!("{} {}", op_name(f), shard()),
        Op::Process => {
            let seq = get(|e| e.seq.as_ref())
                .map(|s| short_seq(&s))
                .unwrap_or_default();
            format!("process {} {seq}", shard())
        }
        Op::Checkpoint => {
            let at_end = invoke.or(completion).is_some_and(|e| e.shard_end);
            let seq = if at_end {
                "SHARD_END".to_owned()
            } else {
                get(|e| e.seq.as_ref())
                    .map(|s| short_seq(&s))
                    .unwrap_or_default()
            };
            format!("checkpoint {} {seq}", shard())
        }
        Op::Kill | Op::Restart | Op::KillConsumer | Op::RestartConsumer => {
            let verb = if matches!(f, Op::Kill | Op::KillConsumer) {
                "kill"
            } else {
                "restart"
            };
            format!("{verb} {}", get(|e| e.target.as_ref()).unwrap_or_default())
        }
        Op::NetFault => format!(
            "net fault: {}",
            get(|e| e.fault.as_ref()).unwrap_or_default()
        ),
        Op::NetHeal => "net heal".to_owned(),
    };
    if let Some(c) = completion.filter(|e| e.kind != EventType::Ok) {
        let mark = if c.kind == EventType::Fail {
            "✗"
        } else {
            "?"
        };
        text.push_str(&format!(" {mark} {}", c.error.as_deref().unwrap_or("")));
    }
    text.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(short_shard("shardId-000000000003"), "s3");
        assert_eq!(short_shard("shardId-000000000000"), "s0");
        assert_eq!(short_shard("odd"), "odd");
        assert_eq!(
            short_seq("49590338271490256608559692538361571095921575989136588898"),
            "…588898"
        );
        assert_eq!(short_seq("42"), "42");
        assert_eq!(op_name(Op::GetRecords), "get_records");
    }
}
