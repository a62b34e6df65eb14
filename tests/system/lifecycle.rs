//! The server's life as systemd and an operator see it: readiness and watchdog notifications,
//! SIGTERM while calls (and an apply) are in flight, SIGHUP reloading what can change live on
//! open sessions, the initialize rate limit, and logs (JSON lines carrying the audit record's
//! correlation id; text without colour codes when it is not a terminal).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};
use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{HttpServer, Log, STEP, World, meta, text};

pub(crate) fn signal(pid: u32, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{name} {pid}");
}

pub(crate) fn pid(server: &HttpServer) -> u32 {
    server.child.id().expect("the server is running")
}

/// Waits (bounded) until the log holds `needle`.
pub(crate) async fn log_shows(log: &Log, needle: &str) {
    let started = Instant::now();
    while !log.text().contains(needle) {
        assert!(
            started.elapsed() < STEP,
            "the log never showed {needle:?}:\n{}",
            log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server's exit status, waited for (bounded).
async fn exit_status(server: &mut HttpServer) -> std::process::ExitStatus {
    tokio::time::timeout(STEP, server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("the server exits in time:\n{}", server.log.text()))
        .unwrap()
}

fn call_args(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_then_the_watchdog_then_stopping() {
    let world = World::start(&[Profile::Home]).await;
    let socket_path = world.dir.path().join("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let socket_name = socket_path.display().to_string();
    let mut server = world
        .http_server(&[
            ("NOTIFY_SOCKET", socket_name.as_str()),
            ("WATCHDOG_USEC", "2000000"),
        ])
        .await;
    let mut buf = vec![0u8; 512];
    let mut next = async || {
        let n = tokio::time::timeout(STEP, socket.recv(&mut buf))
            .await
            .expect("a notification arrives")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(next().await, "READY=1", "readiness comes first");
    let ready_at = Instant::now();
    let mut pings = 0;
    while pings < 2 {
        let message = next().await;
        assert_eq!(message, "WATCHDOG=1");
        pings += 1;
    }
    assert!(
        ready_at.elapsed() < Duration::from_secs(3),
        "two watchdog pings within 3 s of READY=1 (WATCHDOG_USEC=2000000), took {:?}",
        ready_at.elapsed()
    );
    signal(pid(&server), "TERM");
    loop {
        let message = next().await;
        if message == "STOPPING=1" {
            break;
        }
        assert_eq!(message, "WATCHDOG=1", "nothing else before STOPPING=1");
    }
    let status = exit_status(&mut server).await;
    assert!(status.success(), "{status:?}\n{}", server.log.text());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_call_finish_and_its_client_gets_the_answer() {
    let world = World::start(&[Profile::Home]).await;
    let mut server = world.http_server(&[]).await;
    let client = Arc::new(server.client().await);
    let device = world.names[0].clone();
    world.sim(&device).set_faults(Faults {
        latency_ms: 2_500,
        ..Faults::none()
    });
    let call = {
        let client = Arc::clone(&client);
        tokio::spawn(async move {
            client
                .service
                .call_tool(
                    CallToolRequestParams::new("system.get_overview")
                        .with_arguments(call_args(json!({"device_id": device}))),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(pid(&server), "TERM");
    log_shows(&server.log, "shutting down").await;
    // No new connections while the call finishes.
    let health = format!("{}/health", server.root());
    let started = Instant::now();
    loop {
        match reqwest::get(&health).await {
            Err(_) => break,
            Ok(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(2),
                    "the listener closes at once"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(!call.is_finished(), "the call was still in flight");
    let result = tokio::time::timeout(STEP, call)
        .await
        .unwrap_or_else(|_| panic!("the call ends:\n{}", server.log.text()))
        .unwrap()
        .expect("the client gets an answer, not a broken session");
    assert_ne!(
        result.is_error,
        Some(true),
        "the call completed: {}",
        text(&result)
    );
    assert!(result.structured_content.is_some());
    let status = exit_status(&mut server).await;
    assert!(status.success(), "{status:?}\n{}", server.log.text());
    world.sim(&world.names[0]).set_faults(Faults::none());
    world.stop().await;
}

/// Whether the process has exited (gone, or a zombie waiting to be reaped).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_stdio_sigterm_answers_the_call_in_flight_and_refuses_new_ones() {
    let world = World::start(&[Profile::Home]).await;
    let client = Arc::new(world.stdio(&[]).await);
    let pid = client.pid.unwrap();
    let device = world.names[0].clone();
    world.sim(&device).set_faults(Faults {
        latency_ms: 2_500,
        ..Faults::none()
    });
    let call = {
        let client = Arc::clone(&client);
        tokio::spawn(async move {
            client
                .service
                .call_tool(
                    CallToolRequestParams::new("system.get_overview")
                        .with_arguments(call_args(json!({"device_id": device}))),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    signal(pid, "TERM");
    log_shows(&client.log, "shutting down").await;
    let refused = tokio::time::timeout(
        STEP,
        client.service.call_tool(
            CallToolRequestParams::new("device.list").with_arguments(call_args(json!({}))),
        ),
    )
    .await
    .expect("a new request is answered at once")
    .expect_err("and refused");
    assert!(refused.to_string().contains("shutting down"), "{refused}");
    let result = tokio::time::timeout(STEP, call)
        .await
        .unwrap_or_else(|_| panic!("the call ends:\n{}", client.log.text()))
        .unwrap()
        .expect("the call in flight is answered");
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let started = Instant::now();
    while !exited(pid) {
        assert!(
            started.elapsed() < STEP,
            "the server exits once the call is answered:\n{}",
            client.log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.sim(&world.names[0]).set_faults(Faults::none());
    world.stop().await;
}

/// A plan of three DNS entries on the world's router, approved by the operator; its id and token.
async fn approved_plan(world: &World, client: &crate::support::Client) -> (String, String) {
    let device = &world.names[0];
    let changes: Vec<Value> = (0..3)
        .map(|i| {
            json!({"device_id": device, "menu": "ip/dns/static", "action": "add",
                   "properties": {"name": format!("life{i}.lan"), "address": format!("10.7.0.{}", i + 1)}})
        })
        .collect();
    let plan = client
        .ok(
            "plan.create",
            json!({"title": "three names", "changes": changes}),
        )
        .await;
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let out = world
        .cli(&["plan", "approve", &id, "--output", "json"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = serde_json::from_slice::<Value>(&out.stdout).unwrap()["approval_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

/// The journal's steps so far, as `plan journal` prints them.
async fn journal(world: &World, plan: &str) -> Vec<String> {
    let out = world
        .cli(&["plan", "journal", plan, "--output", "json"])
        .await;
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["step"].as_str().map(str::to_owned))
        .collect()
}

/// SIGTERM once the apply holds the device's lock; what the client got, and the plan's status
/// as a restarted server reports it.
async fn sigterm_during_apply(grace: &str) -> (Option<Value>, String, String) {
    let world = World::start(&[Profile::Home]).await;
    let mut server = world
        .http_server(&[("MCP_SHUTDOWN_GRACE_SECONDS", grace)])
        .await;
    let client = Arc::new(server.client().await);
    let (id, token) = approved_plan(&world, &client).await;
    world.sim(&world.names[0]).set_faults(Faults {
        latency_ms: 300,
        ..Faults::none()
    });
    let apply = {
        let client = Arc::clone(&client);
        let args = call_args(json!({"plan_id": id, "approval_token": token}));
        tokio::spawn(async move {
            client
                .service
                .call_tool(CallToolRequestParams::new("plan.apply").with_arguments(args))
                .await
        })
    };
    let started = Instant::now();
    while !journal(&world, &id).await.iter().any(|s| s == "lock") {
        assert!(started.elapsed() < STEP, "the apply never took the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(pid(&server), "TERM");
    let status = exit_status(&mut server).await;
    assert!(status.success(), "{status:?}\n{}", server.log.text());
    // Whatever the client heard before the server went (nothing, when it had no grace).
    let answered = match tokio::time::timeout(Duration::from_secs(5), apply).await {
        Ok(Ok(Ok(result))) => result.structured_content,
        Ok(_) | Err(_) => None,
    };
    world.sim(&world.names[0]).set_faults(Faults::none());

    let restarted = world.stdio(&[]).await;
    let plan = restarted.ok("plan.get", json!({"plan_id": id})).await;
    let after = plan["status"].as_str().unwrap().to_owned();
    let log = restarted.log.text();
    restarted.close().await;
    world.stop().await;
    (answered, after, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_apply_lets_it_finish_and_leaves_no_plan_applying() {
    // The grace period covers the apply: it finishes, its client hears so, nothing to recover.
    let (answered, after, log) = sigterm_during_apply("30").await;
    let answered = answered.expect("the client got the apply's result");
    assert_eq!(answered["status"], "applied", "{answered}");
    assert_eq!(after, "applied");
    assert!(!log.contains("recovered plan"), "{log}");

    // No grace at all: the process leaves the apply where it is; the journal lets the next
    // start resolve it before serving.
    let (_, after, log) = sigterm_during_apply("0").await;
    assert_ne!(after, "applying", "{log}");
    assert!(
        ["applied", "rolled_back"].contains(&after.as_str()),
        "{after}\n{log}"
    );
}

/// A client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
struct Watcher {
    told: Arc<AtomicUsize>,
}

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.told.fetch_add(1, Ordering::SeqCst);
    }
}

/// The lines of `log` after the first `skip` bytes.
fn since(log: &Log, skip: usize) -> String {
    log.text().get(skip..).unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_the_log_level_and_disabled_tools_to_the_open_session() {
    let world = World::start(&[Profile::Home]).await;
    let config = world.dir.path().join("server.toml");
    std::fs::write(&config, "[log]\nlevel = \"info\"\n").unwrap();
    let config_name = config.display().to_string();
    let server = world
        .http_server(&[("ROUTEROS_MCP_CONFIG", config_name.as_str())])
        .await;
    let pid = pid(&server);
    let watcher = Watcher::default();
    let client = server.client_with(watcher.clone()).await;
    let device = world.names[0].clone();
    let announced = client
        .service
        .peer_info()
        .and_then(|info| info.capabilities.tools.clone())
        .and_then(|tools| tools.list_changed);
    assert_eq!(announced, Some(true), "a session is told tools.listChanged");
    assert!(client.tool_names().contains(&"dns.get_config".to_owned()));
    client.ok("device.list", json!({})).await;
    assert!(
        !server.log.text().contains("tool call ok="),
        "at info, tool calls are not logged:\n{}",
        server.log.text()
    );

    // Raise the level, disable a tool, and change a setting that needs a restart.
    std::fs::write(
        &config,
        "[log]\nlevel = \"debug\"\n[tools]\ndisabled = \"dns.get_config\"\n[http]\nmax_sessions = 8\n",
    )
    .unwrap();
    signal(pid, "HUP");
    log_shows(
        &server.log,
        "MCP_DISABLE_TOOLS changed from (empty) to \"dns.get_config\"",
    )
    .await;
    log_shows(&server.log, "LOG_LEVEL changed from \"info\" to \"debug\"").await;
    log_shows(
        &server.log,
        "MCP_HTTP_MAX_SESSIONS changed from \"256\" to \"8\", which needs a restart",
    )
    .await;
    // The same session: the tool is gone from the list and refused when called.
    let tools = client.service.list_all_tools().await.unwrap();
    assert!(
        !tools.iter().any(|t| t.name == "dns.get_config"),
        "tools/list on the open session no longer shows it"
    );
    let refused = client
        .err("dns.get_config", json!({"device_id": device}))
        .await;
    assert!(refused.contains("MCP_DISABLE_TOOLS"), "{refused}");
    let started = Instant::now();
    while watcher.told.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < STEP,
            "the session is told the tool list changed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And a debug line now appears for a call.
    let mark = server.log.text().len();
    client.ok("device.list", json!({})).await;
    log_shows(&server.log, "tool call ok=true").await;
    assert!(since(&server.log, mark).contains("DEBUG"));

    // An invalid configuration is reported and changes nothing.
    for bad in [
        "[log]\nlevel = \"loud\"\n",
        "[log]\nlevel = \"info\"\n[tools]\ndisabled = \"dns.no_such_tool\"\n",
    ] {
        let mark = server.log.text().len();
        std::fs::write(&config, bad).unwrap();
        signal(pid, "HUP");
        let started = Instant::now();
        while !since(&server.log, mark).contains("configuration reload refused") {
            assert!(
                started.elapsed() < STEP,
                "a bad configuration is reported:\n{}",
                server.log.text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reported = since(&server.log, mark);
        assert!(
            reported.contains("configuration in force is kept"),
            "{reported}"
        );
        let refused = client
            .err("dns.get_config", json!({"device_id": device}))
            .await;
        assert!(refused.contains("MCP_DISABLE_TOOLS"), "still disabled");
        // Still at debug.
        let mark = server.log.text().len();
        client.ok("device.list", json!({})).await;
        let started = Instant::now();
        while !since(&server.log, mark).contains("tool call ok=true") {
            assert!(started.elapsed() < STEP, "the log level was kept");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The session survived every reload.
    client.ok("device.list", json!({})).await;
    let log = server.log.text();
    assert!(
        !log.contains('\u{1b}'),
        "text logs to a pipe carry no escape codes"
    );
    client.close().await;
    server.stop().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initializes_beyond_max_init_per_second_get_429_and_the_accepted_ones_work() {
    let world = World::start(&[Profile::Home]).await;
    let server = world.http_server(&[("MAX_INIT_PER_SECOND", "5")]).await;
    let http = reqwest::Client::new();
    let initialize = |n: usize| {
        let http = http.clone();
        let url = server.url.clone();
        async move {
            http.post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(
                    json!({"jsonrpc": "2.0", "id": n, "method": "initialize", "params": {
                        "protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": format!("flood-{n}"), "version": "1"}}})
                    .to_string(),
                )
                .send()
                .await
                .unwrap()
        }
    };
    let answers = futures::future::join_all((0..20).map(initialize)).await;
    let mut accepted = Vec::new();
    let mut refused = 0;
    for (n, r) in answers.into_iter().enumerate() {
        match r.status().as_u16() {
            200 => {
                let session = r
                    .headers()
                    .get("mcp-session-id")
                    .expect("an accepted initialize opens a session")
                    .to_str()
                    .unwrap()
                    .to_owned();
                let body = r.text().await.unwrap();
                assert!(body.contains("serverInfo"), "{body}");
                accepted.push(session);
            }
            429 => {
                refused += 1;
                let retry: u64 = r
                    .headers()
                    .get("retry-after")
                    .expect("a 429 says when to retry")
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=2).contains(&retry), "Retry-After {retry}");
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["id"], json!(n), "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains("MAX_INIT_PER_SECOND"), "{message}");
            }
            other => panic!("initialize answered {other}"),
        }
    }
    assert!(refused > 0, "some of 20 initializes at once are refused");
    assert!(
        (5..20).contains(&accepted.len()),
        "{} accepted",
        accepted.len()
    );
    // An accepted session works.
    let session = &accepted[0];
    let post = |body: Value| {
        http.post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
    };
    let r = post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = post(json!({"jsonrpc": "2.0", "id": 99, "method": "tools/list"}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("device.list"));
    // A stateless (2026-07-28) client opens no session and is not held to the rate.
    let stateless = server.stateless_client_with(()).await;
    stateless.ok("device.list", json!({})).await;
    stateless.close().await;
    // Once the bucket refills, a client connects again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let late = server.client().await;
    late.ok("device.list", json!({})).await;
    late.close().await;
    server.stop().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_calls_correlation_id() {
    let world = World::start(&[Profile::Home]).await;
    let client = world
        .stdio(&[("LOG_FORMAT", "json"), ("LOG_LEVEL", "debug")])
        .await;
    let (id, token) = approved_plan(&world, &client).await;
    let (structured, result) = client
        .ok_result(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(structured["status"], "applied");
    let correlation = meta(&result, "correlation_id");
    let correlation = correlation.as_str().expect("_meta.correlation_id");
    // The log lines are written as they happen: wait for the apply's last step and for the
    // call's own line, which follows its answer.
    log_shows(&client.log, "\"step\":\"confirmed\"").await;
    let started = Instant::now();
    while !client
        .log
        .text()
        .lines()
        .any(|l| l.contains("\"message\":\"tool call\"") && l.contains("\"tool\":\"plan.apply\""))
    {
        assert!(
            started.elapsed() < STEP,
            "the call is logged:\n{}",
            client.log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = client.log.text();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().all(|l| l["timestamp"].is_string()
            && l["level"].is_string()
            && l["message"].is_string())
    );
    let steps: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "plan step" && l["plan"] == json!(id))
        .collect();
    assert!(steps.len() >= 5, "the apply's steps are logged: {log}");
    for step in &steps {
        assert_eq!(
            step["correlation_id"], correlation,
            "a plan step carries the call's correlation id: {step}"
        );
    }
    let call = lines
        .iter()
        .find(|l| l["message"] == "tool call" && l["tool"] == "plan.apply")
        .unwrap_or_else(|| panic!("the call is logged: {log}"));
    assert_eq!(call["correlation_id"], correlation);
    // The audit record of the call has the same id (records are group-committed: wait for it).
    let started = Instant::now();
    loop {
        let out = world
            .cli(&["audit", "list", "--action", "tool.call", "--output", "json"])
            .await;
        let events: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let recorded = events.as_array().is_some_and(|events| {
            events
                .iter()
                .any(|e| e["target"] == "tool:plan.apply" && e["correlation_id"] == correlation)
        });
        if recorded {
            break;
        }
        assert!(
            started.elapsed() < STEP,
            "the audit record carries the same correlation id: {events}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!log.contains(&token), "no approval token in the logs");
    client.close().await;
    world.stop().await;
}

/// `MCP_LOG_UNKNOWN_CAPABILITIES`: the experimental capabilities and extensions a client
/// announces are logged once per client and set — at `initialize`, and from the requests of a
/// stateless (2026-07-28) client — and not at all when it is off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_the_server_does_not_use_are_logged_once_per_client() {
    let world = World::start(&[Profile::Home]).await;
    let caps = json!({"elicitation": {}, "experimental": {"acme/telepathy": {}},
        "extensions": {"io.example/canvas": {}}});
    let post = |server: &HttpServer, body: Value| {
        let url = server.url.clone();
        async move {
            let mut request = reqwest::Client::new()
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream");
            if body["method"] != "initialize" {
                request = request
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", body["method"].as_str().unwrap());
            }
            let r = request.body(body.to_string()).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.text().await.unwrap()
        }
    };
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": caps,
        "clientInfo": {"name": "curious-ide", "version": "1"}}});
    let stateless = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "stateless-agent", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps}}});
    let line = "the client announces capabilities this server does not use";

    let server = world.http_server(&[]).await;
    for _ in 0..3 {
        post(&server, initialize.clone()).await;
        post(&server, stateless.clone()).await;
    }
    let count = |log: &str| log.lines().filter(|l| l.contains(line)).count();
    let started = Instant::now();
    while count(&server.log.text()) < 2 && started.elapsed() < STEP {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Whatever else arrives late, nothing more is noted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log.text();
    let noted: Vec<&str> = log.lines().filter(|l| l.contains(line)).collect();
    assert_eq!(noted.len(), 2, "once per client:\n{log}");
    for l in &noted {
        assert!(
            l.contains("experimental.acme/telepathy, extensions.io.example/canvas"),
            "{l}"
        );
    }
    assert!(noted.iter().any(|l| l.contains("curious-ide")));
    server.stop().await;

    let quiet = world
        .http_server(&[("MCP_LOG_UNKNOWN_CAPABILITIES", "false")])
        .await;
    post(&quiet, initialize.clone()).await;
    post(&quiet, stateless.clone()).await;
    assert!(!quiet.log.text().contains(line), "{}", quiet.log.text());
    quiet.stop().await;
    world.stop().await;
}
