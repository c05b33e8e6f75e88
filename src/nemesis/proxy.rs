//! [`FaultProxy`]: a TCP proxy on `127.0.0.1` whose behaviour is switched at runtime (the
//! faults, the listener, the counters; each connection is relayed by `relay.rs`).
//!
//! One current-thread Tokio runtime on one thread of its own carries every connection: the
//! proxy only moves bytes, so one thread is enough, and tasks make "stop everything" one call
//! (`JoinSet::shutdown`). Resets use Tokio's `set_zero_linger` (`SO_LINGER` 0, so closing sends
//! RST): the one linger setting that never blocks on close, without another crate.

use super::relay::{Counters, bump, relay};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// The most client connections open at once; a connection accepted beyond it is reset at
/// once (and counted in [`ProxyStats::refused`]).
pub const MAX_CONNECTIONS: usize = 256;

/// What the proxy does to traffic. A change applies to every connection from its next bytes
/// on, to keep-alive connections opened earlier too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetFault {
    /// Forward everything as it arrives.
    #[default]
    Healthy,
    /// Forward each chunk read, in both directions, `ms` milliseconds after it was read.
    Delay {
        /// The delay per chunk.
        ms: u64,
    },
    /// Keep connections open, hold every byte (up to [`MAX_HELD_BYTES`](super::MAX_HELD_BYTES)
    /// per direction, then stop reading), forward nothing: clients time out. Held bytes
    /// are passed on under the next fault, unless their sender closed its side first (then
    /// they are discarded: a client that gave up never reaches the service).
    Stall,
    /// Forward requests; when answer bytes come back, drop them and reset the client
    /// connection: the request was applied, its answer lost.
    ResetAfterRequest,
    /// Reset a client connection as soon as it sends bytes, forwarding none: the request was
    /// never applied. Answers to requests forwarded earlier still reach the client.
    ResetBeforeRequest,
}

/// Counters since the proxy started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyStats {
    /// Client connections accepted and relayed.
    pub accepted: u64,
    /// Client connections reset on arrival because [`MAX_CONNECTIONS`] were open.
    pub refused: u64,
    /// Connections reset by [`NetFault::ResetAfterRequest`].
    pub resets_after_request: u64,
    /// Connections reset by [`NetFault::ResetBeforeRequest`].
    pub resets_before_request: u64,
    /// Bytes written to the service.
    pub bytes_to_upstream: u64,
    /// Bytes written to clients.
    pub bytes_to_client: u64,
}

/// Why a proxy could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No port on 127.0.0.1 could be bound.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// The runtime or its thread could not be created.
    #[error("cannot start the proxy's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A running proxy from `127.0.0.1:<port>` to one upstream address. Stopping it (or dropping
/// it) closes the listener and every connection and joins its thread.
#[derive(Debug)]
pub struct FaultProxy {
    local_addr: SocketAddr,
    fault: watch::Sender<NetFault>,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `upstream` (one upstream
    /// connection per client connection, opened when the client connects; if it cannot be
    /// opened the client is reset). Starts [`NetFault::Healthy`]. When this returns, the
    /// proxy is accepting at [`FaultProxy::local_addr`].
    pub fn start(upstream: SocketAddr) -> Result<FaultProxy, ProxyError> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(ProxyError::Bind)?;
        let local_addr = listener.local_addr().map_err(ProxyError::Bind)?;
        let (fault, faults) = watch::channel(NetFault::Healthy);
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        let (stop, stopped) = oneshot::channel();
        // The runtime lives and dies on the proxy's thread: the proxy value owns none.
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("seqcheck-fault-proxy".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(ProxyError::Runtime(e)));
                        return;
                    }
                };
                let listener = {
                    let _context = runtime.enter();
                    tokio::net::TcpListener::from_std(listener)
                };
                match listener {
                    Ok(listener) => {
                        let _ = ready.send(Ok(()));
                        runtime.block_on(accept(listener, upstream, faults, shared, stopped));
                    }
                    Err(e) => {
                        let _ = ready.send(Err(ProxyError::Bind(e)));
                    }
                }
            })
            .map_err(ProxyError::Runtime)?;
        let failure = match started.recv() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(ProxyError::Runtime(std::io::Error::other(
                "the proxy's thread ended before it started",
            ))),
        };
        if let Some(e) = failure {
            let _ = thread.join();
            return Err(e);
        }
        Ok(FaultProxy {
            local_addr,
            fault,
            counters,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address clients connect to (`127.0.0.1:<port>`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:<port>`, for HTTP clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Switches the behaviour: bytes read after this call are treated under `fault`, on
    /// connections old and new.
    pub fn set_fault(&self, fault: NetFault) {
        self.fault.send_replace(fault);
    }

    /// The current fault.
    pub fn fault(&self) -> NetFault {
        self.fault.borrow().clone()
    }

    /// The counters so far.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProxyStats {
            accepted: get(&c.accepted),
            refused: get(&c.refused),
            resets_after_request: get(&c.resets_after_request),
            resets_before_request: get(&c.resets_before_request),
            bytes_to_upstream: get(&c.bytes_to_upstream),
            bytes_to_client: get(&c.bytes_to_client),
        }
    }

    /// Closes the listener and every connection, then joins the proxy's thread. When it
    /// returns, nothing of the proxy is left running.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The proxy's thread runs no code that panics; there is nothing to report.
            let _ = thread.join();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Accepts clients until `stopped` fires, then aborts every connection (closing its sockets).
async fn accept(
    listener: tokio::net::TcpListener,
    upstream: SocketAddr,
    faults: watch::Receiver<NetFault>,
    counters: Arc<Counters>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) if connections.len() >= MAX_CONNECTIONS => {
                    bump(&counters.refused, 1);
                    let _ = client.set_zero_linger();
                }
                Ok((client, _)) => {
                    bump(&counters.accepted, 1);
                    let relay = relay(client, upstream, faults.clone(), Arc::clone(&counters));
                    connections.spawn(relay);
                }
                // Out of file descriptors, or a client gone before it was accepted.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
    }
    drop(listener);
    connections.shutdown().await;
}
