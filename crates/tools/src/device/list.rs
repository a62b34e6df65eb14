//! `device.list`: the registered devices, filtered by project, environment, tags and status.

use domain::{DeviceStatus, Environment, Tag};
use serde::Deserialize;
use serde_json::{Map, json};
use store::DeviceFilter;

use crate::{Ctx, ToolError, ToolOutput, paging, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    status: Option<DeviceStatus>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let project = p
        .project
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: domain::ParseError| ToolError::InvalidArguments(e.to_string()))?;
    let tags = p
        .tags
        .iter()
        .flatten()
        .map(|t| t.parse::<Tag>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let scope_args = json!({"project": p.project, "environment": p.environment, "tags": p.tags, "status": p.status});
    let devices = ctx
        .fleet
        .store()
        .list_devices(&DeviceFilter {
            project,
            environment: p.environment,
            status: p.status,
            tags,
            include_decommissioned: false,
        })
        .await
        .map_err(ToolError::from)?;
    let items = devices.iter().map(super::summary).collect();
    paging::list(
        paging::scope("device.list", &scope_args),
        &window(p.limit, p.cursor, p.fields),
        items,
        Map::new(),
    )
}
