//! The OpenAPI document and the router describe the same API: every documented operation is
//! served, and the router serves nothing the document leaves out.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{App, admin};

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// The document's path with its parameters filled with objects that exist.
async fn concrete(app: &App, path: &str, method: &str) -> String {
    let device = if method == "delete" {
        app.register_offline("acme/site-a").await.to_string()
    } else {
        app.device_a.to_string()
    };
    let id = if path.contains("/plans/") {
        app.propose(&app.device_a).await
    } else if path.starts_with("/api/review/") {
        app.propose_runbook().await.id
    } else if path.starts_with("/v1/tokens/") {
        app.mint_token().await
    } else {
        device
    };
    path.replace("{org}", "acme")
        .replace("{project}", "site-a")
        .replace("{id}", &id)
        .replace("{name}", "interface-down")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_router_match() {
    let app = App::start().await;
    let root = admin();
    let served = app.get(&root, "/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text);
    let doc = served.body.clone();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc,
        serde_json::to_value(admin_api::openapi()).unwrap(),
        "the served document is the generated one"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 29, "{:?}", paths.keys().collect::<Vec<_>>());
    let mut operations = 0;
    for (path, item) in paths {
        assert!(
            path.starts_with("/v1/") || path.starts_with("/api/review/"),
            "{path}"
        );
        for method in METHODS {
            let documented = item.get(method).is_some();
            let uri = concrete(&app, path, method).await;
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(method, "post" | "patch" | "put").then(|| json!({}));
            let reply = app.call(Some(&root), m, &uri, body).await;
            if documented {
                operations += 1;
                assert!(
                    reply.status != StatusCode::NOT_FOUND
                        && reply.status != StatusCode::METHOD_NOT_ALLOWED,
                    "documented {method} {path} is not served: {} {}",
                    reply.status,
                    reply.text
                );
                let op = &item[method];
                assert!(op["responses"]["401"].is_object(), "{method} {path}: 401");
                assert!(op["tags"].is_array(), "{method} {path}: tagged");
            } else if method != "head" || item.get("get").is_none() {
                assert_eq!(
                    reply.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "undocumented {method} {path} is served: {}",
                    reply.text
                );
            }
        }
    }
    assert_eq!(operations, 36);
    for listed in [
        "/api/review/pending",
        "/api/review/runbook/{id}",
        "/api/review/approve/{id}",
        "/api/review/reject/{id}",
        "/api/review/stats",
        "/v1/organizations/{org}/projects/{project}/runbooks",
        "/v1/organizations/{org}/projects/{project}/runbooks/{name}",
        "/v1/organizations/{org}/projects/{project}/runbooks/{name}/versions",
        "/v1/organizations/{org}/projects/{project}/runbooks/{name}/logs",
    ] {
        assert!(paths.contains_key(listed), "{listed} is documented");
    }

    // Paths the document does not have are not served.
    for path in [
        "/v1",
        "/v1/organizations/acme",
        "/v1/organizations/acme/projects/site-a",
        "/v1/devices",
        "/v1/organizations/acme/projects/site-a/plans/x/apply",
        "/v1/organizations/acme/projects/site-a/devices/ra1/config",
        "/v1/tokens/x/rotate",
        "/api/review",
        "/api/review/runbook",
        "/api/review/pending/x",
        "/v1/organizations/acme/projects/site-a/runbooks/interface-down/run",
    ] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let reply = app.call(Some(&root), method.clone(), path, None).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    }
    app.stop().await;
}

#[test]
fn every_operation_documents_its_errors_with_the_error_schema() {
    let doc = serde_json::to_value(admin_api::openapi()).unwrap();
    let error = "#/components/schemas/ErrorBody";
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        Value::String(error.into()),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    let codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    assert_eq!(
        codes,
        &json!([
            "unauthenticated",
            "forbidden",
            "not_found",
            "invalid_request",
            "conflict",
            "onboarding_failed",
            "device_error",
            "internal"
        ])
    );
}
