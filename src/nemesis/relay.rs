//! One client connection relayed to the service under the current [`NetFault`]: bytes are
//! read a chunk at a time from either side and forwarded, delayed, held or answered with a
//! reset, according to the fault in force when they were read.

use super::proxy::NetFault;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::WriteHalf;
use tokio::sync::watch;

/// The most bytes held per direction of one connection under [`NetFault::Stall`]; past it the
/// proxy stops reading that side (TCP flow control then holds the sender).
pub const MAX_HELD_BYTES: usize = 16 * 1024 * 1024;

/// Bytes read at a time: the unit of [`NetFault::Delay`].
const CHUNK_BYTES: usize = 16 * 1024;

/// The proxy's counters, shared by the accept loop and every relay.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) accepted: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) resets_after_request: AtomicU64,
    pub(super) resets_before_request: AtomicU64,
    pub(super) bytes_to_upstream: AtomicU64,
    pub(super) bytes_to_client: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// How a connection ends: closed normally, or reset (RST to the client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Close,
    Reset,
}

/// Relays one client connection until either side closes or a fault resets it.
pub(super) async fn relay(
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
