//! A hand-written scanner for the common shape of an event line, producing the same borrowed
//! view ([`RawEvent`]) that serde builds, without serde's per-field dispatch.
//!
//! Guarantee: [`scan`] returns `Some` only for a line that serde_json would parse into an equal
//! [`RawEvent`]; for anything it cannot judge with certainty (escaped strings, invalid UTF-8,
//! fractional or huge numbers, duplicate fields, nesting deeper than [`MAX_DEPTH`] in an
//! unknown field, a missing required field, any syntax error, a value of an unexpected type)
//! it returns `None` and the caller parses the line with serde. So the result of a line never
//! depends on which path read it; `tests::fast_and_serde_paths_agree` checks this over many
//! shapes of lines.

use super::{RawEntry, RawEvent, RawRecord, RawResult, RawShard, Text};
use crate::history::event::{EventType, Op};
use std::borrow::Cow;

/// Nesting accepted inside a skipped (unknown) field before giving the line to serde.
pub const MAX_DEPTH: u32 = 16;

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters, valid UTF-8.
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = &self.b[self.i..];
        let n = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[n] != b'"' {
            return None;
        }
        self.i += n + 1;
        std::str::from_utf8(&rest[..n]).ok()
    }

    #[inline]
    fn text(&mut self) -> Option<Text<'a>> {
        self.str().map(|s| Text(Cow::Borrowed(s)))
    }

    /// `null` (consumed, `true`) or not (nothing consumed, `false`).
    #[inline]
    fn null(&mut self) -> Option<bool> {
        if self.peek()? == b'n' {
            if self.b[self.i..].starts_with(b"null") {
                self.i += 4;
                return Some(true);
            }
            return None;
        }
        Some(false)
    }

    fn opt_text(&mut self) -> Option<Option<Text<'a>>> {
        if self.null()? {
            Some(None)
        } else {
            self.text().map(Some)
        }
    }

    /// A JSON integer without sign, fraction or exponent that fits in a `u64`.
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        self.ws();
        let rest = &self.b[self.i..];
        let n = rest
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if n == 0 || (n > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let mut v: u64 = 0;
        for &c in &rest[..n] {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        }
        self.i += n;
        Some(v)
    }

    fn opt_uint(&mut self) -> Option<Option<u64>> {
        if self.null()? {
            Some(None)
        } else {
            self.uint().map(Some)
        }
    }

    fn bool(&mut self) -> Option<bool> {
        self.ws();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// Skips a value of a field the checker does not read.
    fn skip(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.str().map(|_| ()),
            b'-' | b'0'..=b'9' => {
                if self.b[self.i] == b'-' {
                    self.i += 1;
                }
                // Integers only (serde skips them without reading their value); at most 19
                // digits so no reader could call them out of range.
                let rest = &self.b[self.i..];
                let n = rest
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                if n == 0 || n > 19 || (n > 1 && rest[0] == b'0') {
                    return None;
                }
                if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
                    return None;
                }
                self.i += n;
                Some(())
            }
            b't' | b'f' => self.bool().map(|_| ()),
            b'n' => self.null()?.then_some(()),
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => self.object(|c, _| c.skip(depth + 1)),
            _ => None,
        }
    }

    /// An object: calls `field` with each key, positioned at its value.
    #[inline]
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.str()?;
            self.eat(b':')?;
            field(self, k)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: calls `item` for each element.
    #[inline]
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `null` or an array of `item`s.
    fn opt_vec<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Option<Vec<T>>> {
        if self.null()? {
            return Some(None);
        }
        let mut v = Vec::new();
        self.array(|c| {
            v.push(item(c)?);
            Some(())
        })?;
        Some(Some(v))
    }
}

/// Marks field `bit` as seen; `None` when it already was (serde rejects duplicate fields).
#[inline]
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    let m = 1 << bit;
    if *seen & m != 0 {
        return None;
    }
    *seen |= m;
    Some(())
}

fn event_type(s: &str) -> Option<EventType> {
    Some(match s {
        "invoke" => EventType::Invoke,
        "ok" => EventType::Ok,
        "fail" => EventType::Fail,
        "info" => EventType::Info,
        _ => return None,
    })
}

/// The operation named `s` in the format (serde's snake_case names of [`Op`]).
pub fn op(s: &str) -> Option<Op> {
    Some(match s {
        "create_stream" => Op::CreateStream,
        "delete_stream" => Op::DeleteStream,
        "describe_stream_summary" => Op::DescribeStreamSummary,
        "list_shards" => Op::ListShards,
        "put_record" => Op::PutRecord,
        "put_records" => Op::PutRecords,
        "get_shard_iterator" => Op::GetShardIterator,
        "get_records" => Op::GetRecords,
        "split_shard" => Op::SplitShard,
        "merge_shards" => Op::MergeShards,
        "update_shard_count" => Op::UpdateShardCount,
        "increase_retention" => Op::IncreaseRetention,
        "decrease_retention" => Op::DecreaseRetention,
        "lease" => Op::Lease,
        "release" => Op::Release,
        "process" => Op::Process,
        "checkpoint" => Op::Checkpoint,
        "read_checkpoint" => Op::ReadCheckpoint,
        "kill" => Op::Kill,
        "restart" => Op::Restart,
        "net_fault" => Op::NetFault,
        "net_heal" => Op::NetHeal,
        "kill_consumer" => Op::KillConsumer,
        "restart_consumer" => Op::RestartConsumer,
        _ => return None,
    })
}

fn record<'a>(c: &mut Cur<'a>) -> Option<RawRecord<'a>> {
    let (mut seq, mut key, mut data, mut data_b64) = (None, None, None, None);
    let mut seen = 0u32;
    c.object(|c, k| {
        match k {
            "seq" => {
                once(&mut seen, 0)?;
                seq = Some(c.text()?);
            }
            "key" => {
                once(&mut seen, 1)?;
                key = Some(c.text()?);
            }
            "data" => {
                once(&mut seen, 2)?;
                data = c.opt_text()?;
            }
            "data_b64" => {
                once(&mut seen, 3)?;
                data_b64 = c.opt_text()?;
            }
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    Some(RawRecord {
        seq: seq?,
        key: key?,
        data,
        data_b64,
    })
}

fn entry<'a>(c: &mut Cur<'a>) -> Option<RawEntry<'a>> {
    let (mut key, mut data, mut data_b64) = (None, None, None);
    let mut seen = 0u32;
    c.object(|c, k| {
        match k {
            "key" => {
                once(&mut seen, 0)?;
                key = Some(c.text()?);
            }
            "data" => {
                once(&mut seen, 1)?;
                data = c.opt_text()?;
            }
            "data_b64" => {
                once(&mut seen, 2)?;
                data_b64 = c.opt_text()?;
            }
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    Some(RawEntry {
        key: key?,
        data,
        data_b64,
    })
}

fn result<'a>(c: &mut Cur<'a>) -> Option<RawResult<'a>> {
    let (mut shard, mut seq) = (None, None);
    let mut seen = 0u32;
    c.object(|c, k| {
        match k {
            "shard" => {
                once(&mut seen, 0)?;
                shard = c.opt_text()?;
            }
            "seq" => {
                once(&mut seen, 1)?;
                seq = c.opt_text()?;
            }
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    Some(RawResult { shard, seq })
}

fn listed_shard<'a>(c: &mut Cur<'a>) -> Option<RawShard<'a>> {
    let (mut shard, mut parents) = (None, Vec::new());
    let mut seen = 0u32;
    c.object(|c, k| {
        match k {
            "shard" => {
                once(&mut seen, 0)?;
                shard = Some(c.text()?);
            }
            "parents" => {
                once(&mut seen, 1)?;
                c.array(|c| {
                    parents.push(c.text()?);
                    Some(())
                })?;
            }
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    Some(RawShard {
        shard: shard?,
        parents,
    })
}

/// The borrowed view of `line`, when the scanner is certain serde would build the same one;
/// `None` otherwise (the caller then asks serde).
pub fn scan(line: &[u8]) -> Option<RawEvent<'_>> {
    let mut c = Cur { b: line, i: 0 };
    let mut seen = 0u32;
    let (mut v, mut process, mut kind, mut f, mut wall_us) = (None, None, None, None, None);
    let mut ev = RawEvent {
        v: 0,
        process: Text(Cow::Borrowed("")),
        kind: EventType::Info,
        f: Op::Kill,
        wall_us: 0,
        node: None,
        shard: None,
        seq: None,
        key: None,
        data: None,
        data_b64: None,
        snfo: None,
        attempt: None,
        entries: None,
        results: None,
        iterator_type: None,
        start_seq: None,
        timestamp_ms: None,
        iterator: None,
        records: None,
        next_iterator: None,
        millis_behind: None,
        children: None,
        shards: None,
        shard_end: false,
        target: None,
        error: None,
    };
    c.object(|c, k| {
        match k {
            "v" => {
                once(&mut seen, 0)?;
                v = Some(u32::try_from(c.uint()?).ok()?);
            }
            "process" => {
                once(&mut seen, 1)?;
                process = Some(c.text()?);
            }
            "type" => {
                once(&mut seen, 2)?;
                kind = Some(event_type(c.str()?)?);
            }
            "f" => {
                once(&mut seen, 3)?;
                f = Some(op(c.str()?)?);
            }
            "wall_us" => {
                once(&mut seen, 4)?;
                wall_us = Some(c.uint()?);
            }
            "node" => {
                once(&mut seen, 5)?;
                ev.node = c.opt_text()?;
            }
            "shard" => {
                once(&mut seen, 6)?;
                ev.shard = c.opt_text()?;
            }
            "seq" => {
                once(&mut seen, 7)?;
                ev.seq = c.opt_text()?;
            }
            "key" => {
                once(&mut seen, 8)?;
                ev.key = c.opt_text()?;
            }
            "data" => {
                once(&mut seen, 9)?;
                ev.data = c.opt_text()?;
            }
            "data_b64" => {
                once(&mut seen, 10)?;
                ev.data_b64 = c.opt_text()?;
            }
            "snfo" => {
                once(&mut seen, 11)?;
                ev.snfo = c.opt_text()?;
            }
            "attempt" => {
                once(&mut seen, 12)?;
                ev.attempt = match c.opt_uint()? {
                    Some(a) => Some(u32::try_from(a).ok()?),
                    None => None,
                };
            }
            "entries" => {
                once(&mut seen, 13)?;
                ev.entries = c.opt_vec(entry)?;
            }
            "results" => {
                once(&mut seen, 14)?;
                ev.results = c.opt_vec(result)?;
            }
            "iterator_type" => {
                once(&mut seen, 15)?;
                ev.iterator_type = c.opt_text()?;
            }
            "start_seq" => {
                once(&mut seen, 16)?;
                ev.start_seq = c.opt_text()?;
            }
            "timestamp_ms" => {
                once(&mut seen, 17)?;
                ev.timestamp_ms = c.opt_uint()?;
            }
            "iterator" => {
                once(&mut seen, 18)?;
                ev.iterator = c.opt_text()?;
            }
            "records" => {
                once(&mut seen, 19)?;
                ev.records = c.opt_vec(record)?;
            }
            "next_iterator" => {
                once(&mut seen, 20)?;
                ev.next_iterator = c.opt_text()?;
            }
            "millis_behind" => {
                once(&mut seen, 21)?;
                ev.millis_behind = c.opt_uint()?;
            }
            "children" => {
                once(&mut seen, 22)?;
                ev.children = c.opt_vec(Cur::text)?;
            }
            "shards" => {
                once(&mut seen, 23)?;
                ev.shards = c.opt_vec(listed_shard)?;
            }
            "shard_end" => {
                once(&mut seen, 24)?;
                ev.shard_end = c.bool()?;
            }
            "target" => {
                once(&mut seen, 25)?;
                ev.target = c.opt_text()?;
            }
            "error" => {
                once(&mut seen, 26)?;
                ev.error = c.opt_text()?;
            }
            _ => c.skip(1)?,
        }
        Some(())
    })?;
    c.ws();
    if c.i != line.len() {
        return None;
    }
    ev.v = v?;
    ev.process = process?;
    ev.kind = kind?;
    ev.f = f?;
    ev.wall_us = wall_us?;
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::super::{RawEvent, parse_line};
    use super::*;
    use crate::history::check::hash::Names;
    use crate::history::synth::{SynthConfig, stream};

    /// The lowering of `line` by serde alone, as the checker did before the scanner.
    fn serde_lowered(line: &[u8]) -> String {
        let mut names = Names::default();
        match serde_json::from_slice::<RawEvent<'_>>(line) {
            Ok(raw) => match super::super::lower(&raw, &mut names) {
                Ok(l) => format!("{l:?}"),
                Err(_) => "bad".to_owned(),
            },
            Err(_) => "bad".to_owned(),
        }
    }

    /// Checks the scanner's guarantee on one line: when it answers, serde answers the same,
    /// and the lowered event is the same whichever path read it.
    fn agree(line: &[u8]) -> bool {
        let fast = scan(line);
        let slow = serde_json::from_slice::<RawEvent<'_>>(line);
        if let Some(f) = &fast {
            match &slow {
                Ok(s) => assert_eq!(
                    format!("{f:?}"),
                    format!("{s:?}"),
                    "{}",
                    String::from_utf8_lossy(line)
                ),
                Err(e) => panic!(
                    "scanner accepted a line serde rejects ({e}): {}",
                    String::from_utf8_lossy(line)
                ),
            }
        }
        let mut names = Names::default();
        let via_parse = parse_line(line, &mut names).map(|l| format!("{l:?}"));
        if let Some(l) = via_parse {
            let s = serde_lowered(line);
            if s != "bad" {
                assert_eq!(l, s, "{}", String::from_utf8_lossy(line));
            } else {
                assert!(l.contains("Bad("), "{l}");
            }
        }
        fast.is_some()
    }

    const LINES: &[&str] = &[
        r#"{"v":1,"process":"producer-0","type":"invoke","f":"put_record","mono_ns":1200,"wall_us":1764676800000000,"stream":"orders","key":"k7","data":"producer-0.17.9a0b1c2d","attempt":1}"#,
        r#"{"v":1,"process":"producer-0","type":"info","f":"put_record","mono_ns":2001200,"wall_us":1764676800002000,"error":"timeout"}"#,
        r#"{"v":1,"process":"producer-0","type":"ok","f":"put_record","mono_ns":2400000,"wall_us":1764676800002400,"shard":"shardId-000000000000","seq":"49590338271490256608559692538361571095921575989136588898"}"#,
        r#"{"v":1,"process":"consumer-0","type":"ok","f":"get_records","mono_ns":3300000,"wall_us":1764676800003300,"records":[{"seq":"495903","key":"k7","data":"producer-0.17","arrival_ms":17}],"next_iterator":"AAAB","millis_behind":0,"children":[]}"#,
        // Reordered fields, whitespace, nulls for optional fields.
        r#" { "wall_us" : 5 , "f" : "put_record" , "type" : "invoke" , "process" : "p" , "v" : 1 , "data" : null , "data_b64" : "AAE=" , "key" : "k" } "#,
        "{\"v\":1,\"process\":\"p\",\"type\":\"ok\",\"f\":\"get_records\",\"wall_us\":1,\"records\":null}\r",
        // Escapes (the scanner leaves them to serde) and non-ASCII text (the scanner reads it).
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,"key":"k","data":"a\"b\\c\u00e9"}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,"key":"k","data":"héllo ✓"}"#,
        r#"{"v":1,"process":"p\n","type":"invoke","f":"put_record","wall_us":1}"#,
        // put_records with failed entries, data_b64 entries, unknown entry fields.
        r#"{"v":1,"process":"p","type":"invoke","f":"put_records","wall_us":1,"entries":[{"key":"a","data":"x"},{"key":"b","data_b64":"AP8=","hash_key":"12"}],"attempt":3}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"put_records","wall_us":2,"results":[{"shard":"s1","seq":"10"},{"error_code":"ProvisionedThroughputExceededException"},{"shard":null,"seq":null}]}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_records","wall_us":1,"entries":[{"data":"x"}]}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_records","wall_us":1,"entries":[{"key":"a"}]}"#,
        // Iterators, shards, consumer steps, nemesis.
        r#"{"v":1,"process":"c","type":"invoke","f":"get_shard_iterator","wall_us":1,"shard":"s","iterator_type":"AT_TIMESTAMP","timestamp_ms":1764676800000}"#,
        r#"{"v":1,"process":"c","type":"invoke","f":"get_shard_iterator","wall_us":1,"shard":"s","iterator_type":"SIDEWAYS"}"#,
        r#"{"v":1,"process":"c","type":"invoke","f":"get_shard_iterator","wall_us":1,"shard":"s","iterator_type":"AFTER_SEQUENCE_NUMBER","start_seq":"0012"}"#,
        r#"{"v":1,"process":"c","type":"ok","f":"list_shards","wall_us":1,"shards":[{"shard":"a","parents":[]},{"shard":"b","parents":["a"],"hash_range":["0","9"]},{"shard":"c"}]}"#,
        r#"{"v":1,"process":"c","type":"ok","f":"list_shards","wall_us":1,"shards":[{"shard":"b","parents":null}]}"#,
        r#"{"v":1,"process":"c","type":"invoke","f":"checkpoint","wall_us":1,"shard":"s","shard_end":true}"#,
        r#"{"v":1,"process":"c","type":"invoke","f":"checkpoint","wall_us":1,"shard":"s","shard_end":null}"#,
        r#"{"v":1,"node":"m1","process":"c","type":"invoke","f":"process","wall_us":1,"shard":"s","seq":"7","key":"k","data":"d"}"#,
        r#"{"v":1,"node":"m1","process":"nemesis","type":"invoke","f":"kill_consumer","wall_us":1,"target":"c"}"#,
        r#"{"v":1,"process":"n","type":"invoke","f":"net_fault","wall_us":1,"fault":{"kind":"partition","peers":[1,2,{"x":[true,false,null]}]},"score":-3}"#,
        // Malformed: every one must come out as the serde path says.
        r#"{"v":2,"process":"p","type":"invoke","f":"put_record","wall_us":1}"#,
        r#"{"v":1.0,"process":"p","type":"invoke","f":"put_record","wall_us":1}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":-1}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":99999999999999999999}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1e3}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":01}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,"attempt":4294967296}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"teleport","wall_us":1}"#,
        r#"{"v":1,"process":"p","type":"begin","f":"put_record","wall_us":1}"#,
        r#"{"v":1,"type":"invoke","f":"put_record","wall_us":1}"#,
        r#"{"v":1,"process":"p","process":"q","type":"invoke","f":"put_record","wall_us":1}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1} x"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1"#,
        r#"{"v":1,"process":7,"type":"invoke","f":"put_record","wall_us":1}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"get_records","wall_us":1,"records":[{"seq":"x","key":"k","data":"d"}]}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"get_records","wall_us":1,"records":[{"seq":"1","key":"k"}]}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"get_records","wall_us":1,"records":[{"seq":"1","data":"d"}]}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"get_records","wall_us":1,"records":{"seq":"1"}}"#,
        r#"{"v":1,"process":"p","type":"ok","f":"get_records","wall_us":1,"records":[],"children":["a",]}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,"x":1.5}"#,
        r#"{"v":1,"process":"p","type":"invoke","f":"put_record","wall_us":1,"x":[1,2}"#,
        r#"[1,2,3]"#,
        r#"null"#,
        r#"not json"#,
        r#"{}"#,
    ];

    #[test]
    fn fast_and_serde_paths_agree() {
        let accepted: Vec<bool> = LINES.iter().map(|l| agree(l.as_bytes())).collect();
        // The common shapes go the fast way; escapes go to serde.
        assert!(accepted[..6].iter().all(|&a| a), "{accepted:?}");
        assert!(!accepted[6] && accepted[7] && !accepted[8]);
        // Invalid UTF-8 inside a string.
        let mut bad = LINES[0].as_bytes().to_vec();
        let at = bad.len() - 20;
        bad[at] = 0xff;
        assert!(!agree(&bad));
    }

    #[test]
    fn fast_and_serde_paths_agree_on_damaged_lines() {
        // Every line cut short, and every byte replaced by a few characters that change the
        // syntax: whatever the damage, the scanner answers as serde would or not at all.
        for l in LINES.iter().take(23) {
            let b = l.as_bytes();
            for cut in 0..b.len() {
                agree(&b[..cut]);
                for r in [b'"', b',', b'}', b'1', b' ', b'\\', b'n', b'.', b'-'] {
                    let mut m = b.to_vec();
                    m[cut] = r;
                    agree(&m);
                    m.insert(cut, r);
                    agree(&m);
                }
                let mut m = b.to_vec();
                m.remove(cut);
                agree(&m);
            }
        }
    }

    #[test]
    fn the_scanner_reads_every_synthetic_line() {
        let cfg = SynthConfig {
            events: 20_000,
            splits: 2,
            crashes: 1,
            consumer_kills: 1,
            ..SynthConfig::default()
        };
        let mut lines = 0;
        stream(&cfg, &mut |e| {
            let line = serde_json::to_vec(&e).expect("serialises");
            assert!(agree(&line), "{}", String::from_utf8_lossy(&line));
            lines += 1;
        });
        assert!(lines > 20_000);
    }

    #[test]
    fn every_operation_name_is_known() {
        for name in [
            "create_stream",
            "delete_stream",
            "describe_stream_summary",
            "list_shards",
            "put_record",
            "put_records",
            "get_shard_iterator",
            "get_records",
            "split_shard",
            "merge_shards",
            "update_shard_count",
            "increase_retention",
            "decrease_retention",
            "lease",
            "release",
            "process",
            "checkpoint",
            "read_checkpoint",
            "kill",
            "restart",
            "net_fault",
            "net_heal",
            "kill_consumer",
            "restart_consumer",
        ] {
            let via_serde: Op = serde_json::from_str(&format!("\"{name}\"")).expect("an op");
            assert_eq!(op(name), Some(via_serde), "{name}");
            assert_eq!(
                serde_json::to_string(&via_serde).expect("ser"),
                format!("\"{name}\"")
            );
        }
    }
}
