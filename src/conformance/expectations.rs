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
    }
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
}

impl Expectations {
    /// Loads an expectations file.
    pub fn load(path: &str) -> Result<Self, ExpectationsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExpectationsError::Read {
            path: path.into(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ExpectationsError::Parse {
            path: path.into(),
            source,
        })
    }

    /// The recorded divergence `violation` (found in `area`) is, if any.
    pub fn find(&self, area: Area, violation: &Violation) -> Option<&KnownDivergence> {
        self.divergences.iter().find(|d| d.matches(area, violation))
    }
}
