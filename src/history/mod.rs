//! Concurrent histories: what many clients did to a stream service, and what that says about
//! the service.
//!
//! A history is a JSONL file of [`event::Event`]s (format in `docs/history.md`): every call a
//! client made and its outcome, a consumer's processing and checkpoints, and every fault a
//! nemesis injected. Sequence numbers make such a history cheap to check: each read fixes the
//! order of what it returns, and unique payloads map every observed record back to the put
//! that wrote it, so no search over interleavings is needed.

pub mod check;
pub mod event;
pub mod io;
pub mod report;
pub mod synth;
pub mod timeline;

pub use check::{CheckOptions, Checker, check_events, check_files};
pub use event::{Event, EventType, FORMAT_VERSION, Op};
pub use io::{EventRef, HistoryError, HistoryWriter};
pub use report::{
    Anomaly, AnomalyClass, ClassCount, Coverage, LagSummary, Report, UnknownOutcomes, Verdict,
};
pub use timeline::{TimelineOptions, load_events, render_timeline, write_timeline};
