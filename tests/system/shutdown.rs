//! SIGTERM right after tool calls, while the database cannot take writes: the server waits for
//! its queued (group-committed) audit records to be written before it exits, so every call is
//! in the audit log and the chain verifies.

use std::time::{Duration, Instant};

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{STEP, World, WorldOptions};

/// Calls made before the signal.
const CALLS: usize = 120;

/// Whether the process has exited (gone, or a zombie waiting to be reaped).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `123 (routeros-mcp) Z …`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

async fn every_call_is_recorded(postgres: bool) {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: 1,
        postgres: postgres.then_some("system::shutdown::sigterm_flushes_the_queued_audit_records"),
    })
    .await;
    if postgres && !world.on_postgres() {
        world.stop().await;
        return;
    }
    let client = world.stdio(&[]).await;
    let pid = client.pid.unwrap();

    // Another writer holds the registry's write lock: the server can queue records, not write them.
    let registry = world.registry().await;
    let held = registry.begin_write().await.unwrap();
    let calls = (0..CALLS).map(|_| client.call("device.list", json!({})));
    for r in futures::future::join_all(calls).await {
        assert_ne!(r.is_error, Some(true), "{r:?}");
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !exited(pid),
        "the server waits for its queued audit records:\n{}",
        client.log.text()
    );

    held.rollback().await.unwrap();
    registry.close().await;
    let started = Instant::now();
    while !exited(pid) {
        assert!(
            started.elapsed() < STEP,
            "the server exits once the records are written:\n{}",
            client.log.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = client.log.text();
    client.close().await;

    let out = world
        .cli(&[
            "audit",
            "list",
            "--action",
            "tool.call",
            "--limit",
            "1000",
            "--output",
            "json",
        ])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "tool:device.list")
        .count();
    assert_eq!(
        listed, CALLS,
        "every call before SIGTERM is recorded\n{log}"
    );
    let verify = world.cli(&["audit", "verify"]).await;
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_the_queued_audit_records() {
    every_call_is_recorded(false).await;
    every_call_is_recorded(true).await;
}
