//! Counterexamples and per-area results, as people read them and as JSON.

use super::Area;
use super::exec::{Action, Step};
use crate::api::{Outcome, Reply, Request};
use crate::model::{CheckCounts, Violation};
use std::fmt::{self, Write as _};

/// A minimal failing case: the steps that lead to a violation, and how to replay it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Counterexample {
    /// The area whose generator found it (for a slow check, the area whose properties it
    /// judges).
    pub area: Area,
    /// The slow check whose fixed scenario found it (`None`: a generated, shrunk case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The implementation under test.
    pub implementation: String,
    /// The run's seed.
    pub seed: u64,
    /// What kind of finding this is.
    pub kind: FindingKind,
    /// The property broken and how.
    pub violation: Violation,
    /// The transcript, numbered.
    pub steps: Vec<String>,
    /// A command that replays the run.
    pub replay: String,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            FindingKind::Violation => "counterexample".to_owned(),
            kind => format!("{} finding", kind.word()),
        };
        match &self.scenario {
            None => writeln!(
                f,
                "{what} in area `{}` against {} ({} steps after shrinking):",
                self.area,
                self.implementation,
                self.steps.len()
            )?,
            Some(check) => writeln!(
                f,
                "{what} in slow check `{check}` against {} ({} steps of a fixed scenario):",
                self.implementation,
                self.steps.len()
            )?,
        }
        for s in &self.steps {
            writeln!(f, "  {s}")?;
        }
        match self.kind {
            FindingKind::Violation => writeln!(f, "violated: {}", self.violation)?,
            kind => writeln!(f, "{}: {}", kind.word(), self.violation.detail)?,
        }
        write!(f, "replay:   {}", self.replay)
    }
}

/// Renders transcript steps as numbered lines.
pub fn render_steps(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match &s.action {
            Action::Call(req, out) => format!(
                "#{:<3} {}\n       -> {}",
                s.number,
                request(req),
                outcome(out)
            ),
            Action::AdvanceClock(ms) => format!("#{:<3} (clock advances {ms} ms)", s.number),
            Action::Slept(ms) => format!(
                "#{:<3} (waits {ms} ms in real time, then refreshes idle connections)",
                s.number
            ),
            Action::NotSent(req, hazard) => format!(
                "#{:<3} {}\n       -> not sent (hazard `{hazard}`: the implementation cannot survive it)",
                s.number,
                request(req)
            ),
        })
        .collect()
}

fn text(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(24).collect();
        format!("{head:?}…({} chars)", s.chars().count())
    } else {
        format!("{s:?}")
    }
}

fn bytes(b: &[u8]) -> String {
    let head = String::from_utf8_lossy(&b[..b.len().min(24)]).into_owned();
    if b.len() > 24 {
        format!("{head:?}…({} bytes)", b.len())
    } else {
        format!("{head:?}")
    }
}

fn opt(o: &Option<String>) -> String {
    o.as_deref().map_or_else(|| "-".into(), text)
}

/// One request, compactly (at most the first 8 entries of a PutRecords).
pub fn request(r: &Request) -> String {
    render_request(r, 8)
}

/// One request with every PutRecords entry, as hazard patterns are matched against it (a
/// hazardous entry past the 8th must not slip through).
pub fn request_in_full(r: &Request) -> String {
    render_request(r, usize::MAX)
}

fn render_request(r: &Request, max_entries: usize) -> String {
    match r {
        Request::CreateStream(c) => format!(
            "CreateStream {} shards={}",
            text(&c.stream_name),
            c.shard_count
        ),
        Request::DeleteStream(d) => format!("DeleteStream {}", text(&d.stream_name)),
        Request::DescribeStreamSummary(d) => {
            format!("DescribeStreamSummary {}", text(&d.stream_name))
        }
        Request::ListShards(l) => format!(
            "ListShards stream={} token={} after={} max={:?}",
            opt(&l.stream_name),
            opt(&l.next_token),
            opt(&l.exclusive_start_shard_id),
            l.max_results
        ),
        Request::PutRecord(p) => format!(
            "PutRecord {} key={} data={} ehk={} ordering={}",
            text(&p.stream_name),
            text(&p.partition_key),
            bytes(&p.data),
            opt(&p.explicit_hash_key),
            opt(&p.sequence_number_for_ordering)
        ),
        Request::PutRecords(p) => {
            let mut s = format!(
                "PutRecords {} ({} entries)",
                text(&p.stream_name),
                p.records.len()
            );
            for (i, e) in p.records.iter().enumerate().take(max_entries) {
                let _ = write!(
                    s,
                    "\n         [{i}] key={} data={} ehk={}",
                    text(&e.partition_key),
                    bytes(&e.data),
                    opt(&e.explicit_hash_key)
                );
            }
            s
        }
        Request::GetShardIterator(g) => format!(
            "GetShardIterator {} {} {} seq={} ts={:?}",
            text(&g.stream_name),
            text(&g.shard_id),
            g.shard_iterator_type,
            opt(&g.starting_sequence_number),
            g.timestamp_ms
        ),
        Request::GetRecords(g) => format!(
            "GetRecords iterator={} limit={:?}",
            text(&g.shard_iterator),
            g.limit
        ),
        Request::SplitShard(s) => format!(
            "SplitShard {} {} at {}",
            text(&s.stream_name),
            s.shard_to_split,
            s.new_starting_hash_key
        ),
        Request::MergeShards(m) => format!(
            "MergeShards {} {} + {}",
            text(&m.stream_name),
            m.shard_to_merge,
            m.adjacent_shard_to_merge
        ),
        Request::UpdateShardCount(u) => format!(
            "UpdateShardCount {} target={}",
            text(&u.stream_name),
            u.target_shard_count
        ),
        Request::IncreaseStreamRetentionPeriod(r) => format!(
            "IncreaseStreamRetentionPeriod {} {} h",
            text(&r.stream_name),
            r.retention_period_hours
        ),
        Request::DecreaseStreamRetentionPeriod(r) => format!(
            "DecreaseStreamRetentionPeriod {} {} h",
            text(&r.stream_name),
            r.retention_period_hours
        ),
        Request::Raw(raw) => {
            let limit = if max_entries == usize::MAX {
                usize::MAX
            } else {
                RAW_EXCERPT
            };
            format!("Raw {} body={}", raw.target, excerpt(&raw.body, limit))
        }
    }
}

/// Most characters of a raw body a transcript shows.
const RAW_EXCERPT: usize = 240;

/// `body` quoted, cut after `limit` characters (with the total length when cut).
fn excerpt(body: &str, limit: usize) -> String {
    let n = body.chars().count();
    if n <= limit {
        format!("{body:?}")
    } else {
        let cut: String = body.chars().take(limit).collect();
        format!("{cut:?}… ({n} characters)")
    }
}

/// One outcome, compactly.
pub fn outcome(o: &Outcome) -> String {
    match o {
        Err(e) => format!("{}: {}", e.kind, e.message),
        Ok(Reply::Done) => "ok".into(),
        Ok(Reply::Raw(r)) => format!(
            "HTTP {} content-type={} body={}",
            r.status,
            r.content_type.as_deref().unwrap_or("-"),
            excerpt(&r.body, RAW_EXCERPT)
        ),
        Ok(Reply::Summary(s)) => format!(
            "{} retention={}h open_shards={}",
            s.status.name(),
            s.retention_period_hours,
            s.open_shard_count
        ),
        Ok(Reply::Shards(l)) => {
            let mut s = format!(
                "{} shards, next_token={}",
                l.shards.len(),
                opt(&l.next_token)
            );
            for d in &l.shards {
                let _ = write!(
                    s,
                    "\n         {} [{}..{}] parent={:?} adjacent={:?} start={} end={}",
                    d.shard_id,
                    d.hash_key_range.start,
                    d.hash_key_range.end,
                    d.parent_shard_id.map(|p| p.to_string()),
                    d.adjacent_parent_shard_id.map(|p| p.to_string()),
                    d.starting_sequence_number,
                    d.ending_sequence_number
                        .map_or_else(|| "-".into(), |e| e.to_string())
                );
            }
            s
        }
        Ok(Reply::Put(p)) => format!("{} seq={}", p.shard_id, p.sequence_number),
        Ok(Reply::PutBatch(b)) => {
            let mut s = format!("failed={}", b.failed_record_count);
            for (i, r) in b.records.iter().enumerate().take(8) {
                match r {
                    Ok(p) => {
                        let _ = write!(
                            s,
                            "\n         [{i}] {} seq={}",
                            p.shard_id, p.sequence_number
                        );
                    }
                    Err(e) => {
                        let _ = write!(s, "\n         [{i}] {}", e.kind);
                    }
                }
            }
            s
        }
        Ok(Reply::Iterator(it)) => format!("iterator {}", text(it)),
        Ok(Reply::Records(r)) => {
            let mut s = format!(
                "{} records, next={}, behind={}ms, children={:?}",
                r.records.len(),
                opt(&r.next_shard_iterator),
                r.millis_behind_latest,
                r.child_shards
                    .iter()
                    .map(|c| c.shard_id.to_string())
                    .collect::<Vec<_>>()
            );
            for rec in r.records.iter().take(8) {
                let _ = write!(
                    s,
                    "\n         seq={} key={} data={}",
                    rec.sequence_number,
                    text(&rec.partition_key),
                    bytes(&rec.data)
                );
            }
            s
        }
        Ok(Reply::ShardCount(c)) => format!(
            "current={} target={}",
            c.current_shard_count, c.target_shard_count
        ),
    }
}

/// What kind of bug a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A response the reference model does not admit.
    Violation,
    /// The service stopped answering after the last request of the transcript.
    Crash,
    /// The service still answers, but the last request of the transcript times out on every
    /// replay.
    Hang,
}

impl FindingKind {
    /// The word reports use.
    pub fn word(self) -> &'static str {
        match self {
            FindingKind::Violation => "violation",
            FindingKind::Crash => "CRASH",
            FindingKind::Hang => "HANG",
        }
    }
}

/// A recorded divergence observed in a run, with the shrunk counterexample of this run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Divergence {
    /// The recorded divergence's id.
    pub id: String,
    /// The counterexample found now (absent when the first case showing it could not be
    /// replayed to the same divergence).
    pub counterexample: Option<Counterexample>,
    /// Cases that showed it.
    pub cases: u64,
    /// Responses that matched it (a case can show it more than once, since cases go on past
    /// recorded divergences).
    pub hits: u64,
}

/// How often one operation variant was sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VariantCount {
    /// The variant's label ([`super::Op::variant`]).
    pub variant: String,
    /// Operations of this variant that reached the implementation (not withheld as hazards,
    /// not skipped for a missing capability, not left out for want of an earlier response).
    pub sent: u64,
}

/// How many cases ended before their last step for one reason.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EarlyEnd {
    /// Why they ended (a recorded divergence the model cannot follow, an unknown outcome, a
    /// bounded loop that hit its bound, a finding).
    pub reason: String,
    /// How many cases.
    pub cases: u64,
}

/// How an area fared.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum AreaStatus {
    /// Every case was judged and none showed an unrecorded violation, crash or hang.
    Passed,
    /// Unrecorded findings: each distinct one, shrunk (at most [`super::RunConfig::max_findings`]).
    Failed {
        /// One shrunk counterexample per distinct finding, in the order they were found.
        findings: Vec<Counterexample>,
    },
    /// The implementation lacks a capability the area needs.
    Unsupported {
        /// Which capability.
        reason: String,
    },
    /// Cases could not be judged (transport failures); never counted as a pass or a failure.
    Indeterminate {
        /// What went wrong.
        reason: String,
    },
    /// No case ran: the service was down (it crashed earlier and could not be restarted).
    NotRun {
        /// Why.
        reason: String,
    },
}

/// The result of one area, or (with `A` = [`super::SlowCheck`]) of one slow check: both are
/// rows of the same run report, in the same shape.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AreaReport<A = Area> {
    /// The area (or slow check).
    pub area: A,
    /// The verdict.
    #[serde(flatten)]
    pub status: AreaStatus,
    /// Cases generated and executed (shrinking and replays not included).
    pub cases: u64,
    /// Cases that ran to their last step, final read-back included.
    pub completed_cases: u64,
    /// Cases that ended before their last step, grouped by reason.
    pub ended_early: Vec<EarlyEnd>,
    /// Executions in all, shrinking and replays included.
    pub runs: u64,
    /// Requests sent.
    pub ops: u64,
    /// Operations skipped for missing capabilities or withheld as hazards.
    pub skipped_ops: u64,
    /// Cases whose outcome could not be judged (transport failures).
    pub indeterminate_cases: u64,
    /// The transcript of the first indeterminate case, up to the request whose outcome was
    /// unknown (empty when there was none), so the cause can be looked into.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_indeterminate: Vec<String>,
    /// Recorded divergences seen (they do not fail the area).
    pub divergences: Vec<Divergence>,
    /// Distinct unrecorded findings seen, including those beyond the reporting cap.
    pub distinct_findings: u64,
    /// How many times each property was judged on a response in this area's cases.
    pub checks: CheckCounts,
    /// Of `cases`, how many were the area's fixed covering cases (run before random ones).
    pub covering_cases: u64,
    /// Every operation variant the area's generator can produce, and any other variant its
    /// cases sent, with how often each reached the implementation in `cases` (shrinking and
    /// replays not included), by label.
    pub coverage: Vec<VariantCount>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl<A> AreaReport<A> {
    /// An area with no cases run yet, in `status`.
    pub fn empty(area: A, status: AreaStatus) -> Self {
        AreaReport {
            area,
            status,
            cases: 0,
            completed_cases: 0,
            ended_early: Vec::new(),
            runs: 0,
            ops: 0,
            skipped_ops: 0,
            indeterminate_cases: 0,
            first_indeterminate: Vec::new(),
            divergences: Vec::new(),
            distinct_findings: 0,
            checks: CheckCounts::default(),
            covering_cases: 0,
            coverage: Vec::new(),
            seconds: 0.0,
        }
    }

    /// Short status word for tables.
    pub fn status_word(&self) -> &'static str {
        match self.status {
            AreaStatus::Passed if !self.divergences.is_empty() => "divergence",
            AreaStatus::Passed => "passed",
            AreaStatus::Failed { .. } => "FAILED",
            AreaStatus::Unsupported { .. } => "unsupported",
            AreaStatus::Indeterminate { .. } => "indeterminate",
            AreaStatus::NotRun { .. } => "not run",
        }
    }

    /// The unrecorded findings (empty unless the area failed).
    pub fn findings(&self) -> &[Counterexample] {
        match &self.status {
            AreaStatus::Failed { findings } => findings,
            _ => &[],
        }
    }

    /// True when the area's cases were judged: it passed or failed on evidence.
    pub fn was_checked(&self) -> bool {
        matches!(self.status, AreaStatus::Passed | AreaStatus::Failed { .. })
    }
}
