//! The switch through which the nemesis kills and restarts a consumer.
//!
//! A consumer polls its switch at its kill points; once it dies it records nothing more
//! until the nemesis restarts it, and the nemesis records `kill_consumer` ok only after the
//! consumer reported itself dead, so no event of the dead incarnation follows that `ok`.

use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Running,
    KillRequested(Instant),
    Dead,
    RestartRequested,
    /// No restart will come: a dead consumer stops waiting.
    Abandoned,
}

/// One consumer's life, shared by the consumer and the nemesis.
#[derive(Debug)]
pub(crate) struct Switch {
    life: Mutex<Life>,
    changed: Condvar,
}

impl Default for Switch {
    fn default() -> Self {
        Switch {
            life: Mutex::new(Life::Running),
            changed: Condvar::new(),
        }
    }
}

impl Switch {
    fn set(&self, life: Life) {
        *self.life.lock() = life;
        self.changed.notify_all();
    }

    /// Waits until `done` holds of the state or `timeout` passes; true when it holds.
    fn wait_for(&self, timeout: Duration, done: impl Fn(Life) -> bool) -> bool {
        let until = Instant::now() + timeout;
        let mut life = self.life.lock();
        while !done(*life) {
            if self.changed.wait_until(&mut life, until).timed_out() {
                return done(*life);
            }
        }
        true
    }

    /// Nemesis: asks a running consumer to die at its next kill point (false when it is not
    /// running).
    pub(crate) fn request_kill(&self) -> bool {
        let mut life = self.life.lock();
        if *life == Life::Running {
            *life = Life::KillRequested(Instant::now());
            true
        } else {
            false
        }
    }

    /// Consumer: how long ago a kill was requested, if one is pending.
    pub(crate) fn kill_pending(&self) -> Option<Duration> {
        match *self.life.lock() {
            Life::KillRequested(at) => Some(at.elapsed()),
            _ => None,
        }
    }

    /// Consumer: it is dead (it records nothing more).
    pub(crate) fn die(&self) {
        self.set(Life::Dead);
    }

    /// Nemesis: waits for the consumer to die; false after `timeout`.
    pub(crate) fn wait_dead(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |l| matches!(l, Life::Dead | Life::Abandoned))
    }

    /// Nemesis: restarts a dead consumer.
    pub(crate) fn request_restart(&self) {
        let mut life = self.life.lock();
        if *life == Life::Dead {
            *life = Life::RestartRequested;
            self.changed.notify_all();
        }
    }

    /// Consumer, while dead: waits for a restart (true) or for being abandoned (false).
    pub(crate) fn wait_restart(&self) -> bool {
        loop {
            if self.wait_for(Duration::from_secs(1), |l| {
                matches!(l, Life::RestartRequested | Life::Abandoned)
            }) {
                return *self.life.lock() == Life::RestartRequested;
            }
        }
    }

    /// Consumer: the new incarnation runs.
    pub(crate) fn running(&self) {
        self.set(Life::Running);
    }

    /// Nemesis: waits for a restarted consumer to run again; false after `timeout`.
    pub(crate) fn wait_running(&self, timeout: Duration) -> bool {
        self.wait_for(timeout, |l| matches!(l, Life::Running | Life::Abandoned))
    }

    /// Whether the consumer runs (or is about to die but still running).
    pub(crate) fn is_running(&self) -> bool {
        matches!(*self.life.lock(), Life::Running)
    }

    /// End of the run: a dead consumer stops waiting, a pending kill is withdrawn.
    pub(crate) fn abandon(&self) {
        let mut life = self.life.lock();
        if matches!(*life, Life::Dead | Life::RestartRequested) {
            *life = Life::Abandoned;
        } else if matches!(*life, Life::KillRequested(_)) {
            *life = Life::Running;
        }
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kill_then_a_restart_round_trips() {
        let s = Switch::default();
        assert!(s.request_kill());
        assert!(!s.request_kill());
        assert!(s.kill_pending().is_some());
        s.die();
        assert!(s.wait_dead(Duration::from_millis(1)));
        s.request_restart();
        assert!(s.wait_restart());
        s.running();
        assert!(s.wait_running(Duration::from_millis(1)));
        assert!(s.is_running());
    }
}
