//! Interning by hash: payloads become 128-bit values, names (shards, processes, partition
//! keys, iterators) 64-bit values, so the checker's tables hold fixed-size keys instead of
//! strings.
//!
//! The hash is a two-lane folded-multiply hash (in the style of wyhash) over 8-byte words: fast
//! on short strings and well mixed, but not cryptographic. For payloads the 128 bits make an
//! accidental collision among 10^9 distinct payloads a chance of about 10^-21; a collision could
//! only merge two puts into one. Names use 64 bits, and every name is kept once as text
//! ([`Names`]), which detects a collision instead of merging two names silently.

use std::collections::HashMap;

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;
const K3: u64 = 0x5899_65cc_7537_4cc3;

#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let r = u128::from(a).wrapping_mul(u128::from(b));
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(w)
}

/// A 128-bit hash of `bytes` under a one-byte domain `tag` (so `data` text and `data_b64` text
/// that happen to be equal strings hash apart).
pub fn hash128(tag: u8, bytes: &[u8]) -> u128 {
    let len = bytes.len() as u64;
    let mut a = K0 ^ len ^ u64::from(tag);
    let mut b = K1 ^ len.rotate_left(32) ^ (u64::from(tag) << 56);
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        let w0 = word(&c[..8]);
        let w1 = word(&c[8..]);
        let x = fold(a ^ w0, K2 ^ w1);
        let y = fold(b ^ w1, K3 ^ w0);
        a = x;
        b = y ^ x.rotate_left(23);
    }
    let rest = chunks.remainder();
    let (w0, w1) = if rest.len() > 8 {
        (word(&rest[..8]), word(&rest[8..]))
    } else {
        (word(rest), 0)
    };
    let x = fold(a ^ w0, K2 ^ w1);
    let y = fold(b ^ w1, K3 ^ w0);
    let hi = fold(x ^ K1, y ^ K0);
    let lo = fold(y ^ K2, x.rotate_left(31) ^ K3);
    (u128::from(hi) << 64) | u128::from(lo)
}

/// A 64-bit hash of a name.
pub fn hash64(bytes: &[u8]) -> u64 {
    let h = hash128(0xff, bytes);
    (h as u64) ^ ((h >> 64) as u64)
}

/// The text of every name seen, by hash. A second, different text under one hash is recorded as
/// a collision (the checker then reports the history as malformed rather than merge the names).
#[derive(Debug, Default)]
pub struct Names {
    // Keyed by the name's own 64-bit hash, so the table need not hash it again.
    map: HashedMap<u64, Box<str>>,
    /// Pairs of different names with one hash.
    pub collisions: Vec<(String, String)>,
}

impl Names {
    /// Hashes `name`, remembering its text.
    pub fn intern(&mut self, name: &str) -> u64 {
        let h = hash64(name.as_bytes());
        match self.map.get(&h) {
            Some(known) if &**known == name => {}
            Some(known) => self.collisions.push((known.to_string(), name.to_owned())),
            None => {
                self.map.insert(h, name.into());
            }
        }
        h
    }

    /// The text of a hashed name (`?` when it was never interned).
    pub fn get(&self, h: u64) -> &str {
        self.map.get(&h).map_or("?", |s| s)
    }

    /// Takes in a copy of every name of another table.
    pub fn absorb_clone(&mut self, other: &Names) {
        for (h, name) in &other.map {
            self.map.entry(*h).or_insert_with(|| name.clone());
        }
    }

    /// Takes in the names of another table.
    pub fn absorb(&mut self, other: Names) {
        self.collisions.extend(other.collisions);
        for (h, name) in other.map {
            match self.map.get(&h) {
                Some(known) if *known == name => {}
                Some(known) => self.collisions.push((known.to_string(), name.to_string())),
                None => {
                    self.map.insert(h, name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn hashes_separate_near_identical_payloads() {
        let mut seen = HashSet::new();
        for i in 0..200_000u32 {
            assert!(seen.insert(hash128(0, format!("producer-3.{i}").as_bytes())));
        }
        assert_ne!(hash128(0, b"abc"), hash128(1, b"abc"));
        assert_ne!(hash128(0, b""), hash128(0, b"\0"));
        for len in 0..40 {
            let a = vec![7u8; len];
            let mut b = a.clone();
            b.push(0);
            assert_ne!(hash128(0, &a), hash128(0, &b));
        }
    }

    #[test]
    fn names_detect_collisions_and_merge() {
        let mut a = Names::default();
        let h = a.intern("shardId-000000000001");
        assert_eq!(a.get(h), "shardId-000000000001");
        let mut b = Names::default();
        b.intern("k1");
        a.absorb(b);
        assert_eq!(a.get(hash64(b"k1")), "k1");
        assert!(a.collisions.is_empty());
    }
}

/// A hasher for keys that are already hashes (payload, name and iterator hashes): it keeps
/// their bits instead of hashing them again.
#[derive(Clone, Copy, Debug, Default)]
pub struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(K0);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 ^= (v as u64) ^ ((v >> 64) as u64);
    }
    fn write_u32(&mut self, v: u32) {
        self.0 ^= u64::from(v).wrapping_mul(K0);
    }
}

/// A map keyed by hashes, with [`PreHashed`].
pub type HashedMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PreHashed>>;
