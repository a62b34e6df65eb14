//! `fleet.get_health` over 100 simulated routers with five of them down, through the real server
//! (on PostgreSQL when `TEST_DATABASE_URL` is set): a partial result with a per-device error for
//! each router that does not answer — never a failed call — listed before the healthy ones.

use std::time::{Duration, Instant};

use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{World, WorldOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_health_over_a_hundred_routers_with_five_down() {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home],
        count: 100,
        postgres: Some("system::fleet_health_over_a_hundred_routers_with_five_down"),
    })
    .await;
    // Three reboot (connections refused), two stop answering (timeouts).
    let down: Vec<String> = [7, 23, 42, 77, 99]
        .iter()
        .map(|i| world.names[*i].clone())
        .collect();
    for name in &down[..3] {
        world.sim(name).reboot(Duration::from_secs(600));
    }
    for name in &down[3..] {
        world.sim(name).set_faults(Faults {
            hang: true,
            ..Faults::none()
        });
    }
    let client = world
        .stdio(&[
            ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "2"),
            ("ROUTEROS_READ_RETRIES", "0"),
        ])
        .await;
    let started = Instant::now();
    let (health, result) = client.ok_result("fleet.get_health", json!({})).await;
    let took = started.elapsed();
    assert_ne!(result.is_error, Some(true));
    assert_eq!(health["summary"]["total"], 100);
    assert_eq!(health["summary"]["reachable"], 95);
    assert_eq!(health["summary"]["unreachable"], 5);
    assert_eq!(health["summary"]["healthy"], 95);
    // Only the five that need attention are listed; the healthy ones are counted.
    let mut listed: Vec<&str> = health["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = down.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    let (everything, _) = client
        .ok_result(
            "fleet.get_health",
            json!({"limit": 100, "include_healthy": true}),
        )
        .await;
    let items = everything["items"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    for (i, item) in items.iter().enumerate() {
        let name = item["name"].as_str().unwrap();
        if down.iter().any(|d| d == name) {
            assert!(i < 5, "needing attention, listed first: {item}");
            assert_eq!(item["reachable"], false, "{item}");
            let message = item["error"]["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("device {name}: ")),
                "{message}"
            );
            assert!(
                matches!(
                    item["error"]["kind"].as_str(),
                    Some("unreachable" | "timeout")
                ),
                "{item}"
            );
        } else {
            assert_eq!(item["reachable"], true, "{item}");
            assert!(item.get("error").is_none_or(Value::is_null), "{item}");
        }
    }
    // Bounded concurrency, yet the two hanging routers cost one timeout, not one each in turn.
    assert!(took < Duration::from_secs(20), "{took:?}");
    eprintln!("fleet.get_health over 100 routers, 5 down: {took:?}");

    // Narrowed and paged: a page of ten, with a cursor to the rest; no match is an empty list.
    let page = client
        .ok(
            "fleet.get_health",
            json!({"environment": "lab", "limit": 10, "include_healthy": true}),
        )
        .await;
    assert_eq!(page["total"], 100);
    assert_eq!(page["returned"], 10);
    assert!(page["next_cursor"].is_string());
    let none = client
        .ok("fleet.get_health", json!({"environment": "prod"}))
        .await;
    assert_eq!(none["total"], 0);
    client.close().await;
    world.stop().await;
}
