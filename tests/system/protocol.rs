//! The MCP surface around the tools: stdio hygiene, version negotiation, server info, what
//! `tools/list` shows under each policy, resources, prompts, completions, logging, and the HTTP
//! transport's operational endpoints and DNS-rebinding defence.

use std::process::Stdio;
use std::time::Duration;

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference,
};
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::support::{Log, STEP, World, text};

/// Speaks raw JSON-RPC to `serve` over stdio: every line on stdout must be a JSON-RPC 2.0
/// message, whatever the server logs, and closing stdin ends the server cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_carries_only_json_rpc_and_both_protocol_versions_negotiate() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    for version in ["2025-06-18", "2025-11-25"] {
        let mut child = world
            .command(
                &["serve"],
                &[
                    ("LOG_LEVEL", "debug"),
                    ("MCP_SERVER_NAME", "lab-routers"),
                    ("MCP_SERVER_VERSION", "9.8.7"),
                ],
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // Read stderr as it comes: a full pipe would stall the server's logging.
        let stderr = Log::collect(child.stderr.take());
        let requests = [
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": version, "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
                "name": "system.get_overview", "arguments": {"device_id": device}}}),
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
                "name": "firewall.list_filter_rules", "arguments": {"device_id": 7}}}),
            json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}),
            json!({"jsonrpc": "2.0", "id": 6, "method": "logging/setLevel", "params": {"level": "debug"}}),
        ];
        for r in &requests {
            stdin.write_all(format!("{r}\n").as_bytes()).await.unwrap();
        }
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut answers = std::collections::BTreeMap::new();
        tokio::time::timeout(STEP, async {
            while answers.len() < 6 {
                let line = lines.next_line().await.unwrap().expect("stdout stays open");
                let msg: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"));
                assert_eq!(msg["jsonrpc"], "2.0", "{line}");
                if let Some(id) = msg.get("id").and_then(Value::as_u64) {
                    answers.insert(id, msg);
                } else {
                    assert!(
                        msg["method"]
                            .as_str()
                            .is_some_and(|m| m.starts_with("notifications/")),
                        "{line}"
                    );
                }
            }
        })
        .await
        .expect("the server answers every request");
        let init = &answers[&1]["result"];
        assert_eq!(init["protocolVersion"], version);
        assert_eq!(init["serverInfo"]["name"], "lab-routers");
        assert_eq!(init["serverInfo"]["version"], "9.8.7");
        assert!(init["capabilities"]["tools"].is_object());
        assert!(init["capabilities"]["resources"].is_object());
        assert!(init["capabilities"]["prompts"].is_object());
        assert!(
            init["instructions"]
                .as_str()
                .unwrap()
                .contains("device.list")
        );
        assert!(answers[&2]["result"]["tools"].as_array().unwrap().len() >= 5);
        // The 2026-07-28 fields are not sent to session clients.
        for field in ["ttlMs", "cacheScope", "resultType"] {
            assert!(answers[&2]["result"].get(field).is_none(), "{field}");
            assert!(answers[&3]["result"].get(field).is_none(), "{field}");
        }
        assert_eq!(answers[&3]["result"]["isError"], json!(false));
        assert!(answers[&3]["result"]["_meta"]["estimated_tokens"].is_u64());
        let refused = &answers[&4]["result"];
        assert_eq!(refused["isError"], true);
        let message = refused["content"][0]["text"].as_str().unwrap();
        assert!(message.contains("/device_id"), "{message}");
        assert_eq!(answers[&5]["result"], json!({}));
        assert!(answers[&6].get("error").is_none());
        // Closing stdin ends the session and the process, cleanly.
        drop(stdin);
        let status = tokio::time::timeout(STEP, child.wait())
            .await
            .expect("the server exits when its client leaves")
            .unwrap();
        assert!(status.success(), "{status}");
        let stderr = stderr.text();
        assert!(
            stderr.contains("MCP session initialized"),
            "logs go to stderr: {stderr}"
        );
        for password in &world.passwords {
            assert!(!stderr.contains(password.as_str()));
        }
    }
    world.stop().await;
}

/// A 2026-07-28 client on stdio sends no `initialize`: `server/discover` names the revisions this
/// server speaks, and every request carries its own version, identity and capabilities. Lists come
/// with caching hints and `tools/list` in a fixed order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stateless_client_discovers_and_calls_without_initialize() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let mut child = world
        .command(&["serve"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _stderr = Log::collect(child.stderr.take());
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "raw-2026", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"_meta": meta,
            "name": "system.get_overview", "arguments": {"device_id": device}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "prompts/list", "params": {"_meta": meta}}),
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2099-01-01",
            "io.modelcontextprotocol/clientCapabilities": {}}}}),
    ];
    for r in &requests {
        stdin.write_all(format!("{r}\n").as_bytes()).await.unwrap();
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut answers = std::collections::BTreeMap::new();
    tokio::time::timeout(STEP, async {
        while answers.len() < requests.len() {
            let line = lines.next_line().await.unwrap().expect("stdout stays open");
            let msg: Value = serde_json::from_str(&line).unwrap();
            if let Some(id) = msg.get("id").and_then(Value::as_u64) {
                answers.insert(id, msg);
            }
        }
    })
    .await
    .expect("the server answers every request");
    let discover = &answers[&1]["result"];
    let versions = discover["supportedVersions"].as_array().unwrap();
    for v in ["2025-06-18", "2025-11-25", "2026-07-28"] {
        assert!(versions.contains(&json!(v)), "{discover}");
    }
    assert!(discover["capabilities"]["tools"].is_object(), "{discover}");
    let list = &answers[&2]["result"];
    assert_eq!(list["cacheScope"], "private", "{list}");
    assert_eq!(list["ttlMs"], 300_000);
    let names: Vec<&str> = list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "tools/list is in a fixed order");
    let call = &answers[&3]["result"];
    assert_eq!(call["isError"], false, "{call}");
    assert_eq!(call["resultType"], "complete");
    assert!(answers[&4]["result"]["ttlMs"].is_u64());
    let unsupported = &answers[&5]["error"];
    assert_eq!(unsupported["code"], -32022, "{unsupported}");
    drop(stdin);
    let _ = tokio::time::timeout(STEP, child.wait()).await;

    world.stop().await;
}

/// `tools/list` under each policy: exactly the catalog's tools the tiers allow, minus disabled
/// ones, only read-only ones under `--read-only`; a hidden tool's call says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_follows_tiers_read_only_and_disabled_tools() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let tier_of = |t: &rmcp::model::Tool| {
        t.meta
            .as_ref()
            .and_then(|m| m.0.get("tier"))
            .and_then(Value::as_str)
            .unwrap()
            .to_owned()
    };
    let rank = |tier: &str| {
        ["free", "basic", "professional"]
            .iter()
            .position(|t| *t == tier)
    };

    // Lab's default session tier is professional: the whole catalog.
    let full = world.stdio(&[]).await;
    let exported = world.cli(&["catalog", "list", "--output", "json"]).await;
    assert!(exported.status.success());
    let catalog: Value = serde_json::from_slice(&exported.stdout).unwrap();
    let catalog_names: Vec<String> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let mut listed = full.tool_names();
    listed.sort();
    let mut expected = catalog_names.clone();
    expected.sort();
    assert_eq!(listed, expected, "tools/list serves exactly the catalog");
    for t in &full.tools {
        let annotations = t.annotations.as_ref().expect("every tool is annotated");
        assert!(t.title.is_some() && t.output_schema.is_some(), "{}", t.name);
        assert!(annotations.read_only_hint.is_some(), "{}", t.name);
    }
    full.close().await;
    // The default tier (MCP_DEFAULT_TOOL_TIER's default, free) stays under 47 KB, about 12,000
    // tokens a client loads once: 40 KB until the four read-only runbook tools joined it, 42 KB
    // until the snapshot and drift tools (config.list_snapshots, config.get_snapshot,
    // config.diff, fleet.get_drift) did.
    let free = world.stdio(&[("MCP_DEFAULT_TOOL_TIER", "free")]).await;
    let size = serde_json::to_string(&json!({"tools": free.tools}))
        .unwrap()
        .len();
    eprintln!(
        "tools/list for the free tier: {} tools, {size} bytes",
        free.tools.len()
    );
    assert!(
        size < 47_000,
        "tools/list is {size} bytes; the budget is 47 KB"
    );
    free.close().await;

    for (tiers, session) in [
        ("free", "free"),
        ("free,basic", "basic"),
        ("free,basic,professional", "free"),
    ] {
        let client = world
            .stdio(&[
                ("MCP_TOOL_TIERS", tiers),
                ("MCP_DEFAULT_TOOL_TIER", session),
            ])
            .await;
        for t in &client.tools {
            assert!(
                rank(&tier_of(t)) <= rank(session),
                "{} (tier {}) is listed for a {session} session",
                t.name,
                tier_of(t)
            );
        }
        let expected = catalog
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| rank(t["tier"].as_str().unwrap()) <= rank(session))
            .count();
        assert_eq!(
            client.tools.len(),
            expected,
            "tiers={tiers} session={session}"
        );
        client.close().await;
    }

    let disabled = world
        .stdio(&[(
            "MCP_DISABLE_TOOLS",
            "routeros.print,firewall.list_filter_rules",
        )])
        .await;
    let names = disabled.tool_names();
    assert!(
        !names
            .iter()
            .any(|n| n == "routeros.print" || n == "firewall.list_filter_rules")
    );
    assert_eq!(names.len(), catalog_names.len() - 2);
    let message = disabled
        .err(
            "routeros.print",
            json!({"device_id": device, "menu": "interface/bridge"}),
        )
        .await;
    assert!(
        message.contains("routeros.print") && message.contains("MCP_DISABLE_TOOLS"),
        "{message}"
    );
    disabled.close().await;

    let read_only = world.stdio_args(&["serve", "--read-only"], &[]).await;
    for t in &read_only.tools {
        assert_eq!(
            t.annotations.as_ref().unwrap().read_only_hint,
            Some(true),
            "{} is listed in read-only mode",
            t.name
        );
    }
    let writes = catalog
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["read_only"] == false)
        .count();
    assert_eq!(read_only.tools.len(), catalog_names.len() - writes);
    read_only.close().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_prompts_completions_and_their_switches() {
    let world = World::start(&[Profile::Home, Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world.stdio(&[]).await;
    let s = &client.service;

    let templates = s.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "device://{device_id}",
            "device://{device_id}/config",
            "device://{device_id}/drift",
            "plan://{plan_id}",
            "runbook://{host}/{runbook_id}",
            "runbook-execution-log://{runbook_id}/logs/{log_id}"
        ]
    );
    let resources = s.list_all_resources().await.unwrap();
    let devices = resources
        .iter()
        .filter(|r| r.uri.starts_with("device://"))
        .count();
    assert_eq!(devices, 2);
    assert_eq!(
        resources.len(),
        2 + 15,
        "the devices, then the built-in runbooks"
    );
    let read = s
        .read_resource(ReadResourceRequestParams::new(format!("device://{device}")))
        .await
        .unwrap();
    let body = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["device"]["name"], device.as_str());
    assert!(
        body["overview"]["version"]
            .as_str()
            .unwrap()
            .starts_with("7.")
    );
    let config = s
        .read_resource(ReadResourceRequestParams::new(format!(
            "device://{device}/config"
        )))
        .await
        .unwrap();
    let export = match &config.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    assert!(export.contains("by RouterOS 7."), "{export}");
    for password in &world.passwords {
        assert!(!export.contains(password.as_str()));
    }
    let drift = s
        .read_resource(ReadResourceRequestParams::new(format!(
            "device://{device}/drift"
        )))
        .await
        .unwrap();
    let drift: Value = match &drift.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => {
            serde_json::from_str(text).unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(drift["device"]["name"], device.as_str());
    assert_eq!(drift["drift"], false, "{drift}");
    let plan = client
        .ok(
            "dns.add_static_entry",
            json!({"device_id": device, "name": "resource.lan", "address": "10.1.1.1"}),
        )
        .await;
    let read = s
        .read_resource(ReadResourceRequestParams::new(format!(
            "plan://{}",
            plan["plan_id"].as_str().unwrap()
        )))
        .await
        .unwrap();
    let body = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    let shown: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["plan_id"], plan["plan_id"]);
    assert_eq!(shown["decisions"][0]["via"], "policy");
    assert!(
        !body.contains(plan["approval"]["approval_token"].as_str().unwrap()),
        "the resource never shows a token"
    );
    let missing = s
        .read_resource(ReadResourceRequestParams::new("device://nowhere"))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("no device \"nowhere\""),
        "{missing}"
    );

    let prompts = s.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names[..4],
        [
            "device-health-check",
            "firewall-review",
            "fleet-triage",
            "execute-runbook"
        ]
    );
    // Then one per published runbook (runbooks.rs has more).
    assert_eq!(names.len(), 4 + 15, "{names:?}");
    assert!(names.contains(&"dhcp-pool-exhausted"));
    let mut args = serde_json::Map::new();
    args.insert("device_id".into(), json!(device));
    let prompt = s
        .get_prompt(GetPromptRequestParams::new("device-health-check").with_arguments(args))
        .await
        .unwrap();
    let said = serde_json::to_string(&prompt.messages).unwrap();
    assert!(
        said.contains(&device) && said.contains("system.get_overview"),
        "{said}"
    );
    let missing = s
        .get_prompt(GetPromptRequestParams::new("firewall-review"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("device_id"), "{missing}");

    let completed = s
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("device-health-check"),
            ArgumentInfo::new("device_id", "sim-000"),
        ))
        .await
        .unwrap();
    assert_eq!(completed.completion.values, world.names);
    let nothing = s
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("device-health-check"),
            ArgumentInfo::new("device_id", "core-"),
        ))
        .await
        .unwrap();
    assert!(nothing.completion.values.is_empty());
    client.close().await;

    let bare = world
        .stdio(&[
            ("MCP_ENABLE_RESOURCES", "false"),
            ("MCP_ENABLE_PROMPTS", "false"),
        ])
        .await;
    let caps = bare.service.peer_info().unwrap().capabilities.clone();
    assert!(caps.resources.is_none() && caps.prompts.is_none() && caps.tools.is_some());
    bare.close().await;
    world.stop().await;
}

/// Calls are audited (tool, device, argument names, outcome; never argument values).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_are_audited_without_argument_values() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world.stdio(&[]).await;
    client
        .ok(
            "routeros.print",
            json!({"device_id": device, "menu": "system/script", "where": {"name": "secret-sauce"}}),
        )
        .await;
    client
        .err("device.get", json!({"device_id": "ghost"}))
        .await;
    client.close().await;
    // The audit record is queued; the server flushes the queue before exiting, so it is there now.
    let out = world
        .cli(&["audit", "list", "--action", "tool.call", "--output", "json"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let all = serde_json::to_string(events).unwrap();
    assert!(
        all.contains("tool:routeros.print") && all.contains("tool:device.get"),
        "{all}"
    );
    assert!(
        all.contains("\"where\"") && !all.contains("secret-sauce"),
        "{all}"
    );
    assert!(all.contains("mcp:stdio:"), "{all}");
    assert!(world.cli(&["audit", "verify"]).await.status.success());
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sessions_health_readiness_metrics_and_rebinding_defence() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let server = world.http_server(&[]).await;
    let (status, body) = server.get("/health").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = server.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"devices_reachable\":1"), "{body}");

    // Two sessions side by side.
    let a = server.client().await;
    let b = server.client().await;
    let (x, y) = tokio::join!(
        a.ok("system.get_overview", json!({"device_id": device})),
        b.ok("device.list", json!({}))
    );
    assert_eq!(x["device"]["name"], device.as_str());
    assert_eq!(y["total"], 1);
    let (_, metrics) = server.get("/metrics").await;
    for needle in [
        "mcp_active_sessions 2",
        "mcp_initialize_total 2",
        r#"mcp_tool_requests_total{status="ok",tool_name="system.get_overview"} 1"#,
        r#"mcp_requests_total{method="tools/call",status="ok"} 2"#,
        "mcp_tool_latency_seconds_bucket",
        "mcp_initialize_duration_seconds_bucket",
        "mcp_tool_estimated_tokens_bucket",
        "routeros_api_requests_total",
    ] {
        assert!(
            metrics.contains(needle),
            "/metrics lacks {needle}:\n{metrics}"
        );
    }
    a.close().await;
    b.close().await;

    // A page on another site cannot reach the server through a rebound DNS name.
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "browser", "version": "1"}}});
    let evil_origin = http
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("origin", "http://evil.example")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(evil_origin.status().as_u16(), 403);
    let evil_host = http
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("host", "evil.example")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert!(
        matches!(evil_host.status().as_u16(), 403 | 421),
        "{}",
        evil_host.status()
    );

    // Not ready once no device answers (after the cached answer expires, within seconds).
    world.sim(&device).reboot(Duration::from_secs(600));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = server.get("/ready").await;
        if status != 200 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("none of the 1 checked answered"), "{body}");
    server.stop().await;
    world.stop().await;
}

/// A non-loopback bind without authentication refuses to start, and says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_public_bind_refuses_to_start() {
    let world = World::start(&[Profile::Home]).await;
    let out = world
        .command(
            &["serve", "--transport", "http"],
            &[("MCP_HTTP_HOST", "0.0.0.0"), ("MCP_HTTP_PORT", "0")],
        )
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MCP_HTTP_HOST") && stderr.contains("loopback"),
        "{stderr}"
    );
    let client = world.stdio(&[]).await;
    assert!(!text(&client.call("device.list", json!({})).await).is_empty());
    client.close().await;
    world.stop().await;
}

/// `serve --demo`: three simulated routers (home, switch48, edge) in one command, nothing to set
/// up, nothing left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_three_simulated_routers() {
    let world = World::start(&[Profile::Home]).await;
    let client = world.stdio_args(&["serve", "--demo"], &[]).await;
    let list = client.ok("device.list", json!({})).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["core-switch", "edge-firewall", "home-router"]);
    let overview = client
        .ok("system.get_overview", json!({"device_id": "edge-firewall"}))
        .await;
    assert!(overview["version"].as_str().unwrap().starts_with("7."));
    let rules = client
        .ok(
            "firewall.list_filter_rules",
            json!({"device_id": "edge-firewall", "limit": 5}),
        )
        .await;
    assert!(rules["total"].as_u64().unwrap() >= 5_000);
    let log = client.log.text();
    assert!(log.contains("demo: edge-firewall (edge profile)"), "{log}");
    let temp = log
        .lines()
        .find_map(|l| {
            l.split_once("temporary database (")
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(dir, _)| std::path::PathBuf::from(dir))
        })
        .expect("the demo says where its database is");
    assert!(temp.exists());
    client.close().await;
    // The client left: the demo stops and removes its database.
    tokio::time::timeout(STEP, async {
        while temp.exists() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the demo's temporary database is removed on exit");
    world.stop().await;
}
