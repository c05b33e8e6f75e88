//! The nemesis: faults on a seeded schedule, each recorded as invoke + completion and healed
//! before the next one starts, so at most one fault is in place at a time.
//!
//! - network (`net_fault` / `net_heal`): a [`Network`] control, normally a fault proxy between
//!   the clients and the service;
//! - service process (`kill` / `restart`): the [`ServiceCommands`];
//! - consumer (`kill_consumer` / `restart_consumer`): a consumer dies at its next kill point
//!   (mid-page, before its checkpoint); its leases are freed and its restarted incarnation
//!   starts from the checkpoint store.
//!
//! When the run stops, the fault in place is healed before the nemesis returns, so the final
//! read sees a healthy service.

use super::DriverConfig;
use super::commands::{self, ServiceCommands};
use super::leases::LeaseTable;
use super::lifecycle::Switch;
use super::record::{Halted, Recorder};
use super::rng::Rng;
use crate::history::{EventType, Op};
use std::time::Duration;

/// A network fault between the clients and the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetFaultKind {
    /// Every request is delayed this long.
    Delay {
        /// The delay in ms.
        ms: u64,
    },
    /// Requests get no answer at all (clients time out).
    Stall,
    /// A request reaches the service, then the connection is reset before the answer.
    ResetAfterRequest,
    /// The connection is reset before the request reaches the service.
    ResetBeforeRequest,
}

impl NetFaultKind {
    /// The fault as the history's `fault` field names it (`delay 200ms`, `stall`, …).
    pub fn describe(&self) -> String {
        match self {
            NetFaultKind::Delay { ms } => format!("delay {ms}ms"),
            NetFaultKind::Stall => "stall".into(),
            NetFaultKind::ResetAfterRequest => "reset-after-request".into(),
            NetFaultKind::ResetBeforeRequest => "reset-before-request".into(),
        }
    }
}

/// Something that can put network faults between the run's clients and the service.
pub trait Network: Send + Sync {
    /// Puts `fault` in place; `Ok` once new requests see it.
    fn inject(&self, fault: NetFaultKind) -> Result<(), String>;
    /// Ends any fault; `Ok` once new requests pass normally.
    fn heal(&self) -> Result<(), String>;
}

/// What the nemesis can act on.
pub(crate) struct Levers<'a> {
    pub(crate) network: Option<&'a dyn Network>,
    pub(crate) service: Option<&'a ServiceCommands>,
    /// Consumers by process name, with their switches (empty: no consumer faults).
    pub(crate) consumers: Vec<(String, &'a Switch)>,
    pub(crate) leases: &'a LeaseTable,
}

/// How long the nemesis waits for a consumer to die or run again.
const CONSUMER_LIMIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
enum Lever {
    Network,
    Service,
    Consumer,
}

/// A fault in place, to heal.
enum Active {
    Network,
    Service,
    Consumer(usize),
}

/// Runs the nemesis until the run stops, then heals.
pub(crate) fn run(config: &DriverConfig, levers: &Levers<'_>, rec: Recorder<'_>) {
    let mut rng = Rng::fork(config.seed, rec.process());
    let mut available = Vec::new();
    if levers.network.is_some() {
        available.push(Lever::Network);
    }
    if levers.service.is_some() {
        available.push(Lever::Service);
    }
    if !levers.consumers.is_empty() {
        available.push(Lever::Consumer);
    }
    if available.is_empty() {
        return;
    }
    let interval = config.nemesis_interval;
    loop {
        if !rec.control().sleep(interval) {
            return;
        }
        let lever = available[rng.index(available.len())];
        let active = match inject(lever, levers, &rec, &mut rng) {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(Halted) => return,
        };
        let _ = rec.control().sleep(interval);
        if heal(&active, levers, &rec).is_err() {
            return;
        }
        if rec.control().stopped() {
            return;
        }
    }
}

fn nemesis_event(rec: &Recorder<'_>, kind: EventType, f: Op) -> crate::history::Event {
    rec.event(kind, f)
}

/// Records the completion of a nemesis step: ok, or fail with the reason.
fn complete(rec: &Recorder<'_>, f: Op, result: Result<(), String>) -> Result<bool, Halted> {
    let mut e = nemesis_event(rec, EventType::Ok, f);
    let ok = result.is_ok();
    if let Err(why) = result {
        e.kind = EventType::Fail;
        e.error = Some("NemesisFailed".into());
        e.message = Some(why);
    }
    rec.record(e)?;
    Ok(ok)
}

fn inject(
    lever: Lever,
    levers: &Levers<'_>,
    rec: &Recorder<'_>,
    rng: &mut Rng,
) -> Result<Option<Active>, Halted> {
    match lever {
        Lever::Network => {
            let Some(net) = levers.network else {
                return Ok(None);
            };
            let fault = match rng.below(4) {
                0 => NetFaultKind::Delay {
                    ms: rng.range(50, 400),
                },
                1 => NetFaultKind::Stall,
                2 => NetFaultKind::ResetAfterRequest,
                _ => NetFaultKind::ResetBeforeRequest,
            };
            let mut e = nemesis_event(rec, EventType::Invoke, Op::NetFault);
            e.fault = Some(fault.describe());
            rec.record(e)?;
            let ok = complete(rec, Op::NetFault, net.inject(fault))?;
            rec.control().fault(&fault.describe());
            // Even a failed injection may be partly in place: heal it all the same.
            let _ = ok;
            Ok(Some(Active::Network))
        }
        Lever::Service => {
            let Some(cmds) = levers.service else {
                return Ok(None);
            };
            let mut e = nemesis_event(rec, EventType::Invoke, Op::Kill);
            e.target = Some("service".into());
            rec.record(e)?;
            let result = commands::run(&cmds.kill, cmds.timeout).map_err(|e| e.to_string());
            complete(rec, Op::Kill, result)?;
            rec.control().fault("kill service");
            Ok(Some(Active::Service))
        }
        Lever::Consumer => {
            let running: Vec<usize> = (0..levers.consumers.len())
                .filter(|&i| levers.consumers[i].1.is_running())
                .collect();
            if running.is_empty() {
                return Ok(None);
            }
            let i = running[rng.index(running.len())];
            let (name, switch) = &levers.consumers[i];
            let mut e = nemesis_event(rec, EventType::Invoke, Op::KillConsumer);
            e.target = Some(name.clone());
            rec.record(e)?;
            let result = if switch.request_kill() && switch.wait_dead(CONSUMER_LIMIT) {
                levers.leases.expire(name);
                Ok(())
            } else {
                switch.abandon();
                Err(format!("{name} did not reach a kill point"))
            };
            let killed = complete(rec, Op::KillConsumer, result)?;
            if !killed {
                return Ok(None);
            }
            rec.control().fault(&format!("kill {name}"));
            Ok(Some(Active::Consumer(i)))
        }
    }
}

/// Heals `active`; a service restart is tried up to three times.
fn heal(active: &Active, levers: &Levers<'_>, rec: &Recorder<'_>) -> Result<(), Halted> {
    match active {
        Active::Network => {
            let Some(net) = levers.network else {
                return Ok(());
            };
            rec.record(nemesis_event(rec, EventType::Invoke, Op::NetHeal))?;
            complete(rec, Op::NetHeal, net.heal())?;
        }
        Active::Service => {
            let Some(cmds) = levers.service else {
                return Ok(());
            };
            for _ in 0..3 {
                let mut e = nemesis_event(rec, EventType::Invoke, Op::Restart);
                e.target = Some("service".into());
                rec.record(e)?;
                let result = commands::run(&cmds.restart, cmds.timeout).map_err(|e| e.to_string());
                if complete(rec, Op::Restart, result)? {
                    break;
                }
            }
        }
        Active::Consumer(i) => {
            let (name, switch) = &levers.consumers[*i];
            let mut e = nemesis_event(rec, EventType::Invoke, Op::RestartConsumer);
            e.target = Some(name.clone());
            rec.record(e)?;
            switch.request_restart();
            let result = if switch.wait_running(CONSUMER_LIMIT) {
                Ok(())
            } else {
                Err(format!("{name} did not start again"))
            };
            complete(rec, Op::RestartConsumer, result)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_named_as_the_history_format_names_them() {
        assert_eq!(NetFaultKind::Delay { ms: 200 }.describe(), "delay 200ms");
        assert_eq!(NetFaultKind::Stall.describe(), "stall");
        assert_eq!(
            NetFaultKind::ResetAfterRequest.describe(),
            "reset-after-request"
        );
        assert_eq!(
            NetFaultKind::ResetBeforeRequest.describe(),
            "reset-before-request"
        );
    }
}
