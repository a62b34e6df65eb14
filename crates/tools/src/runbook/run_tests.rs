//! Runs against simulated routers: reads and gates, the run's writes as one plan approved once
//! and applied, prose handed over and reported, a failure stopping at its step with a log, the
//! cooldown and one active run per device.

use std::sync::Arc;

use domain::Tier;
use routeros_sim::faults::Faults;
use serde_json::{Value, json};
use store::AuditContext;

use super::lab::Lab;
use crate::Caller;

const IDENTITY_FIX: &str = r#"---
name: identity-fix
title: The router has the wrong name
description: The router's identity is not the one it should have. Checks it, sets it through an approved plan, and confirms it.
version: 1.0.0
status: published
tags: [identity]
tier: basic
risk: low
variables:
  device: {type: device, description: The router, required: true}
  identity: {type: string, description: The name it should have, required: true, example: core-1}
last_reviewed: 2026-12-06
cooldown: 10m
---
## Symptom
The router shows another name in Winbox and in the logs.

## Diagnosis
1. Read the router's overview: its identity is not the wanted one.
```tool system.get_overview
{"device_id": "{var.device}"}
```
```expect
/identity != "{var.identity}"
```

## Remediation
1. Set the identity.
```tool system.set_identity
{"device_id": "{var.device}", "name": "{var.identity}"}
```
2. Tell the team the router was renamed.

## Verify
1. The router has its name.
```tool system.get_overview
{"device_id": "{var.device}"}
```
```expect
/identity == "{var.identity}"
```
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_reads_proposes_one_plan_hands_over_prose_and_verifies() {
    let lab = Lab::start(&[("identity-fix.md", IDENTITY_FIX)]).await;
    let before = lab.identity().await;
    let started = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "core-7"}, "incident": "INC-42"}),
        )
        .await;
    assert_eq!(started["status"], "waiting_approval", "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    let steps = started["steps"].as_array().unwrap();
    assert_eq!(
        steps[0]["outcome"], "ok",
        "the diagnosis read ran: {started}"
    );
    assert_eq!(steps[0]["gate"]["passed"], true);
    assert_eq!(steps[1]["outcome"], "planned");
    let plan = &started["plan"];
    assert!(
        plan["title"].as_str().unwrap().contains(&run_id),
        "the plan is bound to the run: {plan}"
    );
    assert_eq!(
        lab.identity().await,
        before,
        "nothing changed before approval"
    );

    // Continuing before the plan is applied changes nothing and says what it waits for.
    let waiting = lab.ok("runbook.run", json!({"run_id": run_id})).await;
    assert_eq!(waiting["status"], "waiting_approval");
    assert!(
        waiting["next"].as_str().unwrap().contains("plan"),
        "{waiting}"
    );

    lab.approve_and_apply(plan).await;
    assert_eq!(lab.identity().await, "core-7");
    let handed = lab.ok("runbook.run", json!({"run_id": run_id})).await;
    assert_eq!(handed["status"], "waiting_assistant", "{handed}");
    assert!(
        handed["handed_over"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Tell the team"),
        "{handed}"
    );
    let done = lab
        .ok(
            "runbook.record_outcome",
            json!({"run_id": run_id, "outcome": "done", "notes": "posted in #netops"}),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["steps"].as_array().unwrap().last().unwrap()["gate"]["passed"],
        true
    );

    // The log: every step, the state before and after, and its diff.
    let row = lab
        .ctx
        .fleet
        .store()
        .runbook_run(&run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.incident.as_deref(), Some("INC-42"));
    let log: Vec<Value> = serde_json::from_str(&row.steps).unwrap();
    let outcomes: Vec<&str> = log.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "applied", "done", "ok"], "{log:#?}");
    assert!(
        row.state_diff.as_deref().unwrap().contains("core-7"),
        "{:?}",
        row.state_diff
    );

    // The cooldown stops a loop from running it again at once.
    let again = lab
        .call(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "core-8"}}),
        )
        .await
        .unwrap_err();
    assert!(again.to_string().contains("cooldown is 10m"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_gate_stops_the_run_at_its_step_and_says_why() {
    let lab = Lab::start(&[("identity-fix.md", IDENTITY_FIX)]).await;
    // The router already has the name: the runbook's premise does not hold.
    let current = lab.identity().await;
    let failed = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": current}}),
        )
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["step"], 1);
    assert_eq!(failed["failure"]["type"], "wrong_runbook");
    assert_eq!(failed["failure"]["improvable"], false);
    assert!(failed["plan"].is_null(), "no plan was proposed");

    // A device that refuses the server's login: permission_denied, not improvable.
    lab.h.sim("r1").set_faults(Faults {
        reject_auth: true,
        ..Faults::none()
    });
    let denied = lab
        .ok(
            "runbook.run",
            json!({"runbook": "high-cpu", "variables": {"device": "r1"}}),
        )
        .await;
    lab.h.sim("r1").set_faults(Faults::none());
    assert_eq!(denied["status"], "failed", "{denied}");
    assert_eq!(denied["failure"]["step"], 1, "{denied}");
    assert_eq!(denied["failure"]["type"], "permission_denied", "{denied}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_active_run_per_device_and_bad_input_changes_nothing() {
    let lab = Lab::start(&[("identity-fix.md", IDENTITY_FIX)]).await;
    let first = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "edge-1"}}),
        )
        .await;
    assert_eq!(first["status"], "waiting_approval");
    let busy = lab
        .call(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "edge-2"}}),
        )
        .await
        .unwrap_err();
    assert!(
        busy.to_string().contains(first["run_id"].as_str().unwrap()),
        "names the run in progress: {busy}"
    );
    // Other variables than the run's are refused when continuing.
    let other = lab
        .call(
            "runbook.run",
            json!({"run_id": first["run_id"], "variables": {"device": "r1", "identity": "edge-9"}}),
        )
        .await
        .unwrap_err();
    assert!(other.to_string().contains("not the ones run"), "{other}");
    for (args, says) in [
        (json!({}), "give runbook"),
        (
            json!({"runbook": "identity-fix", "run_id": "x"}),
            "give runbook",
        ),
        (
            json!({"runbook": "identity-fix", "variables": {}}),
            "device",
        ),
        (json!({"run_id": "no-such-run"}), "no runbook run"),
        (
            json!({"runbook": "identity-fix", "variables": {"device": "r9", "identity": "x"}}),
            "r9",
        ),
    ] {
        let e = lab.call("runbook.run", args.clone()).await.unwrap_err();
        assert!(e.to_string().contains(says), "{args}: {e}");
    }
    // Ending it frees the device.
    let ended = lab
        .ok(
            "runbook.record_outcome",
            json!({"run_id": first["run_id"], "outcome": "abandoned", "notes": "wrong router"}),
        )
        .await;
    assert_eq!(ended["status"], "abandoned");
    let next = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "edge-2"}}),
        )
        .await;
    assert_eq!(next["status"], "waiting_approval", "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verify_leads_to_a_proposal_served_only_once_a_person_approves_it() {
    // Version 1.0.0 checks the wrong thing after the change: its verify gate can never hold.
    // With its cooldown: a failed run blocks its own version, not the revision a person approved.
    let base = IDENTITY_FIX;
    let broken = wrong_verify(base);
    let lab = Lab::start(&[("identity-fix.md", &broken)]).await;
    let (started, failed) = run_past_the_change(&lab, "core-3").await;
    let run_id = started["run_id"].as_str().unwrap();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["type"], "runbook_insufficient");
    assert_eq!(failed["failure"]["improvable"], true);
    assert_eq!(failed["failure"]["step"], 4);
    assert!(
        failed["next"]
            .as_str()
            .unwrap()
            .contains("runbook.propose_revision")
    );

    // Bad proposals are refused and queue nothing.
    let fixed = base.replace("version: 1.0.0", "version: 1.0.1");
    for (content, says) in [
        (broken.clone(), "version is still 1.0.0"),
        (
            fixed.replace("name: identity-fix", "name: other-fix"),
            "keeps the name",
        ),
        (
            fixed.replace("status: published", "status: draft"),
            "status: published",
        ),
        (
            fixed.replace("system.get_overview", "system.get_everything"),
            "system.get_everything",
        ),
    ] {
        let e = lab
            .call(
                "runbook.propose_revision",
                json!({"run_id": run_id, "content": content}),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains(says), "{says}: {e}");
    }
    let store = lab.ctx.fleet.store();
    assert_eq!(
        store.runbook_review_stats().await.unwrap().pending_review,
        0
    );

    let proposed = lab
        .ok(
            "runbook.propose_revision",
            json!({"run_id": run_id, "content": fixed, "rationale": "the verify gate checked a name with .lan"}),
        )
        .await;
    assert_eq!(proposed["status"], "pending_review", "{proposed}");
    assert_eq!(proposed["generated_from_run"], run_id);
    let version_id = proposed["version_id"].as_str().unwrap().to_owned();

    // Not served before a person approves it: list, get and new runs see 1.0.0.
    let got = lab
        .ok("runbook.get", json!({"runbook": "identity-fix"}))
        .await;
    assert_eq!(got["version"], "1.0.0", "{got}");
    let listed = lab.ok("runbook.list", json!({})).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"] == "identity-fix")
            .all(|i| i["version"] == "1.0.0"),
        "{listed}"
    );

    // A person approves it: it is served, and the next run uses it and succeeds.
    store
        .runbook_review(
            &version_id,
            store::runbooks::ReviewDecision::Approve,
            "alice",
            Some("checks the real name now"),
            &AuditContext::new("alice"),
        )
        .await
        .unwrap();
    lab.ctx
        .runbooks
        .as_ref()
        .unwrap()
        .load_reviewed(store)
        .await
        .unwrap();
    let got = lab
        .ok("runbook.get", json!({"runbook": "identity-fix"}))
        .await;
    assert_eq!(got["version"], "1.0.1", "approved, it is served: {got}");
    // What changed since the last run, and how that version's runs went.
    let diff = lab
        .ok("runbook.diff", json!({"runbook": "identity-fix"}))
        .await;
    assert_eq!(diff["from"]["version"], "1.0.0", "{diff}");
    assert_eq!(diff["to"]["version"], "1.0.1");
    let unified = diff["unified"].as_str().unwrap();
    assert!(
        unified.contains("-/identity == \"{var.identity}.lan\"")
            && unified.contains("+/identity == \"{var.identity}\""),
        "{unified}"
    );
    let bad = lab
        .call(
            "runbook.diff",
            json!({"runbook": "identity-fix", "from": "../../etc"}),
        )
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("no version"), "{bad}");
    let next = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "core-4"}}),
        )
        .await;
    assert_eq!(
        next["version"], "1.0.1",
        "the approved revision runs at once: {next}"
    );
    assert_eq!(next["version_id"], version_id.as_str());
    lab.approve_and_apply(&next["plan"]).await;
    let next_id = next["run_id"].as_str().unwrap();
    lab.ok("runbook.run", json!({"run_id": next_id})).await;
    let done = lab
        .ok(
            "runbook.record_outcome",
            json!({"run_id": next_id, "outcome": "done"}),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let parent = store
        .runbook_version(started["version_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        parent.status, "deprecated",
        "approval deprecates the parent"
    );
}

/// What the model stub was sent: the `Authorization` header and the body of each request.
type Seen = Arc<std::sync::Mutex<Vec<(Option<String>, Value)>>>;

/// A local process speaking the chat-completions wire format: answers a request to categorise a
/// failure with `verdict`, every other with `answer`, and keeps what it was sent.
async fn model_stub(answer: String, verdict: &'static str) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let kept = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let kept = Arc::clone(&kept);
                let answer = if body.0["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("You classify"))
                {
                    verdict.to_owned()
                } else {
                    answer.clone()
                };
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    kept.lock().unwrap().push((auth, body.0));
                    axum::Json(json!({
                        "id": "chatcmpl-1", "object": "chat.completion", "model": "stub-model",
                        "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer}}],
                    }))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_model_drafts_a_revision_that_waits_for_review() {
    let no_cooldown = IDENTITY_FIX.replace("cooldown: 10m\n", "");
    let broken = wrong_verify(&no_cooldown);
    let fixed = no_cooldown.replace("version: 1.0.0", "version: 1.0.1");
    let (url, seen) = model_stub(
        format!("Here is the revision:\n```markdown\n{fixed}```\n"),
        "runbook_insufficient",
    )
    .await;
    let reviser = super::Reviser::new(
        &url,
        Some(secrecy::SecretString::from("sk-test-key".to_owned())),
        "stub-model",
    )
    .unwrap();
    let lab = Lab::start_with(&[("identity-fix.md", &broken)], Some(reviser)).await;
    let (started, failed) = run_past_the_change(&lab, "core-5").await;
    let run_id = started["run_id"].as_str().unwrap();
    assert_eq!(
        failed["failure"]["type"], "runbook_insufficient",
        "{failed}"
    );

    let store = lab.ctx.fleet.store();
    let proposal = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let queued = store
                .runbook_versions_in(&["pending_review"])
                .await
                .unwrap();
            if let Some(p) = queued.into_iter().next() {
                break p;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the drafted revision is queued");
    assert_eq!(proposal.version, "1.0.1");
    assert_eq!(proposal.proposed_by.as_deref(), Some("llm:stub-model"));
    assert_eq!(proposal.generated_from_run.as_deref(), Some(run_id));
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-key"));
    assert_eq!(body["model"], "stub-model");
    let asked = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        asked.contains("name: identity-fix") && asked.contains("the gate failed"),
        "{asked}"
    );
    // Not served before review.
    let got = lab
        .ok("runbook.get", json!({"runbook": "identity-fix"}))
        .await;
    assert_eq!(got["version"], "1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_that_does_not_validate_is_never_queued() {
    let no_cooldown = IDENTITY_FIX.replace("cooldown: 10m\n", "");
    let broken = wrong_verify(&no_cooldown);
    let (url, seen) = model_stub("I cannot help with that.".into(), "I do not know.").await;
    let reviser = super::Reviser::new(&url, None, "stub-model").unwrap();
    let lab = Lab::start_with(&[("identity-fix.md", &broken)], Some(reviser)).await;
    run_past_the_change(&lab, "core-6").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while seen.lock().unwrap().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the model was asked");
    assert!(
        seen.lock().unwrap()[0].0.is_none(),
        "no key configured, none sent"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let store = lab.ctx.fleet.store();
    assert_eq!(
        store.runbook_review_stats().await.unwrap().pending_review,
        0
    );
}

/// A runbook with a secret variable used in a tool step.
const WITH_SECRET: &str = r#"---
name: find-token
title: A leaked token in the log
description: Looks for a token in the router's log.
version: 1.0.0
status: published
tags: [log]
tier: free
risk: low
variables:
  device: {type: device, description: The router, required: true}
  token: {type: string, description: The token to look for, required: true, secret: true, example: abc}
last_reviewed: 2026-12-06
---
## Symptom
A token may have been written to the log.

## Diagnosis
1. Search the log for it.
```tool log.get_recent
{"device_id": "{var.device}", "message_contains": "{var.token}", "limit": 5}
```

## Remediation
Rotate the token.

## Verify
Check again.
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_logs_and_other_projects_cannot_reach_a_run() {
    let lab = Lab::start(&[("find-token.md", WITH_SECRET)]).await;
    let secret = "Tok-3xtremely-Secret";
    let run = lab
        .ok(
            "runbook.run",
            json!({"runbook": "find-token", "variables": {"device": "r1", "token": secret}}),
        )
        .await;
    assert_eq!(run["status"], "waiting_assistant", "{run}");
    assert!(!run.to_string().contains(secret), "{run}");
    let run_id = run["run_id"].as_str().unwrap();
    let log = super::execution_log(&lab.ctx, "find-token", run_id)
        .await
        .unwrap();
    assert!(!log.to_string().contains(secret), "{log}");
    assert_eq!(log["variables"]["token"], "(hidden)");
    // Secrets are never stored: continuing needs them again, and they must be the same.
    let again = lab
        .call(
            "runbook.record_outcome",
            json!({"run_id": run_id, "outcome": "done"}),
        )
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("give the same variables again"),
        "{again}"
    );
    let other = lab
        .call(
            "runbook.record_outcome",
            json!({"run_id": run_id, "outcome": "done", "variables": {"device": "r1", "token": "guess"}}),
        )
        .await
        .unwrap_err();
    assert!(other.to_string().contains("not the ones run"), "{other}");

    // A principal of another project: the run does not exist for them.
    let stranger = lab.ctx.for_call(crate::Access::new(
        Arc::new(auth::Principal {
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
    let hidden = super::execution_log(&stranger, "find-token", run_id)
        .await
        .unwrap_err();
    assert!(hidden.to_string().contains("no runbook run"), "{hidden}");
    let handler = crate::handlers()
        .into_iter()
        .find(|h| h.name == "runbook.run")
        .unwrap();
    let caller = Caller::new("test:mallory").with_tiers(vec![Tier::Free, Tier::Basic]);
    let refused = (handler.run)(stranger.clone(), json!({"run_id": run_id}), caller.clone())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("no runbook run"), "{refused}");
    let started = (handler.run)(
        stranger,
        json!({"runbook": "find-token", "variables": {"device": "r1", "token": "x"}}),
        caller,
    )
    .await
    .unwrap_err();
    assert!(started.to_string().contains("r1"), "{started}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_files_a_failure_and_its_category_decides() {
    // The rules file a failed verify gate as runbook_insufficient; the model says the symptom
    // was misread, which a revision cannot fix: its category is recorded and nothing is drafted.
    let base = IDENTITY_FIX.replace("cooldown: 10m\n", "");
    let broken = wrong_verify(&base);
    let (url, seen) = model_stub(
        format!(
            "```markdown\n{}```\n",
            base.replace("version: 1.0.0", "version: 1.0.1")
        ),
        "wrong_diagnosis: the router was renamed on purpose.",
    )
    .await;
    let reviser = super::Reviser::new(&url, None, "stub-model").unwrap();
    let lab = Lab::start_with(&[("identity-fix.md", &broken)], Some(reviser)).await;
    let (started, failed) = run_past_the_change(&lab, "core-9").await;
    let run_id = started["run_id"].as_str().unwrap();
    assert_eq!(failed["failure"]["type"], "runbook_insufficient");
    let store = lab.ctx.fleet.store();
    let by_model = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let Some(c) = store.runbook_run_model_category(run_id).await.unwrap() {
                break c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the model's category is recorded");
    assert_eq!(by_model, "wrong_diagnosis");
    let log = super::execution_log(&lab.ctx, "identity-fix", run_id)
        .await
        .unwrap();
    assert_eq!(log["failure"]["type_by_model"], "wrong_diagnosis", "{log}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "asked to categorise only, not to draft"
    );
    assert_eq!(
        store.runbook_review_stats().await.unwrap().pending_review,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_the_deployment_hides_cannot_run_as_a_step() {
    let lab = Lab::start(&[("identity-fix.md", IDENTITY_FIX)]).await;
    let handler = crate::handlers()
        .into_iter()
        .find(|h| h.name == "runbook.run")
        .unwrap();
    let caller = Caller {
        policy: Some(Arc::new(catalog::Policy {
            tiers: vec![Tier::Free, Tier::Basic, Tier::Professional],
            session_tier: Tier::Professional,
            read_only: false,
            disabled: vec!["system.get_overview".into()],
        })),
        ..Caller::new("test:assistant").with_tiers(vec![Tier::Free, Tier::Basic])
    };
    let failed = (handler.run)(
        lab.ctx.clone(),
        json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": "core-2"}}),
        caller,
    )
    .await
    .unwrap()
    .structured;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["step"], 1);
    assert_eq!(failed["failure"]["type"], "permission_denied");
    assert!(
        failed["failure"]["reason"]
            .as_str()
            .unwrap()
            .contains("MCP_DISABLE_TOOLS"),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_already_in_place_is_done_and_the_run_goes_on() {
    // Without the diagnosis gate: the router may already have the name.
    let ungated = IDENTITY_FIX
        .replace("```expect\n/identity != \"{var.identity}\"\n```\n", "")
        .replace("2. Tell the team the router was renamed.\n", "");
    assert!(!ungated.contains("!="), "the gate is gone");
    let lab = Lab::start(&[("identity-fix.md", &ungated)]).await;
    let current = lab.identity().await;
    let done = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": current}}),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "in one call, no plan: {done}");
    assert!(done["plan"].is_null());
    let log = super::execution_log(&lab.ctx, "identity-fix", done["run_id"].as_str().unwrap())
        .await
        .unwrap();
    let write = &log["steps"][1];
    assert_eq!(write["outcome"], "applied", "{log}");
    assert!(
        write["note"]
            .as_str()
            .unwrap()
            .contains("nothing to change"),
        "{write}"
    );
}

/// Runs identity-fix to rename r1 to `identity`: the run's plan approved and applied, the
/// prose reported done; the first answer and the last (after the verify step).
async fn run_past_the_change(lab: &Lab, identity: &str) -> (Value, Value) {
    let started = lab
        .ok(
            "runbook.run",
            json!({"runbook": "identity-fix", "variables": {"device": "r1", "identity": identity}}),
        )
        .await;
    lab.approve_and_apply(&started["plan"]).await;
    lab.ok("runbook.run", json!({"run_id": started["run_id"]}))
        .await;
    let last = lab
        .ok(
            "runbook.record_outcome",
            json!({"run_id": started["run_id"], "outcome": "done"}),
        )
        .await;
    (started, last)
}

/// `text` whose verify gate looks for a name with `.lan`, which the router never has: runs of
/// it fail after the change, as `runbook_insufficient`.
fn wrong_verify(text: &str) -> String {
    text.replace(
        "/identity == \"{var.identity}\"",
        "/identity == \"{var.identity}.lan\"",
    )
}
