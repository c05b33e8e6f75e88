//! The drawing model of a timeline: lanes (one per process), operations as spans from invoke
//! to completion, fault regions, and which spans an anomaly names. Pure data, no HTML.

use crate::history::event::{Event, EventType, Op};
use crate::history::io::EventRef;
use crate::history::report::{AnomalyClass, Report};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The role a process plays, which decides the group its lane is drawn in (in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Role {
    Producers,
    Consumers,
    Resharder,
    FinalRead,
    Nemesis,
    Other,
}

impl Role {
    /// Every role, in drawing order.
    pub(crate) const ALL: [Role; 6] = [
        Role::Producers,
        Role::Consumers,
        Role::Resharder,
        Role::FinalRead,
        Role::Nemesis,
        Role::Other,
    ];

    /// The group's title on the page; also its `data-role` value.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Role::Producers => "producers",
            Role::Consumers => "consumers",
            Role::Resharder => "resharder",
            Role::FinalRead => "final read",
            Role::Nemesis => "nemesis",
            Role::Other => "other",
        }
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Completed with effect.
    Ok,
    /// Completed without effect.
    Fail,
    /// Completed with an unknown outcome.
    Info,
    /// Never completed: unknown, drawn to the next invoke of its process or the end.
    Pending,
    /// A completion with no invoke before it (a malformed history), drawn as a point.
    Orphan,
}

impl Outcome {
    /// The CSS class of the outcome.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Pending => "pending",
            Outcome::Orphan => "orphan",
        }
    }
}

/// One operation of one process: its invoke and completion events (indexes into the events),
/// and its extent in µs from the start of the history.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub(crate) lane: usize,
    pub(crate) f: Op,
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) outcome: Outcome,
    pub(crate) invoke: Option<usize>,
    pub(crate) completion: Option<usize>,
    /// Classes of the anomalies that name one of its events, in class order.
    pub(crate) anomalies: BTreeSet<AnomalyClass>,
    /// Its events named by an anomaly.
    pub(crate) anomaly_refs: BTreeSet<EventRef>,
}

impl Span {
    /// Its events (invoke first), as indexes into the events.
    pub(crate) fn events(&self) -> impl Iterator<Item = usize> {
        self.invoke.into_iter().chain(self.completion)
    }
}

/// One process's lane.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    /// The process name, qualified by its node when it has one.
    pub(crate) name: String,
    pub(crate) role: Role,
    /// Its spans, in start order.
    pub(crate) spans: Vec<usize>,
}

/// What a shaded region stands for.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RegionKind {
    /// From a kill of the service to its restart answering again.
    ServiceDown,
    /// From a network fault (its name) to the heal.
    NetFault(String),
    /// From a consumer's kill to its restart, on that consumer's lane.
    ConsumerDown(usize),
}

/// A shaded stretch of time. `closed` is false when no end event came (it runs to the end).
#[derive(Clone, Debug)]
pub(crate) struct Region {
    pub(crate) kind: RegionKind,
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) closed: bool,
}

/// Everything drawn, before any cap.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub(crate) lanes: Vec<Lane>,
    pub(crate) spans: Vec<Span>,
    pub(crate) regions: Vec<Region>,
    /// The length of the history in µs (at least 1).
    pub(crate) duration: f64,
    /// Wall-clock time of the history's start, µs since the Unix epoch.
    pub(crate) t0_wall_us: u64,
    /// The event each reference names.
    pub(crate) index_of: HashMap<EventRef, usize>,
}

/// Times of all events in µs since the Unix epoch, as floats. Events are grouped by clock
/// (file and node): within a clock the monotonic clock orders them when it runs forward,
/// anchored at the clock's first wall-clock reading; otherwise wall clock alone is used.
fn absolute_times(events: &[(EventRef, Event)], order: &[usize]) -> Vec<f64> {
    let mut by_clock: BTreeMap<(u32, Option<&str>), Vec<usize>> = BTreeMap::new();
    for &i in order {
        let (r, e) = &events[i];
        by_clock
            .entry((r.file, e.node.as_deref()))
            .or_default()
            .push(i);
    }
    let mut times = vec![0.0; events.len()];
    for idx in by_clock.values() {
        let monotone = idx
            .windows(2)
            .all(|w| events[w[0]].1.mono_ns <= events[w[1]].1.mono_ns);
        let first = &events[idx[0]].1;
        let last = &events[idx[idx.len() - 1]].1;
        let use_mono = monotone && last.mono_ns > first.mono_ns;
        for &i in idx {
            let e = &events[i].1;
            times[i] = if use_mono {
                first.wall_us as f64 + (e.mono_ns - first.mono_ns) as f64 / 1000.0
            } else {
                e.wall_us as f64
            };
        }
    }
    times
}

/// The role of a process from its name and the operations it ran.
fn role_of(name: &str, ops: &BTreeSet<Op>) -> Role {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    if ops.iter().any(|f| f.is_nemesis()) || base.starts_with("nemesis") {
        Role::Nemesis
    } else if base.contains("final") {
        Role::FinalRead
    } else if ops
        .iter()
        .any(|f| matches!(f, Op::SplitShard | Op::MergeShards | Op::UpdateShardCount))
        || base.starts_with("reshard")
    {
        Role::Resharder
    } else if ops.iter().any(|f| f.is_consumer_step()) || base.starts_with("consumer") {
        Role::Consumers
    } else if ops
        .iter()
        .any(|f| matches!(f, Op::PutRecord | Op::PutRecords))
        || base.starts_with("producer")
    {
        Role::Producers
    } else {
        Role::Other
    }
}

impl Model {
    /// Builds the model of `events` (any order: each file's events are taken in line order)
    /// and marks the spans that `report`'s anomaly examples name.
    pub(crate) fn build(events: &[(EventRef, Event)], report: &Report) -> Model {
        let mut order: Vec<usize> = (0..events.len()).collect();
        order.sort_by_key(|&i| events[i].0);
        let abs = absolute_times(events, &order);
        let t0 = abs.iter().copied().fold(f64::INFINITY, f64::min);
        let t0 = if t0.is_finite() { t0 } else { 0.0 };
        let times: Vec<f64> = abs.iter().map(|t| t - t0).collect();
        let mut duration = times.iter().copied().fold(0.0, f64::max);
        if duration <= 0.0 {
            duration = 1.0;
        }
        let t0_wall_us = events.iter().map(|(_, e)| e.wall_us).min().unwrap_or(0);

        // Lanes, in role order, then by name (numbers in names sort numerically).
        let mut ops_of: BTreeMap<String, BTreeSet<Op>> = BTreeMap::new();
        for (_, e) in events {
            ops_of.entry(e.qualified_process()).or_default().insert(e.f);
        }
        let mut names: Vec<(Role, String)> = ops_of
            .iter()
            .map(|(n, ops)| (role_of(n, ops), n.clone()))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| natural_cmp(&a.1, &b.1)));
        let lane_of: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, (_, n))| (n.clone(), i))
            .collect();
        let mut lanes: Vec<Lane> = names
            .into_iter()
            .map(|(role, name)| Lane {
                name,
                role,
                spans: Vec::new(),
            })
            .collect();

        // Spans: pair each invoke with the next completion of its process.
        let mut spans: Vec<Span> = Vec::new();
        let mut open: HashMap<usize, usize> = HashMap::new();
        let mut span_of = vec![0usize; events.len()];
        for &i in &order {
            let e = &events[i].1;
            let lane = lane_of[&e.qualified_process()];
            let t = times[i];
            match e.kind {
                EventType::Invoke => {
                    if let Some(prev) = open.remove(&lane) {
                        spans[prev].end = t.max(spans[prev].start);
                    }
                    open.insert(lane, spans.len());
                    span_of[i] = spans.len();
                    spans.push(new_span(lane, e.f, t, Some(i), None, Outcome::Pending));
                }
                kind => {
                    let outcome = match kind {
                        EventType::Ok => Outcome::Ok,
                        EventType::Fail => Outcome::Fail,
                        _ => Outcome::Info,
                    };
                    match open.get(&lane).copied() {
                        Some(s) if spans[s].f == e.f => {
                            open.remove(&lane);
                            spans[s].end = t.max(spans[s].start);
                            spans[s].completion = Some(i);
                            spans[s].outcome = outcome;
                            span_of[i] = s;
                        }
                        _ => {
                            span_of[i] = spans.len();
                            spans.push(new_span(lane, e.f, t, None, Some(i), Outcome::Orphan));
                        }
                    }
                }
            }
        }
        for s in open.into_values() {
            spans[s].end = duration;
        }
        for (i, s) in spans.iter().enumerate() {
            lanes[s.lane].spans.push(i);
        }
        for lane in &mut lanes {
            lane.spans
                .sort_by(|&a, &b| spans[a].start.total_cmp(&spans[b].start).then(a.cmp(&b)));
        }

        let index_of: HashMap<EventRef, usize> = events
            .iter()
            .enumerate()
            .map(|(i, (r, _))| (*r, i))
            .collect();
        for class in &report.classes {
            for example in &class.examples {
                for r in &example.events {
                    if let Some(&i) = index_of.get(r) {
                        let s = &mut spans[span_of[i]];
                        s.anomalies.insert(example.class);
                        s.anomaly_refs.insert(*r);
                    }
                }
            }
        }

        let regions = regions(events, &spans, &lane_of, duration);
        Model {
            lanes,
            spans,
            regions,
            duration,
            t0_wall_us,
            index_of,
        }
    }
}

fn new_span(
    lane: usize,
    f: Op,
    t: f64,
    invoke: Option<usize>,
    completion: Option<usize>,
    outcome: Outcome,
) -> Span {
    Span {
        lane,
        f,
        start: t,
        end: t,
        outcome,
        invoke,
        completion,
        anomalies: BTreeSet::new(),
        anomaly_refs: BTreeSet::new(),
    }
}

/// Orders names so that embedded numbers compare as numbers (`producer-2` before `producer-10`).
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (xt, yt) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// The text an event carries for a field of a nemesis operation: from its invoke, else its
/// completion.
fn field<'a>(
    events: &'a [(EventRef, Event)],
    s: &Span,
    get: impl Fn(&'a Event) -> Option<&'a String>,
) -> Option<&'a str> {
    s.events()
        .find_map(|i| get(&events[i].1))
        .map(String::as_str)
}

/// Shaded regions from the nemesis spans: failed nemesis operations change nothing.
fn regions(
    events: &[(EventRef, Event)],
    spans: &[Span],
    lane_of: &HashMap<String, usize>,
    duration: f64,
) -> Vec<Region> {
    let mut order: Vec<&Span> = spans
        .iter()
        .filter(|s| s.f.is_nemesis() && s.outcome != Outcome::Fail)
        .collect();
    order.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut out = Vec::new();
    let mut down: Option<f64> = None;
    let mut fault: Option<(f64, String)> = None;
    let mut consumers_down: BTreeMap<usize, f64> = BTreeMap::new();
    let consumer_lane = |s: &Span| -> Option<usize> {
        let target = field(events, s, |e| e.target.as_ref())?;
        let node = s.events().find_map(|i| events[i].1.node.as_deref());
        let qualified = node.map(|n| format!("{n}/{target}"));
        qualified
            .and_then(|q| lane_of.get(&q).copied())
            .or_else(|| lane_of.get(target).copied())
    };
    for s in order {
        match s.f {
            Op::Kill => {
                down.get_or_insert(s.start);
            }
            Op::Restart => {
                if let Some(start) = down.take() {
                    out.push(Region {
                        kind: RegionKind::ServiceDown,
                        start,
                        end: s.end,
                        closed: true,
                    });
                }
            }
            Op::NetFault => {
                if let Some((start, name)) = fault.take() {
                    out.push(Region {
                        kind: RegionKind::NetFault(name),
                        start,
                        end: s.start,
                        closed: true,
                    });
                }
                let name = field(events, s, |e| e.fault.as_ref()).unwrap_or("network fault");
                fault = Some((s.start, name.to_owned()));
            }
            Op::NetHeal => {
                if let Some((start, name)) = fault.take() {
                    out.push(Region {
                        kind: RegionKind::NetFault(name),
                        start,
                        end: s.end,
                        closed: true,
                    });
                }
            }
            Op::KillConsumer => {
                if let Some(l) = consumer_lane(s) {
                    consumers_down.entry(l).or_insert(s.start);
                }
            }
            Op::RestartConsumer => {
                if let Some(l) = consumer_lane(s)
                    && let Some(start) = consumers_down.remove(&l)
                {
                    out.push(Region {
                        kind: RegionKind::ConsumerDown(l),
                        start,
                        end: s.end,
                        closed: true,
                    });
                }
            }
            _ => {}
        }
    }
    let still_open = down
        .map(|start| (RegionKind::ServiceDown, start))
        .into_iter()
        .chain(fault.map(|(start, name)| (RegionKind::NetFault(name), start)))
        .chain(
            consumers_down
                .into_iter()
                .map(|(l, start)| (RegionKind::ConsumerDown(l), start)),
        );
    for (kind, start) in still_open {
        out.push(Region {
            kind,
            start,
            end: duration,
            closed: false,
        });
    }
    out
}

/// Neighbouring operations kept on each side of an anomaly's operation on its lane.
pub(crate) const NEIGHBOURS: usize = 5;

/// Which spans are drawn under a cap of `max_events` events: every span an anomaly names, its
/// [`NEIGHBOURS`] on each side on its lane, and every nemesis span always; then the others in
/// start order while the cap allows. The result has one flag per span.
pub(crate) fn select(model: &Model, max_events: usize) -> Vec<bool> {
    let n_events = |s: &Span| s.events().count();
    let total: usize = model.spans.iter().map(n_events).sum();
    if total <= max_events {
        return vec![true; model.spans.len()];
    }
    let mut keep = vec![false; model.spans.len()];
    for lane in &model.lanes {
        for (pos, &s) in lane.spans.iter().enumerate() {
            let span = &model.spans[s];
            if span.f.is_nemesis() {
                keep[s] = true;
            }
            if !span.anomalies.is_empty() {
                let lo = pos.saturating_sub(NEIGHBOURS);
                let hi = (pos + NEIGHBOURS + 1).min(lane.spans.len());
                for &n in &lane.spans[lo..hi] {
                    keep[n] = true;
                }
            }
        }
    }
    let mut used: usize = model
        .spans
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| n_events(s))
        .sum();
    let mut rest: Vec<usize> = (0..model.spans.len()).filter(|&i| !keep[i]).collect();
    rest.sort_by(|&a, &b| {
        model.spans[a]
            .start
            .total_cmp(&model.spans[b].start)
            .then(a.cmp(&b))
    });
    for i in rest {
        let n = n_events(&model.spans[i]);
        if used + n > max_events {
            break;
        }
        used += n;
        keep[i] = true;
    }
    keep
}
