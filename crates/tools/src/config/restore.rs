//! Restoring a device to the state of a RouterOS `/export` — the engine `config.plan_restore`
//! calls with a snapshot's text: [`workflow::desired::plan_restore`] compares every allow-listed
//! menu with the device and the changes become one plan, reviewed and approved like any other
//! (never a blind `/import`). What the export holds outside those menus is reported, not
//! restored.

use serde_json::{Value, json};
use workflow::desired;

use crate::{Caller, Ctx, ToolError, ToolOutput};

/// Plans device `device_id` (id or name, as the caller may see it) back to `export`'s state
/// for the menus desired state covers, under `tool`'s name and `title`. The result is the plan
/// (with `compared` per menu and `not_covered`), or a `no_changes` answer without a plan.
pub async fn propose_restore(
    ctx: &Ctx,
    caller: &Caller,
    tool: &str,
    title: String,
    device_id: &str,
    export: &str,
) -> Result<ToolOutput, ToolError> {
    let (device, client) = crate::device(ctx, device_id).await?;
    let restore = desired::plan_restore(&client, export).await?;
    let not_covered: Vec<Value> = restore
        .not_covered
        .iter()
        .map(|n| json!({"menu": format!("/{}", n.menu), "reason": n.reason}))
        .collect();
    let changes = restore.changes();
    let compared: Vec<String> = restore.menus.iter().map(|m| m.summary()).collect();
    let mut out = if changes.is_empty() {
        let diffs: Vec<&desired::DesiredDiff> = restore.menus.iter().collect();
        ToolOutput::new(super::plan_desired_state::no_changes(
            &device.name.to_string(),
            &diffs,
        ))
    } else {
        crate::proposal::propose_on(ctx, caller, tool, title, device.id.to_string(), changes)
            .await?
    };
    if let Some(o) = out.structured.as_object_mut()
        && (o.contains_key("plan_id") || o.contains_key("status"))
    {
        o.insert("compared".into(), json!(compared));
        o.insert("not_covered".into(), Value::Array(not_covered));
    }
    Ok(out)
}
