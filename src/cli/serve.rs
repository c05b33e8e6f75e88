//! `seqcheck serve`: an in-process implementation as a Kinesis JSON 1.1 endpoint on loopback.

use super::CliError;
use clap::Args;
use seqcheck::api::{Outcome, Request};
use seqcheck::clock::{Clock, ManualClock, SystemClock};
use seqcheck::server::Server;
use seqcheck::service::{Intercepted, StreamService};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Options of `seqcheck serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one; the line printed at start names it).
    #[arg(long, default_value_t = 4569)]
    port: u16,
    /// Serve the reference model instead of the embedded service.
    #[arg(long)]
    model: bool,
    /// Address to listen on: 127.0.0.1 or ::1 only.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully and exits 0.
pub fn run(args: ServeArgs) -> Result<ExitCode, CliError> {
    let service: Arc<dyn StreamService> = if args.model {
        real_time_model()
    } else {
        Arc::new(seqcheck::MemoryStream::default())
    };
    let setup = |e: &dyn std::fmt::Display| CliError::Setup(e.to_string());
    // Signal handlers are installed before the port is announced, so a script that reads the
    // line and then sends SIGTERM always gets a graceful stop.
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| setup(&e))?;
    let (mut interrupt, mut terminate) = {
        let _context = signals.enter();
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).map_err(|e| setup(&e))?,
            signal(SignalKind::terminate()).map_err(|e| setup(&e))?,
        )
    };
    let handle =
        Server::start(service, SocketAddr::new(args.bind, args.port)).map_err(|e| setup(&e))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", handle.url())
        .and_then(|()| out.flush())
        .map_err(|source| CliError::Write {
            path: "stdout".into(),
            source,
        })?;
    drop(out);
    signals.block_on(async {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    });
    handle.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// The reference model on real time: its manual clock is moved up to the system clock before
/// each request it decodes (never backwards), so arrival times and iterator ages are real.
fn real_time_model() -> Arc<dyn StreamService> {
    let clock = ManualClock::starting_at(SystemClock.now_ms());
    let model = seqcheck::ModelService::new(seqcheck::ModelConfig::default(), clock.clone());
    // One lock, so two requests never both advance the clock by the same gap.
    let sync = Mutex::new(clock);
    let hook = move |_: &Request, forward: &dyn Fn() -> Outcome| {
        if let Ok(clock) = sync.lock() {
            let (now, then) = (SystemClock.now_ms(), clock.now_ms());
            if now > then {
                clock.advance(now - then);
            }
        }
        forward()
    };
    Arc::new(Intercepted::new(model, hook))
}
