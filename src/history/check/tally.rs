//! Counting anomalies by class while keeping only the first few of each in full.
//!
//! Every anomaly is counted; its full form ([`Anomaly`]) is kept only while it is among the
//! first `limit` of its class in history order (by the position of its earliest event), so the
//! memory for examples is `O(classes × limit)` however many anomalies a history has. Tallies of
//! shards checked in parallel merge into the same result as one sequential tally.

use crate::history::report::{Anomaly, AnomalyClass, ClassCount};
use std::collections::BTreeMap;

/// Every class, in report order.
pub const ALL_CLASSES: [AnomalyClass; 17] = [
    AnomalyClass::InconsistentRecord,
    AnomalyClass::Duplicate,
    AnomalyClass::RetryDuplicate,
    AnomalyClass::LostWrite,
    AnomalyClass::LostAcrossCrash,
    AnomalyClass::Phantom,
    AnomalyClass::AckMismatch,
    AnomalyClass::IteratorChain,
    AnomalyClass::SnfoViolation,
    AnomalyClass::CrossReshardOrder,
    AnomalyClass::UnprocessedBeforeCheckpoint,
    AnomalyClass::IllegalReprocessing,
    AnomalyClass::ChildBeforeParent,
    AnomalyClass::KeyOrder,
    AnomalyClass::CheckpointBackwards,
    AnomalyClass::MalformedHistory,
    AnomalyClass::ReadLag,
];

#[derive(Debug, Default)]
struct Class {
    count: u64,
    examples: Vec<(u64, Anomaly)>,
}

/// Counts per class and the earliest examples.
#[derive(Debug)]
pub struct Tally {
    limit: usize,
    classes: BTreeMap<AnomalyClass, Class>,
}

impl Tally {
    /// An empty tally keeping up to `limit` examples per class.
    pub fn new(limit: usize) -> Self {
        Tally {
            limit,
            classes: BTreeMap::new(),
        }
    }

    /// Counts one anomaly whose earliest event is the `order`-th of the history; `make` builds
    /// its full form and runs only when it may be among the first examples.
    pub fn add(&mut self, class: AnomalyClass, order: u64, make: impl FnOnce() -> Anomaly) {
        let limit = self.limit;
        let c = self.classes.entry(class).or_default();
        c.count += 1;
        if limit == 0 {
            return;
        }
        if c.examples.len() >= limit {
            let worst = c.examples.iter().map(|(o, _)| *o).max().unwrap_or(u64::MAX);
            if order >= worst {
                return;
            }
        }
        c.examples.push((order, make()));
        if c.examples.len() > limit {
            c.examples.sort_by_key(|(o, _)| *o);
            c.examples.truncate(limit);
        }
    }

    /// How many anomalies of `class` were counted.
    pub fn count(&self, class: AnomalyClass) -> u64 {
        self.classes.get(&class).map_or(0, |c| c.count)
    }

    /// Takes in another tally's counts and examples.
    pub fn merge(&mut self, other: Tally) {
        for (class, o) in other.classes {
            let c = self.classes.entry(class).or_default();
            c.count += o.count;
            c.examples.extend(o.examples);
            c.examples.sort_by_key(|(o, _)| *o);
            c.examples.truncate(self.limit);
        }
    }

    /// One row per class of [`ALL_CLASSES`], zero counts included, examples in history order.
    pub fn into_counts(mut self) -> Vec<ClassCount> {
        ALL_CLASSES
            .iter()
            .map(|&class| {
                let c = self.classes.remove(&class).unwrap_or_default();
                let mut ex = c.examples;
                ex.sort_by_key(|(o, _)| *o);
                ClassCount {
                    class,
                    count: c.count,
                    examples: ex.into_iter().map(|(_, a)| a).collect(),
                }
            })
            .collect()
    }
}
