//! The test bench runbook runs share: simulated routers, a tool context serving the built-in
//! runbooks and a test's own, and an assistant that calls tools, approves and applies the plans a
//! run proposes (as the person it shows them to would) and reports on handed-over prose.

use std::sync::Arc;
use std::time::Duration;

use domain::Tier;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::AuditContext;
use workflow::ApprovalVia;

use crate::testing::{Harness, Options};
use crate::{Caller, ToolError};

/// How much faster the routers of [`Lab::fast`] run than the wall clock. Modest, because an
/// applied plan's auto-revert entry runs on the router's clock too: at 4, the 15 s it waits for
/// confirmation still leave the apply almost 4 s of real time.
const TIME_SCALE: f64 = 4.0;

pub(super) struct Lab {
    pub(super) h: Harness,
    pub(super) ctx: crate::Ctx,
    _dir: tempfile::TempDir,
}

impl Lab {
    /// A home router (`r1`) with `runbooks` in the operator's folder beside the built-ins.
    pub(super) async fn start(runbooks: &[(&str, &str)]) -> Self {
        Self::start_with(runbooks, None).await
    }

    /// [`Lab::start`] whose failed runs are sent to `reviser` (the operator's model endpoint).
    pub(super) async fn start_with(
        runbooks: &[(&str, &str)],
        reviser: Option<super::Reviser>,
    ) -> Self {
        Self::with(Harness::start(&[Profile::Home]).await, runbooks, reviser)
    }

    /// One router per profile and the built-in runbooks, the routers' clocks running
    /// [`TIME_SCALE`] times faster (a five-probe ping answers in a second), calls to them giving
    /// up after `timeout`.
    pub(super) async fn fast(profiles: &[Profile], timeout: Duration) -> Self {
        let options = Options {
            timeout,
            time_scale: TIME_SCALE,
            ..Options::default()
        };
        Self::with(Harness::start_with(profiles, options).await, &[], None)
    }

    fn with(h: Harness, runbooks: &[(&str, &str)], reviser: Option<super::Reviser>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in runbooks {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let catalog = Arc::new(catalog::Catalog::embedded().unwrap());
        let index = ::runbook::Index::load(Arc::clone(&catalog), Some(dir.path().to_path_buf()));
        assert_eq!(index.problems(), &[], "the test runbooks load");
        let mut runbooks = super::Runbooks::new(index, None, catalog);
        if let Some(r) = reviser {
            runbooks = runbooks.with_reviser(r);
        }
        let runbooks = Arc::new(runbooks);
        let ctx = Arc::new(crate::ToolContext {
            runbooks: Some(runbooks),
            ..(*h.ctx).clone()
        });
        Lab { h, ctx, _dir: dir }
    }

    pub(super) async fn call(&self, tool: &str, args: Value) -> Result<Value, ToolError> {
        if let Err(v) = self.h.catalog.validate_input(tool, &args) {
            panic!("{tool}: arguments its schema rejects: {v:?}");
        }
        let handler = crate::handlers()
            .into_iter()
            .find(|h| h.name == tool)
            .unwrap();
        let caller = Caller::new("test:assistant").with_tiers(vec![
            Tier::Free,
            Tier::Basic,
            Tier::Professional,
        ]);
        let out = (handler.run)(self.ctx.clone(), args, caller).await?;
        if let Err(v) = self.h.catalog.validate_output(tool, &out.structured) {
            panic!(
                "{tool}: a result its outputSchema rejects: {v:?}\n{}",
                out.structured
            );
        }
        Ok(out.structured)
    }

    pub(super) async fn ok(&self, tool: &str, args: Value) -> Value {
        self.call(tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }

    pub(super) async fn identity(&self) -> String {
        let overview = self
            .ok("system.get_overview", json!({"device_id": "r1"}))
            .await;
        overview["identity"].as_str().unwrap().to_owned()
    }

    /// Approves (unless policy did) and applies a plan the run proposed.
    pub(super) async fn approve_and_apply(&self, plan: &Value) {
        let token = match plan["approval"]["approval_token"].as_str() {
            Some(t) => t.to_owned(),
            None => {
                self.ctx
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
        let applied = self
            .ok(
                "plan.apply",
                json!({"plan_id": plan["plan_id"], "approval_token": token}),
            )
            .await;
        assert_eq!(applied["status"], "applied", "{applied}");
    }

    /// Starts a run of `runbook` with `variables`.
    pub(super) async fn run(&self, runbook: &str, variables: Value) -> Value {
        self.ok(
            "runbook.run",
            json!({"runbook": runbook, "variables": variables}),
        )
        .await
    }

    /// The assistant's next move on a run that waits: the proposed plan approved and applied,
    /// then the run continued; or the handed-over prose reported done.
    pub(super) async fn next(&self, answer: &Value) -> Value {
        let run_id = &answer["run_id"];
        match answer["status"].as_str() {
            Some("waiting_approval") => {
                self.approve_and_apply(&answer["plan"]).await;
                self.ok("runbook.run", json!({"run_id": run_id})).await
            }
            Some("waiting_assistant") => {
                self.ok(
                    "runbook.record_outcome",
                    json!({"run_id": run_id, "outcome": "done"}),
                )
                .await
            }
            _ => panic!("the run does not wait for the assistant: {answer}"),
        }
    }

    /// Follows a run to its end ([`Lab::next`] until it succeeds or fails); the last answer.
    pub(super) async fn finish(&self, mut answer: Value) -> Value {
        for _ in 0..64 {
            match answer["status"].as_str() {
                Some("succeeded" | "failed" | "abandoned") => return answer,
                _ => answer = self.next(&answer).await,
            }
        }
        panic!("the run did not end: {answer}")
    }

    /// The run's log as stored: one entry per step that ran, was planned, applied or reported.
    pub(super) async fn log(&self, answer: &Value) -> Vec<Value> {
        let row = self
            .ctx
            .fleet
            .store()
            .runbook_run(answer["run_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        serde_json::from_str(&row.steps).unwrap()
    }
}

/// The last log entry of step `n`.
pub(super) fn step(log: &[Value], n: u64) -> &Value {
    log.iter()
        .rev()
        .find(|e| e["step"] == n)
        .unwrap_or_else(|| panic!("no step {n} in the log: {log:#?}"))
}
