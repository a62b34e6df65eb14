//! Fault injection: what a device does wrong on purpose, and the per-request decision.
//!
//! A [`Faults`] value is what a test asks for (by CLI flags at start or through the control
//! API at runtime); [`FaultState`] is the device's running state of it — counters since the
//! faults were set and a seeded random generator — and [`FaultState::decide`] is the single
//! decision the REST server and the SSH server both call before answering a request, so a fault
//! behaves the same on every transport.
//!
//! Trigger semantics (counted from the moment the faults were set):
//! - `drop_after: K` — requests 1..=K are served, request K+1 has its connection closed without
//!   a reply; the trigger then clears itself (one connection drop, like a network blip).
//! - `fail_write: K` — the K-th write fails (HTTP 500 / CLI `failure:`) without being applied;
//!   one-shot. This is how a campaign injects "fail after the k-th change".
//! - `hang_after: K` — requests after the K-th are never answered until faults change.
//! - `reboot_after: K` — request K+1 reboots the device for `reboot_seconds` (default 5);
//!   one-shot.
//! - `hang`, `reject_auth`, `latency_ms`, `error_rate` apply to every request while set.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::SimRng;

/// Default length of a triggered reboot.
pub const DEFAULT_REBOOT_SECONDS: u64 = 5;

/// The faults a device injects. JSON field names are the control API's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Added delay before every reply, in milliseconds (real time).
    pub latency_ms: u64,
    /// Probability in `[0, 1]` that a request fails with HTTP 500 / CLI `failure:`.
    pub error_rate: f64,
    /// Serve this many requests, then close the connection of the next one (one-shot).
    pub drop_after: Option<u64>,
    /// The write with this 1-based number fails without being applied (one-shot).
    pub fail_write: Option<u64>,
    /// Accept connections but never answer.
    pub hang: bool,
    /// Serve this many requests, then stop answering.
    pub hang_after: Option<u64>,
    /// Refuse every login as bad credentials.
    pub reject_auth: bool,
    /// Serve this many requests, then reboot (one-shot).
    pub reboot_after: Option<u64>,
    /// How long a triggered reboot keeps the device down (seconds).
    pub reboot_seconds: Option<u64>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Checks ranges; the message names the field and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) || self.error_rate.is_nan() {
            return Err(format!(
                "error_rate must be a number between 0 and 1, got {}",
                self.error_rate
            ));
        }
        if self.latency_ms > 600_000 {
            return Err(format!(
                "latency_ms must be at most 600000 (10 minutes), got {}",
                self.latency_ms
            ));
        }
        if self.reboot_seconds.is_some_and(|s| s > 86_400) {
            return Err("reboot_seconds must be at most 86400".into());
        }
        Ok(())
    }

    /// Whether any fault is set.
    pub fn is_empty(&self) -> bool {
        *self == Faults::default()
    }
}

/// What a request is, for write-counting triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Does not change configuration.
    Read,
    /// Changes configuration (add, set, remove, move, enable, disable, script runs, reboot).
    Write,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve it normally.
    Proceed,
    /// Fail it: HTTP 500 / CLI `failure:`; a write is not applied.
    Fail,
    /// Close the connection without replying.
    Drop,
    /// Never reply (until faults change).
    Hang,
    /// Close the connection and reboot the device for this long.
    Reboot(Duration),
}

/// The decision for one request: wait `delay`, then do `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Added latency.
    pub delay: Duration,
    /// What to do after the delay.
    pub action: FaultAction,
}

/// A device's faults with their trigger counters.
#[derive(Debug, Clone)]
pub struct FaultState {
    faults: Faults,
    requests: u64,
    writes: u64,
    rng: SimRng,
}

impl FaultState {
    /// Faults with counters at zero; `seed` makes `error_rate` reproducible.
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            faults,
            requests: 0,
            writes: 0,
            rng: SimRng::derive(seed, "faults"),
        }
    }

    /// The faults currently set.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the faults and restarts the trigger counters.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
        self.requests = 0;
        self.writes = 0;
    }

    /// Requests counted since the faults were set.
    pub fn requests_seen(&self) -> u64 {
        self.requests
    }

    /// Whether logins must fail.
    pub fn rejects_auth(&self) -> bool {
        self.faults.reject_auth
    }

    /// Whether the device currently hangs every request.
    pub fn hanging(&self) -> bool {
        self.faults.hang || self.faults.hang_after.is_some_and(|k| self.requests > k)
    }

    /// Counts one request and decides its fate.
    pub fn decide(&mut self, kind: RequestKind) -> Verdict {
        self.requests += 1;
        if kind == RequestKind::Write {
            self.writes += 1;
        }
        let delay = Duration::from_millis(self.faults.latency_ms);
        let verdict = |action| Verdict { delay, action };
        if self.faults.drop_after.is_some_and(|k| self.requests > k) {
            self.faults.drop_after = None;
            return verdict(FaultAction::Drop);
        }
        if self.faults.reboot_after.is_some_and(|k| self.requests > k) {
            self.faults.reboot_after = None;
            let secs = self.faults.reboot_seconds.unwrap_or(DEFAULT_REBOOT_SECONDS);
            return verdict(FaultAction::Reboot(Duration::from_secs(secs)));
        }
        if self.hanging() {
            return verdict(FaultAction::Hang);
        }
        if kind == RequestKind::Write && self.faults.fail_write == Some(self.writes) {
            self.faults.fail_write = None;
            return verdict(FaultAction::Fail);
        }
        if self.faults.error_rate > 0.0 && self.rng.chance(self.faults.error_rate) {
            return verdict(FaultAction::Fail);
        }
        verdict(FaultAction::Proceed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn triggers_fire_once_at_the_chosen_point() {
        let mut s = FaultState::new(
            Faults {
                drop_after: Some(2),
                fail_write: Some(2),
                ..Faults::default()
            },
            1,
        );
        assert_eq!(s.decide(RequestKind::Write).action, FaultAction::Proceed);
        assert_eq!(s.decide(RequestKind::Read).action, FaultAction::Proceed);
        assert_eq!(s.decide(RequestKind::Read).action, FaultAction::Drop);
        assert_eq!(s.decide(RequestKind::Write).action, FaultAction::Fail);
        assert_eq!(s.decide(RequestKind::Write).action, FaultAction::Proceed);
    }

    #[test]
    fn error_rate_is_seeded_and_bounded() {
        let run = |seed| {
            let mut s = FaultState::new(
                Faults {
                    error_rate: 0.3,
                    ..Faults::default()
                },
                seed,
            );
            (0..1000)
                .filter(|_| s.decide(RequestKind::Read).action == FaultAction::Fail)
                .count()
        };
        assert_eq!(run(4), run(4));
        let n = run(4);
        assert!((200..400).contains(&n), "{n} failures of 1000 at rate 0.3");
        assert!(
            Faults {
                error_rate: 1.5,
                ..Faults::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<Faults>(r#"{"latency":5}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `latency`"));
    }
}
