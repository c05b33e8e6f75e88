//! Partition keys, 128-bit hash keys and hash key ranges: how a record is routed to a shard.

use super::error::KinesisError;
use md5::{Digest, Md5};
use std::fmt;
use std::sync::Arc;

/// The largest hash key, `2^128 - 1`.
pub const MAX_HASH_KEY: u128 = u128::MAX;

/// A partition key: 1..=256 Unicode characters (kinesis-semantics §5.1, §11.16).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey(Arc<str>);

impl PartitionKey {
    /// Validates `raw` as the partition key at request path `path`.
    pub fn parse(raw: &str, path: &str) -> Result<Self, KinesisError> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(KinesisError::validation(
                raw,
                path,
                "Member must have length greater than or equal to 1",
            ));
        }
        if len > 256 {
            return Err(KinesisError::validation(
                raw,
                path,
                "Member must have length less than or equal to 256",
            ));
        }
        Ok(PartitionKey(Arc::from(raw)))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared string, cheap to clone into stored records.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }

    /// The hash key Kinesis routes this key by: MD5 of its UTF-8 bytes, big-endian.
    pub fn hash_key(&self) -> HashKey {
        HashKey::of_partition_key(&self.0)
    }
}

/// A 128-bit hash key: the routing coordinate of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashKey(pub u128);

impl HashKey {
    /// MD5 of the UTF-8 bytes of `pk`, digest byte 0 most significant (kinesis-semantics §2.1).
    pub fn of_partition_key(pk: &str) -> HashKey {
        let digest = Md5::digest(pk.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest);
        HashKey(u128::from_be_bytes(bytes))
    }

    /// Parses an `ExplicitHashKey`: a decimal `0|([1-9]\d{0,38})` (else `ValidationException`)
    /// whose value is at most `2^128 - 1` (else `InvalidArgumentException`).
    pub fn parse_explicit(raw: &str, path: &str) -> Result<Self, KinesisError> {
        if !is_canonical_decimal(raw, 39) {
            return Err(KinesisError::validation(
                raw,
                path,
                "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
            ));
        }
        raw.parse::<u128>().map(HashKey).map_err(|_| {
            KinesisError::invalid_argument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {raw}"
            ))
        })
    }
}

impl fmt::Display for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// True when `raw` matches `0|([1-9]\d{0,max_digits-1})` as a whole string.
pub fn is_canonical_decimal(raw: &str, max_digits: usize) -> bool {
    let b = raw.as_bytes();
    !b.is_empty()
        && b.len() <= max_digits
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1)
}

/// An inclusive, non-empty range of hash keys owned by one shard.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct HashKeyRange {
    /// The lowest hash key in the range.
    pub start: u128,
    /// The highest hash key in the range (inclusive).
    pub end: u128,
}

impl HashKeyRange {
    /// The whole hash space `[0, 2^128 - 1]`.
    pub const ALL: HashKeyRange = HashKeyRange {
        start: 0,
        end: MAX_HASH_KEY,
    };

    /// True when `key` lies in the range.
    pub fn contains(&self, key: HashKey) -> bool {
        self.start <= key.0 && key.0 <= self.end
    }

    /// The ranges of a new stream with `n` shards: `h = floor(2^128 / n)`, shard `i` owns
    /// `[h*i, h*(i+1) - 1]` and the last shard ends at `2^128 - 1` (kinesis-semantics §2.4).
    pub fn initial_split(n: u32) -> Vec<HashKeyRange> {
        assert!(n >= 1, "a stream has at least one shard");
        if n == 1 {
            return vec![HashKeyRange::ALL];
        }
        let n = u128::from(n);
        // floor(2^128 / n) without overflowing: (2^128 - 1) / n, plus one when n divides 2^128.
        let mut h = u128::MAX / n;
        if (u128::MAX % n) + 1 == n {
            h += 1;
        }
        (0..n)
            .map(|i| HashKeyRange {
                start: h * i,
                end: if i + 1 == n {
                    MAX_HASH_KEY
                } else {
                    h * (i + 1) - 1
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn md5_routing_matches_the_recorded_aws_vectors() {
        let key = |s: &str| PartitionKey::parse(s, "partitionKey").unwrap().hash_key().0;
        assert_eq!(key("a"), 16955237001963240173058271559858726497);
        assert_eq!(key("b"), 195289424170611159128911017612795795343);
        assert_eq!(key("e"), 299611584147932843547128611849858313266);
        assert_eq!(key("f"), 190917122200326810055233066464581373159);
        assert_eq!(
            key("é"),
            u128::from_str_radix("66ddcd97cfdeabb2f6fb8a999b4bc76f", 16).unwrap()
        );
    }

    #[test]
    fn initial_split_matches_aws() {
        let two = HashKeyRange::initial_split(2);
        assert_eq!(two[0].end, 170141183460469231731687303715884105727);
        assert_eq!(two[1].start, 1u128 << 127);
        let three = HashKeyRange::initial_split(3);
        assert_eq!(three[0].end, 113427455640312821154458202477256070484);
        assert_eq!(three[1].end, 226854911280625642308916404954512140969);
        assert_eq!(three[2].start, 226854911280625642308916404954512140970);
        assert_eq!(three[2].end, MAX_HASH_KEY);
        assert_eq!(HashKeyRange::initial_split(1), vec![HashKeyRange::ALL]);
    }

    /// `floor(2^128 / n)` by long division of `2^128 = 2 * 2^127`, independent of the
    /// overflow-avoiding arithmetic in [`HashKeyRange::initial_split`]; `n >= 2` (`2^128`
    /// itself does not fit).
    fn floor_2_pow_128_over(n: u128) -> u128 {
        let half = 1u128 << 127;
        2 * (half / n) + (2 * (half % n)) / n
    }

    #[test]
    fn initial_split_boundaries_are_multiples_of_floor_2_pow_128_over_n() {
        assert_eq!(HashKeyRange::initial_split(1), vec![HashKeyRange::ALL]);
        for n in 2..=8u32 {
            let h = floor_2_pow_128_over(u128::from(n));
            let split = HashKeyRange::initial_split(n);
            assert_eq!(split.len(), n as usize, "n={n}");
            for (i, range) in split.iter().enumerate() {
                let i = i as u128;
                assert_eq!(range.start, h * i, "n={n} shard {i} start");
                let end = if i + 1 == u128::from(n) {
                    MAX_HASH_KEY
                } else {
                    h * (i + 1) - 1
                };
                assert_eq!(range.end, end, "n={n} shard {i} end");
            }
        }
        // The recorded AWS values (kinesis-semantics §2.4).
        assert_eq!(floor_2_pow_128_over(2), 1u128 << 127);
        assert_eq!(HashKeyRange::initial_split(4)[2].start, 1u128 << 127);
        assert_eq!(HashKeyRange::initial_split(8)[4].start, 1u128 << 127);
        let three = HashKeyRange::initial_split(3);
        assert_eq!(three[1].start, 113427455640312821154458202477256070485);
        assert_eq!(three[1].end, 226854911280625642308916404954512140969);
    }

    #[test]
    fn partition_key_limits_count_characters() {
        assert!(PartitionKey::parse(&"é".repeat(256), "pk").is_ok());
        assert_eq!(
            PartitionKey::parse(&"a".repeat(257), "pk")
                .unwrap_err()
                .kind,
            ErrorKind::ValidationException
        );
        assert_eq!(
            PartitionKey::parse("", "pk").unwrap_err().kind,
            ErrorKind::ValidationException
        );
    }

    #[test]
    fn explicit_hash_key_errors() {
        assert_eq!(
            HashKey::parse_explicit("340282366920938463463374607431768211455", "ehk").unwrap(),
            HashKey(u128::MAX)
        );
        assert_eq!(
            HashKey::parse_explicit("340282366920938463463374607431768211456", "ehk")
                .unwrap_err()
                .kind,
            ErrorKind::InvalidArgumentException
        );
        for bad in ["", "01", "-1", "1a", &"9".repeat(40)] {
            assert_eq!(
                HashKey::parse_explicit(bad, "ehk").unwrap_err().kind,
                ErrorKind::ValidationException,
                "{bad:?}"
            );
        }
    }
}
