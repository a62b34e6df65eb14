//! `plan.create`: a raw change set on the menus plans may change, across one or more devices
//! (rolled out in the order the devices first appear: the first is the canary). For what no
//! specific tool covers. With `targets` the same changes go to every selected device (by ids,
//! tag or project); with `rollout` the plan is a staged rollout (canary, waves, soak, gates).

use serde::Deserialize;
use serde_json::{Map, Value};
use workflow::{ChangeRequest, DeviceRequest, Op, PlanRequest, RolloutSpec, Selector};

use crate::args::text_props;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    title: String,
    changes: Vec<RawChange>,
    targets: Option<Targets>,
    rollout: Option<Rollout>,
}

/// The devices the same changes go to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Targets {
    device_ids: Option<Vec<String>>,
    tag: Option<String>,
    project: Option<String>,
}

/// How a staged rollout goes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rollout {
    wave_size: Option<u32>,
    waves: Option<Vec<u8>>,
    soak_seconds: Option<u64>,
    max_cpu_percent: Option<u8>,
}

/// The most devices one plan may name.
const MAX_TARGETS: usize = 5000;

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
    device_id: Option<String>,
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

/// The devices `targets` selects, as ids, in registry order (the first is the canary).
async fn targets(ctx: &Ctx, t: Targets) -> Result<Vec<String>, ToolError> {
    let ids = match (t.device_ids, t.tag, t.project) {
        (Some(ids), None, None) => {
            let mut seen = Vec::new();
            for id in ids {
                if seen.contains(&id) {
                    return Err(ToolError::InvalidArguments(format!(
                        "targets.device_ids names {id} twice"
                    )));
                }
                seen.push(id);
            }
            seen
        }
        (None, tag, project) if tag.is_some() || project.is_some() => {
            let tags = tag.map(|t| vec![t]);
            crate::fleet::select(ctx, project.as_deref(), None, tags.as_deref())
                .await?
                .devices
                .into_iter()
                .map(|d| d.id.to_string())
                .collect()
        }
        _ => {
            return Err(ToolError::InvalidArguments(
                "targets: give device_ids, or tag and/or project".into(),
            ));
        }
    };
    if ids.is_empty() {
        return Err(ToolError::InvalidArguments(
            "targets selects no active device the caller may see".into(),
        ));
    }
    if ids.len() > MAX_TARGETS {
        return Err(ToolError::InvalidArguments(format!(
            "targets selects {} devices; one plan names at most {MAX_TARGETS}: narrow it by tag or project",
            ids.len()
        )));
    }
    Ok(ids)
}

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let targets = match p.targets {
        Some(t) => Some(targets(&ctx, t).await?),
        None => None,
    };
    let rollout = p
        .rollout
        .map(|r| RolloutSpec::new(r.wave_size, r.waves, r.soak_seconds, r.max_cpu_percent))
        .transpose()?;
    let mut devices: Vec<DeviceRequest> = Vec::new();
    let mut shared: Vec<ChangeRequest> = Vec::new();
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
        match (&targets, c.device_id) {
            (Some(_), Some(_)) => {
                return Err(ToolError::InvalidArguments(format!(
                    "changes[{i}].device_id: leave it out when targets names the devices"
                )));
            }
            (Some(_), None) => shared.push(change),
            (None, None) => {
                return Err(ToolError::InvalidArguments(format!(
                    "changes[{i}].device_id: required unless targets names the devices"
                )));
            }
            (None, Some(device_id)) => {
                match devices.iter_mut().find(|d| d.device == device_id) {
                    Some(d) => d.changes.push(change),
                    None => devices.push(DeviceRequest {
                        device: device_id,
                        changes: vec![change],
                    }),
                }
            }
        }
    }
    if let Some(ids) = targets {
        devices = ids
            .into_iter()
            .map(|device| DeviceRequest {
                device,
                changes: shared.clone(),
            })
            .collect();
    }
    let request = PlanRequest {
        title: p.title,
        tool: "plan.create".into(),
        devices,
    };
    match rollout {
        Some(spec) => crate::proposal::propose_rollout(&ctx, &caller, request, spec).await,
        None => crate::proposal::propose(&ctx, &caller, request).await,
    }
}
