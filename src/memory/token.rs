//! Self-describing, tamper-evident tokens for shard iterators and ListShards pages.
//!
//! A token carries everything needed to resume (so the service keeps no per-iterator state
//! and memory stays bounded) plus a keyed MD5 tag, so garbage or edited tokens are refused
//! with `InvalidArgumentException` instead of being misread.

use crate::types::{SeqInt, SequenceNumber};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::{Digest, Md5};

const TAG_BYTES: usize = 8;

/// What an iterator token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IteratorToken {
    /// Stream name.
    pub stream: String,
    /// Which incarnation of the stream name.
    pub incarnation: u64,
    /// Shard index.
    pub shard: u32,
    /// Inclusive lower bound of the next record.
    pub from: SequenceNumber,
    /// When the iterator was issued.
    pub issued_ms: u64,
}

/// What a ListShards continuation token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListToken {
    /// Stream name.
    pub stream: String,
    /// Which incarnation of the stream name.
    pub incarnation: u64,
    /// List shards with a larger index than this.
    pub after_shard: u32,
    /// When the token was issued.
    pub issued_ms: u64,
}

fn seal(secret: u64, kind: u8, payload: &mut Vec<u8>) -> String {
    payload.insert(0, kind);
    let tag = tag(secret, payload);
    payload.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(payload)
}

fn tag(secret: u64, payload: &[u8]) -> [u8; TAG_BYTES] {
    let mut h = Md5::new();
    h.update(secret.to_le_bytes());
    h.update(payload);
    let digest = h.finalize();
    let mut out = [0u8; TAG_BYTES];
    out.copy_from_slice(&digest[..TAG_BYTES]);
    out
}

fn open(secret: u64, kind: u8, token: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() < 1 + TAG_BYTES || bytes[0] != kind {
        return None;
    }
    let (payload, got) = bytes.split_at(bytes.len() - TAG_BYTES);
    (tag(secret, payload) == got).then(|| payload[1..].to_vec())
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl IteratorToken {
    /// Encodes the token, tagged with `secret`.
    pub fn encode(&self, secret: u64) -> String {
        let mut p = Vec::with_capacity(96 + self.stream.len());
        put_string(&mut p, &self.stream);
        p.extend_from_slice(&self.incarnation.to_le_bytes());
        p.extend_from_slice(&self.shard.to_le_bytes());
        p.extend_from_slice(&self.issued_ms.to_le_bytes());
        let limbs: [u8; 56] = self.from.as_int().to_le_bytes();
        let used = limbs.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        p.push(used as u8);
        p.extend_from_slice(&limbs[..used]);
        seal(secret, b'I', &mut p)
    }

    /// Decodes a token issued with `secret`; `None` for anything else.
    pub fn decode(secret: u64, token: &str) -> Option<Self> {
        let payload = open(secret, b'I', token)?;
        let mut r = Reader(&payload);
        let stream = r.string()?;
        let incarnation = r.u64()?;
        let shard = r.u32()?;
        let issued_ms = r.u64()?;
        let used = usize::from(*r.take(1)?.first()?);
        let mut limbs = [0u8; 56];
        limbs.get_mut(..used)?.copy_from_slice(r.take(used)?);
        let from = SequenceNumber::from_int(SeqInt::from_le_bytes(limbs));
        Some(IteratorToken {
            stream,
            incarnation,
            shard,
            from,
            issued_ms,
        })
    }
}

impl ListToken {
    /// Encodes the token, tagged with `secret`.
    pub fn encode(&self, secret: u64) -> String {
        let mut p = Vec::with_capacity(32 + self.stream.len());
        put_string(&mut p, &self.stream);
        p.extend_from_slice(&self.incarnation.to_le_bytes());
        p.extend_from_slice(&self.after_shard.to_le_bytes());
        p.extend_from_slice(&self.issued_ms.to_le_bytes());
        seal(secret, b'L', &mut p)
    }

    /// Decodes a token issued with `secret`; `None` for anything else.
    pub fn decode(secret: u64, token: &str) -> Option<Self> {
        let payload = open(secret, b'L', token)?;
        let mut r = Reader(&payload);
        Some(ListToken {
            stream: r.string()?,
            incarnation: r.u64()?,
            after_shard: r.u32()?,
            issued_ms: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let t = IteratorToken {
            stream: "clicks".into(),
            incarnation: 3,
            shard: 7,
            from: "49548859072970256769156879668947671610661756289899560962"
                .parse()
                .unwrap(),
            issued_ms: 1_700_000_000_123,
        };
        let s = t.encode(42);
        assert!(s.len() <= 512);
        assert_eq!(IteratorToken::decode(42, &s), Some(t.clone()));
        assert_eq!(IteratorToken::decode(43, &s), None);
        let mut edited = s.clone().into_bytes();
        edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            IteratorToken::decode(42, &String::from_utf8(edited).unwrap()),
            None
        );
        assert_eq!(IteratorToken::decode(42, "garbage"), None);
        assert_eq!(ListToken::decode(42, &s), None);
    }
}
