//! The per-area result table.

use seqcheck::conformance::AreaReport;
use std::fmt::Write as _;

/// Renders `reports` as an aligned text table.
pub fn render(implementation: &str, reports: &[AreaReport]) -> String {
    let mut out = format!("\nconformance of {implementation}\n");
    let _ = writeln!(
        out,
        "{:<12} {:<13} {:>8} {:>9} {:>10} {:>8}",
        "area", "result", "cases", "ops", "ops/s", "time"
    );
    let _ = writeln!(out, "{}", "-".repeat(65));
    for r in reports {
        let rate = if r.seconds > 0.0 {
            r.ops as f64 / r.seconds
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "{:<12} {:<13} {:>8} {:>9} {:>10.0} {:>7.2}s",
            r.area.name(),
            r.status_word(),
            r.cases,
            r.ops,
            rate,
            r.seconds
        );
    }
    out
}
