//! REST behaviour clients rely on: authentication from `/user`, permissions, error wording,
//! ordered-menu moves, addressing by name, HTTPS with a pinned certificate, keep-alive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use reqwest::{Method, StatusCode};
use rest_support::{client, home};
use serde_json::{Value, json};

async fn get_as(
    sim: &rest_support::Sim,
    user: &str,
    pass: &str,
    path: &str,
) -> (StatusCode, String) {
    let resp = sim
        .client
        .get(sim.http(path))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn basic_auth_checks_the_user_menu() {
    let sim = home().await;
    let resp = sim
        .client
        .get(sim.http("/system/identity"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"error":401,"message":"Unauthorized"}"#
    );
    let (st, _) = get_as(&sim, "admin", "wrong", "/system/identity").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = get_as(&sim, "nobody", "secret", "/system/identity").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // A user created over REST can log in; disabling it locks it out.
    let (st, user) = sim
        .put(
            "/user",
            json!({"name": "ops", "group": "full", "password": "ops-pass"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(
        user.get("password").is_none(),
        "RouterOS never returns passwords"
    );
    let (st, body) = get_as(&sim, "ops", "ops-pass", "/system/identity").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, _) = sim
        .patch(
            &format!("/user/{}", user[".id"].as_str().unwrap()),
            json!({"disabled": "yes"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = get_as(&sim, "ops", "ops-pass", "/system/identity").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Logins are logged as RouterOS logs them.
    let (_, log) = sim.get("/log").await;
    let lines: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(lines.contains(&"user admin logged in from 127.0.0.1 via rest-api"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("login failure for user admin"))
    );
}

#[tokio::test]
async fn read_group_can_read_but_not_write_or_see_secrets() {
    let sim = home().await;
    sim.put(
        "/user",
        json!({"name": "viewer", "group": "read", "password": "v"}),
    )
    .await;
    let (st, _) = get_as(&sim, "viewer", "v", "/ip/address").await;
    assert_eq!(st, StatusCode::OK);
    let resp = sim
        .client
        .put(sim.http("/ip/address"))
        .basic_auth("viewer", Some("v"))
        .json(&json!({"address": "10.1.1.1/24", "interface": "ether2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["detail"], json!("not enough permissions (9)"));

    // A group without `sensitive` does not see WireGuard private keys.
    sim.put(
        "/user/group",
        json!({"name": "nosens", "policy": "read,rest-api"}),
    )
    .await;
    sim.put(
        "/user",
        json!({"name": "ns", "group": "nosens", "password": "n"}),
    )
    .await;
    let (_, admin_view) = sim.get("/interface/wireguard/wg0").await;
    assert!(admin_view["private-key"].is_string());
    let (st, text) = get_as(&sim, "ns", "n", "/interface/wireguard/wg0").await;
    assert_eq!(st, StatusCode::OK);
    let limited: Value = serde_json::from_str(&text).unwrap();
    assert!(limited.get("private-key").is_none());
    assert_eq!(limited["public-key"], admin_view["public-key"]);

    // A group without rest-api cannot use REST at all.
    sim.put(
        "/user/group",
        json!({"name": "sshonly", "policy": "read,ssh"}),
    )
    .await;
    sim.put(
        "/user",
        json!({"name": "so", "group": "sshonly", "password": "s"}),
    )
    .await;
    let (st, _) = get_as(&sim, "so", "s", "/system/identity").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn common_failures_use_routeros_detail_text() {
    let sim = home().await;
    type Case<'a> = (Method, &'a str, Option<Value>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/ip/nothing",
            None,
            400,
            Some("no such command or directory (nothing)"),
        ),
        (Method::GET, "/ip/address/*FFFF", None, 404, None),
        (
            Method::PATCH,
            "/ip/address/*FFFF",
            Some(json!({"comment": "x"})),
            404,
            None,
        ),
        (
            Method::PUT,
            "/ip/address",
            Some(json!({"address": "10.1.1.1/24"})),
            400,
            Some("missing value(s) of argument(s) interface"),
        ),
        (
            Method::PUT,
            "/ip/address",
            Some(json!({"address": "10.1.1.1/24", "interface": "ether9"})),
            400,
            Some("input does not match any value of interface"),
        ),
        (
            Method::PUT,
            "/ip/address",
            Some(json!({"address": "10.1.1.1/40", "interface": "ether2"})),
            400,
            Some("invalid value for argument address"),
        ),
        (
            Method::PUT,
            "/ip/address",
            Some(json!({"address": "192.168.88.1/24", "interface": "bridge"})),
            400,
            Some("failure: already have such address"),
        ),
        (
            Method::PUT,
            "/ip/address",
            Some(json!({"address": "10.1.1.1/24", "interface": "ether2", "colour": "red"})),
            400,
            Some("unknown parameter colour"),
        ),
        (
            Method::PUT,
            "/ip/firewall/address-list",
            Some(json!({"list": "trusted", "address": "192.168.88.0/24"})),
            400,
            Some("failure: already have such entry"),
        ),
        (
            Method::PUT,
            "/ip/dns/static",
            Some(json!({"name": "router.lan", "address": "192.168.88.1"})),
            400,
            Some("failure: entry already exists"),
        ),
        (
            Method::POST,
            "/ip/address/remove",
            Some(json!({".id": "*FFFF"})),
            400,
            Some("no such item"),
        ),
        (
            Method::POST,
            "/ip/address/frobnicate",
            Some(json!({})),
            400,
            Some("no such command"),
        ),
        (
            Method::PATCH,
            "/interface/ether2",
            Some(json!({"running": "false"})),
            400,
            Some("unknown parameter running"),
        ),
        (
            Method::PUT,
            "/interface/vlan",
            Some(json!({"interface": "ether2", "vlan-id": "5000"})),
            400,
            Some("value of vlan-id out of range (1..4095)"),
        ),
        (
            Method::PUT,
            "/interface/vlan",
            Some(json!({"name": "ether2", "interface": "ether2", "vlan-id": "5"})),
            400,
            Some("failure: already have interface with such name"),
        ),
    ];
    for (method, path, body, status, detail) in cases {
        let (st, got) = sim.call(method.clone(), path, body).await;
        assert_eq!(st.as_u16(), status, "{method} {path}: {got}");
        assert_eq!(got["error"], json!(status), "{method} {path}");
        match detail {
            Some(d) => assert_eq!(got["detail"], json!(d), "{method} {path}"),
            None => assert!(got.get("detail").is_none(), "{method} {path}: {got}"),
        }
        assert_eq!(got["message"], json!(rest_support_reason(status)));
    }
}

fn rest_support_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        406 => "Not Acceptable",
        _ => "?",
    }
}

#[tokio::test]
async fn post_commands_add_set_remove_and_get() {
    let sim = home().await;
    let (st, got) = sim
        .post(
            "/ip/address/add",
            json!({"address": "10.5.5.1/24", "interface": "ether3"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let id = got["ret"].as_str().unwrap().to_string();
    assert!(id.starts_with('*'));
    let (st, got) = sim
        .post("/ip/address/set", json!({".id": id, "comment": "lab"}))
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, got) = sim
        .post(
            "/ip/address/get",
            json!({".id": id, "value-name": "comment"}),
        )
        .await;
    assert_eq!(got, json!({"ret": "lab"}));
    let (st, got) = sim
        .post("/ip/address/disable", json!({"numbers": id}))
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, got) = sim.get(&format!("/ip/address/{id}")).await;
    assert_eq!(got["disabled"], json!("true"));
    let (_, got) = sim
        .post(
            "/ip/address/unset",
            json!({".id": id, "value-name": "comment"}),
        )
        .await;
    assert_eq!(got, json!([]));
    let (_, got) = sim.get(&format!("/ip/address/{id}")).await;
    assert!(got.get("comment").is_none());
    let (st, got) = sim.post("/ip/address/remove", json!({".id": id})).await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, got) = sim
        .post("/ip/address/print", json!({"count-only": ""}))
        .await;
    assert_eq!(got, json!({"ret": "3"}));
}

#[tokio::test]
async fn ordered_menus_move_and_place_before() {
    let sim = home().await;
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r[".id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, rules) = sim.get("/ip/firewall/filter").await;
    let before = ids(&rules);
    let (st, created) = sim
        .put(
            "/ip/firewall/filter",
            json!({"chain": "input", "action": "accept", "src-address": "10.0.0.0/8", "place-before": before[2]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let new = created[".id"].as_str().unwrap().to_string();
    let (_, rules) = sim.get("/ip/firewall/filter").await;
    let after = ids(&rules);
    assert_eq!(after[2], new);
    assert_eq!(&after[3..], &before[2..]);

    // The documented move: {".id":"*9","destination":"*C"} puts *9 before *C.
    let (st, got) = sim
        .post(
            "/ip/firewall/filter/move",
            json!({".id": new, "destination": after[0]}),
        )
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, rules) = sim.get("/ip/firewall/filter").await;
    assert_eq!(ids(&rules)[0], new);
    // Several at once, and to the end without a destination.
    let list = format!("{},{}", after[4], after[5]);
    sim.post("/ip/firewall/filter/move", json!({"numbers": list}))
        .await;
    let (_, rules) = sim.get("/ip/firewall/filter").await;
    let last2: Vec<String> = ids(&rules).into_iter().rev().take(2).collect();
    assert_eq!(last2, vec![after[5].clone(), after[4].clone()]);
    // Unordered menus have no move.
    let (st, got) = sim.post("/ip/address/move", json!({".id": "*1"})).await;
    assert_eq!(st, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(got["detail"], json!("no such command or directory (move)"));
}

#[tokio::test]
async fn items_are_addressed_by_name_where_menus_have_names() {
    let sim = home().await;
    let (st, e1) = sim.get("/interface/ether1").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(e1["name"], json!("ether1"));
    let (_, by_id) = sim
        .get(&format!("/interface/{}", e1[".id"].as_str().unwrap()))
        .await;
    assert_eq!(by_id["name"], json!("ether1"));
    let (_, ssl) = sim.get("/ip/service/www-ssl").await;
    assert_eq!(ssl["certificate"], json!("sim-https"));
    let (st, _) = sim.get("/interface/ether99").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Ids are shared between /interface and its typed menus.
    let (_, eth) = sim.get("/interface/ethernet/ether1").await;
    assert_eq!(eth[".id"], e1[".id"]);
}

#[tokio::test]
async fn https_serves_the_same_api_with_a_pinnable_certificate() {
    let sim = home().await;
    let resp = sim
        .client
        .get(sim.https("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"name": "sim-0001"})
    );

    let wrong = client(&"0".repeat(64));
    let err = wrong
        .get(sim.https("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await;
    assert!(err.is_err(), "a different pin must be refused");
}

#[tokio::test]
async fn sequential_reads_reuse_one_connection() {
    let sim = home().await;
    for _ in 0..100 {
        let (st, _) = sim.get("/system/identity").await;
        assert_eq!(st, StatusCode::OK);
    }
    let (_, counters) = sim
        .control_call(Method::GET, "/devices/sim-0001/counters", None)
        .await;
    assert_eq!(counters["http_connections"], json!(1), "{counters}");
    assert_eq!(counters["requests_total"], json!(100));
    let reqs = counters["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 100);
    assert_eq!(reqs[0]["method"], json!("GET"));
    assert_eq!(reqs[0]["path"], json!("/rest/system/identity"));
    assert_eq!(reqs[0]["transport"], json!("http"));
}

#[tokio::test]
async fn disabling_the_www_service_refuses_plain_http() {
    let sim = home().await;
    let (st, _) = sim
        .post(
            "/ip/service/set",
            json!({"numbers": "www", "disabled": "yes"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let fresh = client(&sim.dev.tls_sha256);
    let res = fresh
        .get(sim.http("/system/identity"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await;
    assert!(res.is_err(), "www disabled: no HTTP answer");
    let resp = fresh
        .get(sim.https("/ip/service/www"))
        .basic_auth("admin", Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["disabled"],
        json!("true")
    );
}

#[tokio::test]
async fn monitor_traffic_once_and_traceroute_with_count() {
    let sim = rest_support::start(routeros_sim::FleetOptions {
        password: Some("secret".into()),
        time_scale: 1000.0,
        ..routeros_sim::FleetOptions::default()
    })
    .await;
    let (st, got) = sim
        .post(
            "/interface/monitor-traffic",
            json!({"interface": "ether1", "once": ""}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
    let recs = got.as_array().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["name"], json!("ether1"));
    assert!(
        recs[0]["rx-bits-per-second"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    // With `duration` a monitor returns sections.
    let (_, got) = sim
        .post(
            "/interface/monitor-traffic",
            json!({"interface": "ether1", "duration": "3s"}),
        )
        .await;
    let sections: Vec<&str> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[".section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, vec!["0", "1", "2"]);
    let (st, got) = sim
        .post(
            "/interface/monitor-traffic",
            json!({"interface": "nope", "once": ""}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["detail"],
        json!("input does not match any value of interface")
    );

    // Traceroute through the management gateway: gateway first, target last.
    let (st, got) = sim
        .post(
            "/tool/traceroute",
            json!({"address": "9.9.9.9", "count": "1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
    let hops = got.as_array().unwrap();
    assert_eq!(hops[0]["address"], json!("127.0.1.254"));
    assert_eq!(hops.last().unwrap()["address"], json!("9.9.9.9"));
    for h in hops {
        rest_support::all_strings(h);
    }
}

#[tokio::test]
async fn dynamic_leases_can_be_made_static_or_released_but_routes_cannot_be_removed() {
    let sim = home().await;
    let (_, leases) = sim.get("/ip/dhcp-server/lease?dynamic=true").await;
    let leases = leases.as_array().unwrap();
    assert!(leases.len() >= 2);
    let first = leases[0][".id"].as_str().unwrap().to_string();
    let (st, got) = sim
        .post("/ip/dhcp-server/lease/make-static", json!({".id": first}))
        .await;
    assert_eq!((st, got), (StatusCode::OK, json!([])));
    let (_, lease) = sim.get(&format!("/ip/dhcp-server/lease/{first}")).await;
    assert_eq!(lease["dynamic"], json!("false"));
    assert_eq!(lease["address"], leases[0]["address"]);
    let second = leases[1][".id"].as_str().unwrap();
    let (st, _) = sim.delete(&format!("/ip/dhcp-server/lease/{second}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "releasing a dynamic lease");

    let (_, routes) = sim.get("/ip/route?.id=*80000001").await;
    assert_eq!(
        routes.as_array().unwrap().len(),
        1,
        "GET filters by .id too"
    );
    let (st, got) = sim.delete("/ip/route/*80000001").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["detail"],
        json!("failure: can not remove dynamic entry")
    );
}
