//! Per-device protection around every call: a rate limit, a concurrency cap, a deadline,
//! retries for idempotent reads, and a circuit breaker.
//!
//! The concurrency cap protects the router — RouterOS on a small board slows down badly under
//! parallel API load — and holds for every caller in the process; since a device answers one
//! request at a time per connection, the cap also bounds the request rate by the device's own
//! speed. The rate limit (`governor`, keyed by device) is an optional hard ceiling on top, off by
//! default (`rate_per_second == 0`): any fixed rate either throttles a person on a fast router
//! or is no protection for a slow one (see `docs/drivers.md`). The breaker protects everyone else: after N consecutive availability failures the
//! device is not tried again until a cool-down has passed, then a single probe decides. Writes
//! are never retried: a write that timed out may have been applied.

use std::num::NonZeroU32;
use std::time::Duration;

use domain::DeviceId;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Tunables, from configuration (`ROUTEROS_*`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sustained requests per second per device; 0 = no ceiling (only the concurrency cap).
    pub rate_per_second: u32,
    /// Requests allowed in a burst above the rate (when there is one).
    pub burst: u32,
    /// Calls in flight per device.
    pub concurrency: usize,
    /// Deadline of one call.
    pub timeout: Duration,
    /// Extra attempts for idempotent reads after a transient failure.
    pub read_retries: u32,
    /// First retry delay; doubled each attempt, with jitter.
    pub retry_base: Duration,
    /// Consecutive availability failures that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before letting one probe through.
    pub breaker_cooldown: Duration,
    /// Longest a call waits for the rate limit or the concurrency cap.
    pub queue_timeout: Duration,
    /// The short-lived read cache ([`crate::cache`]); `None` = every read goes to the device
    /// (identical reads in flight at once are still made once).
    pub cache: Option<CacheLimits>,
    /// How long a device's connections (REST keep-alive pool, SSH session) stay open without a
    /// call before they are closed ([`crate::Connections::close_idle`]); the next call opens new
    /// ones. Memory then follows the devices in use, not every device ever contacted.
    pub idle: Duration,
}

/// How long cached reads are served and how many are kept (process-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Age after which a cached answer is no longer served.
    pub ttl: Duration,
    /// Most answers kept; the oldest is dropped first.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_per_second: 0,
            burst: 20,
            concurrency: 4,
            timeout: Duration::from_secs(10),
            read_retries: 2,
            retry_base: Duration::from_millis(200),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            queue_timeout: Duration::from_secs(60),
            cache: None,
            idle: Duration::from_secs(120),
        }
    }
}

/// The process-wide keyed limiter, when a ceiling is configured.
pub(crate) fn rate_limiter(limits: &Limits) -> Option<DefaultKeyedRateLimiter<DeviceId>> {
    let rate = NonZeroU32::new(limits.rate_per_second)?;
    let burst = NonZeroU32::new(limits.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is in flight; everyone else is refused until it reports.
    HalfOpen,
}

/// What the breaker says about a call about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Allowed,
    /// This call is the half-open probe.
    Probe,
    /// Refused; the device may be tried again after this long.
    Refused(Duration),
}

/// A per-device circuit breaker on Tokio time (so tests can pause and advance it).
#[derive(Debug)]
pub(crate) struct Breaker {
    state: Mutex<State>,
    threshold: u32,
    cooldown: Duration,
}

impl Breaker {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            state: Mutex::new(State::Closed { failures: 0 }),
            threshold: limits.breaker_failures.max(1),
            cooldown: limits.breaker_cooldown,
        }
    }

    pub(crate) async fn admit(&self) -> Admission {
        let mut state = self.state.lock().await;
        match *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen;
                    Admission::Probe
                } else {
                    Admission::Refused(until - now)
                }
            }
            State::HalfOpen => Admission::Refused(Duration::ZERO),
        }
    }

    /// Records the outcome of an admitted call. Only availability failures count against the
    /// device; a refusal (not found, invalid request) proves it is answering.
    pub(crate) async fn record(&self, available: bool) {
        let mut state = self.state.lock().await;
        *state = match (*state, available) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Closed { .. } | State::HalfOpen | State::Open { .. }, false) => State::Open {
                until: Instant::now() + self.cooldown,
            },
        };
    }

    pub(crate) async fn is_open(&self) -> bool {
        matches!(
            *self.state.lock().await,
            State::Open { .. } | State::HalfOpen
        )
    }
}

/// Delay before retry `attempt` (1-based): base · 2^(attempt-1), ±50 % jitter.
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(10));
    let jitter = rand::random_range(0.5..1.5);
    exp.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            breaker_failures: 3,
            breaker_cooldown: Duration::from_secs(30),
            ..Limits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_half_opens_after_the_cooldown() {
        let b = Breaker::new(&limits());
        for _ in 0..2 {
            assert_eq!(b.admit().await, Admission::Allowed);
            b.record(false).await;
        }
        assert_eq!(
            b.admit().await,
            Admission::Allowed,
            "two failures: still closed"
        );
        b.record(false).await;
        assert!(matches!(b.admit().await, Admission::Refused(d) if d == Duration::from_secs(30)));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(matches!(b.admit().await, Admission::Refused(_)));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(b.admit().await, Admission::Probe);
        assert!(
            matches!(b.admit().await, Admission::Refused(_)),
            "only one probe"
        );
        b.record(false).await;
        assert!(
            matches!(b.admit().await, Admission::Refused(_)),
            "failed probe reopens"
        );
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(b.admit().await, Admission::Probe);
        b.record(true).await;
        assert_eq!(
            b.admit().await,
            Admission::Allowed,
            "successful probe closes"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_count() {
        let b = Breaker::new(&limits());
        b.record(false).await;
        b.record(false).await;
        b.record(true).await;
        b.record(false).await;
        b.record(false).await;
        assert_eq!(b.admit().await, Admission::Allowed);
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let d = backoff(base, attempt);
            let nominal = base * (1 << (attempt - 1));
            assert!(d >= nominal / 2 && d <= nominal * 3 / 2, "{attempt}: {d:?}");
        }
    }
}
