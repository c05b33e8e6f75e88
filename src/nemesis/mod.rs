//! Faults between clients and a service, for concurrent-history tests: network faults that a
//! test switches at runtime and can write into the history it records.
//!
//! [`FaultProxy`] is a TCP proxy on `127.0.0.1` that forwards to a service and, according to the
//! current [`NetFault`], delays, holds or resets connections. The faults that reset are the two
//! sides of an unknown outcome: [`NetFault::ResetAfterRequest`] loses the answer to a request
//! the service applied, [`NetFault::ResetBeforeRequest`] loses a request the service never saw;
//! the client cannot tell them apart.

mod proxy;

pub use proxy::{FaultProxy, MAX_CONNECTIONS, MAX_HELD_BYTES, NetFault, ProxyError, ProxyStats};
