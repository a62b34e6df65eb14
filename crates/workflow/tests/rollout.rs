//! Staged rollouts over simulated fleets (canary, waves, soak, health gates, halt-and-revert,
//! pause/resume/abort, recovery after a restart) and the per-device capability flags checked
//! when a plan is proposed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use domain::Environment;
use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use serde_json::Value;
use store::{AuditFilter, DevicePatch};
use support::{Lab, dns_add, props, quick_config};
use workflow::rollout::{DeviceState, Phase};
use workflow::{
    ChangeRequest, DeviceRequest, Op, PlanRequest, PlanStatus, RolloutSpec, Selector, Workflow,
    WorkflowConfig, WorkflowError,
};

/// The same changes on every named router, in order (the first is the canary).
fn everywhere(names: &[String], title: &str, changes: &[ChangeRequest]) -> PlanRequest {
    PlanRequest {
        title: title.into(),
        tool: "plan.create".into(),
        devices: names
            .iter()
            .map(|n| DeviceRequest {
                device: n.clone(),
                changes: changes.to_vec(),
            })
            .collect(),
    }
}

fn spec(wave_size: Option<u32>, waves: Option<Vec<u8>>, soak: u64) -> RolloutSpec {
    RolloutSpec::new(wave_size, waves, Some(soak), None).unwrap()
}

/// Waits until the rollout's recorded progress satisfies `ready` (at most 60 s).
async fn wait_for(
    wf: &Workflow,
    plan: &str,
    what: &str,
    ready: impl Fn(&workflow::Progress) -> bool,
) -> workflow::Progress {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(p) = wf.rollout_of(plan).await.unwrap().and_then(|r| r.progress)
            && ready(&p)
        {
            return p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rollout never reached: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn states(p: &workflow::Progress) -> Vec<(String, DeviceState)> {
    p.devices
        .iter()
        .map(|d| (d.device.clone(), d.state))
        .collect()
}

async fn audited(lab: &Lab, action: &str) -> Vec<Value> {
    lab.fleet
        .store()
        .audit_events(&AuditFilter {
            action: Some(action.into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.details)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_routers_halt_when_router_23_fails_its_gate_and_only_changed_ones_are_reverted() {
    let lab = Lab::start(&[Profile::Home; 50]).await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    // An address list kept in sync across the fleet.
    let request = everywhere(
        &lab.names,
        "block a scanner everywhere",
        &[ChangeRequest {
            menu: "ip/firewall/address-list".into(),
            op: Op::Add {
                props: props(&[("list", "blocked"), ("address", "203.0.113.66")]),
                place_before: None,
            },
        }],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(None, Some(vec![10, 50, 100]), 2), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    let token = lab.approve(&id).await;
    let wf = lab.workflow.clone();
    let ctx = lab.ctx();
    let (id2, token2) = (id.clone(), token.clone());
    let apply = tokio::spawn(async move { wf.apply(&id2, &token2, &ctx).await });

    // Wave 2 (routers 6–25) is applied and soaking: router 23 stops answering.
    let p = wait_for(&lab.workflow, &id, "wave 2 soaking", |p| {
        p.wave == 2 && p.phase == Phase::Soaking
    })
    .await;
    assert_eq!(p.waves, 4);
    assert_eq!(p.devices[22].device, "r23");
    assert_eq!(p.devices[22].state, DeviceState::Applied);
    assert_eq!(p.devices[25].state, DeviceState::Pending);
    lab.sim("r23").set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let p = wait_for(&lab.workflow, &id, "halted", |p| p.halted.is_some()).await;
    // It answers again, so its own revert can run.
    lab.sim("r23").set_faults(Faults::none());
    let halted = p.halted.clone().unwrap();
    assert!(halted.contains("after wave 2"), "{halted}");
    assert!(halted.contains("r23 reachable"), "{halted}");

    let report = apply.await.unwrap().unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{}", report.message);
    let p = lab
        .workflow
        .rollout_of(&id)
        .await
        .unwrap()
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(p.phase, Phase::Done);
    for (i, (name, state)) in states(&p).into_iter().enumerate() {
        let want = if i < 25 {
            DeviceState::Reverted
        } else {
            DeviceState::Untouched
        };
        assert_eq!(state, want, "{name}");
        assert_eq!(lab.config(&name), before[i], "{name} is not as before");
    }
    assert!(p.needs_attention.is_empty());
    // Every router was gated after the canary and after wave 1, changed or not.
    let plan = lab.workflow.plan(&id).await.unwrap();
    assert_eq!(plan.status, PlanStatus::RolledBack);
    // The canary ran before everything else.
    let journal = lab.workflow.journal(&id).await.unwrap();
    let first = journal.iter().find(|e| e.step == "lock").unwrap();
    assert_eq!(
        first.device_id.as_deref(),
        Some(plan.devices[0].device_id.to_string().as_str())
    );
    // Untouched routers were never locked, let alone written.
    for d in &plan.devices[25..] {
        let id = d.device_id.to_string();
        assert!(
            !journal
                .iter()
                .any(|e| e.device_id.as_deref() == Some(id.as_str())),
            "{} was touched",
            d.name
        );
    }
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_router_whose_revert_fails_ends_needing_attention() {
    let config = WorkflowConfig {
        confirm_timeout: Duration::from_secs(2),
        rollback_timeout: Duration::from_secs(3),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home; 4],
        store::testing::TestDatabase::sqlite(),
        config,
        Environment::Lab,
    )
    .await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    let request = everywhere(
        &lab.names,
        "nas everywhere",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 1), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    // Low risk in lab: approved by policy as proposed.
    let token = proposal.auto_approval.unwrap().approval_token;
    let wf = lab.workflow.clone();
    let ctx = lab.ctx();
    let id2 = id.clone();
    let apply = tokio::spawn(async move { wf.apply(&id2, &token, &ctx).await });
    wait_for(&lab.workflow, &id, "wave 1 soaking", |p| {
        p.wave == 1 && p.phase == Phase::Soaking
    })
    .await;
    // r2 stops answering for good: its gate fails, and so does its revert.
    lab.sim("r2").set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let report = apply.await.unwrap().unwrap();
    assert_eq!(report.status, PlanStatus::Failed, "{}", report.message);
    assert!(
        report.message.contains("needs attention: r2"),
        "{}",
        report.message
    );
    let p = lab
        .workflow
        .rollout_of(&id)
        .await
        .unwrap()
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(p.needs_attention, vec!["r2".to_owned()]);
    assert_eq!(
        states(&p),
        vec![
            ("r1".into(), DeviceState::Reverted),
            ("r2".into(), DeviceState::NeedsAttention),
            ("r3".into(), DeviceState::Untouched),
            ("r4".into(), DeviceState::Untouched),
        ]
    );
    assert_eq!(lab.config("r1"), before[0]);
    assert_eq!(lab.config("r3"), before[2]);
    assert_eq!(lab.config("r4"), before[3]);
    assert_eq!(
        lab.workflow.plan(&id).await.unwrap().status,
        PlanStatus::Failed
    );
    lab.sim("r2").set_faults(Faults::none());
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operators_pause_resume_and_abort_a_rollout_and_each_is_audited() {
    let lab = Lab::start(&[Profile::Home; 3]).await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    let request = everywhere(
        &lab.names,
        "nas everywhere",
        &[dns_add("nas.lan", "192.168.88.20")],
    );

    // Not a rollout: nothing to pause.
    let single = lab
        .workflow
        .propose(
            &everywhere(
                &lab.names[..1],
                "one",
                &[dns_add("one.lan", "192.168.88.21")],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let err = lab
        .workflow
        .pause(&single.plan.id, &lab.ctx())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a staged rollout"), "{err}");

    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 1), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    // Approved but not started: abort is refused, cancel is the way.
    let err = lab.workflow.abort(&id, &lab.ctx()).await.unwrap_err();
    assert!(err.to_string().contains("cancel it instead"), "{err}");
    let token = proposal.auto_approval.unwrap().approval_token;
    let wf = lab.workflow.clone();
    let ctx = lab.ctx();
    let id2 = id.clone();
    let apply = tokio::spawn(async move { wf.apply(&id2, &token, &ctx).await });

    wait_for(&lab.workflow, &id, "canary soaking", |p| {
        p.wave == 0 && p.phase == Phase::Soaking
    })
    .await;
    let operator = store::AuditContext::new("cli:alice");
    lab.workflow.pause(&id, &operator).await.unwrap();
    let err = lab.workflow.pause(&id, &operator).await.unwrap_err();
    assert!(err.to_string().contains("already paused"), "{err}");
    // The soak ends, the rollout holds: r2 does not start.
    let p = wait_for(&lab.workflow, &id, "paused", |p| p.phase == Phase::Paused).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let p2 = lab
        .workflow
        .rollout_of(&id)
        .await
        .unwrap()
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(p.devices[1].state, DeviceState::Pending);
    assert_eq!(p2.devices[1].state, DeviceState::Pending);
    assert_eq!(lab.config("r2"), before[1]);
    lab.workflow.resume(&id, &operator).await.unwrap();
    let err = lab.workflow.resume(&id, &operator).await.unwrap_err();
    assert!(err.to_string().contains("not paused"), "{err}");
    wait_for(&lab.workflow, &id, "wave 1 soaking", |p| {
        p.wave == 1 && p.phase == Phase::Soaking
    })
    .await;
    lab.workflow.abort(&id, &operator).await.unwrap();
    let err = lab.workflow.abort(&id, &operator).await.unwrap_err();
    assert!(
        err.to_string().contains("already being aborted") || err.to_string().contains("ended"),
        "{err}"
    );
    let report = apply.await.unwrap().unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{}", report.message);
    assert!(
        report.message.contains("aborted by cli:alice"),
        "{}",
        report.message
    );
    for (i, name) in lab.names.iter().enumerate() {
        assert_eq!(&lab.config(name), &before[i], "{name}");
    }
    let p = lab
        .workflow
        .rollout_of(&id)
        .await
        .unwrap()
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(
        states(&p),
        vec![
            ("r1".into(), DeviceState::Reverted),
            ("r2".into(), DeviceState::Reverted),
            ("r3".into(), DeviceState::Untouched),
        ]
    );
    // Ended: every control is refused, saying so.
    let err = lab.workflow.resume(&id, &operator).await.unwrap_err();
    assert!(err.to_string().contains("has ended"), "{err}");
    for action in ["plan.pause", "plan.resume", "plan.abort"] {
        let events = audited(&lab, action).await;
        assert_eq!(events.len(), 1, "{action}: {events:?}");
    }
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_firewall_rule_lands_at_the_same_position_on_every_router() {
    let lab = Lab::start(&[Profile::Home; 3]).await;
    // Before the first forward rule of each router, whatever its id there.
    let first_forward = |name: &str| {
        let cfg = lab.config(name);
        let rules = cfg["/ip/firewall/filter"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        rules
            .iter()
            .find(|r| r["chain"] == "forward" && r.get("dynamic").is_none_or(|d| d != "true"))
            .map(|r| r["comment"].as_str().unwrap_or_default().to_owned())
    };
    let anchor = first_forward("r1").expect("a forward rule with a comment");
    let request = everywhere(
        &lab.names,
        "drop a bad subnet first",
        &[ChangeRequest {
            menu: "ip/firewall/filter".into(),
            op: Op::Add {
                props: props(&[
                    ("chain", "forward"),
                    ("src-address", "198.51.100.0/24"),
                    ("action", "drop"),
                    ("comment", "rollout: bad subnet"),
                ]),
                place_before: Some(Selector::Where(props(&[("comment", &anchor)]))),
            },
        }],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 0), &lab.ctx())
        .await
        .unwrap();
    let token = lab.approve(&proposal.plan.id).await;
    let report = lab
        .workflow
        .apply(&proposal.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert_eq!(report.status, PlanStatus::Applied, "{}", report.message);
    for name in &lab.names {
        assert_eq!(
            first_forward(name).as_deref(),
            Some("rollout: bad subnet"),
            "{name}"
        );
    }
    let p = lab
        .workflow
        .rollout_of(&proposal.plan.id)
        .await
        .unwrap()
        .unwrap()
        .progress
        .unwrap();
    assert_eq!(p.phase, Phase::Done);
    assert!(p.devices.iter().all(|d| d.state == DeviceState::Applied));
    // Gates ran on every router after the canary and after wave 1.
    assert!(
        p.devices
            .iter()
            .all(|d| d.gates.iter().any(|g| g.gate == "cpu" && g.ok))
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rollout_interrupted_during_its_soak_is_reverted_at_the_next_start() {
    let lab = Lab::start(&[Profile::Home; 3]).await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    let request = everywhere(
        &lab.names,
        "nas everywhere",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 600), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    let token = proposal.auto_approval.unwrap().approval_token;
    let dying = lab.restart(quick_config());
    let ctx = lab.ctx();
    let id2 = id.clone();
    let apply = tokio::spawn(async move { dying.apply(&id2, &token, &ctx).await });
    wait_for(&lab.workflow, &id, "canary soaking", |p| {
        p.phase == Phase::Soaking
    })
    .await;
    assert_ne!(lab.config("r1"), before[0]);
    // The process dies mid-soak.
    apply.abort();
    let _ = apply.await;
    let reports = lab.workflow.recover(&lab.ctx()).await.unwrap();
    let report = reports.iter().find(|r| r.plan_id == id).unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{}", report.message);
    for (i, name) in lab.names.iter().enumerate() {
        assert_eq!(&lab.config(name), &before[i], "{name}");
    }
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_rollouts_are_refused_and_change_nothing() {
    let lab = Lab::start(&[Profile::Home; 2]).await;
    let one = everywhere(
        &lab.names[..1],
        "alone",
        &[dns_add("a.lan", "192.168.88.20")],
    );
    let err = lab
        .workflow
        .propose_rollout(&one, spec(Some(1), None, 1), &lab.ctx())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 2 devices"), "{err}");
    for (wave_size, waves) in [
        (Some(0), None),
        (None, Some(vec![50, 20, 100])),
        (None, Some(vec![10, 50])),
        (Some(3), Some(vec![100])),
    ] {
        assert!(RolloutSpec::new(wave_size, waves, None, None).is_err());
    }
    assert!(RolloutSpec::new(None, None, Some(86_400), None).is_err());
    assert!(
        lab.workflow
            .plans(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    // A plan id that does not exist.
    let err = lab
        .workflow
        .abort("no-such-plan", &lab.ctx())
        .await
        .unwrap_err();
    assert!(matches!(err, WorkflowError::PlanNotFound(_)), "{err}");
    lab.stop().await;
}

/// A route: high risk, so a professional plan.
fn route_add() -> ChangeRequest {
    ChangeRequest {
        menu: "ip/route".into(),
        op: Op::Add {
            props: props(&[
                ("dst-address", "10.99.0.0/24"),
                ("gateway", "192.168.88.254"),
            ]),
            place_before: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capability_flags_refuse_plans_a_device_does_not_allow_naming_the_flag() {
    let lab = Lab::start_with(
        &[Profile::Home; 2],
        store::testing::TestDatabase::sqlite(),
        quick_config(),
        Environment::Prod,
    )
    .await;
    let store = lab.fleet.store().clone();
    let r1 = store.find_device(None, "r1").await.unwrap();
    let ctx = lab.ctx();
    let plans = || async { lab.workflow.plans(&Default::default()).await.unwrap().len() };

    // Prod: basic writes yes, professional workflows no.
    let low = everywhere(
        &lab.names[..1],
        "nas",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    lab.workflow.propose(&low, &ctx).await.unwrap();
    let high = everywhere(&lab.names[..1], "a route", &[route_add()]);
    let err = lab.workflow.propose(&high, &ctx).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, WorkflowError::Refused(_)), "{text}");
    assert!(text.contains("needs professional capability"), "{text}");
    assert!(text.contains("the plan is high risk"), "{text}");
    assert!(
        text.contains("allow_professional_workflows is off (the default for prod devices)"),
        "{text}"
    );
    assert!(
        text.contains("--allow-professional-workflows true"),
        "{text}"
    );
    assert_eq!(plans().await, 1, "a refused plan is not stored");

    // An admin enables professional workflows on r1 only: r1 may, a rollout over both may not.
    store
        .update_device(
            &r1.id,
            &DevicePatch {
                allow_professional_workflows: Some(Some(true)),
                ..DevicePatch::default()
            },
            &store::AuditContext::new("cli:admin"),
        )
        .await
        .unwrap();
    lab.workflow.propose(&high, &ctx).await.unwrap();
    let both = everywhere(&lab.names, "a route everywhere", &[route_add()]);
    let err = lab.workflow.propose(&both, &ctx).await.unwrap_err();
    assert!(
        err.to_string().contains("device r2 does not allow"),
        "{err}"
    );
    assert!(!err.to_string().contains("device r1"), "{err}");

    // Basic writes switched off: even a static DNS entry is refused, naming that flag.
    store
        .update_device(
            &r1.id,
            &DevicePatch {
                allow_basic_writes: Some(Some(false)),
                ..DevicePatch::default()
            },
            &store::AuditContext::new("cli:admin"),
        )
        .await
        .unwrap();
    let err = lab.workflow.propose(&low, &ctx).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("needs basic capability"), "{text}");
    assert!(
        text.contains("allow_basic_writes is off (set by an admin)"),
        "{text}"
    );

    // A professional tool needs professional workflows whatever the plan's risk.
    let config = WorkflowConfig {
        tool_tiers: [("dns.add_static".to_owned(), domain::Tier::Professional)].into(),
        ..quick_config()
    };
    let engine = lab.restart(config);
    let mut by_tool = everywhere(
        &lab.names[1..],
        "nas",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    by_tool.tool = "dns.add_static".into();
    let err = engine.propose(&by_tool, &ctx).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("dns.add_static is a professional tool"),
        "{err}"
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_and_staging_allow_professional_plans_by_default() {
    for env in [Environment::Lab, Environment::Staging] {
        let lab = Lab::start_with(
            &[Profile::Home],
            store::testing::TestDatabase::sqlite(),
            quick_config(),
            env,
        )
        .await;
        let high = everywhere(&lab.names, "a route", &[route_add()]);
        let proposal = lab.workflow.propose(&high, &lab.ctx()).await.unwrap();
        assert!(proposal.plan.risk >= workflow::Risk::High, "{env}");
        lab.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgresql_a_paused_rollout_is_aborted_and_reverted() {
    let Some(db) = store::testing::TestDatabase::postgres("rollout_postgres").await else {
        return;
    };
    let lab = Lab::start_with(&[Profile::Home; 3], db, quick_config(), Environment::Lab).await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    let request = everywhere(
        &lab.names,
        "nas everywhere",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 1), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    let token = proposal.auto_approval.unwrap().approval_token;
    let wf = lab.workflow.clone();
    let ctx = lab.ctx();
    let id2 = id.clone();
    let apply = tokio::spawn(async move { wf.apply(&id2, &token, &ctx).await });
    wait_for(&lab.workflow, &id, "canary soaking", |p| {
        p.phase == Phase::Soaking
    })
    .await;
    let operator = store::AuditContext::new("cli:bob");
    lab.workflow.pause(&id, &operator).await.unwrap();
    wait_for(&lab.workflow, &id, "paused", |p| p.phase == Phase::Paused).await;
    let aborted = lab.workflow.abort(&id, &operator).await.unwrap();
    assert_eq!(aborted.control, workflow::Control::Aborting);
    assert_eq!(aborted.control_by.as_deref(), Some("cli:bob"));
    let report = apply.await.unwrap().unwrap();
    assert_eq!(report.status, PlanStatus::RolledBack, "{}", report.message);
    for (i, name) in lab.names.iter().enumerate() {
        assert_eq!(&lab.config(name), &before[i], "{name}");
    }
    lab.sims.shutdown().await;
    lab.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_edited_after_approval_void_the_approval() {
    let lab = Lab::start(&[Profile::Home; 2]).await;
    let before: Vec<Value> = lab.names.iter().map(|n| lab.config(n)).collect();
    let request = everywhere(
        &lab.names,
        "nas everywhere",
        &[dns_add("nas.lan", "192.168.88.20")],
    );
    let proposal = lab
        .workflow
        .propose_rollout(&request, spec(Some(1), None, 600), &lab.ctx())
        .await
        .unwrap();
    let id = proposal.plan.id.clone();
    let token = proposal.auto_approval.unwrap().approval_token;
    // Someone with database access shortens the soak to nothing.
    let edited = serde_json::to_string(&spec(Some(1), None, 0)).unwrap();
    sqlx::query("UPDATE plan_rollouts SET spec = $1 WHERE plan_id = $2")
        .bind(edited)
        .bind(&id)
        .execute(lab.fleet.store().pool())
        .await
        .unwrap();
    let err = lab
        .workflow
        .apply(&id, &token, &lab.ctx())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("changed after it was approved"),
        "{err}"
    );
    for (i, name) in lab.names.iter().enumerate() {
        assert_eq!(&lab.config(name), &before[i], "{name}");
    }
    lab.stop().await;
}
