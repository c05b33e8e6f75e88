//! Command-line parsing and dispatch.

mod check;
mod endpoint;
mod table;

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
    }
}
