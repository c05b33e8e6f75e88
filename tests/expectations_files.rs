//! The recorded divergences of the peers are evidence, so they are checked like code: every
//! file loads, every divergence states what differs and cites the Kinesis fact, and its own
//! recorded counterexample is recognised as that divergence (and as no other one).

use seqcheck::conformance::{Area, Expectations};
use seqcheck::model::{Property, Violation};

const FILES: [&str; 3] = [
    "tests/expectations/kinesalite.json",
    "tests/expectations/kinesis-mock.json",
    "tests/expectations/moto.json",
];

/// The area and violation a recorded counterexample ends with.
fn recorded_violation(lines: &[String]) -> (Area, Violation) {
    let first = lines.first().expect("counterexample has a header");
    let area_name = first
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no area in {first:?}"));
    let area = Area::ALL
        .into_iter()
        .find(|a| a.name() == area_name)
        .unwrap_or_else(|| panic!("unknown area {area_name}"));
    let violated = lines
        .iter()
        .find_map(|l| l.strip_prefix("violated: "))
        .expect("counterexample names the violation");
    // Either `Property: detail` or the printed form `Property violated (statement): detail`.
    let name_end = violated
        .find([':', ' '])
        .unwrap_or_else(|| panic!("no property in {violated:?}"));
    let (property, rest) = violated.split_at(name_end);
    let detail = match rest.strip_prefix(": ") {
        Some(detail) => detail,
        None => {
            rest.split_once("): ")
                .unwrap_or_else(|| panic!("no detail in {violated:?}"))
                .1
        }
    };
    let property = Property::ALL
        .into_iter()
        .find(|p| p.to_string() == property)
        .unwrap_or_else(|| panic!("unknown property {property}"));
    (area, Violation::new(property, detail))
}

#[test]
fn every_recorded_divergence_is_documented_and_recognises_its_own_counterexample() {
    let mut checked = 0;
    for path in FILES {
        let file = Expectations::load(path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!file.implementation.is_empty(), "{path}: implementation");
        let mut ids = std::collections::HashSet::new();
        for d in &file.divergences {
            assert!(ids.insert(d.id.as_str()), "{path}: duplicate id {}", d.id);
            assert!(
                !d.what_differs.trim().is_empty(),
                "{path}/{}: what_differs",
                d.id
            );
            assert!(
                d.kinesis_fact.contains("kinesis-semantics §"),
                "{path}/{}: the Kinesis fact must cite kinesis-semantics.md",
                d.id
            );
            assert!(
                !d.detail_contains.is_empty(),
                "{path}/{}: empty fragment",
                d.id
            );
            let (area, violation) = recorded_violation(&d.counterexample);
            let recognised: Vec<&str> = file
                .divergences
                .iter()
                .filter(|other| other.matches(area, &violation))
                .map(|other| other.id.as_str())
                .collect();
            assert_eq!(
                recognised,
                [d.id.as_str()],
                "{path}/{}: its own counterexample must be recognised as this divergence only",
                d.id
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} divergences recorded");
}
