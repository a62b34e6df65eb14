//! `runbook.dry_run`: what a run would do, changing nothing — every step in order with its
//! arguments filled from the variables, read or write, its tier, whether a person must approve
//! it, its gate, and which writes can be proposed together before anything runs.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    runbook: String,
    variables: Option<Map<String, Value>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("runbook.dry_run", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let runbooks = super::served(&ctx).await?;
    let Some(entry) = runbooks.with(|index| index.get(&p.runbook).cloned()) else {
        return Err(ToolError::InvalidArguments(super::unknown(&p.runbook)));
    };
    let given: BTreeMap<String, Value> = p.variables.unwrap_or_default().into_iter().collect();
    let inputs = ::runbook::Inputs::resolve(&entry.runbook, &given)
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let plan = ::runbook::dry_run(&entry.runbook, runbooks.catalog(), &inputs, runbooks.env())
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let mut structured = serde_json::to_value(&plan)
        .map_err(|e| ToolError::internal(&e))?;
    if let Some(o) = structured.as_object_mut() {
        o.insert("summary".into(), json!(plan.to_string()));
    }
    Ok(ToolOutput::new(structured))
}
