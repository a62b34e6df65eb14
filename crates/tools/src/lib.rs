//! The MCP tools.
//!
//! One module per tool (`system/get_overview.rs` ↔ `tool-schemas/system/get_overview.json`),
//! holding its typed parameters, its handler and its tests; category modules only register. The
//! shared machinery lives beside them:
//!
//! - [`registry`]: the handler table the server dispatches on (one-to-one with the catalog);
//! - [`ToolContext`]: what a handler may use — the fleet (registry + connections) and limits;
//! - [`normalize`]: RouterOS strings into typed JSON (numbers, booleans, durations);
//! - [`paging`]: `limit`, `cursor` and `fields` for list tools;
//! - [`budget`]: token estimates, warnings, and cutting results to fit with a cursor;
//! - `redact`: secrets hidden and script bodies withheld in every result, and refused as
//!   filters, by the one definition in `routeros::secret`;
//! - [`ToolError`]: failures turned into messages that say what happened and what to do next.

mod args;
pub mod budget;
mod error;
pub mod normalize;
pub mod paging;
mod redact;
pub mod registry;
mod render;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod testing;

mod config;
mod device;
mod dhcp;
mod diagnostics;
mod dns;
mod firewall;
mod fleet;
mod interface;
mod ip;
mod log;
pub mod plan;
mod routeros;
mod routing;
mod system;
mod wireguard;

pub use budget::{Budget, Finished};
pub use config::hide_in_export;
pub use error::ToolError;
pub use registry::{Caller, Handler, handlers};

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a handler may use.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub fleet: ::fleet::Fleet,
    /// The plan → approve → apply engine every write goes through.
    pub workflow: workflow::Workflow,
    /// How many devices fleet-wide tools contact at once.
    pub fleet_concurrency: usize,
}

/// A handler's result before budgets are applied.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// The `structuredContent` (must validate against the tool's `outputSchema`).
    pub structured: Value,
    /// Present for list results: how to continue after cutting `items`.
    pub page: Option<paging::Page>,
}

impl ToolOutput {
    pub fn new(structured: Value) -> Self {
        Self {
            structured,
            page: None,
        }
    }
}

/// Deserializes validated arguments into a tool's parameter type (`deny_unknown_fields`).
pub(crate) fn params<T: DeserializeOwned>(arguments: Value) -> Result<T, ToolError> {
    serde_json::from_value(arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// Shared handle for handlers.
pub type Ctx = Arc<ToolContext>;

/// Resolves `device_id` (an id or a name) to the device and its client.
pub(crate) async fn device(
    ctx: &Ctx,
    device_id: &str,
) -> Result<(store::Device, Arc<::routeros::DeviceClient>), ToolError> {
    Ok(ctx.fleet.find(None, device_id).await?)
}

/// A menu path known at compile time.
pub(crate) fn menu(path: &str) -> ::routeros::MenuPath {
    ::routeros::MenuPath::parse(path).unwrap_or_else(|e| unreachable!("{e}"))
}

/// The `device` object every device-scoped result starts with.
pub(crate) fn device_ref(device: &store::Device) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "device".into(),
        serde_json::json!({ "id": device.id, "name": device.name }),
    );
    m
}

/// A list read: which tool, which device and menu, what to filter on the device, and the window.
#[derive(Debug)]
pub(crate) struct MenuList<'a> {
    pub tool: &'a str,
    /// The arguments that define the query (everything but limit/cursor/fields), for cursors.
    pub scope_args: Value,
    pub device_id: &'a str,
    pub menu: &'a str,
    pub query: ::routeros::PrintQuery,
    pub window: paging::Window,
}

impl MenuList<'_> {
    /// Reads the menu and returns one page in the list envelope; `keep` filters what RouterOS
    /// cannot (substring matches, computed conditions). Secrets are hidden and script bodies
    /// withheld.
    pub(crate) async fn run(
        self,
        ctx: &Ctx,
        keep: impl Fn(&serde_json::Map<String, Value>) -> bool,
    ) -> Result<ToolOutput, ToolError> {
        self.run_with(ctx, keep, redact::Scripts::Withheld).await
    }

    /// [`MenuList::run`], saying whether script bodies are shown.
    pub(crate) async fn run_with(
        self,
        ctx: &Ctx,
        keep: impl Fn(&serde_json::Map<String, Value>) -> bool,
        scripts: redact::Scripts,
    ) -> Result<ToolOutput, ToolError> {
        let (device, client) = device(ctx, self.device_id).await?;
        let records = client.print(&menu(self.menu), &self.query).await?;
        let items = records
            .iter()
            .map(|r| {
                let mut item = normalize::record(r);
                redact::item(self.menu, &mut item, scripts);
                item
            })
            .filter(|i| keep(i))
            .collect();
        paging::list(
            paging::scope(self.tool, &self.scope_args),
            &self.window,
            items,
            device_ref(&device),
        )
    }
}

/// Common list-tool window arguments, for parameter structs to embed by hand (serde cannot
/// flatten with `deny_unknown_fields`).
pub(crate) fn window(
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
) -> paging::Window {
    paging::Window {
        limit,
        cursor,
        fields,
    }
}

/// Case-insensitive substring match for `*_contains` filters.
pub(crate) fn contains(haystack: Option<&Value>, needle: &str) -> bool {
    haystack
        .and_then(Value::as_str)
        .is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}
