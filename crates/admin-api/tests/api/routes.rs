//! Every route doing what it is for.

use axum::http::{Method, StatusCode};
use routeros::Fingerprint;
use serde_json::{Value, json};

use crate::support::{App, admin, fresh, principal};

const A: &str = "/v1/organizations/acme/projects/site-a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_and_projects_are_listed_and_created() {
    let app = App::start().await;
    let root = admin();
    let orgs = app.get(&root, "/v1/organizations").await;
    assert_eq!(orgs.status, StatusCode::OK, "{}", orgs.text);
    let names: Vec<&str> = orgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "default", "globex"]);
    assert_eq!(orgs.body["items"][0]["projects"], 3);

    let created = app
        .post(&root, "/v1/organizations", json!({"name": "initech"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["name"], "initech");
    assert_eq!(created.body["projects"], 1, "with its default project");
    let again = app
        .post(&root, "/v1/organizations", json!({"name": "initech"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "conflict");

    let project = app
        .post(
            &root,
            "/v1/organizations/initech/projects",
            json!({"name": "tps-reports"}),
        )
        .await;
    assert_eq!(project.status, StatusCode::CREATED, "{}", project.text);
    assert_eq!(project.body["org"], "initech");
    assert_eq!(project.body["name"], "tps-reports");
    assert_eq!(project.body["devices"], 0);
    let listed = app.get(&root, "/v1/organizations/initech/projects").await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "tps-reports"]);
    let acme = app.get(&root, "/v1/organizations/acme/projects").await;
    assert_eq!(acme.body["items"][1]["name"], "site-a");
    assert_eq!(acme.body["items"][1]["devices"], 1);

    let missing = app.get(&root, "/v1/organizations/nowhere/projects").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let orphan = app
        .post(
            &root,
            "/v1/organizations/nowhere/projects",
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(orphan.status, StatusCode::NOT_FOUND);

    // Both creations are audited with the principal as actor and the request's correlation id.
    let events = app
        .store()
        .audit_events(&store::AuditFilter {
            action: Some("project.create".into()),
            limit: 1,
            ..store::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].actor, "api:oidc:root");
    assert_eq!(events[0].target, "project:initech/tps-reports");
    assert_eq!(
        project.headers["x-correlation-id"].to_str().unwrap(),
        events[0].correlation_id
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_onboarded_read_changed_tested_rotated_and_decommissioned() {
    let app = App::start().await;
    let root = admin();
    let m = app.manifest[2].clone();
    let created = app
        .post(
            &root,
            &format!("{A}/devices"),
            json!({
                "name": "edge-1",
                "address": m.address,
                "rest_port": m.https_port,
                "ssh_port": m.ssh_port,
                "environment": "lab",
                "tags": {"site": "fra1"},
                "username": m.username,
                "password": m.password,
                "trust_on_first_use": true,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let tls = Fingerprint::parse(&m.tls_sha256).unwrap().hex();
    let ssh = Fingerprint::parse(&m.ssh_host_key_sha256).unwrap().hex();
    assert_eq!(
        created.body["fingerprints"]["tls_cert_sha256"],
        tls.as_str()
    );
    assert_eq!(
        created.body["fingerprints"]["ssh_host_key_sha256"],
        ssh.as_str()
    );
    let device = &created.body["device"];
    assert_eq!(device["project"], "acme/site-a");
    assert_eq!(device["environment"], "lab");
    assert_eq!(device["tags"]["site"], "fra1");
    assert_eq!(device["identity"], m.identity.as_str());
    assert!(
        device["routeros_version"]
            .as_str()
            .unwrap()
            .starts_with("7.")
    );
    assert_eq!(created.body["probes"].as_array().unwrap().len(), 2);
    assert!(
        created.body["probes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["reachable"] == true)
    );
    let id = device["id"].as_str().unwrap().to_owned();

    // By id and by name.
    for key in [id.as_str(), "edge-1"] {
        let got = app.get(&root, &format!("{A}/devices/{key}")).await;
        assert_eq!(got.status, StatusCode::OK, "{key}: {}", got.text);
        assert_eq!(got.body["id"], id.as_str());
    }

    // Lists: filters and pages.
    let listed = app.get(&root, &format!("{A}/devices")).await;
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["edge-1", "ra1"]);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let lab = app
        .get(&root, &format!("{A}/devices?environment=lab"))
        .await;
    assert_eq!(lab.body["items"].as_array().unwrap().len(), 1);
    let first = app.get(&root, &format!("{A}/devices?limit=1")).await;
    assert_eq!(first.body["items"][0]["name"], "edge-1");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&root, &format!("{A}/devices?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["items"][0]["name"], "ra1");
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Metadata.
    let patched = app
        .call(
            Some(&root),
            Method::PATCH,
            &format!("{A}/devices/{id}"),
            Some(json!({"name": "edge-2", "set_tags": {"role": "edge"}, "remove_tags": ["site"], "status": "inactive"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["name"], "edge-2");
    assert_eq!(patched.body["tags"], json!({"role": "edge"}));
    assert_eq!(patched.body["status"], "inactive");
    let taken = app
        .call(
            Some(&root),
            Method::PATCH,
            &format!("{A}/devices/{id}"),
            Some(json!({"name": "ra1"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);

    // A test reaches it through both drivers.
    let tested = app
        .post(&root, &format!("{A}/devices/edge-2/test"), json!({}))
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.text);
    assert_eq!(tested.body["reachable"], true);
    assert_eq!(tested.body["device"]["identity"], m.identity.as_str());
    // An empty body is fine too.
    let bare = app
        .call(
            Some(&root),
            Method::POST,
            &format!("{A}/devices/edge-2/test"),
            None,
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{}", bare.text);

    // Rotation on the device: a new user, stored, working.
    let rotated = app
        .post(
            &root,
            &format!("{A}/devices/{id}/rotate-credentials"),
            json!({"on_device": true}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(rotated.body["on_device"], true);
    assert_eq!(rotated.body["old_username"], m.username.as_str());
    assert_eq!(rotated.body["old_user_disabled"], true);
    assert_eq!(rotated.body["credential_version"], 2);
    let new_user = rotated.body["username"].as_str().unwrap().to_owned();
    assert_ne!(new_user, m.username);
    let after = app
        .post(&root, &format!("{A}/devices/{id}/test"), json!({}))
        .await;
    assert_eq!(after.body["reachable"], true, "{}", after.text);
    assert_eq!(after.body["device"]["username"], new_user.as_str());

    // Rotation in the registry only: stores what the caller set on the device.
    let stored = app
        .post(
            &root,
            &format!("{A}/devices/ra1/rotate-credentials"),
            json!({"on_device": false, "password": app.manifest[0].password}),
        )
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    assert_eq!(stored.body["credential_version"], 2);
    assert_eq!(stored.body["username"], app.manifest[0].username.as_str());
    let ra1 = app
        .post(&root, &format!("{A}/devices/ra1/test"), json!({}))
        .await;
    assert_eq!(ra1.body["reachable"], true, "{}", ra1.text);

    // Decommissioning keeps the record, removes it from lists and names.
    let gone = app
        .call(
            Some(&root),
            Method::DELETE,
            &format!("{A}/devices/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
    assert_eq!(gone.body["status"], "decommissioned");
    assert_eq!(gone.body["credential_version"], Value::Null);
    let by_name = app.get(&root, &format!("{A}/devices/edge-2")).await;
    assert_eq!(by_name.status, StatusCode::NOT_FOUND);
    let by_id = app.get(&root, &format!("{A}/devices/{id}")).await;
    assert_eq!(by_id.body["status"], "decommissioned");
    let twice = app
        .call(
            Some(&root),
            Method::DELETE,
            &format!("{A}/devices/{id}"),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let not_tested = app
        .post(&root, &format!("{A}/devices/{id}/test"), json!({}))
        .await;
    assert_eq!(
        not_tested.status,
        StatusCode::CONFLICT,
        "{}",
        not_tested.text
    );
    let live = app.get(&root, &format!("{A}/devices")).await;
    assert_eq!(live.body["items"].as_array().unwrap().len(), 1);
    let decommissioned = app
        .get(&root, &format!("{A}/devices?status=decommissioned"))
        .await;
    assert_eq!(decommissioned.body["items"][0]["id"], id.as_str());

    // Every change is in the project's audit log, as the principal.
    let audit = app
        .get(&root, &format!("{A}/audit?device={id}&limit=500"))
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "device.add",
        "device.update",
        "device.test",
        "device.rotate_credentials",
        "device.rotate_credentials.on_device",
        "device.decommission",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "api:oidc:root")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_fails_its_checks_is_not_added() {
    let app = App::start().await;
    let root = admin();
    let m = app.manifest[2].clone();
    let before = app.device_count().await;
    let audit_before = app.audit_count().await;
    let body = |password: &str, trust: bool| {
        json!({
            "name": fresh("bad"),
            "address": m.address,
            "rest_port": m.https_port,
            "ssh_port": m.ssh_port,
            "username": m.username,
            "password": password,
            "trust_on_first_use": trust,
        })
    };
    let wrong = app
        .post(
            &root,
            &format!("{A}/devices"),
            body("not-the-password", true),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.code(), "onboarding_failed");
    assert!(wrong.message().contains("not added"), "{}", wrong.text);
    assert!(wrong.body["details"]["probes"].is_array(), "{}", wrong.text);
    assert!(!wrong.text.contains("not-the-password"));

    // Unknown identity and no first-use trust: refused, nothing pinned.
    let unknown = app
        .post(&root, &format!("{A}/devices"), body(&m.password, false))
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text
    );

    // A pin the device does not match.
    let mut pinned = body(&m.password, false);
    pinned["tls_cert_sha256"] = json!("ab".repeat(32));
    pinned["driver"] = json!("rest");
    let mismatch = app.post(&root, &format!("{A}/devices"), pinned).await;
    assert_eq!(
        mismatch.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        mismatch.text
    );

    // Nothing unreachable is added either.
    let mut nowhere = body(&m.password, true);
    nowhere["address"] = json!("127.0.0.1");
    nowhere["rest_port"] = json!(9);
    nowhere["ssh_port"] = json!(9);
    let unreachable = app.post(&root, &format!("{A}/devices"), nowhere).await;
    assert_eq!(
        unreachable.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unreachable.text
    );

    // A name in use is a conflict, found before the device is contacted.
    let mut duplicate = body(&m.password, true);
    duplicate["name"] = json!("ra1");
    let conflict = app.post(&root, &format!("{A}/devices"), duplicate).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);

    assert_eq!(app.device_count().await, before);
    assert_eq!(app.audit_count().await, audit_before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_are_listed_read_approved_and_rejected() {
    let app = App::start().await;
    let alice = principal("alice", &["acme/site-a:approver"]);
    let first = app.propose(&app.device_a).await;
    let second = app.propose(&app.device_a).await;
    let third = app.propose(&app.device_a).await;

    let listed = app.get(&alice, &format!("{A}/plans?limit=2")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let page: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [third.as_str(), second.as_str()], "newest first");
    let cursor = listed.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&alice, &format!("{A}/plans?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest.body["items"][0]["id"], first.as_str());
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let plan = app.get(&alice, &format!("{A}/plans/{first}")).await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    assert_eq!(plan.body["status"], "pending");
    assert_eq!(plan.body["risk"], "low");
    assert_eq!(plan.body["environment"], "prod");
    assert_eq!(plan.body["devices"][0]["name"], "ra1");
    assert_eq!(plan.body["changes"][0]["menu"], "/ip/dns/static");
    assert_eq!(plan.body["changes"][0]["action"], "add");
    assert_eq!(
        plan.body["changes"][0]["properties"]["address"],
        "192.168.88.20"
    );
    assert!(
        plan.body["changes"][0]["undo"][0]
            .as_str()
            .unwrap()
            .contains("remove")
    );
    assert_eq!(plan.body["decisions"], json!([]));

    let approved = app
        .post(
            &alice,
            &format!("{A}/plans/{first}/approve"),
            json!({"comment": "checked with the site team"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert!(
        approved.body["approval_token"]
            .as_str()
            .unwrap()
            .starts_with("rmcp-approval-v1.")
    );
    assert_eq!(approved.body["approver"], "api:oidc:alice");
    assert_eq!(approved.headers["cache-control"], "no-store");
    // Approving again mints another token (the first stays valid until it expires).
    let again = app
        .post(&alice, &format!("{A}/plans/{first}/approve"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_ne!(
        again.body["approval_token"],
        approved.body["approval_token"]
    );

    let shown = app.get(&alice, &format!("{A}/plans/{first}")).await;
    assert_eq!(shown.body["status"], "approved");
    let decision = &shown.body["decisions"][0];
    assert_eq!(decision["decision"], "approved");
    assert_eq!(decision["by"], "api:oidc:alice");
    assert_eq!(decision["via"], "cli");
    assert_eq!(decision["reason"], "checked with the site team");
    assert_eq!(shown.body["decisions"][1]["reason"], json!(null));

    // The approved plan applies with the token the API returned.
    let token = approved.body["approval_token"].as_str().unwrap();
    let report = app
        .state
        .workflow
        .apply(
            &first,
            token,
            &store::AuditContext::new("mcp:http:test-client"),
        )
        .await
        .expect("the approved plan applies");
    assert_eq!(
        report.status,
        workflow::PlanStatus::Applied,
        "{}",
        report.message
    );
    // An applied plan cannot be approved or rejected any more.
    let late = app
        .post(&alice, &format!("{A}/plans/{first}/approve"), json!({}))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    assert_eq!(late.code(), "conflict");
    let late = app
        .post(
            &alice,
            &format!("{A}/plans/{first}/reject"),
            json!({"reason": "too late"}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);

    let rejected = app
        .post(
            &alice,
            &format!("{A}/plans/{second}/reject"),
            json!({"reason": "wrong address"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    let twice = app
        .post(
            &alice,
            &format!("{A}/plans/{second}/reject"),
            json!({"reason": "still wrong"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    let by_status = app.get(&alice, &format!("{A}/plans?status=rejected")).await;
    let ids: Vec<&str> = by_status.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str()]);
    let shown = app.get(&alice, &format!("{A}/plans/{second}")).await;
    assert_eq!(shown.body["decisions"][0]["reason"], "wrong address");

    let missing = app
        .get(
            &alice,
            &format!("{A}/plans/00000000-0000-7000-8000-00000000dead"),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A person approving through the API may approve what no MCP client or policy may. (ra1 is
    // prod: an admin first allows professional workflows on it, or the plan is refused.)
    app.store()
        .update_device(
            &app.device_a,
            &store::DevicePatch {
                allow_professional_workflows: Some(Some(true)),
                ..store::DevicePatch::default()
            },
            &store::AuditContext::new("test:admin"),
        )
        .await
        .unwrap();
    let critical = app
        .propose_change(
            &app.device_a,
            workflow::ChangeRequest {
                menu: "interface".into(),
                op: workflow::Op::Disable {
                    target: workflow::Selector::Where(
                        [("name".to_owned(), "ether1".to_owned())]
                            .into_iter()
                            .collect(),
                    ),
                },
            },
        )
        .await;
    assert_eq!(critical.risk, workflow::Risk::Critical);
    let approved = app
        .post(
            &alice,
            &format!("{A}/plans/{}/approve", critical.id),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_failures_say_nothing_of_their_cause() {
    let app = App::start().await;
    let root = admin();
    // The registry goes away under the API.
    app.store().close().await;
    for path in [format!("{A}/devices"), "/v1/organizations".to_owned()] {
        let reply = app.get(&root, &path).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            reply.text
        );
        assert_eq!(reply.code(), "internal");
        assert!(
            reply.message().contains("x-correlation-id"),
            "{}",
            reply.text
        );
        for word in ["pool", "sqlx", "select", "database", "sqlite", "closed"] {
            assert!(
                !reply.text.to_lowercase().contains(word),
                "{word} in {}",
                reply.text
            );
        }
        assert!(reply.headers.contains_key("x-correlation-id"));
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_filtered_and_paged() {
    let app = App::start().await;
    let root = admin();
    let bob = principal("bob", &["acme/site-a:admin"]);
    let patched = app
        .call(
            Some(&bob),
            Method::PATCH,
            &format!("{A}/devices/ra1"),
            Some(json!({"set_tags": {"rack": "r1"}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let plan = app.propose(&app.device_a).await;

    let all = app.get(&root, &format!("{A}/audit")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let items = all.body["items"].as_array().unwrap();
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "plan.create",
            "device.update",
            "device.add",
            "project.create"
        ]
    );

    let by_bob = app
        .get(&root, &format!("{A}/audit?actor=api:oidc:bob"))
        .await;
    assert_eq!(by_bob.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_bob.body["items"][0]["details"]["changed"]["tags"]["to"]["rack"],
        "r1"
    );
    let device = app.get(&root, &format!("{A}/audit?device=ra1")).await;
    assert_eq!(device.body["items"].as_array().unwrap().len(), 2);
    let of_plan = app.get(&root, &format!("{A}/audit?plan={plan}")).await;
    assert_eq!(of_plan.body["items"][0]["action"], "plan.create");
    let prefix = app.get(&root, &format!("{A}/audit?action=device.")).await;
    assert_eq!(prefix.body["items"].as_array().unwrap().len(), 2);
    let both = app
        .get(&root, &format!("{A}/audit?device=ra1&plan={plan}"))
        .await;
    assert_eq!(both.body["items"], json!([]));

    let newest = items[0]["occurred_at"].as_str().unwrap();
    let since = app
        .get(
            &root,
            &format!("{A}/audit?since={}", newest.replace('+', "%2B")),
        )
        .await;
    assert_eq!(since.status, StatusCode::OK, "{}", since.text);
    assert_eq!(since.body["items"].as_array().unwrap().len(), 1);
    let until = app
        .get(
            &root,
            &format!("{A}/audit?until=2000-01-01T00:00:00%2B02:00"),
        )
        .await;
    assert_eq!(until.body["items"], json!([]));

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("{A}/audit?limit=1&cursor={c}"),
            None => format!("{A}/audit?limit=1"),
        };
        let page = app.get(&root, &path).await;
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, seqs, "paging visits every event once");
    app.stop().await;
}
