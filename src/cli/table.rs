//! The per-area result table.

use seqcheck::conformance::AreaReport;
use std::fmt::Write as _;

/// One line of the table: an area or a slow check.
pub struct Row {
    label: String,
    result: &'static str,
    cases: u64,
    done: u64,
    early: u64,
    findings: u64,
    ops: u64,
    seconds: f64,
}

impl<A: std::fmt::Display> From<&AreaReport<A>> for Row {
    fn from(r: &AreaReport<A>) -> Self {
        Row {
            label: r.area.to_string(),
            result: r.status_word(),
            cases: r.cases,
            done: r.completed_cases,
            early: r.ended_early.iter().map(|e| e.cases).sum(),
            findings: r.distinct_findings,
            ops: r.ops,
            seconds: r.seconds,
        }
    }
}

/// Renders `rows` as an aligned text table: per area (or slow check) its result, the cases
/// generated (`cases`), those that ran to their last step (`done`) and those that ended
/// before it (`early`), the distinct unrecorded findings (a column shown only when some row
/// has any; blank where a row has none), requests sent, their rate and the wall time.
pub fn render(implementation: &str, rows: &[Row]) -> String {
    let with_findings = rows.iter().any(|r| r.findings > 0);
    let width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    let findings_cell = |value: String| {
        if with_findings {
            format!(" {value:>8}")
        } else {
            String::new()
        }
    };
    let header = format!(
        "{:<width$} {:<13} {:>6} {:>6} {:>6}{} {:>9} {:>10} {:>8}",
        "area",
        "result",
        "cases",
        "done",
        "early",
        findings_cell("findings".into()),
        "ops",
        "ops/s",
        "time"
    );
    let mut out = format!("\nconformance of {implementation}\n");
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.chars().count()));
    for r in rows {
        let rate = if r.seconds > 0.0 {
            r.ops as f64 / r.seconds
        } else {
            0.0
        };
        let findings = if r.findings > 0 {
            r.findings.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<width$} {:<13} {:>6} {:>6} {:>6}{} {:>9} {:>10.0} {:>7.2}s",
            r.label,
            r.result,
            r.cases,
            r.done,
            r.early,
            findings_cell(findings),
            r.ops,
            rate,
            r.seconds
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use seqcheck::conformance::{Area, AreaStatus, EarlyEnd};

    fn report(area: Area, status: AreaStatus) -> AreaReport {
        let mut r = AreaReport::empty(area, status);
        r.cases = 64;
        r.completed_cases = 60;
        r.ended_early = vec![
            EarlyEnd {
                reason: "a".into(),
                cases: 3,
            },
            EarlyEnd {
                reason: "b".into(),
                cases: 1,
            },
        ];
        r.ops = 5000;
        r.seconds = 2.0;
        r
    }

    #[test]
    fn the_table_shows_done_and_early_cases_aligned() {
        let text = render(
            "peer",
            &[(&report(Area::Paging, AreaStatus::Passed)).into()],
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines[1].contains("cases   done  early"), "{text}");
        assert!(!lines[1].contains("findings"), "{text}");
        assert!(lines[3].contains("passed"), "{text}");
        assert!(lines[3].contains("    64     60      4"), "{text}");
        assert_eq!(lines[1].len(), lines[2].len());
        assert_eq!(lines[1].len(), lines[3].len());
    }

    #[test]
    fn the_findings_column_appears_when_an_area_has_findings() {
        let mut failed = report(Area::Validation, AreaStatus::Failed { findings: vec![] });
        failed.distinct_findings = 3;
        let text = render(
            "peer",
            &[
                (&report(Area::Paging, AreaStatus::Passed)).into(),
                (&failed).into(),
            ],
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines[1].contains("findings"), "{text}");
        assert!(lines[4].contains("FAILED"), "{text}");
        assert!(lines[4].contains("      4        3 "), "{text}");
        assert!(lines[3].contains("      4          "), "{text}");
        assert_eq!(lines[1].len(), lines[3].len());
        assert_eq!(lines[3].len(), lines[4].len());
    }

    #[test]
    fn a_slow_check_is_a_row_of_its_own_and_widens_the_area_column() {
        let mut slow = seqcheck::conformance::SlowReport::empty(
            seqcheck::conformance::SlowCheck::Expiry,
            AreaStatus::Passed,
        );
        slow.cases = 1;
        slow.completed_cases = 1;
        let text = render(
            "peer",
            &[
                (&report(Area::Paging, AreaStatus::Passed)).into(),
                (&slow).into(),
            ],
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert!(lines[4].starts_with("expiry (slow) passed"), "{text}");
        assert!(lines[3].starts_with("paging        passed"), "{text}");
        assert_eq!(lines[1].len(), lines[3].len());
        assert_eq!(lines[3].len(), lines[4].len());
    }
}
