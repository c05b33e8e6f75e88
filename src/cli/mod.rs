//! Command-line parsing and dispatch.

mod check;
mod endpoint;
mod history;
mod history_run;
mod matrix;
mod serve;
mod table;
mod throughput;

pub use check::EXIT_USAGE;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Verification harness for Kinesis-style ordered streams.
#[derive(Debug, Parser)]
#[command(name = "seqcheck", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite and print a per-area table.
    Check(check::CheckArgs),
    /// Serve stateright's Explorer web UI for a model, on 127.0.0.1.
    Explore {
        /// One of sequencer, resharding, replicated, checkpointing.
        model: String,
        /// Browse the deliberately broken twin (its counterexamples) instead.
        #[arg(long)]
        broken: bool,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Merge JSON reports of `check --json` runs into the Markdown conformance matrix.
    Matrix {
        /// JSON reports, one per implementation, in column order.
        #[arg(long = "json", required = true)]
        inputs: Vec<String>,
        /// Expectations files whose facts annotate the divergences.
        #[arg(long = "expectations")]
        expectations: Vec<String>,
        /// Where to write the Markdown.
        #[arg(long, default_value = "docs/conformance.md")]
        out: String,
    },
    /// Run one clickstream workload through the trait against the embedded service and the
    /// given endpoints, and print their throughput side by side.
    Throughput {
        /// Endpoints as `name=url` (e.g. `kinesalite=http://127.0.0.1:4567`).
        #[arg(long = "endpoint")]
        endpoints: Vec<String>,
        /// PutRecord calls per implementation.
        #[arg(long, default_value_t = 2000)]
        events: usize,
    },
    /// Serve the embedded service (or `--model`) as a Kinesis endpoint on loopback until
    /// SIGINT/SIGTERM.
    Serve(serve::ServeArgs),
    /// Check recorded histories of concurrent clients, or generate synthetic ones.
    History(history::HistoryArgs),
    /// Check every stateright model exhaustively and print state counts and speed.
    Models {
        /// Bound multiplier (1 = the bounds `cargo test` uses).
        #[arg(long, default_value_t = 1)]
        scale: usize,
    },
}

/// Errors the command line reports (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Writing a report failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The implementation under test could not be set up.
    #[error("{0}")]
    Setup(String),
    /// A report could not be serialised.
    #[error("cannot serialise the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Runs the parsed command; the exit code says whether every check passed.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Serve(args) => serve::run(args),
        Command::History(args) => history::run(args),
        Command::Explore {
            model,
            broken,
            port,
        } => {
            let name = if broken {
                format!("{model} --broken")
            } else {
                model
            };
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            println!("serving the Explorer for `{name}` at http://{addr}/ (Ctrl-C to stop)");
            seqcheck::models::serve_explorer(&name, addr)
                .map_err(|e| CliError::Setup(e.to_string()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Matrix {
            inputs,
            expectations,
            out,
        } => {
            matrix::run(&inputs, &out, &expectations)?;
            println!("wrote {out}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Throughput { endpoints, events } => {
            throughput::run(&endpoints, events)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Models { scale } => {
            let mut ok = true;
            for report in seqcheck::models::check_all(scale) {
                ok &= report.all_expected();
                println!("{report}");
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
