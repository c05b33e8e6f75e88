//! The sequencer: the one piece of logic every implementation trusts to assign sequence numbers.
//!
//! Pure: no I/O, no clock of its own, no locks. The stateright models in `models/` and the
//! embedded service both drive this very code.

mod layout;
mod reservation;
mod shard;
mod stream;

pub use layout::{MAX_AWS_EPOCH, MAX_COUNTER, SeqFields, SeqFormat};
pub use reservation::BlockReservation;
pub use shard::{SequencerError, ShardSequencer};
pub use stream::StreamSequencer;
