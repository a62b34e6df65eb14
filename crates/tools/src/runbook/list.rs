//! `runbook.list`: the runbooks on offer, by name, with status, tier, risk and staleness, and the
//! files that could not be loaded (with file, line and reason).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    status: Option<String>,
    tag: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Most load problems shown.
const MAX_PROBLEMS: usize = 20;

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("runbook.list", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let (items, problems) = super::of(&ctx)?.with(|index| {
        let items: Vec<Map<String, Value>> = index
            .iter()
            .filter(|e| {
                p.status
                    .as_deref()
                    .is_none_or(|s| e.runbook.meta.status.to_string() == s)
            })
            .filter(|e| {
                p.tag
                    .as_deref()
                    .is_none_or(|t| e.runbook.meta.tags.iter().any(|x| x == t))
            })
            .map(|e| {
                let m = &e.runbook.meta;
                let origin = match e.origin {
                    ::runbook::Origin::BuiltIn => "built_in",
                    ::runbook::Origin::Operator { .. } => "operator",
                    ::runbook::Origin::Reviewed { .. } => "reviewed",
                };
                let v = json!({
                    "name": m.name,
                    "title": m.title,
                    "version": m.version,
                    "status": m.status,
                    "tags": m.tags,
                    "tier": m.tier,
                    "risk": m.risk,
                    "variables": m.variables.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
                    "last_reviewed": m.last_reviewed,
                    "stale": super::is_stale(&m.last_reviewed),
                    "origin": origin,
                });
                v.as_object().cloned().unwrap_or_default()
            })
            .collect();
        let problems: Vec<Value> = index
            .problems()
            .iter()
            .take(MAX_PROBLEMS)
            .map(|pr| json!({"file": pr.file, "line": pr.line, "reason": pr.reason}))
            .collect();
        (items, problems)
    });
    let mut extra = Map::new();
    extra.insert("not_loaded".into(), Value::Array(problems));
    crate::paging::list(
        crate::paging::scope(
            "runbook.list",
            &json!({"status": p.status, "tag": p.tag}),
        ),
        &crate::window(p.limit, p.cursor, None),
        items,
        extra,
    )
}
