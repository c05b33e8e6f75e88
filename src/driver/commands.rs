//! Shell commands that kill and restart the service process, each bounded by a timeout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to kill and restart the service under test (`--kill-cmd`, `--restart-cmd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCommands {
    /// Run through `sh -c`; must exit 0 once the service is dead.
    pub kill: String,
    /// Run through `sh -c`; must exit 0 once the service answers again.
    pub restart: String,
    /// Each command is killed (its whole process group, by id) after this long.
    pub timeout: Duration,
}

/// Why a command did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// It could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// It exited with a failure status.
    #[error("`{command}` exited with {status}")]
    Failed {
        /// The command.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
    /// It ran past its timeout and was killed.
    #[error("`{command}` did not finish within {timeout:?}")]
    TimedOut {
        /// The command.
        command: String,
        /// The bound.
        timeout: Duration,
    },
}

/// Runs `command` through `sh -c` in its own process group; `Ok` when it exits 0 within
/// `timeout`. On timeout the group (only the processes this call started) is killed by id.
pub fn run(command: &str, timeout: Duration) -> Result<(), CommandError> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|source| CommandError::Spawn {
            command: command.to_owned(),
            source,
        })?;
    let until = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(CommandError::Failed {
                    command: command.to_owned(),
                    status,
                });
            }
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => {
                // The child leads its own group: its id is the group's id.
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(format!("-{}", child.id()))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandError::TimedOut {
                    command: command.to_owned(),
                    timeout,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_succeed_fail_or_time_out() {
        assert!(run("true", Duration::from_secs(5)).is_ok());
        assert!(matches!(
            run("exit 3", Duration::from_secs(5)),
            Err(CommandError::Failed { .. })
        ));
        assert!(matches!(
            run("sleep 5", Duration::from_millis(100)),
            Err(CommandError::TimedOut { .. })
        ));
    }
}
