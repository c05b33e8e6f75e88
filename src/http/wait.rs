//! Waiting for a stream's asynchronous changes to complete, by polling its status.

use super::HttpService;
use crate::api::StreamRequest;
use crate::service::StreamService;
use crate::types::{ErrorKind, KinesisError, StreamStatus};
use std::fmt;
use std::time::{Duration, Instant};

/// Pause between two status polls.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// The state to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// `DescribeStreamSummary` reports `ACTIVE`.
    Active,
    /// `DescribeStreamSummary` answers `ResourceNotFoundException`.
    Gone,
}

impl fmt::Display for WaitTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitTarget::Active => "ACTIVE",
            WaitTarget::Gone => "gone",
        })
    }
}

/// Why a wait ended without reaching its target.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The deadline passed first.
    #[error("stream '{stream}' was not {target} after {waited:?}; last observation: {last}")]
    Timeout {
        /// The stream waited for.
        stream: String,
        /// The state waited for.
        target: WaitTarget,
        /// How long the wait lasted.
        waited: Duration,
        /// The last status or error seen.
        last: String,
    },
    /// The service answered with an error that waiting cannot resolve.
    #[error("waiting for stream '{stream}' to be {target}: {source}")]
    Failed {
        /// The stream waited for.
        stream: String,
        /// The state waited for.
        target: WaitTarget,
        /// The error.
        source: KinesisError,
    },
}

/// Polls `DescribeStreamSummary` on `service` every 25 ms until `stream` reaches `target` or
/// `timeout` passes, and returns how long it took.
///
/// While waiting for [`WaitTarget::Active`], `ResourceNotFoundException` counts as "not yet"
/// (some services make a new stream visible only after a moment); indeterminate answers count as
/// "not yet" for either target. Any other error ends the wait with [`WaitError::Failed`].
/// The wait is bounded: it never lasts much beyond `timeout` plus one request's own timeout.
pub fn wait_for_status(
    service: &dyn StreamService,
    stream: &str,
    target: WaitTarget,
    timeout: Duration,
) -> Result<Duration, WaitError> {
    let start = Instant::now();
    let request = StreamRequest {
        stream_name: stream.to_owned(),
    };
    loop {
        let last = match service.describe_stream_summary(&request) {
            Ok(summary)
                if target == WaitTarget::Active && summary.status == StreamStatus::ACTIVE =>
            {
                return Ok(start.elapsed());
            }
            Ok(summary) => summary.status.name().to_owned(),
            Err(e) if e.kind == ErrorKind::ResourceNotFoundException => {
                if target == WaitTarget::Gone {
                    return Ok(start.elapsed());
                }
                e.to_string()
            }
            Err(e) if e.kind.is_unknown_outcome() => e.to_string(),
            Err(source) => {
                return Err(WaitError::Failed {
                    stream: stream.to_owned(),
                    target,
                    source,
                });
            }
        };
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(WaitError::Timeout {
                stream: stream.to_owned(),
                target,
                waited,
                last,
            });
        }
        std::thread::sleep(POLL_INTERVAL.min(timeout - waited));
    }
}

impl HttpService {
    /// Waits until `stream` is `ACTIVE` or gone; see [`wait_for_status`].
    pub fn wait_for_status(
        &self,
        stream: &str,
        target: WaitTarget,
        timeout: Duration,
    ) -> Result<Duration, WaitError> {
        wait_for_status(self, stream, target, timeout)
    }
}
