//! `seqcheck history`: check recorded histories, and generate synthetic ones.

use super::CliError;
use super::check::{EXIT_FINDINGS, EXIT_PASSED, EXIT_UNCHECKED};
use clap::{Args, Subcommand};
use seqcheck::history::report::{AnomalyClass, Report, Verdict};
use seqcheck::history::synth::{SynthConfig, generate, stream};
use seqcheck::history::{CheckOptions, check_files};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Options of `seqcheck history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    command: HistoryCommand,
}

/// The `history` subcommands (one variant per subcommand).
#[derive(Debug, Subcommand)]
enum HistoryCommand {
    /// Check one or more history files (several machines' files are merged by wall clock).
    Check(CheckArgs),
    /// Write a seeded synthetic history as JSONL.
    Synth(SynthArgs),
}

/// Options of `seqcheck history check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// History files (JSONL, format v1).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also write the report as JSON to this file (`-` for standard output, instead of the
    /// table).
    #[arg(long)]
    json: Option<String>,
    /// Count read-your-writes lag above this many ms as a violation.
    #[arg(long)]
    lag_bound_ms: Option<f64>,
    /// Examples per class.
    #[arg(long, default_value_t = 5)]
    examples: usize,
    /// Threads (default: the machine's parallelism).
    #[arg(long)]
    threads: Option<usize>,
}

/// Options of `seqcheck history synth`.
#[derive(Debug, Args)]
struct SynthArgs {
    /// Events before the final read.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Producer processes.
    #[arg(long, default_value_t = 8)]
    producers: usize,
    /// Shards at the start.
    #[arg(long, default_value_t = 4)]
    shards: usize,
    /// Consumer processes.
    #[arg(long, default_value_t = 4)]
    consumers: usize,
    /// Distinct partition keys.
    #[arg(long, default_value_t = 64)]
    keys: usize,
    /// Shard splits over the run.
    #[arg(long, default_value_t = 2)]
    splits: usize,
    /// Service kills over the run.
    #[arg(long, default_value_t = 2)]
    crashes: usize,
    /// Consumer kills over the run.
    #[arg(long, default_value_t = 2)]
    consumer_kills: usize,
    /// Add one anomaly of this class (kebab-case, e.g. `lost-write`).
    #[arg(long)]
    inject: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `seqcheck history …`.
pub fn run(args: HistoryArgs) -> Result<ExitCode, CliError> {
    match args.command {
        HistoryCommand::Check(a) => check(a),
        HistoryCommand::Synth(a) => synth(a),
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn check(a: CheckArgs) -> Result<ExitCode, CliError> {
    let mut opts = CheckOptions {
        example_limit: a.examples,
        lag_bound_ms: a.lag_bound_ms,
        ..CheckOptions::default()
    };
    if let Some(t) = a.threads {
        opts.threads = t.max(1);
    }
    let started = Instant::now();
    let report = check_files(&a.files, &opts).map_err(|e| CliError::Setup(e.to_string()))?;
    let secs = started.elapsed().as_secs_f64();
    let to_stdout = a.json.as_deref() == Some("-");
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&report)?;
        if to_stdout {
            println!("{text}");
        } else {
            std::fs::write(path, text).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
        }
    }
    if !to_stdout {
        print!("{}", render(&report));
    }
    let events = report.coverage.events;
    eprintln!(
        "checked {events} events in {secs:.2} s ({:.0} events/s, {} threads), peak RSS {} MiB",
        events as f64 / secs.max(1e-9),
        opts.threads,
        peak_rss_kib().map_or("?".to_owned(), |k| (k / 1024).to_string())
    );
    Ok(ExitCode::from(match report.verdict {
        Verdict::Valid => EXIT_PASSED,
        Verdict::Invalid => EXIT_FINDINGS,
        Verdict::Unchecked => EXIT_UNCHECKED,
    }))
}

/// The report as text: one row per class, then coverage, unknown outcomes, lag and verdict.
fn render(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let files = |f: u32| {
        r.files
            .get(f as usize)
            .map_or("?", String::as_str)
            .to_owned()
    };
    let _ = writeln!(out, "{:<32} {:>10}  first examples", "class", "count");
    for c in &r.classes {
        let mark = if c.count > 0 && c.class.is_violation() {
            "✗"
        } else {
            " "
        };
        let _ = writeln!(out, "{mark}{:<31} {:>10}", kebab(c.class), c.count);
        for a in &c.examples {
            let at: Vec<String> = a
                .events
                .iter()
                .map(|e| format!("{}:{}", files(e.file), e.line))
                .collect();
            let _ = writeln!(out, "{:44}{}", "", a.detail);
            let _ = writeln!(out, "{:46}{}", "", at.join(" "));
        }
    }
    let cv = &r.coverage;
    let _ = writeln!(
        out,
        "coverage: {} events, {} puts ({} attempts, {} acknowledged), {} reads, {} records read, {} shards, {} processed, {} checkpoints, {} kills, {} consumer kills, {} network faults",
        cv.events,
        cv.puts,
        cv.put_attempts,
        cv.acknowledged,
        cv.reads,
        cv.records_read,
        cv.shards,
        cv.processed,
        cv.checkpoints,
        cv.kills,
        cv.consumer_kills,
        cv.net_faults
    );
    let u = &r.unknown_outcomes;
    let _ = writeln!(
        out,
        "unknown outcomes: {} recovered, {} never applied, {} undetermined",
        u.recovered, u.never_applied, u.undetermined
    );
    let l = &r.lag;
    let bound = l.bound_ms.map_or("no bound".to_owned(), |b| {
        format!("bound {b} ms: {} over", l.over_bound)
    });
    let _ = writeln!(
        out,
        "read-your-writes lag: {} samples, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({bound})",
        l.samples, l.p50_ms, l.p99_ms, l.max_ms
    );
    let verdict = match r.verdict {
        Verdict::Valid => "VALID",
        Verdict::Invalid => "INVALID",
        Verdict::Unchecked => "UNCHECKED (no acknowledged put or no completed read)",
    };
    let _ = writeln!(out, "verdict: {verdict}");
    out
}

fn kebab(c: AnomalyClass) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{c:?}"))
}

fn synth(a: SynthArgs) -> Result<ExitCode, CliError> {
    let inject = match &a.inject {
        None => None,
        Some(name) => Some(
            serde_json::from_value::<AnomalyClass>(serde_json::Value::String(name.clone()))
                .map_err(|_| CliError::Setup(format!("unknown anomaly class {name:?}")))?,
        ),
    };
    let cfg = SynthConfig {
        seed: a.seed,
        events: a.events,
        producers: a.producers,
        shards: a.shards,
        consumers: a.consumers,
        keys: a.keys.max(1),
        splits: a.splits,
        crashes: a.crashes,
        consumer_kills: a.consumer_kills,
        inject,
    };
    let (sink, path): (Box<dyn Write>, String) = match &a.out {
        Some(p) => (
            Box::new(std::fs::File::create(p).map_err(|source| CliError::Write {
                path: p.display().to_string(),
                source,
            })?),
            p.display().to_string(),
        ),
        None => (
            Box::new(std::io::stdout().lock()),
            "standard output".to_owned(),
        ),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut err: Option<std::io::Error> = None;
    let mut write = |e: seqcheck::history::Event| {
        if err.is_none() {
            if let Err(x) = serde_json::to_writer(&mut out, &e)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
            {
                err = Some(x);
            }
        }
    };
    if inject.is_some() {
        generate(&cfg).into_iter().for_each(&mut write);
    } else {
        stream(&cfg, &mut write);
    }
    let flushed = out.flush();
    if let Some(source) = err.or(flushed.err()) {
        return Err(CliError::Write { path, source });
    }
    Ok(ExitCode::SUCCESS)
}
