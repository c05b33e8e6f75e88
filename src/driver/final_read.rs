//! The final read: after the workload stopped and every fault was healed, every shard
//! (`ListShards`) is read from `TRIM_HORIZON` to its end (no `NextShardIterator`) or its tip
//! (an empty page with `MillisBehindLatest` 0: every acknowledgement came before this read
//! began), as process `final-read`. The checker compares it with what was acknowledged.

use super::record::{self, Halted, Recorder, outcome_unknown};
use super::rng::Rng;
use super::{DriverConfig, topology};
use crate::api::{GetRecordsRequest, GetShardIteratorRequest};
use crate::history::{EventType, Op};
use crate::service::StreamService;
use crate::types::{ErrorKind, ShardIteratorType};
use std::time::Instant;

/// What the final read saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FinalRead {
    /// Shards listed.
    pub shards: u32,
    /// Shards read to their end or tip.
    pub shards_read: u32,
    /// Records read, all shards together.
    pub records: u64,
    /// Why some shard was not read to its end or tip, if one was not.
    pub incomplete: Option<String>,
}

/// Errors in a row after which a shard (or the listing) is given up.
const MAX_ERRORS: u32 = 30;
/// Pages per shard after which the read of a shard is given up.
const MAX_PAGES: u32 = 100_000;

/// Reads every shard of the stream; bounded by `config.final_read_limit`.
pub(crate) fn run(
    config: &DriverConfig,
    service: &dyn StreamService,
    rec: &Recorder<'_>,
) -> Result<FinalRead, Halted> {
    let deadline = Instant::now() + config.final_read_limit;
    let mut rng = Rng::fork(config.seed, rec.process());
    let mut out = FinalRead::default();
    if !topology::wait_active(rec, service, &config.stream, config.final_read_limit)? {
        out.incomplete = Some("the stream did not become ACTIVE (or is gone)".into());
    }
    let mut errors = 0;
    let shards = loop {
        match topology::list_all(rec, service, &config.stream)? {
            Ok(s) => break s,
            Err(e) => {
                errors += 1;
                if errors >= MAX_ERRORS || Instant::now() >= deadline {
                    out.incomplete = Some(format!("ListShards kept failing: {e}"));
                    return Ok(out);
                }
                std::thread::sleep(config.backoff.delay(errors, &mut rng));
            }
        }
    };
    out.shards = u32::try_from(shards.len()).unwrap_or(u32::MAX);
    for s in &shards {
        let shard = s.shard_id.to_string();
        match read_shard(config, service, rec, &mut rng, &shard, deadline)? {
            Ok(n) => {
                out.shards_read += 1;
                out.records += n;
            }
            Err(why) => {
                out.incomplete.get_or_insert(format!("{shard}: {why}"));
            }
        }
    }
    Ok(out)
}

/// Reads one shard; the number of records, or why it was not read to its end or tip.
fn read_shard(
    config: &DriverConfig,
    service: &dyn StreamService,
    rec: &Recorder<'_>,
    rng: &mut Rng,
    shard: &str,
    deadline: Instant,
) -> Result<Result<u64, String>, Halted> {
    let mut last_seq: Option<String> = None;
    let mut iterator: Option<String> = None;
    let mut records = 0u64;
    let mut errors = 0u32;
    let mut pages = 0u32;
    loop {
        if errors >= MAX_ERRORS {
            return Ok(Err(format!("{errors} errors in a row")));
        }
        if Instant::now() >= deadline {
            return Ok(Err("the final read ran out of time".into()));
        }
        if pages >= MAX_PAGES {
            return Ok(Err(format!("still not at the end after {pages} pages")));
        }
        let Some(it) = iterator.clone() else {
            let (kind, start) = match &last_seq {
                Some(seq) => (ShardIteratorType::AFTER_SEQUENCE_NUMBER, Some(seq.clone())),
                None => (ShardIteratorType::TRIM_HORIZON, None),
            };
            let req = GetShardIteratorRequest {
                stream_name: config.stream.clone(),
                shard_id: shard.to_owned(),
                shard_iterator_type: kind,
                starting_sequence_number: start,
                timestamp_ms: None,
            };
            let mut invoke = rec.event(EventType::Invoke, Op::GetShardIterator);
            record::get_shard_iterator_args(&mut invoke, &req);
            match rec.call(
                invoke,
                || service.get_shard_iterator(&req),
                record::iterator_ok,
            )? {
                Ok(it) => {
                    iterator = Some(it);
                    errors = 0;
                }
                Err(_) => {
                    errors += 1;
                    std::thread::sleep(config.backoff.delay(errors, rng));
                }
            }
            continue;
        };
        let req = GetRecordsRequest {
            shard_iterator: it,
            limit: Some(i64::from(config.page_limit.max(1)) * 10),
        };
        let mut invoke = rec.event(EventType::Invoke, Op::GetRecords);
        record::get_records_args(&mut invoke, shard, &req);
        match rec.call(invoke, || service.get_records(&req), record::records_ok)? {
            Ok(page) => {
                errors = 0;
                pages += 1;
                records += page.records.len() as u64;
                if let Some(r) = page.records.last() {
                    last_seq = Some(r.sequence_number.to_string());
                }
                match page.next_shard_iterator {
                    None => return Ok(Ok(records)),
                    Some(_) if page.records.is_empty() && page.millis_behind_latest == 0 => {
                        return Ok(Ok(records));
                    }
                    Some(next) => iterator = Some(next),
                }
            }
            Err(e) => {
                errors += 1;
                if e.kind == ErrorKind::ExpiredIteratorException {
                    iterator = None;
                } else if !outcome_unknown(&e) {
                    if !matches!(
                        e.kind,
                        ErrorKind::ProvisionedThroughputExceededException
                            | ErrorKind::LimitExceededException
                            | ErrorKind::InternalFailure
                    ) {
                        iterator = None;
                    }
                    std::thread::sleep(config.backoff.delay(errors, rng));
                }
            }
        }
    }
}
