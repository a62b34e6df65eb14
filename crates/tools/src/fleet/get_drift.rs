//! `fleet.get_drift`: which devices' running configuration changed outside the product since the
//! last state it applied or accepted, as the backups last saw it — the menus that differ and
//! since when — followed by devices whose last backup failed or that were never backed up, and the
//! devices in line only when asked (`include_in_line`). The summary counts the whole selection;
//! the list is cut and continued like every fleet list (see [`super`]: a cursor names the last
//! device shown, so pages never overlap). Reads the registry's record (`config_drift`,
//! `config_checks`) and contacts no device, so it answers for the whole fleet at once; each entry
//! says when its device was last checked.

use std::collections::HashMap;

use domain::Environment;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AttentionFirst, Entry, Group, Window, select};
use crate::paging::scope;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    include_in_line: bool,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("fleet.get_drift", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let list = AttentionFirst {
        scope: scope(
            "fleet.get_drift",
            &json!({"project": p.project, "environment": p.environment, "tags": p.tags,
                    "include_in_line": p.include_in_line}),
        ),
        budget: ctx.budget,
    };
    let window = Window {
        limit: p.limit,
        cursor: p.cursor,
        include_quiet: p.include_in_line,
    };
    // A cursor is checked before the registry is read.
    list.answer(Map::new(), Vec::new(), &window)?;
    let devices = select(&ctx, p.project.as_deref(), p.environment, p.tags.as_deref())
        .await?
        .devices;
    let store = ctx.fleet.store();
    let drift: HashMap<String, store::snapshots::DriftRow> = store
        .drift_list()
        .await?
        .into_iter()
        .map(|d| (d.device_id.clone(), d))
        .collect();
    let checks: HashMap<String, store::snapshots::CheckRow> = store
        .check_list()
        .await?
        .into_iter()
        .map(|c| (c.device_id.clone(), c))
        .collect();
    let total = devices.len();
    let (mut drifted, mut failed, mut never, mut in_line) = (0usize, 0usize, 0usize, 0usize);
    let entries: Vec<Entry> = devices
        .into_iter()
        .map(|dev| {
            let id = dev.id.to_string();
            let check = checks.get(&id);
            let mut item: Map<String, Value> = crate::device_ref(&dev);
            item.insert(
                "checked_at".into(),
                json!(check.map(|c| c.checked_at.clone())),
            );
            if let Some(c) = check.filter(|c| c.status == "failed") {
                item.insert("last_check_error".into(), json!(c.error));
            }
            let group = match (drift.get(&id), check) {
                (Some(d), _) => {
                    drifted += 1;
                    let menus: Value = serde_json::from_str(&d.menus).unwrap_or(Value::Null);
                    item.insert("status".into(), json!("drift"));
                    item.insert("menus".into(), menus);
                    item.insert("since".into(), json!(d.since));
                    item.insert("baseline_snapshot_id".into(), json!(d.baseline_id));
                    item.insert("snapshot_id".into(), json!(d.snapshot_id));
                    Group::Attention
                }
                (None, Some(c)) if c.status == "failed" => {
                    failed += 1;
                    item.insert("status".into(), json!("check_failed"));
                    Group::Found
                }
                (None, Some(_)) => {
                    in_line += 1;
                    item.insert("status".into(), json!("in_line"));
                    Group::Quiet
                }
                (None, None) => {
                    never += 1;
                    item.insert("status".into(), json!("never_checked"));
                    Group::Found
                }
            };
            Entry {
                group,
                device: dev,
                value: Value::Object(item),
            }
        })
        .collect();
    let mut envelope = Map::new();
    envelope.insert(
        "summary".into(),
        json!({
            "devices": total,
            "drift": drifted,
            "in_line": in_line,
            "check_failed": failed,
            "never_checked": never,
        }),
    );
    Ok(ToolOutput::new(list.answer(envelope, entries, &window)?))
}
