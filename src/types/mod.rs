//! Domain types. Validation lives in constructors: a value of these types is always valid.

mod error;
mod keys;
mod names;
mod record;
mod sequence_number;

pub use error::{ErrorKind, KinesisError};
pub use keys::{HashKey, HashKeyRange, MAX_HASH_KEY, PartitionKey, is_canonical_decimal};
pub use names::{ACCOUNT_ID, MAX_SHARD_INDEX, ShardId, StreamName};
pub use record::{Record, ShardIteratorType, StreamStatus};
pub use sequence_number::{SeqInt, SequenceNumber};
