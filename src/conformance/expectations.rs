//! Recorded divergences of a third-party implementation from Kinesis: the suite tolerates
//! exactly these (and reports them), and fails on anything new.

use super::Area;
use crate::model::{Property, Violation};

/// One recorded way an implementation differs from Kinesis.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KnownDivergence {
    /// Short stable name.
    pub id: String,
    /// The areas where it shows (empty: any area).
    #[serde(default)]
    pub areas: Vec<Area>,
    /// The property broken.
    pub property: Property,
    /// A fragment of the violation's detail that identifies this divergence.
    pub detail_contains: String,
    /// A regular expression the detail must also match, for details whose identifying parts
    /// are separated by run-specific values (names, clocks). Checked when the file is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_pattern: Option<String>,
    /// What the implementation does differently, in words.
    pub what_differs: String,
    /// What Kinesis does, with its source in kinesis-semantics.md.
    pub kinesis_fact: String,
    /// The shrunk counterexample that demonstrates it.
    #[serde(default)]
    pub counterexample: Vec<String>,
}

impl KnownDivergence {
    /// True when `violation`, found in `area`, is this divergence.
    pub fn matches(&self, area: Area, violation: &Violation) -> bool {
        (self.areas.is_empty() || self.areas.contains(&area))
            && self.property == violation.property
            && violation.detail.contains(&self.detail_contains)
            && self.detail_pattern.as_deref().is_none_or(|pattern| {
                regex::Regex::new(pattern).is_ok_and(|re| re.is_match(&violation.detail))
            })
    }
}

/// A request the implementation cannot survive (it hangs or takes the process down), so the
/// suite never sends it. Hazards are findings too: they are reported as "not sent", with the
/// evidence, wherever the run's unsupported capabilities are.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hazard {
    /// Short stable name.
    pub id: String,
    /// A regular expression over the request as transcripts render it on one line (e.g.
    /// `^UpdateShardCount .* target=0$`). Checked when the file is loaded.
    pub request_pattern: String,
    /// What the implementation does with such a request, and how that was observed.
    pub evidence: String,
    /// What Kinesis does, with its source in kinesis-semantics.md.
    pub kinesis_fact: String,
}

/// The expectations file of one implementation.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expectations {
    /// Which implementation and version the file describes.
    pub implementation: String,
    /// Capabilities it lacks, with the evidence.
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Recorded divergences.
    #[serde(default)]
    pub divergences: Vec<KnownDivergence>,
    /// Requests never sent to the implementation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
}

/// Why an expectations file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationsError {
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("{path} is not a valid expectations file: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// A divergence's `detail_pattern` or a hazard's `request_pattern` is not a valid regular
    /// expression.
    #[error("{path}: `{id}` has an invalid pattern: {source}")]
    Pattern {
        /// The file.
        path: String,
        /// The divergence.
        id: String,
        /// Why.
        source: regex::Error,
    },
}

impl Expectations {
    /// Loads an expectations file.
    pub fn load(path: &str) -> Result<Self, ExpectationsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExpectationsError::Read {
            path: path.into(),
            source,
        })?;
        let expectations: Self =
            serde_json::from_str(&text).map_err(|source| ExpectationsError::Parse {
                path: path.into(),
                source,
            })?;
        let patterns = expectations
            .divergences
            .iter()
            .filter_map(|d| Some((&d.id, d.detail_pattern.as_ref()?)))
            .chain(
                expectations
                    .hazards
                    .iter()
                    .map(|h| (&h.id, &h.request_pattern)),
            );
        for (id, pattern) in patterns {
            regex::Regex::new(pattern).map_err(|source| ExpectationsError::Pattern {
                path: path.into(),
                id: id.clone(),
                source,
            })?;
        }
        Ok(expectations)
    }

    /// The recorded divergence `violation` (found in `area`) is, if any.
    pub fn find(&self, area: Area, violation: &Violation) -> Option<&KnownDivergence> {
        self.divergences.iter().find(|d| d.matches(area, violation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn divergence(contains: &str, pattern: Option<&str>) -> KnownDivergence {
        KnownDivergence {
            id: "d".into(),
            areas: vec![Area::Validation],
            property: Property::ErrorMapping,
            detail_contains: contains.into(),
            detail_pattern: pattern.map(str::to_owned),
            what_differs: String::new(),
            kinesis_fact: String::new(),
            counterexample: Vec::new(),
        }
    }

    fn violation(detail: &str) -> Violation {
        Violation::new(Property::ErrorMapping, detail)
    }

    #[test]
    fn matches_by_area_property_and_fragment() {
        let d = divergence("got ResourceNotFoundException", None);
        let v = violation("GetShardIterator: expected success, got ResourceNotFoundException");
        assert!(d.matches(Area::Validation, &v));
        assert!(!d.matches(Area::Routing, &v), "other area");
        assert!(!d.matches(
            Area::Validation,
            &Violation::new(Property::Continuity, v.detail.clone())
        ));
        assert!(!d.matches(
            Area::Validation,
            &violation("expected success, got LimitExceeded")
        ));
    }

    #[test]
    fn a_pattern_narrows_the_fragment() {
        let d = divergence(
            "expected success, got ResourceNotFoundException: Shard shardId-",
            Some(r"Shard shardId-\d{1,11} in stream "),
        );
        let short = violation(
            "GetShardIterator: expected success, got ResourceNotFoundException: Shard shardId-1 in stream s",
        );
        let canonical = violation(
            "GetShardIterator: expected success, got ResourceNotFoundException: Shard shardId-000000000001 in stream s",
        );
        assert!(d.matches(Area::Validation, &short));
        assert!(
            !d.matches(Area::Validation, &canonical),
            "a canonical id that is not found is a different (new) divergence"
        );
    }

    #[test]
    fn an_invalid_pattern_is_refused_when_loading() {
        let dir = std::env::temp_dir().join(format!("seqcheck-exp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bad.json");
        let file = Expectations {
            implementation: "x".into(),
            unsupported: Vec::new(),
            divergences: vec![divergence("a", Some("(unclosed"))],
            hazards: Vec::new(),
        };
        std::fs::write(&path, serde_json::to_string(&file).expect("json")).expect("write");
        let err = Expectations::load(path.to_str().expect("utf-8 path")).unwrap_err();
        assert!(
            matches!(&err, ExpectationsError::Pattern { id, .. } if id == "d"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
