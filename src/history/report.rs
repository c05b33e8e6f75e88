//! What a history check found: anomalies by class, each with the events that show it, and the
//! measurements that are not verdicts (read-your-writes lag, resolved unknown outcomes).

use super::io::EventRef;
use serde::{Deserialize, Serialize};

/// A kind of anomaly the checker reports. Every class but [`AnomalyClass::RetryDuplicate`] is
/// a violation of what Kinesis promises (or, for the consumer classes, of what the KCL's
/// at-least-once processing promises).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyClass {
    /// One sequence number (of one shard) with two different records.
    InconsistentRecord,
    /// One payload at two sequence numbers although its producer never retried it after an
    /// unknown or failed outcome.
    Duplicate,
    /// One payload at two sequence numbers after its producer retried an attempt whose outcome
    /// was unknown or failed: allowed by Kinesis (reported, not a violation).
    RetryDuplicate,
    /// Acknowledged, within retention, never read by reads that covered it.
    LostWrite,
    /// Acknowledged before a kill of the service, read before it or not, and gone after the
    /// restart.
    LostAcrossCrash,
    /// Read, but no put ever carried its payload.
    Phantom,
    /// Read at another shard or sequence number than its put was acknowledged with.
    AckMismatch,
    /// Along one chain of `NextShardIterator`: numbers that do not increase, or a page that
    /// skips a record known to lie between the previous page and it.
    IteratorChain,
    /// Records of one `SequenceNumberForOrdering` chain whose numbers do not strictly increase.
    SnfoViolation,
    /// A child shard's record numbered at or below a record of its parent with the same
    /// partition key.
    CrossReshardOrder,
    /// A consumer's checkpoint covers an acknowledged record of its shard it never processed.
    UnprocessedBeforeCheckpoint,
    /// A record processed twice where at-least-once does not excuse it: no consumer crash or
    /// lease change came between a durable checkpoint covering it and the repeat.
    IllegalReprocessing,
    /// A child shard's record processed before its parent was processed to its end.
    ChildBeforeParent,
    /// Records of one partition key processed out of their shard order by one consumer.
    KeyOrder,
    /// A checkpoint of a shard below an earlier durable checkpoint of it.
    CheckpointBackwards,
    /// The history breaks its own format's rules (an ok without an invoke, two pending
    /// operations in one process, an unparsable number).
    MalformedHistory,
    /// A record a read at the tip still did not return longer after its acknowledgement than
    /// the bound the user gave (counted only when a bound is given; see [`LagSummary`]).
    ReadLag,
}

impl AnomalyClass {
    /// Whether an anomaly of this class is a violation (everything but retry duplicates).
    pub fn is_violation(self) -> bool {
        self != AnomalyClass::RetryDuplicate
    }
}

/// One anomaly: what is wrong, where, and the exact events that show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Its class.
    pub class: AnomalyClass,
    /// The shard it concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// One sentence that says what was observed, with numbers and payloads.
    pub detail: String,
    /// The events that show it, in history order (for a lost write: its invoke and ok, and the
    /// read that should have returned it).
    pub events: Vec<EventRef>,
}

/// All anomalies of one class: how many, and the first few in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCount {
    /// The class.
    pub class: AnomalyClass,
    /// How many anomalies of the class were found.
    pub count: u64,
    /// The first examples (at most the checker's example limit), in history order.
    pub examples: Vec<Anomaly>,
}

/// The overall verdict of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Checks ran (acknowledged puts and reads covering them were present) and found no
    /// violation.
    Valid,
    /// At least one violation.
    Invalid,
    /// Nothing could be checked (no acknowledged put, or no read): neither valid nor invalid.
    Unchecked,
}

/// How much of the history the checker could judge. A verdict of [`Verdict::Valid`] needs
/// acknowledged puts and reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Events read.
    pub events: u64,
    /// Logical puts (payloads) and how many attempts they took in all.
    pub puts: u64,
    /// Put attempts, retries included.
    pub put_attempts: u64,
    /// Puts with at least one acknowledged attempt.
    pub acknowledged: u64,
    /// Distinct records (shard, sequence number) seen in reads.
    pub records_read: u64,
    /// Completed `GetRecords` calls.
    pub reads: u64,
    /// Shards with at least one read or acknowledged put.
    pub shards: u64,
    /// Records processed by consumers (process events that completed).
    pub processed: u64,
    /// Durable checkpoints.
    pub checkpoints: u64,
    /// Kills of the service.
    pub kills: u64,
    /// Consumer kills.
    pub consumer_kills: u64,
    /// Network faults injected.
    pub net_faults: u64,
}

/// Puts whose every attempt had an unknown outcome, resolved through their unique payloads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownOutcomes {
    /// Seen in a read: the put was applied.
    pub recovered: u64,
    /// Not seen although reads covered every shard it could have landed in: not applied.
    pub never_applied: u64,
    /// Neither (no read covered it).
    pub undetermined: u64,
}

/// Read-your-writes lag: for each acknowledged record, how long after its acknowledgement a
/// read that started later still did not return it (Jepsen's realtime lag). A measurement,
/// a violation only above a bound the user gives.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LagSummary {
    /// Records with a measured lag (zero lag included).
    pub samples: u64,
    /// Median lag in ms.
    pub p50_ms: f64,
    /// 99th percentile in ms.
    pub p99_ms: f64,
    /// Largest lag in ms.
    pub max_ms: f64,
    /// The bound the user gave, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_ms: Option<f64>,
    /// Records whose lag exceeded the bound.
    pub over_bound: u64,
}

/// Everything a check of one history (one or more merged files) found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The files checked, in the order their [`EventRef::file`] indexes refer to.
    pub files: Vec<String>,
    /// Valid, invalid or unchecked.
    pub verdict: Verdict,
    /// Every class, those with zero anomalies included, in [`AnomalyClass`] order.
    pub classes: Vec<ClassCount>,
    /// What was there to check.
    pub coverage: Coverage,
    /// How puts with unknown outcomes were resolved.
    pub unknown_outcomes: UnknownOutcomes,
    /// Read-your-writes lag.
    pub lag: LagSummary,
}
