//! Driver metrics, registered into the caller's Prometheus registry.
//!
//! Names follow the operations document: `routeros_api_requests_total{device_id,driver,status}`,
//! `routeros_api_errors_total{device_id,kind}`, `routeros_api_latency_seconds{driver}` and
//! `routeros_device_reachable{device_id}`. Latency is not labelled per device, so a fleet of
//! thousands does not become thousands of histograms.

use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The driver metric families.
#[derive(Debug, Clone)]
pub struct Metrics {
    pub requests: IntCounterVec,
    pub errors: IntCounterVec,
    pub latency: HistogramVec,
    pub reachable: GaugeVec,
}

impl Metrics {
    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self::unregistered()?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.errors.clone()))?;
        registry.register(Box::new(m.latency.clone()))?;
        registry.register(Box::new(m.reachable.clone()))?;
        Ok(m)
    }

    /// Families not attached to any registry (tests, tools that do not export metrics).
    pub fn unregistered() -> Result<Self, prometheus::Error> {
        Ok(Self {
            requests: IntCounterVec::new(
                Opts::new(
                    "routeros_api_requests_total",
                    "Calls made to RouterOS devices",
                ),
                &["device_id", "driver", "status"],
            )?,
            errors: IntCounterVec::new(
                Opts::new(
                    "routeros_api_errors_total",
                    "Failed calls to RouterOS devices, by kind",
                ),
                &["device_id", "kind"],
            )?,
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "routeros_api_latency_seconds",
                    "Latency of calls to RouterOS devices",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["driver"],
            )?,
            reachable: GaugeVec::new(
                Opts::new(
                    "routeros_device_reachable",
                    "1 when the last call reached the device, 0 when it did not",
                ),
                &["device_id"],
            )?,
        })
    }
}
