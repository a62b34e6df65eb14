//! The test bench runbook runs share: simulated routers, a tool context serving the built-in
//! runbooks and a test's own, and an assistant that calls tools and approves and applies the
//! plans a run proposes (as the person it shows them to would).

use std::sync::Arc;

use domain::Tier;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use store::AuditContext;
use workflow::ApprovalVia;

use crate::testing::Harness;
use crate::{Caller, ToolError};

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
}
