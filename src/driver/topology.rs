//! Recorded look-ups of a stream's shape: every shard through `ListShards` pages, and
//! waiting for `ACTIVE` by polling `DescribeStreamSummary` (never by sleeping blindly).

use super::record::{self, Halted, Recorder};
use crate::api::{ListShardsRequest, ShardDescription, StreamRequest};
use crate::history::{EventType, Op};
use crate::service::StreamService;
use crate::types::{ErrorKind, KinesisError, StreamStatus};
use std::time::{Duration, Instant};

/// Pause between two status polls.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How long a stream may answer `ResourceNotFoundException` without interruption before it
/// counts as gone (a peer that lost it across a crash) and waiting for it stops.
pub(crate) const GONE_AFTER: Duration = Duration::from_secs(5);

/// Every shard of `stream`, one recorded `ListShards` call per page (at most 100 pages).
pub(crate) fn list_all(
    rec: &Recorder<'_>,
    service: &dyn StreamService,
    stream: &str,
) -> Result<Result<Vec<ShardDescription>, KinesisError>, Halted> {
    let mut shards = Vec::new();
    let mut next_token: Option<String> = None;
    for _ in 0..100 {
        let req = ListShardsRequest {
            stream_name: if next_token.is_none() {
                Some(stream.to_owned())
            } else {
                None
            },
            next_token: next_token.clone(),
            ..ListShardsRequest::default()
        };
        let mut invoke = rec.event(EventType::Invoke, Op::ListShards);
        record::stream_args(&mut invoke, stream);
        match rec.call(invoke, || service.list_shards(&req), record::shards_ok)? {
            Ok(page) => {
                shards.extend(page.shards);
                match page.next_token {
                    Some(t) => next_token = Some(t),
                    None => return Ok(Ok(shards)),
                }
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(shards))
}

/// Polls `DescribeStreamSummary` until `stream` is `ACTIVE` (true), `limit` passes, or the
/// stream has been not found for [`GONE_AFTER`] in a row (false). Other errors are recorded
/// and polled through: a fault may hide the service for a while.
pub(crate) fn wait_active(
    rec: &Recorder<'_>,
    service: &dyn StreamService,
    stream: &str,
    limit: Duration,
) -> Result<bool, Halted> {
    let until = Instant::now() + limit;
    let req = StreamRequest {
        stream_name: stream.to_owned(),
    };
    let mut missing_since: Option<Instant> = None;
    loop {
        let mut invoke = rec.event(EventType::Invoke, Op::DescribeStreamSummary);
        record::stream_args(&mut invoke, stream);
        let result = rec.call(
            invoke,
            || service.describe_stream_summary(&req),
            record::summary_ok,
        )?;
        if matches!(&result, Ok(s) if s.status == StreamStatus::ACTIVE) {
            return Ok(true);
        }
        let now = Instant::now();
        match &result {
            Err(e) if e.kind == ErrorKind::ResourceNotFoundException => {
                if now.duration_since(*missing_since.get_or_insert(now)) >= GONE_AFTER {
                    return Ok(false);
                }
            }
            _ => missing_since = None,
        }
        if now >= until {
            return Ok(false);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// The open shards of a listing (no ending sequence number), by hash range.
pub(crate) fn open_shards(shards: &[ShardDescription]) -> Vec<&ShardDescription> {
    let mut open: Vec<&ShardDescription> = shards
        .iter()
        .filter(|s| s.ending_sequence_number.is_none())
        .collect();
    open.sort_by_key(|s| s.hash_key_range.start);
    open
}
