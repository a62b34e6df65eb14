//! The `routeros-sim` binary: writes the manifest only once every device listens, serves what
//! the manifest says, and exits cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use routeros_sim::Manifest;
use serde_json::{Value, json};

#[tokio::test]
async fn binary_writes_a_usable_manifest_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet").join("manifest.json");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-sim"))
        .args([
            "--count",
            "3",
            "--profile",
            "home,switch48",
            "--seed",
            "4",
            "--base-address",
            "127.0.30.1",
            "--http-port",
            "0",
            "--https-port",
            "0",
            "--ssh-port",
            "0",
            "--password",
            "pw-test",
            "--key-seed",
            "1",
            "--time-scale",
            "60",
        ])
        .arg("--manifest")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no manifest after 30 s"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the simulator exited early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(manifest.devices.len(), 3);
    let d = &manifest.devices[1];
    assert_eq!(
        (d.name.as_str(), d.profile.as_str()),
        ("sim-0002", "switch48")
    );
    assert_eq!(d.address, "127.0.30.2");
    assert_eq!(d.password, "pw-test");
    // The API listens on RouterOS's ports when none are given: 8728, and 8729 over TLS.
    assert_eq!((d.api_port, d.api_ssl_port), (8728, 8729));
    let api: std::net::SocketAddr = format!("{}:8728", d.address).parse().unwrap();
    tokio::net::TcpStream::connect(api).await.unwrap();
    let status: Value = rest_support::plain()
        .get(format!("{}/devices/sim-0002", manifest.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["ports"]["api"], json!(8728));
    assert_eq!(status["ports"]["api_ssl"], json!(8729));
    let c = rest_support::client(&d.tls_sha256);
    let resp = c
        .get(format!(
            "https://{}:{}/rest/system/identity",
            d.address, d.https_port
        ))
        .basic_auth(&d.username, Some(&d.password))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"name": "sim-0002"})
    );
    let status: Value = rest_support::plain()
        .get(format!("{}/devices/sim-0003", manifest.control_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["profile"], json!("home"));

    // SIGTERM: clean exit with status 0.
    let pid = child.id().unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn binary_rejects_bad_arguments_with_a_clear_message() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-sim"))
        .args(["--profile", "router", "--count", "1"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown profile `router`") && err.contains("home, switch48, edge"),
        "{err}"
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-sim"))
        .args([
            "--base-address",
            "10.1.1.1",
            "--http-port",
            "0",
            "--https-port",
            "0",
            "--ssh-port",
            "0",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback address"), "{err}");
}
