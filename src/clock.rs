//! Time as the services see it: injectable, so retention and iterator expiry are testable.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in milliseconds since the Unix epoch.
///
/// Callers that need monotone time (shard logs stamping arrival times) clamp readings
/// themselves, so a clock may be read from many threads without shared writes.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now_ms(&self) -> u64;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

/// Where manual clocks start: 2024-01-01T00:00:00Z, so AWS-layout numbers look realistic.
pub const MANUAL_CLOCK_START_MS: u64 = 1_704_067_200_000;

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::starting_at(MANUAL_CLOCK_START_MS)
    }
}

impl ManualClock {
    /// A clock that reads `start_ms` until advanced.
    pub fn starting_at(start_ms: u64) -> Self {
        ManualClock {
            now: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// Moves time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}
