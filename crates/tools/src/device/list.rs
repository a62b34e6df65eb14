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

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("device.list", run);

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
    let devices = crate::visible_devices(
        &ctx,
        &DeviceFilter {
            project,
            environment: p.environment,
            status: p.status,
            tags,
            include_decommissioned: false,
        },
    )
    .await?;
    let items = devices.iter().map(super::summary).collect();
    paging::list(
        paging::scope("device.list", &scope_args),
        &window(p.limit, p.cursor, p.fields),
        items,
        Map::new(),
    )
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lists_and_filters_the_registry() {
        let h = Harness::start(&[Profile::Home, Profile::Switch48]).await;
        let all = h.ok("device.list", json!({})).await;
        assert_eq!(all["total"], 2);
        let names: Vec<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, h.names);
        assert!(
            all["items"][0]["routeros_version"]
                .as_str()
                .unwrap()
                .starts_with("7.")
        );
        let switches = h
            .ok("device.list", json!({"tags": ["profile=switch48"]}))
            .await;
        assert_eq!(switches["total"], 1);
        assert_eq!(switches["items"][0]["name"], "r2");
        let bad = h
            .call("device.list", json!({"tags": ["no-equals-sign"]}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("KEY=VALUE"), "{bad}");
    }
}
