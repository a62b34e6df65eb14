//! Kill at every step: a three-router plan is applied by an engine that stops for good right
//! after its k-th journal row — the future is dropped as a killed process's would be, no cleanup
//! code runs — for every k from the first row to the last; then a new engine recovers. Every
//! router must end exactly as before the plan or exactly as planned (checked against the
//! campaign's independent model), all of them the same way, and the plan's final status must
//! say which. The tally of outcomes by the step the engine stopped after is printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use routeros_sim::profiles::Profile;
use store::testing::TestDatabase;
use support::model::{expected, first_difference, menus, stripped, without_derived};
use support::{Lab, props, quick_config};
use workflow::{ChangeRequest, DeviceRequest, Op, PlanRequest, PlanStatus, Selector, Workflow};

fn plan_request(names: &[String]) -> PlanRequest {
    PlanRequest {
        title: "three routers".into(),
        tool: "test".into(),
        devices: names
            .iter()
            .map(|n| DeviceRequest {
                device: n.clone(),
                changes: vec![
                    ChangeRequest {
                        menu: "ip/dns/static".into(),
                        op: Op::Add {
                            props: props(&[("name", "kill.lan"), ("address", "10.9.0.1")]),
                            place_before: None,
                        },
                    },
                    ChangeRequest {
                        menu: "interface".into(),
                        op: Op::Disable {
                            target: Selector::Where(props(&[("name", "ether5")])),
                        },
                    },
                ],
            })
            .collect(),
    }
}

/// One run: the engine stops after journal row `k`. `None` when the apply finished before.
async fn run(db: TestDatabase, k: usize) -> Option<(String, PlanStatus)> {
    let lab = Lab::start_with(
        &[Profile::Home, Profile::Home, Profile::Home],
        db,
        quick_config(),
        domain::Environment::Lab,
    )
    .await;
    let pre: Vec<BTreeMap<String, serde_json::Value>> =
        lab.names.iter().map(|n| menus(&lab.sim(n))).collect();
    let p = lab
        .workflow
        .propose(&plan_request(&lab.names), &lab.ctx())
        .await
        .unwrap();
    assert!(p.plan.arms_auto_revert(), "{:?}", p.plan.risk);
    let token = lab.approve(&p.plan.id).await;
    let (dying, halted) =
        Workflow::halting_after_journal_rows(lab.fleet.clone(), &lab.key, quick_config(), k);
    let ctx = lab.ctx();
    let apply = dying.apply(&p.plan.id, &token, &ctx);
    let finished = tokio::select! {
        r = apply => Some(r),
        () = halted.notified() => None,
    };
    if let Some(r) = finished {
        assert_eq!(r.unwrap().status, PlanStatus::Applied);
        lab.stop().await;
        return None;
    }
    drop(dying);
    let journal = lab.workflow.journal(&p.plan.id).await.unwrap();
    let last = journal.last().map(|e| e.step.clone()).unwrap_or_default();
    assert_eq!(journal.len(), k, "stopped right after row {k}");
    // A new server starts.
    let reports = tokio::time::timeout(
        Duration::from_secs(120),
        lab.restart(quick_config()).recover(&lab.ctx()),
    )
    .await
    .expect("recovery finishes")
    .unwrap();
    let status = lab.workflow.plan(&p.plan.id).await.unwrap().status;
    assert!(
        matches!(status, PlanStatus::Applied | PlanStatus::RolledBack),
        "after row {k} ({last}): {status}, {reports:?}"
    );
    let plan = lab.workflow.plan(&p.plan.id).await.unwrap();
    for (i, name) in lab.names.iter().enumerate() {
        let post = menus(&lab.sim(name));
        let device = plan.devices[i].device_id;
        let want = match status {
            PlanStatus::Applied => expected(&pre[i], &post, &plan, &device).unwrap(),
            _ => pre[i].clone(),
        };
        let got = stripped(&without_derived(&post));
        let want = stripped(&without_derived(&want));
        assert!(
            got == want,
            "after row {k} ({last}) the plan is {status} but {name} differs: {}",
            first_difference(&got, &want)
        );
    }
    lab.stop().await;
    Some((last, status))
}

async fn every_step(
    backend: &str,
    db: impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<TestDatabase>>>>,
) {
    let mut tally: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut k = 1;
    loop {
        let Some(db) = db().await else {
            return;
        };
        match run(db, k).await {
            Some((step, status)) => {
                *tally.entry((step, status.to_string())).or_default() += 1;
            }
            None => break,
        }
        k += 1;
        assert!(k < 200, "the apply never finished");
    }
    eprintln!(
        "kill at every step ({backend}): {} journal rows, the engine killed after each, then recovered:",
        k - 1
    );
    for ((step, status), n) in &tally {
        eprintln!("  after {step:<16} → {status:<11} ×{n}");
    }
    assert!(tally.keys().any(|(_, s)| s == "applied"));
    assert!(tally.keys().any(|(_, s)| s == "rolled_back"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_any_journal_step_every_router_ends_before_or_as_planned_sqlite() {
    every_step("SQLite", || {
        Box::pin(async { Some(TestDatabase::sqlite()) })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_any_journal_step_every_router_ends_before_or_as_planned_postgresql() {
    every_step("PostgreSQL", || {
        Box::pin(TestDatabase::postgres(
            "workflow::kill::killed_after_any_journal_step_every_router_ends_before_or_as_planned_postgresql",
        ))
    })
    .await;
}
