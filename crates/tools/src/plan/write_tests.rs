//! Every write tool end to end against a simulated router: the plan it proposes (diff in
//! RouterOS terms, risk), that proposing changes nothing, that applying does exactly the change,
//! that `plan.rollback` restores the router exactly, and that bad arguments are refused with what
//! is allowed and store no plan.

use std::collections::BTreeMap;

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::AuditContext;
use workflow::ApprovalVia;

use crate::testing::Harness;

const ORDERED: &[&str] = &[
    "/ip/firewall/filter",
    "/ip/firewall/nat",
    "/ip/firewall/mangle",
    "/ip/firewall/raw",
];

/// The router's configuration, comparable across a remove and re-add: ids, creation times
/// and countdowns left out; unordered menus sorted (a re-added item comes back at the end).
fn config(h: &Harness, device: &str) -> BTreeMap<String, Vec<String>> {
    let dump = serde_json::to_value(h.sim(device).state_dump(false)).unwrap();
    let mut out = BTreeMap::new();
    for (menu, items) in dump.as_object().unwrap() {
        let items: Vec<Value> = match items {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let mut texts: Vec<String> = items
            .into_iter()
            .map(|mut i| {
                if let Some(o) = i.as_object_mut() {
                    for k in [".id", "creation-time", "timeout"] {
                        o.remove(k);
                    }
                }
                i.to_string()
            })
            .collect();
        if !ORDERED.contains(&menu.as_str()) {
            texts.sort();
        }
        out.insert(menu.clone(), texts);
    }
    out
}

fn items(h: &Harness, device: &str, menu: &str) -> Vec<Value> {
    let dump = serde_json::to_value(h.sim(device).state_dump(false)).unwrap();
    dump[menu].as_array().cloned().unwrap_or_default()
}

/// A person's token for `plan` (policy's, when it auto-approved).
async fn token(h: &Harness, plan: &Value) -> String {
    if let Some(t) = plan["approval"]["approval_token"].as_str() {
        return t.to_owned();
    }
    assert_eq!(plan["status"], "pending", "{plan}");
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

async fn apply(h: &Harness, plan: &Value) -> Value {
    let t = token(h, plan).await;
    let out = h
        .ok(
            "plan.apply",
            json!({"plan_id": plan["plan_id"], "approval_token": t}),
        )
        .await;
    assert_eq!(out["status"], "applied", "{out}");
    out
}

/// Proposes with `tool`, checks nothing changed, applies, and returns the plan; the caller
/// checks the effect, then `undo` checks the rollback restores `before`.
async fn propose_and_apply(h: &Harness, tool: &str, args: Value) -> Value {
    let before = config(h, "r1");
    let plan = h.ok(tool, args).await;
    assert_eq!(
        config(h, "r1"),
        before,
        "{tool}: proposing changed the router"
    );
    apply(h, &plan).await;
    assert_ne!(config(h, "r1"), before, "{tool}: applying changed nothing");
    plan
}

async fn undo(h: &Harness, plan: &Value, before: &BTreeMap<String, Vec<String>>) {
    let rollback = h
        .ok("plan.rollback", json!({"plan_id": plan["plan_id"]}))
        .await;
    apply(h, &rollback).await;
    let after = config(h, "r1");
    let differ: Vec<_> = after
        .iter()
        .filter(|(menu, items)| before.get(*menu) != Some(*items))
        .map(|(menu, items)| format!("{menu}: now {items:?}, before {:?}", before.get(menu)))
        .collect();
    assert!(
        differ.is_empty(),
        "rollback of {}: {differ:#?}",
        plan["title"]
    );
}

fn description(plan: &Value) -> &str {
    plan["changes"][0]["description"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_write_tools_plan_apply_and_roll_back_exactly() {
    let h = Harness::start(&[Profile::Home]).await;
    let before = config(&h, "r1");

    let plan = propose_and_apply(
        &h,
        "dns.remove_static_entry",
        json!({"device_id": "r1", "name": "router.lan"}),
    )
    .await;
    assert_eq!(plan["risk"], "low");
    assert!(
        description(&plan).starts_with("/ip/dns/static remove"),
        "{plan}"
    );
    assert!(
        plan["on_failure"]
            .as_str()
            .unwrap()
            .contains("no scheduler entry is armed"),
        "a static DNS entry cannot affect reachability: {plan}"
    );
    assert!(
        !items(&h, "r1", "/ip/dns/static")
            .iter()
            .any(|e| e["name"] == "router.lan")
    );
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.add_address_list_entry",
        json!({"device_id": "r1", "list": "blocklist", "address": "203.0.113.9", "timeout": "1d", "comment": "scanner"}),
    )
    .await;
    assert_eq!(
        description(&plan),
        "/ip/firewall/address-list add address=203.0.113.9 comment=scanner list=blocklist timeout=1d"
    );
    let entry = items(&h, "r1", "/ip/firewall/address-list")
        .into_iter()
        .find(|e| e["address"] == "203.0.113.9")
        .unwrap();
    assert_eq!(entry["list"], "blocklist");
    let left = entry["timeout"].as_str().unwrap();
    assert!(
        left == "1d" || left.starts_with("23h59m"),
        "counts down from 1d: {left}"
    );
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.remove_address_list_entry",
        json!({"device_id": "r1", "list": "blocklist", "address": "198.51.100.23"}),
    )
    .await;
    assert!(
        plan["changes"][0]["undo"][0]
            .as_str()
            .unwrap()
            .contains("comment=\"scanner 1\""),
        "the undo re-adds the entry with its comment: {plan}"
    );
    undo(&h, &plan, &before).await;

    let leases = h.ok("dhcp.list_leases", json!({"device_id": "r1"})).await;
    let lease = leases["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["dynamic"] == true)
        .cloned()
        .unwrap();
    let plan = propose_and_apply(
        &h,
        "dhcp.make_lease_static",
        json!({"device_id": "r1", "mac_address": lease["mac-address"].as_str().unwrap().to_ascii_lowercase()}),
    )
    .await;
    assert!(description(&plan).contains("make-static"), "{plan}");
    let now = items(&h, "r1", "/ip/dhcp-server/lease")
        .into_iter()
        .find(|l| l["address"] == lease["address"])
        .unwrap();
    assert_eq!(now["dynamic"], "false", "{now}");

    let plan = propose_and_apply(
        &h,
        "interface.set_comment",
        json!({"device_id": "r1", "interface": "ether3", "comment": "printer"}),
    )
    .await;
    assert_eq!(plan["risk"], "low");
    let iface = |h: &Harness| {
        items(h, "r1", "/interface/ethernet")
            .into_iter()
            .find(|i| i["name"] == "ether3")
            .unwrap()
    };
    assert_eq!(iface(&h)["comment"], "printer");
    let cleared = propose_and_apply(
        &h,
        "interface.set_comment",
        json!({"device_id": "r1", "interface": "ether3", "comment": ""}),
    )
    .await;
    assert!(iface(&h).get("comment").is_none(), "{}", iface(&h));
    let rollback = h
        .ok("plan.rollback", json!({"plan_id": cleared["plan_id"]}))
        .await;
    apply(&h, &rollback).await;
    assert_eq!(iface(&h)["comment"], "printer", "clearing is undone");

    let plan = propose_and_apply(
        &h,
        "system.set_identity",
        json!({"device_id": "r1", "name": "core-1"}),
    )
    .await;
    assert_eq!(h.sim("r1").identity(), "core-1");
    assert_eq!(
        description(&plan),
        "/system/identity set name=core-1 (name was \"sim-0001\")"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firewall_rules_are_planned_in_order_and_rolled_back_to_the_same_order() {
    let h = Harness::start(&[Profile::Home]).await;
    let before = config(&h, "r1");
    let rules = items(&h, "r1", "/ip/firewall/filter");
    let first = rules[0][".id"].as_str().unwrap().to_owned();
    let last = rules[rules.len() - 1][".id"].as_str().unwrap().to_owned();

    let plan = propose_and_apply(
        &h,
        "firewall.plan_filter_rule",
        json!({"device_id": "r1", "action": "add", "place_before": first, "rule": {
            "chain": "input", "action": "drop", "src_address_list": "blocklist", "comment": "drop scanners"
        }}),
    )
    .await;
    // Nothing shows the server's address is not on that list: the drop may cut it off.
    assert_eq!(
        plan["risk"], "critical",
        "an input-chain drop on a list: {plan}"
    );
    assert!(
        plan["risk_reasons"][0]
            .as_str()
            .unwrap()
            .contains("can match the management traffic"),
        "{plan}"
    );
    let now = items(&h, "r1", "/ip/firewall/filter");
    assert_eq!(
        now[0]["comment"], "drop scanners",
        "placed before the first rule"
    );
    assert_eq!(now[0]["src-address-list"], "blocklist");
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.plan_filter_rule",
        json!({"device_id": "r1", "action": "move", "rule_id": last, "place_before": first}),
    )
    .await;
    let now = items(&h, "r1", "/ip/firewall/filter");
    assert_eq!(now[0][".id"], last.as_str());
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.plan_filter_rule",
        json!({"device_id": "r1", "action": "disable", "rule_id": last}),
    )
    .await;
    let now = items(&h, "r1", "/ip/firewall/filter");
    assert_eq!(now[now.len() - 1]["disabled"], "true");
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.plan_filter_rule",
        json!({"device_id": "r1", "action": "remove", "rule_id": last}),
    )
    .await;
    assert_eq!(
        items(&h, "r1", "/ip/firewall/filter").len(),
        rules.len() - 1
    );
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "firewall.plan_nat_rule",
        json!({"device_id": "r1", "action": "add", "rule": {
            "chain": "dstnat", "action": "dst-nat", "protocol": "tcp", "dst-port": 8443,
            "to-addresses": "192.168.88.20", "to-ports": 443, "comment": "nas"
        }}),
    )
    .await;
    let nat = items(&h, "r1", "/ip/firewall/nat");
    assert_eq!(nat[nat.len() - 1]["to-ports"], "443");
    undo(&h, &plan, &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_routes_and_interface_state_are_planned_with_management_path_risk() {
    let h = Harness::start(&[Profile::Home]).await;
    let before = config(&h, "r1");

    let plan = propose_and_apply(
        &h,
        "ip.plan_address",
        json!({"device_id": "r1", "action": "add", "address": "10.20.0.1/24", "interface": "ether4", "comment": "lab"}),
    )
    .await;
    assert_eq!(plan["risk"], "medium", "{plan}");
    assert!(
        plan["on_failure"]
            .as_str()
            .unwrap()
            .contains("scheduler entry that undoes the changes"),
        "a medium plan is applied behind the auto-revert: {plan}"
    );
    assert!(
        items(&h, "r1", "/ip/address")
            .iter()
            .any(|a| a["address"] == "10.20.0.1/24" && a["interface"] == "ether4")
    );
    let with_address = config(&h, "r1");
    let removed = propose_and_apply(
        &h,
        "ip.plan_address",
        json!({"device_id": "r1", "action": "remove", "address": "10.20.0.1/24"}),
    )
    .await;
    undo(&h, &removed, &with_address).await;
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "routing.plan_route",
        json!({"device_id": "r1", "action": "add", "dst_address": "10.50.1.7/16", "gateway": "192.168.88.2", "distance": 5}),
    )
    .await;
    assert!(
        description(&plan).contains("dst-address=10.50.0.0/16"),
        "host bits cleared as RouterOS prints: {plan}"
    );
    let with_route = config(&h, "r1");
    let removed = propose_and_apply(
        &h,
        "routing.plan_route",
        json!({"device_id": "r1", "action": "remove", "dst_address": "10.50.0.0/16", "gateway": "192.168.88.2"}),
    )
    .await;
    undo(&h, &removed, &with_route).await;
    undo(&h, &plan, &before).await;

    let plan = propose_and_apply(
        &h,
        "interface.plan_state",
        json!({"device_id": "r1", "interface": "ether5", "state": "disabled"}),
    )
    .await;
    assert_eq!(plan["risk"], "high", "{plan}");
    assert!(
        plan["on_failure"]
            .as_str()
            .unwrap()
            .contains("scheduler entry"),
        "{plan}"
    );
    undo(&h, &plan, &before).await;

    // The management path: proposing is fine, and it is critical.
    let mgmt = h
        .ok(
            "interface.plan_state",
            json!({"device_id": "r1", "interface": "ether1", "state": "disabled"}),
        )
        .await;
    assert_eq!(mgmt["risk"], "critical", "{mgmt}");
    assert_eq!(mgmt["status"], "pending");
    assert_eq!(config(&h, "r1"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_name_what_is_wrong_and_store_no_plan() {
    let h = Harness::start(&[Profile::Home]).await;
    let cases: &[(&str, Value, &str)] = &[
        (
            "dns.remove_static_entry",
            json!({"device_id": "r1"}),
            "give entry_id or name",
        ),
        (
            "dns.remove_static_entry",
            json!({"device_id": "r1", "entry_id": "7"}),
            "not a RouterOS id",
        ),
        (
            "dns.remove_static_entry",
            json!({"device_id": "r1", "name": "no-such.lan"}),
            "no-such.lan",
        ),
        (
            "firewall.add_address_list_entry",
            json!({"device_id": "r1", "list": "x", "address": "1.2.3.4", "timeout": "tomorrow"}),
            "not a RouterOS duration",
        ),
        (
            "firewall.remove_address_list_entry",
            json!({"device_id": "r1", "list": "blocklist"}),
            "list and address together",
        ),
        (
            "dhcp.make_lease_static",
            json!({"device_id": "r1", "mac_address": "zz"}),
            "not a MAC address",
        ),
        (
            "interface.set_comment",
            json!({"device_id": "r1", "interface": "ether99", "comment": "x"}),
            "ether99",
        ),
        (
            "system.set_identity",
            json!({"device_id": "r1", "name": " "}),
            "must not be empty",
        ),
        (
            "firewall.plan_filter_rule",
            json!({"device_id": "r1", "action": "add", "rule": {"action": "drop"}}),
            "rule.chain is required",
        ),
        (
            "firewall.plan_filter_rule",
            json!({"device_id": "r1", "action": "disable"}),
            "rule_id is required",
        ),
        (
            "firewall.plan_nat_rule",
            json!({"device_id": "r1", "action": "remove", "rule_id": "*1", "place_before": "*2"}),
            "place_before is only for action add or move",
        ),
        (
            "ip.plan_address",
            json!({"device_id": "r1", "action": "add", "address": "10.1.1.1", "interface": "ether2"}),
            "prefix length",
        ),
        (
            "routing.plan_route",
            json!({"device_id": "r1", "action": "add", "dst_address": "10.0.0.0/8"}),
            "needs dst_address",
        ),
        (
            "interface.plan_state",
            json!({"device_id": "r1", "interface": "ether2", "state": "down"}),
            "enabled",
        ),
        (
            "system.set_identity",
            json!({"device_id": "nosuch", "name": "x"}),
            "nosuch",
        ),
    ];
    for (tool, args, want) in cases {
        let e = h.call(tool, args.clone()).await.unwrap_err().to_string();
        assert!(e.contains(want), "{tool} {args}: {e}");
    }
    let plans = h.ok("plan.list", json!({})).await;
    assert_eq!(plans["total"], 0, "{plans}");
}
