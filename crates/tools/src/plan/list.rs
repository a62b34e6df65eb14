//! `plan.list`: plans, newest first, optionally by status or device.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use workflow::{PlanFilter, PlanStatus};

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    status: Option<String>,
    device_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// How many plans are read to page through (the newest).
const NEWEST: u32 = 1000;

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("plan.list", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let status = p
        .status
        .as_deref()
        .map(str::parse::<PlanStatus>)
        .transpose()
        .map_err(|e| ToolError::InvalidArguments(format!("status: {}", e.allowed)))?;
    let device_id = match &p.device_id {
        Some(d) => Some(crate::device(&ctx, d).await?.0.id),
        None => None,
    };
    let plans = ctx
        .workflow
        .plans(&PlanFilter {
            status,
            device_id,
            limit: NEWEST,
        })
        .await?;
    // Only plans of projects the caller holds a role in.
    let visible = match ctx.access.visible() {
        auth::ProjectSet::All => None,
        auth::ProjectSet::Only(_) => Some(
            ctx.fleet
                .store()
                .list_projects(None)
                .await?
                .into_iter()
                .filter(|p| ctx.access.sees(&p.reference()))
                .map(|p| p.id)
                .collect::<std::collections::HashSet<_>>(),
        ),
    };
    let items: Vec<Map<String, Value>> = plans
        .iter()
        .filter(|plan| visible.as_ref().is_none_or(|v| v.contains(&plan.project_id)))
        .map(|plan| {
            let v = json!({
                "plan_id": plan.id,
                "title": plan.title,
                "status": plan.status,
                "risk": plan.risk,
                "kind": plan.kind,
                "created_by": plan.created_by,
                "created_at": plan.created_at,
                "updated_at": plan.updated_at,
            });
            v.as_object().cloned().unwrap_or_default()
        })
        .collect();
    crate::paging::list(
        crate::paging::scope(
            "plan.list",
            &json!({"status": p.status, "device_id": p.device_id}),
        ),
        &crate::window(p.limit, p.cursor, None),
        items,
        Map::new(),
    )
}
