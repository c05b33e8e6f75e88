//! A stream that is not found after a restart, although nothing deleted it, loses every record
//! acknowledged in it: the checker must say so even when no read after the restart exists to
//! show the records missing (a service that forgets the whole stream across a crash).

use seqcheck::history::check::hash::Names;
use seqcheck::history::check::lower::parse_line;
use seqcheck::history::{AnomalyClass, CheckOptions, Checker, EventRef, Report, Verdict};

fn check(lines: &[String]) -> Report {
    let mut checker = Checker::new(CheckOptions::default());
    let mut names = Names::default();
    for (i, l) in lines.iter().enumerate() {
        let at = EventRef {
            file: 0,
            line: i as u64 + 1,
        };
        if let Some(ev) = parse_line(l.as_bytes(), &mut names) {
            checker.push_lowered(at, ev);
        }
    }
    checker.absorb_names(names);
    checker.finish(vec!["gone.jsonl".into()])
}

fn count(r: &Report, class: AnomalyClass) -> u64 {
    r.classes
        .iter()
        .find(|c| c.class == class)
        .map_or(0, |c| c.count)
}

/// A put acknowledged and read, a kill and restart, then `tail` (the stream's fate).
fn history(tail: &[&str]) -> Vec<String> {
    let mut t = 0u64;
    let mut line = |process: &str, kind: &str, f: &str, rest: &str| {
        t += 1;
        format!(
            r#"{{"v":1,"process":"{process}","type":"{kind}","f":"{f}","mono_ns":{t},"wall_us":{t}{rest}}}"#
        )
    };
    let seq = "49590338271490256608559692538361571095921575989136588898";
    let mut v = vec![
        line(
            "p0",
            "invoke",
            "put_record",
            r#","stream":"s","key":"k","data":"p0-1""#,
        ),
        line(
            "p0",
            "ok",
            "put_record",
            &format!(r#","shard":"shardId-000000000000","seq":"{seq}""#),
        ),
        line(
            "c0",
            "invoke",
            "get_records",
            r#","shard":"shardId-000000000000","iterator":"i1""#,
        ),
        line(
            "c0",
            "ok",
            "get_records",
            &format!(
                r#","records":[{{"seq":"{seq}","key":"k","data":"p0-1"}}],"next_iterator":"i2","millis_behind":0"#
            ),
        ),
        line("nemesis", "invoke", "kill", r#","target":"service""#),
        line("nemesis", "ok", "kill", r#","target":"service""#),
        line("nemesis", "invoke", "restart", r#","target":"service""#),
        line("nemesis", "ok", "restart", r#","target":"service""#),
    ];
    for l in tail {
        let (kind, f, rest) = match *l {
            "describe-not-found" => (
                "fail",
                "describe_stream_summary",
                r#","stream":"s","error":"ResourceNotFoundException","message":"not found""#,
            ),
            "describe-ok" => (
                "ok",
                "describe_stream_summary",
                r#","status":"ACTIVE","open_shards":1"#,
            ),
            "delete" => ("ok", "delete_stream", r#","stream":"s""#),
            other => panic!("unknown step {other}"),
        };
        let invoke = if f == "delete_stream" {
            "delete_stream"
        } else {
            "describe_stream_summary"
        };
        v.push(line("final-read", "invoke", invoke, r#","stream":"s""#));
        v.push(line("final-read", kind, f, rest));
    }
    v
}

#[test]
fn a_stream_gone_after_a_restart_loses_its_records_across_the_crash() {
    let r = check(&history(&["describe-not-found"]));
    assert_eq!(count(&r, AnomalyClass::LostAcrossCrash), 1, "{r:#?}");
    assert_eq!(r.verdict, Verdict::Invalid);
    let ex = &r
        .classes
        .iter()
        .find(|c| c.class == AnomalyClass::LostAcrossCrash)
        .unwrap()
        .examples[0];
    println!("counterexample: {} at {:?}", ex.detail, ex.events);
    assert!(
        ex.detail.contains("the stream itself was not found"),
        "{}",
        ex.detail
    );
}

#[test]
fn a_stream_found_again_later_is_not_gone() {
    let r = check(&history(&["describe-not-found", "describe-ok"]));
    assert_eq!(count(&r, AnomalyClass::LostAcrossCrash), 0, "{r:#?}");
    assert_eq!(count(&r, AnomalyClass::LostWrite), 0, "{r:#?}");
}

#[test]
fn a_stream_that_was_deleted_is_not_lost() {
    let r = check(&history(&["delete", "describe-not-found"]));
    assert_eq!(count(&r, AnomalyClass::LostAcrossCrash), 0, "{r:#?}");
    assert_eq!(count(&r, AnomalyClass::LostWrite), 0, "{r:#?}");
}
