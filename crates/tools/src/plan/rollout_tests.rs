//! Staged rollouts through the tools: `plan.create` with `targets` and `rollout`, per-device
//! progress in `plan.get`, and `plan.pause`/`plan.resume`/`plan.abort` with their refusals.

use std::sync::Arc;

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::testing::Harness;
use crate::{Access, Caller, ToolError};

/// A tool call with another principal's grants.
async fn call_with(
    h: &Harness,
    role: auth::Role,
    tool: &str,
    args: Value,
) -> Result<Value, ToolError> {
    let ctx = h.ctx.for_call(Access::new(
        Arc::new(auth::Principal::local(role)),
        auth::Role::Operator,
    ));
    let handler = crate::handlers()
        .into_iter()
        .find(|t| t.name == tool)
        .unwrap_or_else(|| panic!("no handler for {tool}"));
    (handler.run)(ctx, args, Caller::new("test:other"))
        .await
        .map(|o| o.structured)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_list_rolls_out_by_tag_and_plan_get_shows_each_device() {
    let h = Harness::start(&[Profile::Home; 3]).await;
    let plan = h
        .ok(
            "plan.create",
            json!({
                "title": "block a scanner everywhere",
                "targets": {"tag": "profile=home"},
                "rollout": {"wave_size": 1, "soak_seconds": 0},
                "changes": [{"menu": "ip/firewall/address-list", "action": "add",
                             "properties": {"list": "blocked", "address": "203.0.113.66"}}],
            }),
        )
        .await;
    assert_eq!(plan["devices"], json!(["r1", "r2", "r3"]), "{plan}");
    assert_eq!(plan["status"], "approved", "low risk in lab: {plan}");
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let got = h.ok("plan.get", json!({"plan_id": id})).await;
    assert_eq!(got["rollout"]["spec"]["wave_size"], 1, "{got}");
    assert_eq!(got["rollout"]["control"], "running");
    // Not started: pausing makes no sense yet.
    let e = h
        .call("plan.pause", json!({"plan_id": id}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cancel it instead"), "{e}");
    let token = plan["approval"]["approval_token"].as_str().unwrap();
    let applied = h
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let got = h.ok("plan.get", json!({"plan_id": id})).await;
    let devices = got["rollout"]["progress"]["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(d["wave"], i, "{d}");
        assert_eq!(d["state"], "applied", "{d}");
    }
    // Gates ran on every device after the canary and after wave 1.
    assert!(
        devices
            .iter()
            .all(|d| d["gates"].as_array().is_some_and(|g| !g.is_empty()))
    );
    // Ended: abort is refused, and refused again.
    for _ in 0..2 {
        let e = h
            .call("plan.abort", json!({"plan_id": id}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("has ended"), "{e}");
    }
    for n in &h.names {
        let listed = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": n, "list": "blocked"}),
            )
            .await;
        assert_eq!(listed["total"], 1, "{n}: {listed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rollout_arguments_are_refused_and_nothing_is_planned() {
    let h = Harness::start(&[Profile::Home; 2]).await;
    let change = json!({"menu": "ip/dns/static", "action": "add",
                        "properties": {"name": "nas.lan", "address": "192.168.88.20"}});
    let with_device = json!({"device_id": "r1", "menu": "ip/dns/static", "action": "add",
                        "properties": {"name": "nas.lan", "address": "192.168.88.20"}});
    let cases = [
        (
            json!({"title": "case 1", "targets": {"device_ids": ["r1", "r2"]}, "rollout": {"waves": [50, 20, 100]}, "changes": [change]}),
            "rise",
        ),
        (
            json!({"title": "case 2", "targets": {"device_ids": ["r1", "r2"]}, "rollout": {"wave_size": 1, "waves": [100]}, "changes": [change]}),
            "not both",
        ),
        (
            json!({"title": "case 3", "targets": {"device_ids": ["r1", "r2"]}, "rollout": {"waves": [10, 50]}, "changes": [change]}),
            "end at 100",
        ),
        (
            json!({"title": "case 4", "targets": {"device_ids": ["r1", "r1"]}, "changes": [change]}),
            "twice",
        ),
        (
            json!({"title": "case 5", "targets": {"device_ids": ["r1", "r2"]}, "changes": [with_device]}),
            "leave it out",
        ),
        (
            json!({"title": "case 6", "changes": [change]}),
            "required unless targets",
        ),
        (
            json!({"title": "case 7", "targets": {}, "changes": [change]}),
            "give device_ids",
        ),
        (
            json!({"title": "case 8", "targets": {"tag": "site=nowhere"}, "changes": [change]}),
            "selects no active device",
        ),
        (
            json!({"title": "case 9", "targets": {"device_ids": ["r1"]}, "rollout": {}, "changes": [change]}),
            "at least 2 devices",
        ),
        (
            json!({"title": "case 10", "targets": {"device_ids": ["r1", "no-such"]}, "changes": [change]}),
            "no-such",
        ),
        (
            json!({"title": "case 11", "targets": {"project": "nobody/none"}, "changes": [change]}),
            "nobody/none",
        ),
    ];
    for (args, says) in cases {
        let e = h.call("plan.create", args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(says), "{args}: {e}");
    }
    let plans = h.ok("plan.list", json!({})).await;
    assert_eq!(plans["total"], 0, "{plans}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_pause_or_abort_a_rollout() {
    let h = Harness::start(&[Profile::Home; 2]).await;
    let plan = h
        .ok(
            "plan.create",
            json!({
                "title": "nas everywhere",
                "targets": {"device_ids": ["r1", "r2"]},
                "rollout": {"wave_size": 1, "soak_seconds": 0},
                "changes": [{"menu": "ip/dns/static", "action": "add",
                             "properties": {"name": "nas.lan", "address": "192.168.88.20"}}],
            }),
        )
        .await;
    let id = plan["plan_id"].as_str().unwrap();
    for tool in ["plan.pause", "plan.resume", "plan.abort"] {
        let e = call_with(&h, auth::Role::Viewer, tool, json!({"plan_id": id}))
            .await
            .unwrap_err();
        assert!(matches!(e, ToolError::Refused(_)), "{tool}: {e:?}");
    }
    let got = h.ok("plan.get", json!({"plan_id": id})).await;
    assert_eq!(got["rollout"]["control"], "running", "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_and_ntp_servers_roll_out_to_every_router() {
    let h = Harness::start(&[Profile::Home; 3]).await;
    let plan = h
        .ok(
            "plan.create",
            json!({
                "title": "new resolvers and time servers",
                "targets": {"tag": "profile=home"},
                "rollout": {"wave_size": 1, "soak_seconds": 0},
                "changes": [
                    {"menu": "ip/dns", "action": "set",
                     "properties": {"servers": "9.9.9.9,149.112.112.112"}},
                    {"menu": "system/ntp/client", "action": "set",
                     "properties": {"enabled": "yes", "servers": "192.0.2.123,192.0.2.124"}},
                ],
            }),
        )
        .await;
    assert_eq!(plan["devices"], json!(["r1", "r2", "r3"]), "{plan}");
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    let token = match plan["approval"]["approval_token"].as_str() {
        Some(t) => t.to_owned(),
        None => {
            h.ctx
                .workflow
                .approve(
                    &id,
                    "alice",
                    workflow::ApprovalVia::Cli,
                    &store::AuditContext::new("alice"),
                )
                .await
                .unwrap()
                .approval_token
        }
    };
    let applied = h
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    for n in &h.names {
        let dump = serde_json::to_value(h.sim(n).state_dump(false)).unwrap();
        let one = |menu: &str| match &dump[menu] {
            Value::Array(a) => a[0].clone(),
            other => other.clone(),
        };
        assert_eq!(one("/ip/dns")["servers"], "9.9.9.9,149.112.112.112", "{n}");
        assert_eq!(
            one("/system/ntp/client")["servers"],
            "192.0.2.123,192.0.2.124",
            "{n}"
        );
    }
}
