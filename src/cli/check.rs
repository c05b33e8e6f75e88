//! `seqcheck check`: the conformance suite from the command line.

use super::{CliError, table};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use seqcheck::conformance::{
    Area, AreaReport, AreaStatus, RunConfig, in_process_memory, in_process_model, run_area,
};
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
    /// Cases per area (more cases, more confidence).
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Seed of the run; the same seed and case count replay the same cases.
    #[arg(long, default_value_t = RunConfig::default().seed)]
    seed: u64,
    /// Areas to run (comma-separated); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    areas: Vec<Area>,
    /// Most operations per case.
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
    /// Check a Kinesis-compatible endpoint over HTTP instead (e.g. http://127.0.0.1:4567).
    #[arg(long, conflicts_with_all = ["target", "twin"])]
    endpoint: Option<String>,
    /// Recorded divergences of the endpoint: tolerated and reported; new ones fail.
    #[arg(long, requires = "endpoint")]
    expectations: Option<String>,
    /// A name for the implementation in reports (default: derived from the target).
    #[arg(long)]
    label: Option<String>,
}

#[derive(serde::Serialize)]
struct RunReport<'a> {
    implementation: &'a str,
    unsupported: &'a [String],
    seed: u64,
    cases_per_area: u32,
    areas: &'a [AreaReport],
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
    let name_prefix = if args.endpoint.is_some() {
        format!("sc{run_nonce}")
    } else {
        "sc".into()
    };
    let factory: Box<dyn Fn() -> Arc<dyn StreamService> + Sync> =
        match (args.twin, args.target, &args.endpoint) {
            (_, _, Some(url)) => {
                let options = seqcheck::http::HttpOptions {
                    operation_timeout: std::time::Duration::from_secs(20),
                    ..Default::default()
                };
                let service = seqcheck::http::HttpService::with_options(url, None, options)
                    .map_err(|e| CliError::Setup(e.to_string()))?;
                let (caps, evidence) = super::endpoint::probe(&service, &name_prefix);
                for line in &evidence {
                    println!("unsupported: {line}");
                }
                unsupported.extend(evidence);
                model = super::endpoint::model_config(false);
                if let Some(path) = &args.expectations {
                    expectations = seqcheck::conformance::Expectations::load(path)
                        .map_err(|e| CliError::Setup(e.to_string()))?;
                }
                let shared: Arc<dyn StreamService> = Arc::new(service.with_capabilities(caps));
                Box::new(move || Arc::clone(&shared))
            }
            (Some(twin), _, None) => Box::new(move || Arc::<dyn StreamService>::from(twin.build())),
            (None, Target::Embedded, None) => {
                Box::new(|| Arc::new(in_process_memory()) as Arc<dyn StreamService>)
            }
            (None, Target::Model, None) => {
                Box::new(|| Arc::new(in_process_model()) as Arc<dyn StreamService>)
            }
        };
    let implementation = args.label.clone().unwrap_or_else(|| factory().name());
    let mut replay = "cargo run --release -- check".to_owned();
    if let Some(url) = &args.endpoint {
        replay.push_str(&format!(" --endpoint {url}"));
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
        max_shrink_ms: if args.endpoint.is_some() {
            20_000
        } else {
            RunConfig::default().max_shrink_ms
        },
        name_prefix,
        ..RunConfig::default()
    };
    let bar = ProgressBar::new(u64::from(args.cases) * areas.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:<24} [{bar:32}] {pos}/{len} cases ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut reports = Vec::with_capacity(areas.len());
    for area in &areas {
        bar.set_message(format!("{implementation}: {area}"));
        let tick = || bar.inc(1);
        reports.push(run_area(&*factory, *area, &cfg, &tick));
    }
    bar.finish_and_clear();
    println!("{}", table::render(&implementation, &reports));
    let mut failed = false;
    for r in &reports {
        match &r.status {
            AreaStatus::Failed { counterexample } => {
                failed = true;
                println!("{counterexample}\n");
            }
            AreaStatus::Unsupported { reason } => println!("{}: unsupported: {reason}", r.area),
            AreaStatus::Indeterminate { reason } => println!("{}: indeterminate: {reason}", r.area),
            AreaStatus::Passed => {}
        }
        for d in &r.divergences {
            println!(
                "known divergence `{}` ({} cases):\n{}\n",
                d.id, d.cases, d.counterexample
            );
        }
    }
    if let Some(path) = &args.json {
        let report = RunReport {
            implementation: &implementation,
            unsupported: &unsupported,
            seed: args.seed,
            cases_per_area: args.cases,
            areas: &reports,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)?).map_err(|source| {
            CliError::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
