//! `webhook_deliveries_total{event,outcome}`: how each notification ended, by event kind.
//! `delivered` (the receiver answered 2xx), `failed` (refused, or every attempt failed),
//! `dropped` (the queue was full, or the process stopped before it could be delivered).

use prometheus::{IntCounterVec, Opts, Registry};

/// How a notification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
    Dropped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }
}

/// The delivery counter, registered in the server's registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    deliveries: IntCounterVec,
}

impl Metrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook notifications by event kind and how they ended (delivered, failed after \
                 retries or refused, dropped because the queue was full or the process stopped first)",
            ),
            &["event", "outcome"],
        )?;
        registry.register(Box::new(deliveries.clone()))?;
        Ok(Self { deliveries })
    }

    pub(crate) fn count(&self, event: &str, outcome: Outcome) {
        self.deliveries
            .with_label_values(&[event, outcome.as_str()])
            .inc();
    }

    /// Notifications of `event` that ended with `outcome` so far.
    pub fn total(&self, event: &str, outcome: Outcome) -> u64 {
        self.deliveries
            .with_label_values(&[event, outcome.as_str()])
            .get()
    }
}
