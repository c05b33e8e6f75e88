//! Exhaustive stateright models of the parts of seqcheck whose correctness depends on
//! interleavings, crashes and lost messages rather than on one sequential run.
//!
//! Each model is a small struct whose state embeds the shipped [`crate::sequencer`] code, so
//! what is checked is the code the services run, not a transcription of it. Every model has a
//! *broken twin*, selected by a field of the struct, that the checker must refute: that keeps
//! the properties honest (a property no bug can break proves nothing).
//!
//! | name            | module              | what it covers                                   |
//! |-----------------|---------------------|--------------------------------------------------|
//! | `sequencer`     | [`sequencer_crash`] | producers, retries, sequencer crash and restart  |
//! | `resharding`    | [`resharding`]      | splits and merges interleaved with appends       |
//! | `replicated`    | [`replicated`]      | three replicas, lossy network, leader failover   |
//! | `checkpointing` | [`checkpointing`]   | consumers, leases, checkpoints, crashes          |
//!
//! Append ` --broken` to a name to select the broken twin.

use std::fmt;
use std::hash::Hash;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use stateright::{Checker, CheckerBuilder, Expectation, Model, Path};

pub mod checkpointing;
pub mod replicated;
pub mod resharding;
pub mod sequencer_crash;

/// The environment variable that scales every model's bounds (default 1).
pub const SCALE_VAR: &str = "SEQCHECK_MODEL_SCALE";

/// The names [`serve_explorer`] and [`check_one`] accept (each also with ` --broken`).
pub const MODEL_NAMES: [&str; 4] = ["sequencer", "resharding", "replicated", "checkpointing"];

/// Why a model could not be run or served.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The name is none of [`MODEL_NAMES`] (optionally followed by ` --broken`).
    #[error(
        "unknown model {0:?}: expected one of sequencer, resharding, replicated, checkpointing (optionally with --broken)"
    )]
    UnknownModel(String),
    /// The scale variable is set but is not a whole number from 1 to 8.
    #[error("{SCALE_VAR}={0:?} is not a whole number from 1 to 8")]
    BadScale(String),
    /// The Explorer could not listen on the address.
    #[error("cannot serve the model explorer on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Reads the model scale from [`SCALE_VAR`]: 1 when unset, an error when set to anything but
/// a whole number from 1 to 8. The one place the variable is read.
pub fn scale_from_env() -> Result<usize, ModelError> {
    match std::env::var(SCALE_VAR) {
        Err(_) => Ok(1),
        Ok(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=8).contains(&n) => Ok(n),
            _ => Err(ModelError::BadScale(raw)),
        },
    }
}

/// A model name with the choice between the faithful model and its broken twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelChoice {
    /// One of [`MODEL_NAMES`].
    pub name: &'static str,
    /// True for the broken twin.
    pub broken: bool,
}

impl std::str::FromStr for ModelChoice {
    type Err = ModelError;

    /// Accepts `name`, `name --broken` and `name-broken`.
    fn from_str(raw: &str) -> Result<Self, ModelError> {
        let trimmed = raw.trim();
        let (base, broken) = match trimmed
            .strip_suffix("--broken")
            .or_else(|| trimmed.strip_suffix("-broken"))
        {
            Some(base) => (base.trim(), true),
            None => (trimmed, false),
        };
        MODEL_NAMES
            .iter()
            .find(|n| **n == base)
            .map(|name| ModelChoice { name, broken })
            .ok_or_else(|| ModelError::UnknownModel(raw.to_string()))
    }
}

impl fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broken {
            write!(f, "{} --broken", self.name)
        } else {
            f.write_str(self.name)
        }
    }
}

/// What the checker concluded about one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An `always` or `eventually` property with no counterexample in the explored space.
    Holds,
    /// A `sometimes` property with an example.
    Witnessed,
    /// An `always` or `eventually` property with a counterexample.
    Violated,
    /// A `sometimes` property with no example: the property it witnesses may be vacuous.
    NeverWitnessed,
}

impl Outcome {
    /// True when the outcome is the one a correct model should produce.
    pub fn is_expected(self) -> bool {
        matches!(self, Outcome::Holds | Outcome::Witnessed)
    }
}

/// One property of a [`ModelReport`].
#[derive(Clone, Debug)]
pub struct PropertyReport {
    /// The property's plain-words name.
    pub name: &'static str,
    /// `always`, `sometimes` or `eventually`.
    pub expectation: Expectation,
    /// What the checker found.
    pub outcome: Outcome,
    /// The counterexample (or example) as a list of actions, when there is one.
    pub path: Option<Vec<String>>,
}

/// The result of checking one model exhaustively.
#[derive(Clone, Debug)]
pub struct ModelReport {
    /// The model's name, as accepted by [`check_one`].
    pub name: String,
    /// Distinct states visited (after symmetry reduction where the model uses it).
    pub unique_states: usize,
    /// States generated, repeats included: the work the checker did.
    pub total_states: usize,
    /// Longest path explored.
    pub max_depth: usize,
    /// Wall time of the check.
    pub duration: Duration,
    /// Generated states per second of wall time.
    pub states_per_sec: f64,
    /// Every property with its outcome.
    pub properties: Vec<PropertyReport>,
}

impl ModelReport {
    /// True when every `always`/`eventually` property holds and every `sometimes` is witnessed.
    pub fn all_expected(&self) -> bool {
        self.properties.iter().all(|p| p.outcome.is_expected())
    }
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} unique states ({} generated, depth {}) in {:.2?}, {:.0} states/s",
            self.name,
            self.unique_states,
            self.total_states,
            self.max_depth,
            self.duration,
            self.states_per_sec
        )?;
        for p in &self.properties {
            writeln!(f, "  {:?} {:?}: {:?}", p.outcome, p.expectation, p.name)?;
        }
        Ok(())
    }
}

/// Runs a breadth-first check to completion and summarises it.
pub fn report<M>(name: &str, builder: CheckerBuilder<M>) -> ModelReport
where
    M: Model + Send + Sync + 'static,
    M::State: Hash + Send + Sync + Clone + PartialEq + fmt::Debug + 'static,
    M::Action: Clone + PartialEq + fmt::Debug,
{
    let started = Instant::now();
    let checker = builder.spawn_bfs().join();
    let duration = started.elapsed();
    let discoveries = checker.discoveries();
    let model = checker.model();
    let properties = model
        .properties()
        .into_iter()
        .map(|p| {
            let found = discoveries.get(p.name);
            let outcome = match (&p.expectation, found.is_some()) {
                (Expectation::Sometimes, true) => Outcome::Witnessed,
                (Expectation::Sometimes, false) => Outcome::NeverWitnessed,
                (_, true) => Outcome::Violated,
                (_, false) => Outcome::Holds,
            };
            let path = found.and_then(|path| {
                let (actions, _) = first_violation(model, p.name, path.clone())?;
                Some(actions.iter().map(|a| model.format_action(a)).collect())
            });
            PropertyReport {
                name: p.name,
                expectation: p.expectation,
                outcome,
                path,
            }
        })
        .collect();
    let secs = duration.as_secs_f64().max(1e-9);
    ModelReport {
        name: name.to_string(),
        unique_states: checker.unique_state_count(),
        total_states: checker.state_count(),
        max_depth: checker.max_depth(),
        duration,
        states_per_sec: checker.state_count() as f64 / secs,
        properties,
    }
}

/// Cuts a counterexample at its first state that breaks the `always` property `name`, and
/// returns the actions leading there with that state. Stateright keeps the *latest* violating
/// state it visited, whose path may run on past the step that did the damage; the cut path
/// ends with the culprit action. Other kinds of property keep the whole path. `None` only for
/// an empty path, which stateright never produces.
pub fn first_violation<M: Model>(
    model: &M,
    name: &'static str,
    path: Path<M::State, M::Action>,
) -> Option<(Vec<M::Action>, M::State)> {
    let property = model.properties().into_iter().find(|p| p.name == name);
    let mut steps = path.into_vec();
    let cut = match property {
        Some(p) if p.expectation == Expectation::Always => steps
            .iter()
            .position(|(s, _)| !(p.condition)(model, s))
            .unwrap_or(steps.len().saturating_sub(1)),
        _ => steps.len().saturating_sub(1),
    };
    steps.truncate(cut + 1);
    let (last, _) = steps.pop()?;
    let actions = steps.into_iter().filter_map(|(_, a)| a).collect();
    Some((actions, last))
}

/// Checks one model (or its broken twin) at `scale` and reports.
pub fn check_one(choice: ModelChoice, scale: usize) -> ModelReport {
    let name = choice.to_string();
    match choice.name {
        "sequencer" => {
            let m = sequencer_crash::SequencerCrash::at_scale(scale).broken_if(choice.broken);
            report(&name, m.into_checker())
        }
        "resharding" => {
            let m = resharding::Resharding::at_scale(scale).broken_if(choice.broken);
            report(&name, m.into_checker())
        }
        "replicated" => {
            let m = replicated::ReplicatedShard::at_scale(scale).broken_if(choice.broken);
            report(&name, m.into_checker())
        }
        _ => {
            let m = checkpointing::Checkpointing::at_scale(scale).broken_if(choice.broken);
            report(&name, m.into_checker())
        }
    }
}

/// Checks every faithful model at `scale` (1 = the default bounds) and reports each, in the
/// order of [`MODEL_NAMES`].
pub fn check_all(scale: usize) -> Vec<ModelReport> {
    MODEL_NAMES
        .iter()
        .map(|name| {
            check_one(
                ModelChoice {
                    name,
                    broken: false,
                },
                scale,
            )
        })
        .collect()
}

/// Serves stateright's Explorer web UI for the named model (see [`ModelChoice`] for names) at
/// `addr`, at the default bounds. Blocks while serving; returns an error for an unknown name
/// or an address it cannot listen on. Bind it to a loopback address: the UI has no access
/// control.
pub fn serve_explorer(model_name: &str, addr: SocketAddr) -> Result<(), ModelError> {
    let choice: ModelChoice = model_name.parse()?;
    // Probe the address first: the Explorer itself panics when it cannot listen.
    drop(std::net::TcpListener::bind(addr).map_err(|source| ModelError::Bind { addr, source })?);
    match choice.name {
        "sequencer" => {
            let m = sequencer_crash::SequencerCrash::default().broken_if(choice.broken);
            drop(m.into_checker().serve(addr));
        }
        "resharding" => {
            let m = resharding::Resharding::default().broken_if(choice.broken);
            drop(m.into_checker().serve(addr));
        }
        "replicated" => {
            let m = replicated::ReplicatedShard::default().broken_if(choice.broken);
            drop(m.into_checker().serve(addr));
        }
        _ => {
            let m = checkpointing::Checkpointing::default().broken_if(choice.broken);
            drop(m.into_checker().serve(addr));
        }
    }
    Ok(())
}
