//! `fleet.get_drift`: which devices' running configuration changed outside the product since the
//! last state it applied or accepted, as the backups last saw it — the menus that differ and
//! since when — followed by devices whose last backup failed or that were never backed up. The
//! summary counts the whole selection; devices in line are only counted. Reads the registry's
//! record (`config_drift`, `config_checks`) and contacts no device, so it answers for the whole
//! fleet at once; each entry says when its device was last checked.

use std::collections::HashMap;

use domain::Environment;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::select;
use crate::paging::{Window, list, scope};
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("fleet.get_drift", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let query = scope(
        "fleet.get_drift",
        &json!({"project": p.project, "environment": p.environment, "tags": p.tags}),
    );
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
    let (mut drifted, mut failed, mut never) = (Vec::new(), Vec::new(), Vec::new());
    let mut in_line = 0usize;
    for dev in &devices {
        let id = dev.id.to_string();
        let check = checks.get(&id);
        let mut item: Map<String, Value> = crate::device_ref(dev);
        item.insert(
            "checked_at".into(),
            json!(check.map(|c| c.checked_at.clone())),
        );
        if let Some(c) = check.filter(|c| c.status == "failed") {
            item.insert("last_check_error".into(), json!(c.error));
        }
        match (drift.get(&id), check) {
            (Some(d), _) => {
                let menus: Value = serde_json::from_str(&d.menus).unwrap_or(Value::Null);
                item.insert("status".into(), json!("drift"));
                item.insert("menus".into(), menus);
                item.insert("since".into(), json!(d.since));
                item.insert("baseline_snapshot_id".into(), json!(d.baseline_id));
                item.insert("snapshot_id".into(), json!(d.snapshot_id));
                drifted.push((d.since.clone(), item));
            }
            (None, Some(c)) if c.status == "failed" => {
                item.insert("status".into(), json!("check_failed"));
                failed.push(item);
            }
            (None, Some(_)) => in_line += 1,
            (None, None) => {
                item.insert("status".into(), json!("never_checked"));
                never.push(item);
            }
        }
    }
    drifted.sort_by(|a, b| a.0.cmp(&b.0));
    let summary = json!({
        "devices": devices.len(),
        "drift": drifted.len(),
        "in_line": in_line,
        "check_failed": failed.len(),
        "never_checked": never.len(),
    });
    let items: Vec<Map<String, Value>> = drifted
        .into_iter()
        .map(|(_, i)| i)
        .chain(failed)
        .chain(never)
        .collect();
    let mut context = Map::new();
    context.insert("summary".into(), summary);
    list(
        query,
        &Window {
            limit: p.limit,
            cursor: p.cursor,
            fields: None,
        },
        items,
        context,
    )
}
