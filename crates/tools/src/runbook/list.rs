//! `runbook.list`: the runbooks on offer, by name, with status, tier, risk, staleness and how the
//! runs of the version served ended (runs, success rate), and the files that could not be loaded
//! (with file, line and reason).

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
    let store = ctx.fleet.store();
    let tallies = store.runbook_run_tallies().await?;
    let (mut items, problems) = super::served(&ctx).await?.with(|index| {
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
                    "hash": e.runbook.hash,
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
    // How the runs of each runbook's served version ended.
    for item in &mut items {
        let (Some(name), Some(hash)) = (
            item.get("name").and_then(Value::as_str).map(str::to_owned),
            item.remove("hash").and_then(|h| h.as_str().map(str::to_owned)),
        ) else {
            continue;
        };
        let version = store.runbook_version_by_hash(&name, &hash).await?;
        let tally = version
            .as_ref()
            .and_then(|v| tallies.iter().find(|(id, _)| *id == v.id))
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        let runs = tally.succeeded + tally.failed;
        item.insert("runs".into(), json!(runs));
        item.insert(
            "success_rate".into(),
            if runs == 0 {
                Value::Null
            } else {
                json!((tally.succeeded as f64 / runs as f64 * 100.0).round() / 100.0)
            },
        );
    }
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
