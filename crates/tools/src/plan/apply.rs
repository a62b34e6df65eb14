//! `plan.apply`: applies an approved plan with its approval token, device by device (canary
//! first), and reports what happened on each; a failure leaves every device as it was.

use serde::Deserialize;
use serde_json::json;

use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    plan_id: String,
    /// Absent only when the server obtained an approval through elicitation first.
    approval_token: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("plan.apply", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let plan_id = p.plan_id.trim();
    let plan = crate::plan(&ctx, plan_id).await?;
    let Some(token) = p.approval_token else {
        return Err(ToolError::Refused(format!(
            "plan {plan_id} ({}, risk {}) needs an approval token: a person approves it with `routeros-mcp plan approve {plan_id}` and gives you the token{}",
            plan.status,
            plan.risk,
            if ctx.workflow.config().policy(plan.environment).elicitation {
                "; this client could not be asked to approve it"
            } else {
                ""
            }
        )));
    };
    let report = ctx.workflow.apply(plan_id, &token, &caller.audit).await?;
    Ok(ToolOutput::new(json!({
        "plan_id": report.plan_id,
        "status": report.status,
        "message": report.message,
        "devices": report.devices,
        "duration_ms": report.duration_ms,
    })))
}
