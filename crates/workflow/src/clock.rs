//! The wall clock the engine reads — approval tokens' expiry — behind a trait, so tests set and
//! advance time instead of sleeping. Durations the engine waits for (lock timeouts, the rollback
//! window, retry back-off) run on Tokio's clock, which tests can pause and advance too.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock: what production uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    at: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// Starts at the system's now.
    pub fn new() -> Self {
        Self {
            at: Arc::new(Mutex::new(Utc::now())),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, by: std::time::Duration) {
        let mut at = self
            .at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *at += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(std::time::Duration::from_secs(3601));
        assert_eq!((clock.now() - t0).num_seconds(), 3601);
    }
}
