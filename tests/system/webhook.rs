//! The webhook through the real binaries: `serve` tells the receiver when a plan waits for a
//! person, the CLI tells it when the person approved (before the command exits), `serve` when
//! the plan was applied — and the URL, a credential, is in no log line of either, even at
//! trace. A URL that would send plan details in clear over the network stops `serve` and fails
//! `check`, naming the setting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{STEP, World};

/// The secret part of the webhook URL.
const SECRET: &str = "T0SYSTEM/B0SYSTEM/xoxSystemSecret17";

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

impl Received {
    async fn start() -> (Self, String) {
        let received = Received::default();
        let app = axum::Router::new()
            .route(
                "/services/{*rest}",
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
        (received, format!("http://{addr}/services/{SECRET}"))
    }

    fn bodies(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` notifications arrived.
    async fn until(&self, n: usize) -> Vec<Value> {
        tokio::time::timeout(STEP, async {
            while self.bodies().len() < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{n} notification(s): {:?}", self.bodies()));
        self.bodies()
    }
}

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

async fn run(world: &World, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let child = world
        .command(args, env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::timeout(STEP, child.wait_with_output())
        .await
        .expect("the command finishes")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_told_what_waits_for_them_and_how_it_ended() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let (received, url) = Received::start().await;
    let env = [
        ("ROUTEROS_MCP_WEBHOOK_URL", url.as_str()),
        ("LOG_LEVEL", "trace"),
    ];
    let client = world.stdio(&env).await;

    // Medium risk waits for a person: exactly one notification says so.
    let plan = client
        .ok(
            "plan.create",
            json!({"title": "block a test net", "changes": [{
                "device_id": device, "menu": "ip/firewall/filter", "action": "add",
                "properties": {"chain": "forward", "action": "drop", "src-address": "198.51.100.0/24"}
            }]}),
        )
        .await;
    assert_eq!(plan["status"], "pending");
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let bodies = received.until(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received.bodies().len(), 1, "{:?}", received.bodies());
    let waiting = &bodies[0]["event"];
    assert_eq!(waiting["kind"], "plan.awaiting_approval");
    assert_eq!(waiting["plan_id"], id.as_str());
    assert_eq!(waiting["risk"], "medium");
    assert_eq!(waiting["devices"], json!([device]));
    assert_eq!(
        waiting["approve_command"],
        format!("routeros-mcp plan approve {id}")
    );
    let text = bodies[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("routeros-mcp plan approve {id}")),
        "{text}"
    );
    let mut all = Vec::new();
    keys(&bodies[0], &mut all);
    assert!(!all.iter().any(|k| k.contains("token")), "{all:?}");

    // The operator approves on the command line: the notification is delivered before the
    // command exits.
    let approved = run(&world, &["plan", "approve", &id, "--output", "json"], &env).await;
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    let token = serde_json::from_slice::<Value>(&approved.stdout).unwrap()["approval_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bodies = received.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[1]["event"]["kind"], "plan.approved");
    assert_eq!(bodies[1]["event"]["plan_id"], id.as_str());
    assert!(
        bodies[1]["event"]["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("cli:")
    );

    let applied = client
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let bodies = received.until(3).await;
    assert_eq!(bodies[2]["event"]["kind"], "plan.applied");
    let log = client.log.clone();
    client.close().await;

    let sent = serde_json::to_string(&received.bodies()).unwrap();
    assert!(
        !sent.contains(&token),
        "no approval token in a notification"
    );
    let logs = format!(
        "{}\n{}\n{}",
        log.text(),
        String::from_utf8_lossy(&approved.stderr),
        String::from_utf8_lossy(&approved.stdout)
    );
    assert!(
        log.text().contains("notifying the webhook at 127.0.0.1"),
        "{}",
        log.text()
    );
    assert!(
        !logs.contains(SECRET) && !logs.contains("/services/"),
        "{logs}"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_in_clear_over_the_network_is_refused_at_start() {
    let world = World::start(&[Profile::Home]).await;
    let url = format!("http://hooks.example.com/services/{SECRET}");
    let env = [("ROUTEROS_MCP_WEBHOOK_URL", url.as_str())];

    let serve = run(&world, &["serve", "--transport", "stdio"], &env).await;
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(serve.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ROUTEROS_MCP_WEBHOOK_URL: the webhook URL is http:// to hooks.example.com; it must be an https:// URL, or http:// only to a loopback address"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "{stderr}");

    let check = run(&world, &["check"], &env).await;
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(3), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("webhook") && l.contains("FAIL") && l.contains("https://")),
        "{stdout}"
    );
    assert!(!stdout.contains(SECRET), "{stdout}");

    // Unset, `check` says nobody is notified.
    let check = world.cli(&["check"]).await;
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("off: ROUTEROS_MCP_WEBHOOK_URL is unset"),
        "{stdout}"
    );
    world.stop().await;
}

/// A runbook whose second step points at a field the first step's result lacks.
const GAP: &str = "---\nname: hook-gap\ntitle: Hook gap\ndescription: Reads the overview twice.\nversion: 1.0.0\nstatus: published\ntags: [sample]\ntier: free\nrisk: high\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nSomething looks wrong.\n\n## Diagnosis\n1. Read the overview.\n```tool system.get_overview\n{\"device_id\": \"{var.device}\"}\n```\n2. Read it again by its name.\n```tool system.get_overview\n{\"device_id\": \"{step.1./no_such_field}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposed_runbook_version_is_announced_for_review() {
    let world = World::start(&[Profile::Home]).await;
    let (received, url) = Received::start().await;
    let dir = world.dir.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hook-gap.md"), GAP).unwrap();
    let client = world
        .stdio(&[
            ("ROUTEROS_MCP_WEBHOOK_URL", url.as_str()),
            ("ROUTEROS_MCP_RUNBOOK_DIR", dir.to_str().unwrap()),
        ])
        .await;
    let failed = client
        .ok(
            "runbook.run",
            json!({"runbook": "hook-gap", "variables": {"device": world.names[0]}}),
        )
        .await;
    assert_eq!(
        failed["failure"]["type"], "runbook_insufficient",
        "{failed}"
    );
    let fixed = GAP
        .replace("version: 1.0.0", "version: 1.0.1")
        .replace("{step.1./no_such_field}", "{step.1./device/name}");
    let proposed = client
        .ok(
            "runbook.propose_revision",
            json!({"run_id": failed["run_id"], "content": fixed}),
        )
        .await;
    let bodies = received.until(1).await;
    let event = &bodies[0]["event"];
    assert_eq!(event["kind"], "runbook.awaiting_review", "{bodies:?}");
    assert_eq!(event["runbook"], "hook-gap");
    assert_eq!(event["version_id"], proposed["version_id"]);
    assert_eq!(event["priority"], "high", "a high-risk runbook: {event}");
    // A person approves it on the command line: announced before the command exits.
    let version_id = proposed["version_id"].as_str().unwrap();
    let out = run(
        &world,
        &[
            "runbook",
            "review",
            "approve",
            version_id,
            "--notes",
            "fixes the pointer",
        ],
        &[
            ("ROUTEROS_MCP_WEBHOOK_URL", url.as_str()),
            ("USER", "alice"),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bodies = received.until(2).await;
    let decided = &bodies[1]["event"];
    assert_eq!(decided["kind"], "runbook.review_decided", "{bodies:?}");
    assert_eq!(decided["version_id"], version_id);
    assert_eq!(decided["decision"], "approved");
    client.close().await;
    world.stop().await;
}
