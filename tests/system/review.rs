//! The runbook review queue through the real server over HTTP on loopback (token
//! authentication) and the real CLI beside it, on PostgreSQL when `TEST_DATABASE_URL` is set:
//! proposals read, approved and rejected once, bad requests refused without a change, each
//! project's run logs kept to it, and `/metrics` following every decision.

use std::time::{Duration, Instant};

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::runbooks::{RunRow, VersionRow};

use crate::support::{HttpServer, World, WorldOptions};

const LOGS: &str = "/v1/organizations/default/projects/default/runbooks/interface-down/logs";

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

async fn run_cli(world: &World, args: &[&str]) -> (bool, String, String) {
    let out = world.cli(args).await;
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A request with a bearer token (none when `None`): (status, JSON body or null).
async fn call(
    server: &HttpServer,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", server.root()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(server: &HttpServer, token: &str, path: &str) -> (u16, Value) {
    call(server, Some(token), reqwest::Method::GET, path, None).await
}

async fn post(server: &HttpServer, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(server, Some(token), reqwest::Method::POST, path, Some(body)).await
}

/// The value of the sample named exactly `series` at `/metrics`.
async fn metric(server: &HttpServer, series: &str) -> Option<f64> {
    let (_, text) = server.get("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits (up to 15 s: the gauges are read at most every 5 s) until `series` reads `want`.
async fn metric_becomes(server: &HttpServer, series: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = metric(server, series).await;
        if got.is_some_and(|v| (v - want).abs() < 1e-9) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} stayed {got:?}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The built-in `interface-down` as a recorded version, a failed run of it on the world's
/// router (`default/default`), and three proposals generated from that run (high, high, low
/// priority): their ids and the run's.
pub(crate) async fn seed(world: &World) -> (Vec<String>, String) {
    let store = world.registry().await;
    let ctx = store::AuditContext::new("test:learning");
    let (_, original) = runbook::Index::built_in_files()
        .iter()
        .find(|(f, _)| *f == "interface-down.md")
        .unwrap();
    let hash = |text: &str| runbook::Runbook::parse("x.md", text).unwrap().hash;
    let row = |version: &str, content: &str| VersionRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: "interface-down".into(),
        version: version.into(),
        content_hash: hash(content),
        content: content.into(),
        origin: "built-in".into(),
        status: "published".into(),
        parent_id: None,
        base_hash: None,
        generated_from_run: None,
        proposed_by: None,
        failure_type: None,
        priority: None,
        rationale: None,
        created_at: store::time::now(),
        review_started_at: None,
        reviewer: None,
        review_notes: None,
        reviewed_at: None,
    };
    let parent = store
        .runbook_version_record(&row("1.0.0", original))
        .await
        .unwrap();
    let device = store
        .list_devices(&store::DeviceFilter::default())
        .await
        .unwrap()
        .remove(0);
    let project = store.project(&device.project).await.unwrap();
    let run = RunRow {
        id: uuid::Uuid::now_v7().to_string(),
        runbook: "interface-down".into(),
        version_id: parent.id.clone(),
        project_id: Some(project.id),
        device_key: device.id.to_string(),
        variables: r#"{"device":"sim-0001","interface":"ether2"}"#.into(),
        variables_hash: "x".into(),
        incident: Some("INC-7".into()),
        started_by: "mcp:http:assistant".into(),
        status: "running".into(),
        next_step: 1,
        plan_id: None,
        failed_step: None,
        failure_type: None,
        failure_reason: None,
        steps: "[]".into(),
        state_before: None,
        state_after: None,
        state_diff: None,
        started_at: store::time::now(),
        updated_at: store::time::now(),
        finished_at: None,
    };
    store.runbook_run_start(&run, &ctx).await.unwrap();
    let mut failed = run.clone();
    failed.status = "failed".into();
    failed.failed_step = Some(2);
    failed.failure_type = Some("runbook_insufficient".into());
    failed.failure_reason = Some("the link stayed down after the restart".into());
    failed.steps = r#"[{"step":1,"outcome":"ok"},{"step":2,"outcome":"failed"}]"#.into();
    failed.finished_at = Some(store::time::now());
    store.runbook_run_save(&failed, "running").await.unwrap();
    let mut ids = Vec::new();
    for (n, priority) in ["high", "high", "low"].into_iter().enumerate() {
        let version = format!("1.1.{n}");
        let content = original
            .replacen("version: 1.0.0", &format!("version: {version}"), 1)
            .replacen(
                "## Verify\n",
                &format!("## Verify\nCheck the far side of the link too ({n}).\n"),
                1,
            );
        let mut p = row(&version, &content);
        p.origin = "proposal".into();
        p.status = "pending_review".into();
        p.parent_id = Some(parent.id.clone());
        p.base_hash = Some(parent.content_hash.clone());
        p.generated_from_run = Some(run.id.clone());
        p.priority = Some(priority.into());
        p.failure_type = Some("runbook_insufficient".into());
        store.runbook_propose(&p, &ctx).await.unwrap();
        ids.push(p.id);
    }
    store.close().await;
    (ids, run.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_are_reviewed_over_http_and_the_cli_with_the_metrics_following() {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: 1,
        postgres: Some("system::review"),
    })
    .await;
    for args in [
        &["org", "create", "acme"][..],
        &["project", "create", "acme/site-b"],
    ] {
        let (ok, _, stderr) = run_cli(&world, args).await;
        assert!(ok, "{args:?}: {stderr}");
    }
    let approver = mint(&world, &["--role", "approver", "--name", "reviewer"]).await;
    let viewer = mint(&world, &["--role", "viewer"]).await;
    let other = mint(&world, &["--role", "admin", "--project", "acme/site-b"]).await;
    let (ids, run) = seed(&world).await;
    let server = world.http_server(&[("MCP_AUTH_MODE", "token")]).await;

    // Before any decision.
    metric_becomes(&server, "runbook_review_backlog", 3.0).await;
    assert_eq!(
        metric(&server, "runbook_review_approval_ratio").await,
        Some(0.0)
    );
    assert!(
        metric(&server, "runbook_review_high_priority_oldest_seconds")
            .await
            .is_some()
    );
    assert_eq!(
        metric(&server, "runbook_stale{runbook=\"interface-down\"}").await,
        Some(0.0)
    );

    // Reading: the same authentication as /v1; the queue in order; one proposal in full.
    let (status, _) = call(
        &server,
        None,
        reqwest::Method::GET,
        "/api/review/pending",
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, pending) = get(&server, &viewer, "/api/review/pending").await;
    assert_eq!(status, 200, "{pending}");
    let order: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [ids[0].as_str(), ids[1].as_str(), ids[2].as_str()]);
    let (status, shown) = get(&server, &viewer, &format!("/api/review/runbook/{}", ids[0])).await;
    assert_eq!(status, 200, "{shown}");
    assert!(
        shown["diff"]["unified"]
            .as_str()
            .unwrap()
            .contains("+Check the far side of the link too (0)."),
        "{shown}"
    );
    assert_eq!(shown["source_run"]["id"], run.as_str());
    assert_eq!(shown["source_run"]["project"], "default/default");
    assert_eq!(shown["source_run"]["failed_step"], 2);
    let (_, doc) = get(&server, &viewer, "/v1/openapi.json").await;
    assert!(doc["paths"]["/api/review/approve/{id}"]["post"].is_object());

    // Refusals: nothing changes.
    let approve0 = format!("/api/review/approve/{}", ids[0]);
    let (status, body) = post(&server, &viewer, &approve0, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(&server, &other, &approve0, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(
        &server,
        &approver,
        &format!("/api/review/reject/{}", ids[1]),
        json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("reason"),
        "{body}"
    );
    let (status, body) = post(
        &server,
        &approver,
        "/api/review/approve/0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d",
        json!({}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    for hostile in ["..%2F..%2Fetc%2Fpasswd", "x%1B%5B2Jy", &"9".repeat(4000)] {
        let (status, body) = post(
            &server,
            &approver,
            &format!("/api/review/approve/{hostile}"),
            json!({}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("path parameter id:") && message.chars().count() < 300,
            "{message}"
        );
        assert!(!message.contains('\u{1b}'), "{message}");
    }
    let (status, body) = get(&server, &approver, "/api/review/nothing/here").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
    assert_eq!(metric(&server, "runbook_review_backlog").await, Some(3.0));

    // Approve and reject over HTTP: the statistics and the metrics follow at once.
    let (status, body) = post(
        &server,
        &approver,
        &approve0,
        json!({"reviewer": "mallory@example.com", "notes": "tested"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["reviewer"]
            .as_str()
            .unwrap()
            .starts_with("api:api_token:"),
        "{body}"
    );
    let (status, body) = post(&server, &approver, &approve0, json!({})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = post(
        &server,
        &approver,
        &format!("/api/review/reject/{}", ids[1]),
        json!({"reason": "the first one covers it"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected");
    let (_, stats) = get(&server, &viewer, "/api/review/stats").await;
    assert_eq!(
        (
            &stats["pending_review"],
            &stats["approved"],
            &stats["rejected"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{stats}"
    );
    assert_eq!(stats["approval_ratio"], 0.5);
    assert_eq!(stats["oldest_high_priority_at"], json!(null), "{stats}");
    assert_eq!(metric(&server, "runbook_review_backlog").await, Some(1.0));
    assert_eq!(
        metric(&server, "runbook_review_approval_ratio").await,
        Some(0.5)
    );
    assert_eq!(
        metric(&server, "runbook_review_high_priority_oldest_seconds").await,
        Some(0.0)
    );

    // The approved version is served to every project in place of the built-in.
    let (status, served) = get(
        &server,
        &viewer,
        "/v1/organizations/acme/projects/site-b/runbooks/interface-down",
    )
    .await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(served["version"], "1.1.0");
    assert_eq!(served["origin"], "reviewed");

    // Run logs stay in their project.
    let (status, logs) = get(&server, &viewer, LOGS).await;
    assert_eq!(status, 200, "{logs}");
    assert_eq!(logs["items"][0]["id"], run.as_str());
    let (status, body) = get(&server, &other, LOGS).await;
    assert_eq!(status, 404, "{body}");
    let (status, logs) = get(
        &server,
        &other,
        "/v1/organizations/acme/projects/site-b/runbooks/interface-down/logs",
    )
    .await;
    assert_eq!(status, 200, "{logs}");
    assert_eq!(logs["items"], json!([]));

    // The CLI works the same queue; the running server's metrics follow within seconds.
    let (ok, out, stderr) =
        run_cli(&world, &["runbook", "review", "list", "--output", "json"]).await;
    assert!(ok, "{stderr}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["items"][0]["id"], ids[2].as_str());
    let (ok, _, stderr) = run_cli(&world, &["runbook", "review", "approve", &ids[0]]).await;
    assert!(!ok && stderr.contains("is published"), "{stderr}");
    let (ok, out, stderr) = run_cli(
        &world,
        &[
            "runbook", "review", "approve", &ids[2], "--notes", "fine", "--output", "json",
        ],
    )
    .await;
    assert!(ok, "{stderr}");
    let approved: Value = serde_json::from_str(&out).unwrap();
    assert!(
        approved["reviewer"].as_str().unwrap().starts_with("cli:"),
        "the local user: {approved}"
    );
    metric_becomes(&server, "runbook_review_backlog", 0.0).await;
    metric_becomes(&server, "runbook_review_approval_ratio", 2.0 / 3.0).await;
    let (_, stats) = get(&server, &viewer, "/api/review/stats").await;
    assert_eq!(stats["approved"], 2, "{stats}");

    server.stop().await;
    world.stop().await;
}
