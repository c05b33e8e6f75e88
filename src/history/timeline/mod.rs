//! A self-contained HTML timeline of a history: one lane per process, grouped by role, each
//! operation a bar from its invoke to its completion coloured by outcome, faults shaded, and
//! every event an anomaly names highlighted and linked from a panel at the top (see
//! `docs/timeline.md`).
//!
//! The page is one file with its stylesheet, script and data inline; it loads nothing, so it
//! opens offline. Every piece of user data (payloads, keys, process names, messages) is escaped
//! before it reaches the page.

mod escape;
mod html;
mod labels;
mod model;

use super::event::Event;
use super::io::{EventRef, HistoryError, read_events};
use super::report::Report;
use std::path::Path;

/// How a timeline is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineOptions {
    /// At most this many events are drawn, unless those always drawn are more: every event an
    /// anomaly names, the operations next to each on its process's lane, and every fault. The
    /// others are drawn in time order while they fit; the page says what was left out and shades
    /// the stretch of time it comes from.
    pub max_events: usize,
}

impl Default for TimelineOptions {
    /// Draws up to 20,000 events, which a browser shows smoothly.
    fn default() -> Self {
        TimelineOptions { max_events: 20_000 }
    }
}

/// Renders `events` (in any order; each file's events are taken in line order) with the
/// anomalies of `report` as one HTML page.
///
/// Guarantees: the page references no external resource (its content security policy forbids
/// loading any); it has one lane per process (`data-process`); every operation containing an
/// event that an anomaly example names carries `data-anomaly` (the classes) and
/// `data-anomaly-refs` (exactly those events, as `FILE:LINE` with the file's index), and no other
/// element carries them; every example in the panel links to its events (`#ev-FILE-LINE`);
/// and all text from the history or the report is escaped.
pub fn render_timeline(
    events: &[(EventRef, Event)],
    report: &Report,
    opts: &TimelineOptions,
) -> String {
    let model = model::Model::build(events, report);
    let drawn = model::select(&model, opts.max_events);
    html::page(events, report, opts, &model, &drawn)
}

/// Reads the events of every file in `paths`, in order; each event's [`EventRef::file`] is its
/// file's position in `paths`, as in a [`Report`] of the same files.
///
/// # Errors
/// The first file that cannot be read or line that is not an event of this format.
pub fn load_events<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<(EventRef, Event)>, HistoryError> {
    let mut out = Vec::new();
    for (file, path) in paths.iter().enumerate() {
        // More than 2^32 files cannot be passed on a command line; saturate rather than wrap.
        let file = u32::try_from(file).unwrap_or(u32::MAX);
        for item in read_events(path.as_ref())? {
            let (line, event) = item?;
            out.push((EventRef { file, line }, event));
        }
    }
    Ok(out)
}

/// Renders the timeline (as [`render_timeline`]) and writes it to `path`, replacing any file
/// there. This is what `seqcheck history check FILE… --html OUT` writes.
///
/// # Errors
/// Any error of creating or writing the file.
pub fn write_timeline(
    path: &Path,
    events: &[(EventRef, Event)],
    report: &Report,
    opts: &TimelineOptions,
) -> std::io::Result<()> {
    std::fs::write(path, render_timeline(events, report, opts))
}

#[cfg(test)]
mod tests;
