//! Sequence numbers: decimal strings of up to 129 digits, compared as integers.

use super::error::KinesisError;
use super::keys::is_canonical_decimal;
use std::fmt;
use std::str::FromStr;

/// The unsigned integer type that holds any valid sequence number (`10^129 < 2^429`).
pub type SeqInt = ruint::Uint<448, 7>;

/// A sequence number: any integer matching `0|([1-9]\d{0,128})`, ordered numerically.
///
/// Fixed-size and `Copy`, so the hot paths never allocate for it; it renders to its decimal
/// form only when displayed or serialized.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SequenceNumber(SeqInt);

impl SequenceNumber {
    /// The most decimal digits a sequence number may have.
    pub const MAX_DIGITS: usize = 129;

    /// Wraps an integer known to be a valid sequence number.
    pub fn from_int(value: SeqInt) -> Self {
        SequenceNumber(value)
    }

    /// A small sequence number (handy in tests).
    pub fn from_u128(value: u128) -> Self {
        SequenceNumber(SeqInt::from(value))
    }

    /// The integer value.
    pub fn as_int(&self) -> SeqInt {
        self.0
    }

    /// Parses the request field `path`; a shape violation is a `ValidationException`.
    pub fn parse(raw: &str, path: &str) -> Result<Self, KinesisError> {
        if !is_canonical_decimal(raw, Self::MAX_DIGITS) {
            return Err(KinesisError::validation(
                raw,
                path,
                "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})",
            ));
        }
        SeqInt::from_str_radix(raw, 10)
            .map(SequenceNumber)
            .map_err(|e| KinesisError::validation(raw, path, &e.to_string()))
    }

    /// The next integer, used to turn "after `s`" into "at or after `s + 1`".
    pub fn successor(&self) -> SequenceNumber {
        SequenceNumber(self.0.saturating_add(SeqInt::from(1u8)))
    }

    /// Number of decimal digits.
    pub fn digits(&self) -> usize {
        self.to_string().len()
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl FromStr for SequenceNumber {
    type Err = KinesisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SequenceNumber::parse(s, "sequenceNumber")
    }
}

impl serde::Serialize for SequenceNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SequenceNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        SequenceNumber::parse(&raw, "sequenceNumber").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn compares_numerically_not_lexically() {
        let nine: SequenceNumber = "9".parse().unwrap();
        let ten: SequenceNumber = "10".parse().unwrap();
        assert!(nine < ten);
        let big: SequenceNumber = "9".repeat(129).parse().unwrap();
        assert!(big > "49548859072970256769156879668947671610661756289899560962".parse().unwrap());
        assert_eq!(big.to_string(), "9".repeat(129));
    }

    #[test]
    fn rejects_non_canonical_text() {
        for bad in ["", "01", "1.0", "-1", "abc", &"1".repeat(130)] {
            assert_eq!(
                SequenceNumber::parse(bad, "s").unwrap_err().kind,
                ErrorKind::ValidationException,
                "{bad:?}"
            );
        }
        assert_eq!(SequenceNumber::parse("0", "s").unwrap(), SequenceNumber::default());
    }
}
