//! Self-describing, unique record payloads: `"{process}.{counter}.{checksum}"`.
//!
//! The checksum is the first 8 hex digits of the MD5 of `"{process}.{counter}"`, so a reader
//! can tell a payload this runner wrote from a corrupted or foreign one, and the process and
//! counter name the logical put that wrote it. A producer never reuses a counter, so no two
//! logical puts of a run share a payload (retries of one logical put resend the same one).

use md5::{Digest, Md5};

/// The payload of the `counter`-th logical put of `process`.
pub fn payload(process: &str, counter: u64) -> String {
    let body = format!("{process}.{counter}");
    let digest = Md5::digest(body.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{body}.{hex}")
}

/// The `(process, counter)` a well-formed payload names; `None` when the text is not one this
/// runner writes or its checksum does not match.
pub fn parse(text: &str) -> Option<(&str, u64)> {
    let (body, checksum) = text.rsplit_once('.')?;
    let (process, counter) = body.rsplit_once('.')?;
    let counter: u64 = counter.parse().ok()?;
    let expected = payload(process, counter);
    expected
        .rsplit_once('.')
        .filter(|(_, sum)| *sum == checksum)
        .map(|_| (process, counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_checksum_and_parse_back() {
        let p = payload("producer-0", 17);
        assert!(p.starts_with("producer-0.17."));
        assert_eq!(p.len(), "producer-0.17.".len() + 8);
        assert_eq!(parse(&p), Some(("producer-0", 17)));
        // MD5("producer-0.17") is fixed, so the payload is too.
        assert_eq!(p, payload("producer-0", 17));
        assert_ne!(p, payload("producer-0", 18));
    }

    #[test]
    fn a_corrupted_payload_does_not_parse() {
        let p = payload("producer-1", 3);
        let bad = p.replace("producer-1.3", "producer-1.4");
        assert_eq!(parse(&bad), None);
        assert_eq!(parse("nonsense"), None);
    }
}
