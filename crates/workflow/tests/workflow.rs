//! The plan → approve → apply engine against simulated routers and a real database: what a plan
//! records, every way an approval token is refused, drift, failures mid-apply, multi-device
//! rollouts, the device-side auto-revert, rollback plans and crash recovery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use support::{Lab, dns_add, identity, props, quick_config};
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
        [
            "plan.create",
            "plan.approve",
            "plan.apply",
            "plan.step.done",
            "plan.step.done",
            "plan.step.done",
            "plan.step.verified",
            "plan.step.confirmed",
            "plan.applied"
        ]
    );
    // Each step's audit record names the device and the change in RouterOS terms.
    let step = audit.iter().find(|e| e.action == "plan.step.done").unwrap();
    assert_eq!(step.details["device"], "r1");
    assert!(
        step.details["change"].as_str().unwrap().starts_with('/'),
        "{step:?}"
    );
    assert!(lab.metric("mcp_plans_total", "applied") >= 1.0);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_abuse_of_an_approval_token_is_refused_with_its_reason() {
    let mut config = quick_config();
    config.policies.clear(); // nothing auto-approved
    config.approval_timeout = Duration::from_secs(2);
    let clock = workflow::clock::ManualClock::new();
    config.clock = std::sync::Arc::new(clock.clone());
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
    clock.advance(Duration::from_millis(2100));
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

fn filter_rules(lab: &Lab, name: &str) -> Vec<workflow::Props> {
    let dump = lab.sim(name).state_dump(false);
    let json: serde_json::Value = serde_json::from_str(&dump.to_json_string()).unwrap();
    json["/ip/firewall/filter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_changes_roll_back_to_the_exact_order() {
    let lab = Lab::start(&[Profile::Home]).await;
    let before = lab.config("r1");
    let rules = filter_rules(&lab, "r1");
    assert!(rules.len() >= 6, "{}", rules.len());
    let id = |i: usize| rules[i][".id"].clone();
    // Remove two neighbours, move another to the top, add one before the fourth — then fail.
    let changes = vec![
        ChangeRequest {
            menu: "ip/firewall/filter".into(),
            op: Op::Remove {
                target: Selector::Id(id(2)),
            },
        },
        ChangeRequest {
            menu: "ip/firewall/filter".into(),
            op: Op::Remove {
                target: Selector::Id(id(3)),
            },
        },
        ChangeRequest {
            menu: "ip/firewall/filter".into(),
            op: Op::Move {
                target: Selector::Id(id(5)),
                place_before: Some(Selector::Id(id(0))),
            },
        },
        ChangeRequest {
            menu: "ip/firewall/filter".into(),
            op: Op::Add {
                props: props(&[
                    ("chain", "forward"),
                    ("action", "drop"),
                    ("src-address", "198.51.100.0/24"),
                    ("comment", "block a test net"),
                ]),
                place_before: Some(Selector::Id(id(4))),
            },
        },
        dns_add("after-rules.lan", "10.4.4.4"),
    ];
    let p = lab
        .workflow
        .propose(&request("r1", changes), &lab.ctx())
        .await
        .unwrap();
    assert!(p.plan.risk >= Risk::Medium);
    let token = match p.auto_approval {
        Some(t) => t.approval_token,
        None => lab.approve(&p.plan.id).await,
    };
    lab.sim("r1").set_faults(Faults {
        fail_write: Some(5),
        ..Faults::none()
    });
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{report:?}");
    assert_eq!(
        lab.config("r1"),
        before,
        "the rules are back, in their order"
    );

    // Without the fault, a plan applies; its rollback plan restores the order. (The rules
    // re-created by the rollback have new ids: RouterOS never reuses one.)
    lab.sim("r1").set_faults(Faults::none());
    let rules = filter_rules(&lab, "r1");
    let id = |i: usize| rules[i][".id"].clone();
    let again = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![
                    ChangeRequest {
                        menu: "ip/firewall/filter".into(),
                        op: Op::Remove {
                            target: Selector::Id(id(2)),
                        },
                    },
                    ChangeRequest {
                        menu: "ip/firewall/filter".into(),
                        op: Op::Move {
                            target: Selector::Id(id(5)),
                            place_before: Some(Selector::Id(id(0))),
                        },
                    },
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let token = lab.approve(&again.plan.id).await;
    let report = lab
        .workflow
        .apply(&again.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied, "{report:?}");
    let changed = filter_rules(&lab, "r1");
    assert_eq!(changed[0][".id"], id(5));
    assert_eq!(changed.len(), rules.len() - 1);
    let undo = lab
        .workflow
        .propose_rollback(&again.plan.id, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(undo.plan.kind, workflow::PlanKind::Rollback);
    assert_eq!(
        undo.plan.rollback_of.as_deref(),
        Some(again.plan.id.as_str())
    );
    let token = lab.approve(&undo.plan.id).await;
    let report = lab
        .workflow
        .apply(&undo.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied, "{report:?}");
    assert_eq!(
        lab.config("r1"),
        before,
        "the rollback plan restores the rules and their order"
    );
    let e = lab
        .workflow
        .propose_rollback(&p.plan.id, &lab.ctx())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only applied plans"), "{e}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_device_rolls_back_the_devices_already_changed() {
    let lab = Lab::start(&[Profile::Home, Profile::Home, Profile::Home]).await;
    let before: Vec<_> = lab.names.iter().map(|n| lab.config(n)).collect();
    let req = PlanRequest {
        title: "rename three routers".into(),
        tool: "test".into(),
        devices: lab
            .names
            .iter()
            .map(|n| DeviceRequest {
                device: n.clone(),
                changes: vec![
                    identity(&format!("{n}-new")),
                    dns_add("fleet.lan", "10.9.9.9"),
                ],
            })
            .collect(),
    };
    let p = lab.workflow.propose(&req, &lab.ctx()).await.unwrap();
    // The second device refuses its second write.
    lab.sim("r2").set_faults(Faults {
        fail_write: Some(2),
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
    let results: Vec<DeviceResult> = report.devices.iter().map(|d| d.result).collect();
    assert_eq!(
        results,
        [
            DeviceResult::RolledBack,
            DeviceResult::RolledBack,
            DeviceResult::Untouched
        ]
    );
    assert!(
        report.devices[0]
            .reason
            .as_ref()
            .unwrap()
            .contains("device r2 failed")
    );
    for (n, b) in lab.names.iter().zip(&before) {
        assert_eq!(&lab.config(n), b, "{n} is as before");
    }
    assert!(lab.metric("mcp_rollbacks_triggered_total", "canary_failed") >= 1.0);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_the_management_path_is_reverted_by_the_device_itself() {
    let config = workflow::WorkflowConfig {
        // Changes are sent only while more than 3 s of it is left (the 2 s a lab call may take,
        // and the second RouterOS rounds the entry's start time down by).
        confirm_timeout: Duration::from_secs(5),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let before = lab.config("r1");
    // Disabling ether1 cuts the server off: the plan is critical, never auto-approved.
    let p = propose_ether1_down(&lab).await;
    assert_eq!(p.plan.risk, Risk::Critical);
    assert!(p.auto_approval.is_none());
    assert!(
        p.plan.risk_reasons[0].contains("carries the management address"),
        "{:?}",
        p.plan.risk_reasons
    );
    let token = lab.approve(&p.plan.id).await;
    let started = std::time::Instant::now();
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{report:?}");
    let reason = report.devices[0].reason.clone().unwrap();
    assert!(reason.contains("rolled back"), "{reason}");
    assert_eq!(
        lab.config("r1"),
        before,
        "the scheduler restored ether1 and removed itself"
    );
    let full: serde_json::Value =
        serde_json::from_str(&lab.sim("r1").state_dump(true).to_json_string()).unwrap();
    let log: Vec<String> = full["/log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect();
    assert!(
        log.iter()
            .any(|m| m.contains("was not confirmed; reverting it")),
        "{log:?}"
    );
    // The scheduler counts whole seconds from the entry's creation second.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for the revert"
    );
    // The change's own reply never arrives (the path it cut is the one it would come back on).
    assert!(reason.contains("timed out"), "{reason}");
    assert!(
        lab.metric("mcp_rollbacks_triggered_total", "write_failed")
            + lab.metric("mcp_rollbacks_triggered_total", "management_path_lost")
            >= 1.0
    );
    let steps: Vec<String> = lab
        .workflow
        .journal(&p.plan.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.step)
        .collect();
    assert!(
        steps.starts_with(&[
            "lock".into(),
            "drift_ok".into(),
            "arm".into(),
            "armed".into()
        ]),
        "{steps:?}"
    );
    assert!(steps.contains(&"rolled_back".to_owned()), "{steps:?}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_change_is_sent_that_the_router_might_take_after_its_auto_revert_ran() {
    // The auto-revert runs 4 to 5 s after it is armed (RouterOS counts from the start of the
    // second it was created in); a lab call may take 2 s. So a change is sent only within the
    // first 2 s after arming.
    let config = workflow::WorkflowConfig {
        confirm_timeout: Duration::from_secs(5),
        rollback_timeout: Duration::from_secs(1),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let before = lab.config("r1");
    // Four names, then ether1 down, which cuts the server off. On a router that takes 0.6 s
    // for every request (three per added name: the add and teaching the revert script its
    // id), ether1 would go down about 8 s after arming: after the revert had run and removed
    // itself, so nothing would ever bring ether1 back.
    let mut changes: Vec<ChangeRequest> = (1..=4)
        .map(|i| dns_add(&format!("slow{i}.lan"), &format!("10.0.0.{i}")))
        .collect();
    changes.push(ChangeRequest {
        menu: "interface".into(),
        op: Op::Disable {
            target: Selector::Where(props(&[("name", "ether1")])),
        },
    });
    let p = lab
        .workflow
        .propose(&request("r1", changes), &lab.ctx())
        .await
        .unwrap();
    assert!(p.plan.arms_auto_revert());
    let cut = p.plan.changes.last().unwrap().seq;
    let token = lab.approve(&p.plan.id).await;
    let sim = lab.sim("r1");
    sim.set_faults(Faults {
        latency_ms: 600,
        ..Faults::none()
    });
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    sim.set_faults(Faults::none());
    assert_eq!(report.status, PlanStatus::RolledBack, "{report:?}");
    let reason = report.devices[0].reason.clone().unwrap();
    assert!(
        reason.contains("was not sent") && reason.contains("MCP_PLAN_CONFIRM_TIMEOUT_SECONDS"),
        "{reason}"
    );
    let journal = lab.workflow.journal(&p.plan.id).await.unwrap();
    assert!(
        !journal
            .iter()
            .any(|e| e.step == "intent" && e.seq == Some(i64::from(cut))),
        "ether1 down was never sent"
    );
    assert!(sim.answering(std::net::Ipv4Addr::LOCALHOST));
    assert_eq!(lab.config("r1"), before);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_interrupted_midway_is_recovered_at_the_next_start() {
    let lab = Lab::start(&[Profile::Home]).await;
    let before = lab.config("r1");
    let p = lab
        .workflow
        .propose(
            &request(
                "r1",
                vec![
                    dns_add("r1.lan", "10.0.0.1"),
                    dns_add("r2.lan", "10.0.0.2"),
                    dns_add("r3.lan", "10.0.0.3"),
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    // Slow writes; the server "dies" (the apply future is dropped) after the first ones.
    lab.sim("r1").set_faults(Faults {
        latency_ms: 300,
        ..Faults::none()
    });
    let token = p.auto_approval.unwrap().approval_token;
    let cut = tokio::time::timeout(
        Duration::from_millis(1500),
        lab.workflow.apply(&p.plan.id, &token, &lab.ctx()),
    )
    .await;
    assert!(cut.is_err(), "the apply was interrupted");
    assert_eq!(
        lab.workflow.plan(&p.plan.id).await.unwrap().status,
        PlanStatus::Applying
    );
    assert_ne!(lab.config("r1"), before, "some changes were made");
    lab.sim("r1").set_faults(Faults::none());
    // A new server process starts.
    let restarted = lab.restart(quick_config());
    let reports = restarted.recover(&lab.ctx()).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, PlanStatus::RolledBack, "{reports:?}");
    assert_eq!(lab.config("r1"), before);
    let plan = lab.workflow.plan(&p.plan.id).await.unwrap();
    assert_eq!(plan.status, PlanStatus::RolledBack);
    // Nothing left to recover.
    assert!(restarted.recover(&lab.ctx()).await.unwrap().is_empty());
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_what_is_wrong_and_store_nothing() {
    let lab = Lab::start(&[Profile::Home]).await;
    let bad = |menu: &str, op: Op| {
        request(
            "r1",
            vec![ChangeRequest {
                menu: menu.into(),
                op,
            }],
        )
    };
    let cases = [
        (
            bad(
                "system/script",
                Op::Add {
                    props: props(&[("name", "x")]),
                    place_before: None,
                },
            ),
            "plans do not change /system/script",
        ),
        (
            bad(
                "ip/dns/static",
                Op::Remove {
                    target: Selector::Id("*FFF".into()),
                },
            ),
            "no item *FFF in /ip/dns/static",
        ),
        (
            bad(
                "ip/dns/static",
                Op::Set {
                    target: Selector::Where(props(&[("name", "nope.lan")])),
                    props: props(&[("address", "1.1.1.1")]),
                    unset: vec![],
                },
            ),
            "no item of /ip/dns/static has name=nope.lan",
        ),
        (
            bad(
                "interface",
                Op::Set {
                    target: Selector::Where(props(&[("name", "ether2")])),
                    props: props(&[("mac-address", "00:11:22:33:44:55")]),
                    unset: vec![],
                },
            ),
            "mac-address of /interface cannot be written",
        ),
        (
            bad(
                "ip/dns/static",
                Op::Add {
                    props: props(&[("name", "router.lan"), ("address", "192.168.88.1")]),
                    place_before: None,
                },
            ),
            "already has an item with",
        ),
        (
            bad(
                "system/identity",
                Op::Set {
                    target: Selector::Singleton,
                    props: props(&[("name", "sim-0001")]),
                    unset: vec![],
                },
            ),
            "nothing to change",
        ),
        (
            bad(
                "ip/dns/static",
                Op::Move {
                    target: Selector::Id("*1".into()),
                    place_before: None,
                },
            ),
            "/ip/dns/static does not take move",
        ),
        (
            request("ghost", vec![dns_add("a", "1.2.3.4")]),
            "no device \"ghost\"",
        ),
    ];
    for (req, says) in cases {
        let e = lab.workflow.propose(&req, &lab.ctx()).await.unwrap_err();
        assert!(e.to_string().contains(says), "expected {says:?} in: {e}");
    }
    assert!(
        lab.workflow
            .plans(&workflow::PlanFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    lab.stop().await;
}

/// Two engines with their own connection pools (as two server processes have) share one
/// PostgreSQL database and apply plans to the same router at the same time: the advisory lock
/// serializes them, so the journal's lock windows never overlap and every plan applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_postgresql_never_write_a_device_at_once() {
    let Some(db) = store::testing::TestDatabase::postgres(
        "workflow::two_engines_on_one_postgresql_never_write_a_device_at_once",
    )
    .await
    else {
        return;
    };
    let url = db.postgres_url().unwrap();
    let lab = Lab::start_with(
        &[Profile::Home],
        db,
        quick_config(),
        domain::Environment::Lab,
    )
    .await;
    // A second "process": its own pool, its own in-process locks.
    let store2 = store::Store::open(&store::Target::Postgres(vault::SecretString::from(url)), 4)
        .await
        .unwrap();
    let fleet2 = fleet::Fleet::new(
        store2,
        std::sync::Arc::clone(&lab.key),
        std::sync::Arc::new(routeros::Connections::new(
            routeros::Limits::default(),
            None,
        )),
    );
    let other = workflow::Workflow::new(fleet2, &lab.key, quick_config(), None);
    // Slow writes so the applies would overlap without the lock.
    lab.sim("r1").set_faults(Faults {
        latency_ms: 40,
        ..Faults::none()
    });
    let mut plans = Vec::new();
    for i in 0..6 {
        let p = lab
            .workflow
            .propose(
                &request(
                    "r1",
                    vec![
                        dns_add(&format!("p{i}-a.lan"), &format!("10.7.{i}.1")),
                        dns_add(&format!("p{i}-b.lan"), &format!("10.7.{i}.2")),
                    ],
                ),
                &lab.ctx(),
            )
            .await
            .unwrap();
        plans.push((p.plan.id.clone(), p.auto_approval.unwrap().approval_token));
    }
    let ctx = lab.ctx();
    let runs = plans.iter().enumerate().map(|(i, (id, token))| {
        let engine = if i % 2 == 0 { &lab.workflow } else { &other };
        let ctx = ctx.clone();
        async move { engine.apply(id, token, &ctx).await }
    });
    let reports = futures::future::join_all(runs).await;
    for r in &reports {
        assert_eq!(r.as_ref().unwrap().status, PlanStatus::Applied, "{r:?}");
    }
    let mut windows = Vec::new();
    for (id, _) in &plans {
        let journal = lab.workflow.journal(id).await.unwrap();
        let lock = journal.iter().find(|e| e.step == "lock").unwrap();
        let unlock = journal.iter().find(|e| e.step == "unlock").unwrap();
        windows.push((lock.at.clone(), unlock.at.clone(), lock.instance.clone()));
    }
    windows.sort();
    for pair in windows.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "lock windows overlap: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    let instances: std::collections::BTreeSet<_> = windows.iter().map(|w| w.2.clone()).collect();
    assert_eq!(instances.len(), 2, "both engines applied plans");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_silent_through_the_rollback_is_recorded_when_it_answers_again() {
    let config = workflow::WorkflowConfig {
        // Changes are sent only while more than 3 s of it is left (the 2 s a lab call may take,
        // and the second RouterOS rounds the entry's start time down by).
        confirm_timeout: Duration::from_secs(5),
        rollback_timeout: Duration::from_secs(1),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let before = lab.config("r1");
    let p = propose_ether1_down(&lab).await;
    let token = lab.approve(&p.plan.id).await;
    // Once ether1 is down the router also stops answering altogether (a power cut, say) and
    // stays silent past the server's rollback window; its own auto-revert still runs.
    let sim = lab.sim("r1");
    let watcher = {
        let sim = sim.clone();
        tokio::spawn(async move {
            for _ in 0..400 {
                if lab_iface_disabled(&sim, "ether1") {
                    sim.set_faults(Faults {
                        hang: true,
                        ..Faults::none()
                    });
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            false
        })
    };
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert!(watcher.await.unwrap(), "ether1 was disabled");
    assert_eq!(report.status, PlanStatus::Failed, "{report:?}");
    assert!(
        lab.workflow.reconcile(&lab.ctx()).await.unwrap().is_empty(),
        "nothing to record while the router is silent"
    );
    // The auto-revert fired on the router; then it answers again.
    for _ in 0..100 {
        if !lab_iface_disabled(&sim, "ether1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sim.set_faults(Faults::none());
    assert_eq!(lab.config("r1"), before, "the router restored itself");
    let reports = lab.workflow.reconcile(&lab.ctx()).await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].status, PlanStatus::RolledBack);
    assert!(
        reports[0].devices[0].contains("as before the plan"),
        "{reports:?}"
    );
    let stored = lab.workflow.plan(&p.plan.id).await.unwrap();
    assert_eq!(stored.status, PlanStatus::RolledBack);
    assert_eq!(
        stored.outcome.as_ref().unwrap()["devices"][0]["result"],
        "rolled_back"
    );
    assert!(lab.workflow.reconcile(&lab.ctx()).await.unwrap().is_empty());
    let audit = lab
        .fleet
        .store()
        .audit_events(&store::AuditFilter {
            target: Some(format!("plan:{}", p.plan.id)),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "plan.reconcile");
    lab.stop().await;
}

fn lab_iface_disabled(sim: &routeros_sim::SimDevice, name: &str) -> bool {
    let dump = serde_json::to_value(sim.state_dump(false)).unwrap();
    dump["/interface/ethernet"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == name && i["disabled"] == "true")
}

/// A plan disabling r1's ether1, the interface the server reaches it through.
async fn propose_ether1_down(lab: &Lab) -> workflow::Proposal {
    lab.workflow
        .propose(
            &request(
                "r1",
                vec![ChangeRequest {
                    menu: "interface".into(),
                    op: Op::Disable {
                        target: Selector::Where(props(&[("name", "ether1")])),
                    },
                }],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap()
}
