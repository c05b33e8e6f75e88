//! seqcheck: a verification harness for Kinesis-style ordered streams.
//!
//! The crate holds one executable specification of the Kinesis data plane (the reference
//! model), the sequencer every implementation here trusts, an embedded concurrent service, and
//! a conformance suite that drives any [`StreamService`] and the model side by side.

#![warn(missing_docs)]

pub mod api;
pub mod clock;
#[cfg(feature = "http")]
pub mod driver;
pub mod history;
#[cfg(feature = "http")]
pub mod http;
pub mod memory;
pub mod model;
/// Exhaustive stateright models of the sequencer under crashes, resharding, replication and
/// consumer checkpointing; each model drives the shipped [`sequencer`] code.
#[path = "../models/mod.rs"]
pub mod models;
#[cfg(feature = "http")]
pub mod nemesis;
pub mod scaling;
pub mod sequencer;
#[cfg(feature = "http")]
pub mod server;
pub mod service;
pub mod types;
pub mod validate;
pub mod wire;

pub use memory::MemoryStream;
pub use model::{Model, ModelConfig, ModelService};
pub use service::{Capabilities, StreamService, dispatch};
pub mod conformance;
pub mod mutants;
