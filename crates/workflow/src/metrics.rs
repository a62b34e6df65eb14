//! Workflow metrics, registered into the server's Prometheus registry: `mcp_plans_total{status}`,
//! `mcp_rollbacks_triggered_total{reason}`, `mcp_plan_apply_duration_seconds`.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

#[derive(Debug, Clone)]
pub struct Metrics {
    pub(crate) plans: IntCounterVec,
    pub(crate) rollbacks: IntCounterVec,
    pub(crate) apply_duration: Histogram,
}

impl Metrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            plans: IntCounterVec::new(
                Opts::new(
                    "mcp_plans_total",
                    "Plans by the status they reached (pending when proposed, then approved, applied, rolled_back, failed, rejected, cancelled)",
                ),
                &["status"],
            )?,
            rollbacks: IntCounterVec::new(
                Opts::new(
                    "mcp_rollbacks_triggered_total",
                    "Rollbacks started while applying, by reason",
                ),
                &["reason"],
            )?,
            apply_duration: Histogram::with_opts(
                HistogramOpts::new(
                    "mcp_plan_apply_duration_seconds",
                    "Wall time of plan applies, from the token check to the final status",
                )
                .buckets(vec![
                    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
                ]),
            )?,
        };
        registry.register(Box::new(m.plans.clone()))?;
        registry.register(Box::new(m.rollbacks.clone()))?;
        registry.register(Box::new(m.apply_duration.clone()))?;
        Ok(m)
    }
}
