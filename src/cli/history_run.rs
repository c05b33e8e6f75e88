//! `seqcheck history run`: drive a service with concurrent producers, consumers, a
//! resharder and a nemesis, and write the history for `seqcheck history check`.

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use seqcheck::driver::{
    self, DriverConfig, DriverTwin, Progress, RunSummary, ServiceCommands, Target,
};
use seqcheck::history::HistoryWriter;
use seqcheck::service::StreamService;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Exit status: the run completed and its history is whole (final read included).
pub const EXIT_RAN: u8 = 0;
/// Exit status: bad arguments, or the service or files could not be set up.
pub const EXIT_SETUP: u8 = 2;
/// Exit status: the run did not complete (the history may be partial), or the final read
/// could not read every shard.
pub const EXIT_INCOMPLETE: u8 = 3;

/// An in-process implementation to drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunTarget {
    /// The embedded concurrent service.
    Embedded,
    /// The reference model served as a fake service.
    Model,
}

/// A deliberately defective client behaviour (to see what the checker reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TwinArg {
    /// Consumers checkpoint a page before processing it.
    CheckpointBeforeProcess,
    /// Consumers start a child shard before its parents reach SHARD_END.
    ChildrenBeforeParentEnd,
    /// Producers retry without recording the retry.
    UnrecordedRetry,
}

impl From<TwinArg> for DriverTwin {
    fn from(t: TwinArg) -> Self {
        match t {
            TwinArg::CheckpointBeforeProcess => DriverTwin::CheckpointBeforeProcess,
            TwinArg::ChildrenBeforeParentEnd => DriverTwin::ChildrenBeforeParentEnd,
            TwinArg::UnrecordedRetry => DriverTwin::UnrecordedRetry,
        }
    }
}

/// Options of `seqcheck history run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// In-process implementation to drive.
    #[arg(long, value_enum, default_value_t = RunTarget::Embedded)]
    target: RunTarget,
    /// Drive a Kinesis-compatible endpoint instead (e.g. http://127.0.0.1:4567).
    #[arg(long, conflicts_with = "target")]
    endpoint: Option<String>,
    /// Region for `--endpoint`.
    #[arg(long, requires = "endpoint")]
    region: Option<String>,
    /// The history file to write (JSONL, docs/history.md).
    #[arg(long, default_value = "history.jsonl")]
    out: PathBuf,
    /// Directory of the consumers' checkpoints and output.
    #[arg(long, default_value = "seqcheck-run")]
    run_dir: PathBuf,
    /// Stream name (default: `seqcheck-run`, with seed and a nonce on an endpoint).
    #[arg(long)]
    stream: Option<String>,
    /// Producer threads.
    #[arg(long, default_value_t = 4)]
    producers: u32,
    /// Consumer threads.
    #[arg(long, default_value_t = 2)]
    consumers: u32,
    /// Seconds the workload runs (the final read comes after).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Most calls of the workload, all processes together.
    #[arg(long, default_value_t = 20_000)]
    max_ops: u64,
    /// Seed of every choice (same seed, same schedule and choices, modulo thread timing).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Shards at creation.
    #[arg(long, default_value_t = 2)]
    shards: u32,
    /// Inject network faults through a proxy between the clients and the service.
    #[arg(long)]
    net_faults: bool,
    /// Split, merge and UpdateShardCount while traffic runs.
    #[arg(long)]
    reshard: bool,
    /// Shell command that kills the service process (with --restart-cmd, --endpoint).
    #[arg(long, requires_all = ["restart_cmd", "endpoint"])]
    kill_cmd: Option<String>,
    /// Shell command that restarts the service; exits 0 once it answers again.
    #[arg(long, requires = "kill_cmd")]
    restart_cmd: Option<String>,
    /// Seconds a kill or restart command may take.
    #[arg(long, default_value_t = 60)]
    cmd_timeout: u64,
    /// Kill consumers mid-page and restart them from their checkpoints.
    #[arg(long)]
    kill_consumers: bool,
    /// Milliseconds between faults, and how long each lasts.
    #[arg(long, default_value_t = 1000)]
    nemesis_interval: u64,
    /// A deliberately defective client behaviour (for checker demonstrations only).
    #[arg(long, value_enum)]
    twin: Option<TwinArg>,
}

/// The progress bar: calls done of the budget, elapsed time, faults and phase.
struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn ops(&self, done: u64, _max: u64) {
        self.bar.set_position(done);
    }

    fn fault(&self, count: u64, description: &str) {
        self.bar
            .set_message(format!("{count} faults, last: {description}"));
    }

    fn phase(&self, phase: &str) {
        self.bar.set_prefix(phase.to_owned());
    }
}

/// Runs `seqcheck history run`; prints the summary.
pub fn run(args: RunArgs) -> ExitCode {
    match run_inner(&args) {
        Ok((summary, out)) => {
            println!("{summary}");
            println!("history: {}", out.display());
            if summary.final_read.incomplete.is_some() {
                ExitCode::from(EXIT_INCOMPLETE)
            } else {
                ExitCode::from(EXIT_RAN)
            }
        }
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn setup(e: impl std::fmt::Display) -> Failure {
    (EXIT_SETUP, e.to_string())
}

fn run_inner(args: &RunArgs) -> Result<(RunSummary, PathBuf), Failure> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 1_000_000);
    let stream = args.stream.clone().unwrap_or_else(|| match &args.endpoint {
        Some(_) => format!("seqcheck-run-{}-{nonce}", args.seed),
        None => "seqcheck-run".into(),
    });
    let mut config = DriverConfig::new(&stream, args.run_dir.clone());
    config.shards = args.shards.max(1);
    config.producers = args.producers;
    config.consumers = args.consumers;
    config.duration = Duration::from_secs(args.duration);
    config.max_ops = args.max_ops;
    config.seed = args.seed;
    config.reshard = args.reshard;
    config.net_faults = args.net_faults;
    config.kill_consumers = args.kill_consumers;
    config.nemesis_interval = Duration::from_millis(args.nemesis_interval.max(10));
    config.twin = args.twin.map(DriverTwin::from);
    let process = match (&args.kill_cmd, &args.restart_cmd) {
        (Some(kill), Some(restart)) => Some(ServiceCommands {
            kill: kill.clone(),
            restart: restart.clone(),
            timeout: Duration::from_secs(args.cmd_timeout.max(1)),
        }),
        _ => None,
    };
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| setup(format!("cannot create {}: {e}", args.run_dir.display())))?;
    let history = HistoryWriter::create(&args.out, None)
        .map_err(|e| setup(format!("cannot create {}: {e}", args.out.display())))?;

    let service: Arc<dyn StreamService> = match &args.endpoint {
        Some(url) => Arc::new(
            seqcheck::http::HttpService::with_options(
                url,
                args.region.as_deref(),
                driver::CLIENT_OPTIONS,
            )
            .map_err(setup)?,
        ),
        None => match args.target {
            RunTarget::Embedded => Arc::new(seqcheck::MemoryStream::default()),
            RunTarget::Model => Arc::new(seqcheck::conformance::in_process_model()),
        },
    };
    let proxied = if args.net_faults {
        Some(match &args.endpoint {
            Some(url) => driver::Proxied::endpoint(url).map_err(setup)?,
            None => driver::Proxied::serve(Arc::clone(&service)).map_err(setup)?,
        })
    } else {
        None
    };
    let target = match &proxied {
        Some(p) => p.target(process),
        None => Target {
            process,
            ..Target::direct(service)
        },
    };

    let bar = ProgressBar::new(config.max_ops);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix:<10} [{bar:32}] {pos}/{len} calls, {elapsed} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let progress = Bar { bar };
    let result = driver::run(&config, &target, &history, &progress);
    progress.bar.finish_and_clear();
    drop(target);
    if let Some(p) = proxied {
        p.stop();
    }
    match result {
        Ok(summary) => Ok((summary, args.out.clone())),
        Err(e) => Err((EXIT_INCOMPLETE, e.to_string())),
    }
}
