//! Changes through the real server: an assistant proposes, a person approves on the command line
//! (or in the client, through elicitation), the server applies — and what happens when the
//! server is killed mid-apply, when two servers share one PostgreSQL database, when applying is
//! switched off, and when a change cuts the router off.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    ClientCapabilities, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationCapability, InitializeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleClient};
use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{STEP, World, WorldOptions};

/// A client whose user answers every approval request the same way.
#[derive(Clone)]
struct User {
    approves: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for User {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(if self.approves {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }

    fn get_info(&self) -> InitializeRequestParams {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation = Some(ElicitationCapability::new());
        InitializeRequestParams::new(
            capabilities,
            rmcp::model::Implementation::new("approving-client", "1"),
        )
    }
}

fn forward_rule(device: &str, comment: &str) -> Value {
    json!({"title": format!("block a test net ({comment})"), "changes": [{
        "device_id": device, "menu": "ip/firewall/filter", "action": "add",
        "properties": {"chain": "forward", "action": "drop", "src-address": "198.51.100.0/24", "comment": comment}
    }]})
}

fn config(world: &World, name: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(&world.sim(name).state_dump(false).to_json_string()).unwrap();
    strip(&mut v);
    v
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove(".id");
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

async fn approve(world: &World, plan: &str) -> String {
    let out = world
        .cli(&["plan", "approve", plan, "--output", "json"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["approval_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposed_change_applies_only_after_a_person_approves_it() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world.stdio(&[]).await;
    let plan = client
        .ok("plan.create", forward_rule(&device, "system test"))
        .await;
    assert_eq!(plan["risk"], "medium");
    assert_eq!(plan["status"], "pending", "medium risk waits for a person");
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    assert!(
        plan["changes"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("/ip/firewall/filter add action=drop chain=forward"),
        "{plan}"
    );
    let refused = client.err("plan.apply", json!({"plan_id": id})).await;
    assert!(
        refused.contains(&format!("routeros-mcp plan approve {id}")),
        "{refused}"
    );
    let before = client
        .ok(
            "firewall.list_filter_rules",
            json!({"device_id": device, "comment_contains": "system test"}),
        )
        .await;
    assert_eq!(before["total"], 0);

    // The operator reviews and approves on the command line.
    let shown = world.cli(&["plan", "show", &id]).await;
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        shown.contains("/ip/firewall/filter add action=drop chain=forward")
            && shown.contains("undo: /ip/firewall/filter remove the added item"),
        "{shown}"
    );
    let token = approve(&world, &id).await;
    let applied = client
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let after = client
        .ok(
            "firewall.list_filter_rules",
            json!({"device_id": device, "comment_contains": "system test"}),
        )
        .await;
    assert_eq!(after["total"], 1);
    let reused = client
        .err(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert!(reused.contains("single-use"), "{reused}");
    client.close().await;

    let audit = world
        .cli(&["audit", "list", "--action", "plan.", "--output", "json"])
        .await;
    let events: Value = serde_json::from_slice(&audit.stdout).unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "plan.create",
            "plan.approve",
            "plan.apply",
            // A medium plan is applied behind the device-side auto-revert.
            "plan.step.arm",
            "plan.step.done",
            "plan.step.verified",
            "plan.step.confirmed",
            "plan.applied"
        ]
    );
    let approver = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "plan.approve")
        .unwrap();
    assert!(approver["actor"].as_str().unwrap().starts_with("cli:"));
    assert!(!String::from_utf8_lossy(&audit.stdout).contains(&token));
    let journal = world
        .cli(&["plan", "journal", &id, "--output", "json"])
        .await;
    let steps: Vec<String> = serde_json::from_slice::<Value>(&journal.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps.first().map(String::as_str), Some("lock"));
    assert!(steps.contains(&"verified".to_owned()) && steps.contains(&"confirmed".to_owned()));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_user_can_approve_through_elicitation_where_policy_allows() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let yes = world
        .stdio_with(
            User {
                approves: true,
                asked: Arc::clone(&asked),
            },
            &["serve"],
            &[],
        )
        .await;
    let plan = yes
        .ok("plan.create", forward_rule(&device, "elicited"))
        .await;
    let applied = yes
        .ok("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let message = asked.lock().unwrap().first().cloned().unwrap();
    assert!(
        message.contains("Risk: medium") && message.contains("/ip/firewall/filter add"),
        "{message}"
    );
    let got = yes
        .ok("plan.get", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(got["decisions"][0]["via"], "elicitation");
    assert_eq!(
        got["decisions"][0]["by"],
        "mcp-elicitation-unverified:local:local:approving-client"
    );
    yes.close().await;

    let no = world
        .stdio_with(
            User {
                approves: false,
                asked: Arc::new(Mutex::new(Vec::new())),
            },
            &["serve"],
            &[],
        )
        .await;
    let plan = no
        .ok("plan.create", forward_rule(&device, "declined"))
        .await;
    let declined = no
        .err("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(declined.contains("did not approve"), "{declined}");
    no.close().await;

    // Where policy does not allow it, the user is not asked.
    let never = Arc::new(Mutex::new(Vec::new()));
    let strict = world
        .stdio_with(
            User {
                approves: true,
                asked: Arc::clone(&never),
            },
            &["serve"],
            &[("MCP_PLAN_ELICITATION_LAB", "false")],
        )
        .await;
    let plan = strict
        .ok("plan.create", forward_rule(&device, "strict"))
        .await;
    let refused = strict
        .err("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(refused.contains("needs an approval token"), "{refused}");
    assert!(never.lock().unwrap().is_empty());
    strict.close().await;
    world.stop().await;
}

/// A 2026-07-28 client has no session to be asked on: `plan.apply` answers `input_required` with
/// the same question, the client asks its user and calls again with the answer — over stdio and
/// over HTTP, where no session exists at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_clients_user_approves_through_input_required() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let user = |approves| User {
        approves,
        asked: Arc::clone(&asked),
    };

    let stdio = world.stdio_stateless_with(user(true), &[]).await;
    let plan = stdio
        .ok("plan.create", forward_rule(&device, "mrtr-stdio"))
        .await;
    let applied = stdio
        .ok("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let message = asked.lock().unwrap().pop().unwrap();
    assert!(
        message.contains("Risk: medium") && message.contains("/ip/firewall/filter add"),
        "{message}"
    );
    let got = stdio
        .ok("plan.get", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(got["decisions"][0]["via"], "elicitation");
    assert_eq!(
        got["decisions"][0]["by"],
        "mcp-elicitation-unverified:local:local:approving-client"
    );
    stdio.close().await;

    // Over HTTP the user may approve only as a principal that also holds `approver`: the
    // local user of MCP_AUTH_MODE=none is given every role here.
    let server = world.http_server(&[("MCP_STDIO_ROLE", "admin")]).await;
    let yes = server.stateless_client_with(user(true)).await;
    let plan = yes
        .ok("plan.create", forward_rule(&device, "mrtr-http"))
        .await;
    let applied = yes
        .ok("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    assert!(!asked.lock().unwrap().is_empty());

    let no = server.stateless_client_with(user(false)).await;
    let plan = no
        .ok("plan.create", forward_rule(&device, "mrtr-declined"))
        .await;
    let declined = no
        .err("plan.apply", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert!(
        declined.contains("did not approve") && declined.contains("nothing was changed"),
        "{declined}"
    );
    let got = no.ok("plan.get", json!({"plan_id": plan["plan_id"]})).await;
    assert_eq!(got["status"], "pending", "{got}");
    let rules = config(&world, &device).to_string();
    assert!(rules.contains("mrtr-http") && !rules.contains("mrtr-declined"));
    server.stop().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_can_be_paused_while_plans_stay_visible() {
    let world = World::start(&[Profile::Home]).await;
    let client = world.stdio(&[("MCP_ENABLE_PLAN_APPLY", "false")]).await;
    let plan = client
        .ok(
            "dns.add_static_entry",
            json!({"device_id": world.names[0], "name": "paused.lan", "address": "10.0.0.1"}),
        )
        .await;
    let token = plan["approval"]["approval_token"].as_str().unwrap();
    let refused = client
        .err(
            "plan.apply",
            json!({"plan_id": plan["plan_id"], "approval_token": token}),
        )
        .await;
    assert!(refused.contains("MCP_ENABLE_PLAN_APPLY=false"), "{refused}");
    let got = client
        .ok("plan.get", json!({"plan_id": plan["plan_id"]}))
        .await;
    assert_eq!(got["status"], "approved");
    client.close().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cuts_the_router_off_is_reverted_by_the_router() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let before = config(&world, &device);
    let client = world
        .stdio(&[
            // A change is sent only while more than the call deadline plus a second of it is
            // left.
            ("MCP_PLAN_CONFIRM_TIMEOUT_SECONDS", "5"),
            ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "2"),
        ])
        .await;
    let plan = client
        .ok(
            "plan.create",
            json!({"title": "take the uplink down", "changes": [
                {"device_id": device, "menu": "interface", "action": "disable", "where": {"name": "ether1"}}
            ]}),
        )
        .await;
    assert_eq!(plan["risk"], "critical");
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let token = approve(&world, &id).await;
    let report = client
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(report["status"], "rolled_back", "{report}");
    assert_eq!(config(&world, &device), before);
    client.close().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_apply_recovers_before_it_takes_calls() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let before = config(&world, &device);
    let client = world.stdio(&[]).await;
    let changes: Vec<Value> = (0..8)
        .map(|i| json!({"device_id": device, "menu": "ip/dns/static", "action": "add",
                        "properties": {"name": format!("k{i}.lan"), "address": format!("10.8.0.{}", i + 1)}}))
        .collect();
    let plan = client
        .ok(
            "plan.create",
            json!({"title": "eight names", "changes": changes}),
        )
        .await;
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let token = plan["approval"]["approval_token"]
        .as_str()
        .unwrap()
        .to_owned();
    world.sim(&device).set_faults(Faults {
        latency_ms: 300,
        ..Faults::none()
    });
    let pid = client.pid.unwrap();
    let apply = tokio::spawn(async move {
        let _ = client
            .service
            .call_tool(
                rmcp::model::CallToolRequestParams::new("plan.apply").with_arguments(
                    json!({"plan_id": id, "approval_token": token})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .await;
    });
    // Kill -9 once some of the names are on the router.
    let started = Instant::now();
    loop {
        let state = config(&world, &device);
        let added = state["/ip/dns/static"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"].as_str().is_some_and(|n| n.starts_with('k')))
            .count();
        if added >= 2 {
            break;
        }
        assert!(started.elapsed() < STEP, "the apply never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = apply.await;
    world.sim(&device).set_faults(Faults::none());
    assert_ne!(
        config(&world, &device),
        before,
        "the router was left half-changed"
    );

    // The next server resolves the interrupted apply before it answers anyone.
    let plan_id = plan["plan_id"].as_str().unwrap();
    let restarted = world.stdio(&[]).await;
    let state = config(&world, &device);
    assert_eq!(
        state, before,
        "recovered before the first call was accepted"
    );
    let got = restarted.ok("plan.get", json!({"plan_id": plan_id})).await;
    assert_eq!(got["status"], "rolled_back", "{got}");
    assert!(
        restarted
            .log
            .text()
            .contains(&format!("recovered plan {plan_id}: rolled_back")),
        "{}",
        restarted.log.text()
    );
    restarted.close().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgresql_never_write_a_router_at_once() {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: 1,
        postgres: Some("system::two_servers_on_one_postgresql_never_write_a_router_at_once"),
    })
    .await;
    if !world.on_postgres() {
        world.stop().await;
        return;
    }
    let device = world.names[0].clone();
    let a = world.http_server(&[]).await;
    let b = world.http_server(&[]).await;
    let proposer = a.client().await;
    let mut plans = Vec::new();
    for i in 0..6 {
        let changes: Vec<Value> = (0..2)
            .map(|j| json!({"device_id": device, "menu": "ip/dns/static", "action": "add",
                            "properties": {"name": format!("pg{i}-{j}.lan"), "address": format!("10.6.{i}.{}", j + 1)}}))
            .collect();
        let p = proposer
            .ok(
                "plan.create",
                json!({"title": format!("pg {i}"), "changes": changes}),
            )
            .await;
        plans.push((
            p["plan_id"].as_str().unwrap().to_owned(),
            p["approval"]["approval_token"].as_str().unwrap().to_owned(),
        ));
    }
    proposer.close().await;
    world.sim(&device).set_faults(Faults {
        latency_ms: 40,
        ..Faults::none()
    });
    let mut clients = Vec::new();
    for i in 0..plans.len() {
        clients.push(if i % 2 == 0 {
            a.client().await
        } else {
            b.client().await
        });
    }
    let applies = clients.iter().zip(&plans).map(|(c, (id, token))| {
        c.ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
    });
    let reports = futures::future::join_all(applies).await;
    for r in &reports {
        assert_eq!(r["status"], "applied", "{r}");
    }
    for c in clients {
        c.close().await;
    }
    let mut windows = Vec::new();
    for (id, _) in &plans {
        let out = world
            .cli(&["plan", "journal", id, "--output", "json"])
            .await;
        let entries: Value = serde_json::from_slice(&out.stdout).unwrap();
        let at = |step: &str| {
            entries
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["step"] == step)
                .map(|e| {
                    (
                        e["at"].as_str().unwrap().to_owned(),
                        e["instance"].as_str().unwrap().to_owned(),
                    )
                })
                .unwrap()
        };
        let (locked, instance) = at("lock");
        let (unlocked, _) = at("unlock");
        windows.push((locked, unlocked, instance));
    }
    windows.sort();
    for pair in windows.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two applies overlapped: {pair:?}");
    }
    let servers: std::collections::BTreeSet<_> = windows.iter().map(|w| w.2.clone()).collect();
    assert_eq!(servers.len(), 2, "both servers applied plans: {windows:?}");
    a.stop().await;
    b.stop().await;
    world.stop().await;
}
