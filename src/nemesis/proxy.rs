//! [`FaultProxy`]: a TCP proxy on `127.0.0.1` whose behaviour is switched at runtime.
//!
//! One current-thread Tokio runtime on one thread of its own carries every connection: the
//! proxy only moves bytes, so one thread is enough, and tasks make "stop everything" one call
//! (`JoinSet::shutdown`). Resets use Tokio's `set_zero_linger` (`SO_LINGER` 0, so closing sends
//! RST): the one linger setting that never blocks on close, without another crate.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::WriteHalf;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// The most client connections open at once; a connection accepted beyond it is reset at
/// once (and counted in [`ProxyStats::refused`]).
pub const MAX_CONNECTIONS: usize = 256;

/// The most bytes held per direction of one connection under [`NetFault::Stall`]; past it the
/// proxy stops reading that side (TCP flow control then holds the sender).
pub const MAX_HELD_BYTES: usize = 16 * 1024 * 1024;

/// Bytes read at a time: the unit of [`NetFault::Delay`].
const CHUNK_BYTES: usize = 16 * 1024;

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
    /// Keep connections open, hold every byte, forward nothing: clients time out. Held bytes
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

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    resets_after_request: AtomicU64,
    resets_before_request: AtomicU64,
    bytes_to_upstream: AtomicU64,
    bytes_to_client: AtomicU64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ProxyError::Runtime)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(ProxyError::Bind)?
        };
        let (fault, faults) = watch::channel(NetFault::Healthy);
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = oneshot::channel();
        let shared = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("seqcheck-fault-proxy".into())
            .spawn(move || runtime.block_on(accept(listener, upstream, faults, shared, stopped)))
            .map_err(ProxyError::Runtime)?;
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

/// How a connection ends: closed normally, or reset (RST to the client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Close,
    Reset,
}

/// Relays one client connection until either side closes or a fault resets it.
async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut faults: watch::Receiver<NetFault>,
    counters: Arc<Counters>,
) {
    faults.borrow_and_update();
    let _ = client.set_nodelay(true);
    let end = match TcpStream::connect(upstream).await {
        Ok(mut server) => {
            let _ = server.set_nodelay(true);
            pump(&mut client, &mut server, &mut faults, &counters).await
        }
        Err(_) => End::Reset,
    };
    if end == End::Reset {
        // With SO_LINGER 0, dropping the socket sends RST instead of FIN.
        let _ = client.set_zero_linger();
    }
}

/// What woke the relay.
enum Event {
    FromClient(usize),
    ClientClosed,
    FromServer(usize),
    Ended,
    FaultChanged,
}

/// Bytes held back under [`NetFault::Stall`], per direction.
#[derive(Default)]
struct Held {
    to_server: Vec<u8>,
    to_client: Vec<u8>,
}

async fn pump(
    client: &mut TcpStream,
    server: &mut TcpStream,
    faults: &mut watch::Receiver<NetFault>,
    counters: &Counters,
) -> End {
    let (mut client_in, mut client_out) = client.split();
    let (mut server_in, mut server_out) = server.split();
    let mut from_client = vec![0u8; CHUNK_BYTES];
    let mut from_server = vec![0u8; CHUNK_BYTES];
    let mut held = Held::default();
    let mut client_open = true;
    loop {
        let event = tokio::select! {
            read = client_in.read(&mut from_client),
                if client_open && held.to_server.len() < MAX_HELD_BYTES => match read {
                Ok(0) => Event::ClientClosed,
                Ok(n) => Event::FromClient(n),
                Err(_) => Event::Ended,
            },
            read = server_in.read(&mut from_server), if held.to_client.len() < MAX_HELD_BYTES => {
                match read {
                    Ok(n) if n > 0 => Event::FromServer(n),
                    _ => Event::Ended,
                }
            }
            changed = faults.changed() => match changed {
                Ok(()) => Event::FaultChanged,
                Err(_) => Event::Ended,
            },
        };
        let fault = faults.borrow_and_update().clone();
        if fault != NetFault::Stall {
            // Bytes held under a stall go first, in order, under the fault now in force.
            let up = std::mem::take(&mut held.to_server);
            let down = std::mem::take(&mut held.to_client);
            if let Some(end) = to_server(&up, &fault, &mut server_out, &mut held, counters).await {
                return end;
            }
            if let Some(end) = to_client(&down, &fault, &mut client_out, &mut held, counters).await
            {
                return end;
            }
        }
        let step = match event {
            Event::FromClient(n) => {
                let bytes = &from_client[..n];
                to_server(bytes, &fault, &mut server_out, &mut held, counters).await
            }
            Event::FromServer(n) => {
                let bytes = &from_server[..n];
                to_client(bytes, &fault, &mut client_out, &mut held, counters).await
            }
            Event::ClientClosed => {
                // A client that gave up takes its held request with it.
                client_open = false;
                held.to_server.clear();
                let _ = server_out.shutdown().await;
                None
            }
            Event::Ended => Some(End::Close),
            Event::FaultChanged => None,
        };
        if let Some(end) = step {
            return end;
        }
    }
}

/// Client bytes under `fault`; `Some` ends the connection.
async fn to_server(
    bytes: &[u8],
    fault: &NetFault,
    out: &mut WriteHalf<'_>,
    held: &mut Held,
    counters: &Counters,
) -> Option<End> {
    if bytes.is_empty() {
        return None;
    }
    match fault {
        NetFault::Stall => {
            held.to_server.extend_from_slice(bytes);
            None
        }
        NetFault::ResetBeforeRequest => {
            bump(&counters.resets_before_request, 1);
            Some(End::Reset)
        }
        NetFault::Healthy | NetFault::Delay { .. } | NetFault::ResetAfterRequest => {
            forward(bytes, fault, out, &counters.bytes_to_upstream).await
        }
    }
}

/// Service bytes under `fault`; `Some` ends the connection.
async fn to_client(
    bytes: &[u8],
    fault: &NetFault,
    out: &mut WriteHalf<'_>,
    held: &mut Held,
    counters: &Counters,
) -> Option<End> {
    if bytes.is_empty() {
        return None;
    }
    match fault {
        NetFault::Stall => {
            held.to_client.extend_from_slice(bytes);
            None
        }
        NetFault::ResetAfterRequest => {
            bump(&counters.resets_after_request, 1);
            Some(End::Reset)
        }
        NetFault::Healthy | NetFault::Delay { .. } | NetFault::ResetBeforeRequest => {
            forward(bytes, fault, out, &counters.bytes_to_client).await
        }
    }
}

/// Writes `bytes` (after the delay of a [`NetFault::Delay`]); a failed write closes the
/// connection.
async fn forward(
    bytes: &[u8],
    fault: &NetFault,
    out: &mut WriteHalf<'_>,
    sent: &AtomicU64,
) -> Option<End> {
    if let NetFault::Delay { ms } = fault {
        tokio::time::sleep(Duration::from_millis(*ms)).await;
    }
    match out.write_all(bytes).await {
        Ok(()) => {
            bump(sent, bytes.len() as u64);
            None
        }
        Err(_) => Some(End::Close),
    }
}
