//! `config.plan_restore`: a plan that takes a router back to a stored snapshot — the snapshot's
//! text goes through the restore engine ([`super::restore::propose_restore`]), which compares
//! every menu desired state covers with the router and proposes the differences as one plan,
//! approved and applied like any other. Never a blind `/import`: what the snapshot holds outside
//! those menus is named in `not_covered`, not restored. The snapshot's device is the router; a
//! snapshot of a device the caller cannot see is answered as one that does not exist.

use serde::Deserialize;

use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    snapshot_id: String,
}

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("config.plan_restore", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let (row, device) = super::visible_snapshot(&ctx, &p.snapshot_id).await?;
    let export = ctx.backups().content(&row)?;
    super::restore::propose_restore(
        &ctx,
        &caller,
        "config.plan_restore",
        format!("Restore {} to snapshot {} ({})", device.name, row.id, row.taken_at),
        &device.id.to_string(),
        &export,
    )
    .await
}
