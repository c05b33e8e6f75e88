//! Distinct unrecorded findings of one area: grouped by what broke, each shrunk once, capped.

use super::report::Counterexample;
use crate::model::Violation;

/// What makes two violations the same bug: the property, and the detail with every
/// run-specific value (numbers, quoted names, iterators) blanked out.
pub fn fingerprint(violation: &Violation) -> String {
    let mut out = format!("{}:", violation.property);
    // The request that triggered a server error, crash or hang varies from case to case; the
    // bug is the operation and the answer.
    let detail = violation
        .detail
        .split_once("; request: ")
        .map_or(violation.detail.as_str(), |(head, _)| head);
    let mut chars = detail.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        // A quote opens a value when it starts a word (`Value 'abc'`, `key="abc"`), not in
        // the middle of one (`shard's`).
        let opens_value =
            c == '"' || (c == '\'' && (previous.is_whitespace() || "(=[".contains(previous)));
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('#');
        } else if opens_value {
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
            }
            out.push(c);
            out.push('…');
            out.push(c);
        } else {
            out.push(c);
        }
        previous = c;
    }
    out
}

/// The distinct findings of an area, in the order they were found.
#[derive(Debug)]
pub struct Findings {
    cap: usize,
    seen: Vec<String>,
    kept: Vec<(String, Counterexample)>,
}

impl Findings {
    /// No findings yet; at most `cap` are kept with a counterexample.
    pub fn new(cap: usize) -> Self {
        Findings {
            cap,
            seen: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// True the first time `key` is seen; it is counted as distinct from then on.
    pub fn is_new(&mut self, key: &str) -> bool {
        if self.seen.iter().any(|k| k == key) {
            return false;
        }
        self.seen.push(key.to_owned());
        true
    }

    /// Takes `key` back (its case did not fail again when replayed).
    pub fn forget(&mut self, key: &str) {
        self.seen.retain(|k| k != key);
    }

    /// True while fewer than the cap have a counterexample.
    pub fn has_room(&self) -> bool {
        self.kept.len() < self.cap
    }

    /// Keeps the shrunk counterexample of `key`.
    pub fn push(&mut self, key: String, counterexample: Counterexample) {
        self.kept.push((key, counterexample));
    }

    /// How many findings have a counterexample.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// Distinct findings seen, including those past the cap.
    pub fn distinct(&self) -> u64 {
        self.seen.len() as u64
    }

    /// The kept counterexamples, in the order found.
    pub fn into_counterexamples(self) -> Vec<Counterexample> {
        self.kept.into_iter().map(|(_, c)| c).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Property;

    #[test]
    fn run_specific_values_do_not_make_a_bug_distinct() {
        let a = Violation::new(
            Property::ErrorMapping,
            "PutRecord: expected ValidationException, got InvalidArgumentException: key \"user-1\" of stream sc-7-a at 1700000000000",
        );
        let b = Violation::new(
            Property::ErrorMapping,
            "PutRecord: expected ValidationException, got InvalidArgumentException: key \"k\" of stream sc-12-a at 1700000000999",
        );
        let c = Violation::new(Property::ErrorMapping, "GetRecords: expected success");
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let long = |v: &str| {
            Violation::new(
                Property::ErrorMapping,
                format!("PutRecord: Value '{v}' at 'partitionKey' failed; the shard's end"),
            )
        };
        assert_eq!(fingerprint(&long("ééé")), fingerprint(&long("kkkk")));
        assert!(fingerprint(&long("k")).contains("shard's end"));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn past_the_cap_findings_are_counted_not_kept() {
        let mut f = Findings::new(1);
        assert!(f.is_new("a") && f.has_room());
        assert!(!f.is_new("a"));
        assert!(f.is_new("b"));
        assert_eq!(f.distinct(), 2);
    }
}
