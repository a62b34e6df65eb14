//! A principal with a role only in `acme/site-a` never sees `acme/site-b`: not in lists, and
//! on direct access the very answer a thing that does not exist gets.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{App, Reply, principal};

const A: &str = "/v1/organizations/acme/projects/site-a";
const B: &str = "/v1/organizations/acme/projects/site-b";

/// Asserts `reply` is the 404 of something that does not exist, with `message`.
fn absent(reply: &Reply, message: &str) {
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert_eq!(reply.code(), "not_found");
    assert_eq!(reply.message(), message);
    assert_eq!(reply.body["details"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_a_principal_never_sees_site_b() {
    let app = App::start().await;
    // Admin in site-a: the strongest scoped role, so any leak would show.
    let alice = principal("alice", &["acme/site-a:admin"]);
    let plan_a = app.propose(&app.device_a).await;
    let plan_b = app.propose(&app.device_b).await;
    let device_b = app.device_b;
    let audit_before = app.audit_count().await;

    // Lists.
    let orgs = app.get(&alice, "/v1/organizations").await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs.body["items"][0]["name"], "acme");
    assert_eq!(
        orgs.body["items"][0]["projects"], 1,
        "only the projects it holds a role in are counted"
    );
    let projects = app.get(&alice, "/v1/organizations/acme/projects").await;
    let names: Vec<&str> = projects.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["site-a"]);
    let devices = app.get(&alice, &format!("{A}/devices?status=active")).await;
    let names: Vec<&str> = devices.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ra1"]);
    let plans = app.get(&alice, &format!("{A}/plans")).await;
    let ids: Vec<&str> = plans.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [plan_a.as_str()]);
    let audit = app.get(&alice, &format!("{A}/audit?limit=500")).await;
    let text = audit.text.clone();
    assert!(!text.contains(&device_b.to_string()), "{text}");
    assert!(!text.contains(&plan_b), "{text}");
    assert!(!text.contains("site-b"), "{text}");
    // Filters cannot reach across either.
    let across = app
        .get(&alice, &format!("{A}/audit?device={device_b}"))
        .await;
    assert_eq!(across.body["items"], json!([]));
    let across = app.get(&alice, &format!("{A}/audit?plan={plan_b}")).await;
    assert_eq!(across.body["items"], json!([]));

    // Other organizations do not exist for it; an existing one and a missing one look alike.
    absent(
        &app.get(&alice, "/v1/organizations/globex/projects").await,
        "organization \"globex\" not found",
    );
    absent(
        &app.get(&alice, "/v1/organizations/nowhere/projects").await,
        "organization \"nowhere\" not found",
    );
    absent(
        &app.post(
            &alice,
            "/v1/organizations/globex/projects",
            json!({"name": "x"}),
        )
        .await,
        "organization \"globex\" not found",
    );

    // site-b, and everything in it, is answered like a project that does not exist.
    for route in ["devices", "plans", "audit"] {
        absent(
            &app.get(&alice, &format!("{B}/{route}")).await,
            "project \"acme/site-b\" not found",
        );
        absent(
            &app.get(
                &alice,
                &format!("/v1/organizations/acme/projects/site-z/{route}"),
            )
            .await,
            "project \"acme/site-z\" not found",
        );
    }
    absent(
        &app.get(&alice, &format!("{B}/devices/rb1")).await,
        "project \"acme/site-b\" not found",
    );
    absent(
        &app.get(&alice, &format!("{B}/plans/{plan_b}")).await,
        "project \"acme/site-b\" not found",
    );
    absent(
        &app.post(&alice, &format!("{B}/plans/{plan_b}/approve"), json!({}))
            .await,
        "project \"acme/site-b\" not found",
    );
    absent(
        &app.post(&alice, &format!("{B}/devices/rb1/test"), json!({}))
            .await,
        "project \"acme/site-b\" not found",
    );
    absent(
        &app.call(
            Some(&alice),
            Method::DELETE,
            &format!("{B}/devices/rb1"),
            None,
        )
        .await,
        "project \"acme/site-b\" not found",
    );

    // site-b's objects addressed through site-a are not there either, exactly like objects
    // that do not exist.
    let nobody = "00000000-0000-7000-8000-000000000bad";
    let foreign = app.get(&alice, &format!("{A}/devices/{device_b}")).await;
    let missing = app.get(&alice, &format!("{A}/devices/{nobody}")).await;
    absent(
        &foreign,
        &format!("device \"{device_b}\" not found in project acme/site-a"),
    );
    absent(
        &missing,
        &format!("device \"{nobody}\" not found in project acme/site-a"),
    );
    absent(
        &app.get(&alice, &format!("{A}/devices/rb1")).await,
        "device \"rb1\" not found in project acme/site-a",
    );
    absent(
        &app.get(&alice, &format!("{A}/plans/{plan_b}")).await,
        &format!("plan \"{plan_b}\" not found in project acme/site-a"),
    );
    for action in ["approve", "reject"] {
        absent(
            &app.post(
                &alice,
                &format!("{A}/plans/{plan_b}/{action}"),
                json!({"reason": "x"}),
            )
            .await,
            &format!("plan \"{plan_b}\" not found in project acme/site-a"),
        );
    }
    absent(
        &app.call(
            Some(&alice),
            Method::PATCH,
            &format!("{A}/devices/{device_b}"),
            Some(json!({"name": "stolen"})),
        )
        .await,
        &format!("device \"{device_b}\" not found in project acme/site-a"),
    );
    absent(
        &app.post(
            &alice,
            &format!("{A}/devices/{device_b}/rotate-credentials"),
            json!({"on_device": true}),
        )
        .await,
        &format!("device \"{device_b}\" not found in project acme/site-a"),
    );

    // None of it changed anything.
    assert_eq!(app.audit_count().await, audit_before);
    let b = app.store().device_by_id(&device_b).await.unwrap();
    assert_eq!(b.name.as_str(), "rb1");
    assert_eq!(b.credential_version, Some(1));
    let plan = app.state.workflow.plan(&plan_b).await.unwrap();
    assert_eq!(plan.status, workflow::PlanStatus::Pending);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_but_is_forbidden_to_change() {
    let app = App::start().await;
    let carol = principal("carol", &["acme/site-a:viewer"]);
    let plan = app.propose(&app.device_a).await;
    let refused = app
        .post(&carol, &format!("{A}/plans/{plan}/approve"), json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(
        refused.message(),
        "this needs the approver role in project acme/site-a; you hold viewer"
    );
    // A plan that does not exist is still not found for a viewer of the project.
    let missing = app
        .post(
            &carol,
            &format!("{A}/plans/00000000-0000-7000-8000-000000000bad/approve"),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
