//! Telling people when something waits for them and when it is decided: a plan waits for
//! approval, a plan was approved, rejected, applied, rolled back or failed, a runbook version
//! waits for review or was reviewed. One webhook (`ROUTEROS_MCP_WEBHOOK_URL`) gets a
//! Slack-compatible JSON message for each ([`event`] says what it contains).
//!
//! Delivery is off the request path. [`Notifier::send`] puts the event in a bounded queue and
//! returns at once; one background task ([`Delivery`]) posts the events in order, one at a time,
//! trying each up to [`Retry::attempts`] times. A receiver that is slow or down therefore never
//! slows an approval or an apply: the queue fills, and once it is full the newest event is
//! dropped with a warning (and counted) rather than waiting. At shutdown the task gets a bounded
//! time to deliver what is queued ([`Delivery::finish`]).
//!
//! The URL is a secret (Slack's embeds the token that lets anyone post to the channel): see
//! [`endpoint`]. Outcomes are counted in `webhook_deliveries_total{event,outcome}`
//! ([`Metrics`]).

mod delivery;
pub mod endpoint;
pub mod event;
mod metrics;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use delivery::Delivery;
pub use endpoint::{Endpoint, EndpointError};
pub use event::{Event, PlanSummary, ReviewDecision};
pub use metrics::{Metrics, Outcome};

/// Events that may wait for delivery at once; one more is dropped.
pub const DEFAULT_QUEUE: usize = 1_000;

/// How hard one notification is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per notification, the first included. Connection errors, timeouts, HTTP 5xx and
    /// 429 are tried again; any other answer ends it.
    pub attempts: u32,
    /// The wait before the second attempt, doubled before each next one.
    pub backoff: Duration,
    /// The longest wait computed by doubling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured: a receiver asking for more is tried again after this.
    pub retry_after_cap: Duration,
    /// Deadline of one attempt: connecting, sending and the answer's status.
    pub timeout: Duration,
}

impl Default for Retry {
    /// 5 attempts, 10 s each, 1 s → 2 s → 4 s → 8 s apart; `Retry-After` up to 60 s.
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// How long to wait after failed attempt number `attempt` (1-based): the doubled backoff,
    /// or longer when the receiver said `Retry-After` (up to the cap).
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let backoff = self
            .backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        match retry_after {
            Some(asked) => backoff.max(asked.min(self.retry_after_cap)),
            None => backoff,
        }
    }
}

/// Where and how notifications are delivered.
#[derive(Debug, Clone)]
pub struct Config {
    pub endpoint: Endpoint,
    /// Queue size ([`DEFAULT_QUEUE`]).
    pub queue: usize,
    pub retry: Retry,
}

impl Config {
    /// The defaults for `endpoint`: a queue of [`DEFAULT_QUEUE`], [`Retry::default`].
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            queue: DEFAULT_QUEUE,
            retry: Retry::default(),
        }
    }
}

/// Why delivery could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The HTTP client could not be built (the trust store for an https webhook, say).
    #[error("the webhook's HTTP client: {0}")]
    Client(String),
}

/// An event waiting in the queue, with when it happened.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) event: Event,
    pub(crate) at: String,
}

/// Hands events to the delivery task. Cheap to clone; every clone feeds the same queue.
#[derive(Clone)]
pub struct Notifier {
    queue: mpsc::Sender<Queued>,
    metrics: Metrics,
    host: Arc<str>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("webhook", &self.host)
            .field("queued", &self.queued())
            .finish()
    }
}

impl Notifier {
    /// Starts the delivery task on the current Tokio runtime. The returned [`Delivery`] stops
    /// it (see [`Delivery::finish`]).
    pub fn start(config: Config, metrics: Metrics) -> Result<(Self, Delivery), StartError> {
        let client = delivery::client(&config.endpoint, config.retry.timeout)?;
        let (queue, receiver) = mpsc::channel(config.queue.max(1));
        let (stop, stopped) = oneshot::channel();
        let host: Arc<str> = Arc::from(config.endpoint.host());
        let poster = delivery::Poster {
            client,
            endpoint: config.endpoint,
            retry: config.retry,
            metrics: metrics.clone(),
        };
        let task = tokio::spawn(delivery::run(receiver, stopped, poster));
        Ok((
            Self {
                queue,
                metrics,
                host,
            },
            Delivery::new(task, stop),
        ))
    }

    /// Queues `event` for delivery and returns at once. When the queue is full, or delivery
    /// has stopped, the event is dropped with a warning and counted
    /// (`webhook_deliveries_total{outcome="dropped"}`).
    pub fn send(&self, event: Event) {
        let kind = event.kind();
        let queued = Queued {
            event,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let why = match self.queue.try_send(queued) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(_)) => format!(
                "the queue is full ({} waiting; is the receiver down or slow?)",
                self.queue.max_capacity()
            ),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                "delivery has stopped (the process is shutting down)".to_owned()
            }
        };
        self.metrics.count(kind, metrics::Outcome::Dropped);
        tracing::warn!(
            event = kind,
            "dropped the {kind} notification to the webhook at {}: {why}",
            self.host
        );
    }

    /// The webhook's host (the most of its URL anything may show).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Events waiting for delivery.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_honour_retry_after_within_its_cap() {
        let r = Retry::default();
        let secs = |n| Duration::from_secs(n);
        assert_eq!(
            (1..=6).map(|a| r.wait(a, None)).collect::<Vec<_>>(),
            [secs(1), secs(2), secs(4), secs(8), secs(16), secs(30)]
        );
        assert_eq!(r.wait(40, None), secs(30), "no overflow");
        assert_eq!(r.wait(1, Some(secs(20))), secs(20));
        assert_eq!(r.wait(1, Some(secs(3600))), secs(60), "capped");
        assert_eq!(
            r.wait(3, Some(secs(1))),
            secs(4),
            "never shorter than the backoff"
        );
    }
}
