//! Every fault, provoked through the control API and observed over REST the way a client of a
//! real router would observe it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use rest_support::{Sim, home, start};
use routeros_sim::{Faults, FleetOptions};
use serde_json::{Value, json};

async fn set_faults(sim: &Sim, faults: Value) {
    let (st, got) = sim
        .control_call(Method::PUT, "/devices/sim-0001/faults", Some(faults))
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
}

async fn clear_faults(sim: &Sim) {
    let (st, _) = sim
        .control_call(Method::DELETE, "/devices/sim-0001/faults", None)
        .await;
    assert_eq!(st, StatusCode::OK);
}

/// A GET that must not complete within `limit`.
async fn times_out(sim: &Sim, path: &str, limit: Duration) -> bool {
    let fut = sim
        .client
        .get(sim.http(path))
        .basic_auth("admin", Some("secret"))
        .send();
    tokio::time::timeout(limit, fut).await.is_err()
}

async fn wait_answering(sim: &Sim, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let fresh = rest_support::client(&sim.dev.tls_sha256);
        let r = fresh
            .get(sim.http("/system/identity"))
            .basic_auth("admin", Some("secret"))
            .timeout(Duration::from_millis(300))
            .send()
            .await;
        if let Ok(resp) = r
            && resp.status() == StatusCode::OK
        {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "device did not come back within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn latency_delays_every_reply() {
    let sim = home().await;
    set_faults(&sim, json!({"latency_ms": 300})).await;
    let t = Instant::now();
    let (st, _) = sim.get("/system/identity").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    clear_faults(&sim).await;
    let t = Instant::now();
    sim.get("/system/identity").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn error_rate_one_fails_everything_and_applies_nothing() {
    let sim = home().await;
    set_faults(&sim, json!({"error_rate": 1.0})).await;
    let (st, text) = sim
        .call_text(
            Method::PUT,
            "/ip/address",
            Some(r#"{"address":"10.3.3.1/24","interface":"ether2"}"#),
        )
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        text,
        r#"{"detail":"failure: simulated internal error","error":500,"message":"Internal Server Error"}"#
    );
    clear_faults(&sim).await;
    let (_, list) = sim.get("/ip/address?address=10.3.3.1/24").await;
    assert_eq!(list, json!([]), "a failed write is not applied");
}

#[tokio::test]
async fn error_rate_is_partial_and_seeded() {
    let sim = home().await;
    set_faults(&sim, json!({"error_rate": 0.5})).await;
    let mut failures = 0;
    for _ in 0..60 {
        let (st, _) = sim.get("/system/identity").await;
        if st == StatusCode::INTERNAL_SERVER_ERROR {
            failures += 1;
        }
    }
    assert!(
        (10..50).contains(&failures),
        "{failures} of 60 failed at rate 0.5"
    );
}

#[tokio::test]
async fn drop_after_closes_the_connection_once() {
    let sim = home().await;
    set_faults(&sim, json!({"drop_after": 2})).await;
    for _ in 0..2 {
        assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    }
    let third = sim
        .client
        .get(sim.http("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await;
    assert!(
        third.is_err(),
        "the third request's connection is closed without a reply"
    );
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    let (_, counters) = sim
        .control_call(Method::GET, "/devices/sim-0001/counters", None)
        .await;
    assert_eq!(
        counters["http_connections"],
        json!(2),
        "the client had to reconnect once"
    );
}

#[tokio::test]
async fn fail_write_fails_exactly_the_chosen_write() {
    let sim = home().await;
    set_faults(&sim, json!({"fail_write": 2})).await;
    let add = |n: u8| json!({"address": format!("10.4.{n}.1/24"), "interface": "ether2"});
    assert_eq!(
        sim.get("/ip/address").await.0,
        StatusCode::OK,
        "reads do not count"
    );
    assert_eq!(sim.put("/ip/address", add(1)).await.0, StatusCode::CREATED);
    assert_eq!(
        sim.put("/ip/address", add(2)).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(sim.put("/ip/address", add(3)).await.0, StatusCode::CREATED);
    let (_, list) = sim.get("/ip/address?.proplist=address").await;
    let addrs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert!(addrs.contains(&"10.4.1.1/24") && addrs.contains(&"10.4.3.1/24"));
    assert!(!addrs.contains(&"10.4.2.1/24"));
}

#[tokio::test]
async fn hang_holds_requests_until_cleared() {
    let sim = home().await;
    set_faults(&sim, json!({"hang": true})).await;
    assert!(times_out(&sim, "/system/identity", Duration::from_millis(500)).await);
    let pending = tokio::spawn({
        let client = sim.client.clone();
        let url = sim.http("/system/identity");
        async move {
            client
                .get(url)
                .basic_auth("admin", Some("secret"))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!pending.is_finished());
    clear_faults(&sim).await;
    let status = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn hang_after_serves_k_then_stops() {
    let sim = home().await;
    set_faults(&sim, json!({"hang_after": 3})).await;
    for _ in 0..3 {
        assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    }
    assert!(times_out(&sim, "/system/identity", Duration::from_millis(400)).await);
}

#[tokio::test]
async fn reject_auth_refuses_valid_credentials() {
    let sim = home().await;
    set_faults(&sim, json!({"reject_auth": true})).await;
    assert_eq!(
        sim.get("/system/identity").await.0,
        StatusCode::UNAUTHORIZED
    );
    clear_faults(&sim).await;
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    // The router logged the refused login as a login failure.
    let (_, log) = sim.get("/log").await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().is_some_and(
                |m| m.starts_with("login failure for user admin from 127.0.0.1 via rest-api")
            ) && l["topics"] == json!("system,error,critical")),
        "{log}"
    );
}

#[tokio::test]
async fn faults_given_at_start_apply_from_the_first_request() {
    let sim = start(FleetOptions {
        password: Some("secret".into()),
        faults: Faults {
            reject_auth: true,
            ..Faults::default()
        },
        ..FleetOptions::default()
    })
    .await;
    assert_eq!(
        sim.get("/system/identity").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, faults) = sim
        .control_call(Method::GET, "/devices/sim-0001/faults", None)
        .await;
    assert_eq!(faults["reject_auth"], json!(true));
}

#[tokio::test]
async fn reboot_makes_the_device_unreachable_then_back_with_uptime_reset() {
    let sim = start(FleetOptions {
        password: Some("secret".into()),
        time_scale: 1000.0,
        ..FleetOptions::default()
    })
    .await;
    sim.put(
        "/ip/address",
        json!({"address": "10.6.6.1/24", "interface": "ether2"}),
    )
    .await;
    let (_, before) = sim.get("/system/resource").await;
    assert_ne!(before["uptime"], json!("0s"));
    let (st, _) = sim
        .control_call(
            Method::POST,
            "/devices/sim-0001/reboot",
            Some(json!({"seconds": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let down = sim
        .client
        .get(sim.http("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await;
    assert!(down.is_err(), "no answer while rebooting");
    let back_after = wait_answering(&sim, Duration::from_secs(10)).await;
    assert!(back_after >= Duration::from_millis(700), "{back_after:?}");
    let (_, res) = sim.get("/system/resource").await;
    let up = res["uptime"].as_str().unwrap();
    assert!(
        !up.contains('h') && !up.contains('d') && !up.contains('w'),
        "uptime reset, got {up}"
    );
    let (_, kept) = sim.get("/ip/address?address=10.6.6.1/24").await;
    assert_eq!(
        kept.as_array().unwrap().len(),
        1,
        "configuration survives a reboot"
    );
    let (_, log) = sim.get("/log").await;
    assert_eq!(
        log[0]["message"],
        json!("router rebooted"),
        "the log starts afresh"
    );
}

#[tokio::test]
async fn reboot_after_k_requests_and_system_reboot_over_rest() {
    let sim = start(FleetOptions {
        password: Some("secret".into()),
        time_scale: 120.0,
        ..FleetOptions::default()
    })
    .await;
    set_faults(&sim, json!({"reboot_after": 1, "reboot_seconds": 1})).await;
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    let r = sim
        .client
        .get(sim.http("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await;
    assert!(r.is_err());
    wait_answering(&sim, Duration::from_secs(10)).await;

    // /system/reboot answers, then the router goes away for 30 simulated seconds.
    let (st, got) = sim.post("/system/reboot", json!({})).await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, status) = sim
        .control_call(Method::GET, "/devices/sim-0001", None)
        .await;
    assert_eq!(status["rebooting"], json!(true));
    wait_answering(&sim, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn losing_the_management_path_silences_the_device_until_restored() {
    let sim = home().await;
    let device = sim.fleet.device("sim-0001").unwrap();
    // Disabling the management interface: the reply to that very request never arrives.
    let cut = sim
        .client
        .patch(sim.http("/interface/ether1"))
        .basic_auth("admin", Some("secret"))
        .json(&json!({"disabled": "true"}))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(cut.is_err(), "the cutting request gets no reply");
    assert!(times_out(&sim, "/system/identity", Duration::from_millis(400)).await);
    let (_, status) = sim
        .control_call(Method::GET, "/devices/sim-0001", None)
        .await;
    assert_eq!(status["answering"], json!(false));

    // A request waiting on the lost path resumes when the device itself restores it (as a
    // scheduler script would).
    let pending = tokio::spawn({
        let client = sim.client.clone();
        let url = sim.http("/system/identity");
        async move {
            client
                .get(url)
                .basic_auth("admin", Some("secret"))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    device.write_state(|s| {
        let eth = routeros_sim::model::menu("/interface/ethernet").unwrap();
        let id = s.resolve(eth, "ether1").unwrap();
        s.enable(eth, &[id]).unwrap();
    });
    let status = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let (_, e1) = sim.get("/interface/ether1").await;
    assert_eq!(e1["disabled"], json!("false"));
}

#[tokio::test]
async fn removing_the_route_or_address_also_cuts_the_path() {
    let sim = home().await;
    let device = sim.fleet.device("sim-0001").unwrap();
    let (_, routes) = sim
        .get("/ip/route?dst-address=0.0.0.0/0&dynamic=false")
        .await;
    let id = routes[0][".id"].as_str().unwrap().to_string();
    let before = device.state_dump(false);
    let cut = sim
        .client
        .delete(sim.http(&format!("/ip/route/{id}")))
        .basic_auth("admin", Some("secret"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(cut.is_err());
    assert!(!device.answering(std::net::Ipv4Addr::LOCALHOST));
    // Restore the route on the device, the path comes back.
    device.write_state(|s| {
        let route = routeros_sim::model::menu("/ip/route").unwrap();
        s.add(
            route,
            &[
                ("dst-address", "0.0.0.0/0"),
                ("gateway", "127.0.1.254"),
                ("comment", "management"),
            ],
        )
        .unwrap();
    });
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    let after = device.state_dump(false);
    assert_ne!(before, after, "the restored route has a new id");

    let (_, addrs) = sim.get("/ip/address?address=127.0.1.1/24").await;
    let id = addrs[0][".id"].as_str().unwrap().to_string();
    let cut = sim
        .client
        .patch(sim.http(&format!("/ip/address/{id}")))
        .basic_auth("admin", Some("secret"))
        .json(&json!({"disabled": "yes"}))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(cut.is_err());
    assert!(!device.answering(std::net::Ipv4Addr::LOCALHOST));
}

#[tokio::test]
async fn a_path_cut_of_the_tests_own_silences_the_device_from_the_write_that_makes_it_hold() {
    let sim = home().await;
    let device = sim.fleet.device("sim-0001").unwrap();
    let ruled = |s: &routeros_sim::model::RouterState| {
        s.items_of("/ip/firewall/filter")
            .any(|r| r.get("comment") == Some("cut"))
    };
    device.set_path_cut(Some(std::sync::Arc::new(ruled)));
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
    // The rule goes in, but the reply to that very request never arrives.
    let cut = sim
        .client
        .put(sim.http("/ip/firewall/filter"))
        .basic_auth("admin", Some("secret"))
        .json(&json!({"chain": "forward", "action": "drop", "comment": "cut"}))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(cut.is_err(), "the cutting request gets no reply");
    assert!(device.read_state(ruled), "the write was applied");
    assert!(!device.answering(std::net::Ipv4Addr::LOCALHOST));
    assert!(times_out(&sim, "/system/identity", Duration::from_millis(400)).await);
    // A request held meanwhile is answered once the device itself removes the rule.
    let pending = tokio::spawn({
        let client = sim.client.clone();
        let url = sim.http("/system/identity");
        async move {
            client
                .get(url)
                .basic_auth("admin", Some("secret"))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    device.write_state(|s| {
        let filter = routeros_sim::model::menu("/ip/firewall/filter").unwrap();
        let ids: Vec<_> = s
            .items(filter)
            .filter(|r| r.get("comment") == Some("cut"))
            .map(|r| r.id())
            .collect();
        s.remove(filter, &ids).unwrap();
    });
    let status = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    // Without the condition the same rule cuts nothing.
    device.set_path_cut(None);
    let rule = json!({"chain": "forward", "action": "drop", "comment": "cut"});
    assert_eq!(
        sim.put("/ip/firewall/filter", rule).await.0,
        StatusCode::CREATED
    );
    assert_eq!(sim.get("/system/identity").await.0, StatusCode::OK);
}

#[tokio::test]
async fn control_api_rejects_bad_fault_requests_clearly() {
    let sim = home().await;
    let (st, got) = sim
        .control_call(
            Method::PUT,
            "/devices/sim-0001/faults",
            Some(json!({"latency": 5})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let msg = got["error"].as_str().unwrap();
    assert!(
        msg.contains("unknown field `latency`") && msg.contains("latency_ms"),
        "{msg}"
    );
    let (st, got) = sim
        .control_call(
            Method::PUT,
            "/devices/sim-0001/faults",
            Some(json!({"error_rate": 2})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(got["error"].as_str().unwrap().contains("between 0 and 1"));
    let (st, got) = sim
        .control_call(Method::PUT, "/devices/sim-9999/faults", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(got["error"].as_str().unwrap().contains("sim-9999"));
    // POST merges, PUT replaces.
    set_faults(&sim, json!({"latency_ms": 10})).await;
    let (_, got) = sim
        .control_call(
            Method::POST,
            "/devices/sim-0001/faults",
            Some(json!({"reject_auth": true})),
        )
        .await;
    assert_eq!(got["latency_ms"], json!(10));
    assert_eq!(got["reject_auth"], json!(true));
    set_faults(&sim, json!({"hang_after": 100})).await;
    let (_, got) = sim
        .control_call(Method::GET, "/devices/sim-0001/faults", None)
        .await;
    assert_eq!(got["latency_ms"], json!(0));
    assert_eq!(got["reject_auth"], json!(false));
    let (st, _) = sim
        .control_call(
            Method::POST,
            "/devices/sim-0001/reboot",
            Some(json!({"secs": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
