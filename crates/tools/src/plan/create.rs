//! `plan.create`: a raw change set on the menus plans may change, across one or more devices
//! (rolled out in the order the devices first appear: the first is the canary). For what no
//! specific tool covers.

use serde::Deserialize;
use serde_json::{Map, Value};
use workflow::{ChangeRequest, DeviceRequest, Op, PlanRequest, Selector};

use crate::args::text_props;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    title: String,
    changes: Vec<RawChange>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    item_id: Option<String>,
    #[serde(rename = "where")]
    matching: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    device_id: String,
    menu: String,
    action: String,
    item_id: Option<String>,
    #[serde(rename = "where")]
    matching: Option<Map<String, Value>>,
    properties: Option<Map<String, Value>>,
    unset: Option<Vec<String>>,
    place_before: Option<Target>,
    command: Option<String>,
}


fn selector(
    item_id: Option<String>,
    matching: Option<&Map<String, Value>>,
) -> Result<Selector, ToolError> {
    match (item_id, matching) {
        (Some(id), None) => Ok(Selector::Id(id)),
        (None, Some(m)) => Ok(Selector::Where(text_props(m)?)),
        (None, None) => Ok(Selector::Singleton),
        (Some(_), Some(_)) => Err(ToolError::InvalidArguments(
            "give item_id or where, not both".into(),
        )),
    }
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("plan.create", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let mut devices: Vec<DeviceRequest> = Vec::new();
    for (i, c) in p.changes.into_iter().enumerate() {
        let at = |e: ToolError| match e {
            ToolError::InvalidArguments(m) => {
                ToolError::InvalidArguments(format!("changes[{i}]: {m}"))
            }
            other => other,
        };
        let props = c
            .properties
            .as_ref()
            .map(text_props)
            .transpose()
            .map_err(at)?
            .unwrap_or_default();
        let target = selector(c.item_id.clone(), c.matching.as_ref()).map_err(at)?;
        let place_before = c
            .place_before
            .map(|t| selector(t.item_id, t.matching.as_ref()))
            .transpose()
            .map_err(at)?;
        let op = match c.action.as_str() {
            "add" => Op::Add {
                props,
                place_before,
            },
            "set" => Op::Set {
                target,
                props,
                unset: c.unset.unwrap_or_default(),
            },
            "remove" => Op::Remove { target },
            "enable" => Op::Enable { target },
            "disable" => Op::Disable { target },
            "move" => Op::Move {
                target,
                place_before,
            },
            "command" => Op::Command {
                target,
                command: c.command.unwrap_or_default(),
            },
            other => {
                return Err(ToolError::InvalidArguments(format!(
                    "changes[{i}].action: \"{other}\" is not one of add, set, remove, enable, disable, move, command"
                )));
            }
        };
        let change = ChangeRequest { menu: c.menu, op };
        match devices.iter_mut().find(|d| d.device == c.device_id) {
            Some(d) => d.changes.push(change),
            None => devices.push(DeviceRequest {
                device: c.device_id,
                changes: vec![change],
            }),
        }
    }
    crate::proposal::propose(
        &ctx,
        &caller,
        PlanRequest {
            title: p.title,
            tool: "plan.create".into(),
            devices,
        },
    )
    .await
}
