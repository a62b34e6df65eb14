//! The simulated clock of one device: wall time, uptime and a time-scale knob.
//!
//! `--time-scale 60` makes one real second a simulated minute, so a scheduler entry with
//! `interval=5m` fires every five real seconds and a test of device-side auto-revert does not
//! wait minutes. Everything time-dependent on a device — `/system/clock`, `uptime`, log
//! timestamps, growing counters, the scheduler, ping pacing — reads this clock.
//!
//! It is built on Tokio's clock, so a test that pauses Tokio time (`tokio::time::pause`) and
//! advances it moves simulated time deterministically.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tokio::time::Instant;

/// A device's clock. Cloning shares it.
#[derive(Debug, Clone)]
pub struct SimClock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Real instant at which `origin_wall_ms` was the simulated wall time.
    origin: Instant,
    /// Simulated wall time (Unix milliseconds) at `origin`.
    origin_wall_ms: i64,
    /// Simulated seconds per real second.
    scale: f64,
    /// Real instant of the last boot; uptime counts from here.
    boot: Mutex<Instant>,
    /// Adjustment made by `/system/clock set` (simulated milliseconds).
    offset_ms: AtomicI64,
}

impl SimClock {
    /// A clock starting at the real current time, running `scale` times faster than real
    /// time. A non-finite or non-positive scale is treated as `1.0` (callers validate input).
    pub fn new(scale: f64) -> Self {
        Self::starting_at(scale, Utc::now())
    }

    /// A clock whose simulated wall time starts at `start`.
    pub fn starting_at(scale: f64, start: DateTime<Utc>) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let now = Instant::now();
        SimClock {
            inner: Arc::new(Inner {
                origin: now,
                origin_wall_ms: start.timestamp_millis(),
                scale,
                boot: Mutex::new(now),
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// Simulated seconds per real second.
    pub fn scale(&self) -> f64 {
        self.inner.scale
    }

    fn sim_ms_since(&self, real: Instant) -> i64 {
        let elapsed = Instant::now().saturating_duration_since(real);
        (elapsed.as_secs_f64() * 1000.0 * self.inner.scale) as i64
    }

    /// The simulated wall time.
    pub fn now(&self) -> DateTime<Utc> {
        let ms = self.inner.origin_wall_ms
            + self.sim_ms_since(self.inner.origin)
            + self.inner.offset_ms.load(Ordering::Relaxed);
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// Simulated time since the last boot.
    pub fn uptime(&self) -> Duration {
        let boot = *self
            .inner
            .boot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = self.sim_ms_since(boot).max(0);
        Duration::from_millis(ms as u64)
    }

    /// The simulated wall time of the last boot.
    pub fn boot_time(&self) -> DateTime<Utc> {
        let up = chrono::Duration::from_std(self.uptime()).unwrap_or_default();
        self.now() - up
    }

    /// Restarts uptime from zero (the device just booted).
    pub fn mark_boot(&self) {
        *self
            .inner
            .boot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    /// Sets the simulated wall time (`/system/clock set time=… date=…`).
    pub fn set_now(&self, t: DateTime<Utc>) {
        let current = self.now().timestamp_millis();
        self.inner
            .offset_ms
            .fetch_add(t.timestamp_millis() - current, Ordering::Relaxed);
    }

    /// The real duration that `sim` simulated time takes.
    pub fn to_real(&self, sim: Duration) -> Duration {
        Duration::from_secs_f64(sim.as_secs_f64() / self.inner.scale)
    }

    /// Sleeps for `sim` simulated time.
    pub async fn sleep(&self, sim: Duration) {
        tokio::time::sleep(self.to_real(sim)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn scale_speeds_up_uptime_and_wall_time() {
        let start = Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let clock = SimClock::starting_at(60.0, start);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(clock.uptime().as_secs(), 120);
        assert_eq!((clock.now() - start).num_seconds(), 120);
        clock.mark_boot();
        assert_eq!(clock.uptime().as_secs(), 0);
        assert_eq!(
            clock.to_real(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
        let later = start + chrono::Duration::days(1);
        clock.set_now(later);
        assert_eq!(clock.now(), later);
    }
}
