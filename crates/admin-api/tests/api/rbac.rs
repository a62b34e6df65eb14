//! Who may call what: every route against every kind of principal, in one table.
//!
//! Columns: the four roles granted for every project, an admin of `acme/site-a` only (the
//! project every route here addresses), an admin of `acme/site-b` only (another tenant of the
//! same organization), and a principal without any grant. A refusal (403, 404) changes nothing:
//! the audit log does not grow.

use auth::Principal;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{App, fresh, principal};

const A: &str = "/v1/organizations/acme/projects/site-a";

#[derive(Debug, Clone, Copy)]
enum Route {
    ListOrgs,
    CreateOrg,
    ListProjects,
    CreateProject,
    ListDevices,
    CreateDevice,
    GetDevice,
    PatchDevice,
    TestDevice,
    RotateCredentials,
    Decommission,
    ListPlans,
    GetPlan,
    Approve,
    Reject,
    Pause,
    Resume,
    Abort,
    Audit,
    OpenApi,
    ListTokens,
    CreateToken,
    RevokeToken,
    ListRunbooks,
    CreateRunbook,
    GetRunbook,
    RunbookVersions,
    RunbookLogs,
    ReviewPending,
    ReviewProposal,
    ReviewApprove,
    ReviewReject,
    ReviewStats,
}

fn principals() -> Vec<(&'static str, Principal)> {
    vec![
        ("viewer", principal("v", &["viewer"])),
        ("operator", principal("o", &["operator"])),
        ("approver", principal("p", &["approver"])),
        ("admin", principal("a", &["admin"])),
        ("site-a admin", principal("sa", &["acme/site-a:admin"])),
        ("site-b admin", principal("sb", &["acme/site-b:admin"])),
        ("no grants", principal("n", &[])),
    ]
}

/// The allowed/denied table: one row per route, one status per principal (in the order of
/// [`principals`]).
const TABLE: &[(Route, [u16; 7])] = &[
    //                         viewer operator approver admin site-a site-b none
    (Route::ListOrgs, [200, 200, 200, 200, 200, 200, 200]),
    (Route::CreateOrg, [403, 403, 403, 201, 403, 403, 403]),
    (Route::ListProjects, [200, 200, 200, 200, 200, 200, 404]),
    (Route::CreateProject, [403, 403, 403, 201, 403, 403, 404]),
    (Route::ListDevices, [200, 200, 200, 200, 200, 404, 404]),
    (Route::CreateDevice, [403, 403, 403, 201, 201, 404, 404]),
    (Route::GetDevice, [200, 200, 200, 200, 200, 404, 404]),
    (Route::PatchDevice, [403, 403, 403, 200, 200, 404, 404]),
    (Route::TestDevice, [403, 403, 403, 200, 200, 404, 404]),
    (
        Route::RotateCredentials,
        [403, 403, 403, 200, 200, 404, 404],
    ),
    (Route::Decommission, [403, 403, 403, 200, 200, 404, 404]),
    (Route::ListPlans, [200, 200, 200, 200, 200, 404, 404]),
    (Route::GetPlan, [200, 200, 200, 200, 200, 404, 404]),
    (Route::Approve, [403, 403, 200, 200, 200, 404, 404]),
    (Route::Reject, [403, 403, 200, 200, 200, 404, 404]),
    // Allowed to an approver, then refused by what the plan is (not a staged rollout).
    (Route::Pause, [403, 403, 409, 409, 409, 404, 404]),
    (Route::Resume, [403, 403, 409, 409, 409, 404, 404]),
    (Route::Abort, [403, 403, 409, 409, 409, 404, 404]),
    (Route::Audit, [200, 200, 200, 200, 200, 404, 404]),
    (Route::OpenApi, [200, 200, 200, 200, 200, 200, 200]),
    (Route::ListTokens, [403, 403, 403, 200, 403, 403, 403]),
    (Route::CreateToken, [403, 403, 403, 201, 403, 403, 403]),
    (Route::RevokeToken, [403, 403, 403, 200, 403, 403, 403]),
    (Route::ListRunbooks, [200, 200, 200, 200, 200, 404, 404]),
    (Route::CreateRunbook, [403, 201, 403, 201, 201, 404, 404]),
    (Route::GetRunbook, [200, 200, 200, 200, 200, 404, 404]),
    (Route::RunbookVersions, [200, 200, 200, 200, 200, 404, 404]),
    (Route::RunbookLogs, [200, 200, 200, 200, 200, 404, 404]),
    // The review queue is every project's: a role for one project is not enough.
    (Route::ReviewPending, [200, 200, 200, 200, 403, 403, 403]),
    (Route::ReviewProposal, [200, 200, 200, 200, 403, 403, 403]),
    (Route::ReviewApprove, [403, 403, 200, 200, 403, 403, 403]),
    (Route::ReviewReject, [403, 403, 200, 200, 403, 403, 403]),
    (Route::ReviewStats, [200, 200, 200, 200, 403, 403, 403]),
];

/// A draft runbook named `name`.
fn draft(name: &str) -> String {
    format!(
        "---\nname: {name}\ntitle: LAN check\ndescription: Checks the LAN side.\nversion: 0.1.0\n\
         status: draft\ntags: [lan]\ntier: free\nrisk: low\nvariables:\n  device: {{type: device, \
         description: The router, required: true}}\nlast_reviewed: 2026-12-01\n---\n## Symptom\n\
         LAN hosts complain.\n\n## Diagnosis\n1. Read the addresses.\n```tool ip.list_addresses\n\
         {{\"device_id\": \"{{var.device}}\"}}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\n\
         Check again.\n"
    )
}

/// The request for `route`, with a fresh object where a success would use one up.
async fn request(app: &App, route: Route) -> (Method, String, Option<Value>) {
    let m = &app.manifest[2];
    match route {
        Route::ListOrgs => (Method::GET, "/v1/organizations".into(), None),
        Route::CreateOrg => (
            Method::POST,
            "/v1/organizations".into(),
            Some(json!({"name": fresh("org")})),
        ),
        Route::ListProjects => (Method::GET, "/v1/organizations/acme/projects".into(), None),
        Route::CreateProject => (
            Method::POST,
            "/v1/organizations/acme/projects".into(),
            Some(json!({"name": fresh("project")})),
        ),
        Route::ListDevices => (Method::GET, format!("{A}/devices"), None),
        Route::CreateDevice => (
            Method::POST,
            format!("{A}/devices"),
            Some(json!({
                "name": fresh("new"),
                "address": m.address,
                "rest_port": m.https_port,
                "ssh_port": m.ssh_port,
                "username": m.username,
                "password": m.password,
                "trust_on_first_use": true,
            })),
        ),
        Route::GetDevice => (Method::GET, format!("{A}/devices/ra1"), None),
        Route::PatchDevice => (
            Method::PATCH,
            format!("{A}/devices/ra1"),
            Some(json!({"set_tags": {"seen-by": fresh("t")}})),
        ),
        Route::TestDevice => (
            Method::POST,
            format!("{A}/devices/ra1/test"),
            Some(json!({})),
        ),
        Route::RotateCredentials => (
            Method::POST,
            format!("{A}/devices/ra1/rotate-credentials"),
            Some(json!({"on_device": false, "password": app.manifest[0].password})),
        ),
        Route::Decommission => {
            let id = app.register_offline("acme/site-a").await;
            (Method::DELETE, format!("{A}/devices/{id}"), None)
        }
        Route::ListPlans => (Method::GET, format!("{A}/plans"), None),
        Route::GetPlan => {
            let plan = app.propose(&app.device_a).await;
            (Method::GET, format!("{A}/plans/{plan}"), None)
        }
        Route::Approve => {
            let plan = app.propose(&app.device_a).await;
            (
                Method::POST,
                format!("{A}/plans/{plan}/approve"),
                Some(json!({})),
            )
        }
        Route::Reject => {
            let plan = app.propose(&app.device_a).await;
            (
                Method::POST,
                format!("{A}/plans/{plan}/reject"),
                Some(json!({"reason": "not now"})),
            )
        }
        Route::Pause | Route::Resume | Route::Abort => {
            let plan = app.propose(&app.device_a).await;
            let op = match route {
                Route::Pause => "pause",
                Route::Resume => "resume",
                _ => "abort",
            };
            (Method::POST, format!("{A}/plans/{plan}/{op}"), None)
        }
        Route::Audit => (Method::GET, format!("{A}/audit"), None),
        Route::OpenApi => (Method::GET, "/v1/openapi.json".into(), None),
        Route::ListTokens => (Method::GET, "/v1/tokens".into(), None),
        Route::CreateToken => (
            Method::POST,
            "/v1/tokens".into(),
            Some(json!({"role": "viewer", "project": "acme/site-a", "name": fresh("t")})),
        ),
        Route::RevokeToken => {
            let id = app.mint_token().await;
            (Method::DELETE, format!("/v1/tokens/{id}"), None)
        }
        Route::ListRunbooks => (Method::GET, format!("{A}/runbooks"), None),
        Route::CreateRunbook => {
            let name = fresh("lan-check-");
            (
                Method::POST,
                format!("{A}/runbooks"),
                Some(json!({"name": name, "content": draft(&name)})),
            )
        }
        Route::GetRunbook => (Method::GET, format!("{A}/runbooks/interface-down"), None),
        Route::RunbookVersions => (
            Method::GET,
            format!("{A}/runbooks/interface-down/versions"),
            None,
        ),
        Route::RunbookLogs => (
            Method::GET,
            format!("{A}/runbooks/interface-down/logs"),
            None,
        ),
        Route::ReviewPending => (Method::GET, "/api/review/pending".into(), None),
        Route::ReviewProposal => {
            let id = app.propose_runbook().await.id;
            (Method::GET, format!("/api/review/runbook/{id}"), None)
        }
        Route::ReviewApprove => {
            let id = app.propose_runbook().await.id;
            (
                Method::POST,
                format!("/api/review/approve/{id}"),
                Some(json!({"notes": "fine"})),
            )
        }
        Route::ReviewReject => {
            let id = app.propose_runbook().await.id;
            (
                Method::POST,
                format!("/api/review/reject/{id}"),
                Some(json!({"reason": "not now"})),
            )
        }
        Route::ReviewStats => (Method::GET, "/api/review/stats".into(), None),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_principal_as_the_table_says() {
    let app = App::start().await;
    let principals = principals();
    let mut failures = Vec::new();
    for (route, expected) in TABLE {
        for ((who, p), want) in principals.iter().zip(expected) {
            let (method, path, body) = request(&app, *route).await;
            let audit_before = app.audit_count().await;
            let reply = app.call(Some(p), method.clone(), &path, body).await;
            if reply.status.as_u16() != *want {
                failures.push(format!(
                    "{route:?} as {who}: expected {want}, got {} ({})",
                    reply.status, reply.text
                ));
                continue;
            }
            let code = reply.code();
            match reply.status {
                StatusCode::FORBIDDEN => assert_eq!(code, "forbidden", "{route:?} as {who}"),
                StatusCode::NOT_FOUND => assert_eq!(code, "not_found", "{route:?} as {who}"),
                _ => {}
            }
            if reply.status.is_client_error() {
                assert_eq!(
                    app.audit_count().await,
                    audit_before,
                    "{route:?} refused to {who} changed nothing"
                );
            }
            assert!(
                reply.headers.contains_key("x-correlation-id"),
                "{route:?} as {who}: a correlation id"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_principal_every_route_is_401() {
    let app = App::start().await;
    let before = app.audit_count().await;
    for (route, _) in TABLE {
        let (method, path, body) = request(&app, *route).await;
        let settled = app.audit_count().await;
        let reply = app.call(None, method, &path, body).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{route:?}");
        assert_eq!(reply.code(), "unauthenticated", "{route:?}");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
        assert!(reply.headers.contains_key("x-correlation-id"));
        assert_eq!(
            app.audit_count().await,
            settled,
            "{route:?} changed nothing"
        );
    }
    assert!(app.audit_count().await >= before);
    app.stop().await;
}
