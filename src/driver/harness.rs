//! How the run's clients reach the service when the network is to be faulted: an in-process
//! service is served over HTTP on 127.0.0.1 ([`Server::start`]) with a [`FaultProxy`] in
//! front; a service at a loopback endpoint gets the proxy in front of its host and port. The
//! clients are an [`HttpService`] talking to the proxy, with short timeouts, so a stall turns
//! into unknown outcomes within seconds.

use super::{NetFaultKind, Network, ServiceCommands, Target};
use crate::http::{HttpOptions, HttpService, SetupError};
use crate::nemesis::{FaultProxy, NetFault, ProxyError};
use crate::server::{ServeError, Server, ServerHandle};
use crate::service::StreamService;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// The client timeouts of a run: 1 s to connect, 2 s per call.
pub const CLIENT_OPTIONS: HttpOptions = HttpOptions {
    connect_timeout: Duration::from_secs(1),
    operation_timeout: Duration::from_secs(2),
};

/// Why the clients could not be put behind a proxy.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The in-process service could not be served.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The proxy could not be started.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The client could not be built.
    #[error(transparent)]
    Client(#[from] SetupError),
    /// The endpoint is not a loopback `http://host:port` URL.
    #[error("endpoint {0}: {1}")]
    Endpoint(String, String),
}

/// The proxy as the nemesis's network lever.
struct ProxyNetwork(Arc<FaultProxy>);

impl Network for ProxyNetwork {
    fn inject(&self, fault: NetFaultKind) -> Result<(), String> {
        self.0.set_fault(match fault {
            NetFaultKind::Delay { ms } => NetFault::Delay { ms },
            NetFaultKind::Stall => NetFault::Stall,
            NetFaultKind::ResetAfterRequest => NetFault::ResetAfterRequest,
            NetFaultKind::ResetBeforeRequest => NetFault::ResetBeforeRequest,
        });
        Ok(())
    }

    fn heal(&self) -> Result<(), String> {
        self.0.set_fault(NetFault::Healthy);
        Ok(())
    }
}

/// A service behind a fault proxy, and a client that goes through it. Dropping it (or
/// [`Proxied::stop`]) stops the proxy and the server it started.
pub struct Proxied {
    client: Arc<HttpService>,
    proxy: Arc<FaultProxy>,
    server: Option<ServerHandle>,
}

impl Proxied {
    /// Serves `service` on 127.0.0.1 (a free port) and puts a proxy in front of it.
    pub fn serve(service: Arc<dyn StreamService>) -> Result<Self, HarnessError> {
        let server = Server::start(service, SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let mut p = Proxied::front(server.local_addr())?;
        p.server = Some(server);
        Ok(p)
    }

    /// Puts a proxy in front of the service at `endpoint` (`http://HOST:PORT`, a loopback
    /// host only: the proxy listens on and forwards within this machine).
    pub fn endpoint(endpoint: &str) -> Result<Self, HarnessError> {
        Proxied::front(loopback_addr(endpoint)?)
    }

    fn front(upstream: SocketAddr) -> Result<Self, HarnessError> {
        let proxy = FaultProxy::start(upstream)?;
        let client = HttpService::with_options(&proxy.url(), None, CLIENT_OPTIONS)?;
        Ok(Proxied {
            client: Arc::new(client),
            proxy: Arc::new(proxy),
            server: None,
        })
    }

    /// The target of a run: clients through the proxy, network faults on the proxy, and the
    /// service process's commands when given.
    pub fn target(&self, process: Option<ServiceCommands>) -> Target {
        Target {
            service: Arc::clone(&self.client) as Arc<dyn StreamService>,
            network: Some(Arc::new(ProxyNetwork(Arc::clone(&self.proxy)))),
            process,
        }
    }

    /// Stops the proxy and the server (targets made from this must be dropped first, or the
    /// proxy stops when the last of them goes).
    pub fn stop(self) {
        let Proxied {
            client,
            proxy,
            server,
        } = self;
        drop(client);
        if let Ok(proxy) = Arc::try_unwrap(proxy) {
            proxy.stop();
        }
        if let Some(server) = server {
            server.shutdown();
        }
    }
}

/// The socket address of a loopback `http://HOST:PORT` endpoint.
pub fn loopback_addr(endpoint: &str) -> Result<SocketAddr, HarnessError> {
    let bad = |why: &str| HarnessError::Endpoint(endpoint.to_owned(), why.to_owned());
    let url = url::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| bad("no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| bad(&e.to_string()))?
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| {
            bad("network faults need a loopback endpoint (127.0.0.1, ::1, localhost)")
        })?;
    Ok(addr)
}
