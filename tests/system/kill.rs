//! `kill -9` of the real server during an apply, at five points chosen by the journal step the
//! apply has reached, then a restart: the next server resolves the plan before it takes a call,
//! and every router is exactly as before the plan (or as planned, had every router confirmed).

use std::time::{Duration, Instant};

use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{STEP, World, WorldOptions};

fn config(world: &World, name: &str) -> Value {
    serde_json::from_str(&world.sim(name).state_dump(false).to_json_string()).unwrap()
}

/// The journal's steps so far, as `plan journal` prints them.
async fn steps(world: &World, plan: &str) -> Vec<String> {
    let out = world
        .cli(&["plan", "journal", plan, "--output", "json"])
        .await;
    serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["step"].as_str().map(str::to_owned))
        .collect()
}

/// One run: kill the server once the journal holds `nth` rows of `step`; what recovery made of it.
async fn killed_at(step: &str, nth: usize, postgres: bool) -> Option<String> {
    let world = World::start_with(WorldOptions {
        profiles: vec![Profile::Home, Profile::Home],
        count: 2,
        postgres: postgres.then_some("system::kill::kill_9_at_five_journal_steps_then_restart"),
    })
    .await;
    if postgres && !world.on_postgres() {
        world.stop().await;
        return None;
    }
    let before: Vec<Value> = world.names.iter().map(|n| config(&world, n)).collect();
    let client = world.stdio(&[]).await;
    let changes: Vec<Value> = world
        .names
        .iter()
        .flat_map(|d| {
            let mut c: Vec<Value> = (0..3)
                .map(|i| json!({"device_id": d, "menu": "ip/dns/static", "action": "add",
                                "properties": {"name": format!("k{i}.lan"), "address": format!("10.8.0.{}", i + 1)}}))
                .collect();
            c.push(json!({"device_id": d, "menu": "ip/firewall/filter", "action": "add",
                          "properties": {"chain": "forward", "action": "drop", "src-address": "198.51.100.0/24", "comment": "kill"}}));
            c
        })
        .collect();
    let plan = client
        .ok(
            "plan.create",
            json!({"title": "two routers", "changes": changes}),
        )
        .await;
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let out = world
        .cli(&["plan", "approve", &id, "--output", "json"])
        .await;
    let token = serde_json::from_slice::<Value>(&out.stdout).unwrap()["approval_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in &world.names {
        world.sim(n).set_faults(Faults {
            latency_ms: 300,
            ..Faults::none()
        });
    }
    let pid = client.pid.unwrap();
    let apply = {
        let id = id.clone();
        tokio::spawn(async move {
            let _ = client
                .service
                .call_tool(
                    rmcp::model::CallToolRequestParams::new("plan.apply").with_arguments(
                        json!({"plan_id": id, "approval_token": token})
                            .as_object()
                            .unwrap()
                            .clone(),
                    ),
                )
                .await;
        })
    };
    let started = Instant::now();
    loop {
        let seen = steps(&world, &id).await;
        if seen.iter().filter(|s| *s == step).count() >= nth {
            break;
        }
        assert!(
            started.elapsed() < STEP,
            "never reached {step} ×{nth}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = apply.await;
    for n in &world.names {
        world.sim(n).set_faults(Faults::none());
    }
    let restarted = world.stdio(&[]).await;
    let got = restarted.ok("plan.get", json!({"plan_id": id})).await;
    let status = got["status"].as_str().unwrap().to_owned();
    assert!(
        restarted
            .log
            .text()
            .contains(&format!("recovered plan {id}: {status}")),
        "{}",
        restarted.log.text()
    );
    for (i, n) in world.names.iter().enumerate() {
        let now = config(&world, n);
        match status.as_str() {
            "rolled_back" => assert_eq!(now, before[i], "{n} after a kill at {step} ×{nth}"),
            "applied" => {
                let names: Vec<&str> = now["/ip/dns/static"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| e["name"].as_str())
                    .collect();
                assert!(names.contains(&"k2.lan"), "{n} has every change");
            }
            other => panic!("a kill at {step} ×{nth} left the plan {other}"),
        }
    }
    restarted.close().await;
    world.stop().await;
    Some(status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_five_journal_steps_then_restart() {
    for (backend, postgres) in [("SQLite", false), ("PostgreSQL", true)] {
        let mut tally = Vec::new();
        for (step, nth) in [
            ("lock", 1),
            ("armed", 1),
            ("done", 2),
            ("verified", 1),
            ("confirmed", 1),
        ] {
            let Some(status) = killed_at(step, nth, postgres).await else {
                break;
            };
            tally.push(format!("after {step} ×{nth} → {status}"));
        }
        if tally.is_empty() {
            continue;
        }
        eprintln!("kill -9 of serve mid-apply ({backend}, 2 routers, 8 changes), then restart:");
        for t in &tally {
            eprintln!("  {t}");
        }
    }
}
