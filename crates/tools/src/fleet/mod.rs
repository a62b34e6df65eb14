//! The `fleet.*` tools: reads across many devices at once.
//!
//! Both tools pick devices from the registry the way `device.list` does (project, environment,
//! tags; active devices only — an inactive device is one an operator has taken out of
//! service), then contact them with at most `ctx.fleet_concurrency` calls in flight. Each
//! device's outcome stands alone: one that is down, slow or rejecting credentials becomes an
//! entry with its error, never the failure of the whole call.

crate::toolkit::tools! {
    find_address,
    get_drift,
    get_health,
}

use std::future::Future;
use std::sync::Arc;

use domain::{DeviceStatus, Environment, Tag};
use futures::StreamExt;
use routeros::DeviceClient;
use serde_json::{Value, json};
use store::{Device, DeviceFilter};

use crate::{Ctx, ToolError};

/// The active devices matching the registry filters, in registry order (project, name).
pub(crate) async fn select(
    ctx: &Ctx,
    project: Option<&str>,
    environment: Option<Environment>,
    tags: Option<&[String]>,
) -> Result<Vec<Device>, ToolError> {
    let project = project
        .map(str::parse)
        .transpose()
        .map_err(|e: domain::ParseError| ToolError::InvalidArguments(e.to_string()))?;
    let tags = tags
        .unwrap_or_default()
        .iter()
        .map(|t| t.parse::<Tag>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    crate::visible_devices(
        ctx,
        &DeviceFilter {
            project,
            environment,
            status: Some(DeviceStatus::Active),
            tags,
            include_decommissioned: false,
        },
    )
    .await
}

/// Runs `f` against every device with at most `ctx.fleet_concurrency` in flight, returning
/// each device's outcome in the order given. Every call is bounded by the driver's timeout.
pub(crate) async fn fan_out<T, F, Fut>(
    ctx: &Ctx,
    devices: Vec<Device>,
    f: F,
) -> Vec<(Device, Result<T, ToolError>)>
where
    F: Fn(Device, Arc<DeviceClient>) -> Fut,
    Fut: Future<Output = Result<T, ToolError>>,
{
    let f = &f;
    futures::stream::iter(devices)
        .map(|d| async move {
            let outcome = match ctx.fleet.client(&d).await {
                Ok(client) => f(d.clone(), client).await,
                Err(e) => Err(ToolError::from(e)),
            };
            (d, outcome)
        })
        .buffered(ctx.fleet_concurrency.max(1))
        .collect()
        .await
}

/// A device failure as fleet results show it: the error kind for grouping, and the message
/// (which names the device and says what to do).
pub(crate) fn error_value(e: &ToolError) -> Value {
    json!({"kind": e.kind(), "message": e.to_string()})
}
