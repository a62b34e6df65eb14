//! `plan.get`: one plan — its changes in RouterOS terms, risk, undo steps, approval state,
//! decisions and, once applied, what happened on each device.

use serde::Deserialize;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    plan_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("plan.get", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    Ok(ToolOutput::new(super::resource(&ctx, &p.plan_id).await?))
}
