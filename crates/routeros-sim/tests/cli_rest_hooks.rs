//! The REST commands that run through the console interpreter: `/rest/execute` (synchronous
//! with `as-string`, a job otherwise), `/rest/export`, `/rest/<menu>/export`,
//! `/rest/system/script/run`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::test]
async fn execute_as_string_returns_the_output() {
    let sim = rest_support::home().await;
    let (status, body) = sim
        .post(
            "/execute",
            json!({"script": ":put [/system identity get name]", "as-string": ""}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(body, json!({"ret": "sim-0001"}));
    let (_, body) = sim
        .post(
            "/execute",
            json!({"script": "/system identity print", "as-string": ""}),
        )
        .await;
    assert_eq!(body, json!({"ret": "  name: sim-0001"}));
    let (_, body) = sim
        .post(
            "/execute",
            json!({"script": ":put 1; :put 2", "as-string": ""}),
        )
        .await;
    assert_eq!(body, json!({"ret": "1\r\n2"}));
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn execute_reports_script_errors_in_ret_with_status_200() {
    let sim = rest_support::home().await;
    let (status, body) = sim
        .post(
            "/execute",
            json!({"script": "/ip service set www-ssl certificate=nope", "as-string": ""}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        body,
        json!({"ret": "input does not match any value of certificate (/ip/service/set (certificate); line 1)"})
    );
    let (_, body) = sim
        .post("/execute", json!({"script": "/ip bogus", "as-string": ""}))
        .await;
    assert_eq!(
        body,
        json!({"ret": "bad command name bogus (line 1 column 5)"})
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn execute_without_as_string_starts_a_job() {
    let sim = rest_support::home().await;
    let (status, body) = sim
        .post(
            "/execute",
            json!({"script": "/system identity set name=from-job"}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    let ret = body["ret"].as_str().unwrap();
    assert!(
        ret.starts_with('*') && u64::from_str_radix(&ret[1..], 16).is_ok(),
        "job id: {ret}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = sim.get("/system/identity").await;
        if body["name"] == "from-job" {
            break;
        }
        assert!(Instant::now() < deadline, "the job never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn export_over_rest_is_the_console_export() {
    let sim = rest_support::home().await;
    let (status, body) = sim.post("/export", json!({"compact": ""})).await;
    assert_eq!(status.as_u16(), 200);
    let text = body["ret"].as_str().unwrap();
    assert!(text.starts_with("# "), "{text}");
    assert!(text.contains(" by RouterOS 7.19.4\r\n"), "{text}");
    assert!(
        text.contains("\r\n/ip address\r\nadd address=127.0.1.1/24 comment=management"),
        "{text}"
    );
    assert!(
        !text.contains("private-key"),
        "sensitive values are hidden by default"
    );
    let (_, body) = sim
        .post("/interface/wireguard/export", json!({"show-sensitive": ""}))
        .await;
    let text = body["ret"].as_str().unwrap();
    assert!(text.contains("private-key="), "{text}");
    assert!(
        !text.contains("/ip address"),
        "a menu export has only that menu: {text}"
    );
    let (status, body) = sim.post("/export", json!({"bogus": ""})).await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(body["detail"], "unknown parameter bogus");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn script_run_over_rest() {
    let sim = rest_support::home().await;
    let (status, body) = sim
        .put(
            "/system/script",
            json!({"name": "rename", "source": "/system identity set name=renamed"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201);
    let id = body[".id"].as_str().unwrap().to_string();
    let (status, body) = sim.post("/system/script/run", json!({".id": id})).await;
    assert_eq!((status.as_u16(), body), (200, json!([])));
    let (_, body) = sim.get("/system/identity").await;
    assert_eq!(body["name"], "renamed");
    let (_, body) = sim.get(&format!("/system/script/{id}")).await;
    assert_eq!(body["run-count"], "1");
    let (status, body) = sim.post("/system/script/run", json!({".id": "*99"})).await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(body["detail"], "no such item");
    sim.fleet.shutdown().await;
}
