//! `runbook.get`: one runbook — its front matter, variables, symptom, steps and the markdown.

use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    runbook: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("runbook.get", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let found = super::served(&ctx).await?.with(|index| index.get(&p.runbook).cloned());
    let Some(entry) = found else {
        return Err(ToolError::InvalidArguments(super::unknown(&p.runbook)));
    };
    let r = &entry.runbook;
    let m = &r.meta;
    Ok(ToolOutput::new(json!({
        "name": m.name,
        "title": m.title,
        "description": m.description,
        "version": m.version,
        "status": m.status,
        "tags": m.tags,
        "tier": m.tier,
        "risk": m.risk,
        "last_reviewed": m.last_reviewed,
        "stale": super::is_stale(&m.last_reviewed),
        "cooldown": m.cooldown.as_ref().map(|c| c.text.clone()),
        "variables": m.variables.iter().map(|v| json!({
            "name": v.name,
            "type": v.var_type,
            "description": v.description,
            "required": v.required,
            "default": if v.secret { None } else { v.default.clone() },
            "secret": v.secret,
        })).collect::<Vec<_>>(),
        "symptom": r.symptom,
        "hash": r.hash,
        "content": r.source,
    })))
}
