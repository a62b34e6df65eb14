//! People are told on the webhook when a plan waits for them and when it is decided and ends:
//! the real engine over simulated routers, posting to a real HTTP receiver on 127.0.0.1. Each
//! event is sent once, from the engine, whichever caller moved the plan, and never carries an
//! approval token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use domain::Environment;
use routeros_sim::profiles::Profile;
use serde_json::Value;
use store::AuditContext;
use store::testing::TestDatabase;
use support::{Lab, dns_add, identity, quick_config};
use workflow::{DeviceRequest, PlanRequest, PlanStatus, WorkflowConfig};

/// Longest any wait for a notification may take.
const BOUND: Duration = Duration::from_secs(20);

/// What the receiver got, in order.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    /// A receiver on a free loopback port answering 200; its URL.
    async fn start() -> (Self, String) {
        let received = Received::default();
        let app = axum::Router::new()
            .route(
                "/hooks/{*rest}",
                axum::routing::post(
                    |State(r): State<Received>, body: axum::Json<Value>| async move {
                        r.0.lock().unwrap().push(body.0);
                    },
                ),
            )
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (received, format!("http://{addr}/hooks/T0/B0/secret-part"))
    }

    /// The events received so far (their `event` objects).
    fn events(&self) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["event"].clone())
            .collect()
    }

    /// Waits until `n` events arrived, then a little longer to see that no more come.
    async fn exactly(&self, n: usize) -> Vec<Value> {
        tokio::time::timeout(BOUND, async {
            while self.events().len() < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} event(s) within {BOUND:?}: {:?}", self.events()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let events = self.events();
        assert_eq!(events.len(), n, "{events:#?}");
        events
    }

    /// Every body received, as text.
    fn text(&self) -> String {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A lab whose routers are in `env`, with an engine that notifies `url`.
async fn lab(env: Environment, url: &str) -> (Lab, webhook::Delivery) {
    let endpoint = webhook::Endpoint::parse(url.to_owned().into()).unwrap();
    let metrics = webhook::Metrics::register(&prometheus::Registry::new()).unwrap();
    let (notifier, delivery) =
        webhook::Notifier::start(webhook::Config::new(endpoint), metrics).unwrap();
    let config = WorkflowConfig {
        notifier: Some(notifier),
        ..quick_config()
    };
    let lab = Lab::start_with(&[Profile::Home], TestDatabase::sqlite(), config, env).await;
    (lab, delivery)
}

fn request(title: &str, change: workflow::ChangeRequest) -> PlanRequest {
    PlanRequest {
        title: title.into(),
        tool: "test".into(),
        devices: vec![DeviceRequest {
            device: "r1".into(),
            changes: vec![change],
        }],
    }
}

/// Every key anywhere in a JSON value.
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_waiting_for_a_person_is_announced_once_then_its_decision_and_its_end() {
    let (received, url) = Received::start().await;
    // Staging: nothing is approved by policy.
    let (lab, delivery) = lab(Environment::Staging, &url).await;
    let wf = &lab.workflow;

    let p = wf
        .propose(
            &request("add a.lan", dns_add("a.lan", "10.0.0.1")),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert!(p.auto_approval.is_none());
    let id = p.plan.id.clone();
    let events = received.exactly(1).await;
    let waiting = &events[0];
    assert_eq!(waiting["kind"], "plan.awaiting_approval");
    assert_eq!(waiting["plan_id"], id.as_str());
    assert_eq!(waiting["title"], "add a.lan");
    assert_eq!(waiting["project"], "default/default");
    assert_eq!(waiting["risk"], "low");
    assert_eq!(waiting["devices"], serde_json::json!(["r1"]));
    assert_eq!(waiting["changes"], 1);
    assert_eq!(
        waiting["approve_command"],
        format!("routeros-mcp plan approve {id}")
    );
    let mut all = Vec::new();
    keys(&received.0.lock().unwrap()[0], &mut all);
    assert!(
        !all.iter().any(|k| k.contains("token")),
        "no token field: {all:?}"
    );

    // A person approves (with a comment), the plan is applied.
    let approval = wf
        .approve_with_comment(
            &id,
            "cli:alice",
            workflow::ApprovalVia::Cli,
            Some("in the change window"),
            &AuditContext::new("cli:alice"),
        )
        .await
        .unwrap();
    let events = received.exactly(2).await;
    assert_eq!(events[1]["kind"], "plan.approved");
    assert_eq!(events[1]["plan_id"], id.as_str());
    assert_eq!(events[1]["decided_by"], "cli:alice");
    assert_eq!(events[1]["reason"], "in the change window");
    let report = wf
        .apply(&id, &approval.approval_token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied);
    let events = received.exactly(3).await;
    assert_eq!(events[2]["kind"], "plan.applied");
    assert_eq!(events[2]["message"], report.message.as_str());

    // Another is rejected; a third is cancelled by whoever proposed it (nobody is told).
    let rejected = wf
        .propose(
            &request("add b.lan", dns_add("b.lan", "10.0.0.2")),
            &lab.ctx(),
        )
        .await
        .unwrap();
    wf.reject(
        &rejected.plan.id,
        "cli:bob",
        "not today",
        &AuditContext::new("cli:bob"),
    )
    .await
    .unwrap();
    let cancelled = wf
        .propose(
            &request("add c.lan", dns_add("c.lan", "10.0.0.3")),
            &lab.ctx(),
        )
        .await
        .unwrap();
    wf.cancel(&cancelled.plan.id, &lab.ctx()).await.unwrap();
    let events = received.exactly(6).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "plan.awaiting_approval",
            "plan.approved",
            "plan.applied",
            "plan.awaiting_approval",
            "plan.rejected",
            "plan.awaiting_approval"
        ]
    );
    assert_eq!(events[4]["plan_id"], rejected.plan.id.as_str());
    assert_eq!(events[4]["decided_by"], "cli:bob");
    assert_eq!(events[4]["reason"], "not today");

    // Never the token, nor the webhook's own URL.
    let text = received.text();
    assert!(!text.contains(&approval.approval_token), "{text}");
    assert!(!text.contains("secret-part"), "{text}");
    delivery.finish(BOUND).await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_approved_by_policy_is_announced_as_approved_and_its_rollback_as_such() {
    let (received, url) = Received::start().await;
    // Lab: low risk is approved by policy as it is proposed.
    let (lab, delivery) = lab(Environment::Lab, &url).await;
    let p = lab
        .workflow
        .propose(&request("rename r1", identity("edge-7")), &lab.ctx())
        .await
        .unwrap();
    let token = p.auto_approval.unwrap().approval_token;
    let events = received.exactly(1).await;
    assert_eq!(events[0]["kind"], "plan.approved", "nobody waits for it");
    assert_eq!(events[0]["decided_by"], "policy:auto-approve-low-lab");

    // Someone renames the router by hand in between: the apply refuses and nothing changes.
    let identity_menu = routeros_sim::model::menu("/system/identity").unwrap();
    lab.sim("r1")
        .write_state(|s| s.set(identity_menu, None, &[("name", "renamed-by-hand")]))
        .unwrap();
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack);
    let events = received.exactly(2).await;
    assert_eq!(events[1]["kind"], "plan.rolled_back");
    assert_eq!(events[1]["plan_id"], p.plan.id.as_str());
    assert_eq!(events[1]["message"], report.message.as_str());
    delivery.finish(BOUND).await;
    lab.stop().await;
}
