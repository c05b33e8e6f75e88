//! Reading and writing histories: one JSON event per line, from any number of files.

use super::event::{Event, FORMAT_VERSION};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where an event sits: the file it came from (its index among the files checked together)
/// and its 1-based line. Reports name events this way, so every example can be looked up.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct EventRef {
    /// Index of the file among those read together.
    pub file: u32,
    /// 1-based line number within that file.
    pub line: u64,
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not an event of this format.
    #[error("{path}:{line}: not a history event: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A line is an event of another version of the format.
    #[error("{path}:{line}: format version {found}, this seqcheck reads version {FORMAT_VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The version found.
        found: u32,
    },
}

/// Parses one line of a history. Blank lines are not events (`Ok(None)`).
pub fn parse_line(path: &Path, line_no: u64, line: &str) -> Result<Option<Event>, HistoryError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let event: Event = serde_json::from_str(line).map_err(|e| HistoryError::Malformed {
        path: path.to_path_buf(),
        line: line_no,
        reason: e.to_string(),
    })?;
    if event.v != FORMAT_VERSION {
        return Err(HistoryError::Version {
            path: path.to_path_buf(),
            line: line_no,
            found: event.v,
        });
    }
    Ok(Some(event))
}

/// Streams the events of one file, in file order, each with its line number. Memory use is one
/// line at a time.
pub fn read_events(
    path: &Path,
) -> Result<impl Iterator<Item = Result<(u64, Event), HistoryError>>, HistoryError> {
    let file = File::open(path).map_err(|source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let path = path.to_path_buf();
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    let mut line_no = 0u64;
    Ok(std::iter::from_fn(move || {
        loop {
            line_no += 1;
            let line = match lines.next()? {
                Ok(l) => l,
                Err(source) => {
                    return Some(Err(HistoryError::Io {
                        path: path.clone(),
                        source,
                    }));
                }
            };
            match parse_line(&path, line_no, &line) {
                Ok(Some(e)) => return Some(Ok((line_no, e))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }))
}

/// A history being written by many threads of one node: every event gets the node's monotonic
/// and wall-clock times as it is recorded, and lines never interleave. Events reach the file in
/// the order they were recorded.
pub struct HistoryWriter {
    out: Mutex<Box<dyn Write + Send>>,
    start: Instant,
    node: Option<String>,
}

impl HistoryWriter {
    /// A writer into a new file at `path` (truncated if it exists).
    pub fn create(path: &Path, node: Option<String>) -> std::io::Result<Self> {
        let file = File::create(path)?;
        Ok(Self::to_writer(
            Box::new(BufWriter::with_capacity(1 << 16, file)),
            node,
        ))
    }

    /// A writer into any sink (a `Vec<u8>` behind a shared buffer in tests).
    pub fn to_writer(out: Box<dyn Write + Send>, node: Option<String>) -> Self {
        HistoryWriter {
            out: Mutex::new(out),
            start: Instant::now(),
            node,
        }
    }

    /// Nanoseconds on this writer's monotonic clock.
    pub fn mono_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Microseconds since the Unix epoch on the wall clock.
    pub fn wall_us() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    /// Stamps `event` with the current times (and this writer's node) and appends it. Stamping
    /// and writing happen under one lock, so `mono_ns` never decreases along the file.
    pub fn record(&self, mut event: Event) -> std::io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        event.mono_ns = self.mono_ns();
        event.wall_us = Self::wall_us();
        if event.node.is_none() {
            event.node.clone_from(&self.node);
        }
        serde_json::to_writer(&mut *out, &event)?;
        out.write_all(b"\n")
    }

    /// Writes out everything recorded so far.
    pub fn flush(&self) -> std::io::Result<()> {
        self.out.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}
