//! The plan lifecycle through the engine: every refused transition a caller can provoke names
//! the plan, its status and what to do instead, and changes nothing; a journal step this server
//! does not know stops recovery of that plan only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use store::AuditContext;
use support::{Lab, props, quick_config};
use workflow::{
    ApprovalVia, ChangeRequest, DeviceRequest, Op, PlanRequest, PlanStatus, WorkflowError,
};

fn dns(name: &str) -> PlanRequest {
    PlanRequest {
        title: format!("add {name}"),
        tool: "test".into(),
        devices: vec![DeviceRequest {
            device: "r1".into(),
            changes: vec![ChangeRequest {
                menu: "ip/dns/static".into(),
                op: Op::Add {
                    props: props(&[("name", name), ("address", "10.0.0.1")]),
                    place_before: None,
                },
            }],
        }],
    }
}

fn refused(e: WorkflowError, expected: &str) {
    assert!(
        matches!(e, WorkflowError::Refused(_)) && e.to_string() == expected,
        "got {e:?}, want {expected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_transition_says_why_and_changes_nothing() {
    let lab = Lab::start(&[routeros_sim::profiles::Profile::Home]).await;
    let cli = AuditContext::new("cli:alice");
    let wf = &lab.workflow;

    // Cancel an applied plan.
    let applied = wf.propose(&dns("a.lan"), &lab.ctx()).await.unwrap();
    let token = applied.auto_approval.unwrap().approval_token;
    wf.apply(&applied.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    let id = &applied.plan.id;
    // The ended plan's lock file is gone; the router's stays (one per router, reused).
    let locks = lab
        .db
        .sqlite_path()
        .unwrap()
        .with_file_name("registry.sqlite.locks");
    assert_eq!(std::fs::read_dir(&locks).unwrap().count(), 1, "{locks:?}");
    refused(
        wf.cancel(id, &cli).await.unwrap_err(),
        &format!(
            "plan {id} is applied and cannot be cancelled: it has ended; propose the change again to make it anew"
        ),
    );
    refused(
        wf.reject(id, "cli:alice", "too late", &cli)
            .await
            .unwrap_err(),
        &format!(
            "plan {id} is applied and cannot be rejected: it has ended; propose the change again to make it anew"
        ),
    );
    refused(
        wf.approve(id, "cli:alice", ApprovalVia::Cli, &cli)
            .await
            .unwrap_err(),
        &format!(
            "plan {id} is applied and cannot be approved: it has ended; propose the change again to make it anew"
        ),
    );
    assert_eq!(wf.plan(id).await.unwrap().status, PlanStatus::Applied);

    // Approve a rejected one.
    let rejected = wf.propose(&dns("b.lan"), &lab.ctx()).await.unwrap();
    let id = &rejected.plan.id;
    wf.reject(id, "cli:alice", "not now", &cli).await.unwrap();
    refused(
        wf.approve(id, "cli:alice", ApprovalVia::Cli, &cli)
            .await
            .unwrap_err(),
        &format!(
            "plan {id} is rejected and cannot be approved: a rejected or cancelled plan stays so; propose the change again"
        ),
    );
    assert_eq!(wf.plan(id).await.unwrap().status, PlanStatus::Rejected);

    // Apply a cancelled one, with the token it was approved with.
    let cancelled = wf.propose(&dns("c.lan"), &lab.ctx()).await.unwrap();
    let id = &cancelled.plan.id;
    let token = cancelled.auto_approval.unwrap().approval_token;
    wf.cancel(id, &cli).await.unwrap();
    refused(
        wf.apply(id, &token, &lab.ctx()).await.unwrap_err(),
        &format!(
            "plan {id} is cancelled and cannot be applied: a rejected or cancelled plan stays so; propose the change again"
        ),
    );
    assert_eq!(wf.plan(id).await.unwrap().status, PlanStatus::Cancelled);
    let dump = serde_json::to_string(&lab.sim("r1").state_dump(false)).unwrap();
    assert!(!dump.contains("c.lan"), "nothing reached the router");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_journal_step_stops_recovery_of_that_plan_only() {
    let lab = Lab::start(&[routeros_sim::profiles::Profile::Home]).await;
    let store = lab.fleet.store().clone();
    let mut ids = Vec::new();
    for name in ["odd.lan", "fine.lan"] {
        let p = lab.workflow.propose(&dns(name), &lab.ctx()).await.unwrap();
        // As if a server died right after it marked the plan applying.
        sqlx::query("UPDATE plans SET status = 'applying' WHERE id = $1")
            .bind(&p.plan.id)
            .execute(store.pool())
            .await
            .unwrap();
        ids.push(p.plan.id.clone());
    }
    let device = lab.workflow.plan(&ids[0]).await.unwrap().devices[0].device_id;
    sqlx::query(
        "INSERT INTO plan_journal (plan_id, device_id, seq, step, detail, instance, at) \
         VALUES ($1, $2, NULL, 'teleport', '{}', 'elsewhere', '2026-01-01T00:00:00Z')",
    )
    .bind(&ids[0])
    .bind(device.to_string())
    .execute(store.pool())
    .await
    .unwrap();
    let reports = lab
        .restart(quick_config())
        .recover(&lab.ctx())
        .await
        .unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let odd = reports.iter().find(|r| r.plan_id == ids[0]).unwrap();
    assert_eq!(odd.status, PlanStatus::Applying);
    assert!(
        odd.message.contains("the step \"teleport\"")
            && odd.message.contains("which this server does not know")
            && odd.message.contains("recovery of this plan stopped"),
        "{odd:?}"
    );
    assert_eq!(
        lab.workflow.plan(&ids[0]).await.unwrap().status,
        PlanStatus::Applying
    );
    let fine = reports.iter().find(|r| r.plan_id == ids[1]).unwrap();
    assert_eq!(fine.status, PlanStatus::RolledBack, "{fine:?}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approvers_comment_is_recorded_with_the_decision_and_must_be_printable() {
    let lab = Lab::start_with(
        &[routeros_sim::profiles::Profile::Home],
        store::testing::TestDatabase::sqlite(),
        quick_config(),
        domain::Environment::Prod,
    )
    .await;
    let wf = &lab.workflow;
    let plan = wf.propose(&dns("c.lan"), &lab.ctx()).await.unwrap().plan;
    assert_eq!(plan.status, PlanStatus::Pending);
    let alice = AuditContext::new("api:oidc:alice");
    let hidden = wf
        .approve_with_comment(
            &plan.id,
            "api:oidc:alice",
            ApprovalVia::Cli,
            Some("fine\u{1b}[2K"),
            &alice,
        )
        .await
        .unwrap_err();
    assert!(matches!(hidden, WorkflowError::Invalid(_)), "{hidden:?}");
    assert!(hidden.to_string().contains("U+001B"), "{hidden}");
    assert_eq!(wf.plan(&plan.id).await.unwrap().status, PlanStatus::Pending);

    wf.approve_with_comment(
        &plan.id,
        "api:oidc:alice",
        ApprovalVia::Cli,
        Some("checked with the site"),
        &alice,
    )
    .await
    .unwrap();
    let decisions = wf.decisions(&plan.id).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0]["by"], "api:oidc:alice");
    assert_eq!(decisions[0]["reason"], "checked with the site");
    let event = &lab
        .fleet
        .store()
        .audit_events(&store::AuditFilter {
            action: Some("plan.approve".into()),
            limit: 1,
            ..store::AuditFilter::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(event.details["comment"], "checked with the site");
    assert_eq!(event.correlation_id, alice.correlation_id.to_string());
    lab.stop().await;
}
