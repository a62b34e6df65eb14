//! The per-principal tool-call rate (`MCP_PRINCIPAL_RATE_LIMIT`): one principal — a token's or
//! user's subject, or the stdio user — may make so many tool calls per second in this process,
//! over all its sessions, with a burst of as many. 0 turns the limit off.
//!
//! The limiter is keyed by the principal's name (kind and subject, never a credential). It is
//! rebuilt when a reload changes the rate (buckets start full again), and forgets principals
//! that have been quiet for a while so that many short-lived subjects cannot grow it without
//! bound.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Principals kept before the quiet ones are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// The rate in force and its limiter.
#[derive(Debug, Default)]
pub(crate) struct PrincipalLimits {
    current: Mutex<Option<(u32, Arc<DefaultKeyedRateLimiter<String>>)>>,
}

impl PrincipalLimits {
    /// Takes one call of `principal` at `rate` calls per second: `Err(wait)` when the principal
    /// has none left, with how long until it has one. A rate of 0 allows everything.
    pub(crate) fn take(&self, rate: u32, principal: &str) -> Result<(), Duration> {
        let Some(per_second) = NonZeroU32::new(rate) else {
            return Ok(());
        };
        let limiter = {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            match current.as_ref() {
                Some((r, limiter)) if *r == rate => Arc::clone(limiter),
                Some(_) | None => {
                    let limiter = Arc::new(RateLimiter::keyed(Quota::per_second(per_second)));
                    *current = Some((rate, Arc::clone(&limiter)));
                    limiter
                }
            }
        };
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&principal.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn each_principal_has_its_own_bucket_of_the_configured_size() {
        let limits = PrincipalLimits::default();
        for _ in 0..3 {
            assert!(limits.take(3, "oidc:ana").is_ok());
        }
        let wait = limits.take(3, "oidc:ana").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(
            limits.take(3, "oidc:ben").is_ok(),
            "another principal is not held back"
        );
    }

    #[test]
    fn zero_is_no_limit_and_a_new_rate_starts_afresh() {
        let limits = PrincipalLimits::default();
        for _ in 0..1_000 {
            assert!(limits.take(0, "local:operator").is_ok());
        }
        assert!(limits.take(1, "local:operator").is_ok());
        assert!(limits.take(1, "local:operator").is_err());
        assert!(
            limits.take(2, "local:operator").is_ok(),
            "the reloaded rate has full buckets"
        );
    }
}
