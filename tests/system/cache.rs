//! Router reads through the real server at its default settings: a repeated call within the
//! read cache's TTL does not reach the router and says how old its answer is; a change applied
//! through a plan makes the next read go to the router; with the cache off every call does.

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{World, meta};

fn requests(world: &World, device: &str) -> u64 {
    world.sim(device).counters().snapshot().requests_total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_read_comes_from_the_cache_until_a_change_is_applied() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world.stdio(&[]).await;
    let overview = json!({"device_id": device});

    let (first, r) = client
        .ok_result("system.get_overview", overview.clone())
        .await;
    assert_eq!(
        meta(&r, "cache"),
        Value::Null,
        "the first call reads the router"
    );
    let before = requests(&world, &device);
    let (again, r) = client
        .ok_result("system.get_overview", overview.clone())
        .await;
    assert_eq!(
        requests(&world, &device),
        before,
        "the second call stays in the server"
    );
    assert_eq!(again, first);
    let cache = meta(&r, "cache");
    assert_eq!(cache["hit"], true, "{cache}");
    let age = cache["age_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(age < 3_000, "within the default 3 s TTL: {cache}");

    // A change applied through a plan: the next read goes to the router and shows it.
    let args = json!({"device_id": device, "limit": 100});
    let listed = client.ok("dns.list_static", args.clone()).await;
    let plan = client
        .ok(
            "dns.add_static_entry",
            json!({"device_id": device, "name": "cached.lan", "address": "10.0.0.7"}),
        )
        .await;
    let token = plan["approval"]["approval_token"].as_str().unwrap();
    let applied = client
        .ok(
            "plan.apply",
            json!({"plan_id": plan["plan_id"], "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let before = requests(&world, &device);
    let (after, r) = client.ok_result("dns.list_static", args).await;
    assert!(
        requests(&world, &device) > before,
        "the read after the apply"
    );
    assert_eq!(meta(&r, "cache"), Value::Null);
    assert_eq!(
        after["total"],
        listed["total"].as_u64().unwrap() + 1,
        "{after}"
    );
    client.close().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cache_off_every_call_reaches_the_router() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world
        .stdio(&[("MCP_RESOURCE_CACHE_ENABLED", "false")])
        .await;
    let overview = json!({"device_id": device});
    client.ok("system.get_overview", overview.clone()).await;
    for _ in 0..3 {
        let before = requests(&world, &device);
        let (_, r) = client
            .ok_result("system.get_overview", overview.clone())
            .await;
        assert_eq!(
            requests(&world, &device) - before,
            3,
            "resource, identity and routerboard, read again"
        );
        assert_eq!(meta(&r, "cache"), Value::Null);
    }
    client.close().await;
    world.stop().await;
}
