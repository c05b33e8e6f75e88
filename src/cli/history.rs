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
    /// Drive a service with concurrent producers, consumers, a resharder and a nemesis, and
    /// write what happened as a history.
    Run(super::history_run::RunArgs),
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
    /// Also write a self-contained HTML timeline of the history, anomalies highlighted.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Anomaly classes recorded for this implementation (JSON: `{"recorded": [{"class":
    /// "lost-across-crash", "why": "…"}]}`): still counted and shown, but they alone do not fail
    /// the check.
    #[arg(long)]
    recorded: Option<PathBuf>,
}

/// Anomaly classes an implementation is known to show, with why (a peer's documented
/// behaviour that differs from Kinesis).
#[derive(Debug, serde::Deserialize)]
struct RecordedClasses {
    recorded: Vec<RecordedClass>,
}

#[derive(Debug, serde::Deserialize)]
struct RecordedClass {
    class: seqcheck::history::AnomalyClass,
    why: String,
}

fn load_recorded(path: &std::path::Path) -> Result<RecordedClasses, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Setup(format!("cannot read {}: {e}", path.display())))?;
    let recorded: RecordedClasses = serde_json::from_str(&text).map_err(|e| {
        CliError::Setup(format!(
            "{} is not a recorded-classes file: {e}",
            path.display()
        ))
    })?;
    if let Some(empty) = recorded.recorded.iter().find(|r| r.why.trim().is_empty()) {
        return Err(CliError::Setup(format!(
            "{}: {:?} is recorded without saying why",
            path.display(),
            empty.class
        )));
    }
    Ok(recorded)
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
        HistoryCommand::Run(a) => Ok(super::history_run::run(a)),
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
    let recorded = a.recorded.as_deref().map(load_recorded).transpose()?;
    let started = Instant::now();
    let report = check_files(&a.files, &opts).map_err(|e| CliError::Setup(e.to_string()))?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(path) = &a.html {
        let events =
            seqcheck::history::load_events(&a.files).map_err(|e| CliError::Setup(e.to_string()))?;
        seqcheck::history::write_timeline(path, &events, &report, &Default::default()).map_err(
            |source| CliError::Write {
                path: path.display().to_string(),
                source,
            },
        )?;
        eprintln!("timeline written to {}", path.display());
    }
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
    let unrecorded: Vec<_> = report
        .classes
        .iter()
        .filter(|c| c.count > 0 && c.class.is_violation())
        .filter(|c| {
            !recorded
                .as_ref()
                .is_some_and(|r| r.recorded.iter().any(|x| x.class == c.class))
        })
        .map(|c| c.class)
        .collect();
    if let Some(recorded) = &recorded {
        for r in &recorded.recorded {
            let count = report
                .classes
                .iter()
                .find(|c| c.class == r.class)
                .map_or(0, |c| c.count);
            println!("recorded {}: {count} found ({})", kebab(r.class), r.why);
        }
    }
    Ok(ExitCode::from(match report.verdict {
        Verdict::Unchecked => EXIT_UNCHECKED,
        Verdict::Invalid if !unrecorded.is_empty() => EXIT_FINDINGS,
        Verdict::Valid | Verdict::Invalid => EXIT_PASSED,
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
