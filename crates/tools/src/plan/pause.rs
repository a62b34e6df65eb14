//! `plan.pause`: pauses a staged rollout (see `workflow::rollout`).

use serde::Deserialize;

use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    plan_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("plan.pause", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let plan = crate::plan(&ctx, &p.plan_id).await?;
    ctx.workflow.pause(&plan.id, &caller.audit).await?;
    Ok(ToolOutput::new(crate::proposal::resource(&ctx, &plan.id).await?))
}
