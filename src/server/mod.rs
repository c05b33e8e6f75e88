//! A loopback HTTP/1.1 server that puts any [`StreamService`] on the wire as a Kinesis JSON 1.1
//! endpoint, so that real clients (the AWS SDK, the conformance suite's
//! [`HttpService`](crate::http::HttpService), a fault proxy in between) can reach an in-process
//! implementation.
//!
//! Every request is answered by [`StreamService::call_raw`]: the server adds nothing to the
//! semantics, it only moves bytes and headers. A `POST` (any path) becomes a
//! [`RawRequest`](crate::api::RawRequest) of its `X-Amz-Target` header (absent: the empty
//! target, answered as [`crate::wire::decode_request`] answers it) and its body; the answer
//! carries the reply's status, `Content-Type`, `x-amzn-ErrorType` when the reply has one, and
//! always an `x-amzn-RequestId`. A body that is not UTF-8 gets the `SerializationException`
//! any unparsable body gets; a body over [`MAX_BODY_BYTES`] gets HTTP 413 with a
//! `SerializationException`, without reaching the service; another method gets HTTP 405 with
//! `Allow: POST` and an `UnknownOperationException` envelope. What it guarantees:
//!
//! - it binds `127.0.0.1` or `::1` only; any other address is refused with
//!   [`ServeError::NotLoopback`] before a socket is opened;
//! - signatures are **not** checked: any `Authorization` header, or none, is accepted;
//! - it speaks the JSON 1.1 protocol only (no CBOR);
//! - it runs on a runtime and threads of its own, so callers stay synchronous, and it stops
//!   when [`ServerHandle::shutdown`] is called or the handle is dropped;
//! - no input makes it panic; a service that gives no answer (or panics) yields an untyped
//!   HTTP 500, which clients treat as an unknown outcome.
//!
//! ```no_run
//! use seqcheck::server::Server;
//! use std::sync::Arc;
//!
//! let handle = Server::start(Arc::new(seqcheck::MemoryStream::default()), "127.0.0.1:0".parse()?)?;
//! println!("listening on http://{}", handle.local_addr());
//! handle.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod handler;

pub use handler::MAX_BODY_BYTES;

use crate::service::StreamService;
use handler::RequestIds;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long [`ServerHandle::shutdown`] lets requests in flight finish before closing their
/// connections anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Worker threads of the server's runtime: they only move bytes; service calls run on the
/// runtime's blocking pool.
const WORKER_THREADS: usize = 2;

/// The most service calls in progress at once (the runtime's blocking pool); further requests
/// wait for a free thread.
pub const MAX_CONCURRENT_CALLS: usize = 64;

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not `127.0.0.1` or `::1`: this server never listens beyond the machine.
    #[error("refusing to listen on {0}: only 127.0.0.1 and ::1 are allowed")]
    NotLoopback(SocketAddr),
    /// The address could not be bound (in use, or not available on this machine).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its thread could not be created.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// True for the only addresses a server may bind: `127.0.0.1` and `::1`.
pub fn is_allowed_bind_ip(ip: IpAddr) -> bool {
    ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
}

/// Starts servers; holds no state of its own.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Listens on `addr` (`127.0.0.1` or `::1`; port 0 picks a free port) and answers every
    /// request with `service`, until the returned handle is shut down or dropped.
    ///
    /// When this returns `Ok`, the socket is bound and accepting: a client may connect at once
    /// to [`ServerHandle::local_addr`]. Service calls are blocking, so each runs on the
    /// runtime's blocking pool (`spawn_blocking`, at most [`MAX_CONCURRENT_CALLS`] at once),
    /// never on a thread that drives connections: a slow call never stalls other connections,
    /// and a call runs to completion even when its client goes away mid-request, so an
    /// unanswered request was applied whole or not at all, never half.
    pub fn start(
        service: Arc<dyn StreamService>,
        addr: SocketAddr,
    ) -> Result<ServerHandle, ServeError> {
        if !is_allowed_bind_ip(addr.ip()) {
            return Err(ServeError::NotLoopback(addr));
        }
        let bind = |source| ServeError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .max_blocking_threads(MAX_CONCURRENT_CALLS)
            .thread_name("seqcheck-serve")
            .enable_all()
            .build()
            .map_err(ServeError::Runtime)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(bind)?
        };
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("seqcheck-serve-accept".into())
            .spawn(move || {
                runtime.block_on(accept_loop(listener, service, stopped));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .map_err(ServeError::Runtime)?;
        Ok(ServerHandle {
            local_addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// A running server. Dropping it is the same as [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint URL clients use: `http://127.0.0.1:PORT` (or `http://[::1]:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops accepting, lets requests in flight finish (for at most [`SHUTDOWN_GRACE`]), closes
    /// every connection and joins the server's threads. When it returns, the port is closed.
    /// Blocks the calling thread; safe to call from anywhere, inside an async runtime included.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The loop may already have ended; nothing to tell it then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The accept thread runs no code that panics; a panic there has nothing to report.
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then shuts every
/// connection down gracefully.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    service: Arc<dyn StreamService>,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let ids = Arc::new(RequestIds::new());
    let mut http = http1::Builder::new();
    // The timer bounds how long a client may take to send its headers (hyper's default, 30 s).
    http.timer(TokioTimer::new());
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let service = Arc::clone(&service);
                    let ids = Arc::clone(&ids);
                    let respond = hyper::service::service_fn(move |request| {
                        handler::handle(Arc::clone(&service), Arc::clone(&ids), request)
                    });
                    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), respond));
                    tokio::spawn(async move {
                        // A connection error (a client that went away) concerns that client only.
                        let _ = connection.await;
                    });
                }
                // Out of file descriptors, or a connection reset before it was accepted: wait a
                // moment instead of spinning, then go on accepting.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_loopback_addresses_are_allowed() {
        assert!(is_allowed_bind_ip("127.0.0.1".parse().expect("ip")));
        assert!(is_allowed_bind_ip("::1".parse().expect("ip")));
        for other in ["0.0.0.0", "127.0.0.2", "::", "192.168.1.1", "::ffff:127.0.0.1"] {
            assert!(!is_allowed_bind_ip(other.parse().expect("ip")), "{other}");
        }
    }
}
