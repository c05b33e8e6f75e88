//! Bounded, jittered exponential backoff, as production Kinesis clients retry.

use super::rng::Rng;
use std::time::Duration;

/// Retry pacing: attempt `n` (1-based) waits a random time in `[d/2, d]` with
/// `d = min(base · 2^(n-1), cap)`, the jitter drawn from the caller's seeded generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay's upper bound.
    pub base: Duration,
    /// No delay exceeds this.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 10 ms doubling up to 400 ms.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(400),
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry); never above `cap`.
    pub fn delay(&self, retry: u32, rng: &mut Rng) -> Duration {
        let shift = retry.saturating_sub(1).min(20);
        let upper = self
            .base
            .saturating_mul(1u32 << shift)
            .min(self.cap)
            .as_micros();
        let upper = u64::try_from(upper).unwrap_or(u64::MAX);
        Duration::from_micros(rng.range(upper / 2, upper))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let b = Backoff::default();
        let mut rng = Rng::new(3);
        for retry in 1..40 {
            let d = b.delay(retry, &mut rng);
            assert!(d <= b.cap);
        }
        let first = b.delay(1, &mut rng);
        assert!(first <= b.base && first >= b.base / 2);
    }
}
