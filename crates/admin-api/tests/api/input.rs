//! Bad input is refused with a message naming what was wrong and what is allowed, and changes
//! nothing: row counts and the audit log are the same before and after.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{App, Reply, admin};

const A: &str = "/v1/organizations/acme/projects/site-a";

/// Asserts a 400 `invalid_request` whose message contains every one of `words`.
fn refused(reply: &Reply, words: &[&str]) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.code(), "invalid_request", "{}", reply.text);
    for w in words {
        assert!(
            reply.message().contains(w),
            "{w:?} in {:?}",
            reply.message()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_changes_nothing() {
    let app = App::start().await;
    let root = admin();
    let m = app.manifest[2].clone();
    let device = |extra: Value| {
        let mut body = json!({
            "name": "fresh-1",
            "address": m.address,
            "rest_port": m.https_port,
            "ssh_port": m.ssh_port,
            "username": m.username,
            "password": "Sekr3t-Sentinel",
            "trust_on_first_use": true,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let plan = app.propose(&app.device_a).await;
    let counts = (
        app.org_count().await,
        app.project_count().await,
        app.device_count().await,
        app.audit_count().await,
    );

    // Unknown fields, named, with what is allowed.
    refused(
        &app.post(
            &root,
            "/v1/organizations",
            json!({"name": "ok", "owner": "x"}),
        )
        .await,
        &["unknown field `owner`", "expected `name`"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"passwd": "x"})),
        )
        .await,
        &["unknown field `passwd`"],
    );
    refused(
        &app.call(
            Some(&root),
            Method::PATCH,
            &format!("{A}/devices/ra1"),
            Some(json!({"colour": "red"})),
        )
        .await,
        &["unknown field `colour`"],
    );
    // Wrong types and values, named by field.
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"rest_port": "https"})),
        )
        .await,
        &["rest_port", "between 1 and 65535"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"ssh_port": 70000})),
        )
        .await,
        &["ssh_port", "between 1 and 65535"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"trust_on_first_use": "yes"})),
        )
        .await,
        &["trust_on_first_use", "expected a boolean"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"environment": "qa"})),
        )
        .await,
        &["environment", "lab|staging|prod"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"address": "10.0.0.300"})),
        )
        .await,
        &["address", "hostname"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"tags": {"bad key": "v"}})),
        )
        .await,
        &["tags.bad key", "tag key"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"environment": "prod", "insecure_http": true})),
        )
        .await,
        &["insecure_http", "prod"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"tls_cert_sha256": "zz"})),
        )
        .await,
        &["tls_cert_sha256"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"username": ""})),
        )
        .await,
        &["username"],
    );
    // A password of the wrong type is named but never repeated.
    let secret = app
        .post(
            &root,
            &format!("{A}/devices"),
            device(json!({"password": 424242})),
        )
        .await;
    refused(&secret, &["password", "not repeated"]);
    assert!(!secret.text.contains("424242"), "{}", secret.text);
    let missing = app
        .post(
            &root,
            &format!("{A}/devices"),
            json!({"name": "x", "address": "192.0.2.1"}),
        )
        .await;
    refused(&missing, &["missing field"]);

    // Bad names.
    refused(
        &app.post(&root, "/v1/organizations", json!({"name": "Bad Name"}))
            .await,
        &[
            "name",
            "invalid organization name \"Bad Name\"",
            "lowercase",
        ],
    );
    refused(
        &app.post(
            &root,
            "/v1/organizations/acme/projects",
            json!({"name": "-x"}),
        )
        .await,
        &["name", "invalid project name"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices"),
            device(json!({"name": "has space"})),
        )
        .await,
        &["name", "invalid device name"],
    );
    refused(
        &app.get(&root, "/v1/organizations/ACME/projects").await,
        &["path parameter org", "lowercase"],
    );
    refused(
        &app.get(&root, "/v1/organizations/acme/projects/Site_A/devices")
            .await,
        &["path parameter project"],
    );

    // Patches that say nothing, or decommission through the wrong door.
    refused(
        &app.call(
            Some(&root),
            Method::PATCH,
            &format!("{A}/devices/ra1"),
            Some(json!({})),
        )
        .await,
        &["nothing to change"],
    );
    refused(
        &app.call(
            Some(&root),
            Method::PATCH,
            &format!("{A}/devices/ra1"),
            Some(json!({"status": "decommissioned"})),
        )
        .await,
        &["status", "DELETE"],
    );

    // Rotation: a password is required off the device and refused on it.
    refused(
        &app.post(
            &root,
            &format!("{A}/devices/ra1/rotate-credentials"),
            json!({"on_device": false}),
        )
        .await,
        &["password", "required"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices/ra1/rotate-credentials"),
            json!({"on_device": true, "password": "x"}),
        )
        .await,
        &["not allowed with on_device true"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/devices/ra1/rotate-credentials"),
            json!({}),
        )
        .await,
        &["missing field `on_device`"],
    );

    // Rejections need a reason, bounded and printable.
    refused(
        &app.post(&root, &format!("{A}/plans/{plan}/reject"), json!({}))
            .await,
        &["missing field `reason`"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/plans/{plan}/reject"),
            json!({"reason": "  "}),
        )
        .await,
        &["reason", "must not be empty"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/plans/{plan}/reject"),
            json!({"reason": "x".repeat(1001)}),
        )
        .await,
        &["reason", "at most 1000"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/plans/{plan}/reject"),
            json!({"reason": "ok\u{1b}[2Jlooks fine"}),
        )
        .await,
        &["reason", "U+001B"],
    );
    refused(
        &app.post(
            &root,
            &format!("{A}/plans/{plan}/approve"),
            json!({"comment": 5}),
        )
        .await,
        &["comment", "invalid type"],
    );

    // Query strings.
    refused(
        &app.get(&root, &format!("{A}/devices?colour=red")).await,
        &["unknown field `colour`"],
    );
    refused(
        &app.get(&root, &format!("{A}/devices?status=broken")).await,
        &["status", "active|inactive|decommissioned"],
    );
    refused(
        &app.get(&root, &format!("{A}/devices?limit=0")).await,
        &["limit", "1 to 500"],
    );
    refused(
        &app.get(&root, &format!("{A}/devices?limit=many")).await,
        &["limit", "\"many\"", "1 to 500"],
    );
    refused(
        &app.get(&root, &format!("{A}/devices?cursor=garbage")).await,
        &["cursor"],
    );
    refused(
        &app.get(&root, &format!("{A}/audit?since=yesterday")).await,
        &["since", "RFC 3339"],
    );
    refused(
        &app.get(&root, &format!("{A}/plans?status=done")).await,
        &["status", "pending"],
    );
    // A cursor of one listing is not accepted by another.
    let page = app.get(&root, &format!("{A}/audit?limit=1")).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    refused(
        &app.get(&root, &format!("{A}/plans?cursor={cursor}")).await,
        &["cursor", "plans"],
    );

    // Malformed JSON, trailing garbage, a body that is not an object.
    for text in ["{\"name\": ", "{\"name\": \"ok\"} {}", "[1, 2]", "\"acme\""] {
        let reply = app
            .send(
                Some(&root),
                Request::builder()
                    .method(Method::POST)
                    .uri("/v1/organizations")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(text))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{text}: {}",
            reply.text
        );
        assert_eq!(reply.code(), "invalid_request");
    }
    let malformed = app
        .send(
            Some(&root),
            Request::builder()
                .method(Method::POST)
                .uri("/v1/organizations")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"name\": 'x'}"))
                .unwrap(),
        )
        .await;
    refused(&malformed, &["malformed JSON"]);
    let empty = app
        .send(
            Some(&root),
            Request::builder()
                .method(Method::POST)
                .uri("/v1/organizations")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    refused(&empty, &["needs a JSON body"]);

    // Not JSON at all: 415, still a JSON error.
    let form = app
        .send(
            Some(&root),
            Request::builder()
                .method(Method::POST)
                .uri("/v1/organizations")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=acme2"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        form.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        form.text
    );
    assert_eq!(form.code(), "invalid_request");
    assert!(form.message().contains("application/json"));
    let untyped = app
        .send(
            Some(&root),
            Request::builder()
                .method(Method::POST)
                .uri("/v1/organizations")
                .body(Body::from("{\"name\": \"acme2\"}"))
                .unwrap(),
        )
        .await;
    assert_eq!(untyped.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Oversized bodies: refused before they are read, declared or not.
    let big = json!({"name": "x".repeat(70 * 1024)}).to_string();
    let oversized = app
        .post(
            &root,
            "/v1/organizations",
            serde_json::from_str(&big).unwrap(),
        )
        .await;
    assert_eq!(
        oversized.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        oversized.text
    );
    assert_eq!(oversized.code(), "invalid_request");
    assert!(oversized.message().contains("65536"));
    let stream = futures_stream(big.into_bytes());
    let chunked = app
        .send(
            Some(&root),
            Request::builder()
                .method(Method::POST)
                .uri(format!("{A}/plans/{plan}/reject"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(stream)
                .unwrap(),
        )
        .await;
    assert_eq!(
        chunked.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        chunked.text
    );

    // Methods a path does not have: 405 with what it has, as JSON.
    let wrong = app
        .call(
            Some(&root),
            Method::PUT,
            "/v1/organizations",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        wrong.text
    );
    assert_eq!(wrong.code(), "invalid_request");
    assert!(wrong.message().contains("Allow header"), "{}", wrong.text);
    let allow = wrong.headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    assert_eq!(
        (
            app.org_count().await,
            app.project_count().await,
            app.device_count().await,
            app.audit_count().await,
        ),
        counts,
        "nothing changed"
    );
    assert_eq!(
        app.state.workflow.plan(&plan).await.unwrap().status,
        workflow::PlanStatus::Pending
    );
    app.stop().await;
}

/// A body without a declared length, delivered in pieces.
fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capability_flags_are_set_by_admins_and_bad_values_change_nothing() {
    let app = App::start().await;
    let root = admin();
    let path = format!("{A}/devices/ra1");
    let patch = |body: Value| {
        Request::builder()
            .method(Method::PATCH)
            .uri(&path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let shown = app.get(&root, &path).await;
    let caps = &shown.body["capabilities"];
    // ra1 is prod: basic writes on, professional workflows off, both by environment.
    assert_eq!(caps["allow_basic_writes"], true, "{caps}");
    assert_eq!(caps["allow_professional_workflows"], false, "{caps}");
    assert_eq!(caps["allow_professional_workflows_source"], "environment");
    let audit = app.audit_count().await;
    for bad in [
        json!({"allow_professional_workflows": "maybe"}),
        json!({"allow_basic_writes": 1}),
    ] {
        let reply = app.send(Some(&root), patch(bad.clone())).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
        assert!(
            reply.message().contains("allow_"),
            "{bad}: {}",
            reply.message()
        );
    }
    assert_eq!(app.audit_count().await, audit, "refusals changed nothing");
    let set = app
        .send(
            Some(&root),
            patch(json!({"allow_professional_workflows": true})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let caps = &set.body["capabilities"];
    assert_eq!(caps["allow_professional_workflows"], true);
    assert_eq!(caps["allow_professional_workflows_source"], "admin");
    assert_eq!(app.audit_count().await, audit + 1, "the change is audited");
    let reset = app
        .send(
            Some(&root),
            patch(json!({"allow_professional_workflows": "default"})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(
        reset.body["capabilities"]["allow_professional_workflows"],
        false
    );
    app.stop().await;
}
