use super::*;
use crate::history::event::{EventType, Op};
use crate::history::io::parse_line;
use crate::history::report::{
    Anomaly, AnomalyClass, ClassCount, Coverage, LagSummary, UnknownOutcomes, Verdict,
};
use regex::Regex;
use std::collections::BTreeSet;

const FIXTURE: &str = include_str!("../../../tests/data/timeline-lost-write.jsonl");

/// The fixture: two producers, a consumer, a final reader and a nemesis that kills and restarts
/// the service, delays the network and kills the consumer.
fn fixture() -> Vec<(EventRef, Event)> {
    FIXTURE
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let n = i as u64 + 1;
            parse_line(Path::new("lost-write.jsonl"), n, line)
                .expect("fixture parses")
                .map(|e| (EventRef { file: 0, line: n }, e))
        })
        .collect()
}

fn at(line: u64) -> EventRef {
    EventRef { file: 0, line }
}

/// A report with one lost write: the put of `k1` (lines 3 and 5) and the final read that
/// should have returned it (line 35).
fn report(detail: &str) -> Report {
    Report {
        files: vec!["runs/lost-write.jsonl".into()],
        verdict: Verdict::Invalid,
        classes: vec![
            ClassCount {
                class: AnomalyClass::Duplicate,
                count: 0,
                examples: vec![],
            },
            ClassCount {
                class: AnomalyClass::LostWrite,
                count: 1,
                examples: vec![Anomaly {
                    class: AnomalyClass::LostWrite,
                    shard: Some("shardId-000000000000".into()),
                    detail: detail.into(),
                    events: vec![at(3), at(5), at(35)],
                }],
            },
        ],
        coverage: Coverage::default(),
        unknown_outcomes: UnknownOutcomes::default(),
        lag: LagSummary::default(),
    }
}

fn page() -> String {
    render_timeline(
        &fixture(),
        &report("k1 acknowledged at seq …0001, never read"),
        &TimelineOptions::default(),
    )
}

/// The opening tags of elements that carry `attr`.
fn tags_with<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let re = Regex::new(&format!(r#"<[a-z]+ [^>]*\b{attr}="[^"]*"[^>]*>"#)).expect("pattern");
    re.find_iter(html).map(|m| m.as_str()).collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let re = Regex::new(&format!(r#"\b{name}="([^"]*)""#)).expect("pattern");
    re.captures(tag).and_then(|c| c.get(1)).map(|m| m.as_str())
}

#[test]
fn every_process_has_one_lane_in_its_roles_group() {
    let html = page();
    let lanes: Vec<(String, String)> = tags_with(&html, "data-process")
        .into_iter()
        .map(|t| {
            (
                attr(t, "data-process").unwrap_or("").to_owned(),
                attr(t, "data-role").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lanes,
        vec![
            ("producer-0".to_owned(), "producers".to_owned()),
            ("producer-1".to_owned(), "producers".to_owned()),
            ("consumer-0".to_owned(), "consumers".to_owned()),
            ("final-reader".to_owned(), "final read".to_owned()),
            ("nemesis".to_owned(), "nemesis".to_owned()),
        ]
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is loaded from anywhere"
    );
}

#[test]
fn crash_fault_and_consumer_kill_are_shaded() {
    let html = page();
    // The history lasts 99 ms; the kill is invoked at 30 ms, the restart answers at 50 ms.
    let down = tags_with(&html, "data-region");
    let kinds: Vec<&str> = down.iter().filter_map(|t| attr(t, "data-region")).collect();
    assert_eq!(kinds, vec!["net-fault", "service-down", "consumer-down"]);
    let style = |kind: &str| {
        down.iter()
            .find(|t| attr(t, "data-region") == Some(kind))
            .and_then(|t| attr(t, "style"))
    };
    assert_eq!(
        style("service-down"),
        Some("left:30.303030%;width:20.202020%")
    );
    assert_eq!(style("net-fault"), Some("left:55.555556%;width:16.161616%"));
    assert_eq!(
        style("consumer-down"),
        Some("left:72.727273%;width:9.090909%")
    );
    assert!(html.contains(">net: delay 200ms</span>"));
    // The consumer's shading sits on its own lane.
    let lane = html
        .find(r#"data-process="consumer-0""#)
        .expect("consumer lane");
    let region = html
        .find(r#"data-region="consumer-down""#)
        .expect("consumer region");
    let next_lane = html[lane..]
        .find("class=\"lane\"")
        .map_or(usize::MAX, |i| lane + i);
    assert!(lane < region && region < next_lane);
}

#[test]
fn exactly_the_anomaly_events_are_highlighted_and_linked() {
    let html = page();
    let marked = tags_with(&html, "data-anomaly");
    assert_eq!(
        marked.len(),
        2,
        "the put of k1 and the final read: {marked:?}"
    );
    let mut refs = BTreeSet::new();
    for tag in &marked {
        assert_eq!(attr(tag, "data-anomaly"), Some("lost-write"));
        assert!(attr(tag, "class").is_some_and(|c| c.split(' ').any(|c| c == "anom")));
        refs.extend(
            attr(tag, "data-anomaly-refs")
                .unwrap_or("")
                .split(' ')
                .map(str::to_owned),
        );
    }
    assert_eq!(
        refs,
        ["0:3", "0:35", "0:5"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    let tags = Regex::new(r#"<span class="tag( end)?">lost-write</span>"#).expect("pattern");
    assert_eq!(
        tags.find_iter(&html).count(),
        2,
        "each highlighted operation names its class"
    );
    let outlined = tags_with(&html, "data-f")
        .into_iter()
        .filter(|t| attr(t, "class").is_some_and(|c| c.split(' ').any(|c| c == "anom")))
        .count();
    assert_eq!(outlined, 2, "no other operation is outlined");
    for (href, id) in [
        ("#ev-0-3", "ev-0-3"),
        ("#ev-0-5", "ev-0-5"),
        ("#ev-0-35", "ev-0-35"),
    ] {
        assert!(
            html.contains(&format!("href=\"{href}\"")),
            "panel links {href}"
        );
        assert_eq!(
            html.matches(&format!("id=\"{id}\"")).count(),
            1,
            "one target for {id}"
        );
    }
    assert!(html.contains(">lost-write</span> <span class=\"count\">1</span>"));
    assert!(
        !html.contains("data-class=\"duplicate\""),
        "classes without anomalies are not listed"
    );
}

#[test]
fn operations_are_bars_by_outcome_and_pending_ones_run_to_the_end() {
    let html = page();
    let ops = tags_with(&html, "data-f");
    let class_of = |id: &str| {
        ops.iter()
            .find(|t| attr(t, "id") == Some(id))
            .and_then(|t| attr(t, "class"))
    };
    assert_eq!(class_of("ev-0-3"), Some("op ok anom"));
    assert_eq!(class_of("ev-0-15"), Some("op info"));
    assert_eq!(class_of("ev-0-16"), Some("op fail"));
    assert_eq!(class_of("ev-0-9"), Some("mark process ok"));
    assert_eq!(class_of("ev-0-11"), Some("mark checkpoint ok"));
    // The consumer's read pending at its kill ends where its next operation starts.
    assert_eq!(class_of("ev-0-25"), Some("op pending"));
    let last_put = ops
        .iter()
        .find(|t| attr(t, "id") == Some("ev-0-36"))
        .expect("last put");
    assert_eq!(attr(last_put, "class"), Some("op pending"));
    assert_eq!(
        attr(last_put, "style"),
        Some("left:95.959596%;width:4.040404%")
    );
    assert!(html.contains(">put k1 → s0/…580001</span>"));
    assert!(html.contains(">get s0: 2 rec</span>"));
}

#[test]
fn user_data_cannot_inject_markup() {
    let mut events = fixture();
    let hostile = "\"><img src=x onerror=alert(2)><script>alert(3)</script>";
    events[0].1.process = hostile.into();
    events[1].1.process = hostile.into();
    events[1].1.message = Some("</script><script>alert(4)</script>".into());
    let html = render_timeline(
        &events,
        &report("<b>bold</b> </script>"),
        &TimelineOptions::default(),
    );
    assert!(!html.contains("<script>alert"), "no injected script");
    assert!(!html.contains("<img"), "no injected element");
    assert!(!html.contains("<b>"), "no markup from the report");
    assert_eq!(
        html.matches("<script").count(),
        2,
        "the data and the page's own script"
    );
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            || html.contains("\\u003cscript\\u003ealert(1)")
    );
    // The data block still parses and holds the payload as it was.
    let start = html
        .find(r#"<script type="application/json" id="seqcheck-data">"#)
        .expect("data")
        + 51;
    let end = start + html[start..].find("</script>").expect("end of data");
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).expect("data is JSON");
    let text = data.to_string();
    assert!(text.contains("<script>alert(1)</script>"));
    assert!(text.contains("</script><script>alert(4)</script>"));
}

#[test]
fn a_capped_page_keeps_every_anomaly_and_its_neighbours() {
    let mut events = Vec::new();
    let mut line = 0;
    let mut push = |events: &mut Vec<(EventRef, Event)>, process: &str, kind, f, t: u64| {
        line += 1;
        events.push((
            at(line),
            Event::new(process, kind, f, t * 1000, 1_000_000 + t),
        ));
    };
    for i in 0..2000u64 {
        let p = if i % 2 == 0 {
            "producer-0"
        } else {
            "producer-1"
        };
        push(&mut events, p, EventType::Invoke, Op::PutRecord, i * 10);
        push(&mut events, p, EventType::Ok, Op::PutRecord, i * 10 + 5);
    }
    push(&mut events, "nemesis", EventType::Invoke, Op::Kill, 19_000);
    push(&mut events, "nemesis", EventType::Ok, Op::Kill, 19_001);
    // Late anomaly: the put invoked on line 3901 (op 1950, producer-0).
    let mut report = report("late");
    report.classes[1].examples[0].events = vec![at(3901), at(3902)];
    let html = render_timeline(&events, &report, &TimelineOptions { max_events: 100 });
    let ops = tags_with(&html, "data-f");
    let mandatory = 2 + 2 * (2 * model::NEIGHBOURS + 1);
    assert!(
        ops.len() * 2 <= 100 + mandatory,
        "{} operations drawn",
        ops.len()
    );
    assert!(ops.len() * 2 >= 100, "the budget is used");
    assert_eq!(tags_with(&html, "data-anomaly").len(), 1);
    // Operations alternate between the producers: producer-0's are the even ones.
    for n in (1940..=1960u64).step_by(2) {
        let id = format!("id=\"ev-0-{}\"", 2 * n + 1);
        assert!(html.contains(&id), "neighbour {n} of the anomaly is drawn");
    }
    assert!(html.contains(r#"data-f="kill""#), "faults are always drawn");
    assert!(html.contains("id=\"cap-notice\"") && html.contains("of 4002 events"));
    assert_eq!(
        tags_with(&html, "data-region").len(),
        2,
        "the kill's region and the hatched stretch"
    );
    assert!(html.contains(r#"data-region="not-drawn""#));
}

#[test]
fn load_events_numbers_files_by_position() {
    let dir = std::env::temp_dir().join(format!("seqcheck-timeline-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let a = dir.join("a.jsonl");
    let b = dir.join("b.jsonl");
    std::fs::write(&a, FIXTURE).expect("write a");
    std::fs::write(&b, format!("\n{}", FIXTURE.lines().next().unwrap_or(""))).expect("write b");
    let events = load_events(&[&a, &b]).expect("loads");
    assert_eq!(events.len(), FIXTURE.lines().count() + 1);
    assert_eq!(
        events.last().map(|(r, _)| *r),
        Some(EventRef { file: 1, line: 2 })
    );
    let out = dir.join("t.html");
    write_timeline(&out, &events, &report("x"), &TimelineOptions::default()).expect("writes");
    assert!(
        std::fs::read_to_string(&out)
            .expect("reads")
            .starts_with("<!DOCTYPE html>")
    );
    assert!(matches!(
        load_events(&[dir.join("missing.jsonl")]),
        Err(HistoryError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
