//! Crashes and hangs as verdicts: after a request went unanswered, does the service still
//! answer at all, and does the same request go unanswered every time?

use super::exec::{CaseRun, UnknownOutcome};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Brings the service under test back after a crash, so the run can shrink the crashing case
/// and go on with the remaining cases and areas. It returns once the service answers again,
/// or with the reason it could not be brought back.
#[derive(Clone)]
pub struct Restart {
    label: String,
    run: Arc<dyn Fn() -> Result<(), String> + Send + Sync>,
}

impl Restart {
    /// A restart that calls `run`; `label` names it in reports.
    pub fn new(
        label: impl Into<String>,
        run: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Restart {
            label: label.into(),
            run: Arc::new(run),
        }
    }

    /// A restart that runs `command` with `sh -c` and waits at most `limit` for it; it
    /// succeeds when the command exits 0 (the peer scripts' `start.sh NAME` does, once the
    /// peer answers). A command still running at `limit` is killed, by its PID, and fails.
    pub fn command(command: &str, limit: Duration) -> Self {
        let cmd = command.to_owned();
        Restart::new(command, move || run_bounded(&cmd, limit))
    }

    /// Runs the restart.
    pub fn restart(&self) -> Result<(), String> {
        (self.run)()
    }

    /// What it runs.
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl fmt::Debug for Restart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Restart({:?})", self.label)
    }
}

fn run_bounded(command: &str, limit: Duration) -> Result<(), String> {
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("`{command}` failed ({status})")),
            Ok(None) if start.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{command}` did not finish within {} s",
                    limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("cannot wait for `{command}`: {e}")),
        }
    }
}

/// What an unanswered request turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// The service no longer answers anything.
    Crash,
    /// The service answers, but this request went unanswered on every replay.
    Hang,
    /// The service answers and the request does not reliably go unanswered: a transient fault.
    Transient,
}

/// The unanswered request that ended `run` (a timeout, reset or refused connection; not an
/// untyped 5xx, which is an answer).
pub fn unanswered(run: &CaseRun) -> Option<&UnknownOutcome> {
    run.unknown_outcome.as_ref().filter(|u| !u.answered)
}

/// Classifies the unanswered request that ended `run`, for a service that still answers
/// (crashes are told apart by asking the service right after each run): replays the case
/// `replays` times (`replay`) and calls it a hang when the same request, at the same step,
/// goes unanswered every time without taking the service down.
pub fn classify_unanswered(
    run: &CaseRun,
    replays: usize,
    replay: &dyn Fn() -> CaseRun,
) -> Unanswered {
    let Some(first) = unanswered(run) else {
        return Unanswered::Transient;
    };
    let recurs = replays > 0
        && (0..replays).all(|_| {
            let again = replay();
            !again.crashed
                && unanswered(&again)
                    .is_some_and(|u| u.step == first.step && u.operation == first.operation)
        });
    if recurs {
        Unanswered::Hang
    } else {
        Unanswered::Transient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_command_succeeds_only_when_it_exits_zero_in_time() {
        let limit = Duration::from_secs(10);
        assert_eq!(Restart::command("true", limit).restart(), Ok(()));
        let failed = Restart::command("exit 3", limit).restart();
        assert!(
            failed.as_ref().is_err_and(|e| e.contains("failed")),
            "{failed:?}"
        );
        let slow = Restart::command("sleep 5", Duration::from_millis(200)).restart();
        assert!(
            slow.as_ref().is_err_and(|e| e.contains("did not finish")),
            "{slow:?}"
        );
    }
}
