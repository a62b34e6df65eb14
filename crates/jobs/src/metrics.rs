//! Job metrics, registered into the server's Prometheus registry, each labelled by job kind:
//! `mcp_jobs_claimed_total`, `mcp_jobs_finished_total`, `mcp_jobs_failed_total`,
//! `mcp_jobs_lease_expiries_total` (jobs this instance took over because another instance's
//! lease ran out: that instance died or stalled), `mcp_jobs_leases_lost_total` (jobs this
//! instance stopped because its own lease was taken over or could not be renewed) and the gauge
//! `mcp_jobs_running`.

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct Metrics {
    pub(crate) claimed: IntCounterVec,
    pub(crate) finished: IntCounterVec,
    pub(crate) failed: IntCounterVec,
    pub(crate) lease_expiries: IntCounterVec,
    pub(crate) leases_lost: IntCounterVec,
    pub(crate) running: IntGaugeVec,
}

impl Metrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let counter = |name: &str, help: &str| IntCounterVec::new(Opts::new(name, help), &["kind"]);
        let m = Self {
            claimed: counter(
                "mcp_jobs_claimed_total",
                "Fleet jobs this instance claimed, by kind",
            )?,
            finished: counter(
                "mcp_jobs_finished_total",
                "Fleet job runs that succeeded in this instance, by kind",
            )?,
            failed: counter(
                "mcp_jobs_failed_total",
                "Fleet job runs that failed in this instance (retried with backoff), by kind",
            )?,
            lease_expiries: counter(
                "mcp_jobs_lease_expiries_total",
                "Fleet jobs this instance took over after another instance's lease expired, by kind",
            )?,
            leases_lost: counter(
                "mcp_jobs_leases_lost_total",
                "Fleet job runs this instance stopped because it lost the lease, by kind",
            )?,
            running: IntGaugeVec::new(
                Opts::new(
                    "mcp_jobs_running",
                    "Fleet jobs running in this instance now, by kind",
                ),
                &["kind"],
            )?,
        };
        registry.register(Box::new(m.claimed.clone()))?;
        registry.register(Box::new(m.finished.clone()))?;
        registry.register(Box::new(m.failed.clone()))?;
        registry.register(Box::new(m.lease_expiries.clone()))?;
        registry.register(Box::new(m.leases_lost.clone()))?;
        registry.register(Box::new(m.running.clone()))?;
        Ok(m)
    }

    /// Creates every series of `kind` at zero, so each family is exported from the start.
    pub(crate) fn touch(&self, kind: &str) {
        self.claimed.with_label_values(&[kind]);
        self.finished.with_label_values(&[kind]);
        self.failed.with_label_values(&[kind]);
        self.lease_expiries.with_label_values(&[kind]);
        self.leases_lost.with_label_values(&[kind]);
        self.running.with_label_values(&[kind]);
    }
}
