//! Resources: `device://{device_id}` (the device and its overview, JSON),
//! `device://{device_id}/config` (its configuration export, secrets hidden and script bodies
//! withheld, one command per line) and `device://{device_id}/drift` (whether its configuration
//! changed outside the product since it last applied one: menus, since when, as the last backup
//! saw it; JSON) and
//! `plan://{plan_id}` (a change plan, as `plan.get` shows it) and
//! `runbook://{host}/{runbook_id}` (a runbook's markdown; the host is the server's name) and
//! `runbook-execution-log://{runbook_id}/logs/{log_id}` (a run's execution log, JSON).

use std::sync::Arc;

use rmcp::ErrorData as McpError;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use routeros::ExportOptions;
use serde_json::json;

use crate::App;

pub(crate) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new("device://{device_id}", "device")
            .with_title("Router")
            .with_description("A registered router: its registry record and live overview (JSON).")
            .with_mime_type("application/json"),
        ResourceTemplate::new("device://{device_id}/config", "device-config")
            .with_title("Router configuration")
            .with_description(
                "The router's configuration as /export prints it, one command per line, secrets hidden and script bodies withheld.",
            )
            .with_mime_type("text/plain"),
        ResourceTemplate::new("device://{device_id}/drift", "device-drift")
            .with_title("Router configuration drift")
            .with_description(
                "Whether the router's configuration changed outside the product since it last applied one: the menus, since when, and the snapshots compared (JSON).",
            )
            .with_mime_type("application/json"),
        ResourceTemplate::new("plan://{plan_id}", "plan")
            .with_title("Change plan")
            .with_description(
                "A proposed change: its changes per router in RouterOS terms, undo steps, risk, approval state and outcome (JSON).",
            )
            .with_mime_type("application/json"),
        ResourceTemplate::new("runbook://{host}/{runbook_id}", "runbook")
            .with_title("Runbook")
            .with_description(
                "A runbook's markdown: front matter, Symptom, Diagnosis, Remediation and Verify (host: this server's name).",
            )
            .with_mime_type("text/markdown"),
        ResourceTemplate::new(
            "runbook-execution-log://{runbook_id}/logs/{log_id}",
            "runbook-execution-log",
        )
        .with_title("Runbook execution log")
        .with_description(
            "A runbook run's log: its version and variables (secrets masked), every step with arguments, result, timing and outcome, the state before and after, and the failure (JSON; log_id is the run_id runbook.run answers with).",
        )
        .with_mime_type("application/json"),
    ])
}

/// Names of the runbooks on offer starting with `prefix` (completions).
pub(crate) fn runbook_names(ctx: &tools::Ctx, prefix: &str) -> Vec<String> {
    ctx.runbooks.as_deref().map_or_else(Vec::new, |r| {
        r.with(|index| {
            index
                .names()
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned)
                .collect()
        })
    })
}

/// The devices the caller may see, then the runbooks on offer (`host` is the server's name).
pub(crate) async fn list(ctx: &tools::Ctx, host: &str) -> Result<ListResourcesResult, McpError> {
    let devices = tools::visible_devices(ctx, &store::DeviceFilter::default())
        .await
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let mut all: Vec<Resource> = devices
        .iter()
        .map(|d| {
            Resource::new(format!("device://{}", d.name), d.name.to_string())
                .with_description(format!("{} ({}, {})", d.name, d.address, d.environment))
                .with_mime_type("application/json")
        })
        .collect();
    if let Some(runbooks) = ctx.runbooks.as_deref() {
        runbooks.with(|index| {
            for e in index.iter() {
                let m = &e.runbook.meta;
                all.push(
                    Resource::new(format!("runbook://{host}/{}", m.name), m.name.clone())
                        .with_description(format!("Runbook {} {}: {}", m.name, m.version, m.title))
                        .with_mime_type("text/markdown"),
                );
            }
        });
    }
    Ok(ListResourcesResult::with_all_items(all))
}

/// Names of the devices the caller may see starting with `prefix` (completions).
pub(crate) async fn device_names(ctx: &tools::Ctx, prefix: &str) -> Vec<String> {
    match tools::visible_devices(ctx, &store::DeviceFilter::default()).await {
        Ok(devices) => devices
            .into_iter()
            .map(|d| d.name.to_string())
            .filter(|n| n.starts_with(prefix))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Reads a resource as the caller of `ctx` may see it.
pub(crate) async fn read(
    app: &Arc<App>,
    ctx: &tools::Ctx,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    if let Some(plan_id) = uri.strip_prefix("plan://") {
        let plan = tools::plan::resource(ctx, plan_id)
            .await
            .map_err(|e| McpError::resource_not_found(e.to_string(), Some(json!({"uri": uri}))))?;
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(plan.to_string(), uri).with_mime_type("application/json"),
        ]));
    }
    if let Some(rest) = uri.strip_prefix("runbook-execution-log://") {
        let not_found =
            |message: String| McpError::resource_not_found(message, Some(json!({"uri": uri})));
        let Some((runbook, run_id)) = rest.split_once("/logs/") else {
            return Err(not_found(
                "a runbook execution log is runbook-execution-log://{runbook_id}/logs/{log_id}"
                    .into(),
            ));
        };
        let log = tools::runbook::execution_log(ctx, runbook, run_id)
            .await
            .map_err(|e| not_found(e.to_string()))?;
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(log.to_string(), uri).with_mime_type("application/json"),
        ]));
    }
    if let Some(rest) = uri.strip_prefix("runbook://") {
        // Any host: the name alone identifies the runbook on this server.
        let name = rest.rsplit('/').next().unwrap_or(rest);
        let text = ctx
            .runbooks
            .as_deref()
            .and_then(|r| r.with(|index| index.get(name).map(|e| e.runbook.source.clone())));
        return match text {
            Some(text) => Ok(ReadResourceResult::new(vec![
                ResourceContents::text(text, uri).with_mime_type("text/markdown"),
            ])),
            None => Err(McpError::resource_not_found(
                format!(
                    "no runbook \"{}\": resources/list and runbook.list show the runbooks on offer",
                    domain::text::escape(name)
                        .chars()
                        .take(80)
                        .collect::<String>()
                ),
                Some(json!({"uri": uri})),
            )),
        };
    }
    let Some(rest) = uri.strip_prefix("device://") else {
        return Err(McpError::resource_not_found(
            format!(
                "unknown resource {}: resources are device://{{device_id}}, device://{{device_id}}/config, device://{{device_id}}/drift, plan://{{plan_id}}, runbook://{{host}}/{{runbook_id}} and runbook-execution-log://{{runbook_id}}/logs/{{log_id}}",
                domain::text::escape(uri)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            Some(json!({"uri": uri})),
        ));
    };
    let (device_id, drift) = match rest.strip_suffix("/drift") {
        Some(d) => (d, true),
        None => (rest, false),
    };
    let (device_id, config) = match device_id.strip_suffix("/config") {
        Some(d) if !drift => (d, true),
        _ => (device_id, false),
    };
    let not_found = |e: String| McpError::resource_not_found(e, Some(json!({"uri": uri})));
    let (device, client) = tools::resolve_device(ctx, device_id)
        .await
        .map_err(|e| not_found(e.to_string()))?;
    if drift {
        let body = drift_body(ctx, &device)
            .await
            .map_err(|e| McpError::internal_error(tools::ToolError::from(e).to_string(), None))?;
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"),
        ]));
    }
    if config {
        let text = client
            .export(&ExportOptions::default())
            .await
            .map_err(|e| McpError::internal_error(tools::ToolError::from(e).to_string(), None))?;
        // RouterOS was asked to hide sensitive values; what it still shows (and script
        // bodies) is hidden by the same definition as every tool result.
        let text = tools::hide_in_export(&text);
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type("text/plain"),
        ]));
    }
    let handler = app
        .handler("system.get_overview")
        .ok_or_else(|| McpError::internal_error("system.get_overview is missing", None))?;
    let overview = (handler.run)(
        ctx.clone(),
        json!({"device_id": device.id.to_string()}),
        tools::Caller::new("mcp:resource"),
    )
    .await
    .map(|o| o.structured)
    .unwrap_or_else(|e| json!({"error": e.to_string()}));
    let body = json!({
        "device": {
            "id": device.id, "name": device.name, "project": device.project.to_string(),
            "address": device.address.to_string(), "environment": device.environment,
            "status": device.status, "tags": device.tags, "routeros_version": device.routeros_version,
        },
        "overview": overview,
    });
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"),
    ]))
}

/// `device://{device_id}/drift`: the device's drift record and last backup check.
async fn drift_body(
    ctx: &tools::Ctx,
    device: &store::Device,
) -> Result<serde_json::Value, store::StoreError> {
    let store = ctx.fleet.store();
    let id = device.id.to_string();
    let check = store.check_get(&id).await?;
    let mut body = json!({
        "device": {"id": device.id, "name": device.name},
        "drift": false,
        "checked_at": check.as_ref().map(|c| c.checked_at.clone()),
        "last_check": check.as_ref().map(|c| c.status.clone()),
    });
    if let Some(d) = store.drift_get(&id).await? {
        let menus: serde_json::Value =
            serde_json::from_str(&d.menus).unwrap_or(serde_json::Value::Null);
        body["drift"] = json!(true);
        body["menus"] = menus;
        body["since"] = json!(d.since);
        body["baseline_snapshot_id"] = json!(d.baseline_id);
        body["snapshot_id"] = json!(d.snapshot_id);
    }
    Ok(body)
}
