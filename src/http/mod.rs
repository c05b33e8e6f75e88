//! An implementation of [`StreamService`](crate::StreamService) that drives any
//! Kinesis-compatible HTTP endpoint (AWS itself, kinesalite, kinesis-mock, moto, …).
//!
//! Two paths reach the endpoint:
//!
//! - [`HttpService`] goes through the official AWS SDK for Rust, exactly as production clients
//!   do. It never retries: a retried `PutRecord` could append twice, and the checker must see
//!   every outcome as it happened. Failures are classified as *definite* (the service answered
//!   with an error, so the request had no effect) or *indeterminate*
//!   ([`ErrorKind::Indeterminate`](crate::types::ErrorKind::Indeterminate): timeouts, broken
//!   connections; the request may or may not have been applied).
//! - [`RawClient`] sends a JSON body byte for byte, for requests the SDK refuses to send (it
//!   checks some constraints itself, such as an empty partition key), so the service's own
//!   validation can be observed.
//!
//! ```no_run
//! use seqcheck::StreamService;
//! use seqcheck::api::CreateStreamRequest;
//! use seqcheck::http::{HttpService, WaitTarget};
//! use std::time::Duration;
//!
//! let service = HttpService::new("http://127.0.0.1:4567", None)?;
//! service.create_stream(&CreateStreamRequest { stream_name: "s".into(), shard_count: 2 })?;
//! service.wait_for_status("s", WaitTarget::Active, Duration::from_secs(10))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod convert;
mod errors;
pub mod raw;
mod service;
mod wait;

pub use client::{DEFAULT_REGION, HttpOptions, SetupError};
pub use raw::{RawClient, RawError, RawResponse};
pub use service::HttpService;
pub use wait::{WaitError, WaitTarget, wait_for_status};
