//! The page: the model drawn as positioned HTML elements (positions in % of the history's
//! length, so the page is laid out before any script runs), with the anomaly panel, the
//! legend, the events' JSON for tooltips, and the inline stylesheet and script.

use super::TimelineOptions;
use super::escape;
use super::labels::{kebab_or_snake, op_name, short_shard, summary};
use super::model::{Model, RegionKind, Role, Span};
use crate::history::event::Event;
use crate::history::io::EventRef;
use crate::history::report::Report;
use std::collections::HashMap;
use std::fmt::Write as _;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// One drawn event in the page's data: its reference and the event itself.
#[derive(serde::Serialize)]
struct DataEvent<'a> {
    r: String,
    e: &'a Event,
}

/// The data the script reads.
#[derive(serde::Serialize)]
struct PageData<'a> {
    files: &'a [String],
    t0_wall_us: u64,
    duration_us: f64,
    events: Vec<DataEvent<'a>>,
}

fn ref_key(r: EventRef) -> String {
    format!("{}:{}", r.file, r.line)
}

fn ref_id(r: EventRef) -> String {
    format!("ev-{}-{}", r.file, r.line)
}

fn file_name(report: &Report, file: u32) -> String {
    match report.files.get(file as usize) {
        Some(path) => path.rsplit('/').next().unwrap_or(path).to_owned(),
        None => format!("file{file}"),
    }
}

/// Renders the whole page.
pub(crate) fn page(
    events: &[(EventRef, Event)],
    report: &Report,
    opts: &TimelineOptions,
    model: &Model,
    drawn: &[bool],
) -> String {
    let pct = |t: f64| 100.0 * t / model.duration;
    let mut out = String::with_capacity(64 * 1024 + events.len() * 200);
    let title = if report.files.is_empty() {
        "seqcheck timeline".to_owned()
    } else {
        format!("seqcheck timeline: {}", report.files.join(", "))
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape::html(&title)
    );
    header(&mut out, report, model);
    anomaly_panel(&mut out, report, model);
    let drawn_events: usize = model
        .spans
        .iter()
        .zip(drawn)
        .filter(|(_, d)| **d)
        .map(|(s, _)| s.events().count())
        .sum();
    cap_notice(&mut out, model, drawn, drawn_events, events.len(), opts);
    toolbar(&mut out);

    // Names column and canvas, row for row.
    let mut names = String::new();
    let mut rows = String::new();
    let mut data_events: Vec<DataEvent<'_>> = Vec::with_capacity(drawn_events);
    let mut data_index: HashMap<usize, usize> = HashMap::new();
    for role in Role::ALL {
        let lanes: Vec<usize> = (0..model.lanes.len())
            .filter(|&l| model.lanes[l].role == role)
            .collect();
        if lanes.is_empty() {
            continue;
        }
        let _ = write!(names, "<div class=\"group-title\">{}</div>", role.title());
        let _ = write!(
            rows,
            "<div class=\"group-row\" data-role=\"{}\"></div>",
            role.title()
        );
        for l in lanes {
            let lane = &model.lanes[l];
            let name = escape::html(&lane.name);
            let _ = write!(
                names,
                "<div class=\"lane-name\" title=\"{name}\">{name}</div>"
            );
            let _ = write!(
                rows,
                "<div class=\"lane\" id=\"lane-{l}\" data-process=\"{name}\" data-role=\"{}\">",
                role.title()
            );
            for r in model
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::ConsumerDown(l))
            {
                let _ = write!(
                    rows,
                    "<div class=\"region cdown\" data-region=\"consumer-down\" style=\"left:{:.6}%;width:{:.6}%\" title=\"consumer down{}\"><span class=\"rlabel\">consumer down</span></div>",
                    pct(r.start),
                    pct(r.end - r.start),
                    if r.closed { "" } else { " until the end" }
                );
            }
            for &s in &lane.spans {
                if !drawn[s] {
                    continue;
                }
                let span = &model.spans[s];
                let mut idx = Vec::new();
                for i in span.events() {
                    let k = *data_index.entry(i).or_insert_with(|| {
                        data_events.push(DataEvent {
                            r: ref_key(events[i].0),
                            e: &events[i].1,
                        });
                        data_events.len() - 1
                    });
                    idx.push(k.to_string());
                }
                span_element(
                    &mut rows,
                    events,
                    span,
                    &idx,
                    pct(span.start),
                    pct(span.end - span.start),
                );
            }
            rows.push_str("</div>");
        }
    }
    out.push_str("<div id=\"timeline\"><div id=\"names\"><div class=\"axis-pad\">time</div>");
    out.push_str(&names);
    out.push_str(
        "</div><div id=\"scroll\"><div id=\"canvas\"><div id=\"axis\"></div><div id=\"regions\">",
    );
    let mut global: Vec<_> = model
        .regions
        .iter()
        .filter(|r| !matches!(r.kind, RegionKind::ConsumerDown(_)))
        .collect();
    global.sort_by_key(|r| matches!(r.kind, RegionKind::ServiceDown));
    for r in global {
        let (class, kind, label) = match &r.kind {
            RegionKind::ServiceDown => ("down", "service-down", "service down".to_owned()),
            RegionKind::NetFault(name) => ("net", "net-fault", format!("net: {name}")),
            RegionKind::ConsumerDown(_) => continue,
        };
        let label = escape::html(&label);
        let _ = write!(
            out,
            "<div class=\"region {class}\" data-region=\"{kind}\" style=\"left:{:.6}%;width:{:.6}%\" title=\"{label}{}\"><span class=\"rlabel\">{label}</span></div>",
            pct(r.start),
            pct(r.end - r.start),
            if r.closed { "" } else { " (until the end)" }
        );
    }
    let left_out = model
        .spans
        .iter()
        .zip(drawn)
        .filter(|(_, d)| !**d)
        .map(|(s, _)| s);
    let (from, to) = left_out.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
        (a.min(s.start), b.max(s.end))
    });
    if from.is_finite() && to.is_finite() {
        let _ = write!(
            out,
            "<div class=\"region omitted\" data-region=\"not-drawn\" style=\"left:{:.6}%;width:{:.6}%\" title=\"operations not drawn (cap)\"><span class=\"rlabel\">not all drawn</span></div>",
            pct(from),
            pct(to - from)
        );
    }
    out.push_str("</div><div id=\"lanes\">");
    out.push_str(&rows);
    out.push_str("</div></div></div></div>\n<div id=\"tip\" hidden></div>\n");

    let data = PageData {
        files: &report.files,
        t0_wall_us: model.t0_wall_us,
        duration_us: model.duration,
        events: data_events,
    };
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_owned());
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"seqcheck-data\">{}</script>\n<script>{SCRIPT}</script>\n</body></html>\n",
        escape::script_json(&json)
    );
    out
}

/// One operation: a bar, or a small mark for a consumer's own step.
fn span_element(
    out: &mut String,
    events: &[(EventRef, Event)],
    span: &Span,
    idx: &[String],
    left: f64,
    width: f64,
) {
    let invoke = span.invoke.map(|i| &events[i].1);
    let completion = span.completion.map(|i| &events[i].1);
    let refs: Vec<EventRef> = span.events().map(|i| events[i].0).collect();
    let shape = if span.f.is_consumer_step() {
        match span.f {
            crate::history::event::Op::Process => "mark process",
            crate::history::event::Op::Checkpoint => "mark checkpoint",
            _ => "mark step",
        }
    } else {
        "op"
    };
    let _ = write!(
        out,
        "<div class=\"{shape} {}{}\" id=\"{}\" data-f=\"{}\" data-refs=\"{}\" data-ev=\"{}\"",
        span.outcome.class(),
        if span.anomalies.is_empty() {
            ""
        } else {
            " anom"
        },
        refs.first().map(|r| ref_id(*r)).unwrap_or_default(),
        op_name(span.f),
        refs.iter()
            .map(|r| ref_key(*r))
            .collect::<Vec<_>>()
            .join(" "),
        idx.join(" ")
    );
    let classes: Vec<String> = span.anomalies.iter().filter_map(kebab_or_snake).collect();
    if !classes.is_empty() {
        let _ = write!(
            out,
            " data-anomaly=\"{}\" data-anomaly-refs=\"{}\"",
            classes.join(" "),
            span.anomaly_refs
                .iter()
                .map(|r| ref_key(*r))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let _ = write!(out, " style=\"left:{left:.6}%;width:{width:.6}%\">");
    if shape == "op" {
        let _ = write!(
            out,
            "<span class=\"lbl\">{}</span>",
            escape::html(&summary(span.f, invoke, completion))
        );
    }
    if !classes.is_empty() {
        // Near the right edge the tag is right-aligned, so it stays on the page.
        let end = if left > 85.0 { " end" } else { "" };
        let _ = write!(
            out,
            "<span class=\"tag{end}\">{}</span>",
            classes.join(", ")
        );
    }
    for r in refs
        .iter()
        .skip(1)
        .filter(|r| span.anomaly_refs.contains(r))
    {
        let _ = write!(out, "<i class=\"anchor\" id=\"{}\"></i>", ref_id(*r));
    }
    out.push_str("</div>");
}

/// Title, files, verdict and what was covered.
fn header(out: &mut String, report: &Report, model: &Model) {
    let verdict = kebab_or_snake(&report.verdict).unwrap_or_default();
    let _ = write!(
        out,
        "<header><h1>seqcheck timeline <span class=\"verdict {verdict}\">{verdict}</span></h1><p class=\"meta\">"
    );
    for (i, f) in report.files.iter().enumerate() {
        let _ = write!(
            out,
            "{}<code>{}</code>",
            if i > 0 { ", " } else { "" },
            escape::html(f)
        );
    }
    let _ = write!(
        out,
        "{}starts {} · lasts {}</p>",
        if report.files.is_empty() { "" } else { " · " },
        utc(model.t0_wall_us),
        duration_text(model.duration)
    );
    let c = &report.coverage;
    let _ = write!(
        out,
        "<p class=\"meta\">{} events · {} puts ({} acknowledged, {} attempts) · {} reads of {} records · {} processed · {} checkpoints · {} service kills · {} consumer kills · {} net faults",
        c.events,
        c.puts,
        c.acknowledged,
        c.put_attempts,
        c.reads,
        c.records_read,
        c.processed,
        c.checkpoints,
        c.kills,
        c.consumer_kills,
        c.net_faults
    );
    let u = &report.unknown_outcomes;
    if u.recovered + u.never_applied + u.undetermined > 0 {
        let _ = write!(
            out,
            " · unknown outcomes: {} applied, {} not applied, {} undetermined",
            u.recovered, u.never_applied, u.undetermined
        );
    }
    if report.lag.samples > 0 {
        let _ = write!(
            out,
            " · read-your-writes lag p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            report.lag.p50_ms, report.lag.p99_ms, report.lag.max_ms
        );
    }
    out.push_str("</p></header>\n");
}

/// Anomaly classes with counts and their examples, each linking to its events.
fn anomaly_panel(out: &mut String, report: &Report, model: &Model) {
    out.push_str("<section id=\"anomalies\"><h2>Anomalies</h2>");
    let found: Vec<_> = report.classes.iter().filter(|c| c.count > 0).collect();
    if found.is_empty() {
        out.push_str("<p class=\"none\">None found.</p>");
    }
    for class in found {
        let name = kebab_or_snake(&class.class).unwrap_or_default();
        let kind = if class.class.is_violation() {
            "violation"
        } else {
            "allowed"
        };
        let _ = write!(
            out,
            "<div class=\"aclass {kind}\" data-class=\"{name}\"><h3><span class=\"cname\">{name}</span> <span class=\"count\">{}</span>{}</h3><ol>",
            class.count,
            if class.class.is_violation() {
                ""
            } else {
                " <span class=\"note\">allowed by Kinesis</span>"
            }
        );
        for example in &class.examples {
            let _ = write!(out, "<li data-example=\"{name}\">");
            if let Some(shard) = &example.shard {
                let _ = write!(
                    out,
                    "<span class=\"shard\" title=\"{0}\">{1}</span> ",
                    escape::html(shard),
                    escape::html(&short_shard(shard))
                );
            }
            let _ = write!(
                out,
                "<span class=\"detail\">{}</span> <span class=\"refs\">",
                escape::html(&example.detail)
            );
            for r in &example.events {
                let label = format!("{}:{}", file_name(report, r.file), r.line);
                if model.index_of.contains_key(r) {
                    let _ = write!(
                        out,
                        "<a class=\"evlink\" href=\"#{}\" data-ref=\"{}\">{}</a> ",
                        ref_id(*r),
                        ref_key(*r),
                        escape::html(&label)
                    );
                } else {
                    let _ = write!(
                        out,
                        "<span class=\"missing\" title=\"not among the loaded events\">{}</span> ",
                        escape::html(&label)
                    );
                }
            }
            out.push_str("</span></li>");
        }
        out.push_str("</ol>");
        let shown = class.examples.len() as u64;
        if class.count > shown {
            let _ = write!(
                out,
                "<p class=\"more\">and {} more not listed in the report</p>",
                class.count - shown
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</section>\n");
}

/// What the cap left out, if anything.
fn cap_notice(
    out: &mut String,
    model: &Model,
    drawn: &[bool],
    drawn_events: usize,
    total: usize,
    opts: &TimelineOptions,
) {
    let left_out: Vec<&Span> = model
        .spans
        .iter()
        .zip(drawn)
        .filter(|(_, d)| !**d)
        .map(|(s, _)| s)
        .collect();
    if left_out.is_empty() {
        return;
    }
    let first = left_out
        .iter()
        .map(|s| s.start)
        .fold(f64::INFINITY, f64::min);
    let last = left_out.iter().map(|s| s.start).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "<p id=\"cap-notice\">Drawn: {drawn_events} of {total} events (the cap is {}). \
         Not drawn: {} operations starting between +{} and +{} (hatched). Every anomaly's events, the {} operations on either side of each on its lane, and every fault are always drawn.</p>",
        opts.max_events,
        left_out.len(),
        duration_text(first),
        duration_text(last),
        super::model::NEIGHBOURS
    );
}

/// Zoom buttons and the legend.
fn toolbar(out: &mut String) {
    out.push_str(
        "<div id=\"toolbar\"><span class=\"buttons\"><button id=\"zoom-out\" title=\"zoom out (-)\">−</button>\
         <button id=\"zoom-in\" title=\"zoom in (+)\">+</button><button id=\"zoom-fit\" title=\"whole history (0)\">fit</button></span>\
         <span class=\"hint\">Ctrl+wheel zooms, drag or Shift+wheel pans; hover for the events</span>\
         <span class=\"legend\">\
         <span><i class=\"sw ok\"></i>ok</span>\
         <span><i class=\"sw fail\"></i>fail</span>\
         <span><i class=\"sw info\"></i>unknown (info)</span>\
         <span><i class=\"sw pending\"></i>never completed</span>\
         <span><i class=\"sw mk process\"></i>processed</span>\
         <span><i class=\"sw mk checkpoint\"></i>checkpoint</span>\
         <span><i class=\"sw down\"></i>service down</span>\
         <span><i class=\"sw net\"></i>network fault</span>\
         <span><i class=\"sw cdown\"></i>consumer down</span>\
         <span><i class=\"sw anom\"></i>anomaly</span>\
         </span></div>\n",
    );
}

/// A length of time for people: µs, ms or s.
pub(crate) fn duration_text(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.3} s", us / 1_000_000.0)
    }
}

/// A wall-clock time in µs since the epoch as `YYYY-MM-DD hh:mm:ss.ffffff UTC`.
pub(crate) fn utc(wall_us: u64) -> String {
    let secs = wall_us / 1_000_000;
    let micros = wall_us % 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{micros:06} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_reads_as_utc() {
        assert_eq!(utc(1_764_676_800_000_000), "2025-12-02 12:00:00.000000 UTC");
        assert_eq!(utc(0), "1970-01-01 00:00:00.000000 UTC");
        assert_eq!(duration_text(1500.0), "1.5 ms");
    }
}
