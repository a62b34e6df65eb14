//! What the web console's pages need from the admin API: contacting an unregistered router to
//! show the fingerprints it presents (nothing stored) and then creating it pinned to exactly
//! those; each device's backup and drift state; the audit chain's verification.

use axum::http::StatusCode;
use routeros::Fingerprint;
use serde_json::json;

use crate::support::{App, admin, principal};

const BASE: &str = "/v1/organizations/acme/projects/site-a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_shows_what_the_router_presents_stores_nothing_and_the_pins_confirmed_are_kept() {
    let app = App::start().await;
    let root = admin();
    let m = app.manifest[2].clone();
    let (devices, events) = (app.device_count().await, app.audit_count().await);
    let probed = app
        .post(
            &root,
            &format!("{BASE}/device-probes"),
            json!({"address": m.address, "rest_port": m.https_port, "ssh_port": m.ssh_port,
                   "username": m.username, "password": m.password}),
        )
        .await;
    assert_eq!(probed.status, StatusCode::OK, "{}", probed.text);
    let probes = probed.body["probes"].as_array().unwrap();
    let presented = |driver: &str| {
        probes.iter().find(|p| p["driver"] == driver).unwrap()["presented"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tls = presented("rest");
    let ssh = presented("ssh");
    assert_eq!(tls, Fingerprint::parse(&m.tls_sha256).unwrap().hex());
    assert_eq!(
        Fingerprint::parse(&ssh).unwrap(),
        Fingerprint::parse(&m.ssh_host_key_sha256).unwrap()
    );
    assert!(
        !probed.text.contains(&m.password),
        "the password is not echoed"
    );
    assert_eq!(
        app.device_count().await,
        devices,
        "a probe registers nothing"
    );
    assert_eq!(app.audit_count().await, events, "a probe records nothing");

    // A wrong pin is refused at creation; the confirmed ones are kept.
    let create = |tls: &str, name: &str| {
        json!({"name": name, "address": m.address, "rest_port": m.https_port,
               "ssh_port": m.ssh_port, "username": m.username, "password": m.password,
               "tls_cert_sha256": tls, "ssh_host_key_sha256": ssh})
    };
    let wrong = app
        .post(
            &root,
            &format!("{BASE}/devices"),
            create(&"ab".repeat(32), "edge-x"),
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.text
    );
    assert_eq!(app.device_count().await, devices);
    let created = app
        .post(&root, &format!("{BASE}/devices"), create(&tls, "edge-x"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.body["fingerprints"]["tls_cert_sha256"],
        tls.as_str()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_needs_an_admin_of_the_project_and_bad_input_is_named() {
    let app = App::start().await;
    let m = app.manifest[2].clone();
    let body = json!({"address": m.address, "username": m.username, "password": "hunter2-probe"});
    let path = format!("{BASE}/device-probes");
    let viewer = principal("v", &["acme/site-a:viewer"]);
    let refused = app.post(&viewer, &path, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.message().contains("admin role"), "{}", refused.text);
    let stranger = principal("s", &["acme/site-b:admin"]);
    let hidden = app.post(&stranger, &path, body.clone()).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);
    let root = admin();
    for (bad, field) in [
        (
            json!({"address": m.address, "username": m.username}),
            "password",
        ),
        (
            json!({"address": "not an address!", "username": "u", "password": "hunter2-probe"}),
            "address",
        ),
        (
            json!({"address": m.address, "username": "u", "password": "hunter2-probe", "pin": true}),
            "pin",
        ),
        (
            json!({"address": m.address, "username": "u", "password": "hunter2-probe", "rest_port": 0}),
            "rest_port",
        ),
    ] {
        let r = app.post(&root, &path, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.message().contains(field), "{field}: {}", r.text);
        assert!(!r.text.contains("hunter2-probe"), "{}", r.text);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_state_and_the_audit_chain_for_a_projects_viewers_only() {
    let app = App::start().await;
    let viewer = principal("v", &["acme/site-a:viewer"]);
    let state = app.get(&viewer, &format!("{BASE}/backup-status")).await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    let items = state.body["items"].as_array().unwrap();
    let a = items
        .iter()
        .find(|i| i["device_id"] == app.device_a.to_string().as_str())
        .unwrap();
    assert!(
        a["last_backup_at"].is_null() && a["drift_since"].is_null(),
        "{a}"
    );
    assert!(
        !items
            .iter()
            .any(|i| i["device_id"] == app.device_b.to_string().as_str()),
        "another project's device is not listed"
    );
    let verified = app.get(&viewer, &format!("{BASE}/audit/verify")).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["intact"], true);
    let stranger = principal("s", &["acme/site-b:viewer"]);
    for path in ["backup-status", "audit/verify"] {
        let r = app.get(&stranger, &format!("{BASE}/{path}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    app.stop().await;
}
