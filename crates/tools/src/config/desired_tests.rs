//! `config.plan_desired_state` and the restore engine against a simulated router: for every
//! allow-listed menu, plan → approve → apply → plan again gives "no changes"; a firewall reorder
//! is moves; bad input is refused and stores no plan; an export taken before direct changes
//! brings the menus back.

use routeros::ExportOptions;
use routeros_sim::model::{menu, wg_private_key, wg_public_key};
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::AuditContext;
use workflow::ApprovalVia;

use crate::testing::Harness;

const TOOL: &str = "config.plan_desired_state";

/// The items of `menu` as the simulator holds them (a singleton as one object).
fn items(h: &Harness, menu: &str) -> Vec<Value> {
    let dump = serde_json::to_value(h.sim("r1").state_dump(false)).unwrap();
    match &dump[menu] {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn field(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .filter(|i| i["dynamic"] != "true" && i["dynamic"] != true)
        .map(|i| i[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn apply(h: &Harness, plan: &Value) {
    let token = match plan["approval"]["approval_token"].as_str() {
        Some(t) => t.to_owned(),
        None => {
            h.ctx
                .workflow
                .approve(
                    plan["plan_id"].as_str().unwrap(),
                    "alice",
                    ApprovalVia::Cli,
                    &AuditContext::new("alice"),
                )
                .await
                .unwrap()
                .approval_token
        }
    };
    let out = h
        .ok(
            "plan.apply",
            json!({"plan_id": plan["plan_id"], "approval_token": token}),
        )
        .await;
    assert_eq!(out["status"], "applied", "{out}");
}

fn actions(plan: &Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Plans `args`, checks proposing changed nothing, applies, and checks planning again finds
/// nothing to do. Returns the plan.
async fn round_trip(h: &Harness, args: Value) -> Value {
    // The router's state without what changes by itself (an address-list countdown).
    let dump = || {
        let mut d = serde_json::to_value(h.sim("r1").state_dump(false)).unwrap();
        if let Some(a) = d["/ip/firewall/address-list"].as_array_mut() {
            for e in a {
                if let Some(o) = e.as_object_mut() {
                    o.remove("timeout");
                }
            }
        }
        d
    };
    let before = dump();
    let plan = h.ok(TOOL, args.clone()).await;
    assert!(plan["plan_id"].is_string(), "{plan}");
    let after = dump();
    let changed: Vec<String> = after
        .as_object()
        .unwrap()
        .iter()
        .filter(|(m, v)| before.get(m.as_str()) != Some(*v))
        .map(|(m, v)| format!("{m}: {v} (was {})", before[m.as_str()]))
        .collect();
    assert!(
        changed.is_empty(),
        "proposing {args} changed the router: {changed:?}"
    );
    apply(h, &plan).await;
    let again = h.ok(TOOL, args).await;
    assert_eq!(again["status"], "no_changes", "{again}");
    assert!(again.get("plan_id").is_none());
    assert!(
        again["compared"][0]
            .as_str()
            .unwrap()
            .contains("no changes"),
        "{again}"
    );
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_allow_listed_menu_round_trips_to_no_changes() {
    let h = Harness::start(&[Profile::Home]).await;

    // Static DNS: one kept with a new ttl, an A and a CNAME added, the rest removed.
    let plan = round_trip(
        &h,
        json!({"device_id": "r1", "menu": "ip/dns/static", "remove_unlisted": true, "items": [
            {"name": "router.lan", "address": "192.168.88.1", "comment": "defconf", "ttl": "1h"},
            {"name": "nas.lan", "type": "A", "address": "192.168.88.20", "disabled": "no"},
            {"name": "files.lan", "type": "CNAME", "cname": "nas.lan"},
        ]}),
    )
    .await;
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["description"].as_str().unwrap().contains("set")
                && c["description"].as_str().unwrap().contains("ttl=1h")),
        "the kept entry gets one set of just ttl: {plan}"
    );
    let mut names = field(&items(&h, "/ip/dns/static"), "name");
    names.sort();
    assert_eq!(names, vec!["files.lan", "nas.lan", "router.lan"]);

    // Address lists, numbers and booleans given as JSON values.
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "ip/firewall/address-list", "remove_unlisted": true, "items": [
            {"list": "trusted", "address": "192.168.88.0/24"},
            {"list": "blocklist", "address": "203.0.113.9", "comment": "scanner", "timeout": "1d"},
            {"list": "blocklist", "address": "198.51.100.23", "disabled": true},
        ]}),
    )
    .await;
    let lists = items(&h, "/ip/firewall/address-list");
    assert_eq!(field(&lists, "address").len(), 3, "{lists:?}");

    // VLAN interfaces: added, then only the changed property is set.
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/vlan", "items": [
            {"name": "vlan10", "interface": "bridge", "vlan-id": 10},
        ]}),
    )
    .await;
    let plan = round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/vlan", "items": [
            {"name": "vlan10", "interface": "bridge", "vlan-id": 10, "mtu": 1400, "comment": ""},
        ]}),
    )
    .await;
    assert_eq!(actions(&plan), vec!["set"]);
    // A comment set, then cleared with an empty value.
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/vlan", "items": [
            {"name": "vlan10", "interface": "bridge", "vlan-id": 10, "comment": "iot"},
        ]}),
    )
    .await;
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/vlan", "items": [
            {"name": "vlan10", "comment": ""},
        ]}),
    )
    .await;
    let vlan = items(&h, "/interface/vlan");
    assert!(
        vlan.iter()
            .all(|v| v["comment"].as_str().unwrap_or_default().is_empty()),
        "{vlan:?}"
    );
    assert!(
        plan["changes"][0]["description"]
            .as_str()
            .unwrap()
            .contains("mtu=1400 (mtu was \"1500\")"),
        "{plan}"
    );

    // Bridge VLAN table.
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/bridge/vlan", "items": [
            {"bridge": "bridge", "vlan-ids": "10", "tagged": "bridge", "comment": "iot"},
        ]}),
    )
    .await;

    // WireGuard peers: one kept with a new keepalive, one added, the other removed.
    let phone = h.sim("r1").read_state(|s| {
        s.items_of("/interface/wireguard/peers")
            .find(|i| i.get("name") == Some("phone"))
            .and_then(|i| i.get("public-key").map(str::to_owned))
            .unwrap()
    });
    let tablet = wg_public_key(&wg_private_key(99, 7));
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "interface/wireguard/peers", "remove_unlisted": true, "items": [
            {"public-key": phone, "interface": "wg0", "allowed-address": "10.100.0.2/32", "persistent-keepalive": "15s"},
            {"public-key": tablet, "interface": "wg0", "allowed-address": "10.100.0.4/32", "name": "tablet"},
        ]}),
    )
    .await;
    let peers = items(&h, "/interface/wireguard/peers");
    let mut names = field(&peers, "name");
    names.sort();
    assert_eq!(names, vec!["phone", "tablet"]);

    // Routes: the key's routing-table defaults to main; unlisted routes stay.
    let routes_before = field(&items(&h, "/ip/route"), "dst-address").len();
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "ip/route", "items": [
            {"dst-address": "10.50.0.0/16", "gateway": "192.168.88.254", "distance": 5},
        ]}),
    )
    .await;
    assert_eq!(
        field(&items(&h, "/ip/route"), "dst-address").len(),
        routes_before + 1
    );
    // A host-bits destination is the same route as RouterOS prints it.
    let same = h
        .ok(
            TOOL,
            json!({"device_id": "r1", "menu": "ip/route", "items": [
                {"dst-address": "10.50.1.1/16", "gateway": "192.168.88.254", "routing-table": "main", "distance": "5"},
            ]}),
        )
        .await;
    assert_eq!(same["status"], "no_changes", "{same}");

    // Singletons.
    round_trip(
        &h,
        json!({"device_id": "r1", "menu": "system/ntp/client", "items": [
            {"enabled": true, "servers": "192.0.2.123,192.0.2.124"},
        ]}),
    )
    .await;
    let plan = round_trip(
        &h,
        json!({"device_id": "r1", "menu": "ip/dns", "items": [
            {"servers": "9.9.9.9", "allow-remote-requests": "yes", "cache-size": 4096},
        ]}),
    )
    .await;
    assert_eq!(actions(&plan), vec!["set"]);
    assert_eq!(items(&h, "/ip/dns")[0]["servers"], "9.9.9.9");
    assert_eq!(items(&h, "/ip/dns")[0]["cache-size"], "4096");
}

fn filter_items(h: &Harness) -> Vec<Value> {
    items(h, "/ip/firewall/filter")
        .into_iter()
        .filter(|i| i["dynamic"] != "true" && i["dynamic"] != true)
        .map(|i| json!({"chain": i["chain"], "comment": i["comment"]}))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firewall_reorder_is_moves_and_adds_land_in_place() {
    let h = Harness::start(&[Profile::Home]).await;
    let mut wanted = filter_items(&h);
    let ids_before: Vec<String> = field(&items(&h, "/ip/firewall/filter"), ".id");
    // The management rule to the top, a new rule before the input drop-all.
    let at = wanted
        .iter()
        .position(|r| r["comment"] == "management")
        .unwrap();
    let management = wanted.remove(at);
    wanted.insert(0, management);
    let drop_all = wanted
        .iter()
        .position(|r| r["comment"] == "defconf: drop all not coming from LAN")
        .unwrap();
    wanted.insert(
        drop_all,
        json!({"chain": "input", "action": "accept", "protocol": "udp", "dst-port": "13231", "comment": "wireguard"}),
    );
    let args = json!({"device_id": "r1", "menu": "ip/firewall/filter", "remove_unlisted": true, "items": wanted});
    let plan = round_trip(&h, args).await;
    let mut acts = actions(&plan);
    acts.sort();
    assert_eq!(acts, vec!["add", "move"], "{plan}");
    let now: Vec<Value> = filter_items(&h);
    let expected: Vec<Value> = wanted
        .iter()
        .map(|r| json!({"chain": r["chain"], "comment": r["comment"]}))
        .collect();
    assert_eq!(now, expected);
    let ids_after: Vec<String> = field(&items(&h, "/ip/firewall/filter"), ".id");
    assert!(
        ids_before.iter().all(|id| ids_after.contains(id)),
        "no rule was removed and re-added"
    );

    // Reversing the forward chain: only moves, never a remove.
    let mut wanted = filter_items(&h);
    let forward: Vec<Value> = wanted
        .iter()
        .filter(|r| r["chain"] == "forward")
        .cloned()
        .rev()
        .collect();
    wanted.retain(|r| r["chain"] != "forward");
    wanted.extend(forward);
    let plan = round_trip(
        &h,
        json!({"device_id": "r1", "menu": "ip/firewall/filter", "items": wanted}),
    )
    .await;
    assert!(actions(&plan).iter().all(|a| a == "move"), "{plan}");
    assert_eq!(actions(&plan).len(), 5, "six rules reversed: five moves");
    assert_eq!(filter_items(&h), wanted);

    // Not ordered: a missing rule is added at the end, nothing moves.
    let mut wanted = filter_items(&h);
    wanted.swap(0, 1);
    wanted.push(json!({"chain": "forward", "action": "drop", "comment": "last"}));
    let plan = h
        .ok(
            TOOL,
            json!({"device_id": "r1", "menu": "ip/firewall/filter", "ordered": false, "items": wanted}),
        )
        .await;
    assert_eq!(actions(&plan), vec!["add"], "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_desired_state_is_refused_and_stores_no_plan() {
    let h = Harness::start(&[Profile::Home, Profile::Home]).await;
    let refused = |args: Value| {
        let h = &h;
        async move {
            h.call(TOOL, args)
                .await
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        }
    };
    let e = refused(json!({"device_id": "r1", "menu": "system/script", "items": []})).await;
    assert!(
        e.contains("does not cover /system/script") && e.contains("/ip/firewall/filter"),
        "{e}"
    );
    let e = refused(
        json!({"device_id": "r1", "menu": "ip/dns/static", "items": [
        {"name": "a.lan", "address": "10.0.0.1"}, {"address": "10.0.0.2"}]}),
    )
    .await;
    assert!(e.contains("items[1]") && e.contains("name"), "{e}");
    let e = refused(json!({"device_id": "r1", "menu": "ip/dns/static", "items": [
        {"name": "a.lan", "address": "10.0.0.1"}, {"name": "a.lan", "type": "A", "address": "10.0.0.2"}]}))
    .await;
    assert!(e.contains("items[1] and items[0]"), "{e}");
    let e = refused(json!({"device_id": "r1", "menu": "interface/wireguard/peers", "items": [
        {"public-key": "x", "interface": "wg0", "allowed-address": "10.0.0.9/32", "preshared-key": "hunter2hunter2"}]}))
    .await;
    assert!(e.contains("items[0].preshared-key"), "{e}");
    assert!(!e.contains("hunter2"), "the secret is not echoed: {e}");
    let e = refused(
        json!({"device_id": "r1", "menu": "ip/dns/static", "items": [
        {"name": "a.lan", "address": "10.0.0.1", "dynamic": "true"}]}),
    )
    .await;
    assert!(e.contains("items[0].dynamic"), "{e}");
    let e = refused(json!({"device_id": "r1", "menu": "ip/dns/static", "items": [
        {"name": "a.lan\"; /system reset-configuration", "address": "10.0.0.1", "comment": "x\ny"}]}))
    .await;
    assert!(
        e.contains("items[0].comment") && e.contains("control"),
        "{e}"
    );
    let e = refused(json!({"device_id": "r1", "menu": "interface/vlan", "items": [{"name": "vlan77", "vlan-id": 77}]})).await;
    assert!(
        e.contains("items[0]") && e.contains("interface is missing") && e.contains("vlan77"),
        "{e}"
    );
    let e = refused(json!({"device_id": "r1", "menu": "ip/dns", "items": [{"servers": "1.1.1.1"}], "remove_unlisted": true})).await;
    assert!(e.contains("remove_unlisted"), "{e}");
    let e = refused(json!({"device_id": "r1", "menu": "ip/dns", "items": [{"servers": "1.1.1.1"}, {"servers": "8.8.8.8"}]})).await;
    assert!(e.contains("exactly one"), "{e}");
    let e = refused(json!({"device_id": "r1", "menu": "ip/route", "items": [{"dst-address": "10.0.0.0/8", "gateway": "10.1.1.1"}], "ordered": true})).await;
    assert!(e.contains("not ordered"), "{e}");
    let e =
        refused(json!({"device_id": "nope", "menu": "ip/dns", "items": [{"servers": "1.1.1.1"}]}))
            .await;
    assert!(e.contains("nope"), "{e}");
    let e =
        refused(json!({"device_id": "r1", "menu": "ip/dns", "items": [{"servers": ["1.1.1.1"]}]}))
            .await;
    assert!(
        !e.is_empty(),
        "arrays are refused by the schema or the handler"
    );
    // A desired route that RouterOS manages (the connected route of the LAN) is refused.
    let e = refused(json!({"device_id": "r1", "menu": "ip/route", "items": [
        {"dst-address": "192.168.88.0/24", "gateway": "bridge"}]}))
    .await;
    assert!(e.contains("manages"), "{e}");
    let plans = h.ok("plan.list", json!({})).await;
    assert_eq!(plans["total"], 0, "nothing refused became a plan: {plans}");

    // Items that are not objects, values that are not text, numbers or booleans: refused by
    // the handler too (the schema is the first line, not the only one).
    let p: super::plan_desired_state::Params = serde_json::from_value(json!({
        "device_id": "r1", "menu": "ip/dns/static", "items": [{"name": "a"}, 7]}))
    .unwrap();
    let e = super::plan_desired_state::run(h.ctx.clone(), p, crate::Caller::new("t"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("items[1]") && e.contains("a number"), "{e}");
    let p: super::plan_desired_state::Params = serde_json::from_value(json!({
        "device_id": "r1", "menu": "ip/dns/static", "items": [{"name": {"x": 1}}]}))
    .unwrap();
    let e = super::plan_desired_state::run(h.ctx.clone(), p, crate::Caller::new("t"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("items[0].name") && e.contains("an object"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_export_brings_changed_menus_back() {
    let h = Harness::start(&[Profile::Home]).await;
    let (_, client) = crate::device(&h.ctx, "r1").await.unwrap();
    let export = client
        .export(&ExportOptions {
            verbose: false,
            show_sensitive: false,
        })
        .await
        .unwrap();
    let before: Vec<(String, Vec<Value>)> = [
        "/ip/dns/static",
        "/ip/firewall/address-list",
        "/ip/firewall/filter",
        "/interface/vlan",
        "/interface/wireguard/peers",
        "/ip/dns",
        "/system/ntp/client",
    ]
    .iter()
    .map(|m| (m.to_string(), comparable(&items(&h, m))))
    .collect();

    // Changed directly on the router, not through a plan.
    h.sim("r1").write_state(|s| {
        let dns = menu("/ip/dns/static").unwrap();
        s.add(dns, &[("name", "rogue.lan"), ("address", "10.6.6.6")])
            .unwrap();
        let lists = menu("/ip/firewall/address-list").unwrap();
        let first = s.items_of("/ip/firewall/address-list").next().unwrap().id();
        s.remove(lists, &[first]).unwrap();
        let filter = menu("/ip/firewall/filter").unwrap();
        let ids: Vec<_> = s
            .items_of("/ip/firewall/filter")
            .filter(|i| !i.is_true("dynamic"))
            .map(|i| i.id())
            .collect();
        s.move_items(filter, &[ids[ids.len() - 1]], Some(ids[0]))
            .unwrap();
        let first_rule = ids[1];
        s.set(filter, Some(first_rule), &[("comment", "edited")])
            .unwrap();
        let vlan = menu("/interface/vlan").unwrap();
        s.add(
            vlan,
            &[
                ("name", "vlan99"),
                ("interface", "bridge"),
                ("vlan-id", "99"),
            ],
        )
        .unwrap();
        let peers = menu("/interface/wireguard/peers").unwrap();
        let phone = s
            .items_of("/interface/wireguard/peers")
            .find(|i| i.get("name") == Some("phone"))
            .unwrap()
            .id();
        s.set(
            peers,
            Some(phone),
            &[("persistent-keepalive", "5s"), ("comment", "x")],
        )
        .unwrap();
        let dns_server = menu("/ip/dns").unwrap();
        s.set(dns_server, None, &[("servers", "6.6.6.6")]).unwrap();
        let ntp = menu("/system/ntp/client").unwrap();
        s.set(ntp, None, &[("enabled", "true"), ("servers", "192.0.2.66")])
            .unwrap();
    });
    assert_ne!(comparable(&items(&h, "/ip/dns/static")), before[0].1);

    let out = super::restore::propose_restore(
        &h.ctx,
        &crate::Caller::new("test:assistant"),
        "config.plan_restore",
        "Restore r1".into(),
        "r1",
        &export,
    )
    .await
    .unwrap()
    .structured;
    assert!(out["plan_id"].is_string(), "{out}");
    let filter: Vec<String> = out["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["menu"] == "/ip/firewall/filter")
        .map(|c| c["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        filter,
        vec!["set", "move"],
        "the edited comment is set back and the moved rule moved back, nothing re-created: {out}"
    );
    assert!(actions(&out).contains(&"remove".to_owned()), "{out}");
    let uncovered: Vec<&str> = out["not_covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["menu"].as_str().unwrap())
        .collect();
    assert!(uncovered.contains(&"/interface/bridge"), "{uncovered:?}");
    assert!(uncovered.contains(&"/ip/address"), "{uncovered:?}");
    apply(&h, &out).await;
    for (m, was) in &before {
        assert_eq!(&comparable(&items(&h, m)), was, "{m} is back");
    }
    // Planning from the same export again: nothing left to do.
    let again = super::restore::propose_restore(
        &h.ctx,
        &crate::Caller::new("test:assistant"),
        "config.plan_restore",
        "Restore r1".into(),
        "r1",
        &export,
    )
    .await
    .unwrap()
    .structured;
    assert_eq!(again["status"], "no_changes", "{again}");

    let e = super::restore::propose_restore(
        &h.ctx,
        &crate::Caller::new("test:assistant"),
        "config.plan_restore",
        "Restore r1".into(),
        "r1",
        "hello, not an export",
    )
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("not a RouterOS export"), "{e}");
}

/// Items without ids, creation times and countdowns, in order (unordered menus sorted).
fn comparable(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            if let Some(o) = i.as_object_mut() {
                for k in [
                    ".id",
                    "creation-time",
                    "timeout",
                    "last-handshake",
                    "rx",
                    "tx",
                ] {
                    o.remove(k);
                }
            }
            i
        })
        .collect();
    let ordered = items.first().is_some_and(|i| i.get("chain").is_some());
    if !ordered {
        out.sort_by_key(|v| v.to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_enter_a_plan() {
    let h = Harness::start(&[Profile::Home]).await;
    let psk = wg_private_key(4242, 1);
    let keys = h.sim("r1").write_state(|s| {
        let peers = menu("/interface/wireguard/peers").unwrap();
        let laptop = s
            .items_of("/interface/wireguard/peers")
            .find(|i| i.get("name") == Some("laptop"))
            .unwrap()
            .id();
        s.set(peers, Some(laptop), &[("preshared-key", psk.as_str())])
            .unwrap();
        s.items_of("/interface/wireguard/peers")
            .map(|i| i.get("public-key").unwrap().to_owned())
            .collect::<Vec<_>>()
    });
    let args = json!({"device_id": "r1", "menu": "interface/wireguard/peers", "items": [
        {"public-key": keys[0], "interface": "wg0", "allowed-address": "10.100.0.2/32"},
        {"public-key": keys[1], "interface": "wg0", "allowed-address": "10.100.0.3/32", "persistent-keepalive": "10s"},
    ]});
    let key_before = items(&h, "/interface/wireguard/peers")
        .into_iter()
        .find(|p| p["name"] == "laptop")
        .unwrap()["preshared-key"]
        .clone();
    assert!(key_before.is_string());
    let plan = round_trip(&h, args).await;
    let stored = h
        .ctx
        .workflow
        .plan(plan["plan_id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(
        !plan.to_string().contains(&psk) && !format!("{stored:?}").contains(&psk),
        "the peer's preshared key is neither shown nor stored: {plan}"
    );
    // Applying did not touch the key.
    let laptop = items(&h, "/interface/wireguard/peers")
        .into_iter()
        .find(|p| p["name"] == "laptop")
        .unwrap();
    assert_eq!(laptop["preshared-key"], key_before);

    // Removing the peer would need its key in the undo: refused, the key not named.
    let e = h
        .call(
            TOOL,
            json!({"device_id": "r1", "menu": "interface/wireguard/peers", "remove_unlisted": true, "items": [
                {"public-key": keys[0], "interface": "wg0", "allowed-address": "10.100.0.2/32"},
            ]}),
        )
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("preshared-key") && e.contains("secret"), "{e}");
    assert!(!e.contains(&psk), "{e}");
    // plan.create cannot write a secret either.
    let e = h
        .call(
            "plan.create",
            json!({"title": "set a key", "changes": [{"device_id": "r1", "menu": "interface/wireguard/peers",
                "action": "set", "where": {"name": "phone"}, "properties": {"preshared-key": psk}}]}),
        )
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("preshared-key") && !e.contains(&psk), "{e}");
    let plans = h.ok("plan.list", json!({})).await;
    assert_eq!(plans["total"], 1, "only the first plan exists: {plans}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_projects_caller_cannot_plan_or_restore_a_device() {
    let h = Harness::start(&[Profile::Home]).await;
    let stranger = h.ctx.for_call(crate::Access::new(
        std::sync::Arc::new(auth::Principal {
            subject: "mallory".into(),
            display: "mallory".into(),
            kind: auth::PrincipalKind::Local,
            grants: vec![auth::Grant {
                role: auth::Role::Admin,
                scope: auth::Scope::Project("other/elsewhere".parse().unwrap()),
            }],
        }),
        auth::Role::Operator,
    ));
    let p: super::plan_desired_state::Params = serde_json::from_value(json!({
        "device_id": "r1", "menu": "ip/dns", "items": [{"servers": "6.6.6.6"}]}))
    .unwrap();
    let e = super::plan_desired_state::run(stranger.clone(), p, crate::Caller::new("mallory"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("no device \"r1\""), "{e}");
    let e = super::restore::propose_restore(
        &stranger,
        &crate::Caller::new("mallory"),
        "config.plan_restore",
        "restore".into(),
        "r1",
        "/ip dns\nset servers=6.6.6.6\n",
    )
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("no device \"r1\""), "{e}");
    assert_eq!(items(&h, "/ip/dns")[0]["servers"], "1.1.1.1,9.9.9.9");
    let plans = h.ok("plan.list", json!({})).await;
    assert_eq!(plans["total"], 0);
}
