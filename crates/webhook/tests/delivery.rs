//! Delivery against a real HTTP receiver on 127.0.0.1: what is tried again and what is not, the
//! bounded queue, the stop at shutdown, and that the URL — a credential — never reaches a log
//! line, a `Debug` rendering or an error. Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Notify;
use webhook::{Config, Endpoint, Event, Metrics, Notifier, Outcome, PlanSummary, Retry};

/// The secret part of every test URL: it must never be seen outside the request.
const SECRET: &str = "T0WEBHOOK/B0WEBHOOK/xoxSecretMarker42";

/// Longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(20);

/// What the receiver answers, in order; after the script, 200.
#[derive(Clone)]
enum Answer {
    Status(u16),
    /// 429 with `Retry-After: N`.
    TooMany(u64),
    /// Answers 200 only after this long (longer than an attempt may take).
    Slow(Duration),
    /// Answers 200 once the test opens the gate.
    Gate(Arc<Notify>),
}

#[derive(Default)]
struct Seen {
    /// Bodies received, each with its path.
    requests: Vec<(String, Value)>,
}

#[derive(Clone)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Answer>>>,
    seen: Arc<Mutex<Seen>>,
    arrived: Arc<Notify>,
}

async fn receive(
    State(r): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let value: Value = serde_json::from_str(&body).expect("the body is JSON");
    r.seen
        .lock()
        .unwrap()
        .requests
        .push((uri.path().to_owned(), value));
    r.arrived.notify_waiters();
    let answer = r.script.lock().unwrap().pop_front();
    match answer {
        None => StatusCode::OK.into_response(),
        Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Answer::TooMany(secs)) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
        )
            .into_response(),
        Some(Answer::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK.into_response()
        }
        Some(Answer::Gate(gate)) => {
            gate.notified().await;
            StatusCode::OK.into_response()
        }
    }
}

impl Receiver {
    /// A receiver on a free loopback port answering `script`; its webhook URL.
    async fn start(script: Vec<Answer>) -> (Self, String) {
        let r = Receiver {
            script: Arc::new(Mutex::new(script.into())),
            seen: Arc::default(),
            arrived: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, format!("http://{addr}/services/{SECRET}"))
    }

    fn requests(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().requests.clone()
    }

    /// Waits until `n` requests arrived.
    async fn until(&self, n: usize) -> Vec<(String, Value)> {
        tokio::time::timeout(BOUND, async {
            loop {
                let arrived = self.arrived.notified();
                let got = self.requests();
                if got.len() >= n {
                    return got;
                }
                arrived.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{n} request(s) within {BOUND:?}; got {}",
                self.requests().len()
            )
        })
    }
}

/// Short waits: the doubling and the caps are what is tested, not their size.
fn quick() -> Retry {
    Retry {
        attempts: 5,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        retry_after_cap: Duration::from_secs(2),
        timeout: Duration::from_secs(2),
    }
}

fn start(url: &str, queue: usize, retry: Retry) -> (Notifier, webhook::Delivery, Metrics) {
    logs();
    let metrics = Metrics::register(&prometheus::Registry::new()).unwrap();
    let endpoint = Endpoint::parse(url.to_owned().into()).unwrap();
    let (notifier, delivery) = Notifier::start(
        Config {
            endpoint,
            queue,
            retry,
        },
        metrics.clone(),
    )
    .unwrap();
    (notifier, delivery, metrics)
}

fn approved(id: &str) -> Event {
    Event::PlanApproved {
        plan: PlanSummary {
            id: id.into(),
            title: "block a test net".into(),
            project: "default/default".into(),
            risk: "medium".into(),
            devices: vec!["r1".into()],
            changes: 1,
        },
        by: "cli:alice".into(),
        reason: None,
    }
}

/// Waits until the counter for `plan.approved` with `outcome` reaches `n`.
async fn counted(metrics: &Metrics, outcome: Outcome, n: u64) {
    tokio::time::timeout(BOUND, async {
        while metrics.total("plan.approved", outcome) < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{n} {outcome:?} within {BOUND:?}; got {}",
            metrics.total("plan.approved", outcome)
        )
    });
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_attempt() {
    let (receiver, url) = Receiver::start(vec![Answer::Status(500), Answer::Status(503)]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Delivered, 1).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3, "two failures, then delivered");
    assert!(
        requests.iter().all(|r| r == &requests[0]),
        "the same payload each time"
    );
    assert_eq!(requests[0].0, format!("/services/{SECRET}"));
    let body = &requests[0].1;
    assert_eq!(body["event"]["kind"], "plan.approved");
    assert_eq!(body["event"]["plan_id"], "p1");
    assert_eq!(body["event"]["decided_by"], "cli:alice");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("Plan p1 was approved")
    );
    assert_eq!(metrics.total("plan.approved", Outcome::Failed), 0);
    delivery.finish(BOUND).await;
}

#[tokio::test]
async fn a_client_error_is_not_tried_again() {
    let (receiver, url) = Receiver::start(vec![Answer::Status(400), Answer::Status(404)]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Failed, 1).await;
    // Longer than every backoff together: a retry would have arrived by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 1);
    // The next event is tried on its own (and refused on its own).
    notifier.send(approved("p2"));
    counted(&metrics, Outcome::Failed, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 2);
    assert_eq!(metrics.total("plan.approved", Outcome::Delivered), 0);
    delivery.finish(BOUND).await;
}

#[tokio::test]
async fn five_attempts_at_most_then_failed() {
    let (receiver, url) = Receiver::start(vec![Answer::Status(500); 10]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Failed, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 5);
    delivery.finish(BOUND).await;
}

#[tokio::test]
async fn too_many_requests_waits_as_long_as_the_receiver_asks() {
    let (receiver, url) = Receiver::start(vec![Answer::TooMany(1)]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    let sent = std::time::Instant::now();
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Delivered, 1).await;
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 honoured over a 10 ms backoff; took {took:?}"
    );
    assert_eq!(receiver.requests().len(), 2);

    // One asking for an hour is tried again after the cap.
    let (receiver, url) = Receiver::start(vec![Answer::TooMany(3600)]).await;
    let retry = Retry {
        retry_after_cap: Duration::from_millis(200),
        ..quick()
    };
    let (notifier, delivery2, metrics) = start(&url, 10, retry);
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Delivered, 1).await;
    assert_eq!(receiver.requests().len(), 2);
    delivery.finish(BOUND).await;
    delivery2.finish(BOUND).await;
}

#[tokio::test]
async fn timeouts_and_connection_errors_are_tried_again() {
    let (receiver, url) = Receiver::start(vec![Answer::Slow(Duration::from_secs(3))]).await;
    let retry = Retry {
        timeout: Duration::from_millis(300),
        ..quick()
    };
    let (notifier, delivery, metrics) = start(&url, 10, retry.clone());
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Delivered, 1).await;
    assert_eq!(
        receiver.requests().len(),
        2,
        "the slow answer, then the retry"
    );
    delivery.finish(BOUND).await;

    // Nothing listens on this port: every attempt fails to connect.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (notifier, delivery, metrics) = start(
        &format!("http://127.0.0.1:{port}/services/{SECRET}"),
        10,
        retry,
    );
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Failed, 1).await;
    let text = captured();
    assert!(
        text.contains("was not delivered after 5 attempt(s); the last: cannot connect"),
        "{text}"
    );
    delivery.finish(BOUND).await;
}

#[tokio::test]
async fn a_full_queue_drops_the_newest_and_says_so() {
    let gate = Arc::new(Notify::new());
    let (receiver, url) = Receiver::start(vec![Answer::Gate(Arc::clone(&gate))]).await;
    let (notifier, delivery, metrics) = start(&url, 1, quick());
    notifier.send(approved("first"));
    // The first is in flight (the receiver holds it); the queue holds one more.
    receiver.until(1).await;
    notifier.send(approved("second"));
    assert_eq!(notifier.queued(), 1);
    notifier.send(approved("third"));
    assert_eq!(metrics.total("plan.approved", Outcome::Dropped), 1);
    assert!(captured().contains(
        "dropped the plan.approved notification to the webhook at 127.0.0.1: the queue is full (1 waiting"
    ));
    gate.notify_one();
    counted(&metrics, Outcome::Delivered, 2).await;
    let ids: Vec<Value> = receiver
        .requests()
        .iter()
        .map(|(_, b)| b["event"]["plan_id"].clone())
        .collect();
    assert_eq!(ids, ["first", "second"], "in order; the newest was dropped");
    delivery.finish(BOUND).await;
}

#[tokio::test]
async fn finishing_delivers_what_is_queued_and_gives_up_at_the_deadline() {
    let (receiver, url) = Receiver::start(vec![]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    for i in 0..3 {
        notifier.send(approved(&format!("p{i}")));
    }
    delivery.finish(BOUND).await;
    assert_eq!(metrics.total("plan.approved", Outcome::Delivered), 3);
    assert_eq!(receiver.requests().len(), 3);
    // Stopped: a late event is dropped, not queued forever.
    notifier.send(approved("late"));
    assert_eq!(metrics.total("plan.approved", Outcome::Dropped), 1);

    // A receiver that keeps failing, with long backoffs: the deadline ends it.
    let (_receiver, url) = Receiver::start(vec![Answer::Status(500); 10]).await;
    let slow = Retry {
        backoff: Duration::from_secs(30),
        max_backoff: Duration::from_secs(30),
        ..quick()
    };
    let (notifier, delivery, metrics) = start(&url, 10, slow);
    notifier.send(approved("a"));
    notifier.send(approved("b"));
    let started = std::time::Instant::now();
    delivery.finish(Duration::from_millis(300)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(metrics.total("plan.approved", Outcome::Dropped), 2);
    assert!(captured().contains("gave up on 2 notification(s) to the webhook at 127.0.0.1"));
}

#[tokio::test]
async fn an_insecure_url_is_refused_without_quoting_it() {
    let err = Endpoint::parse(format!("http://hooks.example.com/services/{SECRET}").into())
        .expect_err("plain http to another host");
    let text = err.to_string();
    assert!(text.contains("hooks.example.com"), "{text}");
    assert!(text.contains("https://"), "{text}");
    assert!(!text.contains(SECRET) && !format!("{err:?}").contains(SECRET));
}

#[tokio::test]
async fn the_url_never_reaches_a_log_line_or_debug() {
    // Failures of every kind, each logged: refused, out of attempts, dropped.
    let (_receiver, url) = Receiver::start(vec![Answer::Status(502), Answer::Status(401)]).await;
    let (notifier, delivery, metrics) = start(&url, 10, quick());
    notifier.send(approved("p1"));
    counted(&metrics, Outcome::Failed, 1).await;
    let shown = format!(
        "{notifier:?} {delivery:?} {:?} {:?}",
        Endpoint::parse(url.clone().into()).unwrap(),
        Config::new(Endpoint::parse(url.clone().into()).unwrap())
    );
    delivery.finish(BOUND).await;
    notifier.send(approved("after"));
    assert!(
        !shown.contains(SECRET) && !shown.contains("/services"),
        "{shown}"
    );
    assert!(shown.contains("127.0.0.1"), "{shown}");
    let text = captured();
    assert!(
        text.contains("refused the plan.approved notification (HTTP 401)"),
        "{text}"
    );
    assert!(text.contains("the webhook at 127.0.0.1"), "{text}");
    assert!(
        !text.contains(SECRET) && !text.contains("/services/"),
        "{text}"
    );
}

// ---- every log line of this test binary, at trace -------------------------------------------

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&buffer);
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || Capture(Arc::clone(&sink)))
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this test binary");
            buffer
        })
        .clone()
}

/// Everything logged so far, by every test of this binary (they share the URL's secret part).
fn captured() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}
