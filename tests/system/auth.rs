//! Who may call over HTTP, and what each caller sees: API tokens minted by the CLI, access tokens
//! from a real OpenID provider (oidc-provider under node), roles per project, and the role
//! matrix over every tool — all against the real binary.

use std::time::Duration;

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::oidc::{Provider, client};
use crate::support::{HttpServer, World, text};

/// The audience the provider's tokens are requested for, and the server requires.
const AUDIENCE: &str = "https://mcp.test/mcp";

/// Every tier shown, so what a caller sees depends on its role alone.
const ALL_TIERS: [(&str, &str); 2] = [
    ("MCP_TOOL_TIERS", "free,basic,professional"),
    ("MCP_DEFAULT_TOOL_TIER", "professional"),
];

/// `routeros-mcp token create …` → the token.
async fn mint(world: &World, args: &[&str]) -> String {
    let mut all = vec!["token", "create", "--output", "json"];
    all.extend_from_slice(args);
    let out = world.cli(&all).await;
    assert!(
        out.status.success(),
        "token create {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// A raw JSON-RPC `initialize` POST with an optional bearer token: (status, headers, body).
async fn raw_initialize(
    server: &HttpServer,
    bearer: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = reqwest::Client::new()
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"}}})
            .to_string(),
        );
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

/// GET on the admin API with a bearer token: (status, JSON body).
async fn admin_get(server: &HttpServer, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", server.root()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Two routers: the first in `default/default`, the second moved to `acme/site-b`.
async fn two_projects() -> World {
    let world = World::start(&[Profile::Home, Profile::Home]).await;
    for args in [
        &["org", "create", "acme"][..],
        &["project", "create", "acme/site-b"][..],
        &["device", "decommission", &world.names[1]][..],
    ] {
        let out = world.cli(args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let manifest = world.manifest();
    let second = json!({"devices": [manifest.devices[1]]});
    let file = world.dir.path().join("site-b.json");
    std::fs::write(&file, second.to_string()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = world
        .cli(&[
            "device",
            "import",
            file.to_str().unwrap(),
            "--project",
            "acme/site-b",
            "--env",
            "lab",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    world
}

/// API tokens: refused without one or with a wrong or revoked one (401 and a challenge);
/// accepted with one; a project-scoped token never sees the other project's router — not in
/// device.list, fleet.get_health, resources, completions or the admin API — and a viewer token
/// gets no write tool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_authenticate_and_scope_what_a_caller_sees() {
    let world = two_projects().await;
    let (home, away) = (world.names[0].clone(), world.names[1].clone());
    let scoped = mint(
        &world,
        &[
            "--role",
            "operator",
            "--project",
            "default/default",
            "--name",
            "site a",
        ],
    )
    .await;
    let viewer = mint(&world, &["--role", "viewer", "--name", "dashboards"]).await;
    let admin = mint(&world, &["--role", "admin", "--name", "ops"]).await;
    let mut env = vec![("MCP_AUTH_MODE", "token")];
    env.extend_from_slice(&ALL_TIERS);
    let server = world.http_server(&env).await;

    // No token, a made-up one, a malformed header.
    let (status, headers, body) = raw_initialize(&server, None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"routeros-mcp\"");
    let forged = format!("rmcp_{}_{}", "0".repeat(16), "0".repeat(64));
    let (status, headers, body) = raw_initialize(&server, Some(&forged)).await;
    assert_eq!(status, 401, "{body}");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(!body.contains(&forged) && !server.log.text().contains(&forged));
    assert!(server.client_bearer("not a token at all").await.is_err());

    // The project-scoped operator sees its own router only, everywhere.
    let op = server.client_bearer(&scoped).await.unwrap();
    let listed = op.ok("device.list", json!({})).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![home.as_str()]);
    let health = op.ok("fleet.get_health", json!({})).await;
    assert_eq!(health.to_string().matches(&away).count(), 0, "{health}");
    let missing = op
        .err("system.get_overview", json!({"device_id": away}))
        .await;
    assert!(
        missing.contains(&format!("no device \"{away}\"")),
        "{missing}"
    );
    let unknown = op
        .err(
            "system.get_overview",
            json!({"device_id": "no-such-router"}),
        )
        .await;
    assert_eq!(
        missing.replace(&away, "X"),
        unknown.replace("no-such-router", "X"),
        "a hidden router reads exactly as a missing one"
    );
    let resources = op.service.list_all_resources().await.unwrap();
    assert!(
        resources.iter().all(|r| !r.uri.contains(&away)),
        "{resources:?}"
    );
    let read = op
        .service
        .read_resource(rmcp::model::ReadResourceRequestParams::new(format!(
            "device://{away}"
        )))
        .await;
    assert!(read.is_err(), "another project's router is not a resource");
    let completion = op
        .service
        .complete(rmcp::model::CompleteRequestParams::new(
            rmcp::model::Reference::for_resource("device://{device_id}"),
            rmcp::model::ArgumentInfo::new("device_id", ""),
        ))
        .await
        .unwrap();
    assert!(
        completion.completion.values.iter().all(|v| v != &away),
        "{:?}",
        completion.completion.values
    );
    // A write on its own router is planned; on the other project's router it is not found.
    let plan = op
        .ok(
            "system.set_identity",
            json!({"device_id": home, "name": "renamed"}),
        )
        .await;
    assert!(plan["plan_id"].is_string(), "{plan}");
    let refused = op
        .err(
            "system.set_identity",
            json!({"device_id": away, "name": "x"}),
        )
        .await;
    assert!(refused.contains("no device"), "{refused}");
    // The admin API agrees: the other project does not exist for this caller.
    let (status, body) = admin_get(
        &server,
        &scoped,
        "/v1/organizations/acme/projects/site-b/devices",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = admin_get(
        &server,
        &scoped,
        "/v1/organizations/default/projects/default/devices",
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A viewer reads everything and is offered no write tool; asking anyway is refused.
    let view = server.client_bearer(&viewer).await.unwrap();
    assert!(
        !view
            .tool_names()
            .iter()
            .any(|t| t == "plan.create" || t == "system.set_identity")
    );
    assert_eq!(view.ok("device.list", json!({})).await["total"], 2);
    let denied = view
        .err(
            "system.set_identity",
            json!({"device_id": home, "name": "x"}),
        )
        .await;
    assert!(denied.contains("needs the operator role"), "{denied}");

    // The admin sees both projects; revoking the viewer's token shuts it out at once.
    let (status, body) = admin_get(
        &server,
        &admin,
        "/v1/organizations/acme/projects/site-b/devices",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = viewer.split('_').nth(1).unwrap().to_owned();
    let out = world.cli(&["token", "revoke", &id]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, _) = raw_initialize(&server, Some(&viewer)).await;
    assert_eq!(status, 401);

    // Refusals are counted by reason.
    let (_, metrics) = server.get("/metrics").await;
    let revoked = metrics
        .lines()
        .find(|l| l.starts_with("auth_failures_total{reason=\"revoked\"}"))
        .unwrap_or_default();
    assert!(revoked.ends_with(" 2"), "{revoked}");
    assert!(
        metrics.contains(
            "rbac_authorization_denied_total{action=\"system.set_identity\",role=\"viewer\"} 1"
        ),
        "{metrics}"
    );

    // Nothing secret reached the log.
    let log = server.log.text();
    for secret in [&scoped, &viewer, &admin] {
        assert!(!log.contains(secret.as_str()));
    }
    for c in [op, view] {
        c.close().await;
    }
    server.stop().await;
    world.stop().await;
}

/// The role matrix: for every tool of the catalog and every role, the tool is listed exactly
/// when the role allows it, and a call by a role that does not is refused naming the role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_offered_and_refused_by_role() {
    let world = World::start(&[Profile::Home]).await;
    let catalog = catalog::Catalog::embedded().unwrap();
    let mut env = vec![("MCP_AUTH_MODE", "token")];
    env.extend_from_slice(&ALL_TIERS);
    let server = world.http_server(&env).await;
    for role in ["viewer", "operator", "approver", "admin"] {
        let token = mint(&world, &["--role", role]).await;
        let session = server.client_bearer(&token).await.unwrap();
        let listed = session.tool_names();
        for spec in catalog.iter() {
            let needs = mcp_server::access::role_for(spec.tier);
            let allowed = role.parse::<auth::Role>().unwrap().includes(needs);
            assert_eq!(
                listed.contains(&spec.name),
                allowed,
                "{role} × {}",
                spec.name
            );
            if !allowed {
                let r = session.call(&spec.name, json!({})).await;
                assert_eq!(r.is_error, Some(true), "{role} × {}", spec.name);
                assert!(
                    text(&r).contains(&format!("needs the {needs} role")),
                    "{role} × {}: {}",
                    spec.name,
                    text(&r)
                );
            }
        }
        session.close().await;
    }
    server.stop().await;
    world.stop().await;
}

/// Access tokens from a real OpenID provider: the server publishes its protected resource
/// metadata, challenges without a token, accepts the provider's tokens with the roles they
/// carry, refuses a token for another audience, and keeps accepting tokens after the provider
/// rotates its signing key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_access_tokens_from_a_real_provider() {
    let provider = Provider::start(json!([
        client(
            "ops",
            "RS256",
            json!({"roles": ["default/default:operator"]})
        ),
        client("dash", "ES256", json!({"roles": "viewer"})),
    ]))
    .await;
    let world = World::start(&[Profile::Home]).await;
    let mut env = vec![
        ("MCP_AUTH_MODE", "oidc"),
        ("OIDC_ISSUER", provider.issuer.as_str()),
        ("OIDC_AUDIENCE", AUDIENCE),
    ];
    env.extend_from_slice(&ALL_TIERS);
    let server = world.http_server(&env).await;

    let (status, body) = server.get("/.well-known/oauth-protected-resource").await;
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["authorization_servers"][0], provider.issuer.as_str());
    let (status, headers, _) = raw_initialize(&server, None).await;
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge,
        format!(
            "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            server.root()
        )
    );

    let ops = provider.token("ops", AUDIENCE, None).await;
    let session = server.client_bearer(&ops).await.unwrap();
    assert!(session.tool_names().iter().any(|t| t == "plan.create"));
    assert_eq!(session.ok("device.list", json!({})).await["total"], 1);
    session.close().await;

    let dash = provider.token("dash", AUDIENCE, None).await;
    let viewer = server.client_bearer(&dash).await.unwrap();
    assert!(!viewer.tool_names().iter().any(|t| t == "plan.create"));
    viewer.close().await;

    let elsewhere = provider.token("ops", "https://other.test/mcp", None).await;
    let (status, headers, _) = raw_initialize(&server, Some(&elsewhere)).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    provider.rotate().await;
    let fresh = provider.token("ops", AUDIENCE, None).await;
    let (status, _, body) = raw_initialize(&server, Some(&fresh)).await;
    assert_eq!(
        status, 200,
        "a token signed with the rotated key is accepted: {body}"
    );

    // A server whose provider cannot be reached does not start.
    let down = world
        .command(
            &["serve", "--transport", "http"],
            &[
                ("MCP_HTTP_PORT", "0"),
                ("MCP_AUTH_MODE", "oidc"),
                ("OIDC_ISSUER", "http://127.0.0.1:9"),
            ],
        )
        .output();
    let down = tokio::time::timeout(Duration::from_secs(60), down)
        .await
        .unwrap()
        .unwrap();
    assert!(!down.status.success());
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("OIDC_ISSUER"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    server.stop().await;
    world.stop().await;
}

/// After the identity provider withdraws a signing key (a compromise), SIGHUP makes the server
/// fetch the keys anew: tokens signed with the withdrawn key are refused at once, without a
/// restart, and tokens with the new key work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_fetches_the_identity_providers_keys_anew() {
    let provider = Provider::start(json!([client(
        "ops",
        "RS256",
        json!({"roles": ["operator"]})
    )]))
    .await;
    let world = World::start(&[Profile::Home]).await;
    let server = world
        .http_server(&[
            ("MCP_AUTH_MODE", "oidc"),
            ("OIDC_ISSUER", provider.issuer.as_str()),
            ("OIDC_AUDIENCE", AUDIENCE),
        ])
        .await;
    let old = provider.token("ops", AUDIENCE, None).await;
    assert_eq!(raw_initialize(&server, Some(&old)).await.0, 200);

    provider.withdraw().await;
    assert_eq!(
        raw_initialize(&server, Some(&old)).await.0,
        200,
        "the keys known are trusted until they age out"
    );
    crate::lifecycle::signal(crate::lifecycle::pid(&server), "HUP");
    crate::lifecycle::log_shows(
        &server.log,
        "configuration reload: the identity provider's signing keys are fetched anew",
    )
    .await;
    let (status, headers, _) = raw_initialize(&server, Some(&old)).await;
    assert_eq!(status, 401, "the withdrawn key no longer verifies");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let new = provider.token("ops", AUDIENCE, None).await;
    assert_eq!(raw_initialize(&server, Some(&new)).await.0, 200);
    server.stop().await;
    world.stop().await;
}

/// `MCP_PRINCIPAL_RATE_LIMIT`: one token's calls beyond the rate are refused with the wait,
/// counted, and do not hold back another principal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_principals_calls_beyond_its_rate_are_refused_and_others_go_on() {
    let world = World::start(&[Profile::Home]).await;
    let busy = mint(&world, &["--role", "viewer", "--name", "busy script"]).await;
    let calm = mint(&world, &["--role", "viewer", "--name", "dashboard"]).await;
    let server = world
        .http_server(&[
            ("MCP_AUTH_MODE", "token"),
            ("MCP_PRINCIPAL_RATE_LIMIT", "2"),
        ])
        .await;
    let script = server.client_bearer(&busy).await.unwrap();
    let mut answered = 0;
    let mut refusal = None;
    // At 2 calls a second, 20 calls cannot all pass in less than 9 s; they take far less.
    for _ in 0..20 {
        let result = script.call("device.list", json!({})).await;
        if result.is_error == Some(true) {
            refusal = Some(text(&result));
            break;
        }
        answered += 1;
    }
    let refusal = refusal.expect("a call beyond the rate is refused");
    assert!(answered >= 2, "the burst is allowed: {answered}");
    assert!(
        refusal.contains("MCP_PRINCIPAL_RATE_LIMIT") && refusal.contains("try again in"),
        "{refusal}"
    );
    let dashboard = server.client_bearer(&calm).await.unwrap();
    assert_eq!(dashboard.ok("device.list", json!({})).await["total"], 1);
    let (_, metrics) = server.get("/metrics").await;
    let refused: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("mcp_principal_rate_limited_total "))
        .expect("the counter is exported")
        .trim()
        .parse()
        .unwrap();
    assert!(refused >= 1.0, "{refused}");
    script.close().await;
    dashboard.close().await;
    server.stop().await;
    world.stop().await;
}
