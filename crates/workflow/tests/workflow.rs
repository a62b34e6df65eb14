//! The plan → approve → apply engine against simulated routers and a real database: what a plan
//! records, every way an approval token is refused, drift, failures mid-apply, multi-device
//! rollouts, the device-side auto-revert, rollback plans and crash recovery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use support::{Lab, props, quick_config};
use workflow::{
    ChangeRequest, DeviceRequest, DeviceResult, Op, PlanRequest, PlanStatus, Risk, Selector,
    TokenError, WorkflowError,
};

fn request(device: &str, changes: Vec<ChangeRequest>) -> PlanRequest {
    PlanRequest {
        title: "test change".into(),
        tool: "test".into(),
        devices: vec![DeviceRequest {
            device: device.into(),
            changes,
        }],
    }
}

fn dns_add(name: &str, address: &str) -> ChangeRequest {
    ChangeRequest {
        menu: "ip/dns/static".into(),
        op: Op::Add {
            props: props(&[("name", name), ("address", address)]),
            place_before: None,
        },
    }
}

fn identity(name: &str) -> ChangeRequest {
    ChangeRequest {
        menu: "system/identity".into(),
        op: Op::Set {
            target: Selector::Singleton,
            props: props(&[("name", name)]),
            unset: vec![],
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_records_its_changes_and_applies_only_with_a_token() {
    let lab = Lab::start(&[Profile::Home]).await;
    let before = lab.config("r1");
    let proposal = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![
                    dns_add("nas.lan", "192.168.88.20"),
                    identity("core-1"),
                    ChangeRequest {
                        menu: "interface".into(),
                        op: Op::Set {
                            target: Selector::Where(props(&[("name", "ether2")])),
                            props: props(&[("comment", "to the NAS")]),
                            unset: vec![],
                        },
                    },
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let plan = proposal.plan;
    assert_eq!(
        plan.status,
        PlanStatus::Approved,
        "low risk in lab is auto-approved"
    );
    let auto = proposal.auto_approval.expect("a token from policy");
    assert!(auto.approver.starts_with("policy:"));
    assert_eq!(plan.risk, Risk::Low);
    assert_eq!(plan.changes.len(), 3);
    assert_eq!(
        plan.changes[0].description,
        "/ip/dns/static add address=192.168.88.20 name=nas.lan"
    );
    assert_eq!(
        plan.changes[1].description,
        r#"/system/identity set name=core-1 (name was "sim-0001")"#
    );
    assert!(plan.changes[2].description.starts_with("/interface set *"));
    assert_eq!(plan.compute_hash(), plan.content_hash);
    // Nothing happened on the device yet.
    assert_eq!(lab.config("r1"), before);

    // The token applies it; the device has exactly the planned changes.
    let report = lab
        .workflow
        .apply(&plan.id, &auto.approval_token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied, "{report:?}");
    assert_eq!(report.devices[0].result, DeviceResult::Applied);
    assert_eq!(lab.sim("r1").identity(), "core-1");
    let after = lab.config("r1");
    assert_ne!(after, before);
    let dns = after["/ip/dns/static"].as_array().unwrap();
    assert!(
        dns.iter()
            .any(|e| e["name"] == "nas.lan" && e["address"] == "192.168.88.20")
    );
    let steps: Vec<String> = lab
        .workflow
        .journal(&plan.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.step)
        .collect();
    assert_eq!(
        steps,
        [
            "lock",
            "drift_ok",
            "intent",
            "done",
            "intent",
            "done",
            "intent",
            "done",
            "verify",
            "verified",
            "confirmed",
            "unlock"
        ]
    );
    let stored = lab.workflow.plan(&plan.id).await.unwrap();
    assert_eq!(stored.status, PlanStatus::Applied);
    assert_eq!(
        stored.outcome.as_ref().unwrap()["devices"][0]["result"],
        "applied"
    );
    let audit = lab
        .fleet
        .store()
        .audit_events(&store::AuditFilter {
            target: Some(format!("plan:{}", plan.id)),
            limit: 20,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["plan.create", "plan.approve", "plan.apply", "plan.applied"]
    );
    assert!(lab.metric("mcp_plans_total", "applied") >= 1.0);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_abuse_of_an_approval_token_is_refused_with_its_reason() {
    let mut config = quick_config();
    config.policies.clear(); // nothing auto-approved
    config.approval_timeout = Duration::from_secs(2);
    let db = store::testing::TestDatabase::sqlite();
    let lab = Lab::start_with(&[Profile::Home], db, config, domain::Environment::Lab).await;
    let propose = |name: &'static str| {
        let lab = &lab;
        async move {
            lab.workflow
                .propose(&request("r1", vec![dns_add(name, "10.0.0.1")]), &lab.ctx())
                .await
                .unwrap()
                .plan
        }
    };
    let a = propose("a.lan").await;
    let b = propose("b.lan").await;
    assert_eq!(a.status, PlanStatus::Pending);
    let before = lab.config("r1");
    let err = |r: Result<workflow::ApplyReport, WorkflowError>| match r {
        Err(WorkflowError::Token(t)) => t,
        other => panic!("expected a token error, got {other:?}"),
    };

    // No approval at all: a made-up token.
    let e = err(lab.workflow.apply(&a.id, "let-me-in", &lab.ctx()).await);
    assert_eq!(e, TokenError::Malformed);
    let token_a = lab.approve(&a.id).await;
    // Forged: the payload edited.
    let mut parts: Vec<String> = token_a.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    let e = err(lab
        .workflow
        .apply(&a.id, &parts.join("."), &lab.ctx())
        .await);
    assert_eq!(e, TokenError::Forged);
    // Minted under another master key.
    let other = workflow::Workflow::new(
        lab.fleet.clone(),
        &vault::MasterKey::generate().unwrap(),
        quick_config(),
        None,
    );
    let foreign = other
        .approve(&a.id, "cli:mallory", workflow::ApprovalVia::Cli, &lab.ctx())
        .await
        .unwrap()
        .approval_token;
    let e = err(lab.workflow.apply(&a.id, &foreign, &lab.ctx()).await);
    assert_eq!(e, TokenError::Forged);
    // For another plan.
    let e = err(lab.workflow.apply(&b.id, &token_a, &lab.ctx()).await);
    assert!(matches!(e, TokenError::OtherPlan { .. }), "{e}");
    assert!(e.to_string().contains(&a.id) && e.to_string().contains(&b.id));
    // The plan changed after approval (its stored content edited).
    let token_b = lab.approve(&b.id).await;
    sqlx::query("UPDATE plan_changes SET properties = $1 WHERE plan_id = $2")
        .bind(r#"{"props":{"address":"6.6.6.6","name":"b.lan"}}"#)
        .bind(&b.id)
        .execute(lab.fleet.store().pool())
        .await
        .unwrap();
    let e = err(lab.workflow.apply(&b.id, &token_b, &lab.ctx()).await);
    assert_eq!(e, TokenError::PlanChanged { plan: b.id.clone() });
    // Used once, then reused.
    let report = lab
        .workflow
        .apply(&a.id, &token_a, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied);
    let e = err(lab.workflow.apply(&a.id, &token_a, &lab.ctx()).await);
    assert!(matches!(e, TokenError::Reused { .. }), "{e}");
    // Expired.
    let c = propose("c.lan").await;
    let token_c = lab.approve(&c.id).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let e = err(lab.workflow.apply(&c.id, &token_c, &lab.ctx()).await);
    assert!(matches!(e, TokenError::Expired { .. }), "{e}");
    // Nothing but plan a reached the device.
    let after = lab.config("r1");
    let dns: Vec<&str> = after["/ip/dns/static"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(dns.contains(&"a.lan") && !dns.contains(&"b.lan") && !dns.contains(&"c.lan"));
    assert_ne!(before, after);
    // Only a person approves.
    let refused = lab
        .workflow
        .approve(
            &c.id,
            "mcp:stdio:claude",
            workflow::ApprovalVia::Cli,
            &lab.ctx(),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("from a person"), "{refused}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_can_be_switched_off() {
    let mut config = quick_config();
    config.enable_apply = false;
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let p = lab
        .workflow
        .propose(
            &request("r1", vec![dns_add("x.lan", "10.0.0.9")]),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let token = p.auto_approval.unwrap().approval_token;
    let e = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("MCP_ENABLE_PLAN_APPLY=false"), "{e}");
    assert_eq!(
        lab.workflow.plan(&p.plan.id).await.unwrap().status,
        PlanStatus::Approved,
        "the plan stays viewable and untouched"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_since_planning_refuses_and_changes_nothing() {
    let lab = Lab::start(&[Profile::Home]).await;
    let p = lab
        .workflow
        .propose(&request("r1", vec![identity("edge-7")]), &lab.ctx())
        .await
        .unwrap();
    // Someone renames the router by hand in between.
    let identity_menu = routeros_sim::model::menu("/system/identity").unwrap();
    lab.sim("r1")
        .write_state(|s| s.set(identity_menu, None, &[("name", "renamed-by-hand")]))
        .unwrap();
    let before = lab.config("r1");
    let report = lab
        .workflow
        .apply(
            &p.plan.id,
            &p.auto_approval.unwrap().approval_token,
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack);
    assert_eq!(report.devices[0].result, DeviceResult::Untouched);
    let reason = report.devices[0].reason.clone().unwrap();
    assert!(
        reason.contains(r#"name was "sim-0001" at planning, now "renamed-by-hand""#),
        "{reason}"
    );
    assert_eq!(lab.config("r1"), before);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_failing_midway_rolls_back_what_was_applied() {
    let lab = Lab::start(&[Profile::Home]).await;
    let before = lab.config("r1");
    let p = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![
                    dns_add("one.lan", "10.1.1.1"),
                    identity("half-way"),
                    dns_add("three.lan", "10.3.3.3"),
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    // The third write fails (HTTP 500), after two were applied.
    lab.sim("r1").set_faults(Faults {
        fail_write: Some(3),
        ..Faults::none()
    });
    let report = lab
        .workflow
        .apply(
            &p.plan.id,
            &p.auto_approval.unwrap().approval_token,
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{report:?}");
    assert_eq!(report.devices[0].result, DeviceResult::RolledBack);
    assert_eq!(report.devices[0].changes_applied, 3);
    assert_eq!(
        lab.config("r1"),
        before,
        "exactly the state before the plan"
    );
    assert!(lab.metric("mcp_rollbacks_triggered_total", "write_failed") >= 1.0);
    lab.stop().await;
}
