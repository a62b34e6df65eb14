//! Many authenticated callers at once: 500 HTTP sessions, each with its own bearer check, calling
//! tools for a bounded time — every call answered, and the router never pushed past the
//! per-device ceiling the operator set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::World;

const SESSIONS: usize = 500;
const RATE: u64 = 200;
const BURST: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_authenticated_sessions_are_served_within_the_device_ceiling() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let out = world
        .cli(&["token", "create", "--role", "operator", "--output", "json"])
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let rate = RATE.to_string();
    let burst = BURST.to_string();
    let server = world
        .http_server(&[
            ("MCP_AUTH_MODE", "token"),
            ("MCP_HTTP_MAX_SESSIONS", "600"),
            // The sessions open as fast as the server takes them, above the default rate of
            // new sessions (MAX_INIT_PER_SECOND=50).
            ("MAX_INIT_PER_SECOND", "1000"),
            ("ROUTEROS_DEVICE_RATE_LIMIT", rate.as_str()),
            ("ROUTEROS_DEVICE_RATE_BURST", burst.as_str()),
            // Every call reaches the router: the ceiling is what is measured.
            ("MCP_RESOURCE_CACHE_ENABLED", "false"),
            ("LOG_LEVEL", "warn"),
        ])
        .await;

    let opened = Instant::now();
    let sessions: Vec<_> = futures::stream::iter(0..SESSIONS)
        .map(|_| {
            let (server, token) = (&server, token.as_str());
            async move { server.client_bearer(token).await.expect("session opens") }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let opened = opened.elapsed();
    let sessions: Vec<_> = sessions.into_iter().map(Arc::new).collect();

    let sim = world.sim(&device);
    let before = sim.counters().snapshot().requests_total;
    let started = Instant::now();
    let window = Duration::from_secs(3);
    let calls: Vec<(u32, u32, Option<String>)> =
        futures::future::join_all(sessions.iter().enumerate().map(|(n, s)| {
            let (s, device) = (Arc::clone(s), device.clone());
            async move {
                let (mut ok, mut failed, mut first) = (0u32, 0u32, None);
                // Bounded: two calls at least, then until the window closes, at most 20.
                for i in 0..20 {
                    if i >= 2 && started.elapsed() > window {
                        break;
                    }
                    let r = if i % 2 == 0 {
                        s.call(
                            "routeros.print",
                            json!({"device_id": device, "menu": "interface",
                        // A filter of its own per session and call: distinct reads, none shared.
                        "where": {"comment": format!("s{n}-{i}")}}),
                        )
                        .await
                    } else {
                        s.call("device.list", json!({"limit": 1})).await
                    };
                    if r.is_error == Some(true) {
                        failed += 1;
                        first.get_or_insert_with(|| crate::support::text(&r));
                    } else {
                        ok += 1;
                    }
                }
                (ok, failed, first)
            }
        }))
        .await;
    let elapsed = started.elapsed();
    let ok: u32 = calls.iter().map(|c| c.0).sum();
    let failed: u32 = calls.iter().map(|c| c.1).sum();
    let first = calls.iter().find_map(|c| c.2.clone()).unwrap_or_default();
    assert_eq!(
        failed,
        0,
        "{failed} of {} calls failed; the first: {first}",
        ok + failed
    );

    // The router's own clock: no one-second window holds more than the ceiling allows.
    let snapshot = sim.counters().snapshot();
    let reached = snapshot.requests_total - before;
    let times: Vec<u64> = snapshot.requests.iter().map(|r| r.at_unix_ms).collect();
    let seen = &times[times.len().saturating_sub(reached as usize)..];
    let mut worst = 0;
    for (i, start) in seen.iter().enumerate() {
        worst = worst.max(seen[i..].iter().take_while(|t| **t < start + 1000).count());
    }
    let jitter = (RATE / 50) as usize;
    assert!(
        worst <= (RATE + BURST) as usize + jitter,
        "{worst} requests reached the router in one second; the ceiling is {RATE}/s, burst {BURST}"
    );
    assert!(
        reached >= SESSIONS as u64,
        "every session reached the router at least once: {reached}"
    );
    println!(
        "{SESSIONS} sessions opened in {} ms; {ok} calls in {} ms, none failed; the router saw {reached} requests, at most {worst} in one second (ceiling {RATE}/s + burst {BURST})",
        opened.as_millis(),
        elapsed.as_millis()
    );
    for s in sessions {
        if let Ok(s) = Arc::try_unwrap(s) {
            s.close().await;
        }
    }
    server.stop().await;
    world.stop().await;
}
