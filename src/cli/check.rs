//! `seqcheck check`: the conformance suite from the command line.

use super::{CliError, table};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use seqcheck::conformance::{
    Area, AreaReport, AreaStatus, Restart, RunConfig, Scope, SlowCheck, SlowReport, expiry_holds,
    in_process_memory, in_process_model, planned_cases, run_areas, run_slow_check,
};
use seqcheck::model::Property;
use seqcheck::mutants::BrokenTwin;
use seqcheck::service::StreamService;
use std::process::ExitCode;
use std::sync::Arc;

/// Which implementation to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The embedded concurrent service (the default).
    Embedded,
    /// The reference model served as a fake service.
    Model,
}

/// Options of `seqcheck check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Cases per area, the area's fixed covering cases included (they run first and always
    /// whole: at most 3 per area); the rest are random.
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Seed of the run; the same seed and case count replay the same cases.
    #[arg(long, default_value_t = RunConfig::default().seed)]
    seed: u64,
    /// Areas to run (comma-separated); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    areas: Vec<Area>,
    /// Most operations per random case (the validation area allows three times more).
    #[arg(long, default_value_t = 40)]
    max_ops: usize,
    /// Implementation under test.
    #[arg(long, value_enum, default_value_t = Target::Embedded)]
    target: Target,
    /// Check a deliberately broken twin of the embedded service instead (to see what a
    /// counterexample looks like).
    #[arg(long, value_enum, conflicts_with = "target")]
    twin: Option<BrokenTwin>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<String>,
    /// Also write the results as a Markdown conformance report to this file.
    #[arg(long)]
    markdown: Option<String>,
    /// Check a Kinesis-compatible endpoint over HTTP instead (e.g. http://127.0.0.1:4567).
    #[arg(long, conflicts_with_all = ["target", "twin"])]
    endpoint: Option<String>,
    /// Check Amazon Kinesis itself, with the standard credential chain. Creates real, billed
    /// streams named `seqcheck<run>-…` (1 to 8 shards at creation; resharding cases split
    /// them further) and deletes them at the end of every case;
    /// use a dedicated account.
    #[arg(long, conflicts_with_all = ["target", "twin", "endpoint"])]
    aws: bool,
    /// Region for `--endpoint` or `--aws` (default: `AWS_REGION`, the profile, then us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Recorded divergences of the endpoint: tolerated and reported; new ones fail.
    #[arg(long)]
    expectations: Option<String>,
    /// A name for the implementation in reports (default: derived from the target).
    #[arg(long)]
    label: Option<String>,
    /// A shell command that brings the endpoint back after it crashed (exits 0 once it
    /// answers again), e.g. `scripts/peers/start.sh kinesis-mock`. With it, a crashing case is
    /// shrunk and the run goes on; without it, the areas after a crash are not run.
    #[arg(long, requires = "endpoint")]
    restart_cmd: Option<String>,
    /// After the areas, also run the slow checks: iterator expiry (P13) with one iterator
    /// held 290 s (it must still work) and one held past 300 s (it must be expired). About
    /// 5 minutes against an endpoint; instant with clock control (embedded service, model).
    #[arg(long)]
    slow: bool,
}

/// Exit status: every requested area was checked and nothing unrecorded was found.
pub const EXIT_PASSED: u8 = 0;
/// Exit status: at least one unrecorded divergence, crash or hang.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: a usage or set-up error (bad arguments, unreadable files, invalid URL).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: nothing, or only part, of what was requested was checked (the service could
/// not be reached, or an area ended indeterminate or was not run).
pub const EXIT_UNCHECKED: u8 = 3;

/// How long a restart command may take.
const RESTART_LIMIT: std::time::Duration = std::time::Duration::from_secs(90);

#[derive(serde::Serialize)]
struct RunReport<'a> {
    implementation: &'a str,
    unsupported: &'a [String],
    seed: u64,
    cases_per_area: u32,
    /// The areas, then the slow checks, each in the same shape.
    areas: Vec<Row<'a>>,
}

/// One entry of the report's `areas`: an area or a slow check.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Row<'a> {
    Area(&'a AreaReport),
    Slow(&'a SlowReport),
}

pub fn run(args: CheckArgs) -> Result<ExitCode, CliError> {
    let areas = if args.areas.is_empty() {
        Area::ALL.to_vec()
    } else {
        args.areas.clone()
    };
    let mut model = seqcheck::model::ModelConfig::default();
    let mut expectations = seqcheck::conformance::Expectations::default();
    let mut unsupported: Vec<String> = Vec::new();
    let run_nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 1_000_000);
    let remote = args.endpoint.is_some() || args.aws;
    if args.expectations.is_some() && !remote {
        return Err(CliError::Setup(
            "--expectations applies to --endpoint or --aws runs only".into(),
        ));
    }
    // Stream names carry the run's nonce on live services so runs never collide; they are
    // built by the runner (not prefixed by the adapter), so deliberately invalid names reach
    // the service unchanged.
    let name_prefix = if args.aws {
        format!("seqcheck{run_nonce}")
    } else if remote {
        format!("sc{run_nonce}")
    } else {
        "sc".into()
    };
    let factory: Box<dyn Fn() -> Arc<dyn StreamService> + Sync> = match (args.twin, args.target) {
        _ if remote => {
            let options = seqcheck::http::HttpOptions {
                operation_timeout: std::time::Duration::from_secs(20),
                ..Default::default()
            };
            let service = match &args.endpoint {
                Some(url) => {
                    seqcheck::http::HttpService::with_options(url, args.region.as_deref(), options)
                }
                None => seqcheck::http::HttpService::aws_with_options(
                    "",
                    args.region.as_deref(),
                    options,
                ),
            }
            .map_err(|e| CliError::Setup(e.to_string()))?;
            if !service.answers() {
                println!(
                    "nothing was checked: {} does not answer (no response to DescribeStreamSummary \
                     within a few seconds)",
                    args.endpoint.as_deref().unwrap_or("Amazon Kinesis")
                );
                return Ok(ExitCode::from(EXIT_UNCHECKED));
            }
            let (caps, evidence) = super::endpoint::probe(&service, &name_prefix);
            for line in &evidence {
                println!("unsupported: {line}");
            }
            unsupported.extend(evidence);
            model = super::endpoint::model_config(args.aws);
            if let Some(path) = &args.expectations {
                expectations = seqcheck::conformance::Expectations::load(path)
                    .map_err(|e| CliError::Setup(e.to_string()))?;
            }
            for h in &expectations.hazards {
                let line = format!(
                    "not sent ({}): requests matching `{}`: {}",
                    h.id, h.request_pattern, h.evidence
                );
                println!("unsupported: {line}");
                unsupported.push(line);
            }
            let shared: Arc<dyn StreamService> = Arc::new(service.with_capabilities(caps));
            Box::new(move || Arc::clone(&shared))
        }
        (Some(twin), _) => Box::new(move || Arc::<dyn StreamService>::from(twin.build())),
        (None, Target::Embedded) => {
            Box::new(|| Arc::new(in_process_memory()) as Arc<dyn StreamService>)
        }
        (None, Target::Model) => {
            Box::new(|| Arc::new(in_process_model()) as Arc<dyn StreamService>)
        }
    };
    let implementation = args.label.clone().unwrap_or_else(|| factory().name());
    let mut replay = "cargo run --release -- check".to_owned();
    if remote {
        match &args.endpoint {
            Some(url) => replay.push_str(&format!(" --endpoint {url}")),
            None => replay.push_str(" --aws"),
        }
        if let Some(region) = &args.region {
            replay.push_str(&format!(" --region {region}"));
        }
        if let Some(path) = &args.expectations {
            replay.push_str(&format!(" --expectations {path}"));
        }
    } else if let Some(twin) = args.twin {
        replay.push_str(&format!(
            " --twin {}",
            twin.to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned())
        ));
    } else if args.target == Target::Model {
        replay.push_str(" --target model");
    }
    let cfg = RunConfig {
        cases: args.cases,
        seed: args.seed,
        max_ops: args.max_ops,
        replay_command: replay,
        model,
        expectations,
        // Each case on a live endpoint takes a second or more: bound shrinking harder.
        max_shrink_ms: if remote {
            20_000
        } else {
            RunConfig::default().max_shrink_ms
        },
        name_prefix,
        restart: args
            .restart_cmd
            .as_deref()
            .map(|cmd| Restart::command(cmd, RESTART_LIMIT)),
        ..RunConfig::default()
    };
    let bar = ProgressBar::new(areas.iter().map(|a| planned_cases(*a, &cfg)).sum());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:<24} [{bar:32}] {pos}/{len} cases ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let tick = || bar.inc(1);
    bar.set_message(implementation.clone());
    let reports = run_areas(&*factory, &areas, &cfg, &tick);
    bar.finish_and_clear();
    let slow = if args.slow {
        run_slow(&*factory, &cfg, &reports)
    } else {
        Vec::new()
    };
    let rows: Vec<table::Row> = reports
        .iter()
        .map(table::Row::from)
        .chain(slow.iter().map(table::Row::from))
        .collect();
    println!("{}", table::render(&implementation, &rows));
    // Without clock control only `--slow` reaches Expiry: say so where it is not reached.
    let clockless = !factory().capabilities().clock_control;
    let hint = clockless && !args.slow;
    for r in &reports {
        print_area(r, hint);
    }
    for r in &slow {
        print_area(r, false);
        if matches!(r.status, AreaStatus::Passed) {
            let (valid, expired) = expiry_holds(cfg.model.clock_tolerance_ms);
            println!(
                "{}: an iterator used {valid} ms after issue worked and returned the record, one \
                 used {expired} ms after issue was expired ({} Expiry checks)",
                r.area,
                r.checks.get(Property::Expiry)
            );
        }
    }
    if args.json.is_some() || args.markdown.is_some() {
        let report = RunReport {
            implementation: &implementation,
            unsupported: &unsupported,
            seed: args.seed,
            cases_per_area: args.cases,
            areas: reports
                .iter()
                .map(Row::Area)
                .chain(slow.iter().map(Row::Slow))
                .collect(),
        };
        let json = serde_json::to_string_pretty(&report)?;
        if let Some(path) = &args.json {
            std::fs::write(path, &json).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })?;
        }
        if let Some(path) = &args.markdown {
            super::matrix::single(&json, path, args.expectations.as_deref())?;
        }
    }
    Ok(ExitCode::from(verdict(&reports, &slow)))
}

/// Runs every slow check after the areas, each with a progress bar over the time it holds
/// iterators. When the service went down during the areas they are not run.
fn run_slow(
    factory: &(dyn Fn() -> Arc<dyn StreamService> + Sync),
    cfg: &RunConfig,
    reports: &[AreaReport],
) -> Vec<SlowReport> {
    let down = reports.iter().find_map(|r| match &r.status {
        AreaStatus::NotRun { reason } => Some(reason.clone()),
        _ => None,
    });
    SlowCheck::ALL
        .iter()
        .map(|&check| {
            if let Some(reason) = &down {
                let status = AreaStatus::NotRun {
                    reason: reason.clone(),
                };
                return SlowReport::empty(check, status);
            }
            let hold = check.hold_ms(cfg.model.clock_tolerance_ms);
            let bar = ProgressBar::new(hold);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:<24} [{bar:32}] {elapsed} of the holds (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(format!("{check}: holding iterators"));
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            let report = run_slow_check(factory, check, cfg, &|ms| bar.inc(ms));
            bar.finish_and_clear();
            report
        })
        .collect()
}

/// Everything a person needs about one area beyond the table: findings, why cases ended
/// early, recorded divergences seen.
/// `slow_hint`: the implementation has no clock control and `--slow` was not given, so an
/// unreached Expiry says how to reach it.
fn print_area<A: Scope>(r: &AreaReport<A>, slow_hint: bool) {
    match &r.status {
        AreaStatus::Failed { findings } => {
            println!(
                "{}: {} distinct unrecorded finding(s){}",
                r.area,
                r.distinct_findings,
                if r.distinct_findings > findings.len() as u64 {
                    format!(" ({} shown)", findings.len())
                } else {
                    String::new()
                }
            );
            for f in findings {
                println!("{f}\n");
            }
        }
        AreaStatus::Unsupported { reason } => println!("{}: unsupported: {reason}", r.area),
        AreaStatus::NotRun { reason } => println!("{}: not run: {reason}", r.area),
        AreaStatus::Indeterminate { reason } => println!("{}: indeterminate: {reason}", r.area),
        AreaStatus::Passed => {}
    }
    if r.was_checked() {
        let unreached: Vec<String> = r
            .area
            .targets()
            .iter()
            .filter(|p| r.checks.get(**p) == 0)
            .map(|p| format!("{p:?}"))
            .collect();
        if !unreached.is_empty() {
            let hint = if slow_hint
                && r.checks.get(Property::Expiry) == 0
                && r.area.targets().contains(&Property::Expiry)
            {
                " (without clock control only `--slow` reaches Expiry, in about 5 minutes)"
            } else {
                ""
            };
            println!(
                "{}: not reached (0 checks), so not passed either: {}{hint}",
                r.area,
                unreached.join(", ")
            );
        }
    }
    if !r.first_indeterminate.is_empty() {
        println!(
            "{}: first indeterminate case ({} of {} cases were):",
            r.area, r.indeterminate_cases, r.cases
        );
        for line in r.first_indeterminate.iter().flat_map(|s| s.lines()) {
            println!("  {line}");
        }
        println!();
    }
    if !r.ended_early.is_empty() {
        println!(
            "{}: {} of {} cases ran to their last step; ended early:",
            r.area, r.completed_cases, r.cases
        );
        for e in &r.ended_early {
            println!("  {:>5} × {}", e.cases, e.reason);
        }
    }
    for d in &r.divergences {
        match &d.counterexample {
            Some(cx) => println!(
                "known divergence `{}` ({} responses in {} cases):\n{cx}\n",
                d.id, d.hits, d.cases
            ),
            None => println!(
                "known divergence `{}` ({} responses in {} cases; its first case did not show \
                 it again when replayed)\n",
                d.id, d.hits, d.cases
            ),
        }
    }
}

/// The exit status for a run's reports (areas, then slow checks), with a closing line saying
/// why.
fn verdict(reports: &[AreaReport], slow: &[SlowReport]) -> u8 {
    let rows: Vec<(String, &AreaStatus, u64, bool)> = reports
        .iter()
        .map(|r| {
            (
                r.area.to_string(),
                &r.status,
                r.distinct_findings,
                r.was_checked(),
            )
        })
        .chain(slow.iter().map(|r| {
            (
                r.area.to_string(),
                &r.status,
                r.distinct_findings,
                r.was_checked(),
            )
        }))
        .collect();
    let findings: u64 = rows.iter().map(|r| r.2).sum();
    let unchecked: Vec<String> = rows
        .iter()
        .filter(|r| {
            matches!(
                r.1,
                AreaStatus::Indeterminate { .. } | AreaStatus::NotRun { .. }
            )
        })
        .map(|r| r.0.clone())
        .collect();
    let checked = rows.iter().filter(|r| r.3).count();
    if findings > 0 {
        println!("{findings} distinct unrecorded finding(s)");
        EXIT_FINDINGS
    } else if checked == 0 {
        println!("nothing was checked: no requested area could be judged");
        EXIT_UNCHECKED
    } else if !unchecked.is_empty() {
        println!(
            "only part of the run was checked: {} ended indeterminate or not run",
            unchecked.join(", ")
        );
        EXIT_UNCHECKED
    } else {
        EXIT_PASSED
    }
}
