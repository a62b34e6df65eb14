//! `runbook.diff`: what changed in a runbook between two recorded versions — by default from
//! the version of the caller's last run of it to the version served now ("what changed since I
//! last ran it"), or between any two version ids (a proposal and its parent, say).

use serde::Deserialize;
use serde_json::json;
use store::runbooks::VersionRow;

use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    runbook: String,
    from: Option<String>,
    to: Option<String>,
}

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("runbook.diff", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let runbooks = super::served(&ctx).await?;
    let Some(served) = runbooks.with(|index| index.get(&p.runbook).cloned()) else {
        return Err(ToolError::InvalidArguments(super::unknown(&p.runbook)));
    };
    let store = ctx.fleet.store();
    let to = match p.to.clone() {
        Some(id) => version(store, &p.runbook, &id).await?,
        None => super::engine::record_version(&ctx, &served).await?,
    };
    let from: VersionRow = match p.from.as_deref() {
        None | Some("last_run") => {
            let runs = store.runbook_runs(Some(&p.runbook), 200).await?;
            let mine = runs
                .iter()
                .find(|r| r.started_by == caller.audit.actor)
                .or_else(|| runs.first());
            match mine {
                Some(r) => version(store, &p.runbook, &r.version_id).await?,
                None => {
                    return Err(ToolError::InvalidArguments(format!(
                        "{} has not run here yet; give from as a version id",
                        p.runbook
                    )));
                }
            }
        }
        Some(id) => version(store, &p.runbook, id).await?,
    };
    let label = |v: &VersionRow| format!("{} {} ({})", v.name, v.version, v.status);
    let diff = ::runbook::unified_diff(&label(&from), &from.content, &label(&to), &to.content);
    Ok(ToolOutput::new(json!({
        "runbook": p.runbook,
        "from": {"version_id": from.id, "version": from.version, "status": from.status},
        "to": {"version_id": to.id, "version": to.version, "status": to.status},
        "changed": !diff.is_empty(),
        "added": diff.added,
        "removed": diff.removed,
        "unified": diff.unified,
    })))
}

/// Version `id` of `runbook`, or an error naming what is accepted.
async fn version(store: &store::Store, runbook: &str, id: &str) -> Result<VersionRow, ToolError> {
    match store.runbook_version(id).await? {
        Some(v) if v.name == runbook => Ok(v),
        _ => Err(ToolError::InvalidArguments(format!(
            "no version \"{}\" of {runbook}; from and to are version ids (runbook.run answers with version_id), or from=last_run",
            domain::text::escape(id).chars().take(64).collect::<String>(),
        ))),
    }
}
