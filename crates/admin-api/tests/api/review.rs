//! The runbook review queue (`/api/review/…`) and the runbook routes of a project: reading,
//! deciding once, refusing bad ids and bodies without changing anything, and keeping each
//! project's runs to itself.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{App, principal};

const A: &str = "/v1/organizations/acme/projects/site-a";
const B: &str = "/v1/organizations/acme/projects/site-b";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_are_read_approved_and_rejected_with_the_statistics_following() {
    let app = App::start().await;
    let viewer = principal("vera", &["viewer"]);
    let approver = principal("paul", &["approver"]);
    let first = app.propose_runbook().await;
    let second = app.propose_runbook().await;

    let stats = app.get(&viewer, "/api/review/stats").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert_eq!(stats.body["pending_review"], 2);
    assert_eq!(stats.body["approval_ratio"], 0.0);
    assert!(stats.body["oldest_high_priority_at"].is_string());

    let pending = app.get(&viewer, "/api/review/pending?priority=high").await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text);
    let ids: Vec<&str> = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()], "oldest first");
    let low = app.get(&viewer, "/api/review/pending?priority=low").await;
    assert_eq!(low.body["items"], json!([]));
    let one = app.get(&viewer, "/api/review/pending?limit=1").await;
    assert_eq!(one.body["items"].as_array().unwrap().len(), 1);

    // The proposal with its diff to the built-in and the failed run behind it.
    let shown = app
        .get(&viewer, &format!("/api/review/runbook/{}", first.id))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    let p = &shown.body;
    assert_eq!(p["runbook"], "interface-down");
    assert_eq!(p["version"], first.version.as_str());
    assert_eq!(p["status"], "pending_review");
    assert_eq!(p["parent"]["version"], "1.0.0");
    assert_eq!(
        (p["diff"]["added"].as_u64(), p["diff"]["removed"].as_u64()),
        (Some(2), Some(1))
    );
    let unified = p["diff"]["unified"].as_str().unwrap();
    assert!(unified.contains("+Check the neighbour's side"), "{unified}");
    assert!(unified.starts_with("--- interface-down 1.0.0"), "{unified}");
    let run = &p["source_run"];
    assert_eq!(run["id"], first.run_id.as_str());
    assert_eq!(run["project"], "acme/site-a");
    assert_eq!(run["status"], "failed");
    assert_eq!(run["failed_step"], 2);
    assert_eq!(run["failure_type"], "runbook_insufficient");
    assert_eq!(run["steps"][1]["tool"], "interface.enable");
    assert_eq!(run["variables"]["interface"], "ether2");

    // Approved as the authenticated principal, whatever the body calls the reviewer.
    let approved = app
        .post(
            &approver,
            &format!("/api/review/approve/{}", first.id),
            json!({"reviewer": "somebody-else@example.com", "notes": "tested in the lab"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["status"], "published");
    assert_eq!(approved.body["reviewer"], "api:oidc:paul");
    assert_eq!(approved.body["review_notes"], "tested in the lab");
    let audit = app
        .store()
        .audit_events(&store::AuditFilter {
            target: Some(format!("runbook-version:{}", first.id)),
            limit: 10,
            ..store::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "runbook.review_approve");
    assert_eq!(audit[0].actor, "api:oidc:paul");
    assert!(!audit[0].details.to_string().contains("somebody-else"));

    // It is served at once in place of the built-in.
    let served = app
        .get(&viewer, &format!("{A}/runbooks/interface-down"))
        .await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text);
    assert_eq!(served.body["version"], first.version.as_str());
    assert_eq!(served.body["origin"], "reviewed");
    assert!(
        served.body["content"]
            .as_str()
            .unwrap()
            .contains("neighbour's side")
    );

    let rejected = app
        .post(
            &approver,
            &format!("/api/review/reject/{}", second.id),
            json!({"reviewer": "paul@example.com", "reason": "the first one covers it"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["review_notes"], "the first one covers it");

    let stats = app.get(&viewer, "/api/review/stats").await;
    assert_eq!(stats.body["pending_review"], 0);
    assert_eq!(stats.body["approved"], 1);
    assert_eq!(stats.body["rejected"], 1);
    assert_eq!(stats.body["approval_ratio"], 0.5);
    assert_eq!(stats.body["oldest_high_priority_at"], json!(null));
    assert_eq!(stats.body["oldest_high_priority_age_seconds"], 0);
    let pending = app.get(&viewer, "/api/review/pending").await;
    assert_eq!(pending.body["items"], json!([]));

    // The versions of the runbook with their lineage; the approved one is served.
    let versions = app
        .get(&viewer, &format!("{A}/runbooks/interface-down/versions"))
        .await;
    assert_eq!(versions.status, StatusCode::OK, "{}", versions.text);
    let items = versions.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", versions.text);
    let built_in = &items[0];
    assert_eq!(built_in["origin"], "built-in");
    assert_eq!(built_in["status"], "deprecated");
    assert_eq!(built_in["runs"]["failed"], 2);
    assert_eq!(built_in["runs"]["success_rate"], 0.0);
    assert_eq!(items[1]["parent_version"], "1.0.0");
    assert_eq!(items[1]["served"], true);
    assert_eq!(items[1]["generated_from_run"], first.run_id.as_str());
    assert_eq!(items[2]["status"], "rejected");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_is_taken_once_by_an_approver_for_every_project() {
    let app = App::start().await;
    let proposed = app.propose_runbook().await;
    let approve = format!("/api/review/approve/{}", proposed.id);
    let reject = format!("/api/review/reject/{}", proposed.id);
    let before = app.audit_count().await;

    // A viewer reads but cannot decide; an approver of one project cannot either (an approved
    // version is served to every project), nor read the queue.
    let viewer = principal("vera", &["viewer"]);
    let refused = app.post(&viewer, &approve, json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(
        refused
            .message()
            .contains("needs the approver role for every project")
            && refused.message().contains("you hold viewer"),
        "{}",
        refused.message()
    );
    let scoped = principal("sam", &["acme/site-a:approver"]);
    let refused = app.post(&scoped, &approve, json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(
        refused.message().contains("acme/site-a:approver"),
        "{}",
        refused.message()
    );
    let refused = app.get(&scoped, "/api/review/pending").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let refused = app
        .call(None, Method::POST, &approve, Some(json!({})))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.version_status(&proposed.id).await, "pending_review");
    assert_eq!(app.audit_count().await, before, "refusals change nothing");

    let approver = principal("paul", &["approver"]);
    let ok = app.post(&approver, &approve, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let after = app.audit_count().await;
    assert_eq!(after, before + 1);

    // Twice, or rejecting what was approved: 409, and nothing changes.
    for (path, body) in [
        (&approve, json!({"notes": "again"})),
        (&reject, json!({"reason": "changed my mind"})),
    ] {
        let again = app.post(&approver, path, body).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        assert_eq!(again.code(), "conflict");
        assert!(
            again.message().contains("is published")
                && again.message().contains("pending_review or in_review"),
            "{}",
            again.message()
        );
    }
    assert_eq!(app.version_status(&proposed.id).await, "published");
    assert_eq!(app.audit_count().await, after);
    let stored = app
        .store()
        .runbook_version(&proposed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.review_notes, None);
    assert_eq!(stored.reviewer.as_deref(), Some("api:oidc:paul"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ids_and_bodies_are_named_and_change_nothing() {
    let app = App::start().await;
    let approver = principal("paul", &["approver"]);
    let proposed = app.propose_runbook().await;
    let before = app.audit_count().await;

    // A rejection needs a reason.
    let reject = format!("/api/review/reject/{}", proposed.id);
    for (body, says) in [
        (json!({}), "missing field `reason`"),
        (json!({"reason": "  "}), "reason: must not be empty"),
        (json!({"reason": "a\u{1b}[2Jb"}), "reason: contains"),
        (json!({"reason": "x".repeat(1001)}), "at most 1000"),
        (
            json!({"reason": "ok", "severity": 3}),
            "unknown field `severity`",
        ),
        (
            json!({"reason": "ok", "reviewer": "a\nb"}),
            "reviewer: contains",
        ),
    ] {
        let reply = app.post(&approver, &reject, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request");
        assert!(
            reply.message().contains(says),
            "{body}: {}",
            reply.message()
        );
    }
    let reply = app.call(Some(&approver), Method::POST, &reject, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let reply = app
        .post(
            &approver,
            &format!("/api/review/approve/{}", proposed.id),
            json!({"notes": "a\u{202e}b"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    // An id that is well formed but unknown: 404.
    let unknown = "0193c1f2-7a4e-7d21-9a0b-3c5e1f2a4b6d";
    for path in [
        format!("/api/review/runbook/{unknown}"),
        format!("/api/review/approve/{unknown}"),
    ] {
        let reply = app
            .call(
                Some(&approver),
                if path.contains("approve") {
                    Method::POST
                } else {
                    Method::GET
                },
                &path,
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
        assert!(reply.message().contains(unknown), "{}", reply.message());
    }

    // Hostile ids: refused with the text escaped and cut short.
    let long = "a".repeat(5000);
    for (id, shown) in [
        ("..%2F..%2Fetc%2Fpasswd", "\"../../etc/passwd\""),
        ("x%1B%5B2Jy", "\"x\\e[2Jy\""),
        ("%E2%80%AEevil", "\\u{202e}evil"),
        (long.as_str(), "…"),
        ("p1", "\"p1\""),
    ] {
        for (method, route) in [
            (Method::GET, "runbook"),
            (Method::POST, "approve"),
            (Method::POST, "reject"),
        ] {
            let path = format!("/api/review/{route}/{id}");
            let body = (method == Method::POST).then(|| json!({"reason": "no"}));
            let reply = app.call(Some(&approver), method, &path, body).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{route} {id}: {}",
                reply.text
            );
            let message = reply.message();
            assert!(
                message.starts_with("path parameter id: ") && message.contains(shown),
                "{route}: {message}"
            );
            assert!(message.contains("expected a UUID"), "{message}");
            assert!(message.chars().count() < 300, "bounded: {message}");
            assert!(!message.contains('\u{1b}') && !message.contains('\u{202e}'));
        }
    }

    // Query strings.
    for (query, says) in [
        (
            "priority=urgent",
            "query parameter priority: \"urgent\" is not a priority; expected high, medium or low",
        ),
        ("limit=0", "from 1 to 500"),
        ("status=pending", "unknown field `status`"),
    ] {
        let reply = app
            .get(&approver, &format!("/api/review/pending?{query}"))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        assert!(
            reply.message().contains(says),
            "{query}: {}",
            reply.message()
        );
    }

    assert_eq!(app.version_status(&proposed.id).await, "pending_review");
    assert_eq!(app.audit_count().await, before, "nothing was recorded");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_that_does_not_validate_cannot_be_approved() {
    let app = App::start().await;
    let approver = principal("paul", &["approver"]);
    let mut bad = crate::support::version_row(
        "interface-down",
        "9.9.9",
        "---\nname: interface-down\n---\nnot much of a runbook\n",
        "proposal",
        "pending_review",
        None,
    );
    bad.priority = Some("low".into());
    app.store()
        .runbook_propose(&bad, &store::AuditContext::new("test"))
        .await
        .unwrap();
    let reply = app
        .post(
            &approver,
            &format!("/api/review/approve/{}", bad.id),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.message().contains("does not validate") && reply.message().contains("reject it"),
        "{}",
        reply.message()
    );
    assert_eq!(app.version_status(&bad.id).await, "pending_review");
    let reply = app
        .post(
            &approver,
            &format!("/api/review/reject/{}", bad.id),
            json!({"reason": "broken"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbooks_are_shared_and_runs_stay_in_their_project() {
    let app = App::start().await;
    let proposed = app.propose_runbook().await;
    let site_a = principal("ann", &["acme/site-a:viewer"]);
    let site_b = principal("bob", &["acme/site-b:viewer"]);

    // Every project lists the same runbooks; the runs are counted per project.
    for (who, base, failed) in [(&site_a, A, 1), (&site_b, B, 0)] {
        let list = app.get(who, &format!("{base}/runbooks")).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        let items = list.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 15, "{}", list.text);
        let down = items
            .iter()
            .find(|i| i["name"] == "interface-down")
            .unwrap();
        assert_eq!(down["version"], "1.0.0");
        assert_eq!(down["status"], "published");
        assert_eq!(down["stale"], false);
        assert_eq!(down["origin"], "built_in");
        assert_eq!(down["runs"]["failed"], failed, "{base}");
        assert!(down["version_id"].is_string());
    }
    let page = app.get(&site_a, &format!("{A}/runbooks?limit=10")).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 10);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(&site_a, &format!("{A}/runbooks?limit=10&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(rest.body["next_cursor"], json!(null));
    let tagged = app
        .get(&site_a, &format!("{A}/runbooks?status=draft"))
        .await;
    assert_eq!(tagged.body["items"], json!([]));

    // Logs: a project sees the runs on its devices, never another project's.
    let logs = app
        .get(&site_a, &format!("{A}/runbooks/interface-down/logs"))
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{}", logs.text);
    assert_eq!(logs.body["items"][0]["id"], proposed.run_id.as_str());
    assert_eq!(
        logs.body["items"][0]["failure_type"],
        "runbook_insufficient"
    );
    assert_eq!(logs.body["items"][0]["steps"][0]["tool"], "interface.list");
    let theirs = app
        .get(&site_b, &format!("{A}/runbooks/interface-down/logs"))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    assert!(!theirs.text.contains(&proposed.run_id));
    let own = app
        .get(&site_b, &format!("{B}/runbooks/interface-down/logs"))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["items"], json!([]));
    // Another project's versions hide the run a proposal came from.
    let versions = app
        .get(&site_b, &format!("{B}/runbooks/interface-down/versions"))
        .await;
    let proposal = versions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == proposed.id.as_str())
        .unwrap();
    assert_eq!(proposal["generated_from_run"], json!(null));

    // Names: malformed 400 (escaped, bounded), unknown 404.
    for (name, status) in [
        ("no-such-runbook", StatusCode::NOT_FOUND),
        ("Bad%20Name", StatusCode::BAD_REQUEST),
        ("..%2Fsecrets", StatusCode::BAD_REQUEST),
        ("a%1Bb", StatusCode::BAD_REQUEST),
    ] {
        for suffix in ["", "/versions", "/logs"] {
            let reply = app
                .get(&site_a, &format!("{A}/runbooks/{name}{suffix}"))
                .await;
            assert_eq!(reply.status, status, "{name}{suffix}: {}", reply.text);
            assert!(!reply.message().contains('\u{1b}'));
        }
    }
    let long = app
        .get(&site_a, &format!("{A}/runbooks/{}", "x".repeat(3000)))
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(long.message().chars().count() < 300, "{}", long.message());
    app.stop().await;
}

const DRAFT: &str = "---\nname: lan-check\ntitle: LAN check\ndescription: Checks the LAN side.\nversion: 0.1.0\nstatus: draft\ntags: [lan]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nLAN hosts complain.\n\n## Diagnosis\n1. Read the addresses.\n```tool ip.list_addresses\n{\"device_id\": \"{var.device}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_created_like_the_tool_creates_it() {
    let app = App::start().await;
    let operator = principal("olga", &["acme/site-a:operator"]);
    let viewer = principal("vera", &["acme/site-a:viewer"]);
    let path = format!("{A}/runbooks");
    let body = json!({"name": "lan-check", "content": DRAFT});

    let refused = app.post(&viewer, &path, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let before = app.audit_count().await;
    let made = app.post(&operator, &path, body.clone()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["status"], "draft");
    assert_eq!(made.body["file"], "lan-check.md");
    let written = std::fs::read_to_string(app.runbook_dir.path().join("lan-check.md")).unwrap();
    assert_eq!(written, DRAFT);
    assert_eq!(app.audit_count().await, before + 1);
    let listed = app.get(&viewer, &format!("{path}?status=draft")).await;
    assert_eq!(
        listed.body["items"][0]["name"], "lan-check",
        "{}",
        listed.text
    );
    assert_eq!(listed.body["items"][0]["origin"], "operator");

    let again = app.post(&operator, &path, body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let bad = app
        .post(&operator, &path, json!({"name": "other", "content": DRAFT}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(
        bad.message().contains("must be the same"),
        "{}",
        bad.message()
    );
    assert_eq!(app.audit_count().await, before + 1);

    // Without an operator's folder there is nowhere to write.
    let catalog = std::sync::Arc::new(catalog::Catalog::embedded().unwrap());
    let folderless = tools::runbook::Runbooks::new(
        runbook::Index::load(std::sync::Arc::clone(&catalog), None),
        None,
        catalog,
    );
    let router = admin_api::router(
        app.state
            .clone()
            .with_runbooks(Some(std::sync::Arc::new(folderless))),
    );
    let response = tower::ServiceExt::oneshot(
        router.layer(axum::Extension(std::sync::Arc::new(operator.clone()))),
        axum::http::Request::post(&path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"name": "lan-check-2", "content": DRAFT.replace("lan-check", "lan-check-2")})
                    .to_string(),
            ))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let bytes = axum::body::to_bytes(response.into_body(), 65536)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("ROUTEROS_MCP_RUNBOOK_DIR"), "{text}");
    app.stop().await;
}
