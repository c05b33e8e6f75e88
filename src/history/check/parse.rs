//! Reading history files in parallel: the file is cut into line-aligned blocks, worker threads
//! parse blocks into compact events, and the events come back in file order.
//!
//! Memory is bounded by the pipeline's depth: at most `2 × workers + 2` blocks of
//! [`BLOCK`] bytes (raw or parsed) are in flight at any time, whatever the file's size.

use super::hash::Names;
use super::lower::{Lowered, parse_line};
use crate::history::io::{EventRef, HistoryError};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

/// Bytes per block handed to a worker.
pub const BLOCK: usize = 4 << 20;

/// One parsed block: its events with their places, and the names it interned.
pub struct Batch {
    /// Events in file order.
    pub events: Vec<(EventRef, Lowered)>,
    /// Names first seen in this block.
    pub names: Names,
}

/// Parses a block of whole lines whose first line is `first_line` of file `file`.
pub fn parse_block(buf: &[u8], file: u32, first_line: u64) -> Batch {
    let mut names = Names::default();
    let mut events = Vec::with_capacity(buf.len() / 160);
    for (line, l) in (first_line..).zip(buf.split(|&b| b == b'\n')) {
        if let Some(ev) = parse_line(l, &mut names) {
            events.push((EventRef { file, line }, ev));
        }
    }
    // `split` yields one empty piece after a final newline.
    Batch { events, names }
}

/// The events of one file, in order, parsed by `workers` threads. Dropping it stops the
/// threads.
pub struct FileEvents {
    rx: Receiver<Result<(u64, Batch), HistoryError>>,
    pending: BTreeMap<u64, Batch>,
    next: u64,
    done: bool,
}

fn io_err(path: &Path, source: std::io::Error) -> HistoryError {
    HistoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl FileEvents {
    /// Starts reading `path` (file index `file`) with `workers` parsing threads.
    pub fn open(path: &Path, file: u32, workers: usize) -> Result<Self, HistoryError> {
        let f = File::open(path).map_err(|e| io_err(path, e))?;
        let workers = workers.max(1);
        let (block_tx, block_rx) = sync_channel::<(u64, Vec<u8>, u64)>(workers + 1);
        let (out_tx, out_rx) = sync_channel(workers + 1);
        let path: PathBuf = path.to_path_buf();
        let reader_out = out_tx.clone();
        std::thread::spawn(move || {
            let mut f = f;
            let mut carry: Vec<u8> = Vec::new();
            let mut line = 1u64;
            let mut idx = 0u64;
            loop {
                let mut buf = std::mem::take(&mut carry);
                let start = buf.len();
                buf.resize(start + BLOCK, 0);
                let n = match read_full(&mut f, &mut buf[start..]) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = reader_out.send(Err(io_err(&path, e)));
                        return;
                    }
                };
                buf.truncate(start + n);
                let eof = n == 0;
                if !eof {
                    if let Some(cut) = buf.iter().rposition(|&b| b == b'\n') {
                        carry = buf.split_off(cut + 1);
                    } else {
                        carry = buf;
                        continue;
                    }
                }
                if buf.is_empty() {
                    break;
                }
                let lines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
                let lines = if buf.last() == Some(&b'\n') {
                    lines
                } else {
                    lines + 1
                };
                if block_tx.send((idx, buf, line)).is_err() {
                    return;
                }
                idx += 1;
                line += lines;
                if eof {
                    break;
                }
            }
        });
        let block_rx = Arc::new(Mutex::new(block_rx));
        for _ in 0..workers {
            let rx = Arc::clone(&block_rx);
            let tx = out_tx.clone();
            std::thread::spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    let Ok((idx, buf, line)) = job else {
                        return;
                    };
                    let batch = parse_block(&buf, file, line);
                    if tx.send(Ok((idx, batch))).is_err() {
                        return;
                    }
                }
            });
        }
        Ok(FileEvents {
            rx: out_rx,
            pending: BTreeMap::new(),
            next: 0,
            done: false,
        })
    }

    /// The next block in file order; `None` at the end.
    pub fn next_batch(&mut self) -> Option<Result<Batch, HistoryError>> {
        loop {
            if let Some(b) = self.pending.remove(&self.next) {
                self.next += 1;
                return Some(Ok(b));
            }
            if self.done {
                return None;
            }
            match self.rx.recv() {
                Ok(Ok((idx, b))) => {
                    self.pending.insert(idx, b);
                }
                Ok(Err(e)) => return Some(Err(e)),
                Err(_) => self.done = true,
            }
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
