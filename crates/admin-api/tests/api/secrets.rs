//! Secrets stay where they belong: an approval token appears once, in the approve response, and
//! a device password not even there — neither is in any other response, the audit log, the
//! registry file or the log output.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;

use crate::support::{App, admin, contains, principal};

const A: &str = "/v1/organizations/acme/projects/site-a";

/// Everything any test of this binary logged, from the moment the first caller asked.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in this test binary");
        buffer
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> Vec<u8> {
    captured_logs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The whole audit log as text.
async fn audit_text(app: &App) -> String {
    serde_json::to_string(
        &app.store()
            .audit_events(&store::AuditFilter {
                limit: 1_000_000,
                ..store::AuditFilter::default()
            })
            .await
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_token_is_shown_once_and_stored_nowhere() {
    let logs_before = logs().len();
    let app = App::start().await;
    let approver = principal("dana", &["acme/site-a:approver"]);
    let plan = app.propose(&app.device_a).await;
    let approved = app
        .post(
            &approver,
            &format!("{A}/plans/{plan}/approve"),
            json!({"comment": "fine"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    let token = approved.body["approval_token"].as_str().unwrap().to_owned();
    assert_eq!(approved.text.matches(&token).count(), 1);
    // The signature alone would be enough to recognise a leak.
    let signature = token.rsplit('.').next().unwrap().to_owned();
    assert!(signature.len() > 20);

    let mut elsewhere = Vec::new();
    for path in [
        format!("{A}/plans/{plan}"),
        format!("{A}/plans"),
        format!("{A}/audit?limit=500"),
    ] {
        elsewhere.push(app.get(&approver, &path).await.text);
    }
    elsewhere.push(audit_text(&app).await);
    for text in &elsewhere {
        assert!(!text.contains(&signature), "the token leaked into {text}");
    }
    let approval = app
        .store()
        .audit_events(&store::AuditFilter {
            action: Some("plan.approve".into()),
            limit: 1,
            ..store::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(approval[0].actor, "api:oidc:dana");
    assert_eq!(approval[0].details["comment"], "fine");
    assert!(!contains(&app.database_bytes(), signature.as_bytes()));
    let logged = logs();
    assert!(
        contains(&logged[logs_before..], b"admin API request"),
        "the log capture works"
    );
    assert!(
        !contains(&logged, signature.as_bytes()),
        "the token was logged"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_password_is_never_shown_logged_or_audited() {
    captured_logs();
    let app = App::start().await;
    let root = admin();
    let m = app.manifest[2].clone();
    // Onboarding fails with this one: the failure must not repeat it either.
    let wrong = "Wr0ng-Sentinel-Password-8cbd";
    let failed = app
        .post(
            &root,
            &format!("{A}/devices"),
            json!({
                "name": "edge-x", "address": m.address, "rest_port": m.https_port,
                "ssh_port": m.ssh_port, "username": m.username, "password": wrong,
                "trust_on_first_use": true,
            }),
        )
        .await;
    assert_eq!(failed.status, 422, "{}", failed.text);
    let created = app
        .post(
            &root,
            &format!("{A}/devices"),
            json!({
                "name": "edge-x", "address": m.address, "rest_port": m.https_port,
                "ssh_port": m.ssh_port, "username": m.username, "password": m.password,
                "trust_on_first_use": true,
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let stored = "St0red-Sentinel-Password-41a0";
    let rotated = app
        .post(
            &root,
            &format!("{A}/devices/edge-x/rotate-credentials"),
            json!({"on_device": false, "password": stored}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let shown = app.get(&root, &format!("{A}/devices/edge-x")).await;
    let audit = app.get(&root, &format!("{A}/audit?limit=500")).await;
    let everything = [
        failed.text,
        created.text,
        rotated.text,
        shown.text,
        audit.text,
        audit_text(&app).await,
    ];
    for secret in [wrong, m.password.as_str(), stored] {
        for text in &everything {
            assert!(!text.contains(secret), "a password leaked into {text}");
        }
        assert!(!contains(&app.database_bytes(), secret.as_bytes()));
        assert!(
            !contains(&logs(), secret.as_bytes()),
            "a password was logged"
        );
    }
    app.stop().await;
}
