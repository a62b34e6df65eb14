//! The engine's part of the standing adversarial suite (docs/security.md lists the rest): who
//! may approve what, text that could spoof a plan, two server processes on one database, undoing
//! only what the plan wrote, and confirming an apply while its device-side auto-revert starts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use routeros_sim::Faults;
use routeros_sim::profiles::Profile;
use store::AuditContext;
use support::{Lab, dns_add, identity, props, quick_config};
use workflow::{
    ApprovalVia, ChangeRequest, DeviceRequest, Op, PlanRequest, PlanStatus, Risk, Selector,
    WorkflowError,
};

fn request(title: &str, device: &str, changes: Vec<ChangeRequest>) -> PlanRequest {
    PlanRequest {
        title: title.into(),
        tool: "test".into(),
        devices: vec![DeviceRequest {
            device: device.into(),
            changes,
        }],
    }
}

fn ether1_down() -> ChangeRequest {
    ChangeRequest {
        menu: "interface".into(),
        op: Op::Disable {
            target: Selector::Where(props(&[("name", "ether1")])),
        },
    }
}

fn input_accept(comment: &str) -> ChangeRequest {
    ChangeRequest {
        menu: "ip/firewall/filter".into(),
        op: Op::Add {
            props: props(&[
                ("chain", "input"),
                ("action", "accept"),
                ("src-address", "198.51.100.0/24"),
                ("comment", comment),
            ]),
            place_before: None,
        },
    }
}

fn sim_identity(lab: &Lab) -> String {
    lab.sim("r1").identity()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_but_an_operator_approves_a_high_or_critical_plan() {
    let lab = Lab::start(&[Profile::Home]).await;
    let critical = lab
        .workflow
        .propose(
            &request("take ether1 down", "r1", vec![ether1_down()]),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert_eq!(critical.plan.risk, Risk::Critical);
    assert!(critical.auto_approval.is_none());
    for via in [ApprovalVia::Elicitation, ApprovalVia::Policy] {
        let refused = lab
            .workflow
            .approve(
                &critical.plan.id,
                "mcp-elicitation-unverified:any-client",
                via,
                &AuditContext::new("mcp-elicitation-unverified:any-client"),
            )
            .await
            .unwrap_err();
        let text = refused.to_string();
        assert!(
            matches!(refused, WorkflowError::Refused(_))
                && text.contains("critical risk")
                && text.contains(&format!("routeros-mcp plan approve {}", critical.plan.id)),
            "{text}"
        );
    }
    assert_eq!(
        lab.workflow.plan(&critical.plan.id).await.unwrap().status,
        PlanStatus::Pending,
        "nothing was approved"
    );
    // Even a configuration that lists high risk for auto-approval cannot approve one.
    let mut permissive = quick_config();
    permissive.policies.insert(
        domain::Environment::Lab,
        workflow::ApprovalPolicy {
            auto_approve: vec![Risk::Low, Risk::Medium, Risk::High, Risk::Critical],
            elicitation: true,
        },
    );
    let engine = lab.restart(permissive);
    let high = engine
        .propose(
            &request("input rule", "r1", vec![input_accept("sec-high")]),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert!(high.plan.risk >= Risk::High, "{:?}", high.plan.risk);
    assert!(
        high.auto_approval.is_none(),
        "policy approved a {} plan",
        high.plan.risk
    );
    // The operator can.
    lab.approve(&critical.plan.id).await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_a_plan_are_refused_by_name_and_nothing_is_stored() {
    let lab = Lab::start(&[Profile::Home]).await;
    let cases = [
        (
            request(
                "Add a DNS entry\u{1b}[2K\r\u{1b}[1A risk low",
                "r1",
                vec![dns_add("a.lan", "10.0.0.1")],
            ),
            "the title contains the control character U+001B (ESC, a terminal escape) at position 15",
        ),
        (
            request("two\nlines", "r1", vec![dns_add("a.lan", "10.0.0.1")]),
            "U+000A (LF, a newline)",
        ),
        (
            request(
                "comment",
                "r1",
                vec![ChangeRequest {
                    menu: "ip/dns/static".into(),
                    op: Op::Add {
                        props: props(&[
                            ("name", "b.lan"),
                            ("address", "10.0.0.2"),
                            ("comment", "ok\u{202e}evil"),
                        ]),
                        place_before: None,
                    },
                }],
            ),
            "the value of comment contains the control character U+202E (a bidirectional override)",
        ),
    ];
    for (req, expected) in cases {
        let err = lab.workflow.propose(&req, &lab.ctx()).await.unwrap_err();
        assert!(
            matches!(err, WorkflowError::Invalid(_)) && err.to_string().contains(expected),
            "{err}"
        );
    }
    assert!(
        lab.workflow
            .plans(&workflow::PlanFilter {
                status: None,
                device_id: None,
                limit: 10
            })
            .await
            .unwrap()
            .is_empty(),
        "no plan was stored"
    );
    lab.stop().await;
}

/// Two engines with their own in-process locks on one database are two server processes: the
/// second one's startup recovery must leave the first one's running apply alone.
async fn recovery_leaves_a_live_apply_alone(lab: Lab) {
    let before = lab.config("r1");
    let p = lab
        .workflow
        .propose(
            &request(
                "three entries",
                "r1",
                vec![
                    dns_add("s1.lan", "10.0.0.1"),
                    dns_add("s2.lan", "10.0.0.2"),
                    dns_add("s3.lan", "10.0.0.3"),
                ],
            ),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let token = lab.approve(&p.plan.id).await;
    lab.sim("r1").set_faults(Faults {
        latency_ms: 300,
        ..Faults::none()
    });
    let first = lab.workflow.clone();
    let id = p.plan.id.clone();
    let ctx = lab.ctx();
    let applying = tokio::spawn(async move { first.apply(&id, &token, &ctx).await });
    // Wait until the first process is writing.
    let started = Instant::now();
    while lab.workflow.plan(&p.plan.id).await.unwrap().status != PlanStatus::Applying {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never applying"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = lab.restart(quick_config());
    let reports = second.recover(&lab.ctx()).await.unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].status, PlanStatus::Applying, "{reports:?}");
    assert!(
        reports[0]
            .message
            .contains("another live server process is applying it"),
        "{reports:?}"
    );
    let report = tokio::time::timeout(Duration::from_secs(60), applying)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    lab.sim("r1").set_faults(Faults::none());
    assert_eq!(report.status, PlanStatus::Applied, "{report:?}");
    assert_eq!(
        lab.workflow.plan(&p.plan.id).await.unwrap().status,
        PlanStatus::Applied
    );
    assert_ne!(lab.config("r1"), before, "the router has the change");
    assert!(second.recover(&lab.ctx()).await.unwrap().is_empty());
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_one_sqlite_file_leaves_a_live_apply_alone() {
    recovery_leaves_a_live_apply_alone(Lab::start(&[Profile::Home]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_one_postgresql_database_leaves_a_live_apply_alone() {
    let Some(db) = store::testing::TestDatabase::postgres(
        "workflow::security::a_second_process_on_one_postgresql_database_leaves_a_live_apply_alone",
    )
    .await
    else {
        return;
    };
    let lab = Lab::start_with(
        &[Profile::Home],
        db,
        quick_config(),
        domain::Environment::Lab,
    )
    .await;
    recovery_leaves_a_live_apply_alone(lab).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_is_never_recorded_over_another_process_decision() {
    let lab = Lab::start(&[Profile::Home]).await;
    let p = lab
        .workflow
        .propose(
            &request("one entry", "r1", vec![dns_add("c1.lan", "10.0.0.9")]),
            &lab.ctx(),
        )
        .await
        .unwrap();
    let token = lab.approve(&p.plan.id).await;
    lab.sim("r1").set_faults(Faults {
        latency_ms: 150,
        ..Faults::none()
    });
    let first = lab.workflow.clone();
    let id = p.plan.id.clone();
    let ctx = lab.ctx();
    let applying = tokio::spawn(async move { first.apply(&id, &token, &ctx).await });
    let started = Instant::now();
    while lab.workflow.plan(&p.plan.id).await.unwrap().status != PlanStatus::Applying {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never applying"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Someone else records an outcome meanwhile (what a second process's recovery did before
    // plans had a lock of their own).
    let store = lab.fleet.store().clone();
    sqlx::query("UPDATE plans SET status = 'rolled_back' WHERE id = $1")
        .bind(&p.plan.id)
        .execute(store.pool())
        .await
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(60), applying)
        .await
        .unwrap()
        .unwrap();
    lab.sim("r1").set_faults(Faults::none());
    let err = result.unwrap_err();
    assert!(
        matches!(err, WorkflowError::Conflict(_))
            && err
                .to_string()
                .contains("it is rolled_back now, not applying"),
        "{err}"
    );
    lab.stop().await;
}

/// Starts an apply that the "server" abandons after its first write is journaled (the task is
/// aborted: no cleanup code runs, as with `kill -9`); returns the plan id.
async fn interrupted(lab: &Lab, changes: Vec<ChangeRequest>) -> String {
    let p = lab
        .workflow
        .propose(&request("interrupted", "r1", changes), &lab.ctx())
        .await
        .unwrap();
    let token = lab.approve(&p.plan.id).await;
    lab.sim("r1").set_faults(Faults {
        latency_ms: 200,
        ..Faults::none()
    });
    let engine = lab.workflow.clone();
    let id = p.plan.id.clone();
    let ctx = lab.ctx();
    let task = tokio::spawn(async move { engine.apply(&id, &token, &ctx).await });
    let started = Instant::now();
    loop {
        let journal = lab.workflow.journal(&p.plan.id).await.unwrap();
        if journal.iter().any(|e| e.step == "done") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no write");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    lab.sim("r1").set_faults(Faults::none());
    assert_eq!(
        lab.workflow.plan(&p.plan.id).await.unwrap().status,
        PlanStatus::Applying
    );
    p.plan.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_never_overwrites_what_a_person_changed_after_the_crash() {
    let lab = Lab::start(&[Profile::Home]).await;
    let original = sim_identity(&lab);
    let id = interrupted(
        &lab,
        vec![identity("planned-name"), dns_add("d1.lan", "10.0.0.1")],
    )
    .await;
    assert_eq!(sim_identity(&lab), "planned-name", "the first change ran");
    // A person fixes the router by hand before the server comes back.
    lab.sim("r1").write_state(|s| {
        let spec = routeros_sim::model::menu("/system/identity").unwrap();
        s.set_raw(spec, None, "name", "set-by-hand").unwrap();
    });
    let reports = lab
        .restart(quick_config())
        .recover(&lab.ctx())
        .await
        .unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].status, PlanStatus::Failed, "{reports:?}");
    assert!(
        reports[0].message.contains("left for a person")
            && reports[0].message.contains("\"set-by-hand\"")
            && reports[0].message.contains("\"planned-name\""),
        "{reports:?}"
    );
    assert_eq!(sim_identity(&lab), "set-by-hand", "not overwritten");
    assert_ne!(original, "set-by-hand");
    let journal = lab.workflow.journal(&id).await.unwrap();
    assert!(journal.iter().any(|e| e.step == "undo_skipped"));
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_removes_an_added_item_only_while_it_is_as_the_plan_wrote_it() {
    let lab = Lab::start(&[Profile::Home]).await;
    interrupted(
        &lab,
        vec![
            dns_add("e1.lan", "10.0.0.1"),
            dns_add("e2.lan", "10.0.0.2"),
            dns_add("e3.lan", "10.0.0.3"),
            dns_add("e4.lan", "10.0.0.4"),
        ],
    )
    .await;
    // A person edits the entry the plan added.
    let edited = lab.sim("r1").write_state(|s| {
        let spec = routeros_sim::model::menu("/ip/dns/static").unwrap();
        let item = s
            .items(spec)
            .find(|i| i.get("name") == Some("e1.lan"))
            .map(|i| i.id());
        if let Some(id) = item {
            s.set_raw(spec, Some(id), "address", "10.9.9.9").unwrap();
        }
        item.is_some()
    });
    assert!(edited, "the first entry was added before the interruption");
    let reports = lab
        .restart(quick_config())
        .recover(&lab.ctx())
        .await
        .unwrap();
    assert_eq!(reports[0].status, PlanStatus::Failed, "{reports:?}");
    assert!(
        reports[0].message.contains("was edited since"),
        "{reports:?}"
    );
    let dns = serde_json::to_value(lab.sim("r1").state_dump(false)).unwrap();
    let names: Vec<&str> = dns["/ip/dns/static"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(
        names.contains(&"e1.lan"),
        "the edited entry stays: {names:?}"
    );
    for gone in ["e2.lan", "e3.lan", "e4.lan"] {
        assert!(!names.contains(&gone), "{gone} was undone: {names:?}");
    }
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_revert_that_started_before_confirmation_means_rolled_back_not_applied() {
    let lab = Lab::start(&[Profile::Home]).await;
    let before = lab.config("r1");
    let p = lab
        .workflow
        .propose(
            &request("input rule", "r1", vec![input_accept("confirm-race")]),
            &lab.ctx(),
        )
        .await
        .unwrap();
    assert!(p.plan.arms_auto_revert(), "{:?}", p.plan.risk);
    let token = lab.approve(&p.plan.id).await;
    lab.sim("r1").set_faults(Faults {
        latency_ms: 200,
        ..Faults::none()
    });
    // The router's scheduler picks the auto-revert entry up (it counts a run) while the server
    // is still writing: by the time the server confirms, the revert has started.
    let sim = lab.sim("r1");
    let entry = workflow::script::entry_name(&p.plan.id);
    let watcher = tokio::spawn(async move {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let bumped = sim.write_state(|s| {
                let spec = routeros_sim::model::menu("/system/scheduler").unwrap();
                let id = s
                    .items(spec)
                    .find(|i| i.get("name") == Some(entry.as_str()))
                    .map(|i| i.id());
                match id {
                    Some(id) => s.set_raw(spec, Some(id), "run-count", "1").is_ok(),
                    None => false,
                }
            });
            if bumped {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    });
    let report = lab
        .workflow
        .apply(&p.plan.id, &token, &lab.ctx())
        .await
        .unwrap();
    assert!(watcher.await.unwrap(), "the entry was armed");
    lab.sim("r1").set_faults(Faults::none());
    assert_eq!(report.status, PlanStatus::RolledBack, "{report:?}");
    assert!(
        report
            .message
            .contains("auto-revert ran before the change could be confirmed"),
        "{report:?}"
    );
    assert_eq!(lab.config("r1"), before);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_auto_revert_entry_changes_nothing_when_it_runs() {
    use routeros::{DeviceCommand, MenuPath};
    let lab = Lab::start(&[Profile::Home]).await;
    let original = sim_identity(&lab);
    // What the engine arms for a plan that renamed the router.
    let change = workflow::Change {
        seq: 1,
        device_id: domain::DeviceId::new(),
        device_order: 0,
        menu: "system/identity".into(),
        action: workflow::Action::Set,
        target: None,
        write: workflow::model::Write {
            props: props(&[("name", "renamed")]),
            ..Default::default()
        },
        state_read: None,
        preconditions: vec![],
        inverse: vec![workflow::model::Inverse::Props {
            menu: "system/identity".into(),
            target: workflow::ItemRef::Singleton,
            set: props(&[("name", "restored")]),
            unset: vec![],
        }],
        description: "rename".into(),
    };
    let script = workflow::script::revert_script("p-1", &[&change], &|_| None);
    let (_, client) = lab.fleet.find(None, "r1").await.unwrap();
    let scheduler = MenuPath::parse("system/scheduler").unwrap();
    let scripts = MenuPath::parse("system/script").unwrap();
    let entry = client
        .add(
            &scheduler,
            &props(&[
                ("name", &workflow::script::entry_name("p-1")),
                ("interval", "1h"),
                ("on-event", "noop"),
            ]),
            None,
        )
        .await
        .unwrap();
    client
        .add(
            &scripts,
            &props(&[("name", "revert-p-1"), ("source", &script)]),
            None,
        )
        .await
        .unwrap();
    let run = || async {
        client
            .run(&DeviceCommand::RunScript {
                script: "revert-p-1".into(),
            })
            .await
            .unwrap()
    };
    // Confirmed (disabled): running it changes nothing, and the entry stays for the server.
    let id = routeros::RosId::parse(entry.get(".id").unwrap()).unwrap();
    client
        .set(&scheduler, Some(&id), &props(&[("disabled", "true")]))
        .await
        .unwrap();
    run().await;
    assert_eq!(sim_identity(&lab), original);
    assert!(client.get(&scheduler, &id).await.is_ok());
    // Not confirmed: it reverts and removes its entry.
    client
        .set(&scheduler, Some(&id), &props(&[("disabled", "false")]))
        .await
        .unwrap();
    run().await;
    assert_eq!(sim_identity(&lab), "restored");
    assert!(client.get(&scheduler, &id).await.is_err());
    lab.stop().await;
}
