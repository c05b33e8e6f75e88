//! A checkpointing consumer that behaves like a KCL worker.
//!
//! - It discovers shards with `ListShards` every `list_interval` and registers them in the
//!   shared [`LeaseTable`]; children also come from `ChildShards` at a parent's end.
//! - It holds up to its fair share of leases. On taking one it reads the shard's checkpoint
//!   (`read_checkpoint`) and starts `AFTER_SEQUENCE_NUMBER` the checkpoint, or at
//!   `TRIM_HORIZON` when there is none.
//! - Per page it processes every record (`process` invoke/ok: the payload is appended to the
//!   consumer's output file), then checkpoints the page's last number (`checkpoint`), durably.
//! - At a closed shard's end (no `NextShardIterator`) it checkpoints `shard_end: true`, marks
//!   the shard finished and releases the lease; a child is leased only once every parent is
//!   finished.
//! - `ExpiredIteratorException` re-gets the iterator from the checkpoint; throttling and
//!   internal failures back off; an unknown outcome retries the same iterator (reads have no
//!   effect).
//! - Killed by the nemesis, it dies at a kill point between processing two records of a page
//!   (or after a page's last record, before its checkpoint) and records nothing more; its
//!   restarted incarnation starts from the checkpoint store.

use super::checkpoints::{Checkpoint, CheckpointStore};
use super::leases::LeaseTable;
use super::lifecycle::Switch;
use super::record::{self, Halted, Recorder, outcome_unknown};
use super::rng::Rng;
use super::{DriverConfig, DriverError, DriverTwin, topology};
use crate::api::{GetRecordsRequest, GetRecordsResponse, GetShardIteratorRequest};
use crate::history::event::Payload;
use crate::history::{EventType, Op};
use crate::service::StreamService;
use crate::types::{ErrorKind, Record, ShardIteratorType};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A kill requested while no page flows takes effect at the top of the loop after this long.
const IDLE_KILL_AFTER: Duration = Duration::from_millis(300);
/// A lease whose shard keeps refusing is handed back after this many errors in a row.
const MAX_ERRORS_PER_LEASE: u32 = 20;

/// What a consumer shares with the rest of the run.
pub(crate) struct Shared<'a> {
    pub(crate) config: &'a DriverConfig,
    pub(crate) service: &'a dyn StreamService,
    pub(crate) leases: &'a LeaseTable,
    pub(crate) store: &'a CheckpointStore,
    /// Where each consumer appends what it processed (`{process}.out`).
    pub(crate) output_dir: PathBuf,
}

/// A lease this incarnation holds.
struct Held {
    shard: String,
    iterator: Option<String>,
    /// The last checkpointed number (where a new iterator starts after).
    checkpoint: Option<String>,
    errors: u32,
    retry: u32,
}

enum End {
    Stopped,
    Killed,
}

enum Page {
    Continue,
    Finished,
    Dropped,
}

/// A consumer died at a kill point.
struct Killed;

/// Why a page could not go on.
enum Stop {
    Halted,
    Killed,
}

impl From<Halted> for Stop {
    fn from(_: Halted) -> Self {
        Stop::Halted
    }
}

impl From<Killed> for Stop {
    fn from(_: Killed) -> Self {
        Stop::Killed
    }
}

/// Runs one consumer (all its incarnations) until the run stops.
pub(crate) fn run(shared: &Shared<'_>, switch: &Switch, rec: Recorder<'_>) {
    let mut rng = Rng::fork(shared.config.seed, rec.process());
    loop {
        shared.leases.set_live(rec.process(), true);
        let end = Incarnation::start(shared, switch, &rec, &mut rng).and_then(|mut i| i.run());
        shared.leases.set_live(rec.process(), false);
        match end {
            Ok(End::Killed) => {
                switch.die();
                if !switch.wait_restart() {
                    return;
                }
                switch.running();
            }
            Ok(End::Stopped) | Err(Halted) => return,
        }
    }
}

struct Incarnation<'s, 'a, 'r> {
    shared: &'s Shared<'a>,
    switch: &'s Switch,
    rec: &'s Recorder<'r>,
    rng: &'s mut Rng,
    held: Vec<Held>,
    output: File,
    last_list: Option<Instant>,
}

impl<'s, 'a, 'r> Incarnation<'s, 'a, 'r> {
    fn start(
        shared: &'s Shared<'a>,
        switch: &'s Switch,
        rec: &'s Recorder<'r>,
        rng: &'s mut Rng,
    ) -> Result<Self, Halted> {
        let path = shared.output_dir.join(format!("{}.out", rec.process()));
        let output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| {
                rec.control().fail(DriverError::RunDir { path, source });
                Halted
            })?;
        Ok(Incarnation {
            shared,
            switch,
            rec,
            rng,
            held: Vec::new(),
            output,
            last_list: None,
        })
    }

    fn config(&self) -> &'a DriverConfig {
        self.shared.config
    }

    fn run(&mut self) -> Result<End, Halted> {
        loop {
            if self.rec.control().stopped() {
                self.release_all()?;
                return Ok(End::Stopped);
            }
            if self
                .switch
                .kill_pending()
                .is_some_and(|d| d >= IDLE_KILL_AFTER)
            {
                return Ok(End::Killed);
            }
            if self
                .last_list
                .is_none_or(|t| t.elapsed() >= self.config().list_interval)
            {
                self.discover()?;
            }
            self.take_leases()?;
            let mut i = 0;
            while i < self.held.len() {
                match self.page(i) {
                    Ok(Page::Continue) => i += 1,
                    Ok(Page::Finished | Page::Dropped) => {
                        self.held.remove(i);
                    }
                    Err(Stop::Killed) => return Ok(End::Killed),
                    Err(Stop::Halted) => return Err(Halted),
                }
            }
            if !self.rec.control().sleep(self.config().consumer_pause) {
                continue;
            }
        }
    }

    /// Lists the shards and registers the new ones.
    fn discover(&mut self) -> Result<(), Halted> {
        self.last_list = Some(Instant::now());
        let service = self.shared.service;
        if let Ok(shards) = topology::list_all(self.rec, service, &self.config().stream)? {
            for s in &shards {
                let id = s.shard_id.to_string();
                if self.shared.leases.knows(&id) {
                    continue;
                }
                let parents: Vec<String> = s
                    .parent_shard_id
                    .iter()
                    .chain(s.adjacent_parent_shard_id.iter())
                    .map(ToString::to_string)
                    .collect();
                let finished =
                    matches!(self.shared.store.read(&id), Ok(Some(Checkpoint::ShardEnd)));
                self.shared.leases.register(&id, &parents, finished);
            }
        }
        Ok(())
    }

    /// Takes free leases up to the fair share.
    fn take_leases(&mut self) -> Result<(), Halted> {
        let respect_parents = self.config().twin != Some(DriverTwin::ChildrenBeforeParentEnd);
        while self.held.len() < self.shared.leases.fair_share() {
            let candidates = self.shared.leases.candidates(respect_parents);
            if candidates.is_empty() {
                return Ok(());
            }
            let shard = candidates[self.rng.index(candidates.len())].clone();
            let mut invoke = self.rec.event(EventType::Invoke, Op::Lease);
            invoke.shard = Some(shard.clone());
            self.rec.record(invoke)?;
            let taken = self.shared.leases.try_take(&shard, self.rec.process());
            let mut done = self.rec.event(EventType::Ok, Op::Lease);
            if !taken {
                done.kind = EventType::Fail;
                done.error = Some("LeaseTaken".into());
                self.rec.record(done)?;
                continue;
            }
            self.rec.record(done)?;
            self.read_checkpoint(shard)?;
        }
        Ok(())
    }

    /// Reads the checkpoint of a newly leased shard and starts holding it.
    fn read_checkpoint(&mut self, shard: String) -> Result<(), Halted> {
        let mut invoke = self.rec.event(EventType::Invoke, Op::ReadCheckpoint);
        invoke.shard = Some(shard.clone());
        self.rec.record(invoke)?;
        let mut done = self.rec.event(EventType::Ok, Op::ReadCheckpoint);
        match self.shared.store.read(&shard) {
            Ok(None) => {
                self.rec.record(done)?;
                self.hold(shard, None);
            }
            Ok(Some(Checkpoint::Seq(seq))) => {
                done.seq = Some(seq.clone());
                self.rec.record(done)?;
                self.hold(shard, Some(seq));
            }
            Ok(Some(Checkpoint::ShardEnd)) => {
                done.shard_end = true;
                self.rec.record(done)?;
                self.shared.leases.finish(&shard);
                self.release(&shard)?;
            }
            Err(e) => {
                done.kind = EventType::Fail;
                done.error = Some("CheckpointStoreError".into());
                done.message = Some(e.to_string());
                self.rec.record(done)?;
                self.rec.control().fail(DriverError::Checkpoint(e));
                return Err(Halted);
            }
        }
        Ok(())
    }

    fn hold(&mut self, shard: String, checkpoint: Option<String>) {
        self.held.push(Held {
            shard,
            iterator: None,
            checkpoint,
            errors: 0,
            retry: 0,
        });
    }

    /// Hands back `shard` (recorded).
    fn release(&self, shard: &str) -> Result<(), Halted> {
        let mut invoke = self.rec.event(EventType::Invoke, Op::Release);
        invoke.shard = Some(shard.to_owned());
        self.rec.record(invoke)?;
        self.shared.leases.release(shard, self.rec.process());
        self.rec.record(self.rec.event(EventType::Ok, Op::Release))
    }

    fn release_all(&mut self) -> Result<(), Halted> {
        for h in std::mem::take(&mut self.held) {
            self.release(&h.shard)?;
        }
        Ok(())
    }

    /// Writes a checkpoint (recorded); a store failure stops the run.
    fn checkpoint(&self, shard: &str, checkpoint: &Checkpoint) -> Result<(), Halted> {
        let mut invoke = self.rec.event(EventType::Invoke, Op::Checkpoint);
        invoke.shard = Some(shard.to_owned());
        match checkpoint {
            Checkpoint::Seq(seq) => invoke.seq = Some(seq.clone()),
            Checkpoint::ShardEnd => invoke.shard_end = true,
        }
        self.rec.record(invoke)?;
        let mut done = self.rec.event(EventType::Ok, Op::Checkpoint);
        match self.shared.store.write(shard, checkpoint) {
            Ok(()) => self.rec.record(done),
            Err(e) => {
                done.kind = EventType::Fail;
                done.error = Some("CheckpointStoreError".into());
                done.message = Some(e.to_string());
                self.rec.record(done)?;
                self.rec.control().fail(DriverError::Checkpoint(e));
                Err(Halted)
            }
        }
    }

    /// Processes one record (recorded): appends its payload to the output file.
    fn process(&mut self, shard: &str, r: &Record) -> Result<(), Halted> {
        let mut invoke = self.rec.event(EventType::Invoke, Op::Process);
        invoke.shard = Some(shard.to_owned());
        invoke.seq = Some(r.sequence_number.to_string());
        invoke.key = Some(r.partition_key.to_string());
        (invoke.data, invoke.data_b64) = Payload::of(&r.data).into_fields();
        self.rec.record(invoke)?;
        let line = invoke_line(&r.data);
        if let Err(source) = self.output.write_all(line.as_bytes()) {
            let path = self
                .shared
                .output_dir
                .join(format!("{}.out", self.rec.process()));
            self.rec
                .control()
                .fail(DriverError::RunDir { path, source });
            return Err(Halted);
        }
        self.rec.record(self.rec.event(EventType::Ok, Op::Process))
    }

    /// A kill point: dies when a kill is pending.
    fn kill_point(&self) -> Result<(), Killed> {
        if self.switch.kill_pending().is_some() {
            Err(Killed)
        } else {
            Ok(())
        }
    }

    /// Reads, processes and checkpoints one page of lease `i`.
    fn page(&mut self, i: usize) -> Result<Page, Stop> {
        if self.held[i].errors >= MAX_ERRORS_PER_LEASE {
            let shard = self.held[i].shard.clone();
            self.release(&shard)?;
            return Ok(Page::Dropped);
        }
        let Some(iterator) = self.held[i].iterator.clone() else {
            self.get_iterator(i)?;
            return Ok(Page::Continue);
        };
        let shard = self.held[i].shard.clone();
        let req = GetRecordsRequest {
            shard_iterator: iterator,
            limit: Some(i64::from(self.config().page_limit)),
        };
        let mut invoke = self.rec.event(EventType::Invoke, Op::GetRecords);
        record::get_records_args(&mut invoke, &shard, &req);
        let service = self.shared.service;
        match self
            .rec
            .call(invoke, || service.get_records(&req), record::records_ok)?
        {
            Ok(page) => {
                self.held[i].errors = 0;
                self.held[i].retry = 0;
                self.handle_page(i, &shard, page)
            }
            Err(e) => {
                let h = &mut self.held[i];
                h.errors += 1;
                h.retry += 1;
                match e.kind {
                    ErrorKind::ExpiredIteratorException => h.iterator = None,
                    _ if outcome_unknown(&e) => {}
                    ErrorKind::ProvisionedThroughputExceededException
                    | ErrorKind::LimitExceededException
                    | ErrorKind::InternalFailure => {
                        let d = self.shared.config.backoff.delay(h.retry, self.rng);
                        std::thread::sleep(d);
                    }
                    _ => h.iterator = None,
                }
                Ok(Page::Continue)
            }
        }
    }

    fn handle_page(
        &mut self,
        i: usize,
        shard: &str,
        page: GetRecordsResponse,
    ) -> Result<Page, Stop> {
        let last = page.records.last().map(|r| r.sequence_number.to_string());
        let early = self.config().twin == Some(DriverTwin::CheckpointBeforeProcess);
        if early {
            if let Some(seq) = &last {
                self.checkpoint(shard, &Checkpoint::Seq(seq.clone()))?;
                self.held[i].checkpoint = Some(seq.clone());
            }
        }
        for (n, r) in page.records.iter().enumerate() {
            if n > 0 {
                self.kill_point()?;
            }
            self.process(shard, r)?;
        }
        if !page.records.is_empty() {
            self.kill_point()?;
        }
        if !early {
            if let Some(seq) = &last {
                self.checkpoint(shard, &Checkpoint::Seq(seq.clone()))?;
                self.held[i].checkpoint = Some(seq.clone());
            }
        }
        match page.next_shard_iterator {
            Some(next) => {
                self.held[i].iterator = Some(next);
                Ok(Page::Continue)
            }
            None => {
                self.checkpoint(shard, &Checkpoint::ShardEnd)?;
                self.shared.leases.finish(shard);
                for child in &page.child_shards {
                    let parents: Vec<String> = child
                        .parent_shards
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    self.shared
                        .leases
                        .register(&child.shard_id.to_string(), &parents, false);
                }
                self.release(shard)?;
                Ok(Page::Finished)
            }
        }
    }

    /// Gets an iterator for lease `i`: after its checkpoint, or at `TRIM_HORIZON`.
    fn get_iterator(&mut self, i: usize) -> Result<(), Halted> {
        let h = &self.held[i];
        let (kind, start) = match &h.checkpoint {
            Some(seq) => (ShardIteratorType::AFTER_SEQUENCE_NUMBER, Some(seq.clone())),
            None => (ShardIteratorType::TRIM_HORIZON, None),
        };
        let req = GetShardIteratorRequest {
            stream_name: self.config().stream.clone(),
            shard_id: h.shard.clone(),
            shard_iterator_type: kind,
            starting_sequence_number: start,
            timestamp_ms: None,
        };
        let mut invoke = self.rec.event(EventType::Invoke, Op::GetShardIterator);
        record::get_shard_iterator_args(&mut invoke, &req);
        let service = self.shared.service;
        let result = self.rec.call(
            invoke,
            || service.get_shard_iterator(&req),
            record::iterator_ok,
        )?;
        let h = &mut self.held[i];
        match result {
            Ok(it) => {
                h.iterator = Some(it);
                h.retry = 0;
            }
            Err(e) => {
                h.errors += 1;
                h.retry += 1;
                if !outcome_unknown(&e) {
                    let d = self.shared.config.backoff.delay(h.retry, self.rng);
                    std::thread::sleep(d);
                }
            }
        }
        Ok(())
    }
}

/// The line a processed record adds to the output file.
fn invoke_line(data: &[u8]) -> String {
    match Payload::of(data) {
        Payload::Text(t) | Payload::Base64(t) => format!("{t}\n"),
    }
}
