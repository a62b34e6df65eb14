//! `runbook.propose_revision`: the assistant proposes an improved version of a runbook after a
//! run of it failed in a way a better runbook would avoid. The proposal is checked like every
//! runbook and enters the review queue; a person approves or rejects it (`/api/review`,
//! `routeros-mcp runbook review`), and until then it is never served or run.

use serde::Deserialize;
use serde_json::json;

use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    run_id: String,
    content: String,
    rationale: Option<String>,
}

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("runbook.propose_revision", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let runbooks = super::served(&ctx).await?;
    // Read through the run's own checks: the caller must see its device.
    let resumed = super::run::resume_row(&ctx, &p.run_id).await?;
    let store = ctx.fleet.store();
    let lesson = super::proposals::lesson(store, resumed).await?;
    let proposed_by = format!("assistant:{}", caller.audit.actor);
    let row = super::proposals::propose(
        store,
        runbooks,
        &lesson,
        &p.content,
        p.rationale.as_deref(),
        &proposed_by,
        &caller.audit,
    )
    .await?;
    let mut out = super::proposals::view(&row);
    out["next"] = json!(format!(
        "Proposed for review as version {} ({}); a person with the approver role reviews it \
         (`routeros-mcp runbook review show {}`). It is not used until approved.",
        row.version,
        row.priority.as_deref().unwrap_or("low"),
        row.id
    ));
    Ok(ToolOutput::new(out))
}
