//! `plan.rollback`: proposes undoing an applied plan, as a new plan that needs its own approval.

use serde::Deserialize;

use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    plan_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("plan.rollback", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    crate::plan(&ctx, &p.plan_id).await?;
    let proposal = ctx
        .workflow
        .propose_rollback(p.plan_id.trim(), &caller.audit)
        .await?;
    Ok(ToolOutput::new(crate::proposal::view(
        &ctx,
        &proposal.plan,
        proposal.auto_approval.as_ref(),
    )))
}
