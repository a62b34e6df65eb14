//! `config.plan_desired_state`: the items one allow-listed menu should have, keyed by their
//! natural key, become the smallest plan (add, set, remove, move) that takes the router there —
//! or a "no changes" answer, without a plan, when it is there already. The field model and the
//! comparison are [`workflow::desired`]'s.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use workflow::Props;
use workflow::desired::{self, DesiredDiff};

use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    menu: String,
    items: Vec<Value>,
    #[serde(default)]
    remove_unlisted: bool,
    ordered: Option<bool>,
}

/// The items as RouterOS text: strings as given, numbers and booleans spelled out; anything
/// else is refused naming the item and the property.
fn item_props(items: &[Value]) -> Result<Vec<Props>, ToolError> {
    let bad = |m: String| ToolError::InvalidArguments(m);
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let map: &Map<String, Value> = item.as_object().ok_or_else(|| {
                bad(format!(
                    "items[{i}]: expected an object of RouterOS properties, got {}",
                    kind(item)
                ))
            })?;
            map.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        other => {
                            return Err(bad(format!(
                                "items[{i}].{}: expected text, a number or a boolean, got {}",
                                k.escape_debug(),
                                kind(other)
                            )));
                        }
                    };
                    Ok((k.clone(), text))
                })
                .collect()
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The answer when the device already is as desired: no plan, and what was compared.
pub(crate) fn no_changes(device: &str, diffs: &[&DesiredDiff]) -> Value {
    json!({
        "status": "no_changes",
        "device": device,
        "compared": diffs.iter().map(|d| d.summary()).collect::<Vec<_>>(),
        "next_step": "Nothing to apply: the device already has this state. No plan was created.",
    })
}

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("config.plan_desired_state", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let items = item_props(&p.items)?;
    let state = desired::validate(&p.menu, items, p.remove_unlisted, p.ordered)?;
    let (device, client) = crate::device(&ctx, &p.device_id).await?;
    let diff = desired::diff_device(&client, &state).await?;
    if diff.changes.is_empty() {
        return Ok(ToolOutput::new(no_changes(&device.name.to_string(), &[&diff])));
    }
    let mut out = crate::proposal::propose_on(
        &ctx,
        &caller,
        "config.plan_desired_state",
        format!("Desired state of /{} on {}", state.model.menu, device.name),
        device.id.to_string(),
        diff.changes.clone(),
    )
    .await?;
    if let Some(o) = out.structured.as_object_mut()
        && o.contains_key("plan_id")
    {
        o.insert("compared".into(), json!([diff.summary()]));
    }
    Ok(out)
}
