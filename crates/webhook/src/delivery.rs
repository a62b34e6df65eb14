//! The delivery task: takes queued events in order and posts each to the webhook, trying again
//! on what may pass (a connection error, a timeout, HTTP 5xx, HTTP 429 with its `Retry-After`)
//! and giving up on what will not (any other 4xx: the receiver refuses this payload or this
//! URL, and asking again changes nothing).
//!
//! What it logs names the event kind, the attempt and the receiver's host — never the URL,
//! which is a credential. Errors from the HTTP client are stripped of the URL before they are
//! put into words.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::metrics::Outcome;
use crate::{Endpoint, Metrics, Queued, Retry, StartError};

/// The running delivery task. [`Delivery::finish`] stops it; dropping this handle stops it too,
/// giving up on whatever is still queued.
#[derive(Debug)]
pub struct Delivery {
    task: JoinHandle<()>,
    stop: Option<oneshot::Sender<Instant>>,
}

impl Delivery {
    pub(crate) fn new(task: JoinHandle<()>, stop: oneshot::Sender<Instant>) -> Self {
        Self {
            task,
            stop: Some(stop),
        }
    }

    /// Stops taking events and delivers those already queued — retries included — for up to
    /// `within`. What is still undelivered then is given up (logged once, counted as dropped).
    /// Returns when the task has ended.
    pub async fn finish(mut self, within: Duration) {
        let deadline = Instant::now() + within;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(deadline);
        }
        // The task ends by the deadline by itself; the margin only guards against a bug there.
        let task = &mut self.task;
        if tokio::time::timeout_at(deadline + Duration::from_secs(5), task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

/// Posts one event after another.
pub(crate) struct Poster {
    pub(crate) client: reqwest::Client,
    pub(crate) endpoint: Endpoint,
    pub(crate) retry: Retry,
    pub(crate) metrics: Metrics,
}

/// The task: events in order until stopped, then what is queued until the deadline (the one
/// in flight when the stop came included).
pub(crate) async fn run(
    mut queue: mpsc::Receiver<Queued>,
    mut stop: oneshot::Receiver<Instant>,
    poster: Poster,
) {
    let mut deadline: Option<Instant> = None;
    // A dropped handle is a stop with no time left.
    let stopping = |asked: Result<Instant, _>, queue: &mut mpsc::Receiver<Queued>| {
        queue.close();
        asked.unwrap_or_else(|_| Instant::now())
    };
    loop {
        let next = match deadline {
            Some(_) => queue.recv().await,
            None => tokio::select! {
                asked = &mut stop => {
                    deadline = Some(stopping(asked, &mut queue));
                    continue;
                }
                next = queue.recv() => next,
            },
        };
        let Some(queued) = next else {
            break;
        };
        let mut delivery = std::pin::pin!(poster.deliver(&queued));
        let done = match deadline {
            Some(at) => tokio::time::timeout_at(at, &mut delivery).await.is_ok(),
            None => tokio::select! {
                () = &mut delivery => true,
                asked = &mut stop => {
                    let at = stopping(asked, &mut queue);
                    deadline = Some(at);
                    tokio::time::timeout_at(at, &mut delivery).await.is_ok()
                }
            },
        };
        if !done {
            let mut left = 1;
            poster.metrics.count(queued.event.kind(), Outcome::Dropped);
            while let Some(q) = queue.recv().await {
                left += 1;
                poster.metrics.count(q.event.kind(), Outcome::Dropped);
            }
            tracing::warn!(
                undelivered = left,
                "gave up on {left} notification(s) to the webhook at {}: the time to deliver \
                 them before exit ran out",
                poster.endpoint.host()
            );
            break;
        }
    }
}

/// What one attempt came to.
enum Verdict {
    Delivered,
    /// Tried again after the backoff, or at least the receiver's `Retry-After`.
    Retry {
        why: String,
        retry_after: Option<Duration>,
    },
    /// Not tried again.
    Refused(String),
}

impl Poster {
    /// Posts `queued` until it is delivered, refused, or out of attempts; counts and logs how
    /// it ended.
    async fn deliver(&self, queued: &Queued) {
        let kind = queued.event.kind();
        let host = self.endpoint.host();
        let body = queued.event.payload(&queued.at).to_string();
        let mut attempt = 1;
        loop {
            match self.attempt(&body).await {
                Verdict::Delivered => {
                    self.metrics.count(kind, Outcome::Delivered);
                    tracing::debug!(
                        event = kind,
                        attempt,
                        "delivered the {kind} notification to the webhook at {host}"
                    );
                    return;
                }
                Verdict::Refused(why) => {
                    self.metrics.count(kind, Outcome::Failed);
                    tracing::warn!(
                        event = kind,
                        attempt,
                        "the webhook at {host} refused the {kind} notification ({why}); not \
                         tried again: check ROUTEROS_MCP_WEBHOOK_URL and the receiver"
                    );
                    return;
                }
                Verdict::Retry { why, retry_after } => {
                    if attempt >= self.retry.attempts {
                        self.metrics.count(kind, Outcome::Failed);
                        tracing::warn!(
                            event = kind,
                            attempt,
                            "the {kind} notification to the webhook at {host} was not delivered \
                             after {attempt} attempt(s); the last: {why}"
                        );
                        return;
                    }
                    let wait = self.retry.wait(attempt, retry_after);
                    tracing::debug!(
                        event = kind,
                        attempt,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "the {kind} notification to the webhook at {host} will be tried again: {why}"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, body: &str) -> Verdict {
        let sent = self
            .client
            .post(self.endpoint.expose())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_builder() || e.is_redirect() => {
                return Verdict::Refused(describe(e, self.retry.timeout));
            }
            Err(e) => {
                return Verdict::Retry {
                    why: describe(e, self.retry.timeout),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let shown = format!("HTTP {}", status.as_u16());
        if status.is_success() {
            Verdict::Delivered
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Verdict::Retry {
                why: shown,
                retry_after: retry_after(response.headers()),
            }
        } else {
            // 3xx too: redirects are not followed (the payload goes where it was configured to
            // go, or nowhere).
            Verdict::Refused(shown)
        }
    }
}

/// An HTTP client error in words, without the URL it was about.
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut out = if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let ahead = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(ahead.to_std().unwrap_or(Duration::ZERO))
}

/// A client with the `ring` TLS provider and the operating system's trust store, no redirects,
/// and every attempt bounded by `timeout`.
pub(crate) fn client(
    endpoint: &Endpoint,
    timeout: Duration,
) -> Result<reqwest::Client, StartError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Client(format!("TLS configuration: {e}")))?;
    let tls = match rustls_platform_verifier::Verifier::new(provider) {
        Ok(verifier) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
        Err(e) if endpoint.is_https() => {
            return Err(StartError::Client(format!(
                "the operating system's trusted certificates could not be loaded: {e}"
            )));
        }
        // Plain HTTP to this machine needs no trust store.
        Err(_) => builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("routeros-mcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartError::Client(describe(e, timeout)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO), "a date in the past");
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&soon).unwrap());
        let got = retry_after(&h).unwrap();
        assert!(
            got > Duration::from_secs(100) && got <= Duration::from_secs(120),
            "{got:?}"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
