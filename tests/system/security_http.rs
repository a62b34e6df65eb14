//! The HTTP transport against hostile callers: clients that never finish their headers, that
//! open sessions until memory runs out, that reach the server through a rebound DNS name or from
//! another local port, and that poll `/ready` to make the server talk to the routers.

use std::time::{Duration, Instant};

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{HttpServer, STEP, World};

fn port_of(server: &HttpServer) -> u16 {
    server.root().rsplit(':').next().unwrap().parse().unwrap()
}

/// A raw `initialize` POST; returns the status, the session id (if any) and the body.
async fn initialize(server: &HttpServer, origin: Option<&str>) -> (u16, Option<String>, String) {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}});
    let mut request = reqwest::Client::new()
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .json(&init);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = tokio::time::timeout(STEP, request.send())
        .await
        .unwrap()
        .unwrap();
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    // The SSE answer to initialize is one event; read it whole.
    let body = tokio::time::timeout(STEP, response.text())
        .await
        .unwrap()
        .unwrap_or_default();
    (status, session, body)
}

/// A GET with the given headers (`host` replaces the one reqwest would send).
async fn get_with(server: &HttpServer, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.root()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = tokio::time::timeout(STEP, request.send())
        .await
        .unwrap()
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

async fn metric(server: &HttpServer, name: &str) -> i64 {
    let (_, text) = server.get("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// A client that sends one header byte per second is cut off once the header timeout passes,
/// instead of holding a connection (and a task) for as long as it likes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_disconnected() {
    let world = World::start(&[Profile::Home]).await;
    let server = world
        .http_server(&[("MCP_HTTP_HEADER_TIMEOUT_SECONDS", "2")])
        .await;
    let mut stream = TcpStream::connect(("127.0.0.1", port_of(&server)))
        .await
        .unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let trickle = b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed_after = None;
    let mut buf = [0u8; 512];
    // At most 20 rounds of one byte and up to one second of listening.
    for byte in trickle.iter().take(20) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await {
            Err(_) => {} // still open, nothing said
            Ok(Ok(_) | Err(_)) => {
                // EOF, an error answer before closing, or a reset: the server hung up.
                closed_after = Some(started.elapsed());
                break;
            }
        }
    }
    let closed_after = closed_after.expect("the trickling connection was still open after 20 s");
    assert!(
        closed_after < Duration::from_secs(6),
        "closed only after {closed_after:?}"
    );
    // The server itself is fine.
    assert_eq!(server.get("/health").await.0, 200);
    server.stop().await;
    world.stop().await;
}

/// Beyond MCP_HTTP_MAX_SESSIONS a new session is refused with a 503 that names the limit;
/// existing sessions keep working, a closed one frees its slot, and an abandoned one frees it
/// once idle for MCP_HTTP_SESSION_IDLE_SECONDS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_capped_and_freed_by_close_and_by_idling() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let server = world
        .http_server(&[
            ("MCP_HTTP_MAX_SESSIONS", "2"),
            ("MCP_HTTP_SESSION_IDLE_SECONDS", "3"),
        ])
        .await;
    let a = server.client().await;
    let (status, abandoned, _) = initialize(&server, None).await;
    assert_eq!(status, 200);
    assert!(abandoned.is_some());

    let (status, session, body) = initialize(&server, None).await;
    assert_eq!(status, 503, "{body}");
    assert!(session.is_none());
    let refusal: Value = serde_json::from_str(&body).unwrap();
    let message = refusal["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("MCP_HTTP_MAX_SESSIONS") && message.contains("allows 2 open"),
        "{message}"
    );
    // The session already open is unaffected (and its request keeps it from idling out).
    let overview = a
        .ok("system.get_overview", json!({"device_id": device}))
        .await;
    assert_eq!(overview["device"]["name"], device.as_str());
    assert_eq!(metric(&server, "mcp_active_sessions").await, 2);

    // The abandoned session idles out and frees its slot.
    let deadline = Instant::now() + Duration::from_secs(20);
    let b = loop {
        let (status, session, _) = initialize(&server, None).await;
        if status == 200 {
            break session.unwrap();
        }
        assert!(Instant::now() < deadline, "the idle session never closed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // A client that says goodbye (DELETE) frees its slot at once.
    let deleted = reqwest::Client::new()
        .delete(&server.url)
        .header("mcp-session-id", &b)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, session, _) = initialize(&server, None).await;
        if status == 200 {
            assert!(session.is_some());
            break;
        }
        assert!(Instant::now() < deadline, "DELETE did not free the slot");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.close().await;
    // Every session ends by closing or idling; the gauge comes back to zero.
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&server, "mcp_active_sessions").await != 0 {
        assert!(
            Instant::now() < deadline,
            "mcp_active_sessions stayed above 0"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server.stop().await;
    world.stop().await;
}

/// Every route — health, readiness, metrics and MCP — refuses a Host that is not this server
/// and an Origin that is not allowed; another localhost port is another origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_origin_are_checked_on_every_route() {
    let world = World::start(&[Profile::Home]).await;
    let server = world
        .http_server(&[(
            "MCP_HTTP_ALLOWED_ORIGINS",
            "https://console.example.com:443",
        )])
        .await;
    let port = port_of(&server);
    let own = format!("http://127.0.0.1:{port}");
    let other_port = format!("http://localhost:{}", if port == 1 { 2 } else { port - 1 });
    for path in ["/health", "/ready", "/metrics", "/mcp"] {
        let (status, body) = get_with(&server, path, &[("host", "evil.example")]).await;
        assert_eq!(status, 403, "{path} with a foreign Host: {body}");
        assert!(
            body.contains("Host \\\"evil.example\\\" does not name this server"),
            "{path}: {body}"
        );
        for origin in ["http://evil.example", other_port.as_str(), "null"] {
            let (status, body) = get_with(&server, path, &[("origin", origin)]).await;
            assert_eq!(status, 403, "{path} with Origin {origin}: {body}");
            assert!(body.contains("is not allowed"), "{path}: {body}");
            assert!(body.contains("MCP_HTTP_ALLOWED_ORIGINS"), "{path}: {body}");
        }
    }
    for path in ["/health", "/metrics"] {
        for headers in [
            vec![],
            vec![("origin", own.as_str())],
            vec![("origin", "https://console.example.com")],
        ] {
            let (status, body) = get_with(&server, path, &headers).await;
            assert_eq!(status, 200, "{path} {headers:?}: {body}");
        }
    }
    // An allowed browser origin can open a session; a neighbouring local port cannot.
    assert_eq!(initialize(&server, Some(&own)).await.0, 200);
    assert_eq!(
        initialize(&server, Some("https://console.example.com"))
            .await
            .0,
        200
    );
    assert_eq!(initialize(&server, Some(&other_port)).await.0, 403);
    server.stop().await;
    world.stop().await;
}

/// `/ready` is unauthenticated, so polling it must not turn into traffic to the routers: the
/// device probe runs at most once per cache period however often it is asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_ready_does_not_drive_traffic_to_the_routers() {
    let world = World::start(&[Profile::Home]).await;
    let sim = world.sim(&world.names[0]);
    let server = world.http_server(&[]).await;
    let (status, body) = server.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    let before = sim.counters().snapshot().requests_total;
    let polls = (0..30).map(|_| server.get("/ready"));
    for (status, body) in futures::future::join_all(polls).await {
        assert_eq!(status, 200, "{body}");
    }
    let after = sim.counters().snapshot().requests_total;
    assert!(
        after - before <= 2,
        "30 readiness polls sent {} requests to the router",
        after - before
    );
    server.stop().await;
    world.stop().await;
}

/// SIGTERM with a session open: the server stops accepting, ends the session and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_http_server_cleanly() {
    let world = World::start(&[Profile::Home]).await;
    let mut server = world.http_server(&[]).await;
    let client = server.client().await;
    let _ = client.ok("device.list", json!({})).await;
    let pid = server.child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(40), server.child.wait())
        .await
        .expect("the server exits within the drain period")
        .unwrap();
    assert!(status.success(), "{status}\n{}", server.log.text());
    assert!(server.log.text().contains("shutting down"));
    client.close().await;
    world.stop().await;
}

/// One 2026-07-28 request over HTTP, self-contained as that revision requires (headers and
/// `_meta`); returns the status, whether a session id came back, and the JSON-RPC message.
async fn stateless_call(
    server: &HttpServer,
    method: &str,
    params: Value,
    capabilities: Value,
) -> (u16, bool, Value) {
    stateless_call_as(server, None, method, params, capabilities).await
}

/// [`stateless_call`] presenting `Authorization: Bearer <token>` when given.
async fn stateless_call_as(
    server: &HttpServer,
    bearer: Option<&str>,
    method: &str,
    mut params: Value,
    capabilities: Value,
) -> (u16, bool, Value) {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw-2026", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    });
    let mut request = reqwest::Client::new()
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        request = request.header("mcp-name", name);
    }
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let response = tokio::time::timeout(STEP, request.json(&body).send())
        .await
        .unwrap()
        .unwrap();
    let status = response.status().as_u16();
    let session = response.headers().contains_key("mcp-session-id");
    let text = tokio::time::timeout(STEP, response.text())
        .await
        .unwrap()
        .unwrap();
    // A JSON answer, or the last `data:` line of an SSE answer.
    let message = serde_json::from_str(&text).unwrap_or_else(|_| {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|m| m.get("id").is_some())
            .unwrap_or_else(|| panic!("no JSON-RPC answer in {text}"))
    });
    (status, session, message)
}

fn plan_of(answer: &Value) -> Value {
    answer["result"]["structuredContent"].clone()
}

/// The approval of a 2026-07-28 client is a round trip whose state the client carries. A model
/// driving the client would like to skip the user: forge or alter the state, move one plan's
/// state to another plan, answer without being asked, or approve a high-risk plan. Each is
/// refused and leaves the plan pending; the honest round trip then works, on another instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_moved_or_unasked_approval_state_changes_nothing() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    // Over HTTP the client's user may approve only as a principal holding `approver` too: the
    // local user (MCP_AUTH_MODE=none) is given every role.
    let local_admin = [("MCP_STDIO_ROLE", "admin")];
    let server = world.http_server(&local_admin).await;
    let asks = json!({"elicitation": {"form": {}}});
    let rule = |chain: &str, comment: &str| {
        json!({"name": "plan.create", "arguments": {"title": comment, "changes": [{
            "device_id": device, "menu": "ip/firewall/filter", "action": "add",
            "properties": {"chain": chain, "action": "drop", "dst-address": "10.0.0.0/8", "comment": comment}}]}})
    };
    let create = |chain: &'static str, comment: &'static str| {
        let server = &server;
        let asks = asks.clone();
        let params = rule(chain, comment);
        async move {
            let (status, session, answer) =
                stateless_call(server, "tools/call", params, asks).await;
            assert_eq!(status, 200, "{answer}");
            assert!(!session, "a 2026-07-28 request opens no session");
            plan_of(&answer)["plan_id"].as_str().unwrap().to_owned()
        }
    };
    let status_of = |plan: String| {
        let server = &server;
        let asks = asks.clone();
        async move {
            let (_, _, answer) = stateless_call(
                server,
                "tools/call",
                json!({"name": "plan.get", "arguments": {"plan_id": plan}}),
                asks,
            )
            .await;
            plan_of(&answer)["status"].as_str().unwrap().to_owned()
        }
    };
    let apply = |plan: &str, state: Option<&str>, answer: Option<Value>, caps: Value| {
        let mut params = json!({"name": "plan.apply", "arguments": {"plan_id": plan}});
        if let Some(state) = state {
            params["requestState"] = json!(state);
        }
        if let Some(answer) = answer {
            params["inputResponses"] = json!({"approval": answer});
        }
        let server = &server;
        async move { stateless_call(server, "tools/call", params, caps).await }
    };
    let yes = json!({"action": "accept", "content": {"approve": true}});

    let a = create("forward", "state-a").await;
    let b = create("forward", "state-b").await;

    // The first call asks: input_required with the plan shown and a sealed state.
    let (_, _, asked) = apply(&a, None, None, asks.clone()).await;
    let result = &asked["result"];
    assert_eq!(result["resultType"], "input_required", "{asked}");
    let question = &result["inputRequests"]["approval"];
    assert_eq!(question["method"], "elicitation/create");
    assert!(
        question["params"]["message"]
            .as_str()
            .unwrap()
            .contains("/ip/firewall/filter add"),
        "{question}"
    );
    let state = result["requestState"].as_str().unwrap().to_owned();

    // Altered state: a JSON-RPC error, nothing applied.
    let mut altered = state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for forged in [altered.as_str(), "rs1.forged.state", ""] {
        let (_, _, refused) = apply(&a, Some(forged), Some(yes.clone()), asks.clone()).await;
        assert_eq!(refused["error"]["code"], -32602, "{forged}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nothing was changed"),
            "{refused}"
        );
    }
    // A's state presented for B.
    let (_, _, moved) = apply(&b, Some(&state), Some(yes.clone()), asks.clone()).await;
    assert_eq!(moved["error"]["code"], -32602, "{moved}");
    assert!(
        moved["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("issued for plan {a}")),
        "{moved}"
    );
    // An answer nobody asked for (no state) is not an approval: the user is asked.
    let (_, _, unasked) = apply(&b, None, Some(yes.clone()), asks.clone()).await;
    assert_eq!(
        unasked["result"]["resultType"], "input_required",
        "{unasked}"
    );
    // A client that cannot show a form is not asked and gets the usual refusal.
    let (_, _, mute) = apply(&b, None, None, json!({})).await;
    let text = mute["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("needs an approval token"), "{text}");
    assert_eq!(status_of(a.clone()).await, "pending");
    assert_eq!(status_of(b.clone()).await, "pending");

    // High risk: refused before anyone is asked.
    let high = create("output", "state-high").await;
    let (_, _, refused) = apply(&high, None, None, asks.clone()).await;
    let text = refused["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("high risk") && text.contains("only be approved by an operator"),
        "{refused}"
    );
    assert_eq!(status_of(high).await, "pending");

    // The honest round trip: the user's yes, with the state as issued — sent to a second
    // instance sharing the database, as a load balancer without session affinity would.
    let other = world.http_server(&local_admin).await;
    let params = json!({"name": "plan.apply", "arguments": {"plan_id": a},
        "requestState": state, "inputResponses": {"approval": yes}});
    let (_, _, applied) = stateless_call(&other, "tools/call", params, asks.clone()).await;
    assert_eq!(plan_of(&applied)["status"], "applied", "{applied}");
    assert_eq!(status_of(b).await, "pending");
    other.stop().await;
    server.stop().await;
    world.stop().await;
}

/// An approval asked of one principal cannot be answered by another, and over HTTP a caller that
/// may apply but not approve is not asked at all: both leave the plan pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_is_answered_only_by_the_approver_it_was_asked_of() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let mint = |role: &'static str| {
        let world = &world;
        async move {
            let out = world
                .cli(&["token", "create", "--role", role, "--output", "json"])
                .await;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let (alice, bob, operator) = (
        mint("admin").await,
        mint("admin").await,
        mint("operator").await,
    );
    let server = world
        .http_server(&[
            ("MCP_AUTH_MODE", "token"),
            ("MCP_DEFAULT_TOOL_TIER", "professional"),
        ])
        .await;
    let asks = json!({"elicitation": {"form": {}}});
    let call = |who: &str, params: Value| {
        let (server, asks, who) = (&server, asks.clone(), who.to_owned());
        async move {
            stateless_call_as(server, Some(&who), "tools/call", params, asks)
                .await
                .2
        }
    };
    let create = json!({"name": "plan.create", "arguments": {"title": "block", "changes": [{
        "device_id": device, "menu": "ip/firewall/filter", "action": "add",
        "properties": {"chain": "forward", "action": "drop", "dst-address": "10.9.0.0/16", "comment": "asked"}}]}});
    let plan = plan_of(&call(&alice, create.clone()).await)["plan_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let apply = json!({"name": "plan.apply", "arguments": {"plan_id": plan}});

    // Alice is asked; Bob brings her state with a yes.
    let asked = call(&alice, apply.clone()).await;
    assert_eq!(asked["result"]["resultType"], "input_required", "{asked}");
    let state = asked["result"]["requestState"].as_str().unwrap().to_owned();
    let mut stolen = apply.clone();
    stolen["requestState"] = json!(state);
    stolen["inputResponses"] =
        json!({"approval": {"action": "accept", "content": {"approve": true}}});
    let refused = call(&bob, stolen).await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("issued to another caller"),
        "{refused}"
    );

    // An operator (no approver role) is not asked; it is told who can approve.
    let plan_b = plan_of(&call(&operator, create).await)["plan_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let declined = call(
        &operator,
        json!({"name": "plan.apply", "arguments": {"plan_id": plan_b}}),
    )
    .await;
    let text = declined["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(text.contains("needs the approver role"), "{declined}");

    for id in [plan, plan_b] {
        let got = call(
            &alice,
            json!({"name": "plan.get", "arguments": {"plan_id": id}}),
        )
        .await;
        assert_eq!(plan_of(&got)["status"], "pending", "{got}");
    }
    server.stop().await;
    world.stop().await;
}
