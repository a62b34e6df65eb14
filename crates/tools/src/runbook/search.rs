//! `runbook.search`: runbooks ranked for a description of a symptom, each with why it matched.

use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    query: String,
    limit: Option<u32>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("runbook.search", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let limit = usize::try_from(p.limit.unwrap_or(5)).unwrap_or(5);
    let hits = super::served(&ctx).await?.with(|index| index.search(&p.query, limit));
    let items: Vec<_> = hits
        .iter()
        .map(|h| {
            json!({
                "name": h.name,
                "title": h.title,
                "score": h.score,
                "matched": h.words(),
                "why": h.matched.iter().map(|m| json!({
                    "field": m.field,
                    "query_word": m.query,
                    "runbook_word": m.word,
                    "exact": m.exact,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(ToolOutput::new(json!({
        "query": p.query,
        "items": items,
        "total": items.len(),
    })))
}
