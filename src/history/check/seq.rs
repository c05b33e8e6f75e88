//! Sequence numbers as fixed-width integers: parsed once from their decimal strings, then
//! compared, sorted and hashed as 32-byte values.
//!
//! A decimal string compares numerically by stripping leading zeros and comparing length, then
//! bytes; converting it once to a 256-bit integer gives the same order, takes 32 bytes instead of
//! a heap string, and compares in a few instructions. 256 bits hold every number of up to 77
//! digits (AWS's numbers have 56); a longer number is reported as malformed, never truncated.

use std::fmt;

/// A sequence number: an unsigned integer below 2^256, ordered numerically.
///
/// Limbs are big-endian (`0` is the most significant), so the derived order is numeric order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seq(pub [u64; 4]);

/// Why a string is not a sequence number this checker can hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeqError {
    /// Empty, or a character that is not a decimal digit.
    #[error("not a decimal number: {0:?}")]
    NotDecimal(String),
    /// At or above 2^256 (more than 77 digits).
    #[error("number beyond 2^256 (the checker's range): {0} digits")]
    TooLarge(usize),
}

const TEN19: u64 = 10_000_000_000_000_000_000;

impl Seq {
    /// Zero, the smallest number.
    pub const ZERO: Seq = Seq([0; 4]);
    /// 2^256 − 1: stands for "past every number" (a shard's end).
    pub const MAX: Seq = Seq([u64::MAX; 4]);

    /// Parses a decimal string (leading zeros allowed, read numerically).
    pub fn parse(s: &str) -> Result<Seq, SeqError> {
        let b = s.as_bytes();
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return Err(SeqError::NotDecimal(s.chars().take(80).collect()));
        }
        let start = b.iter().position(|&c| c != b'0').unwrap_or(b.len());
        let digits = &b[start..];
        if digits.len() > 78 {
            return Err(SeqError::TooLarge(digits.len()));
        }
        let mut limbs = [0u64; 4];
        let first = digits.len() % 19;
        let mut rest = digits;
        if first > 0 {
            limbs[3] = chunk(&digits[..first]);
            rest = &digits[first..];
        }
        for c in rest.chunks(19) {
            if !mul_add(&mut limbs, TEN19, chunk(c)) {
                return Err(SeqError::TooLarge(digits.len()));
            }
        }
        Ok(Seq(limbs))
    }

    /// The number in decimal, without leading zeros.
    pub fn to_decimal(&self) -> String {
        if self.0 == [0; 4] {
            return "0".to_owned();
        }
        let mut limbs = self.0;
        let mut parts = Vec::with_capacity(5);
        while limbs != [0; 4] {
            let mut rem: u128 = 0;
            for l in limbs.iter_mut() {
                let cur = (rem << 64) | u128::from(*l);
                *l = (cur / u128::from(TEN19)) as u64;
                rem = cur % u128::from(TEN19);
            }
            parts.push(rem as u64);
        }
        let mut out = parts.pop().map(|p| p.to_string()).unwrap_or_default();
        while let Some(p) = parts.pop() {
            out.push_str(&format!("{p:019}"));
        }
        out
    }

    /// The number one above (saturating at [`Seq::MAX`]).
    pub fn succ(self) -> Seq {
        let mut l = self.0;
        for i in (0..4).rev() {
            let (v, over) = l[i].overflowing_add(1);
            l[i] = v;
            if !over {
                return Seq(l);
            }
        }
        Seq::MAX
    }
}

fn chunk(d: &[u8]) -> u64 {
    d.iter()
        .fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0'))
}

/// `limbs = limbs * m + a`; false on overflow.
fn mul_add(limbs: &mut [u64; 4], m: u64, a: u64) -> bool {
    let mut carry = u128::from(a);
    for l in limbs.iter_mut().rev() {
        let cur = u128::from(*l) * u128::from(m) + carry;
        *l = cur as u64;
        carry = cur >> 64;
    }
    carry == 0
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

/// Where an iterator stands, as the lowest number it can return: `(n, false)` returns numbers
/// ≥ n (`AT_SEQUENCE_NUMBER n`, `TRIM_HORIZON` = `(0, false)`), `(n, true)` numbers > n
/// (`AFTER_SEQUENCE_NUMBER n`, or after a page whose last record was n). Ordered so that a
/// smaller bound admits more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bound {
    /// The number.
    pub seq: Seq,
    /// Whether `seq` itself is excluded.
    pub after: bool,
}

impl Bound {
    /// The bound of `TRIM_HORIZON`: every number.
    pub const START: Bound = Bound {
        seq: Seq::ZERO,
        after: false,
    };

    /// Numbers ≥ `seq`.
    pub fn at(seq: Seq) -> Bound {
        Bound { seq, after: false }
    }

    /// Numbers > `seq`.
    pub fn after(seq: Seq) -> Bound {
        Bound { seq, after: true }
    }

    /// Whether an iterator at this bound can still return `s`.
    pub fn admits(self, s: Seq) -> bool {
        if self.after {
            self.seq < s
        } else {
            self.seq <= s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trips_and_orders_numerically() {
        let big = "49590338271490256608559692538361571095921575989136588898";
        for s in ["0", "1", "9999999999999999999", "10000000000000000000", big] {
            assert_eq!(Seq::parse(s).expect("parses").to_decimal(), s);
        }
        assert_eq!(
            Seq::parse("007").expect("parses"),
            Seq::parse("7").expect("parses")
        );
        let a = Seq::parse("99").expect("parses");
        let b = Seq::parse("100").expect("parses");
        assert!(a < b);
        assert!(
            Seq::parse(big).expect("parses")
                > Seq::parse("4959033827149025660855969253836157109592157598913658889")
                    .expect("parses")
        );
        assert!(matches!(Seq::parse("12a"), Err(SeqError::NotDecimal(_))));
        assert!(matches!(Seq::parse(""), Err(SeqError::NotDecimal(_))));
        assert!(matches!(
            Seq::parse(&"9".repeat(80)),
            Err(SeqError::TooLarge(80))
        ));
        assert!(Seq::parse(&"9".repeat(77)).is_ok());
    }

    #[test]
    fn bounds_admit_what_their_iterator_type_returns() {
        let five = Seq::parse("5").expect("parses");
        assert!(Bound::at(five).admits(five));
        assert!(!Bound::after(five).admits(five));
        assert!(Bound::at(five) < Bound::after(five));
        assert!(Bound::START.admits(Seq::ZERO));
        assert_eq!(five.succ(), Seq::parse("6").expect("parses"));
    }
}
