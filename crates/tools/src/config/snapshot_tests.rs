//! The snapshot tools against the simulator: listing, reading with secrets hidden, diffs by
//! menu (two snapshots, a snapshot against the running configuration, two devices), drift
//! attributed to a plan or to something outside the product, and what other callers cannot see.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use backup::{BackupOptions, Backups, Trigger};
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::AuditContext;
use workflow::ApprovalVia;

use crate::testing::Harness;

async fn device(h: &Harness, name: &str) -> store::Device {
    h.ctx.fleet.store().find_device(None, name).await.unwrap()
}

/// A change made on the router itself, not through the product.
fn add_on_router(h: &Harness, name: &str, menu: &str, props: &[(&str, &str)]) {
    h.sim(name)
        .write_state(|s| s.insert_raw(menu, props).map(|_| ()))
        .unwrap();
}

fn stranger(h: &Harness) -> crate::Ctx {
    h.ctx.for_call(crate::Access::new(
        Arc::new(auth::Principal {
            subject: "mallory".into(),
            display: "mallory".into(),
            kind: auth::PrincipalKind::Local,
            grants: vec![auth::Grant {
                role: auth::Role::Admin,
                scope: auth::Scope::Project("other/elsewhere".parse().unwrap()),
            }],
        }),
        auth::Role::Viewer,
    ))
}

async fn call_as(ctx: &crate::Ctx, tool: &str, args: Value) -> Result<Value, crate::ToolError> {
    let handler = crate::handlers()
        .into_iter()
        .find(|h| h.name == tool)
        .unwrap();
    (handler.run)(ctx.clone(), args, crate::Caller::new("test:mallory"))
        .await
        .map(|o| o.structured)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_list_read_and_diff_by_menu_with_secrets_hidden() {
    let h = Harness::start(&[Profile::Home, Profile::Home]).await;
    let backups = Backups::new(h.ctx.fleet.clone(), BackupOptions::default());
    let r1 = device(&h, "r1").await;
    let first = backups.capture(&r1, Trigger::Operator).await.unwrap();
    add_on_router(
        &h,
        "r1",
        "/ip/firewall/address-list",
        &[("list", "blocked"), ("address", "203.0.113.7")],
    );
    let second = backups.capture(&r1, Trigger::Schedule).await.unwrap();
    assert!(second.stored);

    let list = h
        .ok("config.list_snapshots", json!({"device_id": "r1"}))
        .await;
    assert_eq!(list["total"], 2);
    assert_eq!(
        list["items"][0]["id"],
        second.snapshot_id.as_str(),
        "newest first"
    );
    assert_eq!(list["items"][0]["cause"], "outside");
    assert_eq!(
        list["items"][0]["changed_menus"],
        json!(["/ip firewall address-list"])
    );
    assert_eq!(list["items"][1]["cause"], "baseline");
    let page = h
        .ok(
            "config.list_snapshots",
            json!({"device_id": "r1", "limit": 1}),
        )
        .await;
    let rest = h
        .ok(
            "config.list_snapshots",
            json!({"device_id": "r1", "limit": 1, "cursor": page["next_cursor"]}),
        )
        .await;
    assert_eq!(rest["items"][0]["id"], first.snapshot_id.as_str());
    assert!(rest["next_cursor"].is_null());

    // Reading one: paged like config.export, the WireGuard key never shown.
    let wg_key = h.sim("r1").read_state(|s| {
        s.items_of("/interface/wireguard")
            .find_map(|i| i.get("private-key").map(str::to_owned))
            .unwrap()
    });
    let snap = h
        .ok(
            "config.get_snapshot",
            json!({"snapshot_id": second.snapshot_id, "section": "/ip firewall"}),
        )
        .await;
    let text = snap["text"].as_str().unwrap();
    assert!(text.contains("address=203.0.113.7"), "{text}");
    assert_eq!(snap["snapshot"]["cause"], "outside");
    let whole = h
        .ok(
            "config.get_snapshot",
            json!({"snapshot_id": second.snapshot_id, "limit": 400}),
        )
        .await;
    assert!(!whole["text"].as_str().unwrap().contains(&wg_key));

    // Two snapshots: one menu, one added line.
    let d = h
        .ok(
            "config.diff",
            json!({"snapshot_id": first.snapshot_id, "against_snapshot_id": second.snapshot_id}),
        )
        .await;
    assert_eq!(d["identical"], false);
    assert_eq!(d["summary"]["menus_changed"], 1);
    assert_eq!(d["menus"][0]["menu"], "/ip firewall address-list");
    assert_eq!(d["menus"][0]["added"], 1);
    assert_eq!(d["menus"][0]["removed"], 0);
    let lines: Vec<&str> = d["menus"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.contains("203.0.113.7")),
        "{lines:?}"
    );

    // The newest snapshot against the router now: identical; after another change, that change.
    let same = h
        .ok("config.diff", json!({"snapshot_id": second.snapshot_id}))
        .await;
    assert_eq!(same["identical"], true, "{same}");
    h.sim("r1").write_state(|s| {
        let id = s
            .items_of("/ip/firewall/address-list")
            .find(|i| i.get("address") == Some("203.0.113.7"))
            .map(|i| i.id())
            .unwrap();
        let spec = routeros_sim::model::menu("/ip/firewall/address-list").unwrap();
        s.remove(spec, &[id]).unwrap();
    });
    let back = h
        .ok("config.diff", json!({"snapshot_id": second.snapshot_id}))
        .await;
    assert_eq!(back["menus"][0]["removed"], 1);
    assert_eq!(back["to"]["running"], true);

    // Two devices: their WireGuard keys differ, and neither is shown.
    let r2_key = h.sim("r2").read_state(|s| {
        s.items_of("/interface/wireguard")
            .find_map(|i| i.get("private-key").map(str::to_owned))
            .unwrap()
    });
    let devices = h
        .ok(
            "config.diff",
            json!({"device_id": "r1", "against_device_id": "r2"}),
        )
        .await;
    let all = devices.to_string();
    assert!(!all.contains(&wg_key) && !all.contains(&r2_key));
    assert!(
        devices["menus"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["menu"] == "/system identity"),
        "the routers are named apart: {devices}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_a_plan_is_not_drift_and_one_outside_is() {
    let h = Harness::start(&[Profile::Home]).await;
    let backups = Backups::new(h.ctx.fleet.clone(), BackupOptions::default());
    let r1 = device(&h, "r1").await;
    backups.capture(&r1, Trigger::Operator).await.unwrap();

    let plan = h
        .ok(
            "dns.add_static_entry",
            json!({"device_id": "r1", "name": "printer.lan", "address": "192.168.88.50"}),
        )
        .await;
    let applied = approve_and_apply(&h, &plan).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let after = backups.capture(&r1, Trigger::Schedule).await.unwrap();
    assert!(after.stored);
    assert_eq!(after.cause, "plan");
    assert_eq!(after.plan_id.as_deref(), plan["plan_id"].as_str());
    assert!(after.drift.is_none(), "applied by the product: no drift");
    let drift = h.ok("fleet.get_drift", json!({})).await;
    assert_eq!(drift["summary"]["drift"], 0);
    assert_eq!(drift["summary"]["in_line"], 1);

    add_on_router(
        &h,
        "r1",
        "/ip/dns/static",
        &[("name", "rogue.lan"), ("address", "10.6.6.6")],
    );
    let outside = backups.capture(&r1, Trigger::Schedule).await.unwrap();
    assert_eq!(outside.cause, "outside");
    let drift = h.ok("fleet.get_drift", json!({})).await;
    assert_eq!(drift["summary"]["drift"], 1);
    assert_eq!(drift["items"][0]["status"], "drift");
    assert_eq!(drift["items"][0]["menus"], json!(["/ip dns static"]));
    let shown = h.ok("plan.get", json!({"plan_id": plan["plan_id"]})).await;
    assert_eq!(shown["drift"][0]["menus"], json!(["/ip dns static"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_lists_drifted_routers_first_and_its_pages_never_overlap() {
    let h = Harness::start(&[Profile::Home; 5]).await;
    let backups = Backups::new(h.ctx.fleet.clone(), BackupOptions::default());
    // r1–r4 backed up (r5 never), then r3 changed on the router itself.
    for name in ["r1", "r2", "r3", "r4"] {
        backups
            .capture(&device(&h, name).await, Trigger::Operator)
            .await
            .unwrap();
    }
    add_on_router(
        &h,
        "r3",
        "/ip/dns/static",
        &[("name", "rogue.lan"), ("address", "10.6.6.6")],
    );
    backups
        .capture(&device(&h, "r3").await, Trigger::Schedule)
        .await
        .unwrap();

    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["device"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // By default only what needs a look is listed; the summary counts everything.
    let drift = h.ok("fleet.get_drift", json!({})).await;
    assert_eq!(names(&drift), ["r3", "r5"], "{drift}");
    assert_eq!(drift["items"][0]["status"], "drift");
    assert_eq!(drift["items"][1]["status"], "never_checked");
    assert_eq!(
        drift["summary"],
        json!({"devices": 5, "drift": 1, "in_line": 3, "check_failed": 0, "never_checked": 1})
    );

    // Walked two at a time with the in-line devices too: each router once, drift first. A
    // router that drifts between pages does not come back on a later page.
    let mut seen = Vec::new();
    let mut cursor: Option<Value> = None;
    for page in 0.. {
        assert!(page < 5, "the walk ends: {seen:?}");
        let mut args = json!({"include_in_line": true, "limit": 2});
        if let Some(c) = &cursor {
            args["cursor"] = c.clone();
        }
        let answer = h.ok("fleet.get_drift", args).await;
        assert_eq!(answer["total"], 5);
        seen.extend(names(&answer));
        if page == 0 {
            add_on_router(
                &h,
                "r1",
                "/ip/dns/static",
                &[("name", "later.lan"), ("address", "10.6.6.7")],
            );
            backups
                .capture(&device(&h, "r1").await, Trigger::Schedule)
                .await
                .unwrap();
        }
        match &answer["next_cursor"] {
            Value::Null => break,
            c => cursor = Some(c.clone()),
        }
    }
    assert_eq!(seen[..2], ["r3", "r5"], "{seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no router twice: {seen:?}");
    // r1 moved ahead of the cursor when it drifted; every other router was listed once.
    assert_eq!(seen.len(), 4, "{seen:?}");
    let other = h
        .call(
            "fleet.get_drift",
            json!({"cursor": cursor_of(&h).await, "project": "default/default"}),
        )
        .await;
    assert!(
        other.is_err(),
        "a cursor of another query is refused: {other:?}"
    );
}

/// A cursor `fleet.get_drift` issued for the unfiltered query with the in-line devices.
async fn cursor_of(h: &Harness) -> Value {
    h.ok(
        "fleet.get_drift",
        json!({"include_in_line": true, "limit": 1}),
    )
    .await["next_cursor"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bogus_foreign_and_tampered_requests_change_nothing() {
    let h = Harness::start(&[Profile::Home]).await;
    let backups = Backups::new(h.ctx.fleet.clone(), BackupOptions::default());
    let r1 = device(&h, "r1").await;
    let snap = backups.capture(&r1, Trigger::Operator).await.unwrap();

    for bogus in [
        "nope",
        "'; DROP TABLE config_snapshots; --",
        "01900000-0000-7000-8000-000000000000",
        &"a".repeat(5000),
    ] {
        let e = call_as(&h.ctx, "config.get_snapshot", json!({"snapshot_id": bogus}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no configuration snapshot"), "{e}");
        assert!(e.to_string().len() < 400, "the id is not echoed whole");
    }
    // Someone of another project: the snapshot and the device do not exist for them.
    let mallory = stranger(&h);
    let hidden = call_as(
        &mallory,
        "config.get_snapshot",
        json!({"snapshot_id": snap.snapshot_id}),
    )
    .await
    .unwrap_err();
    assert!(
        hidden.to_string().contains("no configuration snapshot"),
        "{hidden}"
    );
    let hidden = call_as(
        &mallory,
        "config.diff",
        json!({"snapshot_id": snap.snapshot_id}),
    )
    .await
    .unwrap_err();
    assert!(
        hidden.to_string().contains("no configuration snapshot"),
        "{hidden}"
    );
    let hidden = call_as(
        &mallory,
        "config.list_snapshots",
        json!({"device_id": "r1"}),
    )
    .await
    .unwrap_err();
    assert!(hidden.to_string().contains("no device"), "{hidden}");
    let theirs = call_as(&mallory, "fleet.get_drift", json!({}))
        .await
        .unwrap();
    assert_eq!(theirs["summary"]["devices"], 0);

    // Comparing needs exactly one form.
    for args in [
        json!({}),
        json!({"snapshot_id": snap.snapshot_id, "device_id": "r1"}),
        json!({"device_id": "r1"}),
        json!({"against_snapshot_id": snap.snapshot_id}),
    ] {
        let e = h.call("config.diff", args).await.unwrap_err();
        assert!(e.to_string().contains("exactly one of"), "{e}");
    }
    // A cursor of another query, or edited, is refused.
    let list = h
        .ok(
            "config.list_snapshots",
            json!({"device_id": "r1", "limit": 1}),
        )
        .await;
    assert!(list["next_cursor"].is_null());
    let page = h
        .ok(
            "config.get_snapshot",
            json!({"snapshot_id": snap.snapshot_id, "limit": 1}),
        )
        .await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let e = h
        .call(
            "config.get_snapshot",
            json!({"snapshot_id": snap.snapshot_id, "section": "/ip", "cursor": cursor}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("different query"), "{e}");
    let e = h
        .call(
            "config.get_snapshot",
            json!({"snapshot_id": snap.snapshot_id, "cursor": format!("{cursor}x")}),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, crate::ToolError::InvalidArguments(_)), "{e}");
    let e = h
        .call(
            "config.get_snapshot",
            json!({"snapshot_id": snap.snapshot_id, "section": "/ip; /system reboot"}),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a menu path"), "{e}");
    assert_eq!(
        h.ctx
            .fleet
            .store()
            .snapshot_count(&r1.id.to_string())
            .await
            .unwrap(),
        1
    );
}

/// Approves `plan` as an operator would (unless policy already did) and applies it.
async fn approve_and_apply(h: &Harness, plan: &Value) -> Value {
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
    h.ok(
        "plan.apply",
        json!({"plan_id": plan["plan_id"], "approval_token": token}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_restores_what_changed_outside_through_an_approved_plan() {
    let h = Harness::start(&[Profile::Home]).await;
    let backups = Backups::new(h.ctx.fleet.clone(), BackupOptions::default());
    let r1 = device(&h, "r1").await;
    let baseline = backups.capture(&r1, Trigger::Operator).await.unwrap();
    add_on_router(
        &h,
        "r1",
        "/ip/dns/static",
        &[("name", "rogue.lan"), ("address", "10.6.6.6")],
    );
    add_on_router(
        &h,
        "r1",
        "/ip/firewall/address-list",
        &[("list", "rogue"), ("address", "203.0.113.66")],
    );
    let outside = backups.capture(&r1, Trigger::Schedule).await.unwrap();
    assert!(outside.drift.is_some(), "the outside change is drift");

    // Planning a restore changes nothing on the router: it is a plan for a person to approve.
    let plan = h
        .ok(
            "config.plan_restore",
            json!({"snapshot_id": baseline.snapshot_id}),
        )
        .await;
    // (Low risk in lab: policy approves it; elsewhere a person does.)
    assert!(
        plan["status"] == "pending" || plan["status"] == "approved",
        "{plan}"
    );
    let diff = plan["changes"].to_string();
    assert!(
        diff.contains("rogue.lan") && diff.contains("203.0.113.66"),
        "{diff}"
    );
    assert!(
        plan["compared"].as_array().is_some_and(|c| !c.is_empty()),
        "{plan}"
    );
    let dump = serde_json::to_string(&h.sim("r1").state_dump(false)).unwrap();
    assert!(dump.contains("rogue.lan"), "nothing applied yet");

    let applied = approve_and_apply(&h, &plan).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let dump = serde_json::to_string(&h.sim("r1").state_dump(false)).unwrap();
    assert!(!dump.contains("rogue.lan") && !dump.contains("203.0.113.66"));
    let back = backups.capture(&r1, Trigger::Schedule).await.unwrap();
    assert!(back.drift.is_none(), "back at the baseline: no drift");

    // Restoring again finds nothing to do and creates no plan.
    let again = h
        .ok(
            "config.plan_restore",
            json!({"snapshot_id": baseline.snapshot_id}),
        )
        .await;
    assert_eq!(again["status"], "no_changes", "{again}");
    assert!(again.get("plan_id").is_none());

    // Another tenant's caller, a bogus id, an oversized one: the same "no snapshot" answer.
    for id in [
        baseline.snapshot_id.clone(),
        "not-a-uuid".into(),
        "x".repeat(5000),
    ] {
        let e = call_as(
            &stranger(&h),
            "config.plan_restore",
            json!({"snapshot_id": id}),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("no configuration snapshot"), "{e}");
    }
}
