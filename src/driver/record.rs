//! How a `StreamService` call becomes history events: the `invoke` (before the call, with
//! its arguments) and exactly one completion after it, with the fields of `docs/history.md`.
//!
//! Outcomes map as follows: a response is `ok`; a definite service exception is `fail`
//! (`error` = the exception name); an outcome the client cannot know (no answer, an untyped
//! 5xx, an answer that does not parse) is `info` (`error` = the reason).

use super::DriverError;
use super::control::Control;
use crate::api::*;
use crate::history::event::{EntryResult, ListedShard, Payload, PutEntry, ReadRecord};
use crate::history::{Event, EventType, HistoryWriter, Op};
use crate::types::{ErrorKind, KinesisError};

/// A process stops before its next operation: the run's bounds are reached, or it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Halted;

/// Records the events of one process.
pub(crate) struct Recorder<'r> {
    history: &'r HistoryWriter,
    control: &'r Control<'r>,
    process: String,
    budgeted: bool,
}

impl<'r> Recorder<'r> {
    /// A recorder for `process` whose calls are taken from the run's budget.
    pub(crate) fn new(history: &'r HistoryWriter, control: &'r Control<'r>, process: &str) -> Self {
        Recorder {
            history,
            control,
            process: process.to_owned(),
            budgeted: true,
        }
    }

    /// A recorder for `process` whose calls are outside the budget and go on after the run
    /// stopped (healing faults, the final read).
    pub(crate) fn unbudgeted(
        history: &'r HistoryWriter,
        control: &'r Control<'r>,
        process: &str,
    ) -> Self {
        Recorder {
            budgeted: false,
            ..Recorder::new(history, control, process)
        }
    }

    /// The process name.
    pub(crate) fn process(&self) -> &str {
        &self.process
    }

    /// The run's shared state.
    pub(crate) fn control(&self) -> &'r Control<'r> {
        self.control
    }

    /// An event of this process with only the fixed fields set.
    pub(crate) fn event(&self, kind: EventType, f: Op) -> Event {
        Event::new(self.process.clone(), kind, f, 0, 0)
    }

    /// Appends `event` (stamped by the writer) and tallies it. A write error stops the run.
    pub(crate) fn record(&self, event: Event) -> Result<(), Halted> {
        let (f, kind) = (event.f, event.kind);
        match self.history.record(event) {
            Ok(()) => {
                self.control.count(f, kind);
                Ok(())
            }
            Err(e) => {
                self.control.fail(DriverError::History(e));
                Err(Halted)
            }
        }
    }

    /// Takes one call from the budget (budgeted recorders) without recording anything.
    pub(crate) fn take_call(&self) -> Result<(), Halted> {
        if !self.budgeted {
            self.control.count_unbudgeted();
            Ok(())
        } else if self.control.take_op() {
            Ok(())
        } else {
            Err(Halted)
        }
    }

    /// Records the completion of `f` for `result`: `ok` filled by `fill`, else `fail` or
    /// `info` by the error's kind.
    pub(crate) fn finish<T>(
        &self,
        f: Op,
        result: &Result<T, KinesisError>,
        fill: impl FnOnce(&T, &mut Event),
    ) -> Result<(), Halted> {
        let mut e = self.event(EventType::Ok, f);
        match result {
            Ok(v) => fill(v, &mut e),
            Err(err) => failure(&mut e, err),
        }
        self.record(e)
    }

    /// One recorded call: takes it from the budget, records `invoke`, runs `call`, records
    /// its completion. `Err(Halted)` means the call was not made (nothing was recorded).
    pub(crate) fn call<T>(
        &self,
        invoke: Event,
        call: impl FnOnce() -> Result<T, KinesisError>,
        fill: impl FnOnce(&T, &mut Event),
    ) -> Result<Result<T, KinesisError>, Halted> {
        self.take_call()?;
        let f = invoke.f;
        self.record(invoke)?;
        let result = call();
        self.finish(f, &result, fill)?;
        Ok(result)
    }
}

/// True when nobody can know whether the call took effect: no answer, an untyped 5xx, or an
/// answer that does not parse.
pub(crate) fn outcome_unknown(err: &KinesisError) -> bool {
    err.kind.is_unknown_outcome() || err.kind == ErrorKind::MalformedResponse
}

/// Why an unknown outcome is unknown, as the history's `error` of an `info`.
fn unknown_reason(err: &KinesisError) -> &'static str {
    let m = err.message.to_ascii_lowercase();
    match err.kind {
        ErrorKind::UntypedServerError => "untyped server error",
        ErrorKind::MalformedResponse => "malformed response",
        _ if m.contains("timeout") || m.contains("timed out") => "timeout",
        _ if m.contains("reset") || m.contains("broken pipe") || m.contains("closed") => {
            "connection reset"
        }
        _ if m.contains("refused") => "connection refused",
        _ => "no answer",
    }
}

/// Turns `e` into the completion of a failed call: `info` when the outcome is unknown, else
/// `fail` with the exception name.
pub(crate) fn failure(e: &mut Event, err: &KinesisError) {
    if outcome_unknown(err) {
        e.kind = EventType::Info;
        e.error = Some(unknown_reason(err).to_owned());
    } else {
        e.kind = EventType::Fail;
        e.error = Some(err.kind.name().to_owned());
    }
    e.message = Some(err.message.clone());
}

/// The `data` / `data_b64` fields of `bytes`.
fn data_fields(bytes: &[u8]) -> (Option<String>, Option<String>) {
    Payload::of(bytes).into_fields()
}

/// Arguments of `CreateStream`.
pub(crate) fn create_stream_args(e: &mut Event, req: &CreateStreamRequest) {
    e.stream = Some(req.stream_name.clone());
    e.shard_count = u32::try_from(req.shard_count).ok();
}

/// Arguments of a request naming only a stream (`DescribeStreamSummary`, `ListShards`).
pub(crate) fn stream_args(e: &mut Event, stream: &str) {
    e.stream = Some(stream.to_owned());
}

/// Arguments of `PutRecord`, attempt `attempt` (1-based) of its logical put.
pub(crate) fn put_record_args(e: &mut Event, req: &PutRecordRequest, attempt: u32) {
    e.stream = Some(req.stream_name.clone());
    e.key = Some(req.partition_key.clone());
    (e.data, e.data_b64) = data_fields(&req.data);
    e.hash_key.clone_from(&req.explicit_hash_key);
    e.snfo.clone_from(&req.sequence_number_for_ordering);
    e.attempt = Some(attempt);
}

/// Arguments of `PutRecords`, attempt `attempt` of its entries.
pub(crate) fn put_records_args(e: &mut Event, req: &PutRecordsRequest, attempt: u32) {
    e.stream = Some(req.stream_name.clone());
    e.entries = Some(
        req.records
            .iter()
            .map(|r| {
                let (data, data_b64) = data_fields(&r.data);
                PutEntry {
                    key: r.partition_key.clone(),
                    data,
                    data_b64,
                    hash_key: r.explicit_hash_key.clone(),
                }
            })
            .collect(),
    );
    e.attempt = Some(attempt);
}

/// Arguments of `GetShardIterator`.
pub(crate) fn get_shard_iterator_args(e: &mut Event, req: &GetShardIteratorRequest) {
    e.stream = Some(req.stream_name.clone());
    e.shard = Some(req.shard_id.clone());
    e.iterator_type = Some(req.shard_iterator_type.name().to_owned());
    e.start_seq.clone_from(&req.starting_sequence_number);
    e.timestamp_ms = req.timestamp_ms;
}

/// Arguments of `GetRecords` on `shard`.
pub(crate) fn get_records_args(e: &mut Event, shard: &str, req: &GetRecordsRequest) {
    e.shard = Some(shard.to_owned());
    e.iterator = Some(req.shard_iterator.clone());
    e.limit = req.limit.and_then(|l| u32::try_from(l).ok());
}

/// Arguments of `SplitShard`.
pub(crate) fn split_args(e: &mut Event, req: &SplitShardRequest) {
    e.stream = Some(req.stream_name.clone());
    e.shard = Some(req.shard_to_split.clone());
    e.new_start_hash = Some(req.new_starting_hash_key.clone());
}

/// Arguments of `MergeShards`.
pub(crate) fn merge_args(e: &mut Event, req: &MergeShardsRequest) {
    e.stream = Some(req.stream_name.clone());
    e.shard = Some(req.shard_to_merge.clone());
    e.adjacent = Some(req.adjacent_shard_to_merge.clone());
}

/// Arguments of `UpdateShardCount`.
pub(crate) fn update_shard_count_args(e: &mut Event, req: &UpdateShardCountRequest) {
    e.stream = Some(req.stream_name.clone());
    e.target_count = u32::try_from(req.target_shard_count).ok();
}

/// Results of `PutRecord`.
pub(crate) fn put_ok(r: &PutRecordResponse, e: &mut Event) {
    e.shard = Some(r.shard_id.to_string());
    e.seq = Some(r.sequence_number.to_string());
}

/// Results of `PutRecords`: one per entry, in order.
pub(crate) fn put_batch_ok(r: &PutRecordsResponse, e: &mut Event) {
    e.results = Some(
        r.records
            .iter()
            .map(|entry| match entry {
                Ok(p) => EntryResult {
                    shard: Some(p.shard_id.to_string()),
                    seq: Some(p.sequence_number.to_string()),
                    ..EntryResult::default()
                },
                Err(err) => EntryResult {
                    error: Some(err.kind.name().to_owned()),
                    message: Some(err.message.clone()),
                    ..EntryResult::default()
                },
            })
            .collect(),
    );
}

/// Result of `GetShardIterator`.
// `&String`: the signature `Recorder::call` passes a `String` result's filler.
#[allow(clippy::ptr_arg)]
pub(crate) fn iterator_ok(r: &String, e: &mut Event) {
    e.iterator = Some(r.clone());
}

/// Results of `GetRecords`.
pub(crate) fn records_ok(r: &GetRecordsResponse, e: &mut Event) {
    e.records = Some(
        r.records
            .iter()
            .map(|rec| {
                let (data, data_b64) = data_fields(&rec.data);
                ReadRecord {
                    seq: rec.sequence_number.to_string(),
                    key: rec.partition_key.to_string(),
                    data,
                    data_b64,
                    arrival_ms: Some(rec.approximate_arrival_ms),
                }
            })
            .collect(),
    );
    e.next_iterator.clone_from(&r.next_shard_iterator);
    e.millis_behind = Some(r.millis_behind_latest);
    e.children = Some(
        r.child_shards
            .iter()
            .map(|c| c.shard_id.to_string())
            .collect(),
    );
}

/// One listed shard as the history carries it.
pub(crate) fn listed(s: &ShardDescription) -> ListedShard {
    ListedShard {
        shard: s.shard_id.to_string(),
        parents: s
            .parent_shard_id
            .iter()
            .chain(s.adjacent_parent_shard_id.iter())
            .map(ToString::to_string)
            .collect(),
        hash_start: s.hash_key_range.start.to_string(),
        hash_end: s.hash_key_range.end.to_string(),
        start_seq: s.starting_sequence_number.to_string(),
        end_seq: s.ending_sequence_number.as_ref().map(ToString::to_string),
    }
}

/// Results of one `ListShards` page.
pub(crate) fn shards_ok(r: &ListShardsResponse, e: &mut Event) {
    e.shards = Some(r.shards.iter().map(listed).collect());
}

/// Results of `DescribeStreamSummary`.
pub(crate) fn summary_ok(r: &StreamSummary, e: &mut Event) {
    e.status = Some(r.status.name().to_owned());
    e.open_shards = Some(r.open_shard_count);
}

/// For calls with nothing to report.
pub(crate) fn nothing<T>(_: &T, _: &mut Event) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_outcomes_are_info_and_definite_errors_fail() {
        let mut e = Event::new("p", EventType::Ok, Op::PutRecord, 0, 0);
        failure(&mut e, &KinesisError::indeterminate("operation timed out"));
        assert_eq!(e.kind, EventType::Info);
        assert_eq!(e.error.as_deref(), Some("timeout"));
        let mut e = Event::new("p", EventType::Ok, Op::PutRecord, 0, 0);
        failure(
            &mut e,
            &KinesisError::new(
                ErrorKind::ProvisionedThroughputExceededException,
                "slow down",
            ),
        );
        assert_eq!(e.kind, EventType::Fail);
        assert_eq!(
            e.error.as_deref(),
            Some("ProvisionedThroughputExceededException")
        );
        let mut e = Event::new("p", EventType::Ok, Op::GetRecords, 0, 0);
        failure(&mut e, &KinesisError::malformed_response("not json"));
        assert_eq!(e.kind, EventType::Info);
    }
}
